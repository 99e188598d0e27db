"""The state's operations in SQL, shared by its two backends (``sqlite``, ``postgres``).

Statements are written once, with ``?`` placeholders and the SQL both databases accept (``ON CONFLICT``
upserts, ``IN`` lists in chunks); a backend supplies the connection (``_run``, ``_rows``, ``_run_many``,
``_insert_id``, ``_transaction``), its own DDL for plugin tables (``_ddl``) and its migrations.
"""

from __future__ import annotations

import json
import threading
from abc import abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from connector.errors import StateLockedError
from connector.sync.state.store import STALE_HASH, CleanRun, ConfirmedItem, StateStore, utcnow
from connector.sync.state.tables import AddColumn, Column, PluginSchema, Row, Table, Value, Where

if TYPE_CHECKING:
    from connector.http.budget import Taken

CHUNK = 500  # keys per ``IN (...)``: under SQLite's bound-parameter limit


class SqlState(StateStore):
    """Every ``StateStore`` operation over a SQL connection; ``label`` names the state in messages."""

    label: str
    _schemas: dict[str, int]  # plugin -> version known to be applied
    _mutex: threading.RLock  # held by every use of the connection, and by ``atomic`` for its whole block
    _depth: int  # nesting of atomic()
    _own_writes: Counter[tuple[str, str, str]]  # (marketplace, account, kind) -> generations this store raised

    # -- what a backend supplies -----------------------------------------------------------------------------
    @abstractmethod
    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one statement; returns the number of rows it changed."""

    @abstractmethod
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int: ...

    @abstractmethod
    def _insert_id(self, sql: str, params: Sequence[Any]) -> int:
        """Execute an INSERT into a table with an ``id`` key; returns the new row's id."""

    @abstractmethod
    def _ddl(self, schema: PluginSchema, step: Table | AddColumn) -> str: ...

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[None]:
        """One database transaction: committed when the block ends, rolled back if it raises."""

    def _lock_budget(self, marketplace: str, account: str, op_class: str) -> None:
        """Inside ``atomic``: hold one key's budget until the block ends (SQLite's ``BEGIN IMMEDIATE`` holds the
        whole file already)."""

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction for the block; a nested ``atomic`` joins the outer one."""
        with self._mutex:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            try:
                with self._transaction():
                    yield
            finally:
                self._depth = 0

    # -- bindings and confirmed payloads ---------------------------------------------------------------------
    def hashes(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        return dict(self._rows("SELECT key, hash FROM payloads WHERE marketplace=? AND account=? AND kind=?",
                               (marketplace, account, kind)))

    def bodies(self, marketplace: str, account: str, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        keys = list(keys)
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i:i + CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, body in self._rows(
                    f"SELECT key, body FROM payloads WHERE marketplace=? AND account=? AND kind=? AND key IN ({marks})",
                    (marketplace, account, kind, *chunk)):
                out[key] = json.loads(body)
        return out

    def record_marks(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        return dict(self._rows("SELECT key, record FROM payloads WHERE marketplace=? AND account=? AND kind=? "
                               "AND record IS NOT NULL", (marketplace, account, kind)))

    def hashes_and_marks(self, marketplace: str, account: str, kind: str) -> tuple[dict[str, str], dict[str, str]]:
        """One scan of the confirmed payloads instead of two (their bodies make the table long to read)."""
        rows = self._rows("SELECT key, hash, record FROM payloads WHERE marketplace=? AND account=? AND kind=?",
                          (marketplace, account, kind))
        return {key: h for key, h, _record in rows}, {key: record for key, _h, record in rows if record is not None}

    def mark_records(self, marketplace: str, account: str, kind: str, items: Iterable[tuple[str, str, str]]) -> None:
        with self.atomic():
            self._run_many(
                "UPDATE payloads SET record=? WHERE marketplace=? AND account=? AND kind=? AND key=? AND hash=?",
                [(record, marketplace, account, kind, key, digest) for key, digest, record in items])
            self._written(marketplace, account, kind)

    def mark_stale(self, marketplace: str, account: str, kind: str, keys: Iterable[str]) -> None:
        with self.atomic():
            self._run_many("UPDATE payloads SET hash=?, record=NULL WHERE marketplace=? AND account=? AND kind=? AND"
                           " key=?", [(STALE_HASH, marketplace, account, kind, key) for key in keys])
            self._written(marketplace, account, kind)

    def remote_ids(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        return dict(self._rows("SELECT key, remote_id FROM bindings WHERE marketplace=? AND account=? "
                               "AND kind=? AND remote_id IS NOT NULL", (marketplace, account, kind)))

    def confirm(self, marketplace: str, account: str, kind: str, items: Iterable[ConfirmedItem]) -> None:
        now = utcnow()
        with self.atomic():
            for key, digest, body, remote_id in items:
                self._run(
                    "INSERT INTO payloads (marketplace, account, key, kind, hash, body, confirmed_at) "
                    "VALUES (?,?,?,?,?,?,?) ON CONFLICT (marketplace, account, kind, key) "
                    "DO UPDATE SET hash=excluded.hash, body=excluded.body, confirmed_at=excluded.confirmed_at, "
                    "record=NULL",  # a new body: which record it was mapped from is marked apart (mark_records)
                    (marketplace, account, key, kind, digest, body, now))
                if remote_id is not None:
                    self._run(
                        "INSERT INTO bindings VALUES (?,?,?,?,?,?) ON CONFLICT (marketplace, account, kind, key) "
                        "DO UPDATE SET remote_id=excluded.remote_id",
                        (marketplace, account, kind, key, remote_id, now))
            self._written(marketplace, account, kind)

    def forget(self, marketplace: str, account: str, kind: str, key: str) -> None:
        with self.atomic():
            for table in ("payloads", "bindings"):
                self._run(f"DELETE FROM {table} WHERE marketplace=? AND account=? AND kind=? AND key=?",
                          (marketplace, account, kind, key))
            self._written(marketplace, account, kind)

    def _written(self, marketplace: str, account: str, kind: str) -> None:
        """Inside the transaction of a write to the confirmed payloads (or bindings) of one kind: raise its
        generation, so a later run can tell in one read whether anything was written since (``generations``)."""
        self._run("INSERT INTO payload_generations VALUES (?,?,?,1) ON CONFLICT (marketplace, account, kind) "
                  "DO UPDATE SET generation = payload_generations.generation + 1", (marketplace, account, kind))
        self._own_writes[(marketplace, account, kind)] += 1

    def generations(self, marketplace: str) -> dict[tuple[str, str], int]:
        return {(account, kind): int(n) for account, kind, n in self._rows(
            "SELECT account, kind, generation FROM payload_generations WHERE marketplace=?", (marketplace,))}

    def own_writes(self, marketplace: str) -> dict[tuple[str, str], int]:
        with self._mutex:
            return {(a, k): n for (m, a, k), n in self._own_writes.items() if m == marketplace}

    # -- clean runs ------------------------------------------------------------------------------------------
    def clean_runs(self, marketplace: str, inputs: str | None = None) -> list[CleanRun]:
        sql = "SELECT account, inputs, run_id, finished_at, checks, detail FROM clean_runs WHERE marketplace=?"
        rows = self._rows(sql, (marketplace,)) if inputs is None else self._rows(sql + " AND inputs=?",
                                                                                  (marketplace, inputs))
        return [CleanRun(marketplace, account, key, run_id, finished_at, checks, bytes(detail))
                for account, key, run_id, finished_at, checks, detail in sorted(rows)]

    def save_clean_run(self, run: CleanRun) -> None:
        self._run("INSERT INTO clean_runs VALUES (?,?,?,?,?,?,?) ON CONFLICT (marketplace, account) DO UPDATE SET "
                  "inputs=excluded.inputs, run_id=excluded.run_id, finished_at=excluded.finished_at, "
                  "checks=excluded.checks, detail=excluded.detail",
                  (run.marketplace, run.account, run.inputs, run.run_id, run.finished_at, run.checks, run.detail))

    def forget_clean_runs(self, marketplace: str, account: str | None = None) -> None:
        if account is None:
            self._run("DELETE FROM clean_runs WHERE marketplace=?", (marketplace,))
        else:
            self._run("DELETE FROM clean_runs WHERE marketplace=? AND account=?", (marketplace, account))

    # -- journal ---------------------------------------------------------------------------------------------
    def journal_sent(self, run_id: str, marketplace: str, account: str, action: str, keys: list[str],
                     idempotency_key: str | None = None) -> int:
        with self.atomic():
            return self._insert_id(
                "INSERT INTO journal (run_id, marketplace, account, action, keys, idempotency_key, status, sent_at) "
                "VALUES (?,?,?,?,?,?,'sent',?)",
                (run_id, marketplace, account, action, json.dumps(keys), idempotency_key, utcnow()))

    def journal_done(self, entry_id: int, ok: bool, message: str | None = None) -> None:
        self._run("UPDATE journal SET status=?, finished_at=?, message=? WHERE id=?",
                  ("confirmed" if ok else "failed", utcnow(), message, entry_id))

    def journal_open(self, marketplace: str, account: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT id, run_id, action, keys, idempotency_key, sent_at FROM journal "
            "WHERE status='sent' AND marketplace=? AND account=? ORDER BY id", (marketplace, account))
        return [{"id": r[0], "run_id": r[1], "action": r[2], "keys": json.loads(r[3]), "idempotency_key": r[4],
                 "sent_at": r[5]} for r in rows]

    def journal_close_stale(self, marketplace: str, account: str, message: str) -> int:
        return self._run("UPDATE journal SET status='failed', finished_at=?, message=? "
                         "WHERE status='sent' AND marketplace=? AND account=?",
                         (utcnow(), message, marketplace, account))

    # -- budgets ---------------------------------------------------------------------------------------------
    def budget_used(self, marketplace: str, account: str, op_class: str, day: str) -> int:
        rows = self._rows("SELECT used FROM budget_usage WHERE marketplace=? AND account=? AND op_class=? "
                          "AND day=?", (marketplace, account, op_class, day))
        return int(rows[0][0]) if rows else 0

    def budget_add(self, marketplace: str, account: str, op_class: str, day: str, n: int = 1) -> None:
        self._run("INSERT INTO budget_usage VALUES (?,?,?,?,?) ON CONFLICT (marketplace, account, op_class, day) "
                  "DO UPDATE SET used = budget_usage.used + excluded.used", (marketplace, account, op_class, day, n))

    def recent_calls(self, marketplace: str, account: str, op_class: str, since: float) -> list[float]:
        rows = self._rows("SELECT at FROM budget_calls WHERE marketplace=? AND account=? AND op_class=? "
                          "AND at > ? ORDER BY at", (marketplace, account, op_class, since))
        return [float(r[0]) for r in rows]

    def budget_take(self, marketplace: str, account: str, op_class: str, *, day: str, per_day: int | None,
                    window_class: str, per_window: int | None, window_seconds: float, now: float) -> Taken:
        from connector.http.budget import settle  # (not at import: the HTTP layer is not needed to read a state)

        with self.atomic():
            self._lock_budget(marketplace, account, op_class)
            used = self.budget_used(marketplace, account, op_class, day)
            calls: list[float] = []
            if per_window:
                where = "marketplace=? AND account=? AND op_class=?"
                key = (marketplace, account, window_class)
                # a call recorded "after now" (a clock stepped back) counts as made now, and ages from now
                self._run(f"UPDATE budget_calls SET at=? WHERE {where} AND at > ?", (now, *key, now))
                self._run(f"DELETE FROM budget_calls WHERE {where} AND at <= ?", (*key, now - window_seconds))
                calls = self.recent_calls(marketplace, account, window_class, now - window_seconds)
            taken = settle(used, calls, per_day=per_day, per_window=per_window, window_seconds=window_seconds,
                           now=now)
            if taken.granted:
                if per_window:
                    self._run("INSERT INTO budget_calls VALUES (?,?,?,?)", (marketplace, account, window_class, now))
                self.budget_add(marketplace, account, op_class, day)
            return taken

    # -- cursors ---------------------------------------------------------------------------------------------
    def get_cursor(self, source: str, name: str) -> str | None:
        rows = self._rows("SELECT value FROM cursors WHERE source=? AND name=?", (source, name))
        return rows[0][0] if rows else None

    def set_cursor(self, source: str, name: str, value: str) -> None:
        self._run("INSERT INTO cursors VALUES (?,?,?,?) ON CONFLICT (source, name) "
                  "DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                  (source, name, value, utcnow()))

    # -- runs ------------------------------------------------------------------------------------------------
    def run_started(self, run_id: str) -> None:
        self._run("INSERT INTO runs (run_id, started_at) VALUES (?, ?)", (run_id, utcnow()))

    def run_finished(self, run_id: str, exit_code: int, summary: dict[str, Any]) -> None:
        self._run("UPDATE runs SET finished_at=?, exit_code=?, summary=? WHERE run_id=?",
                  (utcnow(), exit_code, json.dumps(summary, default=str), run_id))

    # -- plugin tables ---------------------------------------------------------------------------------------
    def apply_schema(self, schema: PluginSchema) -> None:
        if self._schemas.get(schema.plugin) == schema.version:
            return
        with self.atomic():
            rows = self._rows("SELECT version FROM plugin_schemas WHERE plugin=?", (schema.plugin,))
            applied = int(rows[0][0]) if rows else 0
            if applied > schema.version:
                raise StateLockedError(f"state {self.label} holds {schema.plugin} tables written by a newer "
                                       f"connector (version {applied})")
            for version in range(applied + 1, schema.version + 1):
                for step in schema.migrations[version]:
                    self._run(self._ddl(schema, step))
            if applied < schema.version:
                self._run("INSERT INTO plugin_schemas VALUES (?,?,?) ON CONFLICT (plugin) DO UPDATE SET "
                          "version=excluded.version, migrated_at=excluded.migrated_at",
                          (schema.plugin, schema.version, utcnow()))
        self._schemas[schema.plugin] = schema.version

    def select_rows(self, table: Table, where: Where, order_by: Sequence[str] = ()) -> list[Row]:
        names = table.column_names()
        sql = f"SELECT {', '.join(names)} FROM {table.name}"
        order = f" ORDER BY {', '.join(order_by)}" if order_by else ""
        out: list[Row] = []
        for clause, params in where_chunks(where):
            out.extend(dict(zip(names, r, strict=True)) for r in self._rows(sql + clause + order, params))
        return out

    def insert_rows(self, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Value]], *,
                    ignore: bool, update: Sequence[str]) -> int:
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
               f"ON CONFLICT ({', '.join(table.key)}) DO ")
        if ignore or not update:
            sql += "NOTHING"
        else:
            sql += "UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in update)
        return self._run_many(sql, [[row[c] for c in columns] for row in rows])

    def update_rows(self, table: Table, where: Where, values: Mapping[str, Value],
                    increment: Mapping[str, int]) -> int:
        sets = [f"{c}=?" for c in values] + [f"{c}={c}+?" for c in increment]
        if not sets:
            return 0
        params = [*values.values(), *increment.values()]
        sql = f"UPDATE {table.name} SET {', '.join(sets)}"
        with self.atomic():
            return sum(self._run(sql + clause, [*params, *cond]) for clause, cond in where_chunks(where))

    def delete_rows(self, table: Table, where: Where) -> int:
        with self.atomic():
            return sum(self._run(f"DELETE FROM {table.name}" + clause, cond) for clause, cond in where_chunks(where))


def column_sql(column: Column, types: Mapping[str, str]) -> str:
    """A plugin column's definition; ``types`` maps the declared type to the database's."""
    sql = f"{column.name} {types[column.type]}"
    if not column.nullable:
        sql += " NOT NULL"
    if column.default is not None:
        default = column.default
        sql += " DEFAULT " + (str(default) if isinstance(default, int) else "'" + default.replace("'", "''") + "'")
    return sql


def plugin_ddl(schema: PluginSchema, step: Table | AddColumn, types: Mapping[str, str], table_suffix: str = "") -> str:
    """``CREATE TABLE IF NOT EXISTS`` (a table a plugin wrote before it was versioned is kept) or ``ADD COLUMN``."""
    if isinstance(step, AddColumn):
        return f"ALTER TABLE {schema.table(step.table).name} ADD COLUMN {column_sql(step.column, types)}"
    table = schema.stored(step)
    columns = ", ".join(column_sql(c, types) for c in table.columns)
    return f"CREATE TABLE IF NOT EXISTS {table.name} ({columns}, PRIMARY KEY ({', '.join(table.key)})){table_suffix}"


def where_chunks(where: Where) -> Iterator[tuple[str, list[Any]]]:
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
    for i in range(0, len(values), CHUNK):
        chunk = values[i:i + CHUNK]
        clause = " AND ".join([*fixed, f"{column} IN ({','.join('?' * len(chunk))})"])
        yield " WHERE " + clause, [*params, *chunk]
