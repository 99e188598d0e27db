"""The state in SQLite, one file per sync profile (design §3): the embedded default ``StateStore`` backend.

The connection is shared by the threads that use the store (the webhook receiver's handlers, an executor's
workers): every use holds the store's lock, and ``atomic`` holds it for the whole block.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connector.errors import ConfigError, StateLockedError
from connector.sync.state.lock import FileLock
from connector.sync.state.sql import SqlState, plugin_ddl
from connector.sync.state.tables import AddColumn, PluginSchema, Table

SCHEMA_VERSION = 5

_MAPS_AS_JSON = ("SELECT json_group_object(key, hash), json_group_object(key, record) FILTER (WHERE record IS NOT "
                 "NULL) FROM payloads WHERE marketplace=? AND account=? AND kind=?")
"""``hashes`` and ``record_marks`` of one kind, each as one JSON object (``SqliteState.hashes_and_marks``)."""

BUSY_TIMEOUT = 30.0
"""Seconds a write waits for another connection's transaction (a webhook receiver writes beside a sync)."""

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE bindings (
        marketplace TEXT NOT NULL, account TEXT NOT NULL, key TEXT NOT NULL,
        remote_id TEXT, created_at TEXT NOT NULL,
        PRIMARY KEY (marketplace, account, key)
    ) WITHOUT ROWID;
    CREATE TABLE payloads (
        marketplace TEXT NOT NULL, account TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,
        hash TEXT NOT NULL, body TEXT NOT NULL, confirmed_at TEXT NOT NULL,
        PRIMARY KEY (marketplace, account, kind, key)
    ) WITHOUT ROWID;
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, marketplace TEXT NOT NULL, account TEXT NOT NULL,
        action TEXT NOT NULL, keys TEXT NOT NULL, idempotency_key TEXT,
        status TEXT NOT NULL CHECK (status IN ('sent', 'confirmed', 'failed')),
        sent_at TEXT NOT NULL, finished_at TEXT, message TEXT
    );
    CREATE INDEX journal_open ON journal (status) WHERE status = 'sent';
    CREATE TABLE budget_usage (
        marketplace TEXT NOT NULL, account TEXT NOT NULL, op_class TEXT NOT NULL, day TEXT NOT NULL,
        used INTEGER NOT NULL, PRIMARY KEY (marketplace, account, op_class, day)
    ) WITHOUT ROWID;
    CREATE TABLE cursors (
        source TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (source, name)
    ) WITHOUT ROWID;
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, exit_code INTEGER, summary TEXT
    );
    """,
    # Bindings per payload kind.  A version-1 binding had no kind: it was written with a confirmed payload, so
    # it is carried over to every kind confirmed under its key (a binding left without any payload keeps the
    # kind '').  Plugins record the version of their own tables in plugin_schemas.
    2: """
    CREATE TABLE bindings_by_kind (
        marketplace TEXT NOT NULL, account TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
        remote_id TEXT, created_at TEXT NOT NULL,
        PRIMARY KEY (marketplace, account, kind, key)
    ) WITHOUT ROWID;
    INSERT INTO bindings_by_kind
        SELECT b.marketplace, b.account, p.kind, b.key, b.remote_id, b.created_at
        FROM bindings b JOIN payloads p ON p.marketplace = b.marketplace AND p.account = b.account AND p.key = b.key;
    INSERT INTO bindings_by_kind
        SELECT b.marketplace, b.account, '', b.key, b.remote_id, b.created_at FROM bindings b
        WHERE NOT EXISTS (SELECT 1 FROM payloads p
                          WHERE p.marketplace = b.marketplace AND p.account = b.account AND p.key = b.key);
    DROP TABLE bindings;
    ALTER TABLE bindings_by_kind RENAME TO bindings;
    CREATE TABLE plugin_schemas (
        plugin TEXT PRIMARY KEY, version INTEGER NOT NULL, migrated_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # The calls of the last per-minute budget window (epoch seconds), so that a run started right after another
    # one keeps under the marketplace's window too.  Older calls are deleted as new ones are recorded.
    3: """
    CREATE TABLE budget_calls (
        marketplace TEXT NOT NULL, account TEXT NOT NULL, op_class TEXT NOT NULL, at REAL NOT NULL
    );
    CREATE INDEX budget_calls_at ON budget_calls (marketplace, account, op_class, at);
    """,
    # The fingerprint of the canonical record (and mapping context) whose mapping gave a confirmed payload, so
    # an unchanged record is not mapped again (``StateStore.record_marks``).  NULL: not known (yet).
    4: """
    ALTER TABLE payloads ADD COLUMN record TEXT;
    """,
    # What lets a run whose inputs did not change skip reading its source (``connector.sync.unchanged``): a
    # counter per payload kind, raised in the transaction of every write to the confirmed payloads (confirm,
    # forget, marks), and the last run of each account that ended clean (its inputs, and the rows it accounted
    # for, zlib-compressed).
    5: """
    CREATE TABLE payload_generations (
        marketplace TEXT NOT NULL, account TEXT NOT NULL, kind TEXT NOT NULL, generation INTEGER NOT NULL,
        PRIMARY KEY (marketplace, account, kind)
    ) WITHOUT ROWID;
    CREATE TABLE clean_runs (
        marketplace TEXT NOT NULL, account TEXT NOT NULL, inputs TEXT NOT NULL, run_id TEXT NOT NULL,
        finished_at TEXT NOT NULL, checks TEXT NOT NULL, detail BLOB NOT NULL,
        PRIMARY KEY (marketplace, account)
    ) WITHOUT ROWID;
    """,
}


