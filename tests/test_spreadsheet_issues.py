"""Every issue type of the spreadsheet reader, with its sheet, row, column and raw value."""

from __future__ import annotations

import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from connector.sources.spreadsheet import read_spreadsheet
from tests import hostile_files as hf
from tests.test_spreadsheet_read import write_xlsx

HEAD = ["Parent SKU", "SKU*", "Name*", "Price*", "Barcode", "Brand", "Category", "Attribute: Size",
        "Stock: Main"]


def read(tmp_path: Path, rows: list[list], **sheets: list[list]):
    return read_spreadsheet(write_xlsx(tmp_path / "c.xlsx", {"Products": [HEAD, *rows], **sheets}))


def issue_tuples(result):
    return [(i.sheet, i.row, i.column, i.value, i.reason) for i in result.issues]


def skipped(result):
    return {r.ref.row: r.skipped_reason for r in result.rows if r.skipped_reason and r.ref.origin == "Products"}


def test_missing_required_values(tmp_path):
    result = read(tmp_path, [
        [None, None, "no sku", 1],
        [None, "B", "no price", None],
        [None, "C", None, 3],
        [None, "D", "ok", 4],
    ])
    assert issue_tuples(result) == [
        ("Products", 2, "SKU*", "", "missing required value"),
        ("Products", 3, "Price*", "", "missing required value"),
        ("Products", 4, "Name*", "", "missing required value"),
    ]
    assert [p.key for p in result.products] == ["D"]
    assert set(skipped(result)) == {2, 3, 4}
    assert skipped(result)[3] == "Price*: missing required value"


def test_text_in_number_column_and_negative_price(tmp_path):
    result = read(tmp_path, [[None, "A", "a", "abc"], [None, "B", "b", -5], [None, "C", "c", "12,5"]])
    assert issue_tuples(result) == [
        ("Products", 2, "Price*", "abc", "text in a number column"),
        ("Products", 3, "Price*", -5.0, "negative price"),
    ]
    assert result.issues[0].col_index == 3 and result.issues[0].sku == "A"
    assert [p.variants[0].price.amount for p in result.products] == [Decimal("12.5")]


def test_negative_and_fractional_stock(tmp_path):
    result = read(tmp_path, [[None, "A", "a", 1, None, None, None, None, -1],
                             [None, "B", "b", 1, None, None, None, None, 2.5],
                             [None, "C", "c", 1, None, None, None, None, "x"]],
                  **{"Stock - Depot": [["SKU", "Quantity"], ["C", -3]]})
    assert issue_tuples(result) == [
        ("Products", 2, "Stock: Main", -1.0, "negative stock"),
        ("Products", 3, "Stock: Main", 2.5, "not a whole number"),
        ("Products", 4, "Stock: Main", "x", "text in a number column"),
        ("Stock - Depot", 2, "Quantity", -3.0, "negative stock"),
    ]
    assert result.products == []


def test_duplicate_sku_names_the_first_row(tmp_path):
    """A row copied whole: the first is read, the copy refused."""
    result = read(tmp_path, [[None, "A", "a", 1], [None, "B", "b", 1], [None, "A", "a", 1], [None, "A", "a", 1]])
    assert issue_tuples(result) == [
        ("Products", 4, "SKU*", "A", "duplicate SKU (first seen on row 2)"),
        ("Products", 5, "SKU*", "A", "duplicate SKU (first seen on row 2)"),
    ]
    assert [(p.key, p.name) for p in result.products] == [("A", "a"), ("B", "b")]


def test_a_duplicate_sku_with_other_values_refuses_every_row_of_it(tmp_path):
    """Which row says what the marketplace should show is not known: a row retyped with another's SKU may be the
    first (its values would overwrite that listing) as well as a later one.  Before, the first row won."""
    result = read(tmp_path, [[None, "A", "a", 1], [None, "B", "b", 1], [None, "A", "again", 2],
                             [None, "A", "third", 3]])
    neither = "with other values: neither row is sent until one of them is removed)"
    assert issue_tuples(result) == [
        ("Products", 2, "SKU*", "A", f"duplicate SKU (seen again on row 4, {neither}"),
        ("Products", 4, "SKU*", "A", f"duplicate SKU (first seen on row 2, {neither}"),
        ("Products", 5, "SKU*", "A", f"duplicate SKU (first seen on row 2, {neither}"),
    ]
    assert [(p.key, p.name) for p in result.products] == [("B", "b")]
    assert result.sku_unread_rows == ["Products row 2", "Products row 4", "Products row 5"]  # (nothing taken for gone)


