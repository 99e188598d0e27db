"""The guard's cheap searches that decide whether its expensive ones must run (guard.py ``_unusual_refs``,
``BadTypedValues.feed``) find exactly what the expensive ones find alone: on any text, and on a sheet whose odd or
far reference is cut by a block's end at every place."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

from connector.errors import SourceError
from connector.sources.spreadsheet import guard
from tests import hostile_files as hf

# pieces of sheet XML around the reference attribute, before folding (guard._FOLD)
_REF_PIECES = [b" r", b"r", b"=", b'"', b"'", b" ", b"\t", b"\n", b"A", b"X", b"a", b"x", b"R", b"1", b"0", b"<c",
               b">", b'<c r="', b' r="A1"', b' r="AA1"', b' r="xfd1"', b' r="Xa', b' r="AAr', b' r="AAAx1"',
               b' r="AAAA1"', b' r=""', b' r="A"', b"r='", b" r =", b" r= ", b'<row r="3">', b"<v>7</v></c>"]


def _soup(rng: random.Random, pieces: list[bytes], n: int) -> bytes:
    return b"".join(rng.choice(pieces) for _ in range(rng.randint(0, n)))


def test_unusual_refs_finds_what_both_searches_find() -> None:
    rng = random.Random(12)
    texts = [b"", b' r="a', b' r="r', b' r="Aa', b' r="AAr', b' r="AAAa', b" r='A1'", b' r ="A1"', b' r= "A1"',
             b' r="AA1"', b' r="A1" r="Aa1"', b' r="A1"' * 50 + b' r="AAx1"', b' r="AAAA1"', b" r", b' r="']
    texts += [_soup(rng, _REF_PIECES, 40) for _ in range(20_000)]
    odd = wide = 0
    for text in texts:
        folded = text.translate(guard._FOLD)
        expected = (guard._odd_syntax(folded), b' r="AA' in folded)
        assert guard._unusual_refs(folded) == expected, text
        odd += expected[0]
        wide += expected[1]
    assert odd > 1000 and wide > 1000  # (both kinds were tried, and plain texts: 20,000 of them)


_FAR = {  # a far cell the fast searches miss, unless _unusual_refs says its reference is odd or its column wide
    b'<c r="XFD1000"><v>1</v></c>': "reaches cell XFD1000",
    b"<c r='XFD1000'><v>1</v></c>": "reaches cell XFD1000",
    b'<c r = "XFD1000"><v>1</v></c>': "reaches cell XFD1000",
    b'<c r="xfd1000"><v>1</v></c>': "reaches cell XFD1000",
    b'<c r="XfD1000"><v>1</v></c>': "reaches cell XFD1000",
}


@pytest.mark.parametrize("cell", list(_FAR))
def test_a_far_reference_cut_by_a_block_end_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     cell: bytes) -> None:
    """Blocks of 64 bytes: the far cell's reference starts at each of 64 places relative to a block's end."""
    monkeypatch.setattr(guard, "_CHUNK", 64)
    for shift in range(64):
        pad = b'<c r="B1"><v>%s</v></c>' % (b"1" * (shift + 1))
        rows = b'<row r="1"><c r="A1"><v>1</v></c>' + pad + b'</row><row r="1000">' + cell + b"</row>"
        path = hf.write_xlsx(tmp_path / f"far{shift}.xlsx", [("Products", hf.sheet_xml(rows))])
        with zipfile.ZipFile(path) as zf, pytest.raises(SourceError, match=_FAR[cell]):
            guard.scan_sheet(path, zf, "xl/worksheets/sheet1.xml", "Products", details=False)


def test_a_near_reference_cut_by_a_block_end_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "_CHUNK", 64)
    for shift in range(64):
        rows = b"".join(b'<row r="%d"><c r="A%d"><v>%s</v></c><c r="Z%d"><v>2</v></c></row>'
                        % (r, r, b"1" * (shift + 1), r) for r in range(1, 9))
        path = hf.write_xlsx(tmp_path / f"near{shift}.xlsx", [("Products", hf.sheet_xml(rows))])
        with zipfile.ZipFile(path) as zf:
            scan = guard.scan_sheet(path, zf, "xl/worksheets/sheet1.xml", "Products", details=False)
        assert (scan.rows, scan.columns) == (guard._FAST_ROWS, guard._FAST_COLUMNS)


class _WholePatternSearch(guard.BadTypedValues):
    """``BadTypedValues`` as it was: ``_BAD_TYPED_VALUE`` searched from each text's start."""

    def feed(self, block: bytes) -> None:
        if self.found is not None:
            return
        data = self._pending + block
        for m in guard._BAD_TYPED_VALUE.finditer(data):
            shared, boolean = m.group(1), m.group(2)
            if shared is None and boolean in guard._BOOLEANS:
                continue
            start = max(data.rfind(b"<", 0, m.start()), 0)
            self.found = (data[start:m.start()][:60], (shared if shared is not None else boolean)[:40],
                          "shared" if shared is not None else "boolean")
            return
        self._pending = data[-guard._CELL_WINDOW:] if block else b""


