"""Hostile files end with a clear error (exit 2) within bounded time and memory, never an abort (issue 12.5).

The files are read in a subprocess: a Rust reader that aborts would otherwise take pytest down with it.  Time
and memory are measured by hand with ``python -m tests.hostile_files DIR`` (never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from connector.errors import SourceError
from connector.sources.spreadsheet import guard, read_spreadsheet, reader
from tests import hostile_files as hf
from tests.workbooks import write_workbook

# file -> words the error must contain
EXPECTED = {
    "far_corner": "reaches row 1,048,576",
    "far_corner_strict": "reaches row 1,048,576",
    "far_corner_other_case": "reaches row 1,048,576",
    "far_corner_mixed_prefix": "reaches row 1,048,576",
    "last_row": "reaches row 1,048,576",
    "hidden_far_cell": "reaches cell XFD250000",
    "stock_far_cell": "sheet 'Stock - Main' reaches cell XFD200000",
    "zip_bomb": "inflates to",
    "lying_zip_sizes": "damaged",
    "huge_shared_strings": "compressed 411 to 1",
    "lying_shared_strings_count": "shared-strings table holds",
    "deep_nesting": "compressed",
    "many_sheets": "5,001 sheets",
    "many_cells": "compressed 411 to 1",
    "ods_repeated": "reaches cell XFD1048576",
    "ods_wide_rows": "reaches cell WQJ6001",
    "ods_wide_rows_apostrophes": "reaches cell WQJ6001",
    "csv_long_line": "line 2: a cell holds more than",
    "zip_encrypted_parts": "part '[Content_Types].xml' of the workbook is encrypted",
    "zip_bzip2_parts": "part '[Content_Types].xml' of the workbook is compressed with bzip2",
    "far_cell_single_quotes": "reaches cell XFD250000",
    "far_cell_spaced_equals": "reaches cell XFD250000",
    "far_cell_lower_case": "reaches cell XFD250000",
    "far_cell_mixed_case": "reaches cell XFD250000",
    "far_cell_long_column": "reaches cell XFD2 (2 rows x 16,385 columns",
    "far_row_single_quotes": "reaches row 1,048,576",
    "far_cell_reference_twice": "reaches cell XFD250000",
    "shared_strings_count_apostrophes": "shared-strings table holds 4,294,967,295 texts",
    "shared_strings_count_spaced": "shared-strings table holds 4,294,967,295 texts",
    "shared_strings_count_after_comment": "shared-strings table holds 4,294,967,295 texts",
}
_RUNNER = """
import io, json, sys
from contextlib import redirect_stderr, redirect_stdout
from connector.cli import main
for name, path in json.loads(sys.argv[1]).items():
    buf = io.StringIO()
    with redirect_stderr(buf), redirect_stdout(buf):
        code = main(["validate", path])
    print(json.dumps([name, code, buf.getvalue()]), flush=True)
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    folder = tmp_path_factory.mktemp("hostile")
    files = {name: str(hf.build(name, folder)) for name in EXPECTED}
    proc = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps(files)], capture_output=True, text=True,
                          timeout=600, env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"})
    got = {}
    for line in proc.stdout.splitlines():
        name, code, text = json.loads(line)
        got[name] = (code, " ".join(text.split()))
    missing = [n for n in EXPECTED if n not in got]
    assert not missing, f"the reader died (exit {proc.returncode}) on {missing[0]}: {proc.stderr[-2000:]}"
    return got


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file_is_refused_with_a_clear_message(outcomes: dict[str, tuple[int, str]], name: str) -> None:
    code, text = outcomes[name]
    assert code == 2, text
    assert EXPECTED[name] in text, text
    for internal in ("Traceback", "Error:", "Exception", "CalamineError", "XmlError"):
        assert internal not in text, text


def test_lying_dimension_is_ignored_and_the_sheet_reads(tmp_path: Path) -> None:
    result = read_spreadsheet(hf.lying_dimension(tmp_path / "d.xlsx"))
    assert [v.sku for p in result.products for v in p.variants] == ["A-1"]