def test_barcodes(tmp_path):
    result = read(tmp_path, [
        [None, "A", "a", 1, "4006381333931"],  # EAN-13 ok
        [None, "B", "b", 1, "4006381333932"],  # bad check digit
        [None, "C", "c", 1, "96385074"],  # EAN-8 ok
        [None, "D", "d", 1, "036000291452"],  # UPC-A ok
        [None, "E", "e", 1, "10012345678902"],  # GTIN-14 ok
        [None, "F", "f", 1, "40063813339X1"],
        [None, "G", "g", 1, 36000291452],  # typed as a number: lost its leading zero
        [None, "H", "h", 1, "12345"],
    ])
    assert issue_tuples(result) == [
        ("Products", 3, "Barcode", "4006381333932", "bad barcode check digit (expected 1)"),
        ("Products", 7, "Barcode", "40063813339X1", "barcode must contain only digits"),
        ("Products", 8, "Barcode", 36000291452.0,
         "barcode must have 8, 12, 13 or 14 digits, not 11 (typed as a number, it may have lost leading "
         "zeros: format the column as text)"),
        ("Products", 9, "Barcode", "12345", "barcode must have 8, 12, 13 or 14 digits, not 5"),
    ]
    assert [p.key for p in result.products] == ["A", "C", "D", "E"]


def test_variant_rows_must_agree_blank_inherits(tmp_path):
    result = read(tmp_path, [
        ["TS", "TS-S", "T-shirt", 1, None, "Acme", "Fashion > Men", "S"],
        ["TS", "TS-M", None, 1, None, None, None, "M"],  # blank: inherits
        ["TS", "TS-L", "T-shirt", 1, None, "Acme", "Fashion > Men", "L"],  # same values: fine
        ["TS", "TS-XL", "Tee", 1, None, "Other", "Fashion > Women", "XL"],  # disagrees three times
    ])
    assert issue_tuples(result) == [
        ("Products", 5, "Name*", "Tee", "differs from row 2 of Parent SKU 'TS' ('T-shirt'); leave it blank "
                                        "to inherit"),
        ("Products", 5, "Brand", "Other", "differs from row 2 of Parent SKU 'TS' ('Acme'); leave it blank to "
                                          "inherit"),
        ("Products", 5, "Category", "Fashion > Women",
         "differs from row 2 of Parent SKU 'TS' ('Fashion > Men'); leave it blank to inherit"),
    ]
    (p,) = result.products
    assert [v.sku for v in p.variants] == ["TS-S", "TS-M", "TS-L"]
    assert (p.name, p.brand, p.category_path) == ("T-shirt", "Acme", ["Fashion", "Men"])
    assert skipped(result) == {5: result.rows[3].skipped_reason}
    assert "Name*: differs from row 2" in skipped(result)[5]


def test_parent_sku_also_used_as_plain_sku(tmp_path):
    result = read(tmp_path, [[None, "TS", "plain", 1], ["TS", "TS-S", "T-shirt", 1, None, None, None, "S"],
                             [None, "OK", "ok", 1]])
    assert issue_tuples(result) == [
        ("Products", 2, "SKU*", "TS", "SKU 'TS' is also used as Parent SKU (row 3)"),
        ("Products", 3, "Parent SKU", "TS", "Parent SKU 'TS' is also the SKU of another product (row 2)"),
    ]
    assert [p.key for p in result.products] == ["OK"]


def test_stock_rows_for_unknown_or_skipped_skus(tmp_path):
    result = read(tmp_path, [[None, "A", "a", 1], [None, "B", "b", "oops"]],
                  **{"Stock - Shop": [["SKU*", "Quantity*"], ["A", 1], ["ZZZ", 4], ["B", 2], ["A", 5],
                                      [None, 3], ["EXAMPLE-X", 1], ["C", None]]})
    stock_issues = [t for t in issue_tuples(result) if t[0] == "Stock - Shop"]
    assert stock_issues == [
        ("Stock - Shop", 3, "SKU*", "ZZZ", "SKU not found in sheet 'Products'"),
        ("Stock - Shop", 5, "SKU*", "A", "duplicate SKU (first seen on row 2, with another quantity: its stock is "
                                         "not sent until one of the rows is removed)"),
        ("Stock - Shop", 6, "SKU*", "", "missing required value"),
        ("Stock - Shop", 8, "Quantity*", "", "missing required value"),
    ]
    rows = {r.ref.row: r.skipped_reason for r in result.rows if r.ref.origin == "Stock - Shop"}
    assert rows[2] is None
    assert rows[4] == "SKU 'B' skipped in sheet 'Products' (row 3)"  # no second issue for the same mistake
    assert 7 not in rows  # example row
    assert not result.products[0].variants[0].stock_known  # (A given 1, then 5: which is right is not known)


