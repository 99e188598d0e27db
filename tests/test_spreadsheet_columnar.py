"""The Arrow CSV fast path (columnar.py) gives exactly what the csv module gives, or steps aside."""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal

import pytest

from bench.spreadsheet_data import generate
from connector.errors import SourceError
from connector.sources.spreadsheet import columnar, read_spreadsheet
from connector.sources.spreadsheet.columnar import PY_WHITESPACE, head_rows
from connector.sources.spreadsheet.reader import _dialect, read_raw
from tests.fast_paths import both, same


def test_generated_catalogue_same_records_both_ways(tmp_path, monkeypatch):
    path = tmp_path / "c.csv"
    generate(path, 400, "csv")
    fast, slow, used = both(path)
    assert used and len(fast.products) > 200
    same(fast, slow)
    calls = []
    real = columnar.read_table
    monkeypatch.setattr(columnar, "read_table", lambda *a: calls.append(a) or real(*a))
    same(read_spreadsheet(path), fast)
    assert len(calls) == 1  # read_spreadsheet takes the Arrow path


def test_whitespace_set_is_what_str_strip_removes():
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == PY_WHITESPACE
    assert all((f"{c}x{c}").strip() == "x" for c in PY_WHITESPACE)


def test_cells_stripped_exactly_like_str_strip(tmp_path):
    path = tmp_path / "c.csv"
    pad = PY_WHITESPACE.replace("\n", "").replace("\r", "")
    path.write_text(f"SKU,Name,Brand,Price\n{pad}A-1{pad},\u200b Tea\xa0,{pad},3\nB,  ,x\u2009,4\n", encoding="utf-8")
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    (a,) = fast.products
    assert (a.key, a.name, a.brand) == ("A-1", "\u200b Tea", None)  # a zero-width space is not whitespace
    (issue,) = fast.issues
    assert (issue.sku, issue.column, issue.reason) == ("B", "Name", "missing required value")


