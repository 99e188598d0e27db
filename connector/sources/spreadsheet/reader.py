"""Raw reading: a workbook (calamine) or a CSV (csv module) into grids of cell values, nothing converted.

- ``.xlsx .xlsm .xlsb .xls .ods`` through python-calamine.  ``read_raw(columnar=True)`` first tries to read an
  xlsx/xlsm Products sheet column by column through fastexcel (xlsx_table.py), which steps aside for anything
  the row reader would read differently; the stock sheets then go through the same fastexcel reader, one by
  one under the same conditions (``_fast_stock``: the shared strings are parsed once, not again by calamine).
  The Products sheet is read on the calling thread while a helper thread measures the sheets (guard.py),
  reads the stock sheets when fastexcel does not (calamine and zlib release the GIL), validates their columns
  (``read_raw(prepare_stock=...)``: that needs nothing from the Products sheet) and scans the sheet XML of
  xlsx/xlsm files for formula cells without a cached value and error cells (``#N/A`` ...), which calamine
  reports as empty strings.  The scan is a plain byte search; cells are only located when ``<f`` or
  ``t="e"`` occurs at all.
- ``.csv .tsv .txt``: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252; separator ``,`` ``;`` or tab
  taken from the header line (or an Excel ``sep=;`` first line).  A cell written behind an apostrophe so
  that it is not evaluated (``'=x``, see inert.py) reads as the text after it.  ``read_raw(columnar=True)`` first tries
  Arrow's parser (columnar.py), which steps aside for anything the csv module would read differently.

Grids always start at cell A1: ``rows[r][c]`` is the cell at 1-based row ``r + 1``, column ``c + 1``.
"""

from __future__ import annotations

import codecs
import csv
import posixpath
import re
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from connector.errors import SourceError
from connector.memory import one_malloc_arena

from . import guard
from .columns import INSTRUCTIONS_SHEET, LISTS_SHEET, is_products_sheet, normalize, stock_sheet_location
from .csv_cut import check_not_cut
from .formats import PaddedCells, PaddingFormat, padding_styles
from .inert import may_hold_escapes, unescape_rows

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
_ZIPPED = frozenset({".xlsx", ".xlsm", ".xlsb", ".ods"})
CSV_SHEET = "Products"  # sheet name used in issues for a CSV file
_HEAD_BYTES = 1 << 16  # the start of a CSV read to check it and find its dialect (the first 21 lines)

FORMULA_NO_VALUE = "formula without a cached value (open the file in Excel or LibreOffice and save it again)"
FORMULA_NOT_CALCULATED = ("formula never calculated: the program that wrote the file left its value to be computed "
                          "when opened (open the file in Excel or LibreOffice and save it again)")
ERROR_VALUE = "error value in the cell ({})"

_IGNORED_SHEETS = frozenset(normalize(n) for n in (*INSTRUCTIONS_SHEET.values(), LISTS_SHEET, "Errors",
                                                   "Erreurs", "الأخطاء"))


@dataclass(slots=True)
class RawSheet:
    name: str
    rows: list[list]
    # (row0, col0) -> (raw value, reason): formula cells without a cached value and error cells
    problems: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    all_str: bool = False  # every cell is a str (CSV): converters skip type checks
    prepared: Any = None  # what ``read_raw(prepare_stock=...)`` computed for a stock sheet on the helper thread
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # merged ranges, 0-based, inclusive
    # ``read_raw(columnar=True)``: an Arrow table of the sheet's rows from ``table_row`` (0-based) down; ``rows``
    # then holds only the rows above it.  A CSV's table has every row as string cells (``table_row`` 0); an
    # xlsx table has typed columns (string, double, int64, bool, null) from sheet row 2, the header in ``rows``.
    table: Any = None
    table_row: int = 0
    # the cells bearing a number format that pads whole numbers with zeros (``00000``: formats.py); xlsx/xlsm only
    padded: PaddedCells | None = None


@dataclass(slots=True)
class RawBook:
    path: Path
    fmt: str  # file suffix without the dot: "xlsx", "csv", ...
    products: RawSheet
    stock_sheets: list[tuple[str, RawSheet]] = field(default_factory=list)  # (location, sheet): see ``stock``
    unused_sheets: list[str] = field(default_factory=list)
    delimiter: str | None = None  # CSV only
    encoding: str | None = None  # CSV only
    # the fast xlsx path: a thread loading the stock sheets while the Products sheet is built (fastexcel
    # releases the GIL as it loads a sheet); ``stock`` joins it
    loading: _StockLoad | None = None

    @property
    def has_stock(self) -> bool:
        """Whether the book has stock sheets, without waiting for them to load."""
        return bool(self.stock_sheets) or self.loading is not None

    @property
    def stock(self) -> list[tuple[str, RawSheet]]:
        """(location, sheet) of the stock sheets, once loaded; the loading thread's error, if any, is raised
        here (at every access)."""
        if self.loading is not None:
            self.stock_sheets = self.loading.result()
            self.loading = None
        return self.stock_sheets


class _StockLoad:
    """``_fast_stock`` on a thread of its own: its result, or its error re-raised, on ``result()``."""

    def __init__(self, load: Callable[[], list[tuple[str, RawSheet]]]) -> None:
        self._out: list[tuple[str, RawSheet]] = []
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._out = load()
            except BaseException as e:  # re-raised by result(), on the calling thread
                self._error = e

        self._thread = threading.Thread(target=run, name="spreadsheet-stock", daemon=True)
        self._thread.start()

    def result(self) -> list[tuple[str, RawSheet]]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._out


