"""Generated files are inert: text that a spreadsheet program would evaluate is written as text.

A cell text starting with ``=``, ``+``, ``-``, ``@``, tab or CR is a formula to Excel, LibreOffice and Google
Sheets when typed or imported from a CSV ("CSV injection").  The error copy and ``export`` therefore write
such text

- in an .xlsx: as a string cell (openpyxl would store any ``=`` text as a formula);
- in a CSV: behind an apostrophe, as spreadsheet programs themselves mark text (``'=SUM(A1)``).  A text that
  already starts with an apostrophe followed by one of those characters (or by a second apostrophe) gets one
  more, so that ``csv_text`` gives back exactly what was written.

The CSV reader (reader.py, columnar.py) removes that one apostrophe from every raw cell that starts with
``'`` followed by one of ``= + - @ tab CR '``: an exported value reads back as the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress, repeat
from operator import contains
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_NEXT = frozenset((*FORMULA_STARTS, "'"))
# Arrow (RE2) pattern of an escaped raw cell, and the texts that show one may be present in a CSV
ESCAPED_PATTERN = "^'([=+\\-@\t\r'])"
_TEXT_MARKERS = tuple("'" + c for c in sorted(_ESCAPED_NEXT))
_BYTE_MARKERS = tuple(m.encode() for m in _TEXT_MARKERS)


def needs_escape(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) or (text[:1] == "'" and text[1:2] in _ESCAPED_NEXT)


def csv_cell(value: Any) -> Any:
    """``value`` for a CSV writer: a text that would be evaluated gets a leading apostrophe."""
    if isinstance(value, str) and needs_escape(value):
        return "'" + value
    return value


def csv_text(raw: str) -> str:
    """A raw CSV cell as written before ``csv_cell`` escaped it."""
    if raw[:1] == "'" and raw[1:2] in _ESCAPED_NEXT:
        return raw[1:]
    return raw


def may_hold_escapes(lines: Sequence[bytes] | Sequence[str]) -> bool:
    """Whether some line of a CSV (``bytes`` or ``str`` lines) holds an apostrophe followed by a character that
    ``csv_text`` removes it before: ``unescape_rows`` is only needed then.  Line by line, without joining the
    text into a second copy: a line without an apostrophe (nearly all) costs one C-level test."""
    if not lines:
        return False
    quote, markers = ("'", _TEXT_MARKERS) if isinstance(lines[0], str) else (b"'", _BYTE_MARKERS)
    quoted = compress(lines, map(contains, lines, repeat(quote)))
    return any(m in ln for ln in quoted for m in markers)  # type: ignore[operator]


def unescape_rows(rows: list[list[str]]) -> None:
    """``csv_text`` on every cell of ``rows`` (in place) that starts with an apostrophe."""
    for row in rows:
        if "'" in "".join(c[:1] for c in row):
            row[:] = [csv_text(c) for c in row]


def string_cell(cell: Any) -> Any:
    """An openpyxl cell holding text: stored as a string cell, never as a formula."""
    if isinstance(cell.value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell
