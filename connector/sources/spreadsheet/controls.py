"""Control characters in the text cells of a product sheet (Name, Description, Brand, Category, attributes...).

A control character is invisible in a cell and means nothing in a product's text: a DOS end-of-file mark (U+001A)
left by an old export, a NUL, DEL, or a C1 control (U+0080-U+009F), which is what Windows-1252 punctuation (curly
quotes, dashes, the euro sign) becomes when its bytes are read as Latin-1.  Sent, it reaches the shop window as a
box or a broken character, or gets the call refused.  What a field may hold: a description several lines (line
breaks, tabs); a name, a brand, a category or an attribute value one line, without tabs.  Any other control
character makes the cell bad: reported with its sheet, row, column and the value with the character shown, and
the row is skipped like any other bad cell.

The check is made per column in C (every cell ``isprintable``, or the joined text searched once); cells are looked
at one by one only in a column that holds such a character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain

MULTI_LINE = frozenset({"description"})
"""Fields whose text may hold line breaks and tabs (a translated description's too)."""

_IN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # all but the tab, the line feed, the return
_IN_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f]")
_ALLOWED = bytes(range(0x20, 0x7f))  # the printable ASCII bytes
_ALLOWED_IN_LINES = _ALLOWED + b"\t\n\r"
# the bytes that cannot be, nor start, a control character in UTF-8: every byte but the C0 controls, DEL and
# 0xC2 (U+0080-U+009F, the C1 controls, are 0xC2 0x80-0x9F; so are U+00A0-U+00BF, with 0xA0-0xBF)
_NEVER_CONTROL = bytes(b for b in range(256) if not (b < 0x20 or b == 0x7F or b == 0xC2))
_NEVER_CONTROL_IN_LINES = _NEVER_CONTROL + b"\t\n\r"
_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")
_NAMES = {"\x00": "null character", "\t": "tab", "\n": "line break", "\x0b": "vertical tab", "\x0c": "form feed",
          "\r": "carriage return", "\x1a": "end-of-file mark", "\x1b": "escape", "\x7f": "delete character"}
_SHOWN_AROUND = 30  # characters shown on each side of the first control character of a long value


def control_problems(values: list, multi_line: bool, what: str) -> Iterable[tuple[int, str, str]]:
    """(row index, reason, the value with its control characters shown) of each cell of ``values`` (a converted
    column: texts, lists of texts for a category path, or None) holding a control character ``what`` (the
    field, as the merchant calls it: ``a Name``) may not hold."""
    pattern = _IN_LINES if multi_line else _IN_ONE_LINE
    present = list(filter(None, values))
    if not present:
        return []
    try:  # texts, or a category's lists of texts: one string, made and tested in C
        joined = "".join(chain.from_iterable(present) if present[0].__class__ is list else present)
    except TypeError:  # (never so: a converted text column holds texts)
        joined = "".join(map(str, present))
    if joined.isascii():  # (known without a pass): deleting every allowed byte leaves nothing, in one C pass
        if not joined.encode("ascii").translate(None, _ALLOWED_IN_LINES if multi_line else _ALLOWED):
            return []
    elif not pattern.search(joined):
        return []
    out = []
    for i, v in enumerate(values):
        if not v:
            continue
        text = v if v.__class__ is str else " > ".join(map(str, v)) if isinstance(v, list) else str(v)
        found = pattern.search(text)
        if found is not None:
            out.append((i, _reason(found, what, multi_line), _visible(text, found.start())))
    return out


def free_of_controls(data: bytes, multi_line: bool) -> bool:
    """Whether UTF-8 text ``data`` holds no control character a field may not hold (``multi_line``: a description's
    line breaks and tabs are allowed), so that ``control_problems`` finds nothing in any cell cut out of it.  Deleting
    every byte that cannot be one leaves nothing, in one C pass (the rule); what is left is looked at only when it
    is 0xC2 bytes (a no-break space, a guillemet), for a C1 control.  ``False`` may be a false alarm (a tab in a
    name's header row), for ``control_problems`` to settle on the cells."""
    left = data.translate(None, _NEVER_CONTROL_IN_LINES if multi_line else _NEVER_CONTROL)
    return not left or (not left.strip(b"\xc2") and _C1_UTF8.search(data) is None)


def _reason(found: re.Match[str], what: str, multi_line: bool) -> str:
    ch = found.group()
    name = _NAMES.get(ch)
    code = f"U+{ord(ch):04X}"
    at = f"at position {found.start() + 1}"
    if ch in "\t\n\r":
        return f"{name} ({code}) {at}: {what} holds one line; type it without the {name}"
    where = f"({name}, {code}) {at}" if name else f"({code}) {at}"
    if "\x80" <= ch <= "\x9f":
        return (f"control character {where}: text saved as Windows-1252 and read as Latin-1 gives these (a curly "
                "quote, a dash, the euro sign); save the file as UTF-8, or delete it and type the value again")
    lines = " (line breaks and tabs are kept)" if multi_line else ""
    return f"control character {where}: invisible in the cell; delete it and type the value again{lines}"


def _visible(text: str, first: int) -> str:
    """``text`` with each control character written as ``<U+001A>`` (a long text: around the first one)."""
    if len(text) > 2 * _SHOWN_AROUND + 1:
        start, end = max(0, first - _SHOWN_AROUND), first + _SHOWN_AROUND + 1
        text = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return _IN_ONE_LINE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)

