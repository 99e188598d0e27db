"""Template structure: sheets, hidden lists, dropdowns, text format, notes, languages, RTL, examples."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from connector.sources.spreadsheet import read_spreadsheet, write_template

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_SHEETS = {
    "en": ["Products", "Stock - Main", "Stock - Shop", "Instructions", "Lists"],
    "fr": ["Produits", "Stock - Main", "Stock - Shop", "Instructions", "Lists"],
    "ar": ["المنتجات", "المخزون - Main", "المخزون - Shop", "التعليمات", "Lists"],
}


def make(tmp_path: Path, lang: str, **kw) -> openpyxl.Workbook:
    path = tmp_path / f"t_{lang}.xlsx"
    write_template(path, lang=lang, locations=kw.pop("locations", ["Main", "Shop"]), **kw)
    return openpyxl.load_workbook(path)


def headers(ws) -> list[str]:
    return [c.value for c in ws[1]]


def column_of(ws, header: str) -> str:
    for c in ws[1]:
        if c.value == header:
            return c.column_letter
    raise AssertionError(f"{header!r} not in {headers(ws)}")


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_sheets_and_hidden_lists(tmp_path, lang):
    wb = make(tmp_path, lang)
    assert wb.sheetnames == EXPECTED_SHEETS[lang]
    assert [ws.sheet_state for ws in wb.worksheets] == ["visible"] * 4 + ["hidden"]
    lists = wb["Lists"]
    assert [c.value for c in lists["A"] if c.value][1:] == ["Yes", "No", "Oui", "Non", "نعم", "لا"]
    assert "MRU" in [c.value for c in lists["B"]]
    assert wb.active.title == EXPECTED_SHEETS[lang][0]


def test_english_headers_required_marks_and_notes(tmp_path):
    wb = make(tmp_path, "en")
    ws = wb["Products"]
    assert headers(ws) == [
        "Parent SKU", "SKU*", "Name*", "Description", "Brand", "Category", "Price*", "Currency", "Cost",
        "Barcode", "Weight (kg)", "HS code", "Active", "Images", "Attribute: Size", "Attribute: Color",
        "Name (fr)", "Name (ar)", "Description (fr)", "Description (ar)"]
    for cell in ws[1]:
        assert cell.comment is not None and len(cell.comment.text) > 10, cell.value
    assert "EXAMPLE-" in ws["B1"].comment.text
    stock = wb["Stock - Main"]
    assert headers(stock) == ["SKU*", "Quantity*"]
    assert all(c.comment is not None for c in stock[1])


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_text_format_frozen_header_widths(tmp_path, lang):
    wb = make(tmp_path, lang)
    ws = wb.worksheets[0]
    for letter in "ABJ":  # Parent SKU, SKU, Barcode
        assert ws.column_dimensions[letter].number_format == "@", letter
    assert ws.column_dimensions["G"].number_format != "@"  # Price stays a number
    assert ws["J2"].number_format == "@" and ws["J2"].value == "0012345678905"  # example barcode
    assert ws.freeze_panes == "A2"
    assert wb.worksheets[1].freeze_panes == "A2"
    assert ws.column_dimensions["C"].width >= 20


def test_dropdowns_feed_from_lists(tmp_path):
    wb = make(tmp_path, "en")
    ws = wb["Products"]
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    active = validations[f"{column_of(ws, 'Active')}2:{column_of(ws, 'Active')}1048576"]
    assert (active.type, active.formula1) == ("list", "Lists!$A$2:$A$7")
    currency = validations[f"{column_of(ws, 'Currency')}2:{column_of(ws, 'Currency')}1048576"]
    assert currency.type == "list" and currency.formula1.startswith("Lists!$B$2")
    price = validations[f"{column_of(ws, 'Price*')}2:{column_of(ws, 'Price*')}1048576"]
    assert (price.type, price.operator, price.formula1) == ("decimal", "greaterThanOrEqual", "0")
    qty = {str(dv.sqref): dv for dv in wb["Stock - Main"].data_validations.dataValidation}["B2:B1048576"]
    assert qty.type == "whole"


def test_french_and_arabic_languages(tmp_path):
    fr = make(tmp_path, "fr")
    assert headers(fr["Produits"])[:3] == ["SKU parent", "SKU*", "Nom*"]
    assert "Attribut : Taille" in headers(fr["Produits"])
    assert "Comment remplir" in fr["Instructions"]["A1"].value
    assert fr["Produits"]["B2"].value.startswith("EXEMPLE-")
    ar = make(tmp_path, "ar")
    assert headers(ar["المنتجات"])[1] == "رمز المنتج*"
    assert "كيفية" in ar["التعليمات"]["A1"].value
    assert ar["المنتجات"]["B2"].value.startswith("مثال-")


def test_arabic_sheets_are_right_to_left(tmp_path):
    ar = make(tmp_path, "ar")
    assert all(ws.sheet_view.rightToLeft for ws in ar.worksheets)
    en = make(tmp_path, "en")
    assert not any(ws.sheet_view.rightToLeft for ws in en.worksheets)


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_example_rows_are_marked_and_ignored(tmp_path, lang):
    wb = make(tmp_path, lang)
    ws = wb.worksheets[0]
    assert ws.max_row == 4  # three example rows
    assert ws["B2"].font.italic
    result = read_spreadsheet(tmp_path / f"t_{lang}.xlsx")
    assert result.products == [] and result.rows == [] and result.issues == []
    # nothing wrong in the template, only nothing in it yet
    assert result.warnings == ["sheet 'Products' holds no product rows (only headers, blank or example rows): "
                               "nothing is read from this file"] or lang != "en"
    assert len(result.warnings) == 1 and "no product rows" in result.warnings[0]


def test_without_example(tmp_path):
    wb = make(tmp_path, "en", example=False, locations=["Depot"])
    assert wb["Products"].max_row == 1
    assert wb.sheetnames[1] == "Stock - Depot"


def test_unknown_language(tmp_path):
    with pytest.raises(ValueError, match="unknown template language"):
        write_template(tmp_path / "x.xlsx", lang="de")


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_shipped_templates(lang):
    path = ROOT / "templates" / f"template_{lang}.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == EXPECTED_SHEETS[lang][0]
    assert wb["Lists"].sheet_state == "hidden"
    result = read_spreadsheet(path)
    assert result.issues == [] and result.products == []