def read_raw(path: str | Path, prepare_stock: Callable[[RawSheet, str], Any] | None = None,
             columnar: bool = False, loading: threading.Event | None = None) -> RawBook:
    """Read the Products sheet and the stock sheets of ``path`` as raw grids.  Raises ``SourceError``.

    ``prepare_stock(sheet, location)``, if given, is run on each stock sheet the helper thread reads (calamine,
    while the Products sheet is being parsed); its result is stored in ``RawSheet.prepared`` (it must not
    raise).  The stock sheets fastexcel reads are left unprepared (see ``_fast_stock``).
    ``columnar``: a CSV that Arrow reads exactly like the csv module is returned as ``RawSheet.table``
    (column-major, see columnar.py) instead of ``rows``; the builder takes both.  An xlsx read by fastexcel
    then has its stock sheets still loading on a thread: ``RawBook.stock`` waits for them.  ``loading``, if given,
    is set when a workbook's Products sheet starts to load (its bounds measured: native code from there on)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in WORKBOOK_SUFFIXES and suffix not in CSV_SUFFIXES:
        kinds = ", ".join(sorted(WORKBOOK_SUFFIXES | CSV_SUFFIXES))
        raise SourceError(f"{p.name}: unsupported file type '{suffix or '(none)'}' (use one of {kinds})")
    if not p.exists():
        raise SourceError(f"{p}: file not found")
    if not p.is_file():
        raise SourceError(f"{p}: not a file")
    one_malloc_arena()  # before the threads below (and Arrow's) first allocate: what they free can then be given back
    if suffix in CSV_SUFFIXES:
        return _read_csv(p, suffix, columnar)
    return _read_workbook(p, suffix, prepare_stock, columnar, loading)


# --- CSV ------------------------------------------------------------------------------------------------

# A DOS end-of-file mark (Ctrl-Z) as old Windows programs (and ``copy /a``) end a text file with: one or more
# at the very end, maybe followed by a line break.  Anywhere else it is a character of a cell (and reported).
_DOS_EOF = re.compile(rb"\x1a+(?:\r\n|\n|\r)?\Z")
_DOS_EOF_TEXT = re.compile("\x1a+(?:\r\n|\n|\r)?\\Z")


def dos_eof_length(tail: bytes) -> int:
    """How many bytes at the end of an ASCII-compatible text (UTF-8, Windows-1252...; ``tail``: its last bytes)
    are a DOS end-of-file mark, 0 if none (a UTF-16 file is decoded first: ``without_dos_eof``)."""
    found = _DOS_EOF.search(tail, max(0, len(tail) - 64))
    return len(found.group()) if found else 0


def without_dos_eof(text: str) -> str:
    """``text`` without a DOS end-of-file mark at its end (see ``_DOS_EOF``)."""
    found = _DOS_EOF_TEXT.search(text, max(0, len(text) - 64))
    return text[:found.start()] if found else text


class TextProblem(ValueError):
    """A text file that cannot be decoded as a whole: what is wrong, in the merchant's words, without the file's
    name (each caller says which file and what to do)."""


def decode_text(data: bytes) -> tuple[str, str]:
    """``decode_bytes`` for a file read as one text, without a DOS end-of-file mark; raises ``TextProblem``
    for a damaged UTF-16 file (cut short, half a surrogate pair) and for a UTF-8 file with lines in another
    encoding (taking the whole file for Windows-1252 would garble its UTF-8 texts)."""
    try:
        text, encoding = decode_bytes(data)
    except UnicodeDecodeError as e:  # UTF-16 cut short or damaged, or lines after a UTF-8 BOM that are not UTF-8
        if not data.startswith(codecs.BOM_UTF8):
            raise TextProblem(utf16_problem(data, e)) from None
        text, encoding = "", "utf-8-sig"
    if encoding != "utf-8" and not encoding.startswith("utf-16"):
        bom = encoding == "utf-8-sig"
        bad = _non_utf8_lines((data[3:] if bom else data).splitlines(), bom)
        if bad:
            raise TextProblem(MIXED_ENCODING.format(min(bad) + 1))
    return without_dos_eof(text), encoding


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 BOM, UTF-16 BOM, plain UTF-8, else cp1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(line: str) -> str:
    """The separator of a header line: the most frequent of tab, ``;`` and ``,`` outside quotes."""
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {d: unquoted.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])  # ties: tab, then ';', then ','
    return best if counts[best] else ","


def _dialect(lines: list[bytes], suffix: str) -> tuple[str, int] | None:
    """(separator, index of the first line of data) from the first lines of a UTF-8 text (BOM removed);
    ``None`` if they are not UTF-8.  A first line ``sep=;`` (Excel) gives the separator and is skipped."""
    try:
        head = [ln.decode().rstrip("\r\n") for ln in lines[:21]]
    except UnicodeDecodeError:
        return None
    first = head[0].strip() if head else ""
    if first.lower().startswith("sep=") and len(first) == 5:
        return first[4], 1
    if suffix == ".tsv":
        return "\t", 0
    header = next((ln for ln in head[:20] if ln.strip()), "")  # the first non-blank line
    return sniff_delimiter(header), 0


def _read_csv(p: Path, suffix: str, columnar: bool = False) -> RawBook:
    book = _read_csv_book(p, suffix, columnar)
    sheet = book.products
    if sheet.table is not None and sheet.table.num_rows:
        table = sheet.table
        last = [table.column(i)[-1].as_py() for i in range(table.num_columns)]
        check_not_cut(p, last, len(last), book.delimiter or ",", _open_quote)
    elif sheet.rows:
        rows = sheet.rows
        width = min(len(rows[0]), len(rows[-2])) if len(rows) > 1 else len(rows[0])
        check_not_cut(p, rows[-1], width, book.delimiter or ",", _open_quote)
    return book


def _read_csv_book(p: Path, suffix: str, columnar: bool = False) -> RawBook:
    try:
        with p.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
            tail = head
            if len(head) == _HEAD_BYTES:
                fh.seek(max(fh.tell(), fh.seek(0, 2) - 64))
                tail = fh.read()
    except OSError as e:
        raise SourceError(f"{p}: cannot read the file ({e.strerror or e})") from None
    if len(head) < _HEAD_BYTES and not head.lstrip(codecs.BOM_UTF8).strip():  # (a header row at the least)
        raise SourceError(f"{p.name}: the file is empty ({'0 bytes' if not head else 'blank'}): save it again")
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head[:4096] and not utf16:
        raise SourceError(f"{p.name}: this is not a text (CSV) file")
    eof = 0 if utf16 else dos_eof_length(tail)  # a DOS end-of-file mark, not a row (UTF-16: dropped once decoded)
    if columnar and not utf16:  # Arrow reads the file itself (or, after a DOS end-of-file mark, the text before it)
        if eof:
            head = _read_bytes(p)[:-eof]
        lines = head.splitlines(keepends=True)
        if len(head) == _HEAD_BYTES and len(lines) > 1:
            lines.pop()  # the file goes on: the head may end inside a line, even inside a character
        bom = head.startswith(codecs.BOM_UTF8)
        if bom:
            lines[0] = lines[0][3:]
        dialect = _dialect(lines, suffix)
        book = _columnar_book(p, suffix, head if eof else p, lines, dialect, "utf-8-sig" if bom else "utf-8") \
            if dialect else None
        if book is not None:
            return book
    if eof and columnar:
        data = head  # the text before the mark, read above
    else:
        data = _read_bytes(p)
        data = data[:len(data) - eof]
    encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    lines = data[3:].splitlines(keepends=True) if encoding == "utf-8-sig" else data.splitlines(keepends=True)
    try:
        dialect = _dialect(lines, suffix)
        rows = _parse_lines(lines, *dialect) if dialect is not None and not utf16 else None
    except UnicodeDecodeError:
        rows = None
    except csv.Error as e:
        raise SourceError(f"{p.name}: cannot read the CSV file ({e})") from None
    bad = _non_utf8_lines(lines, encoding == "utf-8-sig") if rows is None and not utf16 else None
    if bad:  # UTF-8 with some lines in another encoding: those lines' texts are reported, never guessed
        try:
            rows, problems, delimiter = _parse_mixed(lines, suffix, bad)
        except csv.Error as e:
            raise SourceError(f"{p.name}: cannot read the CSV file ({e})") from None
        return RawBook(p, suffix[1:], RawSheet(CSV_SHEET, rows, problems, all_str=True), delimiter=delimiter,
                       encoding=encoding)
    if rows is None:  # not UTF-8: decoded whole (UTF-16, cp1252...), then read as UTF-8 like the others
        try:
            text, encoding = decode_bytes(data)
        except UnicodeDecodeError as e:  # only UTF-16 decodes strictly: cut short, or half a surrogate pair
            raise SourceError(_bad_utf16(p, data, e)) from None
        del data
        text = without_dos_eof(text)
        utf8 = text.encode()
        del text
        lines = utf8.splitlines(keepends=True)
        dialect = _dialect(lines, suffix)
        assert dialect is not None
        if columnar:
            book = _columnar_book(p, suffix, utf8, lines, dialect, encoding)
            if book is not None:
                return book
        try:
            rows = _parse_lines(lines, *dialect)
        except csv.Error as e:
            raise SourceError(f"{p.name}: cannot read the CSV file ({e})") from None
    return RawBook(p, suffix[1:], RawSheet(CSV_SHEET, rows, all_str=True), delimiter=dialect[0],
                   encoding=encoding)


def _read_bytes(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except OSError as e:
        raise SourceError(f"{p}: cannot read the file ({e.strerror or e})") from None


def _bad_utf16(p: Path, data: bytes, e: UnicodeDecodeError) -> str:
    return f"{p.name}: {utf16_problem(data, e)}; export it again"


def utf16_problem(data: bytes, e: UnicodeDecodeError) -> str:
    """The merchant's words for a UTF-16 file (BOM) that does not decode: the line of the bad bytes."""
    line = data[:e.start].decode("utf-16", "replace").count("\n") + 1
    return f"line {line} is not valid UTF-16 (the file is cut short or damaged at byte {e.start:,})"


