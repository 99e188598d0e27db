"""A CSV cut short: its last line ends in the middle of a row.

A copy or download interrupted (a full disk, a sync client, ``head -c``) leaves a CSV whose last line stops
anywhere, with no line break after it.  Read as it is, that line is a row missing its last cells (``Stock:
Shop`` empty: its stock unknown) or ending in a cell cut in two (a description ``Articl``, sent as such), and
every row after it is gone (taken for deleted).  An .xlsx cut short does not open at all; a CSV cut so is refused
the same way, so that nothing of it is sent: the last line has no line break after it and either fewer cells
than the rows above it, or a quote opened in it and never closed.

A file whose last row is whole but has no line break after it (many programs write it so) is read as before;
a cut at a line break cannot be told from a shorter file (the mass-change guard and the missing policy's notes
are there for that).  UTF-16 files are not looked at (their line ends are two bytes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.errors import SourceError

_TAIL = 1 << 18  # the end of the file read to find its last line (a row longer than this is not checked)


def check_not_cut(p: Path, last_row: list[Any], width: int, delimiter: str, open_quote: Any) -> None:
    """Raise ``SourceError`` when the file at ``p`` ends in the middle of a row: no line break after its last
    line, and that row (``last_row``) has fewer than ``width`` cells or ends inside a quoted cell
    (``open_quote(text, delimiter)``, the reader's)."""
    try:
        with p.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - _TAIL))
            tail = fh.read()
    except OSError:
        return
    tail = tail.rstrip(b"\x1a")  # (a DOS end-of-file mark ends the text)
    if not tail or tail.endswith((b"\n", b"\r")) or tail.startswith((b"\xff\xfe", b"\xfe\xff")):
        return
    if not any(str(v).strip() for v in last_row):
        return
    cut = None
    if len(last_row) < width:
        cut = f"after {len(last_row)} of its {width} cells"
    elif not any("\n" in str(v) or "\r" in str(v) for v in last_row):  # (one line: the whole record)
        start = max(tail.rfind(b"\n"), tail.rfind(b"\r")) + 1
        if start or size <= _TAIL:
            line = tail[start:].decode("utf-8", "replace")
            if open_quote(line, delimiter):
                cut = "inside a quoted cell (a quote opened and never closed)"
    if cut is not None:
        raise SourceError(f"{p.name}: the file looks cut short: its last line (line {_lines(p)}) ends {cut}, with "
                          "no line break after it, and the rows after it may be lost (a copy or download cut "
                          "short?); copy or save the file again (if that row is really the last, end it with a "
                          "line break)")


def _lines(p: Path) -> int:
    """The number of lines of the file (its last line's number), as the reader splits them."""
    try:
        return len(p.read_bytes().splitlines())
    except OSError:
        return 0