def test_a_strict_open_xml_workbook_reads_as_its_transitional_twin(tmp_path: Path) -> None:
    """Excel's "Strict Open XML" format: the same parts in other namespaces (the sheets were not found: "no
    'Products' sheet", and the guard measured nothing on the row reader's path)."""
    plain = write_workbook(tmp_path / "plain.xlsx")
    twin = hf.rewrite_parts(plain, tmp_path / "strict.xlsx", hf.strict)
    with zipfile.ZipFile(twin) as zf:
        assert b"purl.oclc.org" in zf.read("xl/workbook.xml")
        assert reader.sheet_members(zf) == {"Products": "xl/worksheets/sheet1.xml",
                                            "Stock - Warehouse": "xl/worksheets/sheet2.xml",
                                            "Stock - Shop": "xl/worksheets/sheet3.xml"}
    assert read_spreadsheet(twin).products == read_spreadsheet(plain).products
    assert reader.read_raw(twin).products.rows == reader.read_raw(plain).products.rows  # the row reader too


def test_a_sheet_whose_part_is_not_in_the_file_is_named_not_loaded_unmeasured(tmp_path: Path) -> None:
    plain = write_workbook(tmp_path / "plain.xlsx")

    def edit(name: str, data: bytes) -> bytes:
        return data.replace(b"worksheets/sheet1.xml", b"worksheets/gone.xml") if name.endswith(".rels") else data

    broken = hf.rewrite_parts(plain, tmp_path / "broken.xlsx", edit)
    with pytest.raises(SourceError, match=r"sheet 'Products' has no part of its own in the file "
                                          r"\(xl/worksheets/gone.xml\)"):
        reader.guard_sheets(broken, ["Products"], None)
    with pytest.raises(SourceError):
        read_spreadsheet(broken)


def _scan(path: Path) -> guard.SheetScan:
    with zipfile.ZipFile(path) as zf:
        return guard.scan_sheet(path, zf, "xl/worksheets/sheet1.xml", "Products")


def test_scan_measures_the_grid_from_the_cells(tmp_path: Path) -> None:
    rows = hf.HEADER_ROW + b"".join(b'<row r="%d"><c r="B%d"><v>1</v></c></row>' % (r, r) for r in range(2, 250_001))
    scan = _scan(hf.write_xlsx(tmp_path / "long.xlsx", [("Products", hf.sheet_xml(rows, b"A1:A1"))]))
    assert (scan.rows, scan.columns) == (250_000, 3)  # beyond the fast bounds: measured exactly
    wide = hf.HEADER_ROW + b'<row r="2"><c r="BZ2"><v>1</v></c></row>'
    scan = _scan(hf.write_xlsx(tmp_path / "wide.xlsx", [("Products", hf.sheet_xml(wide))]))
    assert scan.cells == 4 and not scan.markers


def test_scan_follows_cells_without_references(tmp_path: Path) -> None:
    row = b'<row r="5000">' + b"<c><v>1</v></c>" * 3000 + b"</row>"
    with pytest.raises(SourceError, match="reaches cell DKJ5000"):
        _scan(hf.write_xlsx(tmp_path / "norefs.xlsx", [("Products", hf.sheet_xml(hf.HEADER_ROW + row))]))


@pytest.mark.parametrize("marker", [b'<c r="A3"><f>1+1</f><v>2</v></c>', b'<c r="A3" t="e"><v>#DIV/0!</v></c>', b""])
def test_bounds_first_then_details_find_what_one_pass_finds(tmp_path: Path, marker: bytes) -> None:
    """(reader.py measures the Products sheet's bounds alone, then its merged ranges and markers while it loads)"""
    rows = hf.HEADER_ROW + b'<row r="2"><c r="A2"><v>1</v></c></row><row r="3">' + marker + b"</row>"
    merges = b'<mergeCells count="2"><mergeCell ref="A5:C6"/><mergeCell ref="B8:B9"/></mergeCells>'
    path = hf.write_xlsx(tmp_path / "m.xlsx", [("Products", hf.sheet_xml(rows).replace(b"</sheetData>",
                                                                                      b"</sheetData>" + merges))])
    whole = _scan(path)
    with zipfile.ZipFile(path) as zf:
        bounds = guard.scan_sheet(path, zf, "xl/worksheets/sheet1.xml", "Products", details=False)
        assert (bounds.markers, bounds.merged) == (False, [])
        guard.scan_details(zf, "xl/worksheets/sheet1.xml", bounds)
    assert bounds == whole
    assert whole.merged == [(4, 0, 5, 2), (7, 1, 8, 1)] and whole.markers == bool(marker)


