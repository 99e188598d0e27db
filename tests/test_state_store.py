"""The state behind its interface: bindings by kind (and the migration from a version-1 file), plugin tables
declared as migrations and reached through the rows API, atomic blocks, and the lock on the resolved path."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import EXIT_LOCKED, StateLockedError
from connector.sync.state import AddColumn, Column, PluginSchema, StateStore, Table
from connector.sync.state.sqlite import _MIGRATIONS, SCHEMA_VERSION

M, A = "elebne", "acct"


@pytest.fixture
def state(state_location: str | Path):
    """An open state, once per backend (SQLite file, PostgreSQL database)."""
    with StateStore.open(state_location) as s:
        yield s


def confirm(state: StateStore, kind: str, key: str, remote_id: str | None = None) -> None:
    state.confirm(M, A, kind, [(key, f"h-{kind}-{key}", '{"k":1}', remote_id)])


# -- bindings by kind --------------------------------------------------------------------------------------------

def test_forget_drops_only_the_kind_it_names(state: StateStore) -> None:
    confirm(state, "product", "A", "rid-A")
    confirm(state, "stock", "A", "rid-A")
    confirm(state, "product", "B", "rid-B")
    state.forget(M, A, "product", "A")
    assert state.hashes(M, A, "product") == {"B": "h-product-B"}
    assert state.hashes(M, A, "stock") == {"A": "h-stock-A"}
    assert state.remote_ids(M, A, "product") == {"B": "rid-B"}
    assert state.remote_ids(M, A, "stock") == {"A": "rid-A"}


def test_the_same_key_can_be_bound_to_other_records_under_other_kinds(state: StateStore) -> None:
    confirm(state, "product", "100", "prod-100")
    confirm(state, "order", "100", "ord-100")
    assert state.remote_ids(M, A, "product") == {"100": "prod-100"}
    assert state.remote_ids(M, A, "order") == {"100": "ord-100"}
    confirm(state, "order", "100")  # no remote id in the answer: the binding stays
    assert state.remote_ids(M, A, "order") == {"100": "ord-100"}


def _write_v1_file(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(_MIGRATIONS[1] + "; PRAGMA user_version = 1;")
    conn.executemany("INSERT INTO payloads VALUES (?,?,?,?,?,?,?)", [
        (M, A, "A", "product", "hp", '{"name":"a"}', "2026-11-01T00:00:00Z"),
        (M, A, "A", "stock", "hs", '{"quantity":3}', "2026-11-01T00:00:00Z"),
        (M, A, "B", "product", "hb", '{"name":"b"}', "2026-11-01T00:00:00Z"),
    ])
    conn.executemany("INSERT INTO bindings VALUES (?,?,?,?,?)", [
        (M, A, "A", "rid-A", "2026-11-01T00:00:00Z"),
        (M, A, "B", "rid-B", "2026-11-01T00:00:00Z"),
        (M, A, "ORPHAN", "rid-O", "2026-11-01T00:00:00Z"),
    ])
    conn.execute("INSERT INTO cursors VALUES ('odoo:db', 'products', '2026-11-01T00:00:00Z', 'x')")
    conn.execute("INSERT INTO budget_usage VALUES (?, ?, 'write', '2026-11-01', 7)", (M, A))
    conn.close()


def test_a_version_1_file_is_migrated_with_its_bindings_carried_over_by_kind(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _write_v1_file(path)
    with StateStore.open(path) as s:
        assert s.hashes(M, A, "product") == {"A": "hp", "B": "hb"}
        assert s.hashes(M, A, "stock") == {"A": "hs"}
        # a v1 binding was written with a payload: it now stands for every kind confirmed under its key
        assert s.remote_ids(M, A, "product") == {"A": "rid-A", "B": "rid-B"}
        assert s.remote_ids(M, A, "stock") == {"A": "rid-A"}
        assert s.remote_ids(M, A, "") == {"ORPHAN": "rid-O"}  # no payload left: kept, under no kind
        assert s.get_cursor("odoo:db", "products") == "2026-11-01T00:00:00Z"
        assert s.budget_counter(M, A).used_today("write", "2026-11-01") == 7
        s.forget(M, A, "stock", "A")
        assert s.remote_ids(M, A, "product")["A"] == "rid-A" and s.hashes(M, A, "stock") == {}
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_a_file_from_a_newer_connector_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StateLockedError, match="newer connector"):
        StateStore.open(path)
    with pytest.raises(StateLockedError, match="newer connector"):  # the lock was released: not "another run"
        StateStore.open(path)


# -- atomic blocks -------------------------------------------------------------------------------------------------

def test_an_atomic_block_commits_together_or_not_at_all(state: StateStore) -> None:
    with pytest.raises(RuntimeError), state.atomic():
        confirm(state, "product", "A")
        state.set_cursor("src", "c", "1")
        raise RuntimeError("killed halfway")
    assert state.hashes(M, A, "product") == {} and state.get_cursor("src", "c") is None
    with state.atomic(), state.atomic():  # blocks nest
        confirm(state, "product", "A")
    assert state.hashes(M, A, "product") == {"A": "h-product-A"}


# -- plugin tables -------------------------------------------------------------------------------------------------

NOTES_V1 = {1: (Table("notes", (Column("account"), Column("sku"), Column("text", nullable=True),
                                Column("seen", "integer", default=1)), key=("account", "sku")),)}
NOTES_V2 = {**NOTES_V1, 2: (AddColumn("notes", Column("lang", default="en")),)}


def test_plugin_tables_are_created_by_their_migrations_and_used_through_rows(state_location: str | Path) -> None:
    path = state_location
    with StateStore.open(path) as s:
        notes = s.tables(PluginSchema("demo", NOTES_V1))
        assert notes.put("notes", [{"account": "a", "sku": "X", "text": "one"},
                                   {"account": "a", "sku": "Y", "text": None}]) == 2
        assert notes.put("notes", [{"account": "a", "sku": "X", "text": "again"}], on_conflict="ignore") == 0
        assert notes.first("notes", {"account": "a", "sku": "X"})["text"] == "one"
        notes.put("notes", [{"account": "a", "sku": "X", "text": "two"}])  # default: update
        assert notes.update("notes", {"account": "a", "sku": ["X", "Y"]}, increment={"seen": 2}) == 2
        assert notes.rows("notes", {"text": None}) == [{"account": "a", "sku": "Y", "text": None, "seen": 3}]
        assert [r["sku"] for r in notes.rows("notes", order_by=("sku",))] == ["X", "Y"]
        assert notes.rows("notes", {"sku": []}) == []  # "one of" nothing
        assert notes.delete("notes", {"account": "a", "sku": ["Y"]}) == 1
    with StateStore.open(path) as s:  # version 2: the data stays, the new column has its default
        notes = s.tables(PluginSchema("demo", NOTES_V2))
        assert notes.rows("notes") == [{"account": "a", "sku": "X", "text": "two", "seen": 3, "lang": "en"}]
    with StateStore.open(path) as s, pytest.raises(StateLockedError, match="newer connector"):
        s.tables(PluginSchema("demo", NOTES_V1))  # an older connector must not write a table it does not know


def test_the_rows_api_refuses_what_the_plugin_did_not_declare(state: StateStore) -> None:
    notes = state.tables(PluginSchema("demo", NOTES_V1))
    with pytest.raises(KeyError, match="no table"):
        notes.rows("bindings")
    with pytest.raises(KeyError, match="no column"):
        notes.rows("notes", {"sku; DROP TABLE payloads": "x"})
    with pytest.raises(ValueError, match="numbered"):
        PluginSchema("demo", {2: NOTES_V1[1]})


def test_many_keys_are_read_and_deleted_in_chunks(state: StateStore) -> None:
    notes = state.tables(PluginSchema("demo", NOTES_V1))
    skus = [f"S{i:05d}" for i in range(1234)]
    notes.put("notes", ({"account": "a", "sku": s} for s in skus))
    assert len(notes.rows("notes", {"account": "a", "sku": skus[::2]})) == 617
    assert notes.delete("notes", {"sku": skus[:1000]}) == 1000
    assert len(notes.rows("notes")) == 234


def test_ecomlinx_tables_written_before_they_were_versioned_keep_their_rows(tmp_path: Path) -> None:
    from connector.marketplaces.ecomlinx.statedb import TABLES

    path = tmp_path / "s.sqlite"
    StateStore.open(path).close()
    conn = sqlite3.connect(path, isolation_level=None)  # what the unversioned EcomLinx code created
    conn.executescript("""
        CREATE TABLE ecomlinx_missing (account TEXT NOT NULL, sku TEXT NOT NULL, first_seen TEXT NOT NULL,
            last_checked TEXT NOT NULL, PRIMARY KEY (account, sku)) WITHOUT ROWID;
        INSERT INTO ecomlinx_missing VALUES ('acct', 'GONE-1', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z');
    """)
    conn.close()
    with StateStore.open(path) as s:
        assert s.tables(TABLES).rows("missing") == [{"account": "acct", "sku": "GONE-1",
                                                     "first_seen": "2026-11-01T00:00:00Z",
                                                     "last_checked": "2026-11-01T00:00:00Z"}]


def test_the_store_can_be_shared_by_threads(state_location: str | Path) -> None:
    with StateStore.open(state_location, lock=False) as s:
        notes = s.tables(PluginSchema("demo", NOTES_V1))
        notes.put("notes", [{"account": "a", "sku": "X"}])

        def bump() -> None:
            for _ in range(50):
                with s.atomic():
                    notes.update("notes", {"sku": "X"}, increment={"seen": 1})

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert notes.first("notes", {"sku": "X"})["seen"] == 1 + 200


# -- the lock ------------------------------------------------------------------------------------------------------

def test_a_symlinked_state_path_takes_the_same_lock(tmp_path: Path) -> None:
    real = tmp_path / "real" / "state.sqlite"
    real.parent.mkdir()
    link = tmp_path / "link.sqlite"
    link.symlink_to(real)
    folder_link = tmp_path / "folder"
    folder_link.symlink_to(real.parent, target_is_directory=True)
    with StateStore.open(real):
        for other in (link, folder_link / "state.sqlite"):
            with pytest.raises(StateLockedError, match="another run is using"):
                StateStore.open(other)
    with StateStore.open(link), pytest.raises(StateLockedError):
        StateStore.open(real)
    StateStore.open(link).close()  # released


def test_a_hard_link_to_a_state_in_use_is_locked_too(tmp_path: Path) -> None:
    """A hard link in another folder has a real path of its own: the lock on the file itself still holds."""
    real = tmp_path / "a" / "state.sqlite"
    real.parent.mkdir()
    StateStore.open(real).close()
    other = tmp_path / "b" / "copy.sqlite"
    other.parent.mkdir()
    os.link(real, other)
    with StateStore.open(real), pytest.raises(StateLockedError, match="hard link"):
        StateStore.open(other)
    with StateStore.open(other), pytest.raises(StateLockedError):
        StateStore.open(real)
    StateStore.open(real).close()  # released
    with StateStore.open(tmp_path / "a" / "new.sqlite"):  # a new file is locked as soon as it exists
        assert (tmp_path / "a" / "new.sqlite").exists()
        with pytest.raises(StateLockedError):
            StateStore.open(tmp_path / "a" / "new.sqlite")


def test_sync_through_a_symlink_to_a_locked_state_exits_5(tmp_path: Path, capsys) -> None:
    real = tmp_path / "state.sqlite"
    link = tmp_path / "alias.sqlite"
    link.symlink_to(real)
    with StateStore.open(real):
        code = main(["sync", "--source", str(tmp_path / "products.csv"), "--target", "elebne",
                     "--state", str(link), "--no-progress"])
    assert code == EXIT_LOCKED
    assert "another run is using" in capsys.readouterr().err


def test_no_module_outside_the_state_opens_a_database_connection() -> None:
    """The state is reached through its interface only (sandboxes keep their own databases)."""
    root = Path(__file__).resolve().parent.parent / "connector"
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("sync/state/") or "sandbox" in rel:
            continue
        if "sqlite3" in path.read_text(encoding="utf-8"):
            offenders.append(rel)
    assert offenders == []


@pytest.mark.parametrize("kind", ["workbook", "folder"])
def test_a_state_path_that_is_not_a_state_file_is_exit_2_and_left_alone(tmp_path: Path, capsys, kind: str) -> None:
    """``--state products.xlsx`` (or a folder) is a usage mistake: exit 2 with a message, no traceback, the file
    untouched and no lock file left beside it."""
    src = tmp_path / "products.csv"
    src.write_text("SKU,Name,Price\nA,Tea,2\n", encoding="utf-8")
    target = tmp_path / "not-state"
    if kind == "folder":
        target.mkdir()
    else:
        target.write_bytes(b"PK\x03\x04 a workbook, not a database" * 100)
    before = target.read_bytes() if kind == "workbook" else None
    code = main(["sync", "--source", str(src), "--target", "elebne", "--state", str(target), "--dry-run",
                 "--no-progress"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "Traceback" not in err and f"state file {target}" in err
    if before is not None:
        assert target.read_bytes() == before
    assert not (tmp_path / "not-state.lock").exists() or kind == "workbook"


def test_no_usable_temporary_folder_still_locks_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hard-link lock lives in the temporary folder; without one the lock beside the state file still holds."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "missing" / "tmp"))
    state = tmp_path / "state.sqlite"
    with StateStore.open(state), pytest.raises(StateLockedError):
        StateStore.open(state)
