"""Spreadsheet reader: round trip through the template, header matching, absent vs empty, unreadable input."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from connector.errors import SourceError
from connector.model import ABSENT, Money, SourceRef
from connector.sources.spreadsheet import read_spreadsheet, write_template

HEAD = ["Parent SKU", "SKU*", "Name*", "Price*"]


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook with the given sheets (rows of values, written as is)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def by_key(result):
    return {p.key: p for p in result.products}


# --- round trip: template -> filled with openpyxl -> read -----------------------------------------------

def fill_template(path: Path, lang: str = "en") -> Path:
    write_template(path, lang=lang, locations=["Warehouse", "Shop"], example=True)
    wb = openpyxl.load_workbook(path)
    products = wb.worksheets[0]
    headers = [c.value for c in products[1]]
    col = {h.rstrip("*"): i for i, h in enumerate(headers)}
    rows = [
        {"SKU": "TEA-1", "Name": "Mint tea", "Description": "Green tea", "Brand": "Sahara",
         "Category": "Food > Tea", "Price": 12.5, "Cost": "7,25", "Barcode": "0012345678905",
         "Weight (kg)": 0.5, "HS code": "090230", "Active": "Yes",
         "Images": "https://cdn.example.com/a.jpg, https://cdn.example.com/b.jpg",
         "Name (fr)": "Thé à la menthe", "Description (ar)": "شاي"},
        {"Parent SKU": "TS", "SKU": "TS-M-BLUE", "Name": "T-shirt", "Brand": "Acme", "Category": "Fashion",
         "Price": 450, "Attribute: Size": "M", "Attribute: Color": "Blue", "Active": "No"},
        {"Parent SKU": "TS", "SKU": "TS-L-RED", "Price": "460.10", "Attribute: Size": "L",
         "Attribute: Color": "Red", "Active": "Yes"},
        {"Parent SKU": "TS", "SKU": "TS-XL", "Price": 470, "Attribute: Size": "XL"},
    ]
    for r, values in enumerate(rows, start=5):  # rows 2-4 hold the examples
        for header, value in values.items():
            products.cell(row=r, column=col[header] + 1, value=value)
    warehouse = wb["Stock - Warehouse"]
    for r, (sku, qty) in enumerate([("TEA-1", 10), ("TS-M-BLUE", 0), ("TS-L-RED", 3)], start=5):
        warehouse.cell(row=r, column=1, value=sku)
        warehouse.cell(row=r, column=2, value=qty)
    wb["Stock - Shop"].append(["TEA-1", 2])
    wb.save(path)
    return path


def test_round_trip_exact_canonical_values(tmp_path):
    result = read_spreadsheet(fill_template(tmp_path / "cat.xlsx"))
    assert result.issues == []
    assert result.warnings == [  # (TS-XL has no stock row: its stock is unknown, said once)
        "stock of 1 SKU(s) on sale not given: no quantity on any stock sheet, so none is sent and the marketplace "
        "keeps listing what it has (give each a quantity, 0 if sold out): TS-XL"]
    products = by_key(result)
    assert list(products) == ["TEA-1", "TS"]

    tea = products["TEA-1"]
    assert tea.name == "Mint tea"
    assert tea.description == "Green tea"
    assert tea.brand == "Sahara"
    assert tea.category_path == ["Food", "Tea"]
    assert tea.images == ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"]
    assert tea.translations == {"fr_FR": {"name": "Thé à la menthe"}, "ar_001": {"description": "شاي"}}
    assert tea.ref == SourceRef("Products", 5)
    (v,) = tea.variants
    assert v.sku == "TEA-1"
    assert v.attributes == {}
    assert v.price == Money(Decimal("12.5"), "MRU")
    assert isinstance(v.price.amount, Decimal)
    assert v.cost == Money(Decimal("7.25"), "MRU")
    assert v.barcode == "0012345678905"  # leading zeros kept
    assert v.weight == Decimal("0.5")
    assert v.hs_code == "090230"
    assert v.active is True
    assert v.stock_known is True
    assert {loc: s.available for loc, s in v.stock.items()} == {"Warehouse": 10, "Shop": 2}

    ts = products["TS"]
    assert ts.name == "T-shirt"
    assert ts.brand == "Acme"
    assert ts.category_path == ["Fashion"]
    assert [x.sku for x in ts.variants] == ["TS-M-BLUE", "TS-L-RED", "TS-XL"]
    assert [x.attributes for x in ts.variants] == [
        {"Size": "M", "Color": "Blue"}, {"Size": "L", "Color": "Red"}, {"Size": "XL"}]
    assert [x.price.amount for x in ts.variants] == [Decimal("450"), Decimal("460.10"), Decimal("470")]
    assert [x.active for x in ts.variants] == [False, True, True]  # blank Active = Yes
    assert ts.active is True
    assert [x.ref.row for x in ts.variants] == [6, 7, 8]
    assert ts.variants[0].stock["Warehouse"].available == 0
    assert ts.variants[2].stock == {} and ts.variants[2].stock_known is False
    assert ts.variants[0].cost is None  # Cost column present, cell empty: explicit empty
    assert ts.variants[0].barcode is None

    # one RowRef per data row (examples excluded), none skipped
    refs = [(r.ref.origin, r.ref.row, r.sku, r.skipped_reason) for r in result.rows]
    assert refs[:4] == [("Products", 5, "TEA-1", None), ("Products", 6, "TS-M-BLUE", None),
                        ("Products", 7, "TS-L-RED", None), ("Products", 8, "TS-XL", None)]
    assert ("Stock - Warehouse", 5, "TEA-1", None) in refs
    assert ("Stock - Shop", 5, "TEA-1", None) in refs
    assert len(refs) == 4 + 3 + 1
    assert {"sku", "name", "price", "barcode", "attributes", "translations", "stock", "images"} <= \
        result.provided_fields


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_round_trip_localized_templates(tmp_path, lang):
    write_template(tmp_path / "t.xlsx", lang=lang, locations=["Main"], example=False)
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    values = ["P1", "P1-S", "Robe", "Longue", "Marque", "Mode > Femme", 1500, "mru", 900, "4006381333931",
              "1,2", "6204", "Oui" if lang == "fr" else "نعم", "https://cdn.example.com/x.jpg", "S", "Rouge",
              "Robe", "فستان", "", ""]
    assert len(headers) == len(values)
    ws.append(values)
    wb.worksheets[1].append(["P1-S", 7])
    wb.save(tmp_path / "t.xlsx")
    result = read_spreadsheet(tmp_path / "t.xlsx")
    assert result.issues == [] and result.warnings == []
    (p,) = result.products
    (v,) = p.variants
    assert (p.key, p.name, p.brand, p.category_path) == ("P1", "Robe", "Marque", ["Mode", "Femme"])
    assert v.price == Money(Decimal("1500"), "MRU")
    assert v.weight == Decimal("1.2")
    assert v.active is True
    assert list(v.attributes.values()) == ["S", "Rouge"]
    assert p.translations == {"fr_FR": {"name": "Robe"}, "ar_001": {"name": "فستان"}}
    assert v.stock["Main"].available == 7


# --- header matching ------------------------------------------------------------------------------------

def test_headers_any_order_aliases_accents_units(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Produits": [
        ["  PRIX* ", "poids (KG)", "Catégorie", "Nom", "sku", "Attribut : Taille", "Nom (fr)", "Code-barres",
         "Stock : Entrepôt"],
        ["9,90", "2", "Maison > Cuisine", "Bol", "B-1", "L", "Bol FR", "96385074", 4],
    ]})
    result = read_spreadsheet(path)
    assert result.issues == [] and result.warnings == []
    (p,) = result.products
    v = p.variants[0]
    assert v.price.amount == Decimal("9.90")
    assert v.weight == Decimal("2")
    assert p.category_path == ["Maison", "Cuisine"]
    assert p.name == "Bol" and v.sku == "B-1"
    assert v.attributes == {"Taille": "L"}
    assert p.translations == {"fr_FR": {"name": "Bol FR"}}
    assert v.barcode == "96385074"
    assert v.stock["Entrepôt"].available == 4


def test_arabic_headers_and_sheet_names(tmp_path):
    path = write_xlsx(tmp_path / "ar.xlsx", {
        "المنتجات": [["رمز المنتج*", "الاسم*", "السعر*", "السمة: اللون", "العلامة التجارية"],
                     ["A-1", "قميص", 100, "أحمر", "أكمي"]],
        "المخزون - المحل": [["رمز المنتج", "الكمية"], ["A-1", 3]],
    })
    result = read_spreadsheet(path)
    assert result.issues == []
    (p,) = result.products
    assert p.brand == "أكمي"
    assert p.variants[0].attributes == {"اللون": "أحمر"}
    assert p.variants[0].stock["المحل"].available == 3


def test_unknown_columns_and_sheets_are_warnings(tmp_path):
    path = write_xlsx(tmp_path / "w.xlsx", {
        "Products": [["SKU", "Name", "Price", "Foo"], ["A", "a", 1, "x"]],
        "Notes": [["whatever"]],
    })
    result = read_spreadsheet(path)
    assert "column 'Foo' in sheet 'Products' is not used" in result.warnings
    assert "sheet 'Notes' is not used" in result.warnings
    assert len(result.products) == 1


def test_header_below_a_title_row(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", {"Products": [["My catalogue"], [], ["SKU", "Name", "Price"],
                                                         ["A", "a", 1]]})
    result = read_spreadsheet(path)
    assert result.products[0].ref == SourceRef("Products", 4)


def test_numbers_in_text_columns(tmp_path):
    path = write_xlsx(tmp_path / "n.xlsx", {"Products": [
        ["SKU", "Name", "Price", "HS code", "Attribute: Size"], [12, "a", 1, 90230, 42.0]]})
    result = read_spreadsheet(path)
    v = result.products[0].variants[0]
    assert v.sku == "12"  # 12.0 from calamine becomes "12"
    assert v.hs_code == "90230"
    assert v.attributes == {"Size": "42"}


# --- absent vs empty ------------------------------------------------------------------------------------

def test_absent_columns_stay_absent(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Products": [["SKU", "Name", "Price"], ["A", "a", 3]]})
    result = read_spreadsheet(path)
    p = result.products[0]
    v = p.variants[0]
    for value in (p.description, p.brand, p.category_path, p.images, v.barcode, v.cost, v.weight, v.hs_code,
                  v.images):
        assert value is ABSENT
    assert v.stock_known is False
    assert result.provided_fields == {"sku", "name", "price"}


def test_empty_cells_in_present_columns_are_explicit_empties(tmp_path):
    path = write_xlsx(tmp_path / "e.xlsx", {"Products": [
        ["SKU", "Name", "Price", "Description", "Brand", "Category", "Barcode", "Cost", "Weight", "HS code",
         "Images", "Active"],
        ["A", "a", 3, None, None, None, None, None, None, None, None, None]]})
    result = read_spreadsheet(path)
    p = result.products[0]
    v = p.variants[0]
    assert (p.description, p.brand, p.category_path, p.images) == (None, None, [], [])
    assert (v.barcode, v.cost, v.weight, v.hs_code, v.images, v.active) == (None, None, None, None, [], True)


def test_only_stock_columns_update(tmp_path):
    """A stock-only sheet (SKU + Stock: column) leaves name and price absent, with a warning."""
    path = write_xlsx(tmp_path / "s.xlsx", {"Products": [["SKU", "Stock: Main"], ["A", 5]]})
    result = read_spreadsheet(path)
    v = result.products[0].variants[0]
    assert v.price is ABSENT and result.products[0].name is ABSENT
    assert v.stock["Main"].available == 5
    assert any("no Name column" in w for w in result.warnings)


def test_currency_argument_and_column(tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", {"Products": [["SKU", "Name", "Price", "Currency"],
                                                         ["A", "a", 3, ""], ["B", "b", 4, "eur"]]})
    result = read_spreadsheet(path, currency="usd")
    assert [p.variants[0].price for p in result.products] == [Money(Decimal(3), "USD"), Money(Decimal(4), "EUR")]


# --- input that cannot be read: SourceError, never a traceback -------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        read_spreadsheet(tmp_path / "nope.xlsx")


def test_unsupported_suffix(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(SourceError, match="unsupported file type"):
        read_spreadsheet(tmp_path / "a.pdf")


def test_corrupt_workbook(tmp_path):
    (tmp_path / "bad.xlsx").write_bytes(b"this is not a zip file")
    with pytest.raises(SourceError, match=r"this is a text file, not a \.xlsx workbook"):
        read_spreadsheet(tmp_path / "bad.xlsx")


def test_no_products_sheet(tmp_path):
    path = write_xlsx(tmp_path / "p.xlsx", {"Sheet1": [["SKU", "Name", "Price"]]})
    with pytest.raises(SourceError, match=r"no 'Products' sheet.*'Sheet1'"):
        read_spreadsheet(path)


def test_no_sku_column(tmp_path):
    path = write_xlsx(tmp_path / "p.xlsx", {"Products": [["Code", "Name", "Price"], ["A", "a", 1]]})
    with pytest.raises(SourceError, match=r"no SKU column.*'Code'"):
        read_spreadsheet(path)


def test_two_columns_with_the_same_meaning(tmp_path):
    path = write_xlsx(tmp_path / "p.xlsx", {"Products": [["SKU", "Price", "Prix"], ["A", 1, 2]]})
    with pytest.raises(SourceError, match="two columns for Price: 'Price' and 'Prix'"):
        read_spreadsheet(path)


def test_blank_rows_are_not_data_rows(tmp_path):
    path = write_xlsx(tmp_path / "b.xlsx", {"Products": [["SKU", "Name", "Price"], ["A", "a", 1], [None, " ", None],
                                                         [], ["B", "b", 2]]})
    result = read_spreadsheet(path)
    assert [(r.sku, r.ref.row) for r in result.rows] == [("A", 2), ("B", 5)]
    assert result.issues == []