def test_column_letters() -> None:
    assert [guard.column_letters(n) for n in (1, 26, 27, 702, 703, 16_384)] == ["A", "Z", "AA", "ZZ", "AAA", "XFD"]


def test_cell_count_and_shared_strings_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "MAX_CELLS", 1000)
    with pytest.raises(SourceError, match="more than 1,000 cells"):
        _scan(hf.many_cells(tmp_path / "cells.xlsx", count=200_000))
    monkeypatch.setattr(guard, "MAX_RATIO", 10_000)
    monkeypatch.setattr(guard, "MAX_SHARED_STRINGS", 1000)
    monkeypatch.setattr(guard, "_SST_COUNT_FROM", 1000)
    with pytest.raises(SourceError, match="shared-strings table holds 5,000 texts"):  # its count attribute says 1
        read_spreadsheet(hf.huge_shared_strings(tmp_path / "sst.xlsx", count=5000))


def test_ods_filler_rows_and_cells_as_libreoffice_saves_them_still_read(tmp_path: Path) -> None:
    rows = (b"<table:table-row>" + hf._ods_cell("SKU") + hf._ods_cell("Name") + hf._ods_cell("Price")
            + b'<table:table-cell table:number-columns-repeated="1021"/></table:table-row>'
            + b"<table:table-row>" + hf._ods_cell("A-1") + hf._ods_cell("Tea")
            + b'<table:table-cell office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell>'
            + b'<table:table-cell table:number-columns-repeated="1021"/></table:table-row>'
            + b'<table:table-row table:number-rows-repeated="1048574"><table:table-cell '
            + b'table:number-columns-repeated="1024"/></table:table-row>')
    result = read_spreadsheet(hf.write_ods(tmp_path / "lo.ods", rows))
    assert [v.sku for p in result.products for v in p.variants] == ["A-1"] and result.issues == []


def _inline_row(r: int, sku: bytes, name: bytes, price: bytes, prefix: bytes = b"") -> bytes:
    cell = b'<%sc r="%s%d" t="inlineStr"><%sis><%st>%s</%st></%sis></%sc>'
    return (b'<%srow r="%d">' % (prefix, r)
            + b"".join(cell % (prefix, col, r, prefix, prefix, v, prefix, prefix, prefix) for col, v in
                       ((b"A", sku), (b"B", name))) + b'<%sc r="C%d"><%sv>%s</%sv></%sc></%srow>'
            % (prefix, r, prefix, price, prefix, prefix, prefix))


@pytest.mark.parametrize("stock", [False, True], ids=["products", "stock"])
def test_a_row_written_twice_is_refused_not_merged(tmp_path: Path, stock: bool) -> None:
    """A sheet XML holding ``<row r="2">`` twice (a file damaged, or a program's bug): both readers merged the two
    rows into one, the second's cells over the first's, so SKU A-1 vanished from the source without a word (it
    would then be taken for deleted) and B-9 took A-1's other cells."""
    rows = (hf.HEADER_ROW + _inline_row(2, b"A-1", b"Soap", b"12") + _inline_row(3, b"A-2", b"Tea", b"8")
            + _inline_row(2, b"B-9", b"Other", b"99"))
    sheets = [("Products", hf.sheet_xml(rows))]
    if stock:
        sheets = [("Products", hf.sheet_xml(hf.HEADER_ROW + hf.DATA_ROW)),
                  ("Stock - Main", hf.sheet_xml(rows.replace(b">Name<", b">Quantity<")))]
    path = hf.write_xlsx(tmp_path / "twice.xlsx", sheets)
    name = "Stock - Main" if stock else "Products"
    for columnar in (True, False):
        with pytest.raises(SourceError, match=f"sheet '{name}' holds row 2 twice"):
            reader.read_raw(path, columnar=columnar).stock  # noqa: B018 (the stock sheets' error)


