"""Bounds for the binary workbooks (.xls, .xlsb), which had none where an .xlsx has its zip and sheet scans
(guard.py): an .xls too large to parse is refused before calamine opens it, and a sheet whose grid is beyond the
.xlsx limits, or a cell text far longer than any spreadsheet program writes, is refused before the sheet becomes
Python objects.  No .xls/.xlsb writer is installed: the grid and text checks are tested where ``_load_grid`` applies
them to what calamine reports (a stand-in for calamine's sheet), the size check on a real (sparse) file."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import SourceError
from connector.sources.spreadsheet import guard, read_spreadsheet
from connector.sources.spreadsheet.reader import _load_grid


class _Sheet:
    """What calamine's sheet reports: its last cell (0-based) and its grid; the grid must not be asked for when
    the sheet is refused."""

    def __init__(self, end: tuple[int, int] | None, rows: list[list] | None = None) -> None:
        self.end, self._rows = end, rows
        self.merged_cell_ranges = None

    def to_python(self, skip_empty_area: bool = True) -> list[list]:
        if self._rows is None:
            raise AssertionError("the grid was built before the sheet was measured")
        return self._rows


class _Book:
    def __init__(self, sheet: _Sheet) -> None:
        self.sheet = sheet

    def get_sheet_by_name(self, name: str) -> _Sheet:
        return self.sheet


@pytest.mark.parametrize("suffix", [".xls", ".xlsb"])
@pytest.mark.parametrize("end, says", [
    ((guard.MAX_ROWS, 2), f"reaches row {guard.MAX_ROWS + 1:,}"),  # one row too many
    ((65_535, 255), "reaches cell IV65536"),  # an .xls's farthest cell: 16.7 million cells
    ((10, guard.MAX_EXCEL_COLUMNS), "columns"),  # beyond the last column
])
def test_a_sheet_beyond_the_limits_is_refused_before_it_is_built(suffix: str, end: tuple[int, int],
                                                                 says: str) -> None:
    with pytest.raises(SourceError) as e:
        _load_grid(_Book(_Sheet(end)), "Products", Path("shop" + suffix), [])
    assert str(e.value).startswith(f"shop{suffix}: sheet 'Products' reaches "), e.value
    assert says in str(e.value) and "delete the rows and columns beyond your data" in str(e.value)


def test_a_sheet_within_the_limits_is_read() -> None:
    rows = [["SKU", "Price"], ["A", 1.0]]
    assert _load_grid(_Book(_Sheet((1, 1), rows)), "Products", Path("shop.xls"), []) is rows
    assert _load_grid(_Book(_Sheet(None, [])), "Products", Path("shop.xlsb"), []) == []


@pytest.mark.parametrize("suffix", [".xls", ".xlsb"])
def test_a_cell_text_longer_than_any_program_writes_is_refused_naming_the_cell(suffix: str) -> None:
    rows = [["SKU", "Name"], ["A", "x" * (guard.MAX_CELL_CHARS + 1)]]
    with pytest.raises(SourceError) as e:
        _load_grid(_Book(_Sheet((1, 1), rows)), "Products", Path("shop" + suffix), [])
    assert str(e.value).startswith(f"shop{suffix}: sheet 'Products', cell B2 holds 131,073 characters"), e.value


def test_an_xls_too_large_to_parse_is_refused_before_it_is_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from connector.cli import main

    path = tmp_path / "huge.xls"
    with path.open("wb") as fh:
        fh.write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
        fh.truncate(guard.MAX_XLS_BYTES + (20 << 20))  # sparse: no disk used
    import python_calamine

    def never(*_a: object, **_k: object) -> None:
        raise AssertionError("calamine opened the file")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", never)
    with pytest.raises(SourceError, match=r"huge\.xls: the workbook is 276 MB \(at most 256 MB are read\)"):
        read_spreadsheet(path)
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_unused")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for args in (["validate", str(path)], ["sync", "--source", str(path), "--target", "elebne", "--dry-run"]):
        assert main(args) == 2
        out = capsys.readouterr()
        said = " ".join((out.out + out.err).split())
        assert "huge.xls: the workbook is 276 MB" in said and "Traceback" not in said, said
