"""The xlsx fast path (xlsx_table.py: fastexcel, column by column) gives exactly what the row reader
(python-calamine, row by row) gives, or steps aside."""

from __future__ import annotations

import datetime as dt
import os
import random
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook

from bench.spreadsheet_data import generate
from connector.sources.spreadsheet import read_spreadsheet, reader
from connector.sources.spreadsheet.build import build_result, prepare_stock
from connector.sources.spreadsheet.reader import read_raw
from connector.sources.spreadsheet.xlsx_table import first_row_text_columns
from tests.fast_paths import both, same


def write(path, rows, *, title="Products", stock=None, like_excel=False):
    """The workbook of ``rows`` (``None``: no cell), by openpyxl or, ``like_excel``, by XlsxWriter (shared
    strings, dates with a date format, as Excel saves them)."""
    if like_excel:
        return _write_xlsxwriter(path, rows, title, stock or {})
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            if v is not None:
                ws.cell(r, c).value = v
    for location, pairs in (stock or {}).items():
        sheet = wb.create_sheet(f"Stock - {location}")
        sheet.append(["SKU", "Quantity"])
        for pair in pairs:
            sheet.append(list(pair))
    wb.save(path)
    return path


def _write_xlsxwriter(path, rows, title, stock):
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, grid in ((title, rows), *((f"Stock - {loc}", [["SKU", "Quantity"], *map(list, pairs)])
                                        for loc, pairs in stock.items())):
        ws = wb.add_worksheet(name)
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if isinstance(v, dt.date):
                    ws.write_datetime(r, c, v, date)
                elif isinstance(v, str):
                    ws.write_string(r, c, v)
                elif v is not None:
                    ws.write(r, c, v)
    wb.close()
    return path


def test_generated_catalogue_takes_the_fast_path(tmp_path, monkeypatch):
    path = generate(tmp_path / "c.xlsx", 300, "xlsx")
    fast, slow, used = both(path)
    assert used and len(fast.products) > 150 and fast.issues == []
    same(fast, slow)
    grids = []
    real = reader._grid
    monkeypatch.setattr(reader, "_grid", lambda wb, name, p: grids.append(name) or real(wb, name, p))
    same(read_spreadsheet(path), fast)
    assert grids == []  # neither the Products sheet nor the stock sheets were read row by row


def test_each_stock_sheet_through_fastexcel_or_else_the_row_reader(tmp_path):
    """A stock sheet is taken column by column under the Products sheet's conditions; one that fastexcel would
    type differently (a quantity typed as text among numbers) is read by the row reader, and both read alike."""
    rows = [["SKU", "Name", "Price"], ["A", "Tea", 1.0], ["B", "Oil", 2.0]]
    path = write(tmp_path / "s.xlsx", rows, stock={"Main": [("A", 3), ("B", 4)], "Shop": [("A", 1), ("B", "x")]},
                 like_excel=True)
    book = read_raw(path, prepare_stock, columnar=True)
    assert [(loc, sheet.table is not None) for loc, sheet in book.stock] == [("Main", True), ("Shop", False)]
    fast = build_result(book)
    same(fast, build_result(read_raw(path, prepare_stock)))
    assert [(x.sheet, x.row, x.reason) for x in fast.issues] == [("Stock - Shop", 3, "text in a number column")]
    assert fast.products[0].variants[0].stock["Main"].available == 3


def test_typed_cells_convert_as_the_row_reader_does(tmp_path):
    rows = [["SKU", "Name", "Price", "Cost", "Active", "Barcode", "Attribute: Size", "Notes"],
            ["  A-1 ", "Tea\xa0", 12.5, 3.0, True, "4006381333931", "M", 1.0],
            ["B", "Soap", 19.99, 1e20, False, None, "", 2.5],
            ["D", "Salt", 1, None, None, "400638133393", None, None],
            [None, None, None, None, None, None, None, None],
            ["C", "Oil", -2.0, None, None, None, None, 3.0],
            [None, None, None, None, None, None, None, None]]
    fast, slow, used = both(write(tmp_path / "t.xlsx", rows))
    assert used
    same(fast, slow)
    a, b = fast.products
    assert (a.key, a.name, str(a.variants[0].price.amount), a.variants[0].active) == ("A-1", "Tea", "12.5", True)
    assert str(b.variants[0].price.amount) == "19.99"
    assert str(b.variants[0].cost.amount) == "1E+20"
    assert [(x.row, x.reason) for x in fast.issues] == [
        (4, "bad barcode check digit (expected 0)"), (6, "negative price")]


def test_trailing_empty_rows_and_blank_rows_inside(tmp_path):
    rows = [["SKU", "Name", "Price"], ["A", "Tea", 0.0], [None, None, None], ["", "  ", None], ["B", "Oil", 2]]
    rows += [["", None, ""]] * 600  # empty strings: in calamine's range, blank for both readers
    fast, slow, used = both(write(tmp_path / "b.xlsx", rows))
    assert used
    same(fast, slow)
    assert [p.key for p in fast.products] == ["B"]  # A's price 0.0 is read, not blank: refused (never on sale
    assert [(i.row, i.value) for i in fast.issues] == [(2, Decimal(0))]  # for nothing)
    assert [r.ref.row for r in fast.rows] == [2, 5]  # blank rows are not data rows


