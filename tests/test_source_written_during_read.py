"""A workbook or CSV that changes while it is read (an export still running, a copy not finished) is refused:
cut short, it would be a catalogue whose products past the cut look deleted (and zeroed by the missing policy)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import connector.sources.spreadsheet as spreadsheet
from connector.cli import main
from connector.errors import EXIT_USAGE, SourceError
from tests.conftest import SandboxHandle
from tests.test_sync_elebne_e2e import sync
from tests.workbooks import set_cell, write_workbook


def _csv(path: Path, n: int) -> Path:
    path.write_text("SKU,Name,Price\n" + "".join(f"S-{i},Soap {i},{i + 1}\n" for i in range(n)), encoding="utf-8")
    return path


def _while_building(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    build = spreadsheet.build_result

    def building(*args: Any, **kwargs: Any) -> Any:
        change()
        return build(*args, **kwargs)

    monkeypatch.setattr(spreadsheet, "build_result", building)


def test_a_csv_still_being_written_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _csv(tmp_path / "catalogue.csv", 5)
    assert len(spreadsheet.read_spreadsheet(path).products) == 5

    def append() -> None:
        with path.open("a", encoding="utf-8") as fh:
            fh.write("S-5,Soap 5,6\n")

    _while_building(monkeypatch, append)
    with pytest.raises(SourceError, match=r"catalogue\.csv: the file changed while it was read"):
        spreadsheet.read_spreadsheet(path)


def test_a_workbook_replaced_while_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_workbook(tmp_path / "catalogue.xlsx")
    other = write_workbook(tmp_path / "other.xlsx")
    st = path.stat()
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))  # the same time: only the inode tells them apart
    _while_building(monkeypatch, lambda: os.replace(other, path))
    with pytest.raises(SourceError, match="changed while it was read"):
        spreadsheet.read_spreadsheet(path)


@pytest.mark.sandbox
def test_a_sync_of_a_file_being_written_sends_nothing(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)[0] == 0
    set_cell(wb, "Stock - Warehouse", "SOAP-01", "Quantity", 3)  # a change: the run reads the file again
    mark = elebne_sandbox.last_id()
    capsys.readouterr()
    _while_building(monkeypatch, lambda: wb.write_bytes(wb.read_bytes()[:-100]))

    code = main(["sync", "--source", str(wb), "--target", "elebne", "--base-url", elebne_sandbox.base_url,
                 "--state", str(tmp_path / "state.sqlite"), "--no-progress"])

    assert code == EXIT_USAGE
    err = " ".join(capsys.readouterr().err.split())
    assert "products.xlsx: the file changed while it was read" in err and "Traceback" not in err
    assert elebne_sandbox.writes(since=mark) == []
