"""The error copy: bad cells red with a comment, row-level issues on the SKU cell, an Errors sheet."""

from __future__ import annotations

import openpyxl

from connector.sources.base import Issue
from connector.sources.spreadsheet import read_spreadsheet, write_error_copy
from tests.test_spreadsheet_read import write_xlsx

RED = "00FFC7CE"


def is_red(cell) -> bool:
    return cell.fill is not None and cell.fill.fgColor.rgb == RED


def test_marks_bad_cells_with_comments(tmp_path):
    src = write_xlsx(tmp_path / "c.xlsx", {
        "Products": [["Brand", "SKU", "Name", "Price", "Barcode"],
                     ["x", "A", "a", "abc", "4006381333932"],
                     ["x", "B", "b", 2, None],
                     ["x", "A", "dup", 3, None]],
        "Stock - Main": [["SKU", "Quantity"], ["B", -1], ["NOPE", 1]],
        "Errors": [["stale content"]],
    })
    result = read_spreadsheet(src)
    out = tmp_path / "c.errors.xlsx"
    marked = write_error_copy(src, result.issues, out)
    assert marked == 6

    wb = openpyxl.load_workbook(out)
    ws = wb["Products"]
    assert is_red(ws["D2"]) and ws["D2"].comment.text == "text in a number column"
    assert is_red(ws["E2"]) and "check digit" in ws["E2"].comment.text
    assert is_red(ws["B4"]) and ws["B4"].comment.text.startswith("duplicate SKU (first seen on row 2, with other")
    assert is_red(ws["B2"]) and ws["B2"].comment.text.startswith("duplicate SKU (seen again on row 4, with other")
    assert not is_red(ws["A2"]) and ws["A2"].comment is None
    assert not is_red(ws["D3"])
    stock = wb["Stock - Main"]
    assert is_red(stock["B2"]) and stock["B2"].comment.text == "negative stock"
    assert is_red(stock["A3"]) and "not found" in stock["A3"].comment.text

    errors = wb["Errors"]
    assert wb.sheetnames[0] == "Errors"  # replaced, not duplicated
    rows = list(errors.iter_rows(values_only=True))
    assert rows[0] == ("Sheet", "Row", "Column", "Value", "SKU", "Problem", "Severity")
    assert "stale content" not in [r[0] for r in rows]
    assert len(rows) == 1 + len(result.issues)
    assert ("Products", 2, "Price", "abc", "A", "text in a number column", "error") in rows
    assert errors["B2"].hyperlink.location or errors["B2"].hyperlink.target

    # the copy is still a readable catalogue with the same issues (the Errors sheet is ignored)
    again = read_spreadsheet(out)
    assert [(i.sheet, i.row, i.column, i.reason) for i in again.issues] == \
        [(i.sheet, i.row, i.column, i.reason) for i in result.issues]
    assert again.warnings == result.warnings


def test_row_level_issue_marks_the_sku_cell_and_reasons_combine(tmp_path):
    src = write_xlsx(tmp_path / "c.xlsx", {"Products": [["Name", "Price", "SKU"], ["a", 1, "A"]]})
    issues = [Issue("rejected by the marketplace", sheet="Products", row=2, sku="A"),
              Issue("another problem", sheet="Products", row=2, sku="A", severity="warning"),
              Issue("price too low", sheet="Products", row=2, column="Price", value=1)]
    out = tmp_path / "o.xlsx"
    assert write_error_copy(src, issues, out) == 2
    ws = openpyxl.load_workbook(out)["Products"]
    assert is_red(ws["C2"])
    assert ws["C2"].comment.text == "rejected by the marketplace\nanother problem"
    assert is_red(ws["B2"]) and ws["B2"].comment.text == "price too low"
    assert ws["B2"].value == 1 and ws["A2"].value == "a"  # data kept


def test_csv_input_gives_an_xlsx_copy(tmp_path):
    src = tmp_path / "c.csv"
    src.write_text("SKU;Name;Price\nA;a;1,5\nB;b;x\n", encoding="cp1252")
    result = read_spreadsheet(src)
    out = tmp_path / "c.errors.xlsx"
    assert write_error_copy(src, result.issues, out) == 1
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Errors", "Products"]
    ws = wb["Products"]
    assert [c.value for c in ws[1]] == ["SKU", "Name", "Price"]
    assert ws["C2"].value == "1,5"
    assert is_red(ws["C3"]) and ws["C3"].comment.text == "text in a number column"