def test_blank_lines_keep_row_numbers(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("SKU,Name,Price\nA,a,1\n\n,,\nB,b,x\n\n\n", encoding="utf-8")
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    (issue,) = fast.issues
    assert (issue.row, issue.column, issue.value) == (5, "Price", "x")


def test_column_beyond_the_hint_is_never_typed(tmp_path):
    """Every record spans two lines, so no line shows all the separators of a record: the last column escapes
    the declared ones.  Under an empty header Arrow would type it as a number: the table is refused; under a
    text header it stays text and is read right."""
    path = tmp_path / "c.csv"
    path.write_text('SKU,"Name\nfr",\n' + "".join(f'S{i},"n\n{i}",{i}\n' for i in range(30)), encoding="utf-8")
    fast, slow, used = both(path)
    assert not used
    same(fast, slow)
    path.write_text('SKU,"Name\nfr",Price\n' + "".join(f'S{i},"n\n{i}",x{i}\n' for i in range(30)),
                    encoding="utf-8")
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    assert len(fast.issues) == 30 and (fast.issues[1].row, fast.issues[1].value) == (3, "x1")


def test_many_trailing_blank_rows_are_not_data(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("SKU,Name,Price\nA,a,1\n,,\nB,b,2\n" + ",,\n" * 5000, encoding="utf-8")
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    assert [p.key for p in fast.products] == ["A", "B"] and [r.ref.row for r in fast.rows] == [2, 4]


@pytest.mark.parametrize("text", [
    "SKU,Name,Price\nA,a,1\nB,b\n",  # a short row
    "SKU,Name,Price\nA,a,1,extra\n",  # a long row
    'SKU,Name,Price\nA, "a,b",1\n',  # a quote after a space: the csv module reads it literally
    "My catalogue\nSKU,Name,Price\nA,a,1\n",  # a title line above the header
])
def test_irregular_files_fall_back_to_the_csv_module(tmp_path, text):
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    fast, slow, used = both(path)
    assert not used
    same(fast, slow)


def test_cp1252_is_re_encoded_for_arrow(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("SKU;Nom;Prix\nA;Thé;12,5\n".encode("cp1252"))
    fast, slow, used = both(path)
    assert used and read_raw(path, columnar=True).encoding == "cp1252"
    same(fast, slow)
    assert fast.products[0].name == "Thé" and fast.products[0].variants[0].price.amount == Decimal("12.5")


def test_invalid_utf8_after_the_head(tmp_path):
    """The head looks like UTF-8, Arrow finds out later: the whole file is decoded as cp1252 instead."""
    path = tmp_path / "c.csv"
    body = "".join(f"S{i},n{i},1\n" for i in range(9000)).encode()  # past the 64 KiB head
    path.write_bytes(b"SKU,Name,Price\n" + body + "Z,Thé,2\n".encode("cp1252"))
    fast, slow, used = both(path)
    assert used and read_raw(path).encoding == "cp1252"
    same(fast, slow)
    assert fast.products[-1].name == "Thé" and len(fast.products) == 9001


def test_utf16_goes_through_arrow_too(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("SKU\tName\tPrice\nA\tملح\t3\n".encode("utf-16"))
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    assert fast.products[0].name == "ملح"


def test_sep_line_bom_and_quoted_newlines(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbfsep=;\r\nSKU;Name;Description;Price\r\nA;a;\"l1\r\nl2; \"\"q\"\"\";\"1,5\"\r\n")
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    (p,) = fast.products
    assert p.description == 'l1\r\nl2; "q"' and p.ref.row == 2


_CELLS = ["a", "", " ", "\t", "b c", '"', '""', '"x"', "x,y", "x;y", "\n", "\r\n", "\r", "é", "\xa0", "1,5", '"a"b']


def _fuzz_text(rnd: random.Random) -> str:
    """A small CSV, sometimes well formed (quoted as Excel would), sometimes written carelessly."""
    width = rnd.randint(1, 3)
    lines = []
    for _ in range(rnd.randint(1, 4)):
        cells = [rnd.choice(_CELLS) for _ in range(width + (rnd.random() < 0.1))]
        if rnd.random() < 0.5:
            cells = ['"' + c.replace('"', '""') + '"' if any(x in c for x in ',"\r\n') else c for c in cells]
        lines.append(",".join(cells))
    return rnd.choice(["\n", "\r\n"]).join(lines) + rnd.choice(["", "\n", "\r\n", "\n\n"])


def _blank_as_empty(rows: list[list]) -> list[list]:
    """Blank rows as [] and trailing blank rows dropped (the builder reads them all so)."""
    out = [r if any(r) else [] for r in rows]
    while out and not out[-1]:
        out.pop()
    return out


def _csv_module(text: str, delimiter: str) -> list[list]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _swallows_lines(text: str, delimiter: str) -> bool:
    """Whether the csv module ends ``text`` inside a quoted field that holds a line break (a quote never closed
    that takes the lines below it), by its states one character at a time."""
    state, broken = "start", False
    for ch in text:
        if state == "quoted":
            state = "quote" if ch == '"' else "quoted"
            broken = broken or ch in "\r\n"
        elif state == "quote" and ch == '"':
            state = "quoted"
        elif ch == delimiter or ch in "\r\n":
            state, broken = "start", False
        elif state == "start" and ch == '"':
            state = "quoted"
        else:
            state = "plain"
    return state == "quoted" and broken


def test_differential_against_the_csv_module(tmp_path):
    """Wherever Arrow accepts a text, its cells are the csv module's (blank rows compared as blank); the
    line-by-line fallback reader agrees with the csv module's stream reading on every text, except a text ending
    in a quote never closed, which both refuse."""
    rnd = random.Random(int(__import__("os").environ.get("SEED", "20261123")))
    path = tmp_path / "f.csv"
    compared = refused = 0
    for _ in range(4000):
        text = _fuzz_text(rnd)
        path.write_bytes(text.encode())
        try:
            slow = read_raw(path)
        except SourceError as e:
            if "the file is empty" in str(e):  # (blank: no cell to compare; both readers refuse it)
                assert not text.strip(), repr(text)
                with pytest.raises(SourceError, match="the file is empty"):
                    read_raw(path, columnar=True)
                continue
            if "looks cut short" in str(e):  # (a last line without its line break, short or in a quote: csv_cut.py)
                assert not text.endswith(("\n", "\r")), repr(text)
                with pytest.raises(SourceError, match="looks cut short"):
                    read_raw(path, columnar=True)
                refused += 1
                continue
            delimiter = _dialect(text.encode().splitlines(keepends=True), ".csv")[0]  # type: ignore[index]
            assert "never closed" in str(e) and _swallows_lines(text, delimiter), repr(text)
            with pytest.raises(SourceError, match="never closed"):
                read_raw(path, columnar=True)
            refused += 1
            continue
        assert not _swallows_lines(text, slow.delimiter), repr(text)
        expected = _blank_as_empty(_csv_module(text, slow.delimiter))
        assert _blank_as_empty(slow.products.rows) == expected, repr(text)
        table = read_raw(path, columnar=True).products.table
        if table is None:
            continue
        compared += 1
        assert _blank_as_empty(head_rows(table, table.num_rows)) == expected, repr(text)
    assert compared > 300 and refused > 20  # the fast path and the refusal were really exercised


def test_a_cell_longer_than_the_csv_module_reads_is_refused_both_ways(tmp_path):
    """A 140,000-character cell (no spreadsheet holds more than 32,767 in a cell): the csv module refuses it, and
    Arrow read it, so validate accepted a file that the row reader refuses."""
    import csv as csv_module

    path = tmp_path / "f.csv"
    limit = csv_module.field_size_limit()
    path.write_bytes(b"SKU,Name,Price\nA-1,Soap,5\nA-2," + "é".encode() * (limit + 1) + b",6\n")
    for columnar_path in (True, False):
        with pytest.raises(SourceError, match="line 3: a cell holds more than 131,072 characters"):
            read_raw(path, columnar=columnar_path)
    path.write_bytes(b"SKU,Name,Price\nA-1,Soap,5\nA-2," + "é".encode() * limit + b",6\n")  # at the limit: read
    fast, slow, used = both(path)
    assert used and len(fast.products[1].name) == limit
    same(fast, slow)