class SqliteState(SqlState):
    """The state file.  ``path`` is the resolved path (symlinks followed), ``:memory:`` for a throwaway state."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock: FileLock | None) -> None:
        self.path = path
        self.label = f"file {path}"
        self._conn = conn
        self._file_lock = lock
        self._mutex = threading.RLock()
        self._depth = 0  # nesting of atomic()
        self._schemas: dict[str, int] = {}
        self._own_writes: Counter[tuple[str, str, str]] = Counter()

    @classmethod
    def open(cls, location: str | Path, *, lock: bool = True) -> SqliteState:
        path = Path(location)
        file_lock = None
        if str(location) != ":memory:":
            path = path.resolve()
            if path.exists() and not path.is_file():
                raise ConfigError(f"state file {location} is a folder or a device: give a file name (e.g. "
                                  "shop.sqlite)")
            path.parent.mkdir(parents=True, exist_ok=True)
            if lock:
                file_lock = FileLock(path).acquire()
        conn = None
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            store = cls(path, conn, file_lock)
            store._migrate()
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if file_lock is not None:
                file_lock.release()
            if isinstance(exc, sqlite3.DatabaseError) and "locked" not in str(exc):  # a workbook given as state
                raise ConfigError(f"state file {location} cannot be used: it is not a connector state file "
                                  f"({exc}); give another file name (a new one starts an empty state)") from None
            raise
        return store

    def close(self) -> None:
        with self._mutex:
            self._conn.close()
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def hashes_and_marks(self, marketplace: str, account: str, kind: str) -> tuple[dict[str, str], dict[str, str]]:
        """Both maps built by SQLite as JSON objects in one step of the query, then parsed by the json module: no
        row objects, and the GIL let go of once for the whole scan instead of at each row (about 10% of a
        no-change plan of 100,000 products, which reads two kinds).  An SQLite without its JSON functions (before
        3.38, unless built with them) reads the rows."""
        try:
            ((hashes, marks),) = self._rows(_MAPS_AS_JSON, (marketplace, account, kind))
        except sqlite3.OperationalError:
            return super().hashes_and_marks(marketplace, account, kind)
        return json.loads(hashes) if hashes else {}, json.loads(marks) if marks else {}

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._mutex:
            return self._conn.execute(sql, params).rowcount

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._mutex:
            return self._conn.execute(sql, params).fetchall()

    def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        with self._mutex:
            return self._conn.executemany(sql, rows).rowcount

    def _insert_id(self, sql: str, params: Sequence[Any]) -> int:
        with self._mutex:
            return int(self._conn.execute(sql, params).lastrowid or 0)

    def _ddl(self, schema: PluginSchema, step: Table | AddColumn) -> str:
        return plugin_ddl(schema, step, _TYPES, " WITHOUT ROWID")

    def _migrate(self) -> None:
        version = self._rows("PRAGMA user_version")[0][0]
        if version > SCHEMA_VERSION:
            raise StateLockedError(f"state file {self.path} was written by a newer connector (schema {version})")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.atomic():
                for stmt in _MIGRATIONS[target].split(";"):
                    if stmt.strip():
                        self._run(stmt)
                self._run(f"PRAGMA user_version = {target}")


_TYPES = {"text": "TEXT", "integer": "INTEGER"}