def test_yes_no_and_currency(tmp_path):
    path = write_xlsx(tmp_path / "y.xlsx", {"Products": [["SKU", "Name", "Price", "Active", "Currency"],
                                                         ["A", "a", 1, "maybe", "MRU"], ["B", "b", 1, "Non", "euro"],
                                                         ["C", "c", 1, "لا", "eur"]]})
    result = read_spreadsheet(path)
    assert issue_tuples(result) == [
        ("Products", 2, "Active", "maybe", "expected Yes or No"),
        ("Products", 3, "Currency", "euro", "currency must be a 3-letter code such as MRU"),
    ]
    (p,) = result.products
    assert p.variants[0].active is False and p.active is False
    assert p.variants[0].price.currency == "EUR"


def _patch_sheet_xml(path: Path, replace: dict[str, str]) -> None:
    """Edit openpyxl's sheet XML into what Excel saves; Excel also clears openpyxl's ``fullCalcOnLoad`` flag
    (set because openpyxl calculates no formula: the cached values a test writes would be placeholders)."""
    tmp = path.with_suffix(".tmp")
    shutil.move(path, tmp)
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for old, new in replace.items():
                    assert old in text, old
                    text = text.replace(old, new)
                data = text.encode()
            elif item.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            dst.writestr(item, data)
    tmp.unlink()


def test_formula_without_cached_value_and_error_cells(tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", {"Products": [
        ["SKU", "Name", "Price", "Barcode", "Brand"],
        ["A", "a", "=2*3", None],  # openpyxl writes no cached value
        ["B", "b", "#N/A", None],  # an error cell (t="e")
        ["C", "c", 5, "#DIV/0!"],
        ["D", "d", 7, None],
        ["E", "e", 8, None, '=""'],
    ]})
    # E6 as Excel saves a formula whose result is an empty string: a real empty value, not an error
    _patch_sheet_xml(path, {'<c r="E6"><f>""</f><v /></c>': '<c r="E6" t="str"><f>""</f><v></v></c>'})
    result = read_spreadsheet(path)
    assert issue_tuples(result) == [
        ("Products", 2, "Price", "=2*3",
         "formula without a cached value (open the file in Excel or LibreOffice and save it again)"),
        ("Products", 3, "Price", "#N/A", "error value in the cell (#N/A)"),
        ("Products", 4, "Barcode", "#DIV/0!", "error value in the cell (#DIV/0!)"),
    ]
    assert [p.key for p in result.products] == ["D", "E"]
    assert result.products[1].brand is None


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _prefixed(name: str, data: bytes) -> bytes:
    """A part of the main namespace with its elements prefixed (``<x:c>``), as the .NET Open XML SDK saves."""
    if not name.startswith("xl/") or f'xmlns="{_MAIN_NS}"'.encode() not in data:
        return data
    text = data.decode().replace(f'xmlns="{_MAIN_NS}"', f'xmlns:x="{_MAIN_NS}"')
    return re.sub(r"<(/?)([A-Za-z]\w*)(?=[\s>/])", r"<\1x:\2", text).encode()


def test_formula_and_error_cells_of_a_prefixed_workbook_are_found_the_same(tmp_path):
    """The formula without a cached value was read as an empty cell (an optional column then blank) and the
    error cell as "missing": the problem cells were looked for under unprefixed names only."""
    path = write_xlsx(tmp_path / "f.xlsx", {"Products": [
        ["SKU", "Name", "Price", "Barcode", "Brand"],
        ["A", "a", "=2*3", None],
        ["B", "b", "#N/A", None],
        ["C", "c", 5, "#DIV/0!"],
        ["D", "d", 7, None, "=A1"],
    ]})
    twin = hf.rewrite_parts(path, tmp_path / "x.xlsx", _prefixed)
    with zipfile.ZipFile(twin) as z:
        assert b"<x:c " in z.read("xl/worksheets/sheet1.xml")
    expected = [
        ("Products", 2, "Price", "=2*3",
         "formula without a cached value (open the file in Excel or LibreOffice and save it again)"),
        ("Products", 3, "Price", "#N/A", "error value in the cell (#N/A)"),
        ("Products", 4, "Barcode", "#DIV/0!", "error value in the cell (#DIV/0!)"),
        ("Products", 5, "Brand", "=A1",
         "formula without a cached value (open the file in Excel or LibreOffice and save it again)"),
    ]
    assert issue_tuples(read_spreadsheet(path)) == expected
    assert issue_tuples(read_spreadsheet(twin)) == expected