_CELL_PIECES = [b'<c r="A1" t="s"><v>12</v></c>', b'<c r="B1" t="s"><v>1234567890</v></c>', b't="s"><v>',
                b't="s"', b"t='s'", b't = "s"', b't="b"', b"t='b'", b"<v>", b"</v>", b"<x:v>", b"1", b"0",
                b"12345678901", b"-", b".", b" ", b"a", b"<", b">", b'"', b"s", b"b", b"t", b"=", b"/>", b"\n",
                b'<c r="C1" t="b"><v>1</v></c>', b'<c r="C1" t="n"><v>-1</v></c>', b' s="3"', b't="e"', b"e"]


def test_bad_typed_values_found_as_by_the_whole_pattern() -> None:
    rng = random.Random(5)
    found = errors = 0
    for _ in range(6_000):
        xml = _soup(rng, _CELL_PIECES, 60)
        ours, theirs = guard.BadTypedValues(), _WholePatternSearch()
        pos = 0
        while pos < len(xml):
            step = rng.choice((1, 3, 17, 64, 1000))
            ours.feed(xml[pos:pos + step])
            theirs.feed(xml[pos:pos + step])
            pos += step
        ours.feed(b"")
        theirs.feed(b"")
        assert ours.found == theirs.found, xml
        found += theirs.found is not None
        if ours.found is None:  # (a sheet with a bad value is refused: its error cells are not looked for)
            assert ours.error_cells is (b't="e"' in xml), xml
            errors += ours.error_cells
    assert 1000 < found < 5000 and errors > 100  # (texts with and without a bad value, or an error cell)


@pytest.mark.parametrize("cell, value", [
    (b'<c r="A2" t="s"><v>1234567890</v></c>', None),
    (b'<c r="A2" t="s"><v>12345678901</v></c>', b"12345678901"),
    (b'<c r="A2" t="s"><v>12a</v></c>', b"12a"),
    (b'<c r="A2" t="s"><v>-1</v></c>', b"-1"),
    (b'<c r="A2" t="s" ><v>-1</v></c>', b"-1"),
    (b'<c r="A2" t = "s"><v>-1</v></c>', b"-1"),
    (b"<c r='A2' t='s'><v>1.5</v></c>", b"1.5"),
    (b'<c r="A2" t="s"><x:v>-1</x:v></c>', b"-1"),
    (b'<c r="A2" t="s"> <v>7</v></c>', None),
    (b'<c r="A2" t="b"><v>2</v></c>', b"2"),
    (b'<c r="A2" t="b"><v>1</v></c>', None),
])
def test_a_bad_typed_value_next_to_the_common_form_is_found(cell: bytes, value: bytes | None) -> None:
    common = b'<c r="A1" t="s"><v>0</v></c>' * 300
    xml = common + cell + common
    indexes = guard.BadTypedValues()
    indexes.feed(xml)
    indexes.feed(b"")
    assert (indexes.found[1] if indexes.found else None) == value


_ERROR_CELL = b'<c r="B5" t="e"><v>#DIV/0!</v></c>'


@pytest.mark.parametrize("before", [b"", b'<c r="A5" t="b"><v>1</v></c>', b'<c r="A5" t="s"><v>3</v></c>',
                                    b'<c r="A5" t="str"><v>x</v></c>'])
@pytest.mark.parametrize("details", ["scan_sheet", "scan_details"])
def test_an_error_cell_is_a_marker_wherever_the_blocks_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           before: bytes, details: str) -> None:
    """The error cells' ``t="e"`` is looked for from the bad-typed-value search's first candidate on (guard.py
    ``BadTypedValues.error_cells``): found wherever it is, never where it is not."""
    monkeypatch.setattr(guard, "_CHUNK", 64)
    for shift in range(0, 64, 3):
        for error in (True, False):
            pad = b'<c r="A4"><v>%s</v></c>' % (b"1" * (shift + 1))
            cell = _ERROR_CELL if error else _ERROR_CELL.replace(b't="e"', b't="n"')
            rows = (b'<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="4">' + pad + b'</row><row r="5">'
                    + before + cell + b'</row><row r="6"><c r="A6" t="s"><v>1</v></c></row>')
            path = hf.write_xlsx(tmp_path / f"e{shift}{error}.xlsx", [("Products", hf.sheet_xml(rows))])
            with zipfile.ZipFile(path) as zf:
                member = "xl/worksheets/sheet1.xml"
                if details == "scan_sheet":
                    scan = guard.scan_sheet(path, zf, member, "Products")
                else:
                    scan = guard.scan_sheet(path, zf, member, "Products", details=False)
                    assert not scan.markers
                    guard.scan_details(zf, member, scan)
            assert scan.markers is error, (shift, error)
