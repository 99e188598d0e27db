"""Number cells an .xlsx shows otherwise than their value, where that changes an identifier (reader.py, build.py).

A SKU or HS code typed as a number in a column formatted ``00000`` shows ``00123`` while the file stores 123:
the readers (calamine, fastexcel) give the number, which would be pushed as SKU "123" and HS code "90230"
instead of "090230".  Only formats that pad a number with zeros or add text to it matter (``0``, ``#,##0``,
dates... show an identifier as it is typed, or are read as dates).  A workbook without such a format (the
rule) costs one read of its styles part; otherwise the sheets' cell tags are searched for those styles.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

_BRACKETS = re.compile(r"\[[^\]]*\]")  # [Red], [>=100], [$-409]
_LITERAL = re.compile(r'"[^"]*"|\\.')
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s([^>]*?)(?:/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?c>)", re.S)
_ATTR_R = re.compile(rb'\sr="([A-Z]+)([0-9]+)"')
_ATTR_S = re.compile(rb'\ss="([0-9]+)"')
_ATTR_T = re.compile(rb'\st="([A-Za-z]+)"')
_V = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>([^<]*)<")


@dataclass(frozen=True, slots=True)
class Shown:
    """A number cell whose format changes how it reads: ``text`` is what it shows when that is certain
    (zeros padding a whole number), else ``None``; ``value`` is the stored number, ``code`` the format."""

    text: str | None
    value: str
    code: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _padding(code: str) -> int | None:
    """For a number format that changes how a whole number reads: the width it pads to with zeros (``00000``:
    5), or 0 when it changes it otherwise (text around it, zeros among other placeholders); ``None`` when it
    shows a whole number as typed (or is not a plain number format)."""
    section = _BRACKETS.sub("", code.split(";")[0])
    literal = _LITERAL.search(section) is not None
    body = _LITERAL.sub("", section)
    if "@" in body or "e" in body.lower() or "%" in body or not any(ch in body for ch in "0#?"):
        return None
    if re.fullmatch(r"0+", body) and not literal:
        return len(body) if len(body) > 1 else None
    zeros = body.split(".")[0].count("0")
    return 0 if zeros > 1 or literal else None


def styled_paddings(zf: zipfile.ZipFile) -> dict[bytes, tuple[int, str]]:
    """Cell style index (as written in ``s="N"``) -> (``_padding`` of its number format, format code), for the
    styles whose format changes how a whole number reads."""
    name = next((n for n in zf.NameToInfo if n.lower() == "xl/styles.xml"), None)
    if name is None:
        return {}
    try:
        root = ElementTree.fromstring(zf.read(name))
    except (ElementTree.ParseError, zipfile.BadZipFile, OSError):
        return {}
    codes = {el.get("numFmtId", ""): el.get("formatCode", "") for el in root.iter() if _local(el.tag) == "numFmt"}
    padded = {fid: (pad, code) for fid, code in codes.items() if (pad := _padding(code)) is not None}
    if not padded:
        return {}
    out: dict[bytes, tuple[int, str]] = {}
    for section in root.iter():
        if _local(section.tag) != "cellXfs":
            continue
        for i, xf in enumerate(x for x in section if _local(x.tag) == "xf"):
            found = padded.get(xf.get("numFmtId", "0"))
            if found is not None:
                out[str(i).encode()] = found
    return out


def shown_cells(zf: zipfile.ZipFile, members: dict[str, str], sheets: list[str]
                ) -> dict[str, dict[tuple[int, int], Shown]]:
    """Per sheet name, the number cells (0-based row, column) whose format changes how they read."""
    styles = styled_paddings(zf)
    if not styles:
        return {}
    needles = [b's="' + s + b'"' for s in styles]
    out: dict[str, dict[tuple[int, int], Shown]] = {}
    for sheet in sheets:
        member = members.get(sheet)
        if member is None or member not in zf.NameToInfo:
            continue
        data = zf.read(member)
        if not any(n in data for n in needles):
            continue
        cells: dict[tuple[int, int], Shown] = {}
        for m in _CELL.finditer(data):
            attrs = b" " + m.group(1)
            style = _ATTR_S.search(attrs)
            if style is None or style.group(1) not in styles:
                continue
            kind = _ATTR_T.search(attrs)
            ref = _ATTR_R.search(attrs)
            value = _V.search(m.group(2) or b"")
            if (kind is not None and kind.group(1) != b"n") or ref is None or value is None:
                continue  # a text, a formula string, a boolean...: shown as it is
            pad, code = styles[style.group(1)]
            text = value.group(1).decode("ascii", "replace").strip()
            try:
                number = float(text)
            except ValueError:
                continue
            shown = None
            if pad and number.is_integer() and abs(number) < 1e15:
                digits = str(abs(int(number))).zfill(pad)
                shown = "-" + digits if number < 0 else digits
                if shown == str(int(number)):
                    continue  # as wide as the format already: shown as typed
            col = 0
            for ch in ref.group(1):
                col = col * 26 + ch - 64
            cells[(int(ref.group(2)) - 1, col - 1)] = Shown(shown, text, code)
        if cells:
            out[sheet] = cells
    return out
