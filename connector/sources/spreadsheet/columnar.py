"""Column-major CSV reading through Apache Arrow's CSV parser (the fast path of ``read_spreadsheet``), and the
column view the builder takes of an Arrow table (``ArrowColumns``: a CSV's, or an xlsx sheet's from
xlsx_table.py).

Arrow parses on every core, outside the GIL, straight into one string column per CSV column; nothing is typed
by guessing (every column is read as text and converted by its declared kind in build.py).  The columns stay
in Arrow until the builder asks for them: a text column is stripped and its empty cells turned into ``None``
by Arrow kernels, so its Python strings are created once, already clean.

It is only an accelerator.  ``read_table`` returns ``None`` whenever it cannot give exactly what the csv
module gives (not UTF-8, rows of different lengths, a stray quote...), and the caller then reads the file
with the csv module.  A differential test (tests/test_spreadsheet_columnar.py) compares both on generated
texts.  Blank lines are kept as rows of empty cells, so row numbers match the csv module's (and Excel's).

The parsed table is allocated by the C library's ``malloc`` (Arrow's system pool), not Arrow's default pool
(mimalloc): the parser's threads own the mimalloc pages they filled, and once the table is freed the reader's
release (``connector.memory.release_freed_memory``, on the calling thread) did not give them back (30 MB stayed
resident after a 100,000-row file); ``malloc``'s free pages are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

# what Python's str.strip() removes (the characters whose str.isspace() is true; a test recomputes the set,
# which takes 0.2 s at every start): Arrow's utf8_trim is given exactly this set, so a text cell comes out
# the same as from the csv module followed by str.strip()
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                 "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def read_table(source: Path | bytes, delimiter: str, skip_rows: int, columns_hint: int) -> Any | None:
    """The CSV file ``source`` (UTF-8, BOM or not; or its text re-encoded in UTF-8) as an Arrow table of
    string columns, or ``None`` if Arrow cannot read it exactly like the csv module (the caller falls back
    to it).  ``columns_hint`` should bound the number of columns (most separators on one of the first lines,
    plus one): that many columns are declared ``string`` so that Arrow infers nothing; should a column
    escape the hint and be typed otherwise, the table is refused."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(source)) if isinstance(source, bytes) else str(source),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, skip_rows=skip_rows, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=True,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(columns_hint)},
                strings_can_be_null=False, quoted_strings_can_be_null=False, check_utf8=True),
            memory_pool=pa.system_memory_pool(),  # see the module doc
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None  # ragged rows, invalid UTF-8, a quote the csv module reads differently...
    if table.num_rows == 0 or any(t != pa.string() for t in table.schema.types):
        return None
    from .reader import ends_in_line_break

    if ends_in_line_break(table.column(table.num_columns - 1)[-1].as_py() or ""):
        return None  # maybe a quote never closed: the csv module's reading finds out (reader.py)
    if _has_cell_longer_than(table, csv.field_size_limit()):
        return None  # the csv module refuses such a cell (a quote left open?) and says on which line
    return _unescaped(table)


def _has_cell_longer_than(table: Any, limit: int) -> bool:
    """Whether a cell holds more than ``limit`` characters (bytes first: characters are only counted in a
    column that has a cell of more than ``limit`` bytes)."""
    import pyarrow.compute as pc

    return any((pc.max(pc.binary_length(col)).as_py() or 0) > limit
               and (pc.max(pc.utf8_length(col)).as_py() or 0) > limit for col in table.columns)


