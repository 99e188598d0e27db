"""Number formats that pad a whole number with zeros (``00000``: 123 shows ``00123``) in an .xlsx/.xlsm.

A barcode or an HS code typed as a number keeps only the number (123) while Excel shows it through the cell's
format (``00123``, ``0012345678905``, tea ``090230``): the readers (calamine, fastexcel) give the number.  This
module finds, in the workbook's styles part (read once: it is small), the cell styles (``<c s="N">``) whose
number format shows a whole number padded with zeros, and renders a number as such a format shows it.  A
workbook without one (the rule) costs that one read; the cells bearing one are found by the guard's pass over
the sheet XML (guard.py, ``StyledCells``), and build.py reads barcodes and HS codes as shown and warns of SKUs.

Formats taken: a first section made only of zeros -- digit placeholders ``0`` and literal zeros written
``"0"`` or ``\\0`` --, with at least one placeholder and a shown width above one, under an optional colour
(``[Red]``) or locale (``[$-409]``) tag; the other sections are read only for zero itself (the third).  Any other
character (``#``, ``-``, ``.``, text, a condition ``[>100]``, a currency ``[$€-40C]``) makes it another format: it
shows more than zeros, and the number is read as it is.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

_COLOR = re.compile(r"\[(?:black|blue|cyan|green|magenta|red|white|yellow|color\s*[0-9]{1,2})\]", re.I)
_LOCALE = re.compile(r"\[\$-[0-9A-Fa-f,]*\]")  # a locale tag without a currency symbol: shows nothing
_STYLES_TYPE = "/styles"


@dataclass(frozen=True, slots=True)
class PaddingFormat:
    """A number format that shows a whole number padded with zeros.  ``parts``: the first section's tokens,
    ``None`` for a digit placeholder, ``"0"`` for a literal zero; ``zero``: the third section's (how 0 shows),
    when the format has one; ``code``: the format as written."""

    code: str
    parts: tuple[str | None, ...]
    zero: tuple[str | None, ...] | None = None

    @property
    def width(self) -> int:
        """How many digits a small number shows (``00000``: 5)."""
        return len(self.parts)

    @property
    def shows_as_typed_from(self) -> int | None:
        """The least whole number shown as typed (``00000``: 10000); ``None`` when none is (literal zeros)."""
        if any(p is not None for p in self.parts):
            return None
        return 10 ** (len(self.parts) - 1)

    def render(self, n: int) -> str | None:
        """What a cell holding the whole number ``n`` shows; ``None`` for a negative number (left as read) or a
        zero the format's third section shows otherwise."""
        if n < 0:
            return None
        parts = self.parts
        if n == 0 and self.zero is not None:
            if not self.zero:
                return None
            parts = self.zero
        return _fill(parts, n)


def _fill(parts: tuple[str | None, ...], n: int) -> str:
    """Digits fill the placeholders from the right; the first placeholder takes the digits left over."""
    places = parts.count(None)
    digits = str(n).zfill(places)
    if places == len(parts):
        return digits
    out: list[str] = []
    pos = 0
    for p in parts:
        if p is not None:
            out.append(p)
            continue
        take = len(digits) - places + 1 if pos == 0 else 1
        out.append(digits[pos:pos + take])
        pos += take
    return "".join(out)


def _sections(code: str) -> list[str]:
    """The ``;``-separated sections of a format code (a ``;`` quoted or escaped is text)."""
    out: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(code):
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            end = len(code) if end < 0 else end + 1
            cur.append(code[i:end])
            i = end
            continue
        if ch == "\\":
            cur.append(code[i:i + 2])
            i += 2
            continue
        if ch == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _zero_parts(section: str) -> tuple[str | None, ...] | None:
    """The tokens of a section made only of zeros (see the module doc), else ``None``."""
    section = _LOCALE.sub("", _COLOR.sub("", section))
    parts: list[str | None] = []
    i = 0
    while i < len(section):
        ch = section[i]
        if ch == "0":
            parts.append(None)
            i += 1
        elif ch == "\\" and section[i + 1:i + 2] == "0":
            parts.append("0")
            i += 2
        elif ch == '"':
            end = section.find('"', i + 1)
            if end < 0 or section[i + 1:end].strip("0"):
                return None
            parts.extend("0" * (end - i - 1))
            i = end + 1
        else:
            return None
    return tuple(parts)


def padding_format(code: str) -> PaddingFormat | None:
    """The ``PaddingFormat`` of a number format code that pads whole numbers with zeros, else ``None``."""
    sections = _sections(code)
    parts = _zero_parts(sections[0])
    if not parts or None not in parts or len(parts) < 2:
        return None
    zero = _zero_parts(sections[2]) if len(sections) > 2 else None
    if len(sections) > 2 and (not zero or None not in zero):
        zero = ()  # zero shows otherwise: left as read
    return PaddingFormat(code, parts, zero)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _styles_member(zf: zipfile.ZipFile) -> str | None:
    """The zip member of the workbook's styles part: named by the workbook's relationships (``xl/styles.xml``
    as Excel names it, found whatever its case), else ``None``."""
    names = {n.casefold(): n for n in zf.NameToInfo}
    rels = names.get("xl/_rels/workbook.xml.rels")
    if rels is not None:
        try:
            root = ElementTree.fromstring(zf.read(rels))
        except (ElementTree.ParseError, zipfile.BadZipFile, OSError, KeyError):
            root = None
        for r in root.iter() if root is not None else ():
            if _local(r.tag) == "Relationship" and r.get("Type", "").endswith(_STYLES_TYPE):
                target = r.get("Target", "")
                path = posixpath.normpath(target.lstrip("/") if target.startswith("/") else "xl/" + target)
                found = names.get(path.casefold())
                if found is not None:
                    return found
    return names.get("xl/styles.xml")


def padding_styles(zf: zipfile.ZipFile) -> dict[int, PaddingFormat]:
    """Cell style index (``<c s="N">``: the N-th ``cellXfs/xf``) -> its ``PaddingFormat``, for the styles whose
    number format pads whole numbers with zeros; empty for a workbook without one (or whose styles cannot be
    read: its cells then read as they are).  The part is parsed as a stream, each element let go once read (a
    hostile styles part may be as large as the guard lets a part be)."""
    member = _styles_member(zf)
    if member is None:
        return {}
    codes: dict[str, str] = {}
    xf_formats: list[str] = []  # per cellXfs/xf, in order: its numFmtId
    try:
        with zf.open(member) as fh:
            head = fh.read(1 << 20)
        if b"formatCode" not in head and zf.getinfo(member).file_size <= len(head):
            return {}  # no format of its own: the built-in ones pad nothing
        depth = 0
        in_xfs = False
        with zf.open(member) as fh:
            for event, el in ElementTree.iterparse(fh, events=("start", "end")):
                tag = _local(el.tag)
                if event == "start":
                    depth += 1
                    if tag == "cellXfs" and depth == 2:
                        in_xfs = True
                    continue
                depth -= 1
                if tag == "numFmt":
                    codes[el.get("numFmtId", "").strip()] = el.get("formatCode", "")
                elif tag == "xf" and in_xfs and depth == 2:
                    xf_formats.append(el.get("numFmtId", "0").strip())
                elif tag == "cellXfs" and depth == 1:
                    in_xfs = False
                if depth <= 2:
                    el.clear()
    except (ElementTree.ParseError, zipfile.BadZipFile, OSError, KeyError):
        return {}
    formats = {fid: fmt for fid, code in codes.items() if (fmt := padding_format(code)) is not None}
    return {i: formats[fid] for i, fid in enumerate(xf_formats) if fid in formats}


# --- the cells bearing those styles ----------------------------------------------------------------------

_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s")
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3}[0-9]{1,7})"')
_REFS = re.compile(rb"[A-Z]{1,3}[0-9]{1,7}(?: [A-Z]{1,3}[0-9]{1,7})*")
_OTHER_SPACE = (b'\ts="', b'\ns="', b'\rs="')
_HEAD = 1 << 16  # the start of a sheet, where its writer's way of separating attributes shows