def _parse_lines(lines: list[bytes], delimiter: str, start: int) -> list[list[str]]:
    """Rows of a UTF-8 CSV split into lines that keep their line ends (``bytes.splitlines`` splits at LF, CR
    and CRLF, as ``open(newline="")`` does): the csv module then reads exactly what it reads from the file,
    quoted line breaks included, while each line is only decoded when the reader asks for it (the whole text
    as ``str`` would take two to four times the file's size)."""
    reader = csv.reader(map(bytes.decode, islice(lines, start, None)), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as e:
        raise csv.Error(_csv_problem(e, reader.line_num + start)) from None
    _check_closed_quotes(rows, lambda: map(bytes.decode, lines), delimiter, start)
    if may_hold_escapes(lines):  # text exported behind an apostrophe (inert.py)
        unescape_rows(rows)
    return rows


MIXED_ENCODING = ("line {} is not in UTF-8 like the rest of the file (pasted from another program?): check "
                  "this text and save the file again as UTF-8")


def _non_utf8_lines(lines: list[bytes], bom: bool) -> set[int] | None:
    """Indexes of the lines that are not UTF-8 when the file is otherwise UTF-8 (a UTF-8 BOM, or other
    non-ASCII lines that are UTF-8); ``None`` for a file in one encoding."""
    bad: set[int] = set()
    utf8 = bom
    for i, ln in enumerate(lines):
        if ln.isascii():
            continue
        try:
            ln.decode()
            utf8 = True
        except UnicodeDecodeError:
            bad.add(i)
    return bad if bad and utf8 else None


def _parse_mixed(lines: list[bytes], suffix: str, bad: set[int]
                 ) -> tuple[list[list[str]], dict[tuple[int, int], tuple[str, str]], str]:
    """(rows, problems, separator) of a UTF-8 CSV whose ``bad`` lines are not UTF-8: those are shown as
    Windows-1252 would read them, and each non-ASCII cell of their rows is a problem (reported, not used)."""
    texts = [ln.decode("cp1252", "replace") if i in bad else ln.decode() for i, ln in enumerate(lines)]
    dialect = _dialect([t.encode() for t in texts[:21]], suffix)
    assert dialect is not None
    delimiter, start = dialect
    reader = csv.reader(islice(texts, start, None), delimiter=delimiter)
    rows: list[list[str]] = []
    problems: dict[tuple[int, int], tuple[str, str]] = {}
    done = start
    try:
        for row in reader:
            upto = reader.line_num + start
            hit = next((k for k in range(done, upto) if k in bad), None)
            if hit is not None:
                for c, v in enumerate(row):
                    if not v.isascii():
                        problems[(len(rows), c)] = (v, MIXED_ENCODING.format(hit + 1))
            rows.append(row)
            done = upto
    except csv.Error as e:
        raise csv.Error(_csv_problem(e, reader.line_num + start)) from None
    _check_closed_quotes(rows, lambda: iter(texts), delimiter, start)
    if may_hold_escapes(texts):
        unescape_rows(rows)
    return rows, problems, delimiter


def ends_in_line_break(cell: str) -> bool:
    """Whether the last cell of a file holds a line break: the sign of a quote never closed, which makes the rest
    of the file one cell (both the csv module and Arrow read it so, without a word)."""
    return "\n" in cell or "\r" in cell


def _check_closed_quotes(rows: list[list[str]], texts: Callable[[], Iterator[str]], delimiter: str,
                         start: int) -> None:
    """Raise ``csv.Error`` when the file ends inside a quoted cell.  ``A-1,"Soap,5`` followed by the rest of the
    catalogue was one product named ``Soap,5\nA-2,...``: every product below it vanished from the source (and
    would be taken for deleted).  Only a file whose last cell holds a line break is looked at again: its last
    record is found, and followed field by field as the csv module reads it (``_open_quote``)."""
    if not rows or not rows[-1] or not ends_in_line_break(rows[-1][-1]):
        return
    reader = csv.reader(islice(texts(), start, None), delimiter=delimiter)
    last = before = 0
    for _row in reader:
        last, before = before, reader.line_num
    if _open_quote("".join(islice(texts(), start + last, None)), delimiter):
        raise csv.Error(f"line {start + last + 1}: a quote (\") opened on this line is never closed, so the rest "
                        "of the file would be read as one cell; close it or remove it")


_QUOTED = re.compile(r'"[^"]*+(?:""[^"]*+)*+')  # a quote and what follows it up to a lone quote (or the end)


def _open_quote(record: str, delimiter: str) -> bool:
    """Whether the csv module (not strict) ends the text ``record`` inside a quoted field: a field opened by a
    quote runs to a lone quote; after that, or in a field that did not start with one, quotes are plain text."""
    plain = re.compile(f"[^{re.escape(delimiter)}\r\n]*")
    pos, end = 0, len(record)
    while pos < end:
        if record[pos] == '"':
            pos = _QUOTED.match(record, pos).end()  # type: ignore[union-attr]
            if pos >= end:
                return True
            pos += 1  # the closing quote; the field goes on as plain text, if anything follows it
        pos = plain.match(record, pos).end() + 1  # type: ignore[union-attr]
        if record[pos - 1:pos] in ("\r", "\n"):
            return False  # the record ended with its line
    return False


def _csv_problem(e: csv.Error, line: int) -> str:
    """The csv module's complaint in the merchant's words."""
    text = str(e)
    m = re.match(r"field larger than field limit \((\d+)\)", text)
    if m:
        return f"line {line}: a cell holds more than {int(m.group(1)):,} characters (a quote left open?)"
    return f"line {line}: {text}"


def _columnar_book(p: Path, suffix: str, source: Path | bytes, lines: list[bytes], dialect: tuple[str, int],
                   encoding: str) -> RawBook | None:
    """The Arrow fast path (columnar.py) for UTF-8 ``source`` (the file, or its text re-encoded) whose first
    ``lines`` (BOM removed) gave ``dialect``; ``None`` when it does not apply."""
    delimiter, start = dialect
    hint = max(ln.count(delimiter.encode()) for ln in lines[start:start + 21] or [b""]) + 1
    from .columnar import read_table

    table = read_table(source, delimiter, start, hint)
    if table is None:
        return None
    return RawBook(p, suffix[1:], RawSheet(CSV_SHEET, [], all_str=True, table=table), delimiter=delimiter,
                   encoding=encoding)


# --- workbooks ------------------------------------------------------------------------------------------

def _open_calamine(p: Path):
    import python_calamine as pc

    try:
        return pc.CalamineWorkbook.from_path(str(p))
    except pc.PasswordError:
        raise SourceError(f"{p.name}: the workbook is password-protected; save a copy without a password") \
            from None
    except Exception as e:  # calamine raises several unrelated types for corrupt/unknown files
        really = _really(p)
        raise SourceError(f"{p.name}: {really}" if really else
                          f"{p.name}: cannot read the workbook ({_plain(e)})") from None


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")


def _really(p: Path) -> str | None:
    """What a file no reader could open really is, when its first bytes tell and its name says otherwise (a web
    page many sites export as "report.xls", a CSV renamed .xlsx, an .xls renamed .xlsx); ``None`` otherwise."""
    try:
        with p.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    suffix = p.suffix.lower()
    if not head:
        return "the file is empty (0 bytes): save the workbook again"
    if head.startswith(_OLE) and _holds_encrypted_package(p):  # a password-protected .xlsx under any name
        return "the workbook is password-protected; save a copy without a password"
    if head.startswith(_OLE) and suffix in _ZIPPED:
        return f"this is an Excel 97-2003 workbook (.xls), not {suffix}: rename it to .xls, or save it again as .xlsx"
    if head.startswith(_ZIP) and suffix == ".xls":
        return "this is an .xlsx workbook, not .xls: rename it to .xlsx"
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if b"urn:schemas-microsoft-com:office:spreadsheet" in text:
        return ("this is an Excel 2003 XML spreadsheet, not a workbook this program reads: open it in Excel or "
                "LibreOffice and save it as .xlsx")
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")) or b"<table" in text:
        return ("this is a web page (HTML), as some websites export under a spreadsheet name, not a workbook: "
                "open it in Excel or LibreOffice and save it as .xlsx")
    return f"this is a text file, not a {suffix} workbook: if it is a CSV, rename it to .csv"


def _holds_encrypted_package(p: Path) -> bool:
    """Whether an OLE2 file holds the ``EncryptedPackage`` stream of a password-protected Office Open XML file (its
    name, UTF-16, is in the directory: looked for in the first megabyte)."""
    try:
        with p.open("rb") as fh:
            return "EncryptedPackage".encode("utf-16-le") in fh.read(1 << 20)
    except OSError:
        return False


def _plain(e: BaseException) -> str:
    """A native reader's error in the merchant's words where we know them, else its own text (never a Python
    exception name)."""
    text = str(e).strip()
    kind = type(e).__name__
    if kind == "WorksheetNotFound":  # its relationship names a part calamine does not find
        return "the workbook does not say where this sheet's part is: open it in Excel or LibreOffice and save it again"
    if kind == "XmlError" and re.fullmatch(r"[A-Za-z_][\w.:-]*", text):  # the element left open at the end
        return (f"its XML is empty or cut short before the end of <{text}>: the file is damaged; open it in Excel "
                "or LibreOffice and save it again")
    m = re.search(r"unrecognized entity `&?([^`;]*);?`", text)
    if m:
        return (f"its XML uses an entity of its own (&{m.group(1)};), which no spreadsheet program writes: the file "
                "is not read")
    if "not found in shared strings table" in text:
        return ("a cell refers to a shared text the file does not hold (its shared-strings part is missing or cut "
                "short): the file is damaged; open it in Excel or LibreOffice and save it again")
    m = re.search(r"Cell limit exceeded \((\d+) cells requested, max (\d+)\)", text)
    if m:
        return (f"a sheet spans {int(m.group(1)):,} cells, at most {int(m.group(2)):,} are read; "
                f"{guard.REMEDY}")
    if "Could not find EOCD" in text:  # the zip directory at the end is missing: the file was cut short
        return "the file is incomplete or damaged (a copy or download cut short?); save the workbook again"
    if "larger than its declared" in text:
        return "a part of the file is larger than the file says: it is damaged or built to exhaust memory"
    return text or "the file is damaged or not a spreadsheet"


def _grid(wb, name: str, p: Path) -> list[list]:
    """The sheet's cells from A1."""
    return _load_grid(wb, name, p)


def _load_grid(wb, name: str, p: Path, merged: list | None = None) -> list[list]:
    """The sheet's cells from A1; its merged ranges are added to ``merged`` when given (formats other than
    xlsx/xlsm: the guard's scan finds those of an xlsx)."""
    unmeasured = p.suffix.lower() in _UNMEASURED  # no scan of the sheet before calamine loaded it (guard.py)
    try:
        sheet = wb.get_sheet_by_name(name)
        if unmeasured:
            guard.check_grid(p, name, sheet.end)
        if merged is not None:
            merged.extend(_merged_ranges(sheet))
        rows = sheet.to_python(skip_empty_area=False)
    except SourceError:
        raise
    except Exception as e:
        raise SourceError(f"{p.name}: cannot read sheet '{name}' ({_plain(e)})") from None
    if unmeasured:
        guard.check_texts(p, name, rows)
    return rows


_UNMEASURED = frozenset({".xls", ".xlsb"})


def _merged_ranges(sheet: Any) -> list[tuple[int, int, int, int]]:
    try:
        return [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ()]
    except Exception:  # an older python-calamine, or a format without merges: nothing known
        return []


def _sheet_roles(p: Path, names: list[str]) -> tuple[str, list[tuple[str, str]], list[str]]:
    """(Products sheet, [(stock sheet, location)], unused sheets) of a workbook's sheet names."""
    products = next((n for n in names if is_products_sheet(n)), None)
    if products is None:
        listed = ", ".join(f"'{n}'" for n in names) or "none"
        raise SourceError(f"{p.name}: no 'Products' sheet (also accepted: 'Produits', 'المنتجات'); "
                          f"sheets found: {listed}")
    stock_names: list[tuple[str, str]] = []
    seen_locations: dict[str, str] = {}
    unused: list[str] = []
    for n in names:
        if n == products:
            continue
        loc = stock_sheet_location(n)
        if loc is None:
            if normalize(n) not in _IGNORED_SHEETS:
                unused.append(n)
            continue
        if normalize(loc) in seen_locations:
            raise SourceError(f"{p.name}: sheets '{seen_locations[normalize(loc)]}' and '{n}' are both the "
                              f"stock of location '{loc}'")
        seen_locations[normalize(loc)] = n
        stock_names.append((n, loc))
    return products, stock_names, unused


def _open_fastexcel(p: Path) -> Any | None:
    """A fastexcel reader for the xlsx fast path (xlsx_table.py), or ``None`` (not installed, or it cannot
    open the file: the row reader then opens it and words the error)."""
    try:
        import fastexcel
    except ImportError:
        return None
    try:
        return fastexcel.read_excel(str(p))
    except Exception:
        return None


def _zip_members(p: Path) -> dict[str, str] | None:
    """Sheet name -> zip member of an xlsx/xlsm, from its workbook.xml (no shared strings parsed), or ``None``."""
    try:
        with zipfile.ZipFile(p) as zf:
            return sheet_members(zf)
    except (OSError, zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return None


def _check_zip(p: Path) -> None:
    """The zip directory's bounds, and an .ods's repeated rows and cells (guard.py); a file that is not a zip
    is left to calamine to word."""
    try:
        zf = zipfile.ZipFile(p)
    except (OSError, zipfile.BadZipFile):
        return
    with zf:
        guard.check_archive(p, zf)
        if p.suffix.lower() == ".ods":
            try:
                guard.check_ods(p, zf)
            except zipfile.BadZipFile as e:
                raise SourceError(f"{p.name}: the workbook is damaged ({e}); open it in LibreOffice and save it "
                                  "again") from None


def guard_sheets(p: Path, sheets: list[str], members: dict[str, str] | None, *,
                 details: bool = True, padding: dict[int, PaddingFormat] | None = None) -> dict[str, guard.SheetScan]:
    """Per sheet name, its scan (guard.py), made before any reader loads it; raises ``SourceError``.
    ``details=False``: the bounds only (``guard_details`` adds the rest).  ``padding``: the workbook's
    zero-padding styles, whose cells the scan finds (``SheetScan.padded``)."""
    out: dict[str, guard.SheetScan] = {}
    try:
        with zipfile.ZipFile(p) as zf:
            members = sheet_members(zf) if members is None else members
            for name in sheets:
                member = members.get(name)
                if not member or member not in zf.NameToInfo:  # never loaded unmeasured
                    raise SourceError(f"{p.name}: sheet '{name}' has no part of its own in the file "
                                      f"({member or 'no relationship names one'}); open the workbook in Excel or "
                                      "LibreOffice and save it again")
                out[name] = guard.scan_sheet(p, zf, member, name, details=details, padding=padding)
    except zipfile.BadZipFile as e:  # a part longer than its directory says, a bad CRC...
        raise _damaged(p, e) from None
    except (OSError, KeyError, ElementTree.ParseError):
        return out  # calamine words what is wrong with the file
    return out


def guard_details(p: Path, scans: dict[str, guard.SheetScan], members: dict[str, str] | None,
                  padding: dict[int, PaddingFormat] | None = None) -> None:
    """The merged ranges, formula/error markers (and cells bearing one of the ``padding`` styles) of sheets
    ``guard_sheets`` measured with ``details=False``."""
    try:
        with zipfile.ZipFile(p) as zf:
            members = sheet_members(zf) if members is None else members
            for name, scan in scans.items():
                guard.scan_details(zf, members[name], scan, padding, p=p, sheet=name)
    except zipfile.BadZipFile as e:
        raise _damaged(p, e) from None


def workbook_padding(p: Path) -> dict[int, PaddingFormat]:
    """``formats.padding_styles`` of an xlsx/xlsm (nothing when its zip cannot be read: calamine words why)."""
    try:
        with zipfile.ZipFile(p) as zf:
            return padding_styles(zf)
    except (OSError, zipfile.BadZipFile):
        return {}


def _damaged(p: Path, e: zipfile.BadZipFile) -> SourceError:
    return SourceError(f"{p.name}: the workbook is damaged ({e}); open it in Excel or LibreOffice and save it again")


def _read_workbook(p: Path, suffix: str, prepare_stock: Callable[[RawSheet, str], Any] | None,
                   columnar: bool = False, loading: threading.Event | None = None) -> RawBook:
    scan = suffix in (".xlsx", ".xlsm")
    if suffix in _ZIPPED:
        _check_zip(p)
    elif suffix == ".xls":
        try:
            guard.check_file_size(p, p.stat().st_size)
        except OSError as e:
            raise SourceError(f"{p}: cannot read the file ({e.strerror or e})") from None
    # The fast path starts the helper on the sheet names of workbook.xml, so that it runs while fastexcel
    # opens the workbook; both readers must then list the same sheets, or the row reader reads alone.
    members = _zip_members(p) if columnar and scan else None
    wb = None
    if members is None:
        wb = _open_calamine(p)
        names = list(wb.sheet_names)
    else:
        names = list(members)
    guard.check_sheet_count(p, len(names))
    products, stock_names, unused = _sheet_roles(p, names)

    helper: dict = {}
    guarded = threading.Event()  # set once the Products sheet was measured (or the measure failed)
    # set once the calling thread knows whether its fastexcel reader takes the stock sheets (``fast_stock``)
    decided = threading.Event()
    to_read = [products, *(n for n, _ in stock_names)]

    def background() -> None:
        try:  # the Products sheet's bounds first: the calling thread waits for them to load the sheet
            scans = helper["scans"] = guard_sheets(p, [products], members, details=False) if scan else {}
        except BaseException as e:  # re-raised on the calling thread
            helper["error"] = e
            return
        finally:
            guarded.set()
        try:
            if scan:  # its merged ranges and markers while it loads; the stock sheets before this thread loads them
                padding = workbook_padding(p)  # (the styles part, read once: the rule is that it has none)
                guard_details(p, scans, members, padding)
                scans.update(guard_sheets(p, to_read[1:], members, padding=padding))
                problems = scan_problem_cells(p, to_read, members, {n: s.markers for n, s in scans.items()})
            elif suffix == ".ods":  # calamine reads error cells as empty and gives no merged ranges of an .ods
                found = _ods_cells(p)
                problems = {n: c.problems for n, c in found.items() if c.problems}
                scans.update((n, guard.SheetScan(merged=c.merged)) for n, c in found.items())
            else:
                problems = {}
            helper["problems"] = problems
            decided.wait()
            if stock_names and not helper.get("fast_stock"):
                wb2 = _open_calamine(p)
                stock = []
                for n, loc in stock_names:
                    merged = list(scans[n].merged) if n in scans else []
                    grid = _grid(wb2, n, p) if scan else _load_grid(wb2, n, p, merged)
                    sheet = RawSheet(n, grid, problems.get(n, {}), merged=merged,
                                     padded=scans[n].padded if n in scans else None)
                    if prepare_stock is not None:
                        sheet.prepared = prepare_stock(sheet, loc)
                    stock.append((loc, sheet))
                helper["stock"] = stock
        except BaseException as e:  # re-raised on the calling thread
            helper["error"] = e

    def checked() -> None:
        """Wait until the helper measured the sheets: no reader loads a sheet before."""
        guarded.wait()
        if "error" in helper:
            _raise_helper_error(p, helper["error"])
        if loading is not None:
            loading.set()

    thread = threading.Thread(target=background, name="spreadsheet-helper", daemon=True)
    thread.start()
    table = None
    rows: list[list] = []
    merged_products: list[tuple[int, int, int, int]] = []  # .xls/.ods: from calamine (xlsx: the guard's scan)
    failed: SourceError | None = None
    try:
        fast = _open_fastexcel(p) if wb is None else None
        if fast is not None and list(fast.sheet_names) != names:
            fast = None
        helper["fast_stock"] = fast is not None  # the helper then only measures and scans the stock sheets
        decided.set()
        if fast is not None:
            from .xlsx_table import read_products_table

            checked()
            table = read_products_table(p, fast, products, (members or {}).get(products))
        if table is None:
            if wb is None:
                wb = _open_calamine(p)
                if list(wb.sheet_names) != names:  # never seen: the helper worked on other sheets
                    thread.join()
                    return _read_workbook(p, suffix, prepare_stock, loading=loading)
            checked()
            rows = _grid(wb, products, p) if scan else _load_grid(wb, products, p, merged_products)
    except SourceError as e:  # the helper's finding, if any, says more (calamine: "Unrecognized boolean ...")
        failed = e
    finally:
        decided.set()
        thread.join()
    if "error" in helper:
        _raise_helper_error(p, helper["error"])
    if failed is not None:
        raise failed
    problems = helper.get("problems", {})
    scans = helper.get("scans", {})
    if table is not None and problems.get(products):
        table = None  # formula/error cells: positioned on the row reader's grid
        rows = _grid(_open_calamine(p), products, p)
    if table is not None:
        sheet = RawSheet(products, [table[1]], table=table[0], table_row=1)
    else:
        sheet = RawSheet(products, rows, problems.get(products, {}))
    sheet.merged = list(scans[products].merged) if products in scans else merged_products
    sheet.padded = scans[products].padded if products in scans else None
    if fast is not None and stock_names:
        load = _StockLoad(lambda: _fast_stock(p, fast, stock_names, members or {}, problems, scans))
        return RawBook(p, suffix[1:], sheet, [], unused, loading=load)
    return RawBook(p, suffix[1:], sheet, helper.get("stock", []), unused)


def _fast_stock(p: Path, fast: Any, stock_names: list[tuple[str, str]], members: dict[str, str],
                problems: dict[str, dict], scans: dict[str, guard.SheetScan]) -> list[tuple[str, RawSheet]]:
    """The stock sheets through the fastexcel reader that read the Products sheet (its shared strings are
    parsed already; fastexcel's reader cannot serve two threads at once, so this runs on a thread of its own
    once the Products sheet is loaded, while it is built).  Each sheet is taken column by column under the
    Products sheet's conditions (xlsx_table.py); a sheet it refuses, or one holding formula/error cells, is
    read by the row reader.  Either way the sheet reads exactly as the row reader reads it.

    ``prepare_stock`` is not run here: the builder validates each sheet when it matches it with the products
    (``build._stock_sheet``), one sheet after the other.  Run on this thread, it made both stock sheets' SKU
    texts and quantities while the Products sheet's columns and records were all alive (the read's peak was 14 MB
    higher with two 100,000-row sheets), and the read was no faster for it (Python code on two threads takes
    turns with the GIL)."""
    from .xlsx_table import read_products_table

    wb = None
    out: list[tuple[str, RawSheet]] = []
    for n, loc in stock_names:
        merged = list(scans[n].merged) if n in scans else []
        padded = scans[n].padded if n in scans else None
        table = None if problems.get(n) else read_products_table(p, fast, n, members.get(n))
        if table is not None:
            sheet = RawSheet(n, [table[1]], table=table[0], table_row=1, merged=merged, padded=padded)
        else:
            wb = wb if wb is not None else _open_calamine(p)
            sheet = RawSheet(n, _grid(wb, n, p), problems.get(n, {}), merged=merged, padded=padded)
        out.append((loc, sheet))
    return out


def _ods_cells(p: Path) -> dict[str, Any]:
    """``ods_cells.ods_cells`` of an .ods (nothing when its zip cannot be read: calamine words why)."""
    from .ods_cells import ods_cells

    try:
        with zipfile.ZipFile(p) as zf:
            return ods_cells(p, zf, FORMULA_NO_VALUE, ERROR_VALUE)
    except (OSError, zipfile.BadZipFile):
        return {}


def _raise_helper_error(p: Path, err: BaseException) -> None:
    if isinstance(err, SourceError):
        raise err
    raise SourceError(f"{p.name}: cannot read the workbook ({_plain(err)})") from None


# --- formula / error cells in xlsx ----------------------------------------------------------------------

_R_ATTR = re.compile(rb'\sr="([A-Z]+)([0-9]+)"')
_T_ATTR = re.compile(rb'\st="([A-Za-z]+)"')
_F_ELEM = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_V_ELEM = re.compile(rb"<v>(.*?)</v>|<v\s*/>", re.S)
_PREFIXED: dict[bytes, tuple[re.Pattern[bytes], re.Pattern[bytes]]] = {}  # prefix -> its _F_ELEM, _V_ELEM


def sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML, from xl/workbook.xml and its relationships.

    Elements and the ``r:id`` attribute are matched by local name: Excel's "Strict Open XML" files use other
    namespaces (``http://purl.oclc.org/ooxml/...``) for the same parts, and calamine reads them."""
    wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter() if _local(r.tag) == "Relationship"}
    out: dict[str, str] = {}
    for s in wb.iter():
        if _local(s.tag) != "sheet":
            continue
        rid = next((v for k, v in s.attrib.items() if k.startswith("{") and _local(k) == "id"), None)
        target = targets.get(rid, "")
        if target:
            out[s.get("name", "")] = _member(zf, target)
    return out


def _member(zf: zipfile.ZipFile, target: str) -> str:
    """The zip member a relationship's target names, as calamine finds it: relative to ``xl/`` unless absolute,
    ``.`` and ``..`` resolved, and its case ignored when no member has it exactly (a sheet the guard could not
    find would otherwise be loaded unmeasured)."""
    path = posixpath.normpath(target.lstrip("/") if target.startswith("/") else "xl/" + target)
    if path in zf.NameToInfo:
        return path
    folded = path.casefold()
    return next((name for name in zf.NameToInfo if name.casefold() == folded), path)


def _local(name: str) -> str:
    """An ElementTree tag or attribute name without its ``{namespace}``."""
    return name.rsplit("}", 1)[-1]


def _has_markers(zf: zipfile.ZipFile, member: str) -> bool:
    prefix = b""
    for chunk, first in guard.overlapping_chunks(zf, member, 8):
        if first:  # the root element
            prefix = guard.root_prefix(chunk)
        if guard.has_marker(chunk, prefix):
            return True
    return False


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _unescape(b: bytes) -> str:
    from xml.sax.saxutils import unescape

    return unescape(b.decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})


def locate_problem_cells(data: bytes, stale: bool = False) -> dict[tuple[int, int], tuple[str, str]] | None:
    """Formula cells without a cached value and error cells of one sheet XML; ``None`` if cells lack refs.
    ``stale``: the workbook asks for a full calculation when opened (``stale_formulas``): every formula cell's
    cached value is a placeholder, whatever it holds."""
    found: dict[tuple[int, int], tuple[str, str]] = {}
    starts: set[int] = set()
    positions: list[int] = []
    # every element in the root's namespace prefix, if it has one (``<x:c>``: the .NET Open XML SDK writes so)
    prefix = guard.root_prefix(data)
    f_open, cell_open, cell_close = b"<" + prefix + b"f", b"<" + prefix + b"c ", b"</" + prefix + b"c>"
    f_elem, v_elem = _F_ELEM, _V_ELEM
    if prefix:
        if prefix not in _PREFIXED:
            q = re.escape(prefix)
            _PREFIXED[prefix] = (re.compile(rb"<" + q + rb"f\b[^>]*?(?:/>|>(.*?)</" + q + rb"f>)", re.S),
                                 re.compile(rb"<" + q + rb"v>(.*?)</" + q + rb"v>|<" + q + rb"v\s*/>", re.S))
        f_elem, v_elem = _PREFIXED[prefix]
    for marker in (f_open, b't="e"'):
        pos = data.find(marker)
        while pos >= 0:
            if marker != f_open or data[pos + len(f_open):pos + len(f_open) + 1] in (b">", b" ", b"/"):
                positions.append(pos)
            pos = data.find(marker, pos + 1)
    for pos in positions:
        start = data.rfind(cell_open, 0, pos)
        if start < 0 or start in starts:
            continue
        starts.add(start)
        tag_end = data.find(b">", start)
        head = data[start:tag_end + 1]
        if head.endswith(b"/>"):
            body = b""
        else:
            end = data.find(cell_close, tag_end)
            body = data[tag_end + 1:end if end >= 0 else tag_end + 1]
        ref = _R_ATTR.search(head)
        if ref is None:
            return None
        t = _T_ATTR.search(head)
        ctype = t.group(1) if t else b"n"
        v = v_elem.search(body)
        value = (v.group(1) or b"") if v else None
        cell = (int(ref.group(2)) - 1, _col_index(ref.group(1)))
        if ctype == b"e":
            text = _unescape(value or b"")
            found[cell] = (text, ERROR_VALUE.format(text or "error"))
            continue
        f = f_elem.search(body)
        if f is None:
            continue
        missing = value is None or (value == b"" and ctype != b"str")
        if missing or stale:
            formula = _unescape(f.group(1) or b"")
            found[cell] = ("=" + formula if formula else "(shared formula)",
                           FORMULA_NO_VALUE if missing else FORMULA_NOT_CALCULATED)
    return found


def _locate_with_openpyxl(p: Path, sheet: str, stale: bool = False) -> dict[tuple[int, int], tuple[str, str]]:
    """Slow fallback for sheet XML written without cell references."""
    import openpyxl

    found: dict[tuple[int, int], tuple[str, str]] = {}
    wf = openpyxl.load_workbook(p, read_only=True, data_only=False)
    wv = openpyxl.load_workbook(p, read_only=True, data_only=True)
    try:
        for r, (frow, vrow) in enumerate(zip(wf[sheet].iter_rows(), wv[sheet].iter_rows(), strict=False)):
            for c, (fc, vc) in enumerate(zip(frow, vrow, strict=False)):
                if getattr(vc, "data_type", None) == "e":
                    found[(r, c)] = (str(vc.value), ERROR_VALUE.format(vc.value))
                elif getattr(fc, "data_type", None) == "f" and (stale or vc.value is None):
                    found[(r, c)] = (str(fc.value), FORMULA_NO_VALUE if vc.value is None else FORMULA_NOT_CALCULATED)
    finally:
        wf.close()
        wv.close()
    return found


_FULL_CALC = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?calcPr\b[^>]*\sfullCalcOnLoad\s*=\s*["\'](?:1|true)["\']')


def stale_formulas(zf: zipfile.ZipFile) -> bool:
    """Whether the workbook asks to be fully calculated when opened (``<calcPr fullCalcOnLoad="1"/>``): its
    writer computed no formula (XlsxWriter and rust_xlsxwriter store 0 as every formula's value and set this
    flag; Apache POI sets it when values may be out of date).  Excel and LibreOffice clear it when they save,
    having calculated.  Those placeholders would be read as prices and quantities of 0."""
    try:
        return _FULL_CALC.search(zf.read("xl/workbook.xml")) is not None
    except KeyError:
        return False


def scan_problem_cells(p: Path, sheets: list[str], members: dict[str, str] | None = None,
                       markers: dict[str, bool] | None = None) -> dict[str, dict[tuple[int, int], tuple[str, str]]]:
    """Per sheet name, the formula cells without a cached value and the error cells (see module doc).
    ``members``: ``sheet_members`` of the file when the caller has it already; ``markers``: per sheet, whether
    its XML holds formula or error cells at all, when the guard's scan found out already."""
    markers = markers or {}
    out: dict[str, dict[tuple[int, int], tuple[str, str]]] = {}
    try:
        with zipfile.ZipFile(p) as zf:
            members = sheet_members(zf) if members is None else members
            stale = stale_formulas(zf)
            for name in sheets:
                member = members.get(name)
                if not member or member not in zf.NameToInfo or not markers.get(name, True) \
                        or (name not in markers and not _has_markers(zf, member)):
                    continue
                cells = locate_problem_cells(zf.read(member), stale)
                out[name] = cells if cells is not None else _locate_with_openpyxl(p, name, stale)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return out  # calamine read it; nothing more we can learn
    return out