def _unescaped(table: Any) -> Any:
    """``table`` with the apostrophe of escaped cells removed, as ``inert.unescape_rows`` does for the csv
    module's rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .inert import ESCAPED_PATTERN

    columns = list(table.columns)
    changed = False
    for j, col in enumerate(columns):
        # no apostrophe anywhere in the column's bytes (the rule; one C pass): no cell starts with one
        if any(b"'" in data for data in _utf8_chunks(col)) and pc.any(pc.starts_with(col, "'")).as_py():
            columns[j] = pc.replace_substring_regex(col, pattern=ESCAPED_PATTERN, replacement="\\1",
                                                    max_replacements=1)
            changed = True
    return pa.Table.from_arrays(columns, names=table.column_names) if changed else table


def _utf8_chunks(col: Any) -> list[bytes]:
    """The bytes of a string column's cells, one ``bytes`` per chunk: its data buffer (a sliced chunk's holds its
    rows outside the slice too), copied chunk by chunk (a copy of a whole column costs more: fresh pages)."""
    return [b.to_pybytes() for b in (chunk.buffers()[2] for chunk in col.chunks) if b is not None]


_NULL_TO_EMPTY = {None: ""}.get


class ArrowColumns(Sequence):
    """The raw cells of rows ``start:`` of an Arrow table, column by column, as the row readers give them:
    ``columns[j]`` is a Python list made on first use (and kept), with ``""`` for empty cells (CSV tables have
    none; an xlsx table's typed columns give ``float``/``int``/``bool`` cells and nulls).  ``text(j)`` gives a
    string column stripped, with ``None`` for empty cells, without making the raw list at all."""

    def __init__(self, table: Any, start: int = 0, stop: int | None = None) -> None:
        self._table = table.slice(start, None if stop is None else stop - start)
        self._lists: dict[int, list] = {}

    def __len__(self) -> int:
        return self._table.num_columns

    def __getitem__(self, j: int) -> list:  # type: ignore[override]
        if j < 0:
            j += len(self)
        got = self._lists.get(j)
        if got is None:
            column = self._table.column(j)
            got = column.to_pylist()
            if column.null_count:
                got = list(map(_NULL_TO_EMPTY, got, got))
            self._lists[j] = got
        return got

    def release(self) -> None:
        """Drop the table and the lists made of it (the view is empty afterwards)."""
        self._table = self._table.schema.empty_table()
        self._lists.clear()

    def cells(self, j: int) -> list:
        """``self[j]``, without keeping the list when it was not kept already: a column converted once (prices,
        image lists) then leaves its raw cells to be freed before the records are built."""
        got = self._lists.get(j if j >= 0 else j + len(self))
        if got is not None:
            return got
        got = self[j]
        del self._lists[j if j >= 0 else j + len(self)]
        return got

    def __iter__(self) -> Iterator[list]:
        return (self[j] for j in range(len(self)))

    def is_text(self, j: int) -> bool:
        """Whether column ``j`` holds strings (``text(j)`` applies)."""
        import pyarrow as pa

        return self._table.schema.types[j] in (pa.string(), pa.large_string())

    def text(self, j: int) -> list:
        """String column ``j`` as ``str.strip()``-ed text, ``None`` for empty cells."""
        return _stripped(self._table.column(j)).to_pylist()

    def utf8_chunks(self, j: int) -> list[bytes] | None:
        """The UTF-8 bytes of string column ``j``, one ``bytes`` per chunk (its data buffer), or ``None`` for a
        column of another type.  Every cell of the view, and of ``text(j)``, is a part of one of them; they may
        hold more (the rows outside the view, the header): a check that finds nothing in them finds nothing in
        any cell, in one C pass over bytes instead of a pass over Python strings."""
        return _utf8_chunks(self._table.column(j)) if self.is_text(j) else None

    def coded(self, j: int) -> tuple[list, Sequence[int], Any] | None:
        """(distinct raw cells -- ``""`` for an empty cell --, per row the position of its cell among them, and
        the distinct cells as an Arrow array) of column ``j`` when at most half of its rows are distinct, and
        of its first ``_SAMPLE`` rows, else ``None``.  A converter then works once per distinct cell, and equal
        cells share one Python object (a stock quantity, a currency, Yes/No: one object instead of one per
        row)."""
        return self.distinct(j, 0.5)

    def distinct(self, j: int, share: float, sample: bool = True) -> tuple[list, Sequence[int], Any] | None:
        """``coded(j)`` for a column whose distinct cells are at most ``share`` of its rows (and, for a string
        column unless ``sample`` is false, of its first ``_SAMPLE`` rows), else ``None``.  Any column type:
        cells are distinct as Arrow hashes them (``-0.0`` and ``0.0`` are two cells, each converted as itself).
        The positions are read from Arrow's buffer as they are used, not made into a list of ints."""
        import pyarrow as pa
        import pyarrow.compute as pc

        col = self._table.column(j)
        if pa.types.is_null(col.type):
            return None  # an empty column (xlsx): no kernel takes it, and nothing to share
        if sample and (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            top = col.slice(0, _SAMPLE)  # hashing texts costs: a mostly distinct top (names, SKUs) ends it
            if pc.count_distinct(top, mode="all").as_py() > share * len(top):
                return None
        coded = pc.dictionary_encode(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0),
                                     null_encoding="encode")
        if len(coded.dictionary) > share * len(col):
            return None
        cells = coded.dictionary.to_pylist()
        if coded.dictionary.null_count:  # (Arrow counts it: ``None in cells`` compares every cell with None)
            cells[cells.index(None)] = ""
        return cells, _int32_view(coded.indices), coded.dictionary

    def array(self, j: int) -> Any:
        """Column ``j`` as one Arrow array."""
        col = self._table.column(j)
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)