def test_rows_out_of_order_and_prefixed_rows_still_read(tmp_path: Path) -> None:
    """Rows are placed by their reference, in any order; a prefixed row written twice is found too."""
    rows = hf.HEADER_ROW + _inline_row(3, b"A-2", b"Tea", b"8") + _inline_row(2, b"A-1", b"Soap", b"12")
    path = hf.write_xlsx(tmp_path / "order.xlsx", [("Products", hf.sheet_xml(rows))])
    assert [p.key for p in read_spreadsheet(path).products] == ["A-1", "A-2"]
    prefixed = rows.replace(b"<", b"<x:").replace(b"<x:/", b"</x:") + _inline_row(4, b"A-3", b"Cup", b"1", b"x:")
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/'
           b'spreadsheetml/2006/main"><x:sheetData>' + prefixed + b"</x:sheetData></x:worksheet>")
    path = hf.write_xlsx(tmp_path / "prefixed.xlsx", [("Products", xml)])
    assert [p.key for p in read_spreadsheet(path).products] == ["A-1", "A-2", "A-3"]
    twice = xml.replace(b"</x:sheetData>", _inline_row(4, b"A-4", b"Pen", b"2", b"x:") + b"</x:sheetData>")
    with pytest.raises(SourceError, match="sheet 'Products' holds row 4 twice"):
        read_spreadsheet(hf.write_xlsx(tmp_path / "prefixed-twice.xlsx", [("Products", twice)]))


def test_row_numbers_are_found_whatever_the_blocks(tmp_path: Path) -> None:
    """A row tag cut by a block's end is read whole with the next block, never twice (which would look like a row
    written twice) nor never."""
    import random

    rows = hf.HEADER_ROW + b"".join(_inline_row(r, b"S%d" % r, b'Name "x" <r>', b"1") for r in range(2, 60))
    rows = rows.replace(b'<row r="7">', b'<row spans="1:3" r="7" ht="15">').replace(b'<row r="9">', b'<x:row r="9">')
    rng = random.Random(7)
    for twice in (None, 23):
        xml = rows + (_inline_row(twice, b"again", b"x", b"1") if twice else b"")
        for _ in range(50):
            numbers = guard.RowNumbers()
            pos = 0
            while pos < len(xml):
                step = rng.randint(1, 40)
                numbers.feed(xml[pos:pos + step])
                pos += step
            assert numbers.repeated() == twice


_SHARED_HEADER = (b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
                  b"</row>")


@pytest.mark.parametrize("sheet, shared, words", [
    (b"", None, "cannot read sheet 'Products' (its XML is empty or cut short before the end of <worksheet>: the "
                "file is damaged"),
    (hf.sheet_xml(hf.HEADER_ROW + hf.DATA_ROW)[:-30], None, "cut short before the end of <sheetData>"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
     + hf.sheet_xml(hf.HEADER_ROW + hf.DATA_ROW.replace(b"Soap", b"&e;"))[21:], None,
     "its XML uses an entity of its own (&e;), which no spreadsheet program writes"),
    (hf.sheet_xml(_SHARED_HEADER), b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si>'
     b"<t>SKU</t></si></sst>", "a cell refers to a shared text the file does not hold"),
], ids=["empty-sheet", "cut-short", "entity", "no-shared-strings"])
def test_a_damaged_sheet_is_named_in_plain_words(tmp_path: Path, sheet: bytes, shared: bytes | None,
                                                 words: str) -> None:
    """calamine's own words were a bare element name: "cannot read sheet 'Products' (worksheet)"."""
    path = hf.write_xlsx(tmp_path / "d.xlsx", [("Products", sheet)], shared_strings=shared)
    for columnar in (True, False):
        with pytest.raises(SourceError) as e:
            reader.read_raw(path, columnar=columnar)
        assert words in str(e.value), str(e.value)


def test_a_sheet_calamine_cannot_find_is_named_in_plain_words(tmp_path: Path) -> None:
    """A relationship's target that the guard resolves and calamine does not: calamine said "(Products)"."""
    plain = hf.write_xlsx(tmp_path / "plain.xlsx", [("Products", hf.sheet_xml(hf.HEADER_ROW + hf.DATA_ROW))])

    def edit(name: str, data: bytes) -> bytes:
        return data.replace(b'Target="worksheets/sheet1.xml"', b'Target="../xl/worksheets/sheet1.xml"')

    odd = hf.rewrite_parts(plain, tmp_path / "odd.xlsx", edit)
    with pytest.raises(SourceError, match=r"cannot read sheet 'Products' \(the workbook does not say where this "
                                          r"sheet's part is"):
        read_spreadsheet(odd)


