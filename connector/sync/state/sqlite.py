"""The state in SQLite, one file per sync profile (design §3): the only ``StateStore`` backend so far.

The connection is shared by the threads that use the store (the webhook receiver's handlers, an executor's
workers): every use holds the store's lock, and ``atomic`` holds it for the whole block.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connector.errors import ConfigError, StateLockedError
from connector.sync.state.lock import FileLock
from connector.sync.state.store import ConfirmedItem, StateStore, utcnow
from connector.sync.state.tables import AddColumn, Column, PluginSchema, Row, Table, Value, Where

SCHEMA_VERSION = 4

BUSY_TIMEOUT = 30.0
"""Seconds a write waits for another connection's transaction (a webhook receiver writes beside a sync)."""

_CHUNK = 500  # keys per ``IN (...)``: under SQLite's bound-parameter limit

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
}


class SqliteState(StateStore):
    """The state file.  ``path`` is the resolved path (symlinks followed), ``:memory:`` for a throwaway state."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock: FileLock | None) -> None:
        self.path = path
        self._conn = conn
        self._file_lock = lock
        self._mutex = threading.RLock()
        self._depth = 0  # nesting of atomic()
        self._schemas: dict[str, int] = {}  # plugin -> version known to be applied

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
    def atomic(self) -> Iterator[None]:
        with self._mutex:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._mutex:
            return self._conn.execute(sql, params)

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._mutex:
            return self._conn.execute(sql, params).fetchall()

    def _migrate(self) -> None:
        version = self._fetchall("PRAGMA user_version")[0][0]
        if version > SCHEMA_VERSION:
            raise StateLockedError(f"state file {self.path} was written by a newer connector (schema {version})")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.atomic():
                for stmt in _MIGRATIONS[target].split(";"):
                    if stmt.strip():
                        self._execute(stmt)
                self._execute(f"PRAGMA user_version = {target}")

    # -- bindings and confirmed payloads ---------------------------------------------------------------------
    def hashes(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        return dict(self._fetchall("SELECT key, hash FROM payloads WHERE marketplace=? AND account=? AND kind=?",
                                   (marketplace, account, kind)))

    def bodies(self, marketplace: str, account: str, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        keys = list(keys)
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i:i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, body in self._fetchall(
                    f"SELECT key, body FROM payloads WHERE marketplace=? AND account=? AND kind=? AND key IN ({marks})",
                    (marketplace, account, kind, *chunk)):
                out[key] = json.loads(body)
        return out

    def record_marks(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        return dict(self._fetchall("SELECT key, record FROM payloads WHERE marketplace=? AND account=? AND kind=? "
                                   "AND record IS NOT NULL", (marketplace, account, kind)))

    def mark_records(self, marketplace: str, account: str, kind: str, items: Iterable[tuple[str, str, str]]) -> None:
        with self.atomic(), self._mutex:
            self._conn.executemany(
                "UPDATE payloads SET record=? WHERE marketplace=? AND account=? AND kind=? AND key=? AND hash=?",
                [(record, marketplace, account, kind, key, digest) for key, digest, record in items])

    def remote_ids(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        return dict(self._fetchall("SELECT key, remote_id FROM bindings WHERE marketplace=? AND account=? "
                                   "AND kind=? AND remote_id IS NOT NULL", (marketplace, account, kind)))

    def confirm(self, marketplace: str, account: str, kind: str, items: Iterable[ConfirmedItem]) -> None:
        now = utcnow()
        with self.atomic():
            for key, digest, body, remote_id in items:
                self._execute(
                    "INSERT INTO payloads (marketplace, account, key, kind, hash, body, confirmed_at) "
                    "VALUES (?,?,?,?,?,?,?) ON CONFLICT (marketplace, account, kind, key) "
                    "DO UPDATE SET hash=excluded.hash, body=excluded.body, confirmed_at=excluded.confirmed_at, "
                    "record=NULL",  # a new body: which record it was mapped from is marked apart (mark_records)
                    (marketplace, account, key, kind, digest, body, now))
                if remote_id is not None:
                    self._execute(
                        "INSERT INTO bindings VALUES (?,?,?,?,?,?) ON CONFLICT (marketplace, account, kind, key) "
                        "DO UPDATE SET remote_id=excluded.remote_id",
                        (marketplace, account, kind, key, remote_id, now))

    def forget(self, marketplace: str, account: str, kind: str, key: str) -> None:
        with self.atomic():
            for table in ("payloads", "bindings"):
                self._execute(f"DELETE FROM {table} WHERE marketplace=? AND account=? AND kind=? AND key=?",
                              (marketplace, account, kind, key))

    # -- journal ---------------------------------------------------------------------------------------------
    def journal_sent(self, run_id: str, marketplace: str, account: str, action: str, keys: list[str],
                     idempotency_key: str | None = None) -> int:
        with self.atomic():
            cur = self._execute(
                "INSERT INTO journal (run_id, marketplace, account, action, keys, idempotency_key, status, sent_at) "
                "VALUES (?,?,?,?,?,?,'sent',?)",
                (run_id, marketplace, account, action, json.dumps(keys), idempotency_key, utcnow()))
            return int(cur.lastrowid or 0)

    def journal_done(self, entry_id: int, ok: bool, message: str | None = None) -> None:
        self._execute("UPDATE journal SET status=?, finished_at=?, message=? WHERE id=?",
                      ("confirmed" if ok else "failed", utcnow(), message, entry_id))

    def journal_open(self, marketplace: str, account: str) -> list[dict[str, Any]]:
        rows = self._fetchall(
            "SELECT id, run_id, action, keys, idempotency_key, sent_at FROM journal "
            "WHERE status='sent' AND marketplace=? AND account=?", (marketplace, account))
        return [{"id": r[0], "run_id": r[1], "action": r[2], "keys": json.loads(r[3]), "idempotency_key": r[4],
                 "sent_at": r[5]} for r in rows]

    def journal_close_stale(self, marketplace: str, account: str, message: str) -> int:
        cur = self._execute("UPDATE journal SET status='failed', finished_at=?, message=? "
                            "WHERE status='sent' AND marketplace=? AND account=?",
                            (utcnow(), message, marketplace, account))
        return cur.rowcount

    # -- budgets ---------------------------------------------------------------------------------------------
    def budget_used(self, marketplace: str, account: str, op_class: str, day: str) -> int:
        rows = self._fetchall("SELECT used FROM budget_usage WHERE marketplace=? AND account=? AND op_class=? "
                              "AND day=?", (marketplace, account, op_class, day))
        return int(rows[0][0]) if rows else 0

    def budget_add(self, marketplace: str, account: str, op_class: str, day: str, n: int = 1) -> None:
        self._execute("INSERT INTO budget_usage VALUES (?,?,?,?,?) ON CONFLICT (marketplace, account, op_class, day) "
                      "DO UPDATE SET used = used + excluded.used", (marketplace, account, op_class, day, n))

    def recent_calls(self, marketplace: str, account: str, op_class: str, since: float) -> list[float]:
        rows = self._fetchall("SELECT at FROM budget_calls WHERE marketplace=? AND account=? AND op_class=? "
                              "AND at > ? ORDER BY at", (marketplace, account, op_class, since))
        return [float(r[0]) for r in rows]

    def note_call(self, marketplace: str, account: str, op_class: str, at: float, forget_before: float) -> None:
        with self.atomic():
            self._execute("INSERT INTO budget_calls VALUES (?,?,?,?)", (marketplace, account, op_class, at))
            self._execute("DELETE FROM budget_calls WHERE marketplace=? AND account=? AND op_class=? AND at < ?",
                          (marketplace, account, op_class, forget_before))

    # -- cursors ---------------------------------------------------------------------------------------------
    def get_cursor(self, source: str, name: str) -> str | None:
        rows = self._fetchall("SELECT value FROM cursors WHERE source=? AND name=?", (source, name))
        return rows[0][0] if rows else None

    def set_cursor(self, source: str, name: str, value: str) -> None:
        self._execute("INSERT INTO cursors VALUES (?,?,?,?) ON CONFLICT (source, name) "
                      "DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                      (source, name, value, utcnow()))

    # -- runs ------------------------------------------------------------------------------------------------
    def run_started(self, run_id: str) -> None:
        self._execute("INSERT INTO runs (run_id, started_at) VALUES (?, ?)", (run_id, utcnow()))

    def run_finished(self, run_id: str, exit_code: int, summary: dict[str, Any]) -> None:
        self._execute("UPDATE runs SET finished_at=?, exit_code=?, summary=? WHERE run_id=?",
                      (utcnow(), exit_code, json.dumps(summary, default=str), run_id))

    # -- plugin tables ---------------------------------------------------------------------------------------
    def apply_schema(self, schema: PluginSchema) -> None:
        if self._schemas.get(schema.plugin) == schema.version:
            return
        with self.atomic():
            rows = self._fetchall("SELECT version FROM plugin_schemas WHERE plugin=?", (schema.plugin,))
            applied = int(rows[0][0]) if rows else 0
            if applied > schema.version:
                raise StateLockedError(f"state file {self.path} holds {schema.plugin} tables written by a newer "
                                       f"connector (version {applied})")
            for version in range(applied + 1, schema.version + 1):
                for step in schema.migrations[version]:
                    self._execute(_ddl(schema, step))
            if applied < schema.version:
                self._execute("INSERT INTO plugin_schemas VALUES (?,?,?) ON CONFLICT (plugin) DO UPDATE SET "
                              "version=excluded.version, migrated_at=excluded.migrated_at",
                              (schema.plugin, schema.version, utcnow()))
        self._schemas[schema.plugin] = schema.version

    def select_rows(self, table: Table, where: Where, order_by: Sequence[str] = ()) -> list[Row]:
        names = table.column_names()
        sql = f"SELECT {', '.join(names)} FROM {table.name}"
        order = f" ORDER BY {', '.join(order_by)}" if order_by else ""
        out: list[Row] = []
        for clause, params in _where_chunks(where):
            out.extend(dict(zip(names, r, strict=True)) for r in self._fetchall(sql + clause + order, params))
        return out

    def insert_rows(self, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Value]], *,
                    ignore: bool, update: Sequence[str]) -> int:
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
               f"ON CONFLICT ({', '.join(table.key)}) DO ")
        if ignore or not update:
            sql += "NOTHING"
        else:
            sql += "UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in update)
        with self._mutex:
            return self._conn.executemany(sql, [[row[c] for c in columns] for row in rows]).rowcount

    def update_rows(self, table: Table, where: Where, values: Mapping[str, Value],
                    increment: Mapping[str, int]) -> int:
        sets = [f"{c}=?" for c in values] + [f"{c}={c}+?" for c in increment]
        if not sets:
            return 0
        params = [*values.values(), *increment.values()]
        sql = f"UPDATE {table.name} SET {', '.join(sets)}"
        with self.atomic():
            return sum(self._execute(sql + clause, [*params, *cond]).rowcount for clause, cond in _where_chunks(where))

    def delete_rows(self, table: Table, where: Where) -> int:
        with self.atomic():
            return sum(self._execute(f"DELETE FROM {table.name}" + clause, cond).rowcount
                       for clause, cond in _where_chunks(where))


def _ddl(schema: PluginSchema, step: Table | AddColumn) -> str:
    if isinstance(step, AddColumn):
        return f"ALTER TABLE {schema.table(step.table).name} ADD COLUMN {_column(step.column)}"
    table = schema.stored(step)
    columns = ", ".join(_column(c) for c in table.columns)
    return (f"CREATE TABLE IF NOT EXISTS {table.name} ({columns}, PRIMARY KEY ({', '.join(table.key)})) "
            "WITHOUT ROWID")


def _column(column: Column) -> str:
    sql = f"{column.name} {column.type.upper()}"
    if not column.nullable:
        sql += " NOT NULL"
    if column.default is not None:
        default = column.default
        sql += " DEFAULT " + (str(default) if isinstance(default, int) else "'" + default.replace("'", "''") + "'")
    return sql


def _where_chunks(where: Where) -> Iterator[tuple[str, list[Any]]]:
    """`` WHERE ...`` clauses with their parameters: one, or one per chunk of a long "one of" list (none
    when a "one of" list is empty: nothing matches)."""
    fixed: list[str] = []
    params: list[Any] = []
    many: tuple[str, list[Any]] | None = None
    for column, value in where.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            if many is not None:
                raise ValueError("at most one column of a where clause can list several values")
            many = (column, list(value))
        elif value is None:
            fixed.append(f"{column} IS NULL")
        else:
            fixed.append(f"{column}=?")
            params.append(value)
    if many is None:
        yield (" WHERE " + " AND ".join(fixed) if fixed else ""), params
        return
    column, values = many
    for i in range(0, len(values), _CHUNK):
        chunk = values[i:i + _CHUNK]
        clause = " AND ".join([*fixed, f"{column} IN ({','.join('?' * len(chunk))})"])
        yield " WHERE " + clause, [*params, *chunk]