@pytest.mark.parametrize("cells,why", [
    ([["SKU", "Price"], ["A", 1.5], ["B", "vingt"]], "a price typed as text"),
    ([["SKU", "Price"], ["A", 1.5], ["B", True]], "a boolean among numbers"),
    ([["SKU", "Name"], ["A", "Tea"], [1234, "Soap"]], "a number among SKUs"),
    ([["SKU", "Name"], ["A", dt.datetime(2024, 1, 1)], ["B", "Soap"]], "a date among names"),
    ([["SKU", "Notes", "Notes"], ["A", 1, 2]], "two Notes columns (fastexcel renames one)"),
    ([["SKU", "Price_1"], ["A", 1]], "a header ending in _N"),
    ([[None, None], ["SKU", "Price"], ["A", 1]], "row 1 empty"),
    ([["My catalogue", None], ["SKU", "Price"], ["A", 1]], "a title row"),
    ([["SKU", 2024], ["A", 1]], "a number as header"),
    ([[None, "SKU", "Price"], [None, "A", 1]], "column A empty"),
])
def test_steps_aside_and_reads_the_same(tmp_path, cells, why):
    fast, slow, used = both(write(tmp_path / "s.xlsx", cells))
    assert not used, why
    same(fast, slow)


def test_error_cell_in_products_goes_the_row_way(tmp_path):
    path = write(tmp_path / "e.xlsx", [["SKU", "Name", "Price"], ["A", "Tea", 3], ["B", "Soap", "=1/0"]])
    # openpyxl stores the formula without a cached value: the scan reports it on the row reader's grid
    fast, slow, used = both(path)
    assert not used
    same(fast, slow)
    assert [(i.row, i.column) for i in fast.issues] == [(3, "Price")]


def test_without_fastexcel_the_row_reader_reads(tmp_path, monkeypatch):
    path = generate(tmp_path / "c.xlsx", 50, "xlsx")
    monkeypatch.setattr(reader, "_open_fastexcel", lambda p: None)
    book = read_raw(path, prepare_stock, columnar=True)
    assert book.products.table is None and book.products.rows


class _BrokenReader:
    """A fastexcel reader that lists the sheets but fails to load one."""

    def __init__(self, names):
        self.sheet_names = names

    def load_sheet(self, *a, **k):
        raise RuntimeError("boom")


@pytest.mark.parametrize("names", [None, ["Products", "Other"]])
def test_a_failing_or_disagreeing_fastexcel_leaves_it_to_the_row_reader(tmp_path, monkeypatch, names):
    path = generate(tmp_path / "c.xlsx", 50, "xlsx")
    expected = build_result(read_raw(path, prepare_stock))
    sheet_names = names or ["Products", "Stock - Warehouse"]
    monkeypatch.setattr(reader, "_open_fastexcel", lambda p: _BrokenReader(sheet_names))
    book = read_raw(path, prepare_stock, columnar=True)
    assert book.products.table is None
    same(build_result(book), expected)


def test_first_row_peek(tmp_path):
    def peek(xml_rows: str):
        path = tmp_path / "p.xlsx"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("s.xml", f'<worksheet><dimension ref="A1"/><sheetData>{xml_rows}</sheetData></worksheet>')
        with zipfile.ZipFile(path) as zf:
            return first_row_text_columns(zf, "s.xml")

    assert peek('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" s="2"/>'
                '<c r="D1" t="inlineStr"><is><t>x</t></is></c></row>') == {0, 3}
    assert peek('<row r="2"><c r="A2" t="s"><v>0</v></c></row>') is None  # row 1 missing
    assert peek('<row r="1" spans="1:2"/><row r="2"><c r="A2" t="s"><v>0</v></c></row>') is None
    assert peek('<row r="1"><c r="A1"><v>3</v></c></row>') is None  # a number
    assert peek('<row r="1"><c r="A1" t="str"><f>A2</f></c></row>') is None  # a formula without value
    assert peek('<row r="1"><c t="s"><v>0</v></c></row>') is None  # cells without references
    assert peek("") is None


# --- differential: random typed workbooks, both readers ----------------------------------------------

_HEADERS = ["Parent SKU", "SKU", "Name", "Description", "Brand", "Category", "Price", "Currency", "Cost",
            "Barcode", "Weight (kg)", "Active", "Images", "Attribute: Size", "Name (fr)", "Stock: Main",
            "Prix", "Notes"]
_TEXTS = ["A-1", " padded ", "", "\xa0x\u2009", "12", "12,5", "Thé vert", "x\ny", "Home > Kitchen", "MRU",
          "usd", "yes", "Non", "EXAMPLE-1", "4006381333931", "http://a/1.jpg, http://a/2.jpg", "-3", "vingt"]
