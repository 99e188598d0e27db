"""Column-major reading of an .xlsx Products sheet through fastexcel (the fast path of ``read_spreadsheet``).

fastexcel runs calamine -- the parser the row reader uses -- and hands the cells over as Arrow columns instead
of one Python object per cell, outside the GIL.  Text columns are then stripped by Arrow kernels and the
builder takes whole columns (columnar.py, build.py), as for CSV.

Like the CSV fast path it is only an accelerator: it must give exactly what the row reader (python-calamine,
``to_python``) gives, and it steps aside (``read_products_table`` returns ``None``) whenever it cannot be sure:

- **Cell types.**  The row reader keeps each cell's own type (a price typed as text is "text in a number
  column"; a number in a text column reads as ``12``).  So every column's type is inferred from *all* its
  rows in fastexcel's ``strict`` mode, which refuses a column holding two kinds of cells; only string,
  number, boolean and empty columns are taken.  A workbook with a mixed column (a price written as text, a
  date among texts...) is read by the row reader.
- **Position.**  fastexcel starts at the first non-empty row and column.  The table is only taken when the
  sheet XML shows a first row ``r="1"`` whose non-empty cells are all text, and fastexcel's column names then
  match those cells one for one, starting at column A.  Row ``i`` of the table is then sheet row ``i + 2``.
- **Header names.**  fastexcel renames repeated headers (``Price``, ``Price_1``); a header ending in ``_N`` is
  left to the row reader, which reports duplicates itself.

Formula cells without a cached value and error cells are found by the reader's XML scan; a Products sheet
holding any is read by the row reader too (reader.py).
"""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path
from typing import Any

from .reader import _R_ATTR, _T_ATTR, _col_index

# fastexcel logs a warning for every all-empty column ("falling back to string"): expected here, not news
logging.getLogger("fastexcel").setLevel(logging.ERROR)

_PEEK_CHUNK = 1 << 16
_PEEK_LIMIT = 1 << 22  # the first row is never this far into the sheet XML; give up rather than read on
_ROW = re.compile(rb"<row\b([^>]*?)(/?)>")
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR_ROW = re.compile(rb'\sr="([0-9]+)"')
_TEXT_TYPES = frozenset({b"s", b"str", b"inlineStr"})
_DEDUPED = re.compile(r"_[0-9]+$")
_TAKEN_TYPES = ("string", "large_string", "double", "int64", "bool", "null")


def first_row_text_columns(zf: zipfile.ZipFile, member: str) -> set[int] | None:
    """The 0-based columns of the non-empty cells of sheet row 1, when that is the sheet's first row element
    and all its non-empty cells are text; ``None`` otherwise (or when unsure)."""
    data = b""
    with zf.open(member) as fh:
        while True:
            block = fh.read(_PEEK_CHUNK)
            data += block
            start = data.find(b"<sheetData")
            if start >= 0:
                m = _ROW.search(data, start)
                if m is not None and (m.group(2) or data.find(b"</row>", m.end()) >= 0):
                    break
                if data.find(b"</sheetData>", start) >= 0 or data.find(b"<sheetData/>", start) >= 0:
                    return None
            if not block or len(data) > _PEEK_LIMIT:
                return None
    row = _ATTR_ROW.search(m.group(1))
    if m.group(2) or (row is not None and row.group(1) != b"1"):
        return None  # row 1 is empty (or not first): fastexcel would start further down
    body = data[m.end():data.find(b"</row>", m.end())]
    columns: set[int] = set()
    for cell in _CELL.finditer(body):
        attrs, inner = cell.group(1), cell.group(2) or b""
        ref = _R_ATTR.search(attrs)
        if ref is None or ref.group(2) != b"1":
            return None
        if b"<v" not in inner and b"<is" not in inner:
            if b"<f" in inner:
                return None  # a formula without its value
            continue  # a formatted empty cell
        t = _T_ATTR.search(attrs)
        if t is None or t.group(1) not in _TEXT_TYPES or b"<v/>" in inner or b"<v></v>" in inner:
            return None
        columns.add(_col_index(ref.group(1)))
    return columns or None


def read_products_table(p: Path, reader: Any, sheet: str, member: str | None) -> tuple[Any, list[str]] | None:
    """(Arrow table of the data rows -- sheet rows 2 and below --, header row as text) of ``sheet`` (zip member
    ``member``) read with the fastexcel ``reader``; ``None`` whenever the row reader must read it instead (see
    the module doc)."""
    try:
        with zipfile.ZipFile(p) as zf:
            header_columns = first_row_text_columns(zf, member) if member in zf.NameToInfo else None
    except (OSError, zipfile.BadZipFile):
        return None
    if header_columns is None:
        return None
    try:
        return _load(reader, sheet, header_columns)
    except Exception:  # a mixed column (strict typing), or anything fastexcel cannot do: the row reader decides
        return None


def _load(reader: Any, sheet: str, header_columns: set[int]) -> tuple[Any, list[str]] | None:
    """The sheet loaded eagerly: fastexcel parses the sheet with borrowed shared strings and builds the Arrow
    columns without the GIL (a lazy sheet copies every text cell once more).  An eager load reports its
    columns only through ``use_columns`` (name and position, not where the name came from): a column is
    named when its name is not fastexcel's generated ``__UNNAMED__<position>``; a header spelled like a
    generated name is left to the row reader."""
    import pyarrow as pa

    columns: list[Any] = []
    batch = reader.load_sheet(sheet, header_row=0, schema_sample_rows=None, dtype_coercion="strict", eager=True,
                              use_columns=lambda c: columns.append(c) is None)
    if [c.absolute_index for c in columns] != list(range(len(columns))) or batch.num_columns != len(columns):
        return None
    named = {c.absolute_index for c in columns if c.name != f"__UNNAMED__{c.absolute_index}"}
    if named != header_columns or any(_DEDUPED.search(c.name) or c.name.startswith("__UNNAMED__")
                                      for c in columns if c.absolute_index in named):
        return None
    table = pa.Table.from_batches([batch])
    if any(str(t) not in _TAKEN_TYPES for t in table.schema.types):
        return None
    head = [c.name if c.absolute_index in named else "" for c in columns]
    return table, head
