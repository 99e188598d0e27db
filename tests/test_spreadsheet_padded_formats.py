"""Identifiers typed as numbers in cells whose number format pads them with zeros (``00000``: 123 shows
``00123``).  A barcode or an HS code is read as the cell shows it (the marketplace gets the code the merchant
sees); a SKU is read as typed, the key of a synced listing, with one warning per sheet and column."""

from __future__ import annotations

import random
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from connector.sources.spreadsheet import read_spreadsheet
from tests.fast_paths import both, same

HEADERS = ["SKU", "Name", "Price", "Barcode", "HS code", "Parent SKU"]


def _variants(result) -> dict[str, tuple]:
    return {v.sku: (v.barcode, v.hs_code) for p in result.products for v in p.variants}


def _book(rows: list[list], formats: dict[str, str], headers: list[str] = HEADERS) -> openpyxl.Workbook:
    """An openpyxl workbook whose Products sheet holds ``headers`` and ``rows``; ``formats``: cell -> number format."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Products"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    for cell, code in formats.items():
        ws[cell].number_format = code
    return wb


def _check_both_ways(path: Path, fast_path: bool = True) -> None:
    """The fastexcel path (when it takes the file: not a column mixing numbers and texts) reads what the row
    reader reads."""
    fast, row, used = both(path)
    assert used == fast_path
    same(fast, row)


def test_barcode_and_hs_code_read_as_the_format_shows_them_openpyxl(tmp_path: Path) -> None:
    """A UPC typed as a number in a column formatted ``0000000000000`` shows 0012345678905 (its GTIN-13) but was
    read as 12345678905 (an 11-digit barcode refused); tea's HS code 090230 was pushed as 90230."""
    path = tmp_path / "openpyxl.xlsx"
    _book([["TEA-1", "Green tea", 10, 12345678905, 90230, None],
           ["TEA-2", "Black tea", 12, 4006381333931, 90240, None],  # already as wide as the format
           ["CUP-1", "Cup", 5, "0012345678905", "090230", None]],  # typed as text: as it is
          {**{f"D{r}": "0000000000000" for r in (2, 3, 4)}, **{f"E{r}": "000000" for r in (2, 3, 4)}}).save(path)
    result = read_spreadsheet(path)
    assert result.issues == [] and result.warnings == []
    assert _variants(result) == {"TEA-1": ("0012345678905", "090230"), "TEA-2": ("4006381333931", "090240"),
                                 "CUP-1": ("0012345678905", "090230")}
    _check_both_ways(path, fast_path=False)


def test_barcode_and_hs_code_read_as_the_format_shows_them_xlsxwriter(tmp_path: Path) -> None:
    """The same written by XlsxWriter (shared strings, its own style indices), with a quoted zero and a locale tag,
    as Excel may write them, and a second style of the same column."""
    path = tmp_path / "xlsxwriter.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Products")
    ean = wb.add_format({"num_format": "0000000000000"})
    ean_bold = wb.add_format({"num_format": "0000000000000", "bold": True})
    hs = wb.add_format({"num_format": '[$-409]"0"00000'})
    ws.write_row(0, 0, HEADERS)
    rows = [("TEA-1", "Green tea", 10, 12345678905, 90230), ("TEA-2", "Black tea", 12, 96385074, 123456),
            ("TEA-3", "Mint tea", 8, 4006381333931, 90230)]
    for r, (sku, name, price, barcode, code) in enumerate(rows, start=1):
        ws.write_string(r, 0, sku)
        ws.write_string(r, 1, name)
        ws.write_number(r, 2, price)
        ws.write_number(r, 3, barcode, ean_bold if r == 2 else ean)
        ws.write_number(r, 4, code, hs)
    wb.close()
    result = read_spreadsheet(path)
    assert result.issues == [] and result.warnings == []
    # '"0"00000': a literal zero before five digits: 090230, and 0123456 for a number of six digits
    assert _variants(result) == {"TEA-1": ("0012345678905", "090230"), "TEA-2": ("0000096385074", "0123456"),
                                 "TEA-3": ("4006381333931", "090230")}
    _check_both_ways(path)


