"""Raw grids -> validated canonical ``Product``s, ``Issue``s and one ``RowRef`` per input row.

Columns are converted whole (one converter per column, see cells.py); rows are then checked and grouped by
Parent SKU (or their own SKU when it is blank) into products, variants in row order.  A row with any error
is skipped; the other rows carry on.  Records are built column-wise (``map`` over whole columns) because
per-row Python code is what dominates the time on 100k rows.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import MISSING, fields
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain, compress, islice, repeat, starmap
from operator import attrgetter, is_, is_not, itemgetter
from types import MemberDescriptorType
from typing import Any

from connector.errors import SourceError
from connector.memory import release_freed_memory
from connector.model import ABSENT, STOCK_KINDS, Money, Product, SourceRef, StockLevel, Variant
from connector.shown import first_few
from connector.sources.base import Issue, SourceResult
from connector.sources.lookalike import LOOK_ALIKE, plain_char

from .cells import (
    COMMA_DECIMAL,
    DATE_IN_CODE,
    LONG_NUMBER,
    MAX_EXACT_NUMBER,
    barcode_problem,
    converter_for,
    date_cells,
    long_numbers,
    text_of,
)
from .columnar import ArrowColumns, decimal_texts, head_rows, used_rows_end
from .columns import (
    DECIMAL,
    EXAMPLE_PREFIXES,
    INTEGER,
    LIST,
    PRODUCT_ALIASES,
    STOCK_ALIASES,
    TEXT,
    ColumnSpec,
    HeaderMap,
    header_text,
    match_headers,
    normalize,
)
from .controls import MULTI_LINE, control_problems, free_of_controls
from .guard import column_letters
from .presized import Presized
from .reader import RawBook, RawSheet

# zero-width characters, bidi controls, soft hyphen, word joiners, BOM, control characters other than the tab and
# line breaks (a DOS end-of-file mark, DEL, C1 controls): invisible in a cell
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f"
                        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_VISIBLE_ASCII = bytes(b for b in range(128) if not _INVISIBLE.match(chr(b)))  # the ASCII bytes _INVISIBLE leaves
_NUMBERS = frozenset({DECIMAL, INTEGER})
# a number column is converted once per distinct cell up to this share of distinct cells
_MOSTLY_DISTINCT = 0.9
_LIMITED = frozenset({"price", "quantity"})  # columns whose numbers are sent as they are: bounded (cells.py)
MISSING_VALUE = "missing required value"
# identifier columns read as a zero-padding format shows them (``00123`` for 123), and those read as typed
_READ_AS_SHOWN = frozenset({"barcode", "hs_code"})
ROUNDED_BY_FORMAT = ("a number with decimals, which the cell's format {code} shows rounded ({shown}): type the code "
                     "as text, as it should read")
PADDED_SKU = ("'{sheet}', column '{column}': {count} cell(s) typed as numbers show leading zeros through their "
              "format {code} (row {row}: Excel shows '{shown}', read as '{read}'). They are read as typed, so that "
              "SKUs already synced keep their listings. To keep the zeros, type these SKUs as text (format the "
              "column as Text and type them again), knowing that a changed SKU becomes a new listing and the old "
              "one leaves the source")
NEGATIVE_STOCK = "negative stock"
ZERO_PRICE = "price 0: a product is never put on sale for nothing (type its price)"
HEADER_SEARCH_ROWS = 10  # the header row is the first of the first 10 rows that has a SKU column


def _character_problem(value: str) -> str | None:
    """The first invisible or look-alike character of a SKU in the merchant's words (None: it has neither)."""
    for pattern in (_INVISIBLE, LOOK_ALIKE):
        found = pattern.search(value)
        if found is not None:
            break
    else:
        return None
    ch = found.group()
    where = f"({unicodedata.name(ch, 'control character').lower()}, U+{ord(ch):04X}) at position {found.start() + 1}"
    if pattern is _INVISIBLE:
        return f"invisible character {where}: delete it and type the value again"
    plain = plain_char(ch)
    instead = "a plain space" if plain == " " else repr(plain)
    return f"look-alike character {where}: it looks like {instead} but is another character; type {instead} instead"

# canonical field names reported in SourceResult.provided_fields, per column key
_PROVIDED = {
    "sku": "sku", "name": "name", "description": "description", "brand": "brand",
    "category": "category_path", "price": "price", "cost": "cost", "barcode": "barcode",
    "weight": "weight", "hs_code": "hs_code", "active": "active", "images": "images",
}
_PRODUCT_LEVEL = ("name", "description", "brand", "category")
_VARIANT_LEVEL = ("price", "currency", "cost", "barcode", "weight", "hs_code", "active", "images")
_VARIANT_ONLY = ("currency", "price", "cost", "barcode", "weight", "hs_code")  # columns the products do not read
_CHECKED_TEXT = ("name", "description", "brand", "category", "hs_code")  # for control characters (controls.py)
_EXAMPLE_FIRST = frozenset(p[0] for p in EXAMPLE_PREFIXES) | frozenset(p[0].upper() for p in EXAMPLE_PREFIXES)

