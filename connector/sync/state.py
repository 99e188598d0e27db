"""Sync state in SQLite, one file per sync profile (design §3).

Per (marketplace, account, key): the remote id and, per payload kind, the hash and body of the last payload
the marketplace *confirmed*.  A journal of in-flight batches (intent written before sending, outcome after),
per-day call counts for budgets, and cursors for incremental reads.  One run per state file at a time.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.errors import StateLockedError

SCHEMA_VERSION = 1

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
}


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Confirmed:
    """What the marketplace last confirmed for one key and payload kind."""

    hash: str
    body: dict[str, Any]


class StateStore:
    """The state file.  Open with ``StateStore.open(path)``; use as a context manager to hold the lock."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int | None) -> None:
        self.path = path
        self.conn = conn
        self._lock_fd = lock_fd

    @classmethod
    def open(cls, path: str | Path, *, lock: bool = True) -> StateStore:
        path = Path(path)
        lock_fd = None
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
            if lock:
                lock_fd = _take_lock(path)
        conn = sqlite3.connect(str(path), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        store = cls(path, conn, lock_fd)
        store._migrate()
        return store

    def close(self) -> None:
        self.conn.close()
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateLockedError(f"state file {self.path} was written by a newer connector (schema {version})")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction() as c:
                for stmt in _MIGRATIONS[target].split(";"):
                    if stmt.strip():
                        c.execute(stmt)
                c.execute(f"PRAGMA user_version = {target}")

    # -- bindings and confirmed payloads ---------------------------------------------------------------------
    def hashes(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        """key -> hash of the last confirmed payload of this kind (bodies are loaded on demand)."""
        rows = self.conn.execute(
            "SELECT key, hash FROM payloads WHERE marketplace=? AND account=? AND kind=?",
            (marketplace, account, kind))
        return dict(rows)

    def bodies(self, marketplace: str, account: str, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for key, body in self.conn.execute(
                    f"SELECT key, body FROM payloads WHERE marketplace=? AND account=? AND kind=? AND key IN ({marks})",
                    (marketplace, account, kind, *chunk)):
                out[key] = json.loads(body)
        return out

    def confirm(self, marketplace: str, account: str, kind: str,
                items: Iterable[tuple[str, str, str, str | None]]) -> None:
        """Record confirmed payloads: items of (key, hash, canonical JSON body, remote id or None)."""
        now = utcnow()
        with self.transaction() as c:
            for key, digest, body, remote_id in items:
                c.execute(
                    "INSERT INTO payloads VALUES (?,?,?,?,?,?,?) ON CONFLICT (marketplace, account, kind, key) "
                    "DO UPDATE SET hash=excluded.hash, body=excluded.body, confirmed_at=excluded.confirmed_at",
                    (marketplace, account, key, kind, digest, body, now))
                if remote_id is not None:
                    c.execute(
                        "INSERT INTO bindings VALUES (?,?,?,?,?) ON CONFLICT (marketplace, account, key) "
                        "DO UPDATE SET remote_id=excluded.remote_id",
                        (marketplace, account, key, remote_id, now))

    def forget(self, marketplace: str, account: str, key: str) -> None:
        """Drop what we know of a remote record (e.g. it was deleted on the marketplace)."""
        with self.transaction() as c:
            c.execute("DELETE FROM payloads WHERE marketplace=? AND account=? AND key=?", (marketplace, account, key))
            c.execute("DELETE FROM bindings WHERE marketplace=? AND account=? AND key=?", (marketplace, account, key))

    # -- journal ---------------------------------------------------------------------------------------------
    def journal_sent(self, run_id: str, marketplace: str, account: str, action: str, keys: list[str],
                     idempotency_key: str | None = None) -> int:
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO journal (run_id, marketplace, account, action, keys, idempotency_key, status, sent_at) "
                "VALUES (?,?,?,?,?,?,'sent',?)",
                (run_id, marketplace, account, action, json.dumps(keys), idempotency_key, utcnow()))
            return int(cur.lastrowid or 0)

    def journal_done(self, entry_id: int, ok: bool, message: str | None = None) -> None:
        with self.transaction() as c:
            c.execute("UPDATE journal SET status=?, finished_at=?, message=? WHERE id=?",
                      ("confirmed" if ok else "failed", utcnow(), message, entry_id))

    def journal_open(self, marketplace: str, account: str) -> list[dict[str, Any]]:
        """Batches sent by an interrupted run whose outcome was never recorded."""
        rows = self.conn.execute(
            "SELECT id, run_id, action, keys, idempotency_key, sent_at FROM journal "
            "WHERE status='sent' AND marketplace=? AND account=?", (marketplace, account)).fetchall()
        return [{"id": r[0], "run_id": r[1], "action": r[2], "keys": json.loads(r[3]), "idempotency_key": r[4],
                 "sent_at": r[5]} for r in rows]

    def journal_close_stale(self, marketplace: str, account: str, message: str) -> int:
        with self.transaction() as c:
            cur = c.execute("UPDATE journal SET status='failed', finished_at=?, message=? "
                            "WHERE status='sent' AND marketplace=? AND account=?",
                            (utcnow(), message, marketplace, account))
            return cur.rowcount

    # -- budgets and cursors ---------------------------------------------------------------------------------
    def budget_counter(self, marketplace: str, account: str) -> BudgetCounter:
        return BudgetCounter(self, marketplace, account)

    def get_cursor(self, source: str, name: str) -> str | None:
        row = self.conn.execute("SELECT value FROM cursors WHERE source=? AND name=?", (source, name)).fetchone()
        return row[0] if row else None

    def set_cursor(self, source: str, name: str, value: str) -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO cursors VALUES (?,?,?,?) ON CONFLICT (source, name) "
                      "DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                      (source, name, value, utcnow()))

    # -- runs ------------------------------------------------------------------------------------------------
    def run_started(self, run_id: str) -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO runs (run_id, started_at) VALUES (?, ?)", (run_id, utcnow()))

    def run_finished(self, run_id: str, exit_code: int, summary: dict[str, Any]) -> None:
        with self.transaction() as c:
            c.execute("UPDATE runs SET finished_at=?, exit_code=?, summary=? WHERE run_id=?",
                      (utcnow(), exit_code, json.dumps(summary, default=str), run_id))


class BudgetCounter:
    """Per-day call counts persisted in the state file (``connector.http.budget.DailyCounter``)."""

    def __init__(self, store: StateStore, marketplace: str, account: str) -> None:
        self.store, self.marketplace, self.account = store, marketplace, account

    def used_today(self, op_class: str, day: str) -> int:
        row = self.store.conn.execute(
            "SELECT used FROM budget_usage WHERE marketplace=? AND account=? AND op_class=? AND day=?",
            (self.marketplace, self.account, op_class, day)).fetchone()
        return int(row[0]) if row else 0

    def add_today(self, op_class: str, day: str, n: int = 1) -> None:
        self.store.conn.execute(
            "INSERT INTO budget_usage VALUES (?,?,?,?,?) ON CONFLICT (marketplace, account, op_class, day) "
            "DO UPDATE SET used = used + excluded.used",
            (self.marketplace, self.account, op_class, day, n))


def _take_lock(path: Path) -> int:
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise StateLockedError(
            f"another run is using the state file {path} (held by pid {holder}); wait for it to finish, "
            f"or remove {lock_path} if no connector is running") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd
