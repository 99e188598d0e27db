"""Bounds checked before a workbook reaches a native reader (calamine, fastexcel), which would abort the whole
process on a hostile file (a Rust allocation failure is not an exception) or allocate without bound.

- **The zip directory** (``check_archive``, before any reader opens the file): member count, each member's
  declared size, the total, and the compression ratio of large members (a zip bomb inflates 1000:1; a real
  workbook 5-20:1); a shared-strings table whose ``count`` claims more strings than the limit (calamine
  reserves that many up front).  Declared sizes can lie; the readers stop at the declared size (Python's
  zipfile checks length and CRC; calamine refuses "larger than its declared size"), and the sheet scan
  below counts the bytes it actually inflates.
- **The sheet XML** (``scan_sheet``, on the reader's helper thread, before the sheet is loaded): calamine turns
  a sheet into a dense grid from A1 to its farthest cell, so one cell at XFD1048576 means 17 billion cells.
  The grid is measured from the cells themselves, never from the ``<dimension>`` tag (which can lie).  The
  common case costs one pass of byte counts and one regex search that matches nothing: cell references are
  only parsed when their column is beyond ``_FAST_COLUMNS`` or their row beyond ``_FAST_ROWS``; when those
  bounds alone could exceed the limit, an exact pass follows each ``<row>`` and ``<c>`` as calamine does.
"""

from __future__ import annotations

import operator
import queue
import re
import threading
import zipfile
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from xml.parsers import expat

from connector.errors import SourceError

from .formats import PaddedCells, PaddingFormat, StyledCells

MAX_MEMBERS = 10_000
MAX_SHEETS = 256
MAX_MEMBER_BYTES = 256 << 20  # one part of the workbook, inflated
MAX_TOTAL_BYTES = 512 << 20  # all parts, inflated
MAX_RATIO = 200  # inflated / compressed, for members over _RATIO_FROM bytes
_RATIO_FROM = 1 << 20
MAX_SHARED_STRINGS = 3_000_000
_SST_COUNT_FROM = 48 << 20  # a shared-strings table this large has its <si> elements counted
MAX_GRID_CELLS = 10_000_000  # rows x columns of one sheet's grid, from A1 to its farthest cell
MAX_ROWS = 300_000  # the sheet's last row (each row costs a list and a record: 1M rows took 1.3 GB)
MAX_CELLS = 6_000_000  # cell elements in one sheet (a 100k-row template uses about 2 million)
MAX_EXCEL_ROWS = 1_048_576
MAX_EXCEL_COLUMNS = 16_384

_FAST_COLUMNS = 50  # column AX
_FAST_ROWS = 199_999  # _FAST_COLUMNS * _FAST_ROWS <= MAX_GRID_CELLS: no exact pass below both
# capitals to "A", small letters to "a" ("r" kept: the reference attribute's name), digits to "0" and white space
# to " " (what _far_refs and _odd_syntax look for); a column beyond AX (either case: calamine reads "xfd1" as
# XFD1); the columns of references; the byte before a reference's row number (a column letter) or a row
# element's (its quote)
_SMALL = bytes(c for c in range(ord("a"), ord("z") + 1) if c != ord("r"))
_FOLD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _SMALL + b"0123456789\t\r\n",
                        b"A" * 26 + b"a" * 25 + b"0" * 10 + b"   ")