# GS1 check digit of an n-digit code from its ASCII bytes: (base - 3*sum(odd) - sum(even)) % 10, where base
# gives back the 48s of the ASCII digits (plus 1000 to stay positive; a multiple of 10 changes nothing).
_BARCODE_SIZES = frozenset({8, 12, 13, 14})
_BARCODE_BASE = {size: 48 * (3 * (size // 2) + (size - 1) // 2) + 1000 for size in _BARCODE_SIZES}
# ASCII digit -> weight * digit mod 10, for weights 1 and 3; lane value -> 1 unless a multiple of 10
_WEIGHTED = {w: bytes((w * (b - 48)) % 10 if 48 <= b <= 57 else 0 for b in range(256)) for w in (1, 3)}
_NOT_MULTIPLE_OF_10 = bytes(0 if b % 10 == 0 else 1 for b in range(256))


def _construct_all(cls: type, n: int, columns: dict[str, Any]) -> list:
    """``n`` instances of dataclass ``cls`` built column-wise: ``map(cls, *columns)`` in the model's field
    order (positional calls from C are much cheaper than per-row keyword calls), defaults filled for the
    fields not given, so a field added to the model later does not break this."""
    args: list = []
    last = 0
    for f in fields(cls):
        if not f.init:
            continue
        if f.name in columns:
            args.append(columns[f.name])
            last = len(args)
        elif f.default_factory is not MISSING:
            args.append(starmap(f.default_factory, repeat(())))  # a new default (dict, list) per instance
        elif f.default is not MISSING:
            args.append(repeat(f.default))
        else:
            raise TypeError(f"{cls.__name__}.{f.name} has no default")
    out = list(Presized(islice(map(cls, *args[:last]), n), n))
    if len(out) != n:  # a column shorter than the sheet: a bug, never silently drop records
        raise AssertionError(f"{cls.__name__}: {len(out)} records built for {n} rows")
    return out


def _construct_trusted(cls: type, n: int, columns: dict[str, Any]) -> list:
    """Like ``_construct_all`` for a slots dataclass, but without calling ``__init__``/``__post_init__``: the
    instances are allocated by ``cls.__new__`` and every field is stored through its slot descriptor, one
    C-level pass per field.  That bypasses a frozen class's ``__setattr__`` (``SourceRef``: 2x faster) and
    ``Money``'s Decimal check (3x faster).  TRUSTED: only for values this module has already validated (the
    decimal converter yields ``Decimal`` or ``None``, and ``None`` never reaches ``Money``).  The instances
    are the same as the constructor's (same fields, equality, hash, frozenness).  Every field must be given
    as a list of ``n`` values or an endless iterator; a missing field raises."""
    objs = list(Presized(map(cls.__new__, repeat(cls, n)), n))
    for f in fields(cls):
        col = columns[f.name]
        if hasattr(col, "__len__") and len(col) != n:
            raise AssertionError(f"{cls.__name__}.{f.name}: {len(col)} values for {n} records")
        slot = cls.__dict__[f.name]
        if not isinstance(slot, MemberDescriptorType):
            raise TypeError(f"{cls.__name__}.{f.name} is not a slot")
        deque(map(slot.__set__, objs, col), maxlen=0)
    return objs


def _source_refs(origin: str, first_row: int, n: int) -> list[SourceRef]:
    return _construct_trusted(SourceRef, n, {"origin": repeat(origin), "row": range(first_row, first_row + n),
                                             "ident": repeat(None)})


def _transpose(data: list[list], width: int) -> tuple[list, bool]:
    """Columns of ``data`` (every row at least ``width`` long), and whether all rows have one length.  Such
    rows (the rule) are chained into one flat list that is sliced per column: reading the cells row by row is
    twice as fast as ``zip(*data)``, which walks every row list once per column."""
    if not data:
        return [[] for _ in range(width)], True
    w = len(data[0])
    if max(map(len, data)) == w == min(map(len, data)):
        flat = list(chain.from_iterable(data))
        return [flat[j::w] for j in range(w)], True
    return list(map(list, zip(*data, strict=False))), False


def _blank_cells(row: list) -> bool:
    return not any(row) and all(v == "" or v is None for v in row)


def _negative_reason(spec: ColumnSpec) -> str | None:
    if not spec.nonnegative:
        return None
    return NEGATIVE_STOCK if spec.kind == INTEGER else f"negative {spec.labels['en'].split(' (')[0].lower()}"


def _is_example(sku: str) -> bool:
    return sku[0] in _EXAMPLE_FIRST and sku.casefold().startswith(EXAMPLE_PREFIXES)


def _rounded(v: float) -> int:
    """A number as a format without decimals shows it: rounded half away from zero (Excel's rule)."""
    return int(Decimal(repr(v)).to_integral_value(ROUND_HALF_UP))


def _shown(v: Any) -> str:
    return " > ".join(v) if isinstance(v, list) else str(v)


class _Sheet:
    """One sheet being validated: its header, its raw columns and the issues of its rows."""

    def __init__(self, raw: RawSheet, aliases: dict[str, ColumnSpec], dynamic: bool,
                 result: SourceResult, comma: str | None = None) -> None:
        self.name = raw.name
        self.all_str = raw.all_str
        self.comma = comma  # what a comma in a number is, when the file says (``cells.comma_of``)
        table = raw.table
        rows = raw.rows
        if table is not None:  # the rows above the table, then the table's first rows
            rows = [*rows[:raw.table_row], *head_rows(table, max(0, HEADER_SEARCH_ROWS - raw.table_row))]
        h, hm = self._find_header(rows, aliases, dynamic)
        for meaning, first, second in hm.duplicates:
            raise SourceError(f"sheet '{self.name}' has two columns for {meaning}: '{first}' and '{second}'")
        for _i, header in hm.unknown:
            result.warnings.append(f"column '{header}' in sheet '{self.name}' is not used")
        self.hm = hm
        self.headers = {i: header_text(v) for i, v in enumerate(rows[h])}
        self.first_row = h + 2  # 1-based row number of data[0]
        self.issues: dict[int, list[Issue]] = {}
        self.problems = {(r - h - 1, c): v for (r, c), v in raw.problems.items() if r > h}
        self.padded = raw.padded
        self.warnings = result.warnings
        self._ragged: list[list] | None = None
        self.columns: Sequence[list]
        if table is not None:  # an Arrow table (the CSV and xlsx fast paths): columns of one length
            start = h + 1 - raw.table_row
            if start < 0:  # never so: an xlsx table starts right under its header row
                raise AssertionError(f"sheet '{self.name}': data rows above the table (row {raw.table_row + 1})")
            end = used_rows_end(table, start)  # trailing blank rows dropped
            self.n = end - start
            self.columns = ArrowColumns(table, start, end)
            return
        width = len(rows[h])
        data = rows[h + 1:]
        while data and _blank_cells(data[-1]):
            data.pop()  # trailing blank rows (a CSV's final line break, formatted but empty rows)
        if raw.problems:  # a formula/error cell beyond calamine's range (its row holds nothing else)
            last = max(r for r, _ in raw.problems)
            while h + 1 + len(data) <= last:
                data.append([""] * width)
        if data and min(map(len, data)) < width:
            data = [r if len(r) >= width else [*r, *([""] * (width - len(r)))] for r in data]
        self.n = len(data)
        self.columns, uniform = _transpose(data, width)
        # Rows of one length are no longer needed: releasing them (and the book's) now lets the records built
        # next reuse their memory instead of faulting in fresh pages (build_result consumes the book).  Ragged
        # rows are kept: cells past the shortest row are not in ``columns`` but count for ``blank_row``.
        if uniform:
            del raw.rows[h + 1:]
        else:
            self._ragged = data

    def release(self, raw: RawSheet) -> None:
        """Let go of the raw cells (of ``raw``'s Arrow table too), every column being converted and checked:
        the records built next then take their memory instead of adding to it.  Rows of different lengths are
        kept (``blank_row``)."""
        if self._ragged is not None:
            return
        columns = self.columns
        self.columns = []
        if isinstance(columns, ArrowColumns):
            columns.release()
            raw.table = None
            release_freed_memory()

    def _find_header(self, rows: list[list], aliases: dict[str, ColumnSpec],
                     dynamic: bool) -> tuple[int, HeaderMap]:
        for h, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            hm = match_headers(row, aliases, dynamic)
            if "sku" in hm.fields:
                return h, hm
        first = next((r for r in rows if any(r)), [])
        seen = ", ".join(f"'{header_text(v)}'" for v in first if header_text(v)) or "nothing"
        raise SourceError(f"sheet '{self.name}' has no SKU column (expected a header 'SKU' in its first "
                          f"rows; found {seen})")

    def add(self, i: int, reason: str, col: int | None, value: Any = None, sku: str | None = None) -> None:
        column = self.headers.get(col, "") if col is not None else None
        issue = Issue(reason, sheet=self.name, row=self.first_row + i, column=column, value=value, sku=sku,
                      col_index=col)
        self.issues.setdefault(i, []).append(issue)

    def check_merged(self, merged: list[tuple[int, int, int, int]]) -> None:
        """Merged cells over data rows: only the first cell of a range holds the value, the others read as
        empty, so every data row the range covers is reported (with the range) instead of read half empty."""
        h = self.first_row - 2
        for r0, c0, r1, c1 in merged:
            label = f"{column_letters(c0 + 1)}{r0 + 1}:{column_letters(c1 + 1)}{r1 + 1}"
            for r in range(max(r0, h + 1), r1 + 1):
                i = r - h - 1
                if i >= self.n:
                    break
                self.add(i, f"merged cells {label}: unmerge them and type the value in every cell", c0)

    def check_invisible(self, key: str, values: list) -> None:
        """SKUs holding invisible characters (zero-width, bidi controls...) or characters that look like an
        ordinary one (a no-break space, full-width letters): two SKUs that look alike would be two products on
        the marketplace, or one would overwrite the other, and a synced SKU retyped with one would be taken for a
        new product and the listing it replaces for one gone."""
        m = self.hm.fields.get(key)
        if m is None:
            return
        columns = self.columns
        if isinstance(columns, ArrowColumns) and m.index < len(columns):
            chunks = columns.utf8_chunks(m.index)  # (its cells stripped are ``values``)
            if chunks is not None and all(b.isascii() and not b.translate(None, _VISIBLE_ASCII) for b in chunks):
                return  # checked in C: ASCII bytes (no look-alike), none of them invisible
        joined = "".join(filter(None, values))
        if not (_INVISIBLE.search(joined) or (not joined.isascii() and LOOK_ALIKE.search(joined))):
            return
        for i, v in enumerate(values):
            if v is None or (v.isascii() and v.isprintable()):  # (look-alikes are all outside ASCII)
                continue
            problem = _character_problem(v)
            if problem is not None:
                self.add(i, problem, m.index, v)

    def check_controls(self, index: int, values: list, multi_line: bool, what: str) -> None:
        """Cells of the text column ``index`` holding a control character ``what`` may not (``controls.py``).  An
        Arrow string column whose bytes hold none (``free_of_controls``) has no such cell: its cells are not looked
        at (``values`` are its cells stripped, or split into a category path)."""
        columns = self.columns
        if isinstance(columns, ArrowColumns) and index < len(columns):
            chunks = columns.utf8_chunks(index)
            if chunks is not None and all(free_of_controls(b, multi_line) for b in chunks):
                return
        for i, reason, shown in control_problems(values, multi_line, what):
            self.add(i, reason, index, shown)

    def blank_row(self, i: int) -> bool:
        cells = self._ragged[i] if self._ragged is not None else map(itemgetter(i), self.columns)
        return all(v is None or (v.__class__ is str and not v.strip()) for v in cells)

    def convert(self, index: int, kind: str, negative_reason: str | None = None, limited: bool = False) -> list:
        """Convert one column; rejected cells become issues and ``None`` (``limited``: see ``converter_for``).
        An Arrow column whose cells repeat is converted once per distinct cell (``ArrowColumns.coded``: every
        converter gives a cell what it gives any equal cell, and equal cells then share one object; the image
        lists' is left out, each cell needing a list of its own).  A number column is encoded whole (its top
        rows may look distinct when the column is not), and used even with mostly distinct cells: the encoding
        is made anyway, and a float's ``repr``, a text's parse and their Decimal cost more than reading a
        position (a CSV's prices, two thirds distinct: half the time), and equal cells share one Decimal (a
        CSV's 100,000 prices, costs and weights of 67,000 products: 69,000 Decimals and 7 MB fewer).  And a text
        column when at most half of its cells are distinct (brands, attribute values, HS codes: one string each
        instead of one per row)."""
        columns = self.columns
        arrow = isinstance(columns, ArrowColumns) and index < len(columns)
        text = arrow and columns.is_text(index)  # type: ignore[union-attr]
        coded = None
        if arrow and kind in _NUMBERS:  # encoded whole (the top rows do not tell: weights 95% distinct, the column 20%)
            coded = columns.distinct(index, _MOSTLY_DISTINCT, False)  # type: ignore[union-attr]
        elif arrow and kind not in (TEXT, LIST):
            coded = columns.coded(index)  # type: ignore[union-attr]
        elif kind == TEXT and text:
            coded = columns.distinct(index, 0.5)  # type: ignore[union-attr]
        bad: dict[int, str] = {}
        if kind == TEXT and text and coded is None:
            values = columns.text(index)  # type: ignore[union-attr]  # stripped by Arrow: no raw list made
        elif coded is not None:
            cells, codes, distinct = coded
            texts = decimal_texts(distinct) if kind == DECIMAL and not text else None  # typed numbers (xlsx)
            converted, bad_cells = converter_for(kind, negative_reason, limited, self.comma)(
                cells if texts is None else texts, text or texts is not None)
            values = list(Presized(map(converted.__getitem__, codes), len(codes)))
            if bad_cells:
                for i, c in enumerate(codes):
                    if c in bad_cells:
                        bad[i] = bad_cells[c]
                        self.add(i, bad_cells[c], index, cells[c])
        else:
            raw = (columns.cells(index) if arrow else columns[index]) if index < len(columns) \
                else [""] * self.n  # type: ignore[union-attr]
            texts = decimal_texts(columns.array(index)) if arrow and kind == DECIMAL and not text \
                else None  # type: ignore[union-attr]
            values, bad = converter_for(kind, negative_reason, limited, self.comma)(
                raw if texts is None else texts, self.all_str or texts is not None)
            for i, reason in bad.items():
                self.add(i, reason, index, raw[i])
        if self.problems:
            for (i, c), (value, reason) in self.problems.items():
                if c == index and 0 <= i < self.n:
                    values[i] = None
                    if i in bad:
                        self.issues[i] = [x for x in self.issues[i] if x.col_index != index]
                    self.add(i, reason, index, value)
        return values

    def field(self, key: str) -> list | None:
        m = self.hm.fields.get(key)
        if m is None:
            return None
        assert m.spec is not None
        values = self.convert(m.index, m.spec.kind, _negative_reason(m.spec), key in _LIMITED)
        # (None is no 0; negative cells were refused by the converter; every value true, the rule, holds no 0: known
        # without comparing each number with 0)
        if m.spec.positive and not all(values) and 0 in values:
            for i in [i for i, v in enumerate(values) if v is not None and v == 0]:
                self.add(i, ZERO_PRICE, m.index, values[i])
                values[i] = None
        if m.spec.text_format and m.index < len(self.columns) and not (
                isinstance(self.columns, ArrowColumns) and self.columns.is_text(m.index)):
            raw = self.columns[m.index]
            for i in long_numbers(raw, self.all_str):
                self.add(i, LONG_NUMBER, m.index, raw[i])  # the row is skipped; its text is kept for the report
            for i in date_cells(raw, self.all_str):
                self.add(i, DATE_IN_CODE, m.index, text_of(raw[i]))  # (skipped too)
            if self.padded is not None and self.padded.touches(column_letters(m.index + 1)):
                self._as_shown(key, m.index, raw, values)
        return values

    def _as_shown(self, key: str, index: int, raw: list, values: list) -> None:
        """Numbers of an identifier column in cells whose format pads them with zeros (``00000``: 123 shows
        ``00123``; formats.py).  A barcode or HS code is read as the cell shows it: the marketplace gets the code
        the merchant sees (a number wider than the format shows as typed).  Such a number with decimals shows
        rounded: reported, the code is not guessed.  A SKU or Parent SKU is read as typed, so that a SKU already
        synced keeps its listing, and one warning per column says so (``PADDED_SKU``)."""
        assert self.padded is not None
        kinds = set(map(type, raw))
        if float not in kinds and int not in kinds:
            return
        floats = [v for v in raw if v.__class__ is float] if float in kinds else []
        ints = [v for v in raw if v.__class__ is int] if int in kinds else []
        whole = all(map(float.is_integer, floats))
        least = [f.shows_as_typed_from for f in self.padded.formats()]
        smallest = min(min(floats, default=MAX_EXACT_NUMBER), min(ints, default=MAX_EXACT_NUMBER))
        if whole and None not in least and smallest >= max(least):  # type: ignore[type-var]
            return  # every number is as wide as its format: shown as typed
        as_shown = key in _READ_AS_SHOWN
        found: list[tuple[int, str, str]] = []
        first, n = self.first_row, self.n
        for fmt, rows in self.padded.in_column(column_letters(index + 1)):
            at = list(map(first.__rsub__, rows))  # data row of each cell (the header's may be styled too)
            if min(at) < 0 or max(at) >= n:
                at = [i for i in at if 0 <= i < n]
            if fmt.shows_as_typed_from is not None and fmt.zero is None:  # the rule: zeros only (``00000``)
                limit = min(fmt.shows_as_typed_from, MAX_EXACT_NUMBER)
                cells = list(map(raw.__getitem__, at))
                if whole and set(map(type, cells)) == {float} and min(cells, default=0) >= 0:
                    short = list(compress(at, map(float(limit).__gt__, cells)))  # the usual column, in C
                else:
                    short = [i for i, v in zip(at, cells, strict=True)
                             if ((v.__class__ is float and v.is_integer()) or v.__class__ is int) and 0 <= v < limit]
                if self.problems or self.issues:
                    short = [i for i in short if values[i] is not None]
                shown = list(map(str.zfill, map(values.__getitem__, short), repeat(fmt.width)))
                if as_shown:
                    deque(map(values.__setitem__, short, shown), maxlen=0)
                else:
                    found.extend(zip(short, shown, repeat(fmt.code)))
                if whole:
                    continue
                at = [i for i in at if raw[i].__class__ is float and not raw[i].is_integer()]
            for i in at:
                v = raw[i]
                if (v.__class__ is not float and v.__class__ is not int) or not 0 <= v < MAX_EXACT_NUMBER \
                        or values[i] is None:
                    continue  # text, a negative number (shown with its sign), a cell reported already
                if v % 1 == 0:
                    text = fmt.render(int(v))
                    if text is not None and text != values[i]:
                        if as_shown:
                            values[i] = text
                        else:
                            found.append((i, text, fmt.code))
                    continue
                text = fmt.render(_rounded(v))
                if text is None:
                    continue
                if as_shown:
                    values[i] = None
                    self.add(i, ROUNDED_BY_FORMAT.format(code=fmt.code, shown=text), index, v)
                else:
                    found.append((i, text, fmt.code))
        if found:
            i, shown, code = min(found)
            self.warnings.append(PADDED_SKU.format(sheet=self.name, column=self.headers.get(index, ""),
                                                   count=len(found), row=self.first_row + i, shown=shown,
                                                   read=values[i], code=code))

    def row_refs(self, result: SourceResult, skus: list, skip: list[bool] | None,
                 refs: list[SourceRef] | None = None, reasons: dict[int, str] | None = None) -> list:
        """One row in ``result.rows`` per data row (blank and example rows excepted); issues go to ``result``."""
        why: dict[int, str] = {}
        for i in sorted(set(self.issues) | set(reasons or ())):
            row_issues = self.issues.get(i)
            if row_issues:
                for x in row_issues:
                    if x.sku is None:
                        x.sku = skus[i]
                result.issues.extend(row_issues)
                why[i] = "; ".join(f"{x.column}: {x.reason}" if x.column else x.reason for x in row_issues)
            else:
                why[i] = (reasons or {})[i]
        result.rows.add_sheet(self.name, self.first_row, skus, why, skip)
        return refs


def build_result(book: RawBook, currency: str = "MRU") -> SourceResult:
    """Validate the raw grids of ``book`` and build canonical products."""
    result = SourceResult()
    for name in book.unused_sheets:
        result.warnings.append(f"sheet '{name}' is not used")
    # a CSV separated by ";" is written where the comma is the decimal sign (the reason for that separator);
    # tabs separate the exports of every locale, and say nothing of it
    comma = COMMA_DECIMAL if book.delimiter == ";" else None
    sheet = _Sheet(book.products, PRODUCT_ALIASES, True, result, comma)
    hm = sheet.hm
    n = sheet.n
    for key in ("name", "price"):
        if key not in hm.fields:
            result.warnings.append(f"sheet '{sheet.name}' has no {key.capitalize()} column: "
                                   f"{key}s are left unchanged")
    provided = {_PROVIDED[k] for k in hm.fields if k in _PROVIDED}
    if hm.attributes:
        provided.add("attributes")
    if hm.translations:
        provided.add("translations")
    if hm.stock or book.has_stock:
        provided.add("stock")
    result.provided_fields = provided

    # --- convert every column by its declared type
    absent = [ABSENT] * n
    sheet.check_merged(book.products.merged)
    skus: list = sheet.field("sku")  # type: ignore[assignment]
    parents = sheet.field("parent_sku") or [None] * n
    sheet.check_invisible("sku", skus)
    sheet.check_invisible("parent_sku", parents)
    cols: dict[str, list] = {}
    for key in (*_PRODUCT_LEVEL, *_VARIANT_LEVEL):
        c = sheet.field(key)
        cols[key] = c if c is not None else absent
    attrs = [(m.name, sheet.convert(m.index, TEXT)) for m in hm.attributes]
    trans = [(m, sheet.convert(m.index, TEXT)) for m in hm.translations]
    for key in _CHECKED_TEXT:
        if key in hm.fields:
            sheet.check_controls(hm.fields[key].index, cols[key], key in MULTI_LINE, f"a {key.replace('_', ' ')}")
    for m, (_, col) in zip(hm.attributes, attrs, strict=True):
        sheet.check_controls(m.index, col, False, "an attribute value")
    for m, col in trans:
        sheet.check_controls(m.index, col, m.name in MULTI_LINE, f"a translated {m.name}")
    inline_stock = [(m.name, sheet.convert(m.index, INTEGER, NEGATIVE_STOCK, True)) for m in hm.stock]
    if "barcode" in hm.fields:
        _check_barcodes(sheet, cols["barcode"], hm.fields["barcode"].index)

    # --- row checks: blank and example rows, required values, duplicate SKUs
    skip = [False] * n  # blank or example rows: not data rows
    prices = cols["price"]
    price_col = hm.fields["price"].index if "price" in hm.fields else None
    issues = sheet.issues
    first_row: dict[str, int] | _RowsOfSkus = {}
    if not _has_none(skus) and (price_col is None or not _has_none(prices)):
        every = set(skus)  # the common case, checked in C: each SKU on one row (a set: no dict of row numbers)
        if len(every) == n:
            first_row = _RowsOfSkus(skus, every)
        del every  # (held by ``first_row`` until the checks below, not through the records' build: the read's peak)
    if first_row.__class__ is dict or _any_example(skus):
        row_values = [parents, *cols.values(), *(c for _, c in attrs), *(c for _, c in trans),
                      *(c for _, c in inline_stock)]
        first_row = _check_rows(sheet, skus, prices, price_col, skip, row_values)
    _check_encoded_alike(sheet, skus, skip)
    # Parent SKU, or the SKU itself
    keys = skus
    plain_parents = "".join(filter(None, parents)).isascii()  # nothing to normalize (one pass, for both below)
    own: Sequence[int] = range(n)  # the rows without a Parent SKU
    if not _all_none(parents):  # a Parent SKU is a text: None or not empty
        if not plain_parents:
            parents = _one_spelling(parents)
        keys = parents[:]
        own = list(compress(range(n), map(is_, parents, repeat(None))))
        deque(map(keys.__setitem__, own, map(skus.__getitem__, own)), maxlen=0)
    _check_parent_conflicts(sheet, skus, parents, skip, first_row, plain_parents)
    if first_row.__class__ is not dict or len(first_row) == n:
        # every SKU distinct, on rows 0..n-1 in order: the dict is ``dict(zip(skus, range(n)))``, which only a stock
        # row whose SKU no variant has reads (about 7 MB for 100,000 rows, held through the records' build and the
        # stock sheets: the read's peak): made again from the SKUs if ever read
        first_row = _RowsOfSkus(skus)  # (without the set of SKUs, let go of)
    _check_example_parents(sheet, parents, skip)

    # --- group the good rows into products; product-level values must agree within a product
    good: Any = range(n)
    if issues or True in skip:
        good = [i for i in good if not skip[i] and i not in issues]
    groups: dict[str, list[int]] = {}  # key -> its rows, in order; one C pass (a new list offered per row)
    singles: Sequence[int] | None = None
    if good.__class__ is range:
        # No row refused nor skipped: a row without a Parent SKU is a product of its own (its SKU is no other row's
        # SKU nor Parent SKU: either is an issue), so only the rows with a Parent SKU are grouped, by their Parent SKU
        singles = own
        with_parent = list(compress(range(n), map(is_not, parents, repeat(None)))) if own.__class__ is list else []
        deque(map(list.append, map(groups.setdefault, map(keys.__getitem__, with_parent), starmap(list, repeat(()))),
                  with_parent), maxlen=0)
        with_parent = []
    else:
        good_keys = list(map(keys.__getitem__, good))
        deque(map(list.append, map(groups.setdefault, good_keys, starmap(list, repeat(()))), good), maxlen=0)
    own = good_keys = ()  # (not needed any more)
    level_cols = [(hm.fields[k].index, cols[k]) for k in _PRODUCT_LEVEL if k in hm.fields]
    level_cols += [(m.index, col) for m, col in trans]
    resolved = _resolve_product_values(sheet, groups, level_cols, skus)  # (single rows have nothing to resolve)
    first: list[int] = []  # the first row of each product, in order
    if singles is not None:
        first = sorted([*singles, *map(itemgetter(0), groups.values())])  # (two runs in order: merged)
        singles = None if issues or ("name" in hm.fields and _has_none(list(map(cols["name"].__getitem__, first)))) \
            else singles
        if singles is None:  # a row refused as a product's values are resolved, or a product without a name: the
            # checks below read every product's rows, as grouped for any file
            groups = {keys[i]: groups.get(keys[i]) or [i] for i in first}
    group_skip: dict[int, str] = {}
    if "name" in hm.fields and singles is None:
        names = cols["name"]
        name_col = hm.fields["name"].index
        if any(map(is_, map(names.__getitem__, map(itemgetter(0), groups.values())), repeat(None))):
            for key, idxs in groups.items():
                i0 = idxs[0]
                if names[i0] is None and (key not in resolved or resolved[key].get(name_col) is None):
                    sheet.add(i0, MISSING_VALUE, name_col, "", skus[i0])
                    for i in idxs[1:]:
                        group_skip[i] = f"product '{key}' has no name (row {sheet.first_row + i0})"
                    idxs.clear()
        if issues:
            _unnamed_refused(sheet, names, name_col, keys, skip, groups)

    # the products to build: their keys, first rows and, for those of several rows, all their rows (not a list of
    # rows and a tuple per product: 10 MB for 67,000 products, held through the records' build)
    if singles is None:
        product_keys = [k for k, idxs in groups.items() if idxs]
        first = [idxs[0] for idxs in groups.values() if idxs]
        multi = [(g, idxs) for g, idxs in enumerate(filter(None, groups.values())) if len(idxs) > 1]
    else:  # ``groups``: the products of several rows, whose place among the products their first row tells
        product_keys = list(Presized(map(keys.__getitem__, first), len(first)))
        multi = [(bisect_left(first, idxs[0]), idxs) for idxs in groups.values() if len(idxs) > 1]
    del groups, singles

    # --- canonical records, built column-wise, once the raw cells are gone (they would share the peak)
    sheet.release(book.products)
    refs = _source_refs(sheet.name, sheet.first_row, n)
    variants, every_stock_known = _build_variants(sheet, cols, skus, attrs, inline_stock, refs, currency)
    for key in _VARIANT_ONLY:  # their values are the variants' now: the lists go before the products are built
        cols.pop(key, None)
    attrs = inline_stock = prices = None  # type: ignore[assignment]
    result.products = _build_products(product_keys, first, multi, resolved, cols, trans, variants, refs, hm)
    if not result.products and not sheet.issues:  # a file cut or emptied by mistake says so, even when nothing
        # would change (no stock known: nothing to take off sale, which the mass-change guard would refuse)
        result.warnings.append(f"sheet '{sheet.name}' holds no product rows (only headers, blank or example rows): "
                               "nothing is read from this file")
    sheet.row_refs(result, skus, skip, refs, group_skip)
    result.sku_unread_rows = _sku_unread_rows(sheet)
    if book.stock:
        used = _rows_in_order(first, multi)
        in_order = (list(map(skus.__getitem__, used)), list(map(variants.__getitem__, used)))
        by_sku: dict[str, Variant] = {}

        def variants_by_sku() -> dict[str, Variant]:
            """SKU -> variant, made for the first stock sheet that does not list the SKUs in ``in_order``."""
            if not by_sku:
                by_sku.update(zip(*in_order, strict=True))
            return by_sku

        inline = {normalize(m.name) for m in hm.stock}
        # The converted columns, the rows of each product and the lists of rows are not needed to match the stock
        # sheets: let go of now (and the C heap's free pages given back), their memory takes what the stock sheets
        # allocate instead of adding to the read's peak (22 MB lower with two 100,000-row stock sheets).
        del cols, attrs, trans, inline_stock, level_cols, resolved, product_keys, first, multi, used, keys, parents
        del prices
        del absent, good, skus, skip, refs, variants
        names = None  # (not ``del``: unbound on some paths) ``names`` still holds the Name column
        release_freed_memory()
        stock_unknown: dict[int, tuple[Variant, str]] = {}
        for location, raw in book.stock:
            _stock_sheet(result, raw, location, in_order, variants_by_sku, first_row, sheet, inline, stock_unknown)
        refused_stock = unknown_stock(result, stock_unknown.values())
    # (Stock columns alone, which give every row a quantity: no variant is without one, known without a pass)
    if book.stock or (hm.stock and not every_stock_known):
        no_stock_given(result, "stock sheet" if not hm.stock else "stock sheet or Stock column" if book.stock
                       else "Stock column", refused_stock if book.stock else set())
    # where each stock location was read: a location the last run had that is gone holds the stock back
    # (sync/vanished_locations.py); a location with both, by its sheet
    result.stock_locations = {m.name: ("column", m.header) for m in hm.stock}
    result.stock_locations.update((location, ("sheet", raw.name)) for location, raw in book.stock)
    return result


def unknown_stock(result: SourceResult, refused: Iterable[tuple[Variant, str]]) -> set[str]:
    """A variant one of whose stock rows was refused for its quantity has its stock unknown, not summed without
    that location: a blank or mistyped cell would otherwise list less, or 0 (a product on sale taken off it by a
    typo).  Its stock is left as the marketplace has it (``Variant.qty`` absent: no stock payload of it), its
    refused row says why, and a warning lists them until the row is fixed."""
    rows = []
    for variant, row in refused:
        variant.stock, variant.stock_known = {}, False
        rows.append((variant.sku, row))
    if rows:
        shown = ", ".join(f"{sku} ({row})" for sku, row in rows[:5]) + (f" and {len(rows) - 5} more"
                                                                      if len(rows) > 5 else "")
        result.warnings.append(f"stock of {len(rows)} SKU(s) not sent: a stock row of theirs was refused for its "
                               f"quantity (unreadable, or in doubt: given twice otherwise), so their stock is left "
                               f"as the marketplace has it until it is fixed (not counted without that location): "
                               f"{shown}")
    return {sku for sku, _row in rows}


def no_stock_given(result: SourceResult, where: str, refused: set[str]) -> None:
    """A warning naming the SKUs on sale with no quantity in a workbook that gives stock (``where``: its stock
    sheets, its Stock columns): no row of theirs on any stock sheet, or every Stock cell of theirs empty.  Their
    stock is unknown, so none is sent and the marketplace keeps listing what it had: right when the merchant keeps
    it there, an oversell when the row was deleted because the product sold out.  Said, not refused (exit code
    unchanged); a variant whose stock row was refused (``refused``) is warned of by ``unknown_stock`` already."""
    skus = [v.sku for p in result.products if p.active and p.kind in STOCK_KINDS for v in p.variants
            if not v.stock_known and v.active and v.sku not in refused]
    if not skus:
        return
    shown = first_few(skus)
    result.warnings.append(f"stock of {len(skus)} SKU(s) on sale not given: no quantity on any {where}, so none is "
                           f"sent and the marketplace keeps listing what it has (give each a quantity, 0 if sold "
                           f"out): {shown}")


def _any_example(skus: list) -> bool:
    """Whether some SKU may be an example row's (its first letter could start an example prefix); a SKU
    holding a NUL character may give a false alarm, never a miss."""
    joined = "\x00" + "\x00".join(skus)
    return any("\x00" + c in joined for c in _EXAMPLE_FIRST)


def _check_rows(sheet: _Sheet, skus: list, prices: list, price_col: int | None, skip: list[bool],
                row_values: list[list]) -> dict[str, int]:
    """Blank rows, example rows, missing SKU/price, duplicate SKUs; returns SKU -> first row index.

    A SKU on two rows whose values differ (``row_values``: the converted columns) refuses both: which row says
    what the marketplace should show is not known (a row retyped with another's SKU may be either), and the first
    would otherwise overwrite its listing with a mistake.  Rows alike: the first is read, the copies refused."""
    first_row: dict[str, int] = {}
    issues = sheet.issues
    sku_col = sheet.hm.fields["sku"].index
    for i in range(sheet.n):
        sku = skus[i]
        if sku is None:
            if sheet.blank_row(i):
                skip[i] = i not in issues  # a blank row is not a data row, unless a cell is an error
                continue
            sheet.add(i, MISSING_VALUE, sku_col, "")
        elif sku[0] in _EXAMPLE_FIRST and _is_example(sku):
            skip[i] = True
            issues.pop(i, None)
            continue
        elif first_row.setdefault(sku, i) != i:
            j = first_row[sku]
            if all(col[i] == col[j] for col in row_values):
                sheet.add(i, f"duplicate SKU (first seen on row {sheet.first_row + j})", sku_col, sku)
            else:
                sheet.add(i, f"duplicate SKU (first seen on row {sheet.first_row + j}, with other values: neither row "
                             f"is sent until one of them is removed)", sku_col, sku)
                if not any(x.col_index == sku_col for x in issues.get(j, ())):
                    sheet.add(j, f"duplicate SKU (seen again on row {sheet.first_row + i}, with other values: neither "
                                 f"row is sent until one of them is removed)", sku_col, sku)
        if price_col is not None and prices[i] is None and \
                not any(x.col_index == price_col for x in issues.get(i, ())):
            sheet.add(i, MISSING_VALUE, price_col, "")
    return first_row


def _unnamed_refused(sheet: _Sheet, names: list, name_col: int, keys: list, skip: list[bool],
                     groups: dict[str, list[int]]) -> None:
    """A refused row that would hold its product's name and has none (the first row of a product no other row
    names, and none of whose rows is good: the check above covers those) also says so, with the reasons it was
    refused: every problem of a row is reported in one run, not one more each time the merchant fixes the last.
    Not where the row's SKU or Parent SKU is itself in question (a merged or unreadable Parent SKU cell): which
    product the row belongs to, and so whether it inherits a name, is not known."""
    issues = sheet.issues
    fields = sheet.hm.fields
    unsure = {name_col, *(fields[k].index for k in ("sku", "parent_sku") if k in fields)}
    unnamed = [i for i in issues if names[i] is None and keys[i] is not None and keys[i] not in groups
               and not any(x.col_index in unsure for x in issues[i])]
    if not unnamed:
        return
    named = {k for k, v, s in zip(keys, names, skip, strict=True) if v is not None and not s}
    first: dict[str, int] = {}
    for i, (k, s) in enumerate(zip(keys, skip, strict=True)):
        if not s and k is not None:
            first.setdefault(k, i)
    for i in unnamed:
        if keys[i] not in named and first.get(keys[i]) == i:
            sheet.add(i, MISSING_VALUE, name_col, "")


def _one_spelling(parents: list) -> list:
    """The Parent SKUs, each written as its first row writes it where another row encodes the same text otherwise
    (``É`` as one code point, or as ``E`` and a combining accent): one Parent SKU, one product, as the merchant
    sees it."""
    first: dict[str, str] = {}
    return [p if p is None or p.isascii() else first.setdefault(unicodedata.normalize("NFC", p), p) for p in parents]


def _check_encoded_alike(sheet: _Sheet, skus: list, skip: list[bool]) -> None:
    """SKUs that differ only in how their characters are encoded (``É`` as one code point, or as ``E`` and a
    combining accent: text from a Mac, from a web form): the merchant sees one SKU twice, while they would be two
    products on the marketplace, or one overwrite the other once it normalizes them.  Reported like a duplicate
    (the SKUs themselves are kept as written: a catalogue already synced keeps its identities)."""
    if "".join(filter(None, skus)).isascii():  # the rule: nothing to normalize
        return
    seen: dict[str, tuple[str, int]] = {}
    written: set[str] = set()  # a SKU written alike twice is a duplicate already (_check_rows)
    sku_col = sheet.hm.fields["sku"].index
    for i, sku in enumerate(skus):
        if sku is None or skip[i] or sku.isascii() or sku in written:
            continue
        written.add(sku)
        first = seen.setdefault(unicodedata.normalize("NFC", sku), (sku, i))
        if first[0] != sku:
            sheet.add(i, f"duplicate SKU (first seen on row {sheet.first_row + first[1]}: the same characters, "
                         "encoded differently; type it again)", sku_col, sku)


def _barcodes_all_valid(codes: list) -> bool:
    """Whether every non-empty code is valid, checked for the whole column at once when the codes are
    digits of one length: digit k of every code is ``joined[k::size]``; ``translate`` weighs each digit
    (mod 10) and ``int.from_bytes`` adds the positions of all codes lane by lane (a lane stays < 256);
    a code is valid when its lane is a multiple of 10."""
    present = list(filter(None, codes))
    if not present:
        return True
    sizes = set(map(len, present))
    if len(sizes) != 1:
        return False
    size = sizes.pop()
    joined = "".join(present)
    if size not in _BARCODE_SIZES or not joined.isascii():
        return False
    data = joined.encode()
    if not data.isdigit():  # (ASCII digits: the bytes' test is the text's, without Unicode's tables)
        return False
    total = 0
    for k in range(size):
        weight = 1 if k == size - 1 else (3 if (size - 1 - k) % 2 else 1)
        total += int.from_bytes(data[k::size].translate(_WEIGHTED[weight]), "big")
    lanes = total.to_bytes(len(present), "big")
    return not lanes.translate(_NOT_MULTIPLE_OF_10).strip(b"\x00")


_REPORTED_CODES = (LONG_NUMBER, DATE_IN_CODE)  # a barcode cell refused as such is not reported again


def _check_barcodes(sheet: _Sheet, codes: list, col: int) -> None:
    """Digits only, 8/12/13/14 digits, right GS1 check digit."""
    if _barcodes_all_valid(codes):
        return
    raw = sheet.columns[col]
    sizes, base = _BARCODE_SIZES, _BARCODE_BASE
    for i, code in enumerate(codes):
        if code is None:
            continue
        size = len(code)
        if size in sizes and code.isdigit() and code.isascii():
            b = code.encode()
            if (base[size] - 3 * sum(b[-2::-2]) - sum(b[-3::-2])) % 10 == b[-1] - 48:
                continue
        if i in sheet.issues and any(x.col_index == col and x.reason in _REPORTED_CODES for x in sheet.issues[i]):
            continue  # already reported
        problem = barcode_problem(code, raw[i].__class__ is float)
        if problem:
            sheet.add(i, problem, col, raw[i])


def _check_parent_conflicts(sheet: _Sheet, skus: list, parents: list, skip: list[bool],
                            first_row: dict[str, int] | _RowsOfSkus, plain: bool) -> None:
    """A Parent SKU that is also the (plain) SKU of another product: both sides are reported.  The same text
    encoded otherwise (``É`` as one code point on one row, ``E`` + a combining accent on the other) is the same SKU
    to the merchant: two products that look alike otherwise.  ``plain``: every Parent SKU is ASCII."""
    cells = parents
    if not plain:  # compared in NFC (``_one_spelling``); reported as typed
        parents = [p if p is None or p.isascii() else unicodedata.normalize("NFC", p) for p in parents]
        nfc: dict[str, int] = {}
        for sku, i in first_row.items():
            nfc.setdefault(sku if sku.isascii() else unicodedata.normalize("NFC", sku), i)
        first_row = nfc
    if not (set(parents) & first_row.keys()):
        return  # no Parent SKU is also a SKU: the common case, checked in C
    parent_rows: dict[str, int] = {}
    for i, par in enumerate(parents):
        if par is not None and not skip[i]:
            parent_rows.setdefault(par, i)
    plain = {sku: i for sku, i in first_row.items() if sku in parent_rows and parents[i] != sku}
    if not plain:
        return
    sku_col = sheet.hm.fields["sku"].index
    pcol = sheet.hm.fields["parent_sku"].index
    for sku, i in plain.items():
        sheet.add(i, f"SKU '{skus[i]}' is also used as Parent SKU (row {sheet.first_row + parent_rows[sku]})",
                  sku_col, skus[i])
    for i, par in enumerate(parents):
        if par in plain and not skip[i]:
            sheet.add(i, f"Parent SKU '{cells[i]}' is also the SKU of another product "
                         f"(row {sheet.first_row + plain[par]})", pcol, cells[i])


def _check_example_parents(sheet: _Sheet, parents: list, skip: list[bool]) -> None:
    """A real row whose Parent SKU is the template's example key was typed over an example row, leaving its
    Parent SKU (and attributes) behind: reported, instead of silently becoming a variant of the example."""
    if "parent_sku" not in sheet.hm.fields or not (set(filter(None, parents)) and any(
            p and p[0] in _EXAMPLE_FIRST and _is_example(p) for p in set(parents))):
        return  # no example Parent SKU left on a data row: the common case
    pcol = sheet.hm.fields["parent_sku"].index
    for i, par in enumerate(parents):
        if par and not skip[i] and par[0] in _EXAMPLE_FIRST and _is_example(par):
            sheet.add(i, f"Parent SKU '{par}' belongs to the template's example rows: this row seems typed over "
                         "an example row; clear its Parent SKU and attribute cells (or delete the example rows)",
                      pcol, par)


def _resolve_product_values(sheet: _Sheet, groups: dict[str, list[int]], level_cols: list[tuple[int, list]],
                            skus: list) -> dict[str, dict[int, Any]]:
    """For products with several rows: the first non-empty value of each product-level column (blank =
    inherit).  A later row with a different value is an error (the row is removed from its group).  A product
    whose later rows are blank in every such column (the usual variant rows) takes its first row's values,
    and is left out (callers read its first row)."""
    resolved: dict[str, dict[int, Any]] = {}
    multi = [idxs for idxs in groups.values() if len(idxs) > 1]
    later = list(chain.from_iterable(islice(idxs, 1, None) for idxs in multi))
    busy = [col for _, col in level_cols if not _all_none(list(map(col.__getitem__, later)))]
    if not busy:
        return resolved  # checked in C: no later row has a product-level value
    for key, idxs in groups.items():
        if len(idxs) < 2 or all(_all_none(map(col.__getitem__, islice(idxs, 1, None))) for col in busy):
            continue
        resolved[key] = _walk_product(sheet, key, idxs, level_cols, skus)
    return resolved


def _walk_product(sheet: _Sheet, key: str, idxs: list[int], level_cols: list[tuple[int, list]],
                  skus: list) -> dict[int, Any]:
    """The product-level values of one product with several rows, walked row by row; a row with a value that
    differs from the first one is reported and removed from ``idxs``."""
    values: dict[int, Any] = {}
    bad: set[int] = set()
    for col_index, col in level_cols:
        ref: int | None = None
        for i in idxs:
            v = col[i]
            if v is None or v == []:
                continue
            if ref is None:
                ref = i
            elif v != col[ref]:
                sheet.add(i, f"differs from row {sheet.first_row + ref} of Parent SKU '{key}' "
                             f"('{_shown(col[ref])}'); leave it blank to inherit",
                          col_index, sheet.columns[col_index][i], skus[i])
                bad.add(i)
        values[col_index] = col[ref] if ref is not None else col[idxs[0]]
    if bad:
        idxs[:] = [i for i in idxs if i not in bad]
        for col_index, col in level_cols:  # the values of the rows that remain
            values[col_index] = next((col[i] for i in idxs if col[i] is not None and col[i] != []),
                                     col[idxs[0]])
    return values


def _all_none(values: Iterable) -> bool:
    """Every value is ``None`` (by identity, in C).  A list's truth is read first (``any``: no call per value,
    ``None`` is false), then ``count``, which finds each ``None`` by identity before comparing anything."""
    if values.__class__ is list:
        return not any(values) and values.count(None) == len(values)
    return all(map(is_, values, repeat(None)))


def _has_none(values: list) -> bool:
    """``None in values`` by identity: ``==`` against Decimals is slow (an ABC check per element).  Values that
    are all true (texts, records, numbers but zero: the usual) hold no ``None``, which ``all`` tells three
    times faster (no call per value); otherwise each value is checked."""
    return not all(values) and any(map(is_, values, repeat(None)))


def _money(amounts: list, currencies: Any) -> list:
    """Money per cell (None stays None).  Amounts come from the decimal converter: ``Decimal`` or ``None``."""
    if not _has_none(amounts):
        return _construct_trusted(Money, len(amounts), {"amount": amounts, "currency": currencies})
    present = list(map(is_not, amounts, repeat(None)))
    money = _construct_trusted(Money, present.count(True), {"amount": list(compress(amounts, present)),
                                                            "currency": compress(currencies, present)})
    out: list = [None] * len(amounts)
    deque(map(out.__setitem__, compress(range(len(amounts)), present), money), maxlen=0)
    return out


def _zip_dicts(names: list, columns: list) -> list[dict]:
    """``[{names[0]: a, names[1]: b} for a, b in zip(*columns)]``: a dict display in a comprehension builds
    a small dict twice as fast as ``dict()`` over ``(name, value)`` pairs (the usual 1-3 keys are spelled
    out; more keys take the pairs)."""
    if len(names) == 1:
        k0, c0 = names[0], columns[0]
        return [{k0: a} for a in c0]
    if len(names) == 2:
        (k0, k1), (c0, c1) = names, columns
        return [{k0: a, k1: b} for a, b in zip(c0, c1, strict=True)]
    if len(names) == 3:
        (k0, k1, k2), (c0, c1, c2) = names, columns
        return [{k0: a, k1: b, k2: c} for a, b, c in zip(c0, c1, c2, strict=True)]
    return list(map(dict, zip(*map(zip, map(repeat, names), columns), strict=True)))


def _dicts(names: list, columns: list[list]) -> list[dict]:
    """Per row, ``{name: value}`` of the non-empty cells of ``columns`` (values are never "" nor another false
    value here: texts, records).  Up to three names (three attributes, a location's two stock columns), a dict
    display per row, the row's cells tested by identity: one pass, where masks, a list of empty dicts and the
    filled rows' columns made column-wise took six.  More names: rows whose columns are all filled or all empty
    (a simple product has no attribute) are built column-wise."""
    if not any(map(_has_none, columns)):
        return _zip_dicts(names, columns)
    if len(names) == 1:
        k0, c0 = names[0], columns[0]
        return [{k0: a} if a is not None else {} for a in c0]
    if len(names) == 2:
        (k0, k1), (c0, c1) = names, columns
        return [{k0: a, k1: b} if a is not None and b is not None else {} if a is None and b is None
                else {k0: a} if b is None else {k1: b} for a, b in zip(c0, c1, strict=True)]
    if len(names) == 3:
        (k0, k1, k2), (c0, c1, c2) = names, columns
        return [{k0: a, k1: b, k2: c} if a is not None and b is not None and c is not None
                else {} if a is None and b is None and c is None
                else {k: v for k, v in ((k0, a), (k1, b), (k2, c)) if v is not None}
                for a, b, c in zip(c0, c1, c2, strict=True)]
    n = len(columns[0])
    masks = [list(map(is_not, col, repeat(None))) for col in columns]
    first = masks[0]
    if all(m == first for m in masks[1:]):
        out = list(starmap(dict, repeat((), n)))
        full = _zip_dicts(names, [list(compress(col, first)) for col in columns])
        deque(map(out.__setitem__, compress(range(n), first), full), maxlen=0)
        return out
    pairs = map(zip, repeat(names), zip(*columns, strict=True))
    return list(map(dict, map(filter, repeat(itemgetter(1)), pairs)))


def _non_empty_dicts(names: list, dicts: list[list[dict]]) -> list[dict]:
    """Per row, ``{name: dict}`` of the non-empty dicts of ``dicts`` (one list per name)."""
    if all(map(all, dicts)):
        return _zip_dicts(names, dicts)
    return list(map(dict, map(filter, repeat(itemgetter(1)), map(zip, repeat(names), zip(*dicts, strict=True)))))


def _build_variants(sheet: _Sheet, cols: dict[str, list], skus: list, attrs: list[tuple[str, list]],
                    inline_stock: list[tuple[str, list]], refs: list[SourceRef],
                    currency: str) -> tuple[list[Variant], bool]:
    """One Variant per data row (rows that end up skipped are simply not used), and whether the Stock columns give
    every one of them a quantity (its stock known)."""
    hm = sheet.hm
    n = sheet.n
    curs: Any = None  # None: every row in the default currency
    if "currency" in hm.fields:
        given = cols["currency"]
        curs = given if not _has_none(given) else [c or currency for c in given]
    prices = _money(cols["price"], curs or repeat(currency)) if "price" in hm.fields else cols["price"]
    costs = _money(cols["cost"], curs or repeat(currency)) if "cost" in hm.fields else cols["cost"]
    actives: Any = repeat(True, n)
    if "active" in hm.fields:
        actives = list(Presized(map(is_not, cols["active"], repeat(False)), n))
    columns: dict[str, Any] = {
        "sku": skus, "barcode": cols["barcode"], "price": prices, "cost": costs, "weight": cols["weight"],
        "hs_code": cols["hs_code"], "images": cols["images"], "active": actives, "ref": refs,
    }
    if attrs:
        columns["attributes"] = _dicts([name for name, _ in attrs], [col for _, col in attrs])
    every_known = False
    if inline_stock:
        levels = []
        for loc, col in inline_stock:
            lv = _construct_all(StockLevel, n, {"location": repeat(loc), "available": col})
            if _has_none(col):
                lv = [x if q is not None else None for x, q in zip(lv, col, strict=True)]
            levels.append(lv)
        stock = _dicts([loc for loc, _ in inline_stock], levels)
        columns["stock"] = stock
        columns["stock_known"] = known = list(Presized(map(bool, stock), n))
        every_known = all(known)
    return _construct_all(Variant, n, columns), every_known


def _rows_in_order(first: list[int], multi: list[tuple[int, list[int]]]) -> list[int]:
    """The rows of the products, product after product: each one's first row, or all its rows (``multi``:
    product index -> its rows)."""
    if not multi:
        return first
    rows = dict(multi)
    return list(chain.from_iterable(rows.get(g, (i,)) for g, i in enumerate(first)))


def _build_products(keys: list[str], first: list[int], multi: list[tuple[int, list[int]]],
                    resolved: dict[str, dict[int, Any]], cols: dict[str, list], trans: list, variants: list[Variant],
                    refs: list[SourceRef], hm: HeaderMap) -> list[Product]:
    """The products ``keys``, whose first rows are ``first``; those of several rows are ``multi`` (index of the
    product -> its rows)."""
    many, many_rows = [g for g, _ in multi], [idxs for _, idxs in multi]
    # which take their resolved (first non-empty) values, when they are not their first row's
    differ = [(g, resolved[key]) for g, key in enumerate(keys) if key in resolved] if resolved else []

    def pick(col: list, ci: int) -> list:
        values = list(Presized(map(col.__getitem__, first), len(first)))
        for g, res in differ:
            values[g] = res[ci]
        return values

    columns: dict[str, Any] = {"key": keys, "ref": list(Presized(map(refs.__getitem__, first), len(first)))}
    for key, field in (("name", "name"), ("description", "description"), ("brand", "brand"),
                       ("category", "category_path")):
        if key in hm.fields:
            columns[field] = pick(cols[key], hm.fields[key].index)
    if "category_path" in columns:  # a list of its own per product (equal cells share one: cells.convert_path)
        paths = columns["category_path"]
        columns["category_path"] = list(Presized(map(list.copy, paths), len(paths))) if not _has_none(paths) else \
            [c[:] if c is not None else [] for c in paths]
        del paths
    if trans:
        locales = list(dict.fromkeys(m.locale for m, _ in trans))
        mine = [[(m, col) for m, col in trans if m.locale == loc] for loc in locales]
        names = [[m.name for m, _ in pairs] for pairs in mine]
        picked = [[pick(col, m.index) for m, col in pairs] for pairs in mine]
        if len(locales) == 2 and len(names[0]) == len(names[1]) == 2 and \
                not any(map(_has_none, chain.from_iterable(picked))):
            # the template's two languages of a name and a description, every one given (the rule): both levels of
            # dicts in one pass, as ``_non_empty_dicts`` over ``_dicts`` makes them
            (l0, l1), ((a0, a1), (b0, b1)) = locales, names
            columns["translations"] = [{l0: {a0: v, a1: w}, l1: {b0: x, b1: y}}
                                       for v, w, x, y in zip(*picked[0], *picked[1], strict=True)]
        else:
            columns["translations"] = _non_empty_dicts(locales, list(map(_dicts, names, picked)))
        picked = []
    # [v] from a 1-tuple: no map per product
    product_variants = list(Presized(map(list, zip(map(variants.__getitem__, first))), len(first)))
    deque(map(product_variants.__setitem__, many, map(list, _per_product(variants, many_rows))), maxlen=0)
    columns["variants"] = product_variants
    images_col = cols["images"]
    actives_col = cols["active"]
    if "images" in hm.fields:
        # a copy of the first variant's list
        images = list(Presized(map(list, map(images_col.__getitem__, first)), len(first)))
        # a product with several rows: its variants' images in order, each once
        deque(map(images.__setitem__, many, map(list, map(dict.fromkeys, map(
            chain.from_iterable, _per_product(images_col, many_rows))))), maxlen=0)
        columns["images"] = images
    if "active" in hm.fields:
        active = list(Presized(map(is_not, map(actives_col.__getitem__, first), repeat(False)), len(first)))
        for g, idxs in multi:
            active[g] = not all(map(is_, map(actives_col.__getitem__, idxs), repeat(False)))  # a row not "No"
        columns["active"] = active
    return _construct_all(Product, len(keys), columns)


class _RowsOfSkus:
    """SKU -> index of its row, for SKUs all distinct on rows ``0..n-1``: ``dict(zip(skus, range(n)))``, made when
    first read (``get``, ``items``) instead of held through the whole read.  ``every``: the set of the SKUs, when
    already made (``keys`` then reads it instead of making the dict)."""

    __slots__ = ("_every", "_rows", "_skus")

    def __init__(self, skus: list[str], every: set[str] | None = None) -> None:
        self._skus = skus
        self._every = every
        self._rows: dict[str, int] | None = None

    def _made(self) -> dict[str, int]:
        if self._rows is None:
            self._rows = dict(zip(self._skus, range(len(self._skus)), strict=True))
        return self._rows

    def get(self, sku: str, default: int | None = None) -> int | None:
        return self._made().get(sku, default)

    def items(self) -> Any:
        return self._made().items()

    def keys(self) -> Any:
        return self._every if self._every is not None else self._made().keys()


def _per_product(values: list, rows: list[list[int]]) -> Iterator[Iterator]:
    """For each product's ``rows``, an iterator over its rows' ``values``: ``map`` over ``map``, no Python loop per
    product."""
    return map(map, repeat(values.__getitem__), rows)


class StockPrep:
    """The part of a stock sheet's validation that does not need the Products sheet: header, converted
    columns, row refs and one StockLevel per row.  The reader computes it on its helper thread while the
    Products sheet is still being parsed (calamine releases the GIL); an error is kept and raised by
    ``build_result`` at the point where it would have been raised without the head start."""

    __slots__ = ("error", "levels", "qtys", "refs", "sheet", "skus", "warnings")

    def __init__(self, raw: RawSheet, location: str, levels: bool = True) -> None:
        self.error: BaseException | None = None
        self.levels: list | None = None
        self.refs: list | None = None
        self.warnings: list[str] = []
        try:
            collected = SourceResult()
            sheet = self.sheet = _Sheet(raw, STOCK_ALIASES, False, collected)
            self.warnings = collected.warnings
            if "quantity" not in sheet.hm.fields:
                raise SourceError(f"sheet '{sheet.name}' has no Quantity column")
            sheet.check_merged(raw.merged)
            self.skus: list = sheet.field("sku")  # type: ignore[assignment]
            sheet.check_invisible("sku", self.skus)
            qtys: list = sheet.field("quantity")  # type: ignore[assignment]
            self.qtys = qtys
            if levels and not _has_none(qtys):
                self.levels = _construct_all(StockLevel, sheet.n, {"location": repeat(location), "available": qtys})
        except Exception as e:  # raised in build_result, in order
            self.error = e


def prepare_stock(raw: RawSheet, location: str) -> StockPrep:
    return StockPrep(raw, location)


ORPHAN_KEPT = ("a row of that sheet was refused for its SKU and may be this product's: it is not treated as gone "
               "until that row is fixed")


def _sku_unread_rows(products: _Sheet) -> list[str]:
    """The Products rows refused for their SKU cell ("Products row 3"): ``SourceResult.sku_unread_rows``."""
    if not products.issues:
        return []
    col = products.hm.fields["sku"].index
    return [f"{products.name} row {products.first_row + i}" for i, row in sorted(products.issues.items())
            if any(x.col_index == col for x in row)]


def _stock_sheet(result: SourceResult, raw: RawSheet, location: str, in_order: tuple[list, list[Variant]],
                 variants_by_sku: Callable[[], dict[str, Variant]], product_rows: Mapping[str, int] | _RowsOfSkus,
                 products: _Sheet, inline: set[str], stock_unknown: dict[int, tuple[Variant, str]]) -> None:
    """The stock of one sheet set on the variants.  ``in_order``: (SKUs, variants) of the Products rows kept, in
    their order; ``variants_by_sku()`` maps the same SKUs to the same variants.  A variant whose row here is
    refused for its quantity (empty, not a number, another than its inline stock) goes in ``stock_unknown`` (id ->
    the variant and that row): ``unknown_stock`` makes its whole stock unknown once every sheet is read."""
    # (the levels are made below, once this sheet's own SKU texts are let go of when the Products sheet's serve)
    prep = raw.prepared if isinstance(raw.prepared, StockPrep) else StockPrep(raw, location, levels=False)
    release_freed_memory()  # (what Arrow's kernels freed making its columns: the levels and rows take it)
    result.warnings.extend(prep.warnings)
    if prep.error is not None:
        raise prep.error
    sheet = prep.sheet
    skus = prep.skus
    qtys = prep.qtys
    sku_col = sheet.hm.fields["sku"].index
    qty_col = sheet.hm.fields["quantity"].index
    seen: dict[str, int] = {}
    first = sheet.first_row
    skipped: dict[int, str] = {}
    refused = bool(result.sku_unread_rows)  # a Products row refused for its SKU cell: its SKU is unknown
    skip = [False] * sheet.n
    issues = sheet.issues
    targets: list = []
    quantities: list[int] = []
    fast = not issues and normalize(location) not in inline and not _has_none(qtys)
    if fast and skus == in_order[0]:  # the Products sheet's SKUs in its order (a template's stock sheets)
        targets, quantities = in_order[1], qtys  # none missing, repeated or an example's: nothing looked up
    variants = variants_by_sku() if quantities is not qtys else {}
    encoded: dict[str, Variant] | None = None  # NFC form -> variant, of the SKUs not in ASCII (made when needed)

    def variant_of(sku: str, key: str) -> Variant | None:
        nonlocal encoded
        v = variants.get(sku)
        if v is None and not sku.isascii():
            # typed with its accents encoded otherwise than on the Products row (either way round: an NFC SKU is
            # its own NFC form, the Products row may hold the combining accent)
            if encoded is None:
                encoded = {unicodedata.normalize("NFC", k): x for k, x in variants.items() if not k.isascii()}
            v = encoded.get(key)
        return v

    unknown: list[tuple[int, str, str]] = []  # rows refused for their quantity alone: (index, SKU, NFC form)
    rows_encoded: dict[str, int] | None = None  # NFC form -> Products row, of the SKUs not in ASCII (likewise)
    if fast and quantities is not qtys and not _has_none(skus) and len(set(skus)) == sheet.n \
            and not (set(map(itemgetter(0), skus)) & _EXAMPLE_FIRST):
        targets = list(map(variants.get, skus))  # the common case, checked in C
        if _has_none(targets):
            targets = []
        else:
            quantities = qtys
    for i in range(sheet.n if not quantities else 0):
        sku = skus[i]
        if sku is None:
            if i not in issues and (qtys[i] is None or sheet.blank_row(i)):
                skip[i] = True
                continue
            sheet.add(i, MISSING_VALUE, sku_col, "")
            continue
        if sku[0] in _EXAMPLE_FIRST and _is_example(sku):
            skip[i] = True
            issues.pop(i, None)
            continue
        key = sku if sku.isascii() else unicodedata.normalize("NFC", sku)  # (the same text, however encoded)
        if seen.setdefault(key, i) != i:
            if qtys[i] == qtys[seen[key]] or qtys[i] is None:
                sheet.add(i, f"duplicate SKU (first seen on row {first + seen[key]})", sku_col, sku)
            else:  # which quantity is right is not known: neither is sent (the SKU's stock is unknown)
                sheet.add(i, f"duplicate SKU (first seen on row {first + seen[key]}, with another quantity: its "
                             f"stock is not sent until one of the rows is removed)", sku_col, sku)
                unknown.append((i, sku, key))
            continue
        q = qtys[i]
        if q is None or i in issues:
            if q is None and i not in issues:
                sheet.add(i, MISSING_VALUE, qty_col, "")
            if all(x.col_index == qty_col for x in issues[i]):  # its SKU is good: that variant's stock is unknown
                unknown.append((i, sku, key))
            continue
        v = variant_of(sku, key)
        if v is None:
            row = product_rows.get(sku)
            if row is None and not sku.isascii():
                if rows_encoded is None:
                    rows_encoded = {unicodedata.normalize("NFC", k): r for k, r in product_rows.items()
                                    if not k.isascii()}
                row = rows_encoded.get(key)
            if row is not None:
                skipped[i] = f"SKU '{sku}' skipped in sheet '{products.name}' (row {products.first_row + row})"
            elif refused:  # the SKU may be a refused row's: the product is not gone
                sheet.add(i, f"SKU not found in sheet '{products.name}' ({ORPHAN_KEPT})", sku_col, sku)
            else:  # its product's row was deleted: the product left the source (sync/missing.py)
                sheet.add(i, f"SKU not found in sheet '{products.name}'", sku_col, sku)
                result.orphan_skus.add(sku)
            continue
        level = v.stock.get(location) if inline else None
        if level is not None and level.available != q:
            sheet.add(i, f"stock of '{sku}' at '{location}' is also given in sheet '{products.name}' with a "
                         f"different quantity ({level.available})", qty_col, sheet.columns[qty_col][i], sku)
            unknown.append((i, sku, key))
            continue
        targets.append(v)
        quantities.append(q)
    if quantities is qtys:  # every row is a variant's: the rows keep its SKU, not an equal copy read from this sheet
        skus = in_order[0] if targets is in_order[1] else list(map(attrgetter("sku"), targets))
        prep.skus = None  # (this sheet's copies, freed before the levels and rows are made: the read's peak)
    if quantities is qtys and prep.levels is not None:
        levels = prep.levels
    else:
        levels = _construct_all(StockLevel, len(quantities), {"location": repeat(location), "available": quantities})
    deque(map(dict.__setitem__, map(attrgetter("stock"), targets), repeat(location), levels), maxlen=0)
    deque(map(setattr, targets, repeat("stock_known"), repeat(True)), maxlen=0)
    for i, sku, key in unknown:
        v = variant_of(sku, key)
        if v is not None:
            stock_unknown.setdefault(id(v), (v, f"{sheet.name} row {first + i}"))
    sheet.row_refs(result, skus, skip, prep.refs, skipped)
    raw.prepared = None
    sheet.release(raw)