def test_formula_with_cached_value_is_fine(tmp_path):
    path = write_xlsx(tmp_path / "g.xlsx", {"Products": [["SKU", "Name", "Price"], ["A", "a", "=2*3"]]})
    # what Excel saves: the formula and its cached result
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    old = xml[xml.index('<c r="C2"'):xml.index("</c>", xml.index('<c r="C2"')) + 4]
    _patch_sheet_xml(path, {old: '<c r="C2"><f>2*3</f><v>6</v></c>'})
    result = read_spreadsheet(path)
    assert result.issues == []
    assert result.products[0].variants[0].price.amount == Decimal(6)


def test_a_bad_row_is_skipped_others_carry_on(tmp_path):
    result = read(tmp_path, [["TS", "TS-S", "T", 1, None, None, None, "S"],
                             ["TS", "TS-M", None, "x", None, None, None, "M"],
                             ["TS", "TS-L", None, 3, None, None, None, "L"]])
    (p,) = result.products
    assert [v.sku for v in p.variants] == ["TS-S", "TS-L"]
    assert [(r.sku, r.skipped_reason) for r in result.rows] == [
        ("TS-S", None), ("TS-M", "Price*: text in a number column"), ("TS-L", None)]


def test_product_without_a_name_skips_its_variants(tmp_path):
    result = read(tmp_path, [["TS", "TS-S", None, 1], ["TS", "TS-M", None, 2]])
    assert issue_tuples(result) == [("Products", 2, "Name*", "", "missing required value")]
    assert result.products == []
    assert [r.skipped_reason for r in result.rows] == [
        "Name*: missing required value", "product 'TS' has no name (row 2)"]


def test_stock_sheet_with_an_unknown_sku_among_many_known(tmp_path):
    rows = [[None, f"S{i}", f"n{i}", 1] for i in range(30)]
    stock = [["SKU", "Quantity"], *([f"S{i}", i] for i in range(30)), ["NOPE", 1]]
    result = read(tmp_path, rows, **{"Stock - Main": stock})
    assert [(i.sheet, i.row, i.reason) for i in result.issues] == [
        ("Stock - Main", 32, "SKU not found in sheet 'Products'")]
    assert [p.variants[0].stock["Main"].available for p in result.products] == list(range(30))
    assert sum(1 for r in result.rows if r.ref.origin == "Stock - Main") == 31


def test_a_refused_row_without_its_name_says_so_too(tmp_path):
    """Every problem of a row in one run: a row refused for its price that also lacks the name it should hold is
    reported for both, not for the name only once the price is fixed."""
    result = read(tmp_path, [
        [None, "A", None, "abc"],  # refused, and no name: both
        ["TS", "TS-S", None, "x", None, None, None, "S"],  # no row of TS is good nor named: the first row says so
        ["TS", "TS-M", None, "y", None, None, None, "M"],  # (a later variant inherits: not twice)
        ["TU", "TU-S", "Tee", "x", None, None, None, "S"],  # named on a refused row: its variants inherit it
        ["TU", "TU-M", None, "y", None, None, None, "M"],
        [None, "B", "ok", 2],
    ])
    by_row: dict[int, list[str]] = {}
    for _sheet, row, column, _value, reason in issue_tuples(result):
        by_row.setdefault(row, []).append(f"{column}: {reason}")
    assert by_row == {
        2: ["Price*: text in a number column", "Name*: missing required value"],
        3: ["Price*: text in a number column", "Name*: missing required value"],
        4: ["Price*: text in a number column"],
        5: ["Price*: text in a number column"],
        6: ["Price*: text in a number column"],
    }
    assert [p.key for p in result.products] == ["B"]
    assert skipped(result)[2] == "Price*: text in a number column; Name*: missing required value"


@pytest.mark.sandbox
def test_a_row_retyped_with_a_listed_sku_overwrites_nothing(elebne_sandbox, tmp_path, monkeypatch):
    """SOAP-01's row (the first) retyped TEA-500: read first, its soap name and price went to the TEA-500 listing
    (exit 1), and SOAP-01 was taken for gone.  Now neither TEA-500 row is sent, and SOAP-01 is left as it is."""
    from tests.test_sync_safety_e2e import sync
    from tests.workbooks import CATALOGUE, STOCK, write_workbook

    wb = write_workbook(tmp_path / "p.xlsx", CATALOGUE, STOCK)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == 0
    before = elebne_sandbox.products()
    mark = elebne_sandbox.last_id()
    rows = [{**r, "SKU": "TEA-500"} if r["SKU"] == "SOAP-01" else r for r in CATALOGUE]
    write_workbook(wb, rows, STOCK)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == 1, report
    after = elebne_sandbox.products()
    assert after["TEA-500"] == before["TEA-500"] and after["SOAP-01"] == before["SOAP-01"]
    assert not [w for w in elebne_sandbox.writes(since=mark) if "TEA-500" in w["path"] or "SOAP-01" in w["path"]]
