"""A code (SKU, Parent SKU, Barcode, HS code; a stock sheet's SKU) that Excel turned into a date as it was typed
("1-3" and "MAR-1" become the 1st of March in a cell not formatted as Text) is reported and its row skipped:
what was typed is gone, and the date read as text would be pushed as a new SKU.  A code typed as text that
looks like a date is a code like any other; a CSV holds text only."""

from __future__ import annotations

import datetime as dt

from connector.cli import main
from connector.sources.spreadsheet import read_spreadsheet
from connector.sources.spreadsheet.cells import DATE_IN_CODE, date_cells
from tests.fast_paths import both, same
from tests.workbooks import rows_workbook as _xlsx

MARCH_1 = dt.datetime(2026, 3, 1)


def test_date_cells_are_found_in_a_code_column():
    assert date_cells(["A-1", 12.0, "", None, "2026-03-01"]) == []
    cells = ["A-1", MARCH_1, dt.date(2026, 1, 3), dt.time(12, 30), dt.timedelta(hours=1), 3.0]
    assert date_cells(cells) == [1, 2, 3, 4]
    assert date_cells(["2026-03-01"], all_str=True) == []


def test_a_date_in_each_code_column_is_reported_and_its_row_skipped(tmp_path):
    path = _xlsx(tmp_path / "d.xlsx", [
        ["Parent SKU", "SKU", "Name", "Price", "Barcode", "HS code"],
        [None, "TEA-1", "Tea", 2.5, "4006381333931", "090230"],
        [None, MARCH_1, "Oil", 3, None, None],
        [dt.datetime(2026, 1, 3), "SOAP-1", "Soap", 4, None, None],
        [None, "SALT-1", "Salt", 1, dt.datetime(2026, 12, 1), None],
        [None, "RICE-1", "Rice", 1, None, dt.time(9, 2)],
        [None, "2025-12-31", "Dates typed as text", 6, None, None],
    ])
    result = read_spreadsheet(path)
    got = [(x.sheet, x.row, x.column, x.reason, x.shown_value) for x in result.issues]
    assert got == [("Products", 3, "SKU", DATE_IN_CODE, "2026-03-01"),
                   ("Products", 4, "Parent SKU", DATE_IN_CODE, "2026-01-03"),
                   ("Products", 5, "Barcode", DATE_IN_CODE, "2026-12-01"),  # not also "only digits"
                   ("Products", 6, "HS code", DATE_IN_CODE, "09:02:00")]
    assert sorted(p.key for p in result.products) == ["2025-12-31", "TEA-1"]
    assert [r.ref.row for r in result.rows if r.skipped_reason] == [3, 4, 5, 6]
    # refused for its SKU cell: its SKU is unknown, so no listing is taken for gone because of it
    assert result.sku_unread_rows == ["Products row 3"]


def test_a_column_of_dates_reads_the_same_on_both_readers(tmp_path):
    """Every SKU a date (fastexcel would read a date column): both readers refuse every row alike."""
    path = _xlsx(tmp_path / "all.xlsx", [["SKU", "Name", "Price"], [MARCH_1, "Tea", 2.5],
                                         [dt.datetime(2026, 3, 2), "Oil", 3]])
    fast, slow, _used = both(path)
    same(fast, slow)
    assert [(x.row, x.column, x.reason) for x in fast.issues] == [(2, "SKU", DATE_IN_CODE), (3, "SKU", DATE_IN_CODE)]
    assert fast.products == []


def test_a_date_in_a_stock_sheet_sku_is_reported(tmp_path):
    path = _xlsx(tmp_path / "s.xlsx", [["SKU", "Name", "Price"], ["1-3", "Tea", 2.5]],
                 stock=[["SKU", "Quantity"], ["1-3", 5], [MARCH_1, 7]])
    result = read_spreadsheet(path)
    assert [(x.sheet, x.row, x.column, x.reason) for x in result.issues] == [("Stock - Main", 3, "SKU", DATE_IN_CODE)]
    assert [p.key for p in result.products] == ["1-3"]


def test_validate_names_the_cell_and_exits_1(tmp_path, capsys):
    path = _xlsx(tmp_path / "v.xlsx", [["SKU", "Name", "Price"], ["TEA-1", "Tea", 2.5], [MARCH_1, "Oil", 3]])
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "2026-03-01" in out and "a date, not a code" in out