_NUMBERS = [12.5, 3.0, -2.0, 0.1 + 0.2, 1e20, 4006381333931.0, 0.0, 7.0, 1.25e-7, 100.0]


def _cell(rng: random.Random, mode: str, sku_pool: list[str]):
    if rng.random() < 0.15:
        return None
    if mode == "text":
        return rng.choice(_TEXTS)
    if mode == "number":
        return rng.choice(_NUMBERS)
    if mode == "bool":
        return rng.random() < 0.5
    if mode == "sku":
        return rng.choice(sku_pool)
    return rng.choice([*_TEXTS, *_NUMBERS, True, dt.datetime(2024, 5, 6), dt.date(2023, 1, 1)])


def _random_workbook(rng: random.Random, path) -> None:
    headers = rng.sample(_HEADERS, rng.randint(2, 9))
    if "SKU" not in headers:
        headers.insert(rng.randrange(len(headers) + 1), "SKU")
    skus = [f"S{k}" for k in range(rng.randint(3, 12))] + ["EXAMPLE-9"]
    modes = {h: rng.choice(["text", "number", "bool", "mixed"]) if rng.random() < 0.3 else
             ("sku" if "SKU" in h else "number" if h in ("Price", "Cost", "Weight (kg)", "Stock: Main", "Prix")
              else "bool" if h == "Active" else "text") for h in headers}
    rows: list[list] = [list(headers)]
    for _ in range(rng.randint(1, 25)):
        if rng.random() < 0.08:
            rows.append([None] * len(headers))
        else:
            rows.append([_cell(rng, modes[h], skus) for h in headers])
    rows += [[None] * len(headers)] * rng.choice([0, 0, 1, 3])
    if rng.random() < 0.1:
        rows.insert(0, ["Catalogue"] + [None] * (len(headers) - 1))
    stock = {"Main": [(rng.choice(skus), rng.choice([1, 2.0, -1, "x", None])) for _ in range(rng.randint(0, 4))]} \
        if rng.random() < 0.3 else None
    write(path, rows, stock=stock, like_excel=rng.random() < 0.5)


def test_random_workbooks_read_the_same_both_ways(tmp_path):
    seed = int(os.environ.get("SEED", "20261123"))
    rng = random.Random(seed)
    taken = 0
    for k in range(120):
        path = tmp_path / f"r{k}.xlsx"
        _random_workbook(rng, path)
        try:
            fast, slow, used = both(path)
        except Exception as e:  # both must fail alike (a SourceError the user sees)
            with pytest.raises(type(e)) as again:
                build_result(read_raw(path, prepare_stock))
            assert str(again.value) == str(e)
            continue
        try:
            same(fast, slow)
        except AssertionError:
            raise AssertionError(f"workbook {k} (SEED={seed}) reads differently") from None
        taken += used
    print(f"fast path taken by {taken} of 120 workbooks")
    assert 30 <= taken <= 110  # both paths were exercised


def test_barcodes_typed_as_numbers_under_a_padding_format_read_the_same_both_ways(tmp_path):
    """The benchmark catalogue with its barcodes typed as numbers in cells formatted ``0000000000000`` (their
    leading zeros only shown by the format): both readers read them as the catalogue typed as text reads them."""
    text = generate(tmp_path / "text.xlsx", 400, "xlsx")
    padded = generate(tmp_path / "padded.xlsx", 400, "xlsx", barcode_format="0000000000000")
    fast, slow, used = both(padded)
    assert used
    same(fast, slow)
    expected = build_result(read_raw(text, prepare_stock))
    assert fast.products == expected.products and fast.issues == [] and fast.warnings == []


def test_sheet_names_read_from_the_zip_that_disagree_restart_the_row_reader(tmp_path, monkeypatch):
    path = generate(tmp_path / "c.xlsx", 50, "xlsx")
    expected = build_result(read_raw(path, prepare_stock))
    monkeypatch.setattr(reader, "_zip_members", lambda p: {"Products": "xl/worksheets/sheet1.xml", "Notes": "x"})
    book = read_raw(path, prepare_stock, columnar=True)
    assert book.products.table is None and [loc for loc, _ in book.stock] == ["Warehouse", "Shop"]
    same(build_result(book), expected)


@pytest.mark.parametrize("header", ["__UNNAMED__1", "__UNNAMED__0", "__UNNAMED__7"])
def test_a_header_spelled_like_a_generated_name_goes_the_row_way(tmp_path, header):
    """The eager load names a column only by fastexcel's generated ``__UNNAMED__<position>``: a header spelled
    like one is left to the row reader, which reads it as written."""
    rows = [["SKU", header, "Price"], ["A", "x", 1.0], ["B", "y", 2.0]]
    fast, slow, used = both(write(tmp_path / "u.xlsx", rows))
    assert not used
    same(fast, slow)
    assert fast.warnings == slow.warnings and any(header in w for w in fast.warnings)