def test_sku_is_read_as_typed_with_one_warning_per_sheet_and_column(tmp_path: Path) -> None:
    """A SKU synced as 123 by earlier versions must stay 123 (read as 00123 it planned a new listing and a
    'no longer in source' for the old one): it is read as typed, and one warning per sheet and column (not per
    row) names the sheet, the column, an example cell and the advice."""
    path = tmp_path / "skus.xlsx"
    wb = _book([[123, "Teapot", 10, None, None, 77], [124, "Teapot", 10, None, None, 77],
                [98765, "Bowl", 7, None, None, None],  # as wide as the format: nothing to say
                ["00042", "Cup", 7, None, None, None]],  # typed as text: kept, and nothing to say
               {f"{c}{r}": "00000" for r in (2, 3, 4, 5) for c in "AF"})
    stock = wb.create_sheet("Stock - Main")
    stock.append(["SKU", "Quantity"])
    stock.append([123, 4])
    stock.append([124, 2])
    stock["A2"].number_format = stock["A3"].number_format = "00000"
    wb.save(path)
    result = read_spreadsheet(path)
    assert result.issues == []
    skus = {v.sku: (p.key, v.stock["Main"].available if "Main" in v.stock else None)
            for p in result.products for v in p.variants}
    assert skus == {"123": ("77", 4), "124": ("77", 2), "98765": ("98765", None), "00042": ("00042", None)}
    padded = [w for w in result.warnings if not w.startswith("stock of ")]  # (98765 and 00042 have no stock row)
    assert len(padded) == 3, result.warnings
    products_sku, parent, stock_sku = padded
    assert products_sku.startswith("'Products', column 'SKU': 2 cell(s) typed as numbers show leading zeros "
                                   "through their format 00000 (row 2: Excel shows '00123', read as '123')")
    assert parent.startswith("'Products', column 'Parent SKU': 2 cell(s)") and "Excel shows '00077'" in parent
    assert stock_sku.startswith("'Stock - Main', column 'SKU': 2 cell(s)")
    for w in padded:
        assert "type these SKUs as text" in w and "a changed SKU becomes a new listing" in w
    _check_both_ways(path, fast_path=False)