def decimal_texts(values: Any) -> list[str] | None:
    """The doubles of Arrow array ``values`` as the texts the decimal converter makes of them (``repr`` without
    a trailing ``.0``; ``""`` for a null), or ``None`` when they are not finite doubles or hold a ``-0.0``.
    Arrow's formatter writes them for a tenth of the cost of ``repr``: both write the shortest digits that read
    back as the same double, and the same text wherever Arrow writes no exponent and the magnitude is 0 or at
    least 1e-4 (below it Python writes ``1e-05``; Arrow switches to exponents earlier, by its own rule); any
    other value is written by ``repr`` (a differential test compares both on a million doubles)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.type != pa.float64() or not pc.all(pc.is_finite(values)).as_py():
        return None
    texts = pc.cast(values, pa.string())
    if pc.any(pc.equal(texts, "-0")).as_py():
        return None  # the converter may take -0.0 for 0.0 (a set of floats keeps one of them): left to it
    magnitude = pc.abs(values)
    alike = pc.and_(pc.invert(pc.match_substring(texts, "e")),
                    pc.or_(pc.equal(magnitude, 0.0), pc.greater_equal(magnitude, 1e-4)))
    out = texts.to_pylist()
    out = list(map(_NULL_TO_EMPTY, out, out))
    for i in pc.indices_nonzero(pc.invert(pc.fill_null(alike, True))).to_pylist():
        out[i] = repr(values[i].as_py()).removesuffix(".0")
    return out


def _int32_view(indices: Any) -> Sequence[int]:
    """The values of an int32 Arrow array without nulls, as a memoryview of its buffer."""
    if indices.type.bit_width != 32 or indices.null_count:  # never so for dictionary_encode's indices
        return indices.to_pylist()
    view = memoryview(indices.buffers()[1]).cast("i")
    return view[indices.offset:indices.offset + len(indices)]


_SAMPLE = 2048  # the first rows of a column, whose distinct cells tell whether to encode it (ArrowColumns.coded)


def _stripped(col: Any) -> Any:
    """A string column ``str.strip()``-ed, with its empty cells null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = pc.utf8_trim(col, characters=PY_WHITESPACE)
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col)


def head_rows(table: Any, count: int) -> list[list]:
    """Rows ``0:count`` of ``table`` as lists of cells (``""`` for empty cells, as the row readers give)."""
    part = table.slice(0, count)
    return [list(map(_NULL_TO_EMPTY, r, r)) for r in zip(*(c.to_pylist() for c in part.columns), strict=True)]


def used_rows_end(table: Any, start: int) -> int:
    """The end of rows ``start:`` without their trailing blank rows (every cell empty: ``""`` or null; ``0``
    and ``False`` are values), read back from the end a block at a time: an export with thousands of empty
    rows at its foot costs a few block reads."""
    end = table.num_rows
    while end > start:
        lo = max(start, end - 256)
        block = head_rows(table.slice(lo, end - lo), end - lo)
        for k in range(len(block) - 1, -1, -1):
            if any(v != "" for v in block[k]):
                return lo + k + 1
        end = lo
    return start
