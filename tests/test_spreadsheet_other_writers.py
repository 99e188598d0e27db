"""Workbooks saved by programs other than Excel and LibreOffice read as the merchant sees them, or are refused
cell by cell, never read as placeholders."""

from __future__ import annotations

import csv
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter

from connector.errors import SourceError
from connector.sources.spreadsheet import read_spreadsheet
from connector.sources.spreadsheet.cells import AMBIGUOUS_COMMA, TEXT_IN_NUMBER
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


def test_thousands_separators_are_never_read_as_a_decimal_comma(tmp_path: Path) -> None:
    """"1,500" (an English export of a price formatted #,##0) was read as 1.5 and "1,000" in stock as 1; "1_0"
    as 10 (Python's Decimal and int take underscores).  An ambiguous comma is refused, the unambiguous forms
    are read, on the fast path and the row reader alike."""
    path = tmp_path / "c.csv"
    path.write_text('SKU,Name,Price,Weight (kg),Stock: Main\n'
                    'A-1,Teapot,"1,500","0,125","1,000"\n'
                    'A-2,Cup,"1,234.50","1.234,5",7\n'
                    'A-3,Bowl,1_0,"2,5",1_000\n'
                    'A-4,Mug,"12,50","1,234,567",3\n', encoding="utf-8")
    result = read_spreadsheet(path)
    assert [(i.row, i.column, i.value, i.reason) for i in result.issues] == [
        (2, "Price", "1,500", AMBIGUOUS_COMMA),
        (2, "Stock: Main", "1,000", AMBIGUOUS_COMMA),
        (4, "Price", "1_0", TEXT_IN_NUMBER),
        (4, "Stock: Main", "1_000", TEXT_IN_NUMBER),
    ]
    got = [(v.sku, v.price.amount, v.weight, v.stock["Main"].available) for p in result.products for v in p.variants]
    assert got == [("A-2", Decimal("1234.50"), Decimal("1234.5"), 7), ("A-4", Decimal("12.50"), Decimal(1234567), 3)]
    fast, row, used = both(path)
    assert used
    same(fast, row)
    # the same texts in the cells of a workbook (a column formatted as Text)
    book = tmp_path / "c.xlsx"
    wb = xlsxwriter.Workbook(str(book))
    ws = wb.add_worksheet("Products")
    for r, line in enumerate(csv.reader(path.read_text().splitlines())):
        ws.write_row(r, 0, line)  # every cell a text
    wb.close()
    assert read_spreadsheet(book).issues == result.issues
    fast, row, _used = both(book)
    same(fast, row)


def test_an_ambiguous_comma_is_read_as_the_file_or_its_column_says(tmp_path: Path) -> None:
    """A French export writes weights with three decimals ("7,377" kg): refusing every "d,ddd" refused them all.
    A CSV separated by ";" (the separator of the countries whose decimal sign is the comma) reads them as
    decimals; in a ","-separated CSV or in text cells, the column's other values decide ("0,5" decimals,
    "2,345.50" thousands); a column that says neither, or both, has them refused."""
    french = tmp_path / "fr.csv"
    french.write_text("SKU;Name;Price;Weight (kg);Stock: Main\n"
                      "A-1;Théière;1 500;7,377;3\nA-2;Tasse;12,50;0,250;1,000\n", encoding="utf-8")
    result = read_spreadsheet(french)
    assert result.issues == []
    got = [(v.sku, v.price.amount, v.weight, v.stock["Main"].available) for p in result.products for v in p.variants]
    assert got == [("A-1", Decimal(1500), Decimal("7.377"), 3), ("A-2", Decimal("12.50"), Decimal("0.250"), 1)]
    fast, row, used = both(french)
    assert used
    same(fast, row)

    mixed = tmp_path / "en.csv"
    mixed.write_text('SKU,Name,Price,Weight (kg)\n'
                     'A-1,Teapot,"1,500","7,377"\n'
                     'A-2,Cup,"2,345.50","0,5"\n', encoding="utf-8")
    result = read_spreadsheet(mixed)
    assert result.issues == []
    got = [(v.sku, v.price.amount, v.weight) for p in result.products for v in p.variants]
    assert got == [("A-1", Decimal(1500), Decimal("7.377")), ("A-2", Decimal("2345.50"), Decimal("0.5"))]
    fast, row, _used = both(mixed)
    same(fast, row)

    points = tmp_path / "points.csv"  # the other prices have a decimal point: the comma groups thousands
    points.write_text('SKU,Name,Price\nA-1,Teapot,"1,500"\nA-2,Cup,12.50\nA-3,Bowl,0.125\n', encoding="utf-8")
    result = read_spreadsheet(points)
    assert result.issues == []
    assert [v.price.amount for p in result.products for v in p.variants] == [
        Decimal(1500), Decimal("12.50"), Decimal("0.125")]
    fast, row, _used = both(points)
    same(fast, row)

    unsaid = tmp_path / "unsaid.csv"  # every weight "d,ddd", nothing else in the column: refused, not guessed
    unsaid.write_text('SKU,Name,Price,Weight (kg)\nA-1,Teapot,5,"7,377"\nA-2,Cup,3,"1,250"\nA-3,Bowl,4,2.000\n',
                      encoding="utf-8")  # (2.000: a point that may group thousands says nothing either)
    result = read_spreadsheet(unsaid)
    assert [(i.row, i.column, i.value, i.reason) for i in result.issues] == [
        (2, "Weight (kg)", "7,377", AMBIGUOUS_COMMA), (3, "Weight (kg)", "1,250", AMBIGUOUS_COMMA)]
    fast, row, _used = both(unsaid)
    same(fast, row)


