"""Workbooks saved by programs other than Excel and LibreOffice read as the merchant sees them, or are refused
cell by cell, never read as placeholders."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from connector.sources.spreadsheet import read_spreadsheet
from connector.sources.spreadsheet.reader import FORMULA_NOT_CALCULATED
from tests.fast_paths import both, same


def _xlsxwriter_book(path: Path) -> Path:
    """A catalogue whose prices and quantities are formulas, saved by XlsxWriter: it computes no formula, stores
    0 (or the value it was given) as each one's result and asks Excel to calculate everything when opened."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Products")
    ws.write_row(0, 0, ["SKU", "Name", "Price", "Cost"])
    ws.write_row(1, 0, ["A-1", "Teapot", 100, 50])
    ws.write_row(2, 0, ["A-2", "Cup"])
    ws.write_formula(2, 2, "=C2*2")  # stored as 0
    ws.write_formula(2, 3, "=D2*2", None, 100)  # stored as the value given, still never calculated
    stock = wb.add_worksheet("Stock - Main")
    stock.write_row(0, 0, ["SKU", "Quantity"])
    stock.write_row(1, 0, ["A-1", 3])
    stock.write_row(2, 0, ["A-2"])
    stock.write_formula(2, 1, "=B2+4")  # stored as 0
    wb.close()
    return path


def test_formulas_a_writer_never_calculated_are_reported_not_read_as_zero(tmp_path: Path) -> None:
    """A price of 0 and a quantity of 0 were read from XlsxWriter's placeholders (the workbook says
    ``fullCalcOnLoad``): the product would have been pushed for free and its stock zeroed."""
    path = _xlsxwriter_book(tmp_path / "xw.xlsx")
    result = read_spreadsheet(path)
    assert [(i.sheet, i.row, i.column, i.value, i.reason) for i in result.issues] == [
        ("Products", 3, "Price", "=C2*2", FORMULA_NOT_CALCULATED),
        ("Products", 3, "Cost", "=D2*2", FORMULA_NOT_CALCULATED),
        ("Stock - Main", 3, "Quantity", "=B2+4", FORMULA_NOT_CALCULATED),
    ]
    variants = [v for p in result.products for v in p.variants]
    assert [(v.sku, v.price.amount, v.stock["Main"].available) for v in variants] == [("A-1", 100, 3)]
    fast, row, _used = both(path)
    same(fast, row)
