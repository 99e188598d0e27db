"""``inert.may_hold_escapes``: the CSV reader's line-by-line test for apostrophe-escaped cells never misses one
that a search of the whole joined text would find (it decides whether ``unescape_rows`` runs)."""

from __future__ import annotations

import random

from connector.sources.spreadsheet.inert import FORMULA_STARTS, may_hold_escapes

_MARKERS = tuple("'" + c for c in (*FORMULA_STARTS, "'"))


def _joined_search(lines: list[str]) -> bool:
    joined = "".join(lines)
    return any(m in joined for m in _MARKERS)


def test_same_answer_as_a_search_of_the_joined_text() -> None:
    rnd = random.Random(16)
    alphabet = ["a", "b", ",", "'", "=", "+", "-", "@", "\t", "\r", "\n", "é", '"']
    for _ in range(2000):
        lines = []
        count = rnd.randint(0, 6)
        for k in range(count):  # as bytes.splitlines(keepends=True) gives them: only the last may lack an end
            body = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 8)))
            lines.append(body + rnd.choice(["\n", "\r\n", "\r", *([""] if k == count - 1 else [])]))
        expected = _joined_search(lines)
        assert may_hold_escapes(lines) is expected, lines
        assert may_hold_escapes([ln.encode() for ln in lines]) is expected, lines


def test_plain_apostrophes_are_not_escapes() -> None:
    assert not may_hold_escapes([b"SKU,Name\n", b"A1,l'article d'Anna\n"])
    assert may_hold_escapes([b"SKU,Name\n", b"A1,'=SUM(A1)\n"])
    assert may_hold_escapes(["SKU,Name\n", "A1,''quoted\n"])
    assert not may_hold_escapes([])