# in folded text: a reference in small letters, apostrophes or white space around "="
_ODD = re.compile(rb""" r(?:="A{0,3}[ar]| =|= |=')""")
# in folded text: an " r" not followed by what every reference of columns A to Z and every row number starts with
# (="0, ="A0; or an empty or one-letter value), the first place where _ODD or a column beyond Z may occur
_UNUSUAL = re.compile(rb""" r(?!="A?[0"])""")
_BIG_COLUMN = re.compile(rb'r="(?:[A-Za-z]{3,}|[B-Zb-z][A-Za-z]|[Aa][Y-Zy-z])[0-9]')
_REF_COLUMN = re.compile(rb'\sr="([A-Za-z]+)[0-9]')
_REF_BEFORE_DIGITS = frozenset(bytes([c]) for c in b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"')
# a reference as XML allows it: quoted either way, white space around "=" (the exact pass)
_REF = re.compile(rb'(?:^|\s)r\s*=\s*["\']([A-Za-z]*)([0-9]+)["\']')
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_MERGE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\s+ref="([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)"')
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_CHUNK = 1 << 22
_TAIL = 32

REMEDY = "delete the rows and columns beyond your data (select them, right-click, Delete) and save the file again"


def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MB"


def column_letters(index: int) -> str:
    """1-based column number -> letters (1 -> A, 16384 -> XFD)."""
    out = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


def check_archive(p: Path, zf: zipfile.ZipFile) -> None:
    """Refuse a zip-based workbook whose directory promises more than a reader should inflate."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise SourceError(f"{p.name}: the workbook holds {len(infos):,} parts (at most {MAX_MEMBERS:,} are read); "
                          "it is not a spreadsheet saved by Excel or LibreOffice")
    total = 0
    for info in infos:
        _check_readable(p, info)
        size = info.file_size
        total += size
        if size > MAX_MEMBER_BYTES:
            raise SourceError(f"{p.name}: part '{info.filename}' of the workbook inflates to {_mb(size)} (at most "
                              f"{_mb(MAX_MEMBER_BYTES)} are read); split the file or {REMEDY}")
        if size > _RATIO_FROM and size > MAX_RATIO * max(info.compress_size, 1):
            raise SourceError(f"{p.name}: part '{info.filename}' of the workbook is compressed "
                              f"{size // max(info.compress_size, 1):,} to 1 (a real workbook: about 10 to 1); "
                              "the file looks built to exhaust memory and is not read")
    if total > MAX_TOTAL_BYTES:
        raise SourceError(f"{p.name}: the workbook inflates to {_mb(total)} (at most {_mb(MAX_TOTAL_BYTES)} are "
                          f"read); split the file or {REMEDY}")
    sst = next((i for i in infos if i.filename.lower() == "xl/sharedstrings.xml"), None)
    if sst is not None:
        _check_shared_strings(p, zf, sst)


_COMPRESSIONS = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "Deflate64", 99: "AES encryption"}


def _check_readable(p: Path, info: zipfile.ZipInfo) -> None:
    """Refuse a part no spreadsheet program writes so: encrypted at the zip level (a zip locked with a password
    and renamed; Python's zipfile raised RuntimeError), or compressed otherwise than stored or deflated (calamine
    inflates nothing else; zipfile raised NotImplementedError for some)."""
    if info.flag_bits & 0x1:
        raise SourceError(f"{p.name}: part '{info.filename}' of the workbook is encrypted (a zip file locked with a "
                          "password, not a workbook Excel or LibreOffice saved); open it in Excel or LibreOffice "
                          "and save it again")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        method = _COMPRESSIONS.get(info.compress_type, f"method {info.compress_type}")
        raise SourceError(f"{p.name}: part '{info.filename}' of the workbook is compressed with {method}, which "
                          "spreadsheet programs do not use; open it in Excel or LibreOffice and save it again")


def _check_shared_strings(p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    n = _declared_strings(zf, info)
    if info.file_size > _SST_COUNT_FROM and n <= MAX_SHARED_STRINGS:
        with zf.open(info) as fh:
            n = 0
            tail = b""
            while n <= MAX_SHARED_STRINGS:
                block = fh.read(_CHUNK)
                if not block:
                    break
                chunk = tail + block
                n += chunk.count(b"<si>") + chunk.count(b"<si ") - tail.count(b"<si>") - tail.count(b"<si ")
                tail = chunk[-_TAIL:]
    if n > MAX_SHARED_STRINGS:
        raise SourceError(f"{p.name}: the workbook's shared-strings table holds {n:,} texts (at most "
                          f"{MAX_SHARED_STRINGS:,} are read); split the file")


class _RootFound(Exception):
    pass


def _declared_strings(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """The largest ``count``/``uniqueCount`` of the shared-strings table's root element, which calamine reserves
    up front, read by an XML parser: a byte search for ``count="`` in the first kilobyte missed it quoted with
    apostrophes, with spaces around "=" or after a long comment, and the reader aborted the process reserving
    96 GB for a count of 4,294,967,295."""
    found: list[int] = []

    def start(_name: str, attrs: dict[str, str]) -> None:
        found.append(max((int(v) for k, v in attrs.items()
                          if k.rsplit(":", 1)[-1] in ("count", "uniqueCount") and v.isdigit()), default=0))
        raise _RootFound

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    try:
        with zf.open(info) as fh:
            while True:
                block = fh.read(1 << 16)
                parser.Parse(block, not block)
                if not block:
                    break
    except _RootFound:
        pass
    except expat.ExpatError:
        pass  # not XML: calamine says so
    return found[0] if found else 0


def check_sheet_count(p: Path, count: int) -> None:
    if count > MAX_SHEETS:
        raise SourceError(f"{p.name}: the workbook has {count:,} sheets (at most {MAX_SHEETS} are read); delete the "
                          "sheets you do not need")


@dataclass(slots=True)
class SheetScan:
    """What one pass over a sheet's XML found: the grid calamine would build, and whether formula (``<f``) or
    error (``t="e"``) cells occur at all (reader.py then locates them)."""

    rows: int = 0
    columns: int = 0
    cells: int = 0
    markers: bool = False
    prefix: bytes = b""  # the root element's namespace prefix (``x:``), if any
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based (row, col, last row, last col)
    padded: PaddedCells | None = None  # the cells bearing a zero-padding style, when the scan was given them


def scan_sheet(p: Path, zf: zipfile.ZipFile, member: str, sheet: str, *, details: bool = True,
               padding: dict[int, PaddingFormat] | None = None) -> SheetScan:
    """Measure sheet ``sheet`` (zip member ``member``); raise ``SourceError`` when it is beyond the limits.
    The same pass finds merged ranges and whether formula or error cells occur (``SheetScan.merged``,
    ``markers``): three byte searches per block, where a second pass would inflate the sheet again; and, given
    the workbook's zero-padding styles (``formats.padding_styles``), the cells bearing them (``padded``).

    ``details=False`` leaves those to ``scan_details``: only the bounds must be known before a reader loads the
    sheet, and a reader that waits for them waits a third less (reader.py: the Products sheet's load)."""
    info = zf.getinfo(member)
    scan = SheetScan()
    max_row = max_col = 0
    row_elems = first_refs = inflated = 0
    merged: set[tuple[bytes, bytes, bytes, bytes]] = set()
    tail = b""
    cell_tags: tuple[bytes, ...] = ()
    row_tags: tuple[bytes, ...] = ()
    ref_firsts: tuple[bytes, ...] = ()
    styled = StyledCells(padding) if padding and details else None
    numbers: RowNumbers | None = None
    indexes = BadTypedValues()
    odd = False
    for block in _inflated(zf, info):
        inflated += len(block)
        if inflated > MAX_MEMBER_BYTES:  # never so past the directory check, unless the sizes lie
            raise SourceError(f"{p.name}: sheet '{sheet}' inflates beyond {_mb(MAX_MEMBER_BYTES)}; {REMEDY}")
        chunk = tail + block
        if not cell_tags:  # the root element's namespace prefix, if any, should be every element's; calamine
            # reads elements by local name whatever their prefix, so unprefixed ones are counted too
            scan.prefix = root_prefix(chunk)
            prefixes = {b"", scan.prefix}
            cell_tags = tuple(b"<" + x + b"c" for x in prefixes)
            row_tags = tuple(b"<" + x + b"row" for x in prefixes)
            ref_firsts = tuple(t + b' r="' for t in cell_tags)
        # "<c" also counts <col>, <cfRule>... elements (a handful): an upper bound of the cells, and of the
        # cells whose reference is not their first attribute (or is missing: those are counted along a row)
        scan.cells += _count(chunk, tail, cell_tags)
        first_refs += _count(chunk, tail, ref_firsts)
        row_elems += _count(chunk, tail, row_tags)
        if details:
            indexes.feed(block)
            scan.markers = scan.markers or indexes.error_cells
            _find_details(chunk, scan, merged)
            numbers = numbers or RowNumbers(scan.prefix)
            numbers.feed(block)
        if styled is not None:
            styled.feed(block)
        folded = chunk.translate(_FOLD)
        odd_here, wide = _unusual_refs(folded)
        odd = odd or odd_here
        found = _far_refs(chunk, folded, wide)
        max_row, max_col = max(max_row, found[0]), max(max_col, found[1])
        if scan.cells > MAX_CELLS:
            raise SourceError(f"{p.name}: sheet '{sheet}' holds more than {MAX_CELLS:,} cells; split the file "
                              f"or {REMEDY}")
        tail = chunk[-_TAIL:]
    if numbers is not None:
        _check_rows_once(p, sheet, numbers, indexes)
    scan.merged = _merged_ranges(merged)
    if styled is not None:
        scan.padded = _styled_cells(zf, info, styled)
    if not scan.cells and not max_row and not max_col and not odd:  # (far references without cells: see below)
        return scan
    # A cell without a reference is right of the previous one: a row is at most that many cells wider.  Its
    # row is its row element's (whose r="..." the far-reference search reads) or, without one, their count.
    rows = max(max_row, _FAST_ROWS, row_elems)
    cols = max(max_col, _FAST_COLUMNS) + (scan.cells - first_refs)
    if rows * cols > MAX_GRID_CELLS or odd:
        rows, cols = _exact_grid(zf, info)
    scan.rows, scan.columns = rows, cols
    _check_bounds(p, sheet, rows, cols)
    return scan


def _check_bounds(p: Path, sheet: str, rows: int, cols: int) -> None:
    """Refuse a grid of ``rows`` x ``cols`` (from A1) beyond the limits."""
    if rows > MAX_ROWS:
        raise SourceError(f"{p.name}: sheet '{sheet}' reaches row {min(rows, MAX_EXCEL_ROWS):,} (at most "
                          f"{MAX_ROWS:,} rows are read); {REMEDY}")
    if cols > MAX_EXCEL_COLUMNS or rows * cols > MAX_GRID_CELLS:
        corner = f"{column_letters(min(cols, MAX_EXCEL_COLUMNS))}{min(rows, MAX_EXCEL_ROWS)}"
        raise SourceError(f"{p.name}: sheet '{sheet}' reaches cell {corner} ({rows:,} rows x {cols:,} columns: "
                          f"{rows * cols:,} cells, at most {MAX_GRID_CELLS:,} are read); {REMEDY}")


class RowNumbers:
    """The ``r`` numbers of a sheet's row elements, fed block by block, to find a row written twice: both readers
    (calamine) then merge the two rows into one, the second's cells over the first's, and a product vanishes
    without a word.  Rows in any order are fine (each is placed by its number).  Only row tags whose first
    attribute is ``r`` are read (every writer's; one literal search, as fast as a byte count), in the root's
    namespace prefix too.  The numbers are kept as 4-byte integers; rows that only go up are never sorted."""

    def __init__(self, prefix: bytes = b"") -> None:
        self._patterns = [_row_number_pattern(x) for x in sorted({b"", prefix})]
        self._numbers = array("i")
        self._ordered = True
        self._pending = b""

    def feed(self, block: bytes) -> None:
        data = self._pending + block
        cut = data.rfind(b"<", max(len(data) - _ROW_TAG, 0)) if block else -1  # a tag cut by the block's end
        if cut < 0:  # is searched with the next block
            cut = len(data)
        found = [n for pattern in self._patterns for n in map(int, pattern.findall(data, 0, cut))]
        if found:
            if self._ordered:
                last = self._numbers[-1] if self._numbers else 0
                self._ordered = len(self._patterns) == 1 and last < found[0] \
                    and all(map(operator.lt, found, islice(found, 1, None)))
            self._numbers.extend(found)
        self._pending = data[cut:]

    def repeated(self) -> int | None:
        """The lowest row number written twice, or None."""
        self.feed(b"")
        if self._ordered:
            return None
        numbers = sorted(self._numbers)
        return next((a for a, b in zip(numbers, islice(numbers, 1, None), strict=False) if a == b), None)


_ROW_TAG = 96  # the longest '<prefix:row r="123456789"' searched for across two blocks


def _row_number_pattern(prefix: bytes) -> re.Pattern[bytes]:
    return re.compile(b"<" + re.escape(prefix) + rb'row r="([0-9]{1,9})"')


# a shared-text cell whose index is not 1 to 10 digits (calamine read "-1", "1.5" or " 3 " as the first text), or
# any TRUE/FALSE cell (rare: its value is checked in Python)
_BAD_TYPED_VALUE = re.compile(rb't\s*=\s*["\'](?:s["\'][^>]{0,200}>\s*<(?:[\w.-]{1,32}:)?v>'
                              rb"((?:[^<0-9][^<]{0,63})|[0-9]{1,64}[^<0-9][^<]{0,63}|[0-9]{11,64})<"
                              rb'|b["\'][^>]{0,200}>\s*<(?:[\w.-]{1,32}:)?v>([^<]{0,64})<)')
# where _BAD_TYPED_VALUE may match: a shared-text or TRUE/FALSE type, unless it is a shared-text cell's common
# form whose value is an index (then _BAD_TYPED_VALUE cannot match there: see BadTypedValues.feed); and where an
# error cell's t="e" (has_marker) may be
_MAYBE_BAD_TYPED = re.compile(rb"""t(?!="s"><v>[0-9]{1,10}<)\s*=\s*["'][sbe]["']""")
_ERROR_TYPE = b't="e"'
_BOOLEANS = frozenset({b"0", b"1"})  # what Excel writes; fastexcel read "false" as TRUE, the row reader as FALSE
_CELL_WINDOW = 512  # such a cell is shorter: one cut by a block's end is searched whole with the next


class BadTypedValues:
    """Finds a cell whose value its type cannot hold, which the readers take differently or silently: a
    shared-text cell (``t="s"``) whose value is not an index (calamine read ``-1``, ``1.5``, `` 3 `` or an index
    too large for a number as the table's first text: the header "SKU" became the product's SKU, and the
    product typed there vanished without a word), or a TRUE/FALSE cell (``t="b"``) holding other than 1 or 0
    (fastexcel read ``2`` and ``false`` as Yes, the row reader refused ``2`` and read ``false`` as No).  One
    search per block, on the reader's helper thread."""

    def __init__(self) -> None:
        self._pending = b""
        self.found: tuple[bytes, bytes, str] | None = None  # (the cell element's start, the value, its kind)
        # whether an error cell's t="e" occurs (has_marker's second search, answered from this one's first match;
        # no longer looked for once ``found``: the sheet is then refused)
        self.error_cells = False

    def feed(self, block: bytes) -> None:
        if self.found is not None:
            return
        data = self._pending + block
        # Most sheets' texts are shared: a "t" starts each such cell, and _BAD_TYPED_VALUE tries its whole
        # pattern at each (a fourth of a second for 100,000 rows).  _MAYBE_BAD_TYPED rules out the common form
        # t="s"><v>123< with one look ahead, and every match of _BAD_TYPED_VALUE starts where it matches (at
        # t="s"><v>, a value of 1 to 10 digits ended by "<" is no bad index): _BAD_TYPED_VALUE searches from its
        # first match on, or not at all.  (_pending is searched again: a cell cut by the block's end is whole.)
        # It also matches at each t="e": the search for error cells starts there too.
        first = _MAYBE_BAD_TYPED.search(data)
        start = first.start() if first is not None else len(data)
        if not self.error_cells and first is not None:
            self.error_cells = data.find(_ERROR_TYPE, start) >= 0
        for m in _BAD_TYPED_VALUE.finditer(data, start):
            shared, boolean = m.group(1), m.group(2)
            if shared is None and boolean in _BOOLEANS:
                continue
            start = max(data.rfind(b"<", 0, m.start()), 0)
            self.found = (data[start:m.start()][:60], (shared if shared is not None else boolean)[:40],
                          "shared" if shared is not None else "boolean")
            return
        self._pending = data[-_CELL_WINDOW:] if block else b""  # (a cell found twice is found once: search stops)


def _check_rows_once(p: Path, sheet: str, numbers: RowNumbers, indexes: BadTypedValues | None = None) -> None:
    twice = numbers.repeated()
    if twice is not None:
        raise SourceError(f"{p.name}: sheet '{sheet}' holds row {twice:,} twice (the file is damaged, or the program "
                          "that wrote it repeated the row: which of the two is right cannot be told); open it in "
                          "Excel or LibreOffice, check that row and save the file again")
    if indexes is not None:
        indexes.feed(b"")
        if indexes.found is not None:
            cell, value, kind = indexes.found
            ref = _REF.search(cell)
            where = f"cell {ref.group(1).decode().upper()}{ref.group(2).decode()}" if ref is not None else "a cell"
            shown = value.decode("utf-8", "replace")
            what = (f"refers to shared text '{shown}', which is not a text's number" if kind == "shared" else
                    f"holds '{shown}' as a TRUE/FALSE value, which Excel writes 1 or 0 (programs read it differently)")
            raise SourceError(f"{p.name}: sheet '{sheet}', {where} {what}: the file is damaged; open it in Excel or "
                              "LibreOffice and save it again")


def scan_details(zf: zipfile.ZipFile, member: str, scan: SheetScan,
                 padding: dict[int, PaddingFormat] | None = None, *, p: Path | None = None, sheet: str = "") -> None:
    """The merged ranges, formula/error markers and padded cells of a sheet ``scan_sheet`` measured without them,
    by inflating it again (it was measured whole: its size is within the limits); raise ``SourceError`` if it
    holds a row twice (``RowNumbers``; ``p`` and ``sheet`` name the file and sheet)."""
    merged: set[tuple[bytes, bytes, bytes, bytes]] = set()
    tail = b""
    info = zf.getinfo(member)
    styled = StyledCells(padding) if padding else None
    numbers = RowNumbers(scan.prefix)
    indexes = BadTypedValues()
    for block in _inflated(zf, info):
        chunk = tail + block  # (a marker cut by the block's start is found whole; a merged range twice, once kept)
        indexes.feed(block)
        scan.markers = scan.markers or indexes.error_cells
        _find_details(chunk, scan, merged)
        numbers.feed(block)
        if styled is not None:
            styled.feed(block)
        tail = chunk[-_TAIL:]
    _check_rows_once(p or Path(zf.filename or "workbook"), sheet or member, numbers, indexes)
    scan.merged = _merged_ranges(merged)
    if styled is not None:
        scan.padded = _styled_cells(zf, info, styled)


def _styled_cells(zf: zipfile.ZipFile, info: zipfile.ZipInfo, styled: StyledCells) -> PaddedCells | None:
    """What ``styled`` found over the whole sheet; a styled cell without a reference (rare: most writers give
    every cell one) has the sheet walked tag by tag to place it, as calamine does."""
    found = styled.finish()
    if not styled.unplaced:
        return found
    return _walked_styles(zf, info, styled.styles)


def root_prefix(data: bytes) -> bytes:
    """The namespace prefix (``b"x:"``) of a sheet XML's root element, which is every element's; else b""."""
    root = _ROOT.search(data)
    return (root.group(1) or b"") if root is not None else b""


def has_marker(chunk: bytes, prefix: bytes = b"") -> bool:
    """Whether a piece of sheet XML may hold a formula (``<f``, or ``<x:f`` under the root's ``prefix``) or an
    error cell (one more search only for a prefixed sheet)."""
    return _has_formula(chunk, prefix) or _ERROR_TYPE in chunk


def _has_formula(chunk: bytes, prefix: bytes) -> bool:
    return b"<f" in chunk or (prefix != b"" and b"<" + prefix + b"f" in chunk)


def _find_details(chunk: bytes, scan: SheetScan, merged: set) -> None:
    """A formula marker (the error cells' are ``BadTypedValues.error_cells``: one search fewer) and the merged
    ranges of ``chunk``."""
    if not scan.markers and _has_formula(chunk, scan.prefix):
        scan.markers = True
    if b"mergeCell " in chunk:
        merged.update(_MERGE.findall(chunk))


def _merged_ranges(merged: set) -> list[tuple[int, int, int, int]]:
    return sorted((int(r0) - 1, _column_number(c0) - 1, int(r1) - 1, _column_number(c1) - 1)
                  for c0, r0, c1, r1 in merged if len(c0) < 4 and len(c1) < 4 and len(r0) < 8 and len(r1) < 8)


def _odd_syntax(folded: bytes) -> bool:
    """Whether a folded chunk (``_FOLD``) may hold a reference written otherwise than ``r="XFD1"``: in small
    letters, quoted with apostrophes, or with white space around its "=".  XML allows them, calamine reads them
    and no spreadsheet program writes them; the fast searches, which look for ``r="`` and capitals, missed such a
    reference (a cell at XFD250000 aborted the process), so the sheet is measured by the exact pass.  One search
    with a literal start; text that merely looks so ("for r = 1") costs the exact pass, nothing more."""
    return _ODD.search(folded) is not None


def _unusual_refs(folded: bytes) -> tuple[bool, bool]:
    """(``_odd_syntax(folded)``, whether ``folded`` holds ``' r="AA'``: a column of two letters or more), both
    exactly, for the price of one search where the sheet's references are all in columns A to Z and written as
    every program writes them (the common case, on the critical path: the Products sheet loads once measured).

    Both searches stop at each of the sheet's references (" r" starts every one), and ``_ODD`` costs about
    twice a plain search there.  ``_UNUSUAL`` stops at the same places and only looks ahead two or three bytes:
    where it finds nothing, neither can (each of their matches starts at one of its matches); where it finds
    something, both start from there.  A sheet wider than Z costs what it cost before, plus the stretch of its
    first row up to column AA."""
    first = _UNUSUAL.search(folded)
    if first is None:
        return False, False
    start = first.start()
    return _ODD.search(folded, start) is not None, folded.find(b' r="AA', start) >= 0


def _far_refs(chunk: bytes, folded: bytes, wide: bool) -> tuple[int, int]:
    """(row, column) bounds of the references in ``chunk`` that are beyond the fast bounds (0 when none).
    With letters and digits folded to ``A`` and ``0`` (``folded``: one C pass), a column of two letters or more
    (``wide``: ``' r="AA'`` occurs in ``folded``, from ``_unusual_refs``) and a number of six digits or more are
    each one search; only then are the references parsed."""
    max_row = max_col = 0
    # column AA or beyond: if beyond AX, the exact columns, from the references themselves
    if wide and _BIG_COLUMN.search(chunk) is not None:
        max_col = max(_column_number(c) if len(c) < 5 else MAX_EXCEL_COLUMNS + 1 for c in _REF_COLUMN.findall(chunk))
    many = folded.count(b'000000"')  # a number of six digits or more before a quote (rows 100,000 on)
    if many:
        if many > 20_000:
            return MAX_EXCEL_ROWS + 1, max_col  # a long sheet: the exact pass measures it
        pos = folded.find(b'000000"')
        while pos >= 0:
            start = pos
            while start > 0 and folded[start - 1] == 48:  # "0"
                start -= 1
            if chunk[start - 1:start] in _REF_BEFORE_DIGITS:
                digits = chunk[start:pos + 6]
                max_row = max(max_row, int(digits) if len(digits) < 9 else MAX_EXCEL_ROWS + 1)
            pos = folded.find(b'000000"', pos + 7)
    return max_row, max_col


def _inflated(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes, a block at a time, inflated on a thread of their own: zlib releases the GIL, so
    inflating the next block overlaps the byte counts on this one."""
    blocks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            with zf.open(info) as fh:
                while not stop.is_set():
                    block = fh.read(_CHUNK)
                    _put(block)
                    if not block:
                        return
        except BaseException as e:  # re-raised by the consumer
            _put(e)

    def _put(item: object) -> None:
        while not stop.is_set():
            try:
                blocks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=produce, name="spreadsheet-inflate", daemon=True)
    thread.start()
    try:
        while True:
            item = blocks.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _count(chunk: bytes, tail: bytes, needles: tuple[bytes, ...]) -> int:
    """Occurrences in ``chunk`` not wholly inside ``tail`` (its first bytes, counted with the previous chunk)."""
    return sum(chunk.count(n) - tail.count(n) for n in needles)


def _exact_grid(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(last row, last column) of the cells, following ``<row>`` and ``<c>`` elements as calamine does
    (``_placed_cells``)."""
    max_row = max_col = 0
    for r, col, _attrs in _placed_cells(_read_blocks(zf, info)):
        max_row = max(max_row, r)
        max_col = max(max_col, col)
    return max_row, max_col


def overlapping_chunks(zf: zipfile.ZipFile, member: str | zipfile.ZipInfo, keep: int) -> Iterator[tuple[bytes, bool]]:
    """(chunk, whether it is the first) of a zip member read a block at a time, each chunk a block after the last
    ``keep`` bytes of the one before: a marker of up to ``keep + 1`` bytes cut by a block's end is seen whole."""
    tail = b""
    first = True
    for block in _read_blocks(zf, member):
        yield tail + block, first
        first = False
        tail = block[-keep:]


def _read_blocks(zf: zipfile.ZipFile, info: zipfile.ZipInfo | str) -> Iterator[bytes]:
    with zf.open(info) as fh:
        while True:
            block = fh.read(_CHUNK)
            if not block:
                return
            yield block


def _placed_cells(blocks: Iterable[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(1-based row, 1-based column, attributes) of every ``<c>`` element, placed as calamine places them: a
    cell's reference wins; without one, the cell is right of the previous one, on the current row (a row
    without a reference is below the previous row)."""
    row = 0
    col = 0
    pending = b""
    for block in chain(blocks, (b"",)):
        data = pending + block
        cut = len(data) if not block else data.rfind(b"<")
        if cut < 0:
            cut = 0
        for m in _TAG.finditer(data, 0, cut):
            attrs = m.group(2)
            refs = _REF.findall(attrs)
            if len(refs) > 1:  # the attribute written twice (not XML, yet read): the farther one counts
                refs = [max(refs, key=_ref_key)]
            letters, digits = refs[0] if refs else (b"", b"")
            if m.group(1) == b"row":
                row = int(digits) if digits and not letters else row + 1
                col = 0
                continue
            if letters:  # (beyond the sheet's last column or row: capped)
                col = _column_number(letters) if len(letters) < 5 else MAX_EXCEL_COLUMNS + 1
                r = int(digits) if len(digits) < 9 else MAX_EXCEL_ROWS + 1
            else:
                col += 1
                r = row
            yield r, col, attrs
        pending = data[cut:]


def _ref_key(ref: tuple[bytes, bytes]) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
    """Orders (letters, digits) references by column, then row, without turning them into numbers."""
    letters, digits = ref
    return (len(letters), letters.upper()), (len(digits.lstrip(b"0")), digits.lstrip(b"0"))


_STYLE = re.compile(rb'\ss="([0-9]+)"')


def _walked_styles(zf: zipfile.ZipFile, info: zipfile.ZipInfo,
                   styles: dict[int, PaddingFormat]) -> PaddedCells | None:
    """The cells bearing one of ``styles``, every tag followed (``_placed_cells``): for a sheet whose styled cells
    lack a reference, which ``StyledCells`` cannot place."""
    found: dict[int, list[bytes]] = {s: [] for s in styles}
    for r, col, attrs in _placed_cells(_read_blocks(zf, info)):
        style = _STYLE.search(attrs)
        if style is not None and int(style.group(1)) in found:
            found[int(style.group(1))].append(b"%s%d" % (column_letters(col).encode(), r))
    out = {s: (styles[s], b" ".join(refs)) for s, refs in found.items() if refs}
    return PaddedCells(out) if out else None


# --- .xls / .xlsb (and any sheet loaded unmeasured) --------------------------------------------------------
# An .xls (BIFF in an OLE2 file) has no XML to measure, and calamine parses every sheet of it when it opens the
# file; an .xlsb's sheets are binary records.  What can be checked: the file's size before any reader opens it
# (an .xls is not compressed: its size bounds what calamine parses; an .xlsb is a zip, whose directory
# ``check_archive`` measures), each sheet's grid as calamine reports it before it is turned into Python objects
# (``check_grid``: the Python grid costs ten times the native one), and the length of its texts (``check_texts``).

MAX_XLS_BYTES = MAX_MEMBER_BYTES
MAX_CELL_CHARS = 131_072  # the CSV reader's limit (the csv module's); Excel keeps at most 32,767 in a cell


def check_file_size(p: Path, size: int) -> None:
    """Refuse an .xls larger than a reader should parse (calamine loads and parses it whole when it opens it)."""
    if size > MAX_XLS_BYTES:
        raise SourceError(f"{p.name}: the workbook is {_mb(size)} (at most {_mb(MAX_XLS_BYTES)} are read); save it "
                          f"as .xlsx, split it, or {REMEDY}")


def check_grid(p: Path, sheet: str, end: tuple[int, int] | None) -> None:
    """Refuse a sheet whose grid from A1 to its last cell (``end``: calamine's 0-based (row, column) of it) is
    beyond the limits the .xlsx scan applies (rows, cells, columns)."""
    if end is not None:
        _check_bounds(p, sheet, end[0] + 1, end[1] + 1)


def check_texts(p: Path, sheet: str, rows: list[list]) -> None:
    """Refuse a sheet with a cell text longer than ``MAX_CELL_CHARS`` (no spreadsheet program writes one; a
    product field never needs one), naming the cell."""
    for r, cells in enumerate(rows):
        for c, value in enumerate(cells):
            if type(value) is str and len(value) > MAX_CELL_CHARS:
                raise SourceError(f"{p.name}: sheet '{sheet}', cell {column_letters(c + 1)}{r + 1} holds "
                                  f"{len(value):,} characters (at most {MAX_CELL_CHARS:,} are read; a spreadsheet "
                                  "program keeps 32,767): the file is damaged or not a catalogue; shorten that cell "
                                  "and save the file again")


# --- OpenDocument (.ods) ---------------------------------------------------------------------------------

_ODS_TAG = re.compile(rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)\b([^>]*?)(/?)>")
# (attributes as XML allows them: quoted either way, white space around "=")
_ODS_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated\s*=\s*["\']([0-9]+)')
_ODS_COLS_REPEATED = re.compile(rb'table:number-columns-repeated\s*=\s*["\']([0-9]+)')
_ODS_NAME = re.compile(rb'table:name\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def check_ods(p: Path, zf: zipfile.ZipFile) -> None:
    """An .ods repeats rows and cells by attributes (``number-rows-repeated="1048575"``): 1 KB can describe
    17 billion cells, which calamine materializes.  Each table's grid is measured up to its last non-empty cell
    (a cell with a value type or content; LibreOffice's empty filler rows and cells count for nothing)."""
    if "content.xml" not in zf.NameToInfo:
        return
    info = zf.getinfo("content.xml")
    with zf.open(info) as fh:
        data = fh.read(MAX_MEMBER_BYTES + 1)
    name = "?"
    row = 0  # rows before the current row element
    row_repeat = 1
    col = 0  # columns before the current cell
    last_row = last_col = 0
    cells = 0
    for m in _ODS_TAG.finditer(data):
        closing, tag, attrs, empty = m.group(1), m.group(2), m.group(3), m.group(4)
        if tag == b"table":
            if not closing:
                found = _ODS_NAME.search(attrs)
                name = (found.group(1) or found.group(2) or b"").decode("utf-8", "replace") if found else "?"
                row = last_row = last_col = 0
            continue
        if tag == b"table-row":
            if closing:
                row += row_repeat
            else:
                found = _ODS_ROWS_REPEATED.search(attrs)
                row_repeat = int(found.group(1)) if found else 1
                col = 0
                if empty:
                    row += row_repeat
            continue
        if closing:
            continue
        found = _ODS_COLS_REPEATED.search(attrs)
        repeat = int(found.group(1)) if found else 1
        col += repeat
        if not empty or b"value-type" in attrs:  # a value: the grid reaches this cell on every repeated row
            last_row = max(last_row, row + row_repeat)
            last_col = max(last_col, col)
            cells += repeat * row_repeat
            if last_row > MAX_ROWS or last_row * last_col > MAX_GRID_CELLS or cells > MAX_CELLS:
                corner = f"{column_letters(min(last_col, MAX_EXCEL_COLUMNS))}{min(last_row, MAX_EXCEL_ROWS)}"
                raise SourceError(f"{p.name}: sheet '{name}' reaches cell {corner} ({last_row:,} rows x {last_col:,} "
                                  f"columns, repeated rows and cells included; at most {MAX_ROWS:,} rows and "
                                  f"{MAX_GRID_CELLS:,} cells are read); {REMEDY}")
