"""`--source` takes a workbook or CSV file, or the names `odoo` and `aleta`: a name that is neither (`Aleta`,
`odo`, a file name without its extension that does not exist) says both, exit 2, for sync and export."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main


@pytest.mark.parametrize("argv", [
    ["sync", "--source", "Aleta", "--target", "elebne", "--dry-run", "--no-progress"],
    ["sync", "--source", "odo", "--target", "elebne", "--dry-run", "--no-progress"],
    ["export", "--source", "Odoo", "-o", "out.xlsx"],
])
def test_a_source_that_is_neither_a_name_nor_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    code = main(argv)
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert f"--source {argv[2]}: no such file, and not a source name" in err
    assert "odoo or aleta" in err
    assert not (tmp_path / "out.xlsx").exists()
