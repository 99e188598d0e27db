"""Checks made once on an Arrow column's UTF-8 bytes instead of on each of its cells (control characters, invisible
SKU characters, escaped cells): they find nothing only where the cell-by-cell checks find nothing, and where the
bytes hold something (in the data, or only in a row outside it) the cells are looked at as before."""

from __future__ import annotations

import random

import pytest

from connector.sources.spreadsheet.columnar import ArrowColumns
from connector.sources.spreadsheet.controls import control_problems, free_of_controls
from connector.sources.spreadsheet.reader import read_raw
from tests.fast_paths import both, same

# every kind of character the checks tell apart: C0 controls (the tab and line breaks among them), DEL, C1 controls,
# the other characters written with a 0xC2 byte (no-break space, guillemets), accents, Arabic, look-alikes
_ALPHABET = ("ab Z09-'=,>", "\x00\x01\x1a\x1b\x1f\x7f", "\t\n\r\x0b\x0c", "\x80\x85\x93\x9f", "\xa0\xab\xbb\xbf",
             "éÉ\u0301", "منتج", "\u200b\u00ad\uff21\u2028")


def _text(rnd: random.Random) -> str:
    kinds = rnd.sample(_ALPHABET, rnd.randint(1, 3))
    return "".join(rnd.choice(rnd.choice(kinds)) for _ in range(rnd.randint(0, 12)))


def test_free_of_controls_says_what_control_problems_finds_in_one_text() -> None:
    rnd = random.Random(20261204)
    flagged = 0
    for _ in range(20000):
        text = _text(rnd)
        for multi_line in (False, True):
            found = list(control_problems([text], multi_line, "a name"))
            assert free_of_controls(text.encode(), multi_line) == (not found), (repr(text), multi_line)
            flagged += bool(found)
    assert 5000 < flagged < 35000  # both answers were really exercised


def test_utf8_chunks_hold_every_cell_of_the_view(tmp_path) -> None:
    path = tmp_path / "c.csv"
    rows = [f"S-{i},Nom {i} é {'x' * 60},{'' if i % 3 else 'ص'}{i}" for i in range(30000)]  # 3 MB: chunks
    path.write_text("SKU,Name,Brand\n" + "\n".join(rows) + "\n", encoding="utf-8")
    table = read_raw(path, columnar=True).products.table
    assert table.column(0).num_chunks > 1
    view = ArrowColumns(table, 1000, 25000)
    for j in range(3):
        chunks = view.utf8_chunks(j)
        assert chunks is not None and len(chunks) == table.column(j).num_chunks
        k = pos = 0  # the cells are found in order, chunk after chunk
        for cell in view[j]:
            while (at := chunks[k].find(cell.encode(), pos)) < 0:
                k, pos = k + 1, 0
                assert k < len(chunks), cell
            pos = at + len(cell.encode())
        assert k > 0


@pytest.mark.parametrize(("above", "cell", "issues"), [
    ("", "Savon", []),
    ("Catalogue\x01 2026", "Savon", []),  # a control character in a row above the header: a false alarm
    ("", "Sav\x93on", ["Name (fr)"]),  # a C1 control (0xC2 0x93) in the data
    ("Prix \xa0", "Sav\xa0on \x85x", ["Name (fr)"]),  # 0xC2 bytes, one of them a C1 control
    ("Prix \xa0", "Sav\xa0on", []),  # 0xC2 bytes, none of them a control
    ("", "Savon\tbio", ["Name (fr)"]),
])
def test_a_control_character_is_found_where_the_cells_hold_one(tmp_path, above: str, cell: str,
                                                               issues: list[str]) -> None:
    path = tmp_path / "c.csv"
    text = (f",,{above},\n" if above else "") + "SKU,Price,Name (fr),Description (fr)\n" \
        + f'A-1,5,{cell},"Savon\tà l\'huile\r\nd\'olive"\nA-2,6,Thé,Thé vert\n'
    path.write_bytes(text.encode())
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    assert [i.column for i in fast.issues] == issues
    assert [p.key for p in fast.products] == (["A-1", "A-2"] if not issues else ["A-2"])


@pytest.mark.parametrize(("sku", "found"), [
    ("A-1", False),
    ("A\x01-1", True),  # an invisible ASCII character
    ("A\u200b-1", True),  # a zero-width space (not ASCII)
    ("Ａ-1", True),  # a full-width look-alike (not ASCII)
    ("É-1", False),  # not ASCII, neither invisible nor a look-alike
])
def test_an_invisible_sku_character_is_found_through_the_bytes(tmp_path, sku: str, found: bool) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(f"SKU,Price\n{sku},5\nB-1,6\n".encode())
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    assert any("character" in i.reason for i in fast.issues) == found, fast.issues


def test_an_apostrophe_inside_a_cell_does_not_unescape_it_and_a_leading_one_does(tmp_path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("SKU,Price,Name,Brand\nA-1,5,Men's soap,'=Alep\nA-2,6,'+Tea,L'Oréal\n".encode())
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    assert [(p.name, p.brand) for p in fast.products] == [("Men's soap", "=Alep"), ("+Tea", "L'Oréal")]