def test_skus_encoded_differently_are_duplicates(tmp_path: Path) -> None:
    """"CAFÉ-1" typed with a combining accent (a Mac, a web form) and "CAFÉ-1" typed with one character look
    the same in the sheet: they were read as two products."""
    nfd, nfc = unicodedata.normalize("NFD", "CAFÉ-1"), unicodedata.normalize("NFC", "CAFÉ-1")
    assert nfd != nfc
    path = tmp_path / "u.csv"
    path.write_text(f"SKU,Name,Price\n{nfd},Café,5\nTEA-1,Thé,3\n{nfc},Café,5\n{nfc},Café,5\n", encoding="utf-8")
    result = read_spreadsheet(path)
    assert [(i.row, i.column, i.value, i.reason) for i in result.issues] == [
        (4, "SKU", nfc, "duplicate SKU (first seen on row 2: the same characters, encoded differently; type it "
                        "again)"),
        (5, "SKU", nfc, "duplicate SKU (first seen on row 4)"),
    ]
    assert [v.sku for p in result.products for v in p.variants] == [nfd, "TEA-1"]
    fast, row, used = both(path)
    assert used
    same(fast, row)


def test_a_parent_or_stock_sku_encoded_differently_is_the_same_sku(tmp_path: Path) -> None:
    """A Parent SKU typed with a combining accent on one row and with one character on the next made two products
    that look the same; a stock row's SKU so typed was "not found" in Products (its stock unread, the run failed);
    the same SKU twice in a stock sheet, encoded both ways, is a duplicate."""
    from tests.test_spreadsheet_read import write_xlsx

    nfd, nfc = unicodedata.normalize("NFD", "CAFÉ"), unicodedata.normalize("NFC", "CAFÉ")
    path = write_xlsx(tmp_path / "u.xlsx", {
        "Products": [["Parent SKU", "SKU", "Name", "Price", "Attribute: Size"],
                     [nfc, "CAFÉ-S", "Café", 5, "S"],
                     [nfd, "CAFÉ-M", "Café", 5, "M"],
                     [None, "THÉ-1", "Thé", 3, None]],
        "Stock - Main": [["SKU", "Quantity"], [unicodedata.normalize("NFD", "CAFÉ-S"), 4], ["CAFÉ-M", 2],
                         ["THÉ-1", 7], [unicodedata.normalize("NFD", "THÉ-1"), 8]],
    })
    result = read_spreadsheet(path)
    assert [(i.sheet, i.row, i.column, i.reason) for i in result.issues] == [
        ("Stock - Main", 5, "SKU", "duplicate SKU (first seen on row 4, with another quantity: its stock is not "
                                   "sent until one of the rows is removed)")]
    assert [(p.key, [(v.sku, v.stock["Main"].available if v.stock_known else None) for v in p.variants])
            for p in result.products] == [(nfc, [("CAFÉ-S", 4), ("CAFÉ-M", 2)]), ("THÉ-1", [("THÉ-1", None)])]
    fast, row, _used = both(path)
    same(fast, row)


