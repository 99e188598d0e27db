"""OpenDocument (.ods) files as LibreOffice saves them: a cell whose formula gave an error (``#DIV/0!``, ``#N/A``,
``#VALUE!``, ``Err:502``) and merged cells are read as the .xlsx path reads the same things.  calamine reads an
error cell as empty (a required column then said "missing", an optional one was sent as empty: a description or
barcode cleared on the marketplace) and gives no merged ranges of an .ods (the covered cells read as empty)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import openpyxl
import pytest

from connector.sources.spreadsheet import read_spreadsheet
from tests.test_spreadsheet_read import write_xlsx

_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
       'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
       'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
       'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" '
       'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.3"')
_MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
             'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
             '<manifest:file-entry manifest:full-path="/" '
             'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
             '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
             "</manifest:manifest>")


def text(value: str, attrs: str = "") -> str:
    return f'<table:table-cell office:value-type="string" calcext:value-type="string"{attrs}><text:p>{escape(value)}' \
           "</text:p></table:table-cell>"


def number(value: float, attrs: str = "") -> str:
    return (f'<table:table-cell office:value-type="float" office:value="{value}" calcext:value-type="float"{attrs}>'
            f"<text:p>{value}</text:p></table:table-cell>")


def error(formula: str, shown: str, attrs: str = "") -> str:
    """A formula cell whose result is an error, as LibreOffice (4.x to 25.x) writes it."""
    return (f'<table:table-cell table:formula={quoteattr(formula)} office:value-type="string" office:string-value="" '
            f'calcext:value-type="error"{attrs}><text:p>{escape(shown)}</text:p></table:table-cell>')


def empty(attrs: str = "") -> str:
    return f"<table:table-cell{attrs}/>"


def covered(attrs: str = "") -> str:
    return f"<table:covered-table-cell{attrs}/>"


def row(*cells: str, attrs: str = "") -> str:
    return f"<table:table-row{attrs}>{''.join(cells)}</table:table-row>"


def write_ods(path: Path, sheets: dict[str, list[str]]) -> Path:
    """A minimal .ods (a zip with content.xml) with the given tables, each a list of ``row(...)`` texts."""
    tables = "".join(f'<table:table table:name={quoteattr(name)}><table:table-column table:number-columns-repeated='
                     f'"6"/>{"".join(rows)}</table:table>' for name, rows in sheets.items())
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS}><office:body>'
               f"<office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", _MANIFEST)
        zf.writestr("content.xml", content)
    return path


def issues(result) -> list[tuple]:
    return [(i.sheet, i.row, i.column, i.value, i.reason) for i in result.issues]


HEADER = row(text("SKU"), text("Name"), text("Price"), text("Barcode"), text("Description"))


def test_error_cells_are_reported_as_the_xlsx_path_reports_them(tmp_path: Path) -> None:
    ods = write_ods(tmp_path / "e.ods", {"Products": [
        HEADER,
        row(text("A"), text("a"), error("of:=1/0", "#DIV/0!"), text("12345670")),
        row(text("B"), text("b"), number(5), error("of:=NA()", "#N/A")),
        row(text("C"), text("c"), number(6), text("12345670"), error('of:=[.X1]+"a"', "#VALUE!")),
        row(text("D"), text("d"), number(7), text("12345670"), error("of:=SUM([.A1", "Err:502")),
        row(text("E"), text("e"), number(8), text("12345670"), text("kept")),
    ]})
    result = read_spreadsheet(ods)
    assert issues(result) == [
        ("Products", 2, "Price", "#DIV/0!", "error value in the cell (#DIV/0!)"),
        ("Products", 3, "Barcode", "#N/A", "error value in the cell (#N/A)"),
        ("Products", 4, "Description", "#VALUE!", "error value in the cell (#VALUE!)"),
        ("Products", 5, "Description", "Err:502", "error value in the cell (Err:502)"),
    ]
    assert [p.key for p in result.products] == ["E"]  # never sent with an empty barcode or description

    # the same sheet saved as .xlsx reads the same
    xlsx = write_xlsx(tmp_path / "e.xlsx", {"Products": [
        ["SKU", "Name", "Price", "Barcode", "Description"],
        ["A", "a", "#DIV/0!", "12345670"], ["B", "b", 5, "#N/A"], ["C", "c", 6, "12345670", "#VALUE!"],
        ["D", "d", 7, "12345670", "#NULL!"], ["E", "e", 8, "12345670", "kept"]]})
    assert [t[:3] for t in issues(read_spreadsheet(xlsx))] == [t[:3] for t in issues(result)]


def test_error_cells_repeated_and_on_a_stock_sheet_are_placed_where_calamine_places_them(tmp_path: Path) -> None:
    ods = write_ods(tmp_path / "r.ods", {
        "Products": [
            HEADER,
            row(text("A"), text("a"), number(5)),
            row(text("B"), text("b"), error("of:=1/0", "#DIV/0!", ' table:number-columns-repeated="2"'),
                attrs=' table:number-rows-repeated="2"'),  # C3:D4
            row(empty(' table:number-columns-repeated="2"'), number(9)),  # a row without a SKU: row 5
            row(text("F"), covered(), number(9)),
        ],
        "Stock - Main": [row(text("SKU"), text("Quantity")), row(text("A"), error("of:=NA()", "#N/A"))],
    })
    result = read_spreadsheet(ods)
    found = {(sheet, r, c) for sheet, r, c, *_ in issues(result)}
    assert {("Products", 3, "Price"), ("Products", 3, "Barcode"), ("Products", 4, "Price"),
            ("Products", 4, "Barcode"), ("Stock - Main", 2, "Quantity")} <= found
    assert all(i.value in ("#DIV/0!", "#N/A") for i in result.issues if i.reason.startswith("error value"))


def test_a_formula_with_a_value_is_read_as_its_value(tmp_path: Path) -> None:
    ods = write_ods(tmp_path / "f.ods", {"Products": [
        HEADER,
        row(text("A"), text("a"), number(6, ' table:formula="of:=2*3"'), text("12345670"),
            text("#N/A", ' table:formula="of:=&quot;#N/A&quot;"')),  # a text result that looks like an error
    ]})
    result = read_spreadsheet(ods)
    assert result.issues == []
    assert result.products[0].variants[0].price.amount == 6 and result.products[0].description == "#N/A"


def test_a_formula_without_a_value_is_reported(tmp_path: Path) -> None:
    ods = write_ods(tmp_path / "n.ods", {"Products": [
        HEADER, row(text("A"), text("a"), '<table:table-cell table:formula="of:=[.Z1]*2"/>'),
    ]})
    assert issues(read_spreadsheet(ods)) == [
        ("Products", 2, "Price", "=[.Z1]*2",
         "formula without a cached value (open the file in Excel or LibreOffice and save it again)")]


def test_merged_cells_are_reported_as_the_xlsx_path_reports_them(tmp_path: Path) -> None:
    span = ' table:number-columns-spanned="1" table:number-rows-spanned="2"'
    ods = write_ods(tmp_path / "m.ods", {
        "Products": [
            row(text("Catalogue 2026", ' table:number-columns-spanned="5" table:number-rows-spanned="1"'),
                covered(' table:number-columns-repeated="4"')),  # a merged title above the header: not data
            row(text("Parent SKU"), text("SKU"), text("Name"), text("Price"), text("Attribute: Size")),
            row(text("TEE", span), text("TEE-M"), text("Tee"), number(10), text("M")),
            row(covered(), text("TEE-L"), empty(), number(11), text("L")),
            row(empty(), text("SOAP"), text("Soap"), number(3)),
        ],
        "Stock - Main": [
            row(text("SKU"), text("Quantity")),
            row(text("SOAP"), number(4, span)),
            row(empty(), covered()),
        ],
    })
    result = read_spreadsheet(ods)
    expected = [
        ("Products", 3, "Parent SKU", "merged cells A3:A4: unmerge them and type the value in every cell"),
        ("Products", 4, "Parent SKU", "merged cells A3:A4: unmerge them and type the value in every cell"),
        ("Stock - Main", 2, "Quantity", "merged cells B2:B3: unmerge them and type the value in every cell"),
    ]
    assert [(i.sheet, i.row, i.column, i.reason) for i in result.issues] == expected
    assert [p.key for p in result.products] == ["SOAP"]

    # the same sheets saved as .xlsx (tests/test_spreadsheet_rules.py) read the same
    xlsx = tmp_path / "m.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Products"
    for r in (["Catalogue 2026"], ["Parent SKU", "SKU", "Name", "Price", "Attribute: Size"],
              ["TEE", "TEE-M", "Tee", 10, "M"], [None, "TEE-L", None, 11, "L"], [None, "SOAP", "Soap", 3, None]):
        ws.append(r)
    ws.merge_cells("A1:E1")
    ws.merge_cells("A3:A4")
    stock = wb.create_sheet("Stock - Main")
    for r in (["SKU", "Quantity"], ["SOAP", 4], [None, None]):
        stock.append(r)
    stock.merge_cells("B2:B3")
    wb.save(xlsx)
    assert [(i.sheet, i.row, i.column, i.reason) for i in read_spreadsheet(xlsx).issues] == expected


@pytest.mark.parametrize("command", [["validate"], ["sync", "--target", "elebne", "--dry-run"]])
def test_the_commands_name_the_cell_and_exit_1(tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from connector.cli import main

    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_unused")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    ods = write_ods(tmp_path / "c.ods", {"Products": [
        HEADER, row(text("A"), text("a"), number(5), error("of:=NA()", "#N/A")),
        row(text("B"), text("b"), number(6), text("2"))]})
    args = [command[0], *(["--source"] if command[0] == "sync" else []), str(ods), *command[1:]]
    code = main(args)
    out = capsys.readouterr().out
    assert code == 1, out
    assert "#N/A" in out and "error value in the cell" in " ".join(out.split())
    assert "Traceback" not in out
