"""A dry run ends like the real run would when the marketplace refuses the key it reads with (exit 4), and the
closing line of a run that exits 0 with skipped rows does not claim that everything was pushed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import SAMPLE_WORKBOOK, main
from connector.errors import EXIT_OK, EXIT_UNREACHABLE
from connector.marketplaces.ecomlinx import PLUGIN
from connector.marketplaces.ecomlinx.adapter import NOT_ON_ECOMLINX
from connector.marketplaces.ecomlinx.sandbox import create_sandbox
from tests.test_ecomlinx_sync import ecomlinx, writes  # noqa: F401  (fixture)

pytestmark = pytest.mark.sandbox

WRONG_KEY = "not-a-key"


def cli_sync(server: Any, tmp_path: Path, *extra: str) -> int:
    return main(["sync", "--source", str(SAMPLE_WORKBOOK), "--target", "ecomlinx", "--base-url", server.api_url,
                 "--state", str(tmp_path / "state.sqlite"), "--report", str(tmp_path / "report.json"),
                 "--no-progress", *extra])


def test_dry_run_with_a_refused_key_exits_4_like_the_real_run(ecomlinx: Any, tmp_path: Path,  # noqa: F811
                                                             monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import json

    monkeypatch.setenv("ECOMLINX_API_KEY", WRONG_KEY)
    assert cli_sync(ecomlinx, tmp_path, "--dry-run") == EXIT_UNREACHABLE
    out = capsys.readouterr().out
    assert "refused the credentials" in out and "exit code 4" in out
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["dry_run"] and report["exit_code"] == EXIT_UNREACHABLE
    assert "refused the credentials" in report["unreachable"]
    assert report["rows"] and all(r["status"] != "pushed" for r in report["rows"])  # nothing "to push"
    assert WRONG_KEY not in json.dumps(report)
    assert [r["status"] for r in ecomlinx.requests_log()] == [401]  # one refused read, nothing written
    assert writes(ecomlinx) == []
    # the real run with that key ends the same way
    assert cli_sync(ecomlinx, tmp_path) == EXIT_UNREACHABLE
    assert "refused the credentials" in capsys.readouterr().out


@pytest.fixture
def empty_ecomlinx(tmp_path: Path) -> Iterator[Any]:
    server = create_sandbox(port=0, db_path=str(tmp_path / "empty.sqlite")).start()
    try:
        yield server
    finally:
        server.stop()


def test_every_row_skipped_as_not_on_ecomlinx_exits_0_without_claiming_everything_was_pushed(
        empty_ecomlinx: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import json

    monkeypatch.setenv("ECOMLINX_API_KEY", PLUGIN.sandbox_key)
    assert cli_sync(empty_ecomlinx, tmp_path) == EXIT_OK  # a benign skip keeps exit 0
    out = capsys.readouterr().out
    rows = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["rows"]
    # (the sample's archived basket is not asked for: archived in the source and never listed there)
    assert rows and all(r["status"] == "skipped" and (r["reason"] == NOT_ON_ECOMLINX or (r["sku"] == "BASKET-PALM"
                                                      and r["code"] == "ARCHIVED_NOT_LISTED")) for r in rows)
    assert "everything pushed" not in out
    assert f"exit code 0: nothing failed; {len(rows)} row(s) skipped" in out