def test_a_stock_sku_typed_with_one_character_finds_the_products_row_typed_with_a_combining_accent(
        tmp_path: Path) -> None:
    """The other way round: the Products row holds the combining accent (a Mac), the stock sheet the one character.
    The stock row was 'not found in Products' (its stock unread, the run failed): an NFC SKU is its own NFC form,
    so the lookup by that form was never tried."""
    from tests.test_spreadsheet_read import write_xlsx

    nfd = unicodedata.normalize("NFD", "CAF\u00c9-S")
    path = write_xlsx(tmp_path / "u.xlsx", {
        "Products": [["SKU", "Name", "Price"], [nfd, "Caf\u00e9", 5], ["TEA-1", "Tea", 3]],
        "Stock - Main": [["SKU", "Quantity"], ["TEA-1", 2], [unicodedata.normalize("NFC", nfd), 4]],
    })
    result = read_spreadsheet(path)
    assert result.issues == []
    assert [(v.sku, v.stock["Main"].available) for p in result.products for v in p.variants] == [
        (nfd, 4), ("TEA-1", 2)]
    assert not result.orphan_skus
    fast, row, _used = both(path)
    same(fast, row)
    # the Products row skipped (no price): its stock row says so, and is not taken for a product deleted
    path = write_xlsx(tmp_path / "v.xlsx", {
        "Products": [["SKU", "Name", "Price"], [nfd, "Caf\u00e9", None], ["TEA-1", "Tea", 3]],
        "Stock - Main": [["SKU", "Quantity"], ["TEA-1", 2], [unicodedata.normalize("NFC", nfd), 4]],
    })
    result = read_spreadsheet(path)
    assert [(i.sheet, i.row, i.column) for i in result.issues] == [("Products", 2, "Price")]
    assert not result.orphan_skus


def test_a_file_named_as_a_workbook_says_what_it_really_is(tmp_path: Path) -> None:
    """A web page exported as "report.xls", a CSV or an .xls renamed .xlsx, an empty or cut-short file: the
    merchant read "invalid Zip archive: Could not find EOCD" or "Cfb error: Invalid OLE"."""
    sample = Path(__file__).resolve().parents[1] / "templates" / "sample_catalogue.xlsx"
    cases = {
        "page.xls": (b"<html><body><table><tr><td>SKU</td></tr></table></body></html>", "a web page (HTML)"),
        "page.xlsx": (b"\xef\xbb\xbf<!DOCTYPE html><html><table></table></html>", "a web page (HTML)"),
        "list.xlsx": (b"SKU,Name,Price\nA-1,Soap,5\n", "a text file, not a .xlsx workbook: if it is a CSV, rename"),
        "old.xlsx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "an Excel 97-2003 workbook (.xls), not .xlsx"),
        "new.xls": (sample.read_bytes(), "an .xlsx workbook, not .xls: rename it to .xlsx"),
        "empty.xlsx": (b"", "the file is empty"),
        "cut.xlsx": (sample.read_bytes()[:3000], "incomplete or damaged (a copy or download cut short?)"),
        # a password-protected .xlsx is an OLE2 file holding an EncryptedPackage stream, under whatever name
        "locked.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le")
                       + bytes(512), "password-protected; save a copy without a password"),
    }
    for name, (data, words) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(SourceError) as e:
            read_spreadsheet(tmp_path / name)
        assert words in str(e.value), (name, str(e.value))
        assert "EOCD" not in str(e.value) and "Cfb" not in str(e.value)


def test_a_parent_sku_and_a_plain_sku_encoded_differently_are_the_same_sku(tmp_path: Path) -> None:
    """'CAFÉ' as a Parent SKU (one character) and 'CAFÉ' as another product's own SKU (a combining accent): the
    same SKU to the merchant, reported on both sides as when typed alike; they were read as two products whose
    keys look the same."""
    from tests.test_spreadsheet_read import write_xlsx

    nfd, nfc = unicodedata.normalize("NFD", "CAFÉ"), unicodedata.normalize("NFC", "CAFÉ")
    path = write_xlsx(tmp_path / "u.xlsx", {
        "Products": [["Parent SKU", "SKU", "Name", "Price", "Attribute: Size"],
                     [nfc, "CAFÉ-S", "Café", 5, "S"], [None, nfd, "Café plain", 4, None],
                     [None, "TEA-1", "Tea", 3, None]]})
    result = read_spreadsheet(path)
    assert [(i.row, i.column, i.value, i.reason) for i in result.issues] == [
        (2, "Parent SKU", nfc, f"Parent SKU '{nfc}' is also the SKU of another product (row 3)"),
        (3, "SKU", nfd, f"SKU '{nfd}' is also used as Parent SKU (row 2)")]
    assert [p.key for p in result.products] == ["TEA-1"]
    fast, row, _used = both(path)
    same(fast, row)