def test_ods_repeat_counts_quoted_otherwise_are_measured(tmp_path: Path) -> None:
    """The guard itself (the subprocess test above would load 9.5 GB on the code before the fix)."""
    path = hf.ods_wide_rows_apostrophes(tmp_path / "w.ods")
    with zipfile.ZipFile(path) as zf, pytest.raises(SourceError, match="sheet 'Products' reaches cell WQJ6001"):
        guard.check_ods(path, zf)


@pytest.mark.parametrize("value", [b"-1", b"1.5", b" 1 ", b"99999999999999999999"])
@pytest.mark.parametrize("stock", [False, True], ids=["products", "stock"])
def test_a_shared_text_cell_whose_index_is_not_a_number_is_refused(tmp_path: Path, value: bytes, stock: bool) -> None:
    """calamine read such a cell as the table's first text: the header "SKU" became the product's SKU and the
    product typed there vanished without a word."""
    shared = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>SKU</t></si><si><t>'
              b"A-1</t></si></sst>")
    rows = (hf.HEADER_ROW + b'<row r="2"><c r="A2" s="0" t="s"><v>' + value + b'</v></c><c r="B2" t="inlineStr">'
            b'<is><t>Soap</t></is></c><c r="C2"><v>12</v></c></row>')
    sheets = [("Products", hf.sheet_xml(rows))]
    if stock:
        sheets = [("Products", hf.sheet_xml(hf.HEADER_ROW + hf.DATA_ROW)),
                  ("Stock - Main", hf.sheet_xml(rows.replace(b">Name<", b">Quantity<")))]
    path = hf.write_xlsx(tmp_path / "s.xlsx", sheets, shared_strings=shared)
    name = "Stock - Main" if stock else "Products"
    for columnar in (True, False):
        with pytest.raises(SourceError, match=f"sheet '{name}', cell A2 refers to shared text '{value.decode()}', "
                                              "which is not a text's number"):
            reader.read_raw(path, columnar=columnar).stock  # noqa: B018 (the stock sheets' error)


def test_shared_text_indexes_cut_by_a_block_are_read_whole() -> None:
    cells = b"".join(b'<c r="A%d" t="s"><v>%d</v></c>' % (r, r % 7) for r in range(1, 400))
    for bad in (None, b"-3"):
        xml = cells + (b'<c r="B9" s="2" t="s"><v>' + bad + b"</v></c>" if bad else b"") + cells
        for step in (1, 7, 33, 100):
            indexes = guard.BadTypedValues()
            for pos in range(0, len(xml), step):
                indexes.feed(xml[pos:pos + step])
            indexes.feed(b"")
            assert (indexes.found[1] if indexes.found else None) == bad, step


def _active_cell(value: bytes) -> Path:
    rows = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Name</t>'
            b'</is></c><c r="C1" t="inlineStr"><is><t>Price</t></is></c><c r="D1" t="inlineStr"><is><t>Active</t>'
            b'</is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>A-1</t></is></c><c r="B2" t="inlineStr"><is>'
            b'<t>Soap</t></is></c><c r="C2"><v>5</v></c><c r="D2" t="b"><v>' + value + b"</v></c></row>")
    return hf.sheet_xml(rows)


@pytest.mark.parametrize("value", [b"2", b"-1", b"1.0", b"false", b"FALSE", b"true", b" 1"])
def test_a_true_false_cell_holding_another_value_is_refused_both_ways(tmp_path: Path, value: bytes) -> None:
    """fastexcel read Active '2' and 'false' as Yes (the product put on sale) while the row reader refused '2'
    and read 'false' as No."""
    path = hf.write_xlsx(tmp_path / "b.xlsx", [("Products", _active_cell(value))])
    for columnar in (True, False):
        with pytest.raises(SourceError, match=f"sheet 'Products', cell D2 holds '{value.decode()}' as a TRUE/FALSE "
                                              "value, which Excel writes 1 or 0"):
            reader.read_raw(path, columnar=columnar)


@pytest.mark.parametrize("value, active", [(b"1", True), (b"0", False)])
def test_true_false_cells_read_the_same_both_ways(tmp_path: Path, value: bytes, active: bool) -> None:
    from tests.fast_paths import both, same

    fast, slow, used = both(hf.write_xlsx(tmp_path / "b.xlsx", [("Products", _active_cell(value))]))
    same(fast, slow)
    assert used and fast.products[0].active is active
