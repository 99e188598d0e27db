"""The SQLite state reads a kind's confirmed hashes and record marks as two JSON objects SQLite builds
(``SqliteState.hashes_and_marks``, issue 16: no row objects for the no-change plan of 100,000 products); they
must be exactly what reading the rows gives, whatever the keys hold, and an SQLite without its JSON functions
reads the rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.sync.state import StateStore
from connector.sync.state import sqlite as sqlite_state
from connector.sync.state.sql import SqlState

KEYS = ['a"b', "back\\slash", "ctl\x01\x1f\x7f", "tab\t\nnew", "é☕", "😀", "", " sp ", "ユニ", "\u2028line", '{"k":1}',
        "null", "123", "x" * 5000]


def filled(tmp_path: Path) -> StateStore:
    state = StateStore.open(tmp_path / "state.sqlite")
    for kind in ("product", "stock"):
        state.confirm("elebne", "shop", kind, [(k, f"{kind}-h{i}", "{}", None) for i, k in enumerate(KEYS)])
        state.mark_records("elebne", "shop", kind, [(k, f"{kind}-h{i}", f"n1:{i}|{k}")
                                                    for i, k in enumerate(KEYS) if i % 3])
    state.confirm("elebne", "other", "product", [("Z", "z", "{}", None)])  # another account: not read
    return state


def test_the_json_read_gives_what_the_rows_give(tmp_path: Path) -> None:
    with filled(tmp_path) as state:
        for kind in ("product", "stock"):
            hashes, marks = state.hashes_and_marks("elebne", "shop", kind)
            assert (hashes, marks) == SqlState.hashes_and_marks(state, "elebne", "shop", kind)
            assert set(hashes) == set(KEYS) and hashes["😀"] == f"{kind}-h5"
            assert set(marks) == {k for i, k in enumerate(KEYS) if i % 3}
            assert marks["back\\slash"] == "n1:1|back\\slash"
        assert state.hashes_and_marks("elebne", "nobody", "product") == ({}, {})
        assert state.hashes_and_marks("elebne", "other", "product") == ({"Z": "z"}, {})


def test_an_sqlite_without_json_functions_reads_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_state, "_MAPS_AS_JSON", sqlite_state._MAPS_AS_JSON.replace("json_group_object",
                                                                                          "no_such_function"))
    with filled(tmp_path) as state:
        hashes, marks = state.hashes_and_marks("elebne", "shop", "stock")
        assert hashes == {k: f"stock-h{i}" for i, k in enumerate(KEYS)}
        assert marks == {k: f"n1:{i}|{k}" for i, k in enumerate(KEYS) if i % 3}
