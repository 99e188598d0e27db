"""The record store every sandbox backend keeps its state in: JSON documents in SQLite tables.

A ``Collection`` is one table: ``seq`` (insertion order, what listings and keyset cursors follow), the record's
key, a few columns copied from the document on every write (so SQL can filter and sort on them) and ``doc``,
the JSON document itself.  ``RecordStore`` reads and writes collections inside the ``SandboxStore``
transaction (nested calls join the outer one), so a backend method stays one consistent change.

``IdempotencyKeys`` keeps the responses of requests sent with an idempotency key (replayed for the same body,
refused for another); ``key_hash``/``body_hash`` are the hashes both use.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from connector.sandbox.store import SandboxStore, utc_now_iso

Params = Sequence[Any]


@dataclass(frozen=True)
class Collection:
    """One table of documents.

    ``key`` is the document field (or fields, joined) that identifies a record, stored in ``key_column``;
    ``columns`` maps a column to the document field copied into it (``None``: no field, the caller gives the
    value on insert and later writes keep it); ``unique`` and ``indexes`` name columns.
    """

    table: str
    key: str | tuple[str, ...] = "id"
    key_column: str = "id"
    columns: dict[str, str | None] = field(default_factory=dict)
    unique: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()

    def key_of(self, doc: dict[str, Any]) -> str:
        if isinstance(self.key, str):
            return str(doc[self.key])
        return "\x1f".join(str(doc[name]) for name in self.key)

    def ddl(self) -> str:
        cols = "".join(f", {name}{' UNIQUE' if name in self.unique else ''}" for name in self.columns)
        indexes = "".join(f"CREATE INDEX IF NOT EXISTS {self.table}_{name} ON {self.table} ({name});\n"
                          for name in self.indexes)
        return (f"CREATE TABLE IF NOT EXISTS {self.table} (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                f"{self.key_column} TEXT NOT NULL UNIQUE{cols}, doc TEXT NOT NULL);\n{indexes}")

    def holds(self, column: str, doc: dict[str, Any], extra: dict[str, Any]) -> bool:
        """Whether a write of ``doc`` (with ``extra`` column values) says what ``column`` holds."""
        field = self.columns[column]
        return column in extra or (field is not None and field in doc)

    def value(self, column: str, doc: dict[str, Any], extra: dict[str, Any]) -> Any:
        field = self.columns[column]
        return extra[column] if column in extra else None if field is None else doc.get(field)

    def row(self, doc: dict[str, Any], extra: dict[str, Any]) -> tuple[Any, ...]:
        """The key, the columns (from ``extra`` if given there, else from the document) and the document."""
        return (self.key_of(doc), *[self.value(c, doc, extra) for c in self.columns], dumps(doc))


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def snapshot(doc: Any) -> Any:
    """A deep copy of a JSON document (faster than ``copy.deepcopy`` for plain JSON values)."""
    return json.loads(dumps(doc))


def _where(where: str) -> str:
    return f" WHERE {where}" if where else ""


class RecordStore:
    """Collections of JSON documents in one ``SandboxStore``; ``create`` makes a collection's table."""

    def __init__(self, store: SandboxStore, *collections: Collection) -> None:
        self.store = store
        for c in collections:
            self.create(c)

    def create(self, c: Collection) -> None:
        """Create the collection's table and indexes unless a database file already has them."""
        with self.store.lock:
            self.store.conn.executescript(c.ddl())

    def transaction(self) -> AbstractContextManager[Any]:
        """One transaction over every collection (nested calls join the outer one)."""
        return self.store.transaction()

    def _rows(self, sql: str, params: Params = ()) -> list[Any]:
        # One statement is atomic on its own (autocommit); inside a ``transaction`` the lock is already ours.
        with self.store.lock:
            return self.store.conn.execute(sql, tuple(params)).fetchall()

    def get(self, c: Collection, key: str) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT doc FROM {c.table} WHERE {c.key_column} = ?", (key,))
        return json.loads(rows[0][0]) if rows else None

    def first(self, c: Collection, where: str, params: Params = ()) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT doc FROM {c.table} WHERE {where} ORDER BY seq LIMIT 1", params)
        return json.loads(rows[0][0]) if rows else None

    def find(self, c: Collection, where: str = "", params: Params = (), *, order: str = "seq",
             limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Documents matching an SQL condition on the collection's columns, in ``order``."""
        return [r[-1] for r in self.find_rows(c, where, params, order=order, limit=limit, offset=offset)]

    def find_rows(self, c: Collection, where: str = "", params: Params = (), *, columns: Sequence[str] = (),
                  order: str = "seq", limit: int | None = None, offset: int = 0, with_doc: bool = True
                  ) -> list[tuple[Any, ...]]:
        """``(*columns, doc)`` per matching record (``doc`` left out unless ``with_doc``)."""
        paging = "" if limit is None else f" LIMIT {int(limit)} OFFSET {int(offset)}"
        names = ", ".join((*columns, "doc") if with_doc else columns)
        rows = self._rows(f"SELECT {names} FROM {c.table}{_where(where)} ORDER BY {order}{paging}", params)
        if not with_doc:
            return [tuple(r) for r in rows]
        return [(*r[:-1], json.loads(r[-1])) for r in rows]

    def count(self, c: Collection, where: str = "", params: Params = ()) -> int:
        return int(self._rows(f"SELECT COUNT(*) FROM {c.table}{_where(where)}", params)[0][0])

    def exists(self, c: Collection, where: str, params: Params = ()) -> bool:
        return bool(self._rows(f"SELECT 1 FROM {c.table} WHERE {where} LIMIT 1", params))

    def insert(self, c: Collection, doc: dict[str, Any], **columns: Any) -> dict[str, Any]:
        """Add a record (an existing key is an error); ``columns`` gives column values the document lacks."""
        names = ", ".join((c.key_column, *c.columns, "doc"))
        marks = ", ".join("?" * (len(c.columns) + 2))
        self._rows(f"INSERT INTO {c.table} ({names}) VALUES ({marks})", c.row(doc, columns))
        return doc

    def append_numbered(self, c: Collection, doc: dict[str, Any]) -> int:
        """Add ``doc`` with the next number of the collection as its ``id`` (1, 2, ... since it was emptied: a log,
        such as a sandbox's webhook deliveries); that number."""
        with self.transaction():
            numbered = {"id": self.count(c) + 1, **doc}
            self.insert(c, numbered)
        return int(numbered["id"])

    def put(self, c: Collection, doc: dict[str, Any], **columns: Any) -> dict[str, Any]:
        """Insert, or replace the record with the same key (keeping its place in ``seq`` order); a column the
        document does not hold and ``columns`` does not give keeps its value."""
        names = (c.key_column, *c.columns, "doc")
        updates = ", ".join(f"{n} = excluded.{n}" for n in names[1:] if n == "doc" or c.holds(n, doc, columns))
        self._rows(f"INSERT INTO {c.table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                   f"ON CONFLICT ({c.key_column}) DO UPDATE SET {updates}", c.row(doc, columns))
        return doc

    def update(self, c: Collection, doc: dict[str, Any], **columns: Any) -> dict[str, Any]:
        """Rewrite a record that exists (cheaper than ``put``); ``KeyError`` if it does not."""
        names = [n for n in c.columns if c.holds(n, doc, columns)]
        values = [c.value(n, doc, columns) for n in names]
        sets = "".join(f"{n} = ?, " for n in names)
        with self.store.lock:
            cur = self.store.conn.execute(f"UPDATE {c.table} SET {sets}doc = ? WHERE {c.key_column} = ?",
                                          (*values, dumps(doc), c.key_of(doc)))
        if cur.rowcount == 0:
            raise KeyError(c.key_of(doc))
        return doc

    def delete(self, c: Collection, key: str) -> bool:
        with self.store.lock:
            return self.store.conn.execute(f"DELETE FROM {c.table} WHERE {c.key_column} = ?", (key,)).rowcount > 0

    def clear(self, c: Collection) -> None:
        self._rows(f"DELETE FROM {c.table}")

    def page(self, c: Collection, page: int, limit: int, where: str = "", params: Params = ()
             ) -> tuple[list[dict[str, Any]], int]:
        """Page ``page`` (from 1) of ``limit`` documents in insertion order, and how many match in all."""
        with self.store.transaction():
            return (self.find(c, where, params, limit=limit, offset=(page - 1) * limit),
                    self.count(c, where, params))

    def after(self, c: Collection, seq: int, limit: int, where: str = "", params: Params = ()
              ) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
        """Keyset paging: up to ``limit`` ``(seq, doc)`` after ``seq``, and whether more follow."""
        cond = f"seq > ?{' AND ' + where if where else ''}"
        rows = self.find_rows(c, cond, (seq, *params), columns=("seq",), limit=limit + 1)
        return [(r[0], r[1]) for r in rows[:limit]], len(rows) > limit


# -- idempotency ---------------------------------------------------------------------------------------------


def body_hash(body: Any) -> str:
    """Same JSON value, same hash: key order and whitespace do not make a different request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def key_hash(api_key: str) -> str:
    """What a store keeps instead of an API key."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Remembered:
    status: int
    body: bytes


class KeyReusedError(Exception):
    """The idempotency key was already used with another request body."""


class IdempotencyKeys:
    """Responses remembered per (API key, idempotency key), replayed for the same request body."""

    TABLE = "sandbox_idempotency"

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        with store.lock:
            store.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.TABLE} (key_hash TEXT NOT NULL, idempotency_key TEXT NOT NULL,"
                " request_hash TEXT NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL, created_at TEXT NOT NULL,"
                " PRIMARY KEY (key_hash, idempotency_key))")

    def replay(self, api_key: str, idem_key: str, body: Any) -> Remembered | None:
        """The remembered response, ``None`` if the key is new; ``KeyReusedError`` for another body."""
        with self.store.transaction() as conn:
            row = conn.execute(f"SELECT request_hash, status, body FROM {self.TABLE}"
                               " WHERE key_hash = ? AND idempotency_key = ?", (key_hash(api_key), idem_key)).fetchone()
        if row is None:
            return None
        if row["request_hash"] != body_hash(body):
            raise KeyReusedError(idem_key)
        return Remembered(int(row["status"]), bytes(row["body"]))

    def remember(self, api_key: str, idem_key: str, body: Any, status: int, response: bytes) -> None:
        with self.store.transaction() as conn:
            conn.execute(f"INSERT INTO {self.TABLE} (key_hash, idempotency_key, request_hash, status, body,"
                         " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (key_hash(api_key), idem_key, body_hash(body), status, response, utc_now_iso()))

    def listing(self) -> list[dict[str, Any]]:
        rows = self.store.query(f"SELECT idempotency_key, status, created_at FROM {self.TABLE} ORDER BY created_at")
        return [{"key": r["idempotency_key"], "status": r["status"], "createdAt": r["created_at"]} for r in rows]


def object_id() -> str:
    """24 hex characters like a MongoDB ObjectId: 4 bytes of seconds, then 8 random bytes."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"
