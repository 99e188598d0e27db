"""CSV input: encodings, separators, decimal comma, inline stock."""

from __future__ import annotations

import codecs
from decimal import Decimal

import pytest

from connector.errors import SourceError
from connector.model import ABSENT
from connector.sources.spreadsheet import read_spreadsheet
from connector.sources.spreadsheet.reader import read_raw


def test_utf8_bom_comma(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(codecs.BOM_UTF8 + "SKU,Name,Price,Barcode\nA-1,Café noir,12.50,0012345678905\n".encode())
    result = read_spreadsheet(path)
    assert result.issues == [] and result.warnings == []
    (p,) = result.products
    assert p.name == "Café noir"  # the BOM is not part of the first header either
    assert p.variants[0].price.amount == Decimal("12.50")
    assert p.variants[0].barcode == "0012345678905"
    assert read_raw(path).encoding == "utf-8-sig"


def test_cp1252_semicolon_decimal_comma(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("SKU;Nom;Prix;Poids (kg);Stock : Entrepôt\nA;Thé glacé;12,50;1 234,5;7\n".encode("cp1252"))
    raw = read_raw(path)
    assert (raw.encoding, raw.delimiter) == ("cp1252", ";")
    result = read_spreadsheet(path)
    assert result.issues == []
    v = result.products[0].variants[0]
    assert result.products[0].name == "Thé glacé"
    assert v.price.amount == Decimal("12.50")
    assert v.weight == Decimal("1234.5")
    assert v.stock["Entrepôt"].available == 7 and v.stock_known


def test_tab_separated_txt_and_tsv(tmp_path):
    for name in ("c.txt", "c.tsv"):
        path = tmp_path / name
        path.write_text("SKU\tName\tPrice\nA\tx, y\t3\n", encoding="utf-8")
        result = read_spreadsheet(path)
        assert result.products[0].name == "x, y"
        assert read_raw(path).delimiter == "\t"


def test_excel_sep_line_and_quoted_newlines(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('sep=;\nSKU;Name;Description;Price\nA;a;"line 1\nline 2; still";"1,5"\n', encoding="utf-8")
    result = read_spreadsheet(path)
    assert result.products[0].description == "line 1\nline 2; still"
    assert result.products[0].variants[0].price.amount == Decimal("1.5")
    assert result.products[0].ref.row == 2


def test_utf16_with_bom(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes("SKU\tName\tPrice\nA\tشاي\t5\n".encode("utf-16"))
    result = read_spreadsheet(path)
    assert result.products[0].name == "شاي"


def test_csv_issues_and_ragged_rows(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("SKU,Name,Price,Stock: Main\nA,a,abc\nB,b,2,-1\nC,c,3,4,extra\n", encoding="utf-8")
    result = read_spreadsheet(path)
    assert [(i.sheet, i.row, i.column, i.value, i.reason) for i in result.issues] == [
        ("Products", 2, "Price", "abc", "text in a number column"),
        ("Products", 3, "Stock: Main", "-1", "negative stock"),
    ]
    assert [p.key for p in result.products] == ["C"]
    assert [r.skipped_reason is None for r in result.rows] == [False, False, True]


def test_csv_absent_columns(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("SKU,Price\nA,1\n", encoding="utf-8")
    v = read_spreadsheet(path).products[0].variants[0]
    assert v.barcode is ABSENT and v.stock_known is False


def test_binary_file_with_csv_suffix(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(SourceError, match="not a text"):
        read_spreadsheet(path)


def test_empty_csv(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(SourceError, match=r"c.csv: the file is empty \(0 bytes\)"):
        read_spreadsheet(path)
    path.write_bytes(b"\xef\xbb\xbf \r\n\r\n")  # (a BOM and blank lines: nothing either)
    with pytest.raises(SourceError, match=r"c.csv: the file is empty \(blank\)"):
        read_spreadsheet(path)
    path.write_bytes(b" " * 70_000 + b"\r\nSKU,Name\r\n")  # (blank past the head read first: not said empty)
    assert read_spreadsheet(path).products == []


@pytest.mark.parametrize("tail", [b"\x00", b"\x00\xd8A\x00"], ids=["cut-mid-character", "lone-surrogate"])
def test_damaged_utf16_names_the_line(tmp_path, tail):
    """A UTF-16 export cut short (an odd number of bytes) or holding half a surrogate pair: the decoder's
    UnicodeDecodeError came out of validate as a traceback."""
    path = tmp_path / "c.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "SKU;Name;Price\r\nA-1;Soap;5\r\nA-2;Tea;".encode("utf-16-le") + tail)
    for columnar in (True, False):
        with pytest.raises(SourceError) as e:
            read_raw(path, columnar=columnar)
        assert str(e.value).startswith("c.csv: line 3 is not valid UTF-16"), str(e.value)


@pytest.mark.parametrize("text, line", [
    ('SKU,Name,Price\r\nA-1,"Soap,5\r\nA-2,Tea,6\r\nA-3,Cup,7\r\n', 2),  # Arrow steps aside (ragged)
    ('SKU;Name\nA-1;Soap\nA-2;"Tea\nA-3;Cup\n', 3),  # Arrow read this one as two rows
    ('SKU,Name\nA-1,"Soap ""big"" one\n', 2),
    ('SKU,Name\nA-1,"Soap\nA-2,Tea\n'.replace("\n", "\r"), 2),
], ids=["comma", "semicolon", "last-line", "cr-only"])
def test_a_quote_never_closed_is_refused_not_read_as_one_cell(tmp_path, text, line):
    """The rest of the file after an open quote was one cell: the products below it vanished from the source
    without a word (and would be taken for deleted)."""
    path = tmp_path / "c.csv"
    path.write_bytes(text.encode())
    for columnar in (True, False):
        with pytest.raises(SourceError) as e:
            read_raw(path, columnar=columnar)
        assert f"line {line}: a quote (\") opened on this line is never closed" in str(e.value), str(e.value)


def test_a_closed_multi_line_cell_at_the_end_still_reads(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b'SKU,Name,Description\r\nA-1,Soap,"one\r\ntwo"\r\nA-2,"Tea ""x""","a\nb\n"')
    result = read_spreadsheet(path)
    assert [(p.key, p.description) for p in result.products] == [("A-1", "one\r\ntwo"), ("A-2", "a\nb")]


def test_a_mixed_encoding_file_with_a_quote_never_closed_is_refused(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("SKU;Name\nA-1;Thé\nA-2;\"Caf".encode() + "é\nA-3;x\n".encode("cp1252"))
    with pytest.raises(SourceError, match="line 3: a quote"):
        read_raw(path)


_DOS_ENDINGS = {"own-line": "\x1a\r\n", "own-line-lf": "\x1a\n", "no-line-break": "\x1a", "marks": "\x1a\x1a\x1a"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
@pytest.mark.parametrize("ending", list(_DOS_ENDINGS.values()), ids=list(_DOS_ENDINGS))
def test_a_dos_end_of_file_mark_is_the_end_of_the_file(tmp_path, encoding, ending):
    """Old Windows programs end a text file with Ctrl-Z (``\\x1a``), on a line of its own or right after the last
    line break: it was read as a row whose SKU held an invisible character, skipped, and every run exited 1."""
    path = tmp_path / "c.csv"
    path.write_bytes(f"SKU;Name;Price\r\nA-1;Café;5\r\nA-2;Tea;6\r\n{ending}".encode(encoding))
    for columnar in (True, False):
        raw = read_raw(path, columnar=columnar)
        rows = raw.products.rows if raw.products.table is None else [
            list(r) for r in zip(*(c.to_pylist() for c in raw.products.table.columns), strict=True)]
        assert [r for r in rows if any(r)][-1] == ["A-2", "Tea", "6"], (columnar, rows)
        assert not any("\x1a" in c for r in rows for c in r)
    result = read_spreadsheet(path)
    assert result.issues == []
    assert [p.key for p in result.products] == ["A-1", "A-2"]


def test_a_dos_end_of_file_mark_after_the_last_cell_of_a_long_file(tmp_path):
    """The mark after a last line without a line break, in a file longer than the head read to find its dialect."""
    path = tmp_path / "c.csv"
    body = "".join(f"A-{i},Soap {i},{i}.50\r\n" for i in range(8000))
    path.write_bytes(f"SKU,Name,Price\r\n{body}B-1,Tea,6\x1a".encode())
    assert path.stat().st_size > 1 << 16
    result = read_spreadsheet(path)
    assert result.issues == []
    assert len(result.products) == 8001 and result.products[-1].key == "B-1"
    assert result.products[-1].variants[0].price.amount == Decimal("6")


@pytest.mark.parametrize("text, row", [
    ("SKU,Name,Price\nA-1,Soap,5\n\x1a\nA-2,Tea,6\n", 3),  # a line of its own, not the last
    ("SKU,Name,Price\nA-1,Soap,5\n\x1aA-2,Tea,6\n", 3),  # before the last line's text
])
def test_a_ctrl_z_elsewhere_is_still_reported(tmp_path, text, row):
    path = tmp_path / "c.csv"
    path.write_bytes(text.encode())
    result = read_spreadsheet(path)
    assert [(i.row, i.column) for i in result.issues if "U+001A" in i.reason] == [(row, "SKU")]
    assert "A-1" in [p.key for p in result.products]


@pytest.mark.parametrize("body", ["", "\n\n", ";;\n", "\n;\n"])
def test_a_file_without_product_rows_says_so(tmp_path, body):
    """A catalogue emptied or cut by mistake (only its headers left) is read without error, but not in silence:
    a run that has nothing to send says why."""
    p = tmp_path / "shop.csv"
    p.write_text("SKU;Name;Price\n" + body, encoding="utf-8")
    result = read_spreadsheet(p)
    assert result.products == [] and result.issues == []
    assert result.warnings == ["sheet 'Products' holds no product rows (only headers, blank or example rows): nothing "
                               "is read from this file"]


def test_a_file_whose_rows_are_all_refused_has_no_such_warning(tmp_path):
    p = tmp_path / "shop.csv"
    p.write_text("SKU;Name;Price\nA-1;Mug;abc\n", encoding="utf-8")
    result = read_spreadsheet(p)
    assert result.products == [] and result.issues
    assert not any("no product rows" in w for w in result.warnings)
