"""SQLite state shared by every sandbox: the sandbox's own tables plus the request log.

One connection (``check_same_thread=False``) guarded by one re-entrant lock: the HTTP server runs a thread
per connection, and serialising state changes is what makes the sandbox behave like a single consistent
backend.  SQLite on a single connection easily handles the ~1,000 requests/second a loopback test needs.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

REQUEST_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL DEFAULT '',
    status INTEGER,
    timestamp TEXT NOT NULL,
    idempotency_key TEXT,
    body_size INTEGER NOT NULL,
    op_class TEXT,
    fault TEXT
);
"""

#: Tables the store owns itself; ``reset`` wipes them along with the sandbox's tables.
_LOG_TABLE = "sandbox_requests"


def utc_now_iso() -> str:
    """ISO 8601 UTC with milliseconds and a ``Z`` suffix (``2024-04-07T12:00:00.123Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SandboxStore:
    """A SQLite database holding one sandbox's state and its request log.

    ``path`` is a file name or ``":memory:"``.  ``schema`` is the sandbox's own DDL (``CREATE TABLE IF NOT
    EXISTS ...``), executed on construction so a file database keeps its data across restarts.
    """

    def __init__(self, path: str = ":memory:", schema: str = "") -> None:
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if path != ":memory:":
            # A sandbox trades durability for speed: losing the last writes on a crash is fine.
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.executescript(REQUEST_LOG_SCHEMA + schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run one transaction; nested calls join the outer one."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.conn.execute("BEGIN")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def tables(self) -> list[str]:
        rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return [row["name"] for row in rows]

    def reset(self) -> None:
        """Delete every row of every table (the sandbox's state and the request log)."""
        with self.transaction() as conn:
            for table in self.tables():
                conn.execute(f'DELETE FROM "{table}"')
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
                conn.execute("DELETE FROM sqlite_sequence")

    # -- request log -------------------------------------------------------------------------------------

    def log_request(self, *, method: str, path: str, query: str, status: int | None,
                    idempotency_key: str | None, body_size: int, op_class: str | None,
                    fault: str | None) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                f"INSERT INTO {_LOG_TABLE} (method, path, query, status, timestamp, idempotency_key,"
                " body_size, op_class, fault) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (method, path, query, status, utc_now_iso(), idempotency_key, body_size, op_class, fault),
            )
            return int(cur.lastrowid or 0)

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log, oldest first, entries with ``id > since``."""
        rows = self.query(f"SELECT * FROM {_LOG_TABLE} WHERE id > ? ORDER BY id", (since,))
        return [dict(row) for row in rows]

    def close(self) -> None:
        with self.lock:
            self.conn.close()