class StyledCells:
    """The references of the cells of one sheet XML whose style is one of ``styles``, found block by block
    (``feed``, then ``finish``) within the guard's pass over the sheet (guard.py): no second parse of the sheet.

    A block without ` s="N"` of those styles costs one byte search per style.  Every writer puts a cell's
    reference right before its style (``<c r="J2" s="1">``): each hit's reference is the text between the
    ``r="`` before it and the hit, and the block's references are checked as one text (one C pass).  Should one
    not be a reference (another attribute between them, a row's own style...), the block's hits are located one
    by one, in their tags."""

    def __init__(self, styles: dict[int, PaddingFormat]) -> None:
        self.styles = styles
        self._needles = {s: re.compile(b' s="%d"' % s) for s in styles}
        self._exact = {s: re.compile(rb'\ss="%d"' % s) for s in styles}
        self._found: dict[int, list[bytes]] = {s: [] for s in styles}
        self._pending = b""
        self._odd: bool | None = None  # the writer separates attributes by tabs or line breaks
        self.unplaced = False  # a styled cell without a reference: its place needs every tag walked (guard.py)

    def feed(self, block: bytes) -> None:
        """Search ``block``: up to its last tag start, every tag is whole; the tag cut by the block's end is
        searched with the next block's start."""
        if self._odd is None:
            self._odd = any(block.find(w, 0, _HEAD) >= 0 for w in _OTHER_SPACE)
        first = block.find(b"<")
        if first < 0:
            self._pending += block
            return
        if self._pending:
            piece = self._pending + block[:first]
            self._search(piece, 0, len(piece))
        last = block.rfind(b"<")
        self._search(block, first, last)
        self._pending = block[last:]

    def finish(self) -> PaddedCells | None:
        """What was found (``None``: no cell bears those styles)."""
        if self._pending:
            self._search(self._pending, 0, len(self._pending))
            self._pending = b""
        found = {s: (self.styles[s], b" ".join(refs)) for s, refs in self._found.items() if refs}
        return PaddedCells(found) if found else None

    def _search(self, data: bytes, start: int, end: int) -> None:
        for s, needle in self._needles.items():
            if self._odd:
                self._one_by_one(s, data, start, end)
                continue
            hits = [m.start() for m in needle.finditer(data, start, end)]
            if not hits:
                continue
            before = data.rfind
            refs = b" ".join([data[before(b' r="', start, p) + 4:p - 1] for p in hits])
            if _REFS.fullmatch(refs) is not None:
                self._found[s].append(refs)
            else:
                self._one_by_one(s, data, start, end)

    def _one_by_one(self, s: int, data: bytes, start: int, end: int) -> None:
        refs: list[bytes] = []
        for m in self._exact[s].finditer(data, start, end):
            tag = data.rfind(b"<", start, m.start())
            if tag < 0 or _CELL_START.match(data, tag) is None:
                continue  # a row's style, or no tag
            close = data.find(b">", m.end(), end)
            ref = _CELL_REF.search(data, tag, close if close >= 0 else end)
            if ref is None:
                self.unplaced = True
                continue
            refs.append(ref.group(1))
        if refs:
            self._found[s].append(b" ".join(refs))


class PaddedCells:
    """The cells of one sheet that bear a zero-padding format: per style, its format and the cells' references
    (``A2 A3 ...``, as one text: 100,000 cells take 800 KB, not 100,000 objects)."""

    __slots__ = ("by_style",)

    def __init__(self, by_style: dict[int, tuple[PaddingFormat, bytes]]) -> None:
        self.by_style = by_style

    def touches(self, letters: str) -> bool:
        """Whether some cell of column ``letters`` (``"J"``) bears such a format."""
        pattern = re.compile(rb"(?:^| )" + letters.encode() + rb"[0-9]")
        return any(pattern.search(refs) is not None for _, refs in self.by_style.values())

    def formats(self) -> list[PaddingFormat]:
        return [fmt for fmt, _ in self.by_style.values()]

    def in_column(self, letters: str) -> list[tuple[PaddingFormat, list[int]]]:
        """Per format, the 1-based rows of the cells of column ``letters`` bearing it."""
        pattern = re.compile(rb"(?:^| )" + letters.encode() + rb"([0-9]+)")
        out = [(fmt, list(map(int, pattern.findall(refs)))) for fmt, refs in self.by_style.values()]
        return [(fmt, rows) for fmt, rows in out if rows]