def test_sku_warning_reaches_the_run_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The warning goes where the reader's warnings go: ``connector validate`` prints it (and a sync's report
    carries ``SourceResult.warnings``)."""
    from connector.cli import main

    path = tmp_path / "skus.xlsx"
    _book([[123, "Teapot", 10]], {"A2": "00000"}, ["SKU", "Name", "Price"]).save(path)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr()
    assert "Excel shows '00123', read as '123'" in " ".join((out.out + out.err).split()), out


def test_a_format_defined_but_not_applied_to_a_number_changes_nothing(tmp_path: Path) -> None:
    """A zero-padding format in the styles that no cell uses, or only empty and text cells: nothing read
    otherwise, nothing said."""
    path = tmp_path / "unused.xlsx"
    # a text cell (shown as it is) and a formatted empty cell
    _book([["TEA-1", "Green tea", 10, "4006381333931", "90230", None]],
          {"D2": "0000000000000", "E9": "000000"}).save(path)
    # and a format the styles define that no cell style applies
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    styles = parts["xl/styles.xml"].decode()
    styles = re.sub(r'<numFmts count="(\d+)">', lambda m: f'<numFmts count="{int(m.group(1)) + 1}">'
                    '<numFmt numFmtId="190" formatCode="00000000"/>', styles)
    assert 'numFmtId="190"' in styles
    parts["xl/styles.xml"] = styles.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    result = read_spreadsheet(path)
    assert result.issues == [] and result.warnings == []
    assert _variants(result) == {"TEA-1": ("4006381333931", "90230")}
    _check_both_ways(path)


def test_a_number_wider_than_its_format_reads_as_typed(tmp_path: Path) -> None:
    """A format shows a number wider than itself whole: 1234567 in ``00000`` shows 1234567."""
    path = tmp_path / "wide.xlsx"
    _book([["TEA-1", "Green tea", 10, 10012345678902, 9023012, 7654321],
           [1234567, "Cup", 5, None, 1234567890, None],
           ["TEA-2", "Black tea", 5, None, 123, None]],  # beside them, a short one is padded
          dict.fromkeys(("A3", "D2", "E2", "E3", "E4", "F2"), "00000")).save(path)
    result = read_spreadsheet(path)
    assert result.issues == [] and result.warnings == []
    assert _variants(result) == {"1234567": (None, "1234567890"), "TEA-1": ("10012345678902", "9023012"),
                                 "TEA-2": (None, "00123")}
    assert [p.key for p in result.products] == ["7654321", "1234567", "TEA-2"]
    _check_both_ways(path, fast_path=False)


def test_a_number_with_decimals_under_a_padding_format_is_reported(tmp_path: Path) -> None:
    """90230.4 in ``000000`` shows 090230: neither what was typed nor a code; the row is refused, naming what
    Excel shows (a barcode is not also refused as "not digits")."""
    path = tmp_path / "decimals.xlsx"
    _book([["TEA-1", "Green tea", 10, 12345678905.5, 90230.4, None], ["TEA-2", "Black tea", 10, None, 90240, None]],
          {"D2": "0000000000000", "E2": "000000", "E3": "000000"}).save(path)
    result = read_spreadsheet(path)
    got = [(i.row, i.column, i.value, i.reason) for i in result.issues]
    assert got == [
        (2, "Barcode", 12345678905.5, "a number with decimals, which the cell's format 0000000000000 shows rounded "
                                      "(0012345678906): type the code as text, as it should read"),
        (2, "HS code", 90230.4, "a number with decimals, which the cell's format 000000 shows rounded (090230): "
                                "type the code as text, as it should read"),
    ]
    assert _variants(result) == {"TEA-2": (None, "090240")}
    _check_both_ways(path)


def _sheet_xml(path: Path, edit) -> None:
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    name = "xl/worksheets/sheet1.xml"
    parts[name] = edit(parts[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)


@pytest.mark.parametrize("edit", [
    pytest.param(lambda x: re.sub(rb'<c r="([A-Z]+[0-9]+)" s="([0-9]+)"', rb'<c s="\2" r="\1"', x), id="s-before-r"),
    pytest.param(lambda x: re.sub(rb'<c r="([A-Z]+[0-9]+)" s="([0-9]+)" t="n"', rb'<c r="\1" t="n" s="\2"', x),
                 id="t-between"),
    pytest.param(lambda x: re.sub(rb' r="[A-Z]+[0-9]+"', b"", x), id="no-cell-references"),
])
def test_other_attribute_orders_and_cells_without_references(tmp_path: Path, edit) -> None:
    """Hand-edited or other writers' XML: the style before the reference, another attribute between them, no
    cell references at all (calamine places such cells one after the other)."""
    path = tmp_path / "edited.xlsx"
    _book([["TEA-1", "Green tea", 10, 12345678905, 90230, None], ["TEA-2", "Black tea", 12, 4006381333931, 123, None]],
          {"D2": "0000000000000", "D3": "0000000000000", "E2": "000000", "E3": "000000"}).save(path)
    _sheet_xml(path, edit)
    result = read_spreadsheet(path)
    assert result.issues == [] and result.warnings == []
    assert _variants(result) == {"TEA-1": ("0012345678905", "090230"), "TEA-2": ("4006381333931", "000123")}


def test_many_rows_through_both_readers(tmp_path: Path) -> None:
    """Enough rows that the sheet XML is searched in several blocks' worth of hits; stock sheets alike; the
    fastexcel path and the row reader agree."""
    path = tmp_path / "many.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Products")
    stock = wb.add_worksheet("Stock - Main")
    ean = wb.add_format({"num_format": "0000000000000"})
    sku_fmt = wb.add_format({"num_format": "000000"})
    ws.write_row(0, 0, HEADERS)
    stock.write_row(0, 0, ["SKU", "Quantity"])
    rnd = random.Random(5)
    expected = {}
    for r in range(1, 3001):
        code = f"{rnd.randrange(10 ** 11):011d}"
        code += str((10 - sum(int(d) * (3 if k % 2 == 0 else 1) for k, d in enumerate(code)) % 10) % 10)
        ws.write_number(r, 0, 100000 + r, sku_fmt)  # six digits: as wide as its format
        ws.write_string(r, 1, f"Item {r}")
        ws.write_number(r, 2, 10)
        ws.write_number(r, 3, int(code), ean)
        stock.write_number(r, 0, 100000 + r, sku_fmt)
        stock.write_number(r, 1, r % 7)
        expected[str(100000 + r)] = ("0" + code, None)
    wb.close()
    result = read_spreadsheet(path)
    assert result.issues == [] and result.warnings == []
    assert _variants(result) == expected
    _check_both_ways(path)


@pytest.mark.parametrize(("code", "shown"), [
    ("00000", {0: "00000", 123: "00123", 1234567: "1234567"}),
    ("0000000000000", {12345678905: "0012345678905"}),
    ('"0"0000', {123: "00123", 12345: "012345"}),
    ("\\0\\00000", {7: "000007", 123456: "00123456"}),
    ("0\\00", {5: "005", 123: "1203"}),
    ("[Red]00000", {1: "00001"}),
    ("[$-409]000000", {90230: "090230"}),
    ("000000;-000000", {90230: "090230", -5: None}),
    ('00000;-00000;"-"', {0: None, 7: "00007"}),
    ("000000;@", {90230: "090230"}),
])
def test_padding_formats(code: str, shown: dict) -> None:
    from connector.sources.spreadsheet.formats import padding_format

    fmt = padding_format(code)
    assert fmt is not None
    assert {n: fmt.render(n) for n in shown} == shown


@pytest.mark.parametrize("code", ["0", "General", "#,##0", "0.00", "00.0", "00000-0000", "[>100]00000",
                                  "[$€-40C]00000", '"N°"0000', "@", "0%", "00E+00", "mm/dd/yy", "#####", "?0000"])
def test_other_formats_pad_nothing(code: str) -> None:
    from connector.sources.spreadsheet.formats import padding_format

    assert padding_format(code) is None


def test_the_block_search_finds_what_the_tag_walk_finds() -> None:
    """Whatever the blocks the sheet XML arrives in (a tag or a hit cut anywhere), the search finds the cells the
    tag walk finds, rows' own styles and other styles left out."""
    from connector.sources.spreadsheet.formats import StyledCells, padding_format
    from connector.sources.spreadsheet.guard import _placed_cells

    rnd = random.Random(3)
    styles = {3: padding_format("00000"), 12: padding_format("0000000000000")}
    rows = []
    for r in range(1, 400):
        cells = []
        for c in "ABCDEFGHIJ":
            s = rnd.choice([None, 1, 3, 12, 13, 31])
            attr = f' s="{s}"' if s is not None else ""
            cells.append(f'<c r="{c}{r}"{attr}><v>{rnd.randrange(10 ** 6)}</v></c>')
        row_style = ' s="3" customFormat="1"' if r % 17 == 0 else ""
        rows.append(f'<row r="{r}"{row_style}>{"".join(cells)}</row>')
    xml = ('<?xml version="1.0"?><worksheet><sheetData>' + "".join(rows) + "</sheetData></worksheet>").encode()
    expected: dict[int, list[bytes]] = {3: [], 12: []}
    for r, col, attrs in _placed_cells([xml]):  # every tag, as the reader places cells without references
        style = re.search(rb' s="([0-9]+)"', attrs)
        if style is not None and int(style.group(1)) in expected:
            expected[int(style.group(1))].append(f"{'ABCDEFGHIJ'[col - 1]}{r}".encode())
    for _ in range(30):
        cuts = sorted(rnd.sample(range(1, len(xml)), rnd.randrange(1, 40)))
        finder = StyledCells(styles)
        for a, b in zip([0, *cuts], [*cuts, len(xml)], strict=True):
            finder.feed(xml[a:b])
        got = finder.finish()
        assert got is not None and not finder.unplaced
        assert {s: sorted(refs.split()) for s, (_, refs) in got.by_style.items()} == \
               {s: sorted(refs) for s, refs in expected.items()}
