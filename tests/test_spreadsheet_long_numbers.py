"""An identifier (SKU, Parent SKU, Barcode) typed in a workbook as a number of more than 15 digits has already
lost digits in the file: the cell is reported and its row skipped, never pushed under a wrong SKU.  Shorter
numbers (8-digit SKUs, EAN-13 barcodes typed as numbers) read as before; CSV cells are text and read exactly."""

from __future__ import annotations

from connector.sources.spreadsheet import read_spreadsheet
from connector.sources.spreadsheet.cells import LONG_NUMBER, long_numbers
from tests.fast_paths import both, same
from tests.workbooks import rows_workbook as _xlsx

LONG = 12345678901234567890


def test_long_number_cells_found_only_beyond_15_digits():
    assert long_numbers([12345678.0, 4006381333931.0, 999999999999999.0, "", "12345678901234567890"]) == []
    assert long_numbers([1.0, float(LONG), "A", 1e15, -1e16, 10**15, True]) == [1, 3, 4, 5]
    assert long_numbers(["12345678901234567890"], all_str=True) == []


def test_long_sku_parent_and_barcode_numbers_are_reported_and_skipped(tmp_path):
    path = _xlsx(tmp_path / "c.xlsx", [
        ["Parent SKU", "SKU", "Name", "Price", "Barcode"],
        [None, 12345678, "Tea", 2.5, 4006381333931],
        [None, LONG, "Oil", 3, None],
        [LONG + 10**6, "P-1", "Soap", 4, None],
        [None, "B-1", "Salt", 1, LONG],
        [None, "OK-2", "Rice", 1, "4006381333931"],
    ])
    result = read_spreadsheet(path)
    got = [(x.sheet, x.row, x.column, x.reason) for x in result.issues]
    assert got == [("Products", 3, "SKU", LONG_NUMBER),
                   ("Products", 4, "Parent SKU", LONG_NUMBER),
                   ("Products", 5, "Barcode", LONG_NUMBER)]  # not also "must have 13 digits"
    for x in result.issues:  # the value as the file holds it: the typed digits are gone
        assert x.shown_value.startswith("1234567890123") and len(x.shown_value) == 20
        assert x.shown_value not in (str(LONG), str(LONG + 10**6))
    assert sorted(p.key for p in result.products) == ["12345678", "OK-2"]
    tea = next(p for p in result.products if p.key == "12345678")
    assert tea.variants[0].barcode == "4006381333931"
    skipped = [r.ref.row for r in result.rows if r.skipped_reason]
    assert skipped == [3, 4, 5]
    assert all(LONG_NUMBER in r.skipped_reason for r in result.rows if r.skipped_reason)


def test_fast_path_reports_the_same(tmp_path):
    """Numeric SKU and Barcode columns (fastexcel reads them as numbers) give what the row reader gives."""
    path = _xlsx(tmp_path / "n.xlsx", [
        ["SKU", "Name", "Price", "Barcode"],
        [12345678, "Tea", 2.5, 4006381333931],
        [LONG, "Oil", 3, 4006381333931],
        [87654321, "Soap", 4, LONG],
    ])
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    assert [(x.row, x.column, x.reason) for x in fast.issues] == [(3, "SKU", LONG_NUMBER), (4, "Barcode", LONG_NUMBER)]
    assert [p.key for p in fast.products] == ["12345678"]


def test_stock_sheet_long_sku_number_is_reported(tmp_path):
    path = _xlsx(tmp_path / "s.xlsx", [["SKU", "Name", "Price"], [12345678, "Tea", 2.5]],
                 stock=[["SKU", "Quantity"], [12345678, 5], [LONG, 7]])
    result = read_spreadsheet(path)
    assert [(x.sheet, x.row, x.column, x.reason) for x in result.issues] == [("Stock - Main", 3, "SKU", LONG_NUMBER)]
    assert result.products[0].variants[0].stock["Main"].available == 5


def test_csv_long_digits_are_text_and_read_exactly(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(f"SKU,Name,Price\n{LONG},Oil,3\n", encoding="utf-8")
    result = read_spreadsheet(path)
    assert result.issues == []
    assert [p.key for p in result.products] == [str(LONG)]
