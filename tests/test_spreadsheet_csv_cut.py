"""A CSV cut short (a copy or download interrupted) is refused whole, as an .xlsx cut short is: its last line,
with no line break after it, is missing cells or ends inside a quoted cell.  Before, that line was read as a row
(its Stock cell empty, or a description cut to ``Articl`` and sent so) and the rows after it were gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import EXIT_USAGE, SourceError
from connector.sources.spreadsheet import read_spreadsheet
from tests.conftest import SandboxHandle
from tests.test_sync_safety_e2e import sync

HEAD = "SKU,Name,Description,Price,Stock: Shop\r\n"
ROWS = ['A-1,Tea,"Green, loose",12.5,5\r\n', 'B-1,Coffee,"Ground, 1 kg",9,3\r\n', 'C-1,Soap,"Olive, 100 g",4,8\r\n']


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(("tail", "said"), [
    ('C-1,Soap,"Olive, 100 g"', "after 3 of its 5 cells"),
    ("C-1,Soa", "after 2 of its 5 cells"),
    ('C-1,Soap,"Olive, 10', "after 3 of its 5 cells"),
])
def test_a_last_line_cut_in_the_middle_of_a_row_refuses_the_file(tmp_path: Path, tail: str, said: str) -> None:
    for encoding in ("utf-8", "cp1252"):
        path = _csv(tmp_path / "c.csv", HEAD + "".join(ROWS[:2]) + tail, encoding)
        with pytest.raises(SourceError, match=f"c.csv: the file looks cut short: its last line \\(line 4\\) ends "
                                              f"{said}, with no line break after it"):
            read_spreadsheet(path)


def test_a_last_cell_cut_inside_its_quotes_refuses_the_file(tmp_path: Path) -> None:
    path = _csv(tmp_path / "c.csv", "SKU,Name,Price,Description\r\nA-1,Tea,12,\"Green\"\r\nB-1,Coffee,9,\"Grou")
    with pytest.raises(SourceError, match="ends inside a quoted cell"):
        read_spreadsheet(path)


@pytest.mark.parametrize("text", [
    HEAD + "".join(ROWS).rstrip("\r\n"),  # whole, no line break after the last row (many programs write so)
    HEAD + "".join(ROWS[:2]) + "C-1,Soap,,4\r\n",  # a short row ended by a line break: read as before
    "SKU,Name,Price\r\nA-1,Screen 5\",12\r\nB-1,Screen 7\",14",  # an inch mark is not a quote left open
    'SKU,Name,Price\r\nA-1,"Tea ""green""",12\r\nB-1,"Coffee",9',  # quotes closed
])
def test_a_whole_file_is_read(tmp_path: Path, text: str) -> None:
    result = read_spreadsheet(_csv(tmp_path / "c.csv", text))
    assert result.issues == [] and len(result.products) >= 2


@pytest.mark.sandbox
def test_a_sync_of_a_cut_file_sends_nothing(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _csv(tmp_path / "c.csv", HEAD + "".join(ROWS))
    assert sync(elebne_sandbox, whole, tmp_path, monkeypatch)[0] == 0
    mark = elebne_sandbox.last_id()
    _csv(whole, HEAD + ROWS[0] + "B-1,Coffee,\"Grou")  # C-1 lost, B-1 cut: nothing taken for gone
    code, _report = sync(elebne_sandbox, whole, tmp_path, monkeypatch)
    assert code == EXIT_USAGE
    assert elebne_sandbox.writes(since=mark) == []
    assert main(["validate", str(whole)]) == EXIT_USAGE
