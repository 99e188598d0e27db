"""The state's interface: every operation the rest of the connector performs on the sync state.

``StateStore`` is what plans, pushes, sources, budgets and plugins hold; ``StateStore.open(location)`` opens
the backend for a location: a file path is SQLite (``sqlite``), a ``postgresql://`` URL is PostgreSQL
(``postgres``).  Both implement the abstract methods below and nothing else (their SQL is shared, ``sql``): no
code outside ``connector.sync.state`` sees a database connection or writes SQL against the state.

What the state holds (design §3), per marketplace and account: bindings (the remote id of a key, per payload
kind) and the payload of each kind the marketplace last *confirmed*; a journal of in-flight batches (intent
written before sending, outcome after); per-day call counts and the recent calls of each per-minute window
for budgets; cursors of incremental reads; runs; and the tables plugins declare (``tables``).  One run per
state at a time: ``open(lock=True)`` takes the state's lock, ``close`` releases it.  Budgets are taken with
``budget_take``, which checks and records a call in one transaction, so processes sharing a state share the
limits too.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.sync.state.tables import PluginSchema, PluginTables, Row, Table, Value, Where

if TYPE_CHECKING:
    from connector.http.budget import Taken

ConfirmedItem = tuple[str, str, str, str | None]
"""(key, payload hash, canonical JSON body, remote id or None)"""


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_run_id() -> str:
    """A run's id: its start time (UTC) and six random hex digits (``20261202T045012Z-3f2a9c``)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


@dataclass(slots=True)
class CleanRun:
    """The last run of an account that ended clean, as ``connector.sync.unchanged`` saved it: the digest of its
    inputs, and what a later run with the same inputs checks (``checks``, JSON) and reports (``detail``)."""

    marketplace: str
    account: str
    inputs: str
    run_id: str
    finished_at: str
    checks: str
    detail: bytes


@dataclass(slots=True)
class Confirmed:
    """What the marketplace last confirmed for one key and payload kind."""

    hash: str
    body: dict[str, Any]


STALE_HASH = "stale"  # the hash of a confirmed payload the marketplace changed by itself (``mark_stale``)


class StateStore(ABC):
    """The sync state.  Open with ``StateStore.open(location)``; use as a context manager to hold the lock."""

    @classmethod
    def open(cls, location: str | Path, *, lock: bool = True) -> StateStore:
        """Open (creating and migrating if needed) the state at ``location``; with ``lock``, hold it
        exclusively until ``close`` (``StateLockedError`` when another run holds it)."""
        from connector.sync.state.location import is_database_url

        if is_database_url(location):
            from connector.sync.state.postgres import PostgresState

            return PostgresState.open(str(location), lock=lock)
        from connector.sync.state.sqlite import SqliteState

        return SqliteState.open(location, lock=lock)

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def atomic(self) -> AbstractContextManager[None]:
        """Every state operation inside the block commits together or not at all.  Blocks may nest: an inner
        block is part of the outer one.  Other threads sharing the store wait for the block to end."""

    # -- bindings and confirmed payloads ---------------------------------------------------------------------
    @abstractmethod
    def hashes(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        """key -> hash of the last confirmed payload of this kind (bodies are loaded on demand)."""

    @abstractmethod
    def bodies(self, marketplace: str, account: str, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """key -> last confirmed body of this kind, for those of ``keys`` that have one."""

    @abstractmethod
    def record_marks(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        """key -> fingerprint of the canonical record (and mapping context) whose mapping gave the confirmed
        payload of this kind, for the keys that have one (see ``mark_records``)."""

    def hashes_and_marks(self, marketplace: str, account: str, kind: str) -> tuple[dict[str, str], dict[str, str]]:
        """``hashes`` and ``record_marks`` of one kind together (a backend may read them in one pass)."""
        return self.hashes(marketplace, account, kind), self.record_marks(marketplace, account, kind)

    @abstractmethod
    def mark_records(self, marketplace: str, account: str, kind: str, items: Iterable[tuple[str, str, str]]) -> None:
        """Items of (key, payload hash, record fingerprint): the record with that fingerprint maps to that payload
        hash.  Noted only where the confirmed payload of ``key`` still has that hash; ``confirm`` drops the mark
        (a new body), ``forget`` the whole row.  A plan maps a record again unless its mark is unchanged."""

    @abstractmethod
    def mark_stale(self, marketplace: str, account: str, kind: str, keys: Iterable[str]) -> None:
        """The confirmed payloads of ``keys`` are no longer what the marketplace shows (it changed them by itself):
        their hash becomes ``STALE_HASH``, which no payload has, and their record mark is dropped, so the next plan
        sends them again; their body and remote id stay (the mass-change guard and a stock hold read the quantity
        last sent from the body)."""

    @abstractmethod
    def generations(self, marketplace: str) -> dict[tuple[str, str], int]:
        """(account, kind) -> how many times the confirmed payloads (or bindings) of that kind were written:
        raised in the same transaction as every ``confirm``, ``forget`` and ``mark_records``, by any process."""

    @abstractmethod
    def own_writes(self, marketplace: str) -> dict[tuple[str, str], int]:
        """(account, kind) -> how many of those generations this store (this run) raised."""

    @abstractmethod
    def remote_ids(self, marketplace: str, account: str, kind: str) -> dict[str, str]:
        """key -> the marketplace's id of the record a payload of this kind was confirmed against."""

    @abstractmethod
    def confirm(self, marketplace: str, account: str, kind: str, items: Iterable[ConfirmedItem]) -> None:
        """Record confirmed payloads of one kind: items of (key, hash, canonical JSON body, remote id or None)."""

    @abstractmethod
    def forget(self, marketplace: str, account: str, kind: str, key: str) -> None:
        """Drop the confirmed payload and the binding of one kind of ``key`` (e.g. the remote record was
        deleted on the marketplace); other kinds under the same key are kept."""

    # -- clean runs (connector.sync.unchanged) ---------------------------------------------------------------
    @abstractmethod
    def clean_runs(self, marketplace: str, inputs: str | None = None) -> list[CleanRun]:
        """The saved clean runs of ``marketplace`` (one per account at most; by account) whose inputs digest is
        ``inputs`` (any without it)."""

    @abstractmethod
    def save_clean_run(self, run: CleanRun) -> None:
        """Save ``run`` as its account's last clean run (replacing the one before)."""

    @abstractmethod
    def forget_clean_runs(self, marketplace: str, account: str | None = None) -> None:
        """Drop the saved clean run of one account of ``marketplace`` (every account's without one)."""

    # -- journal ---------------------------------------------------------------------------------------------
    @abstractmethod
    def journal_sent(self, run_id: str, marketplace: str, account: str, action: str, keys: list[str],
                     idempotency_key: str | None = None) -> int:
        """Record a batch about to be sent; returns its journal id."""

    @abstractmethod
    def journal_done(self, entry_id: int, ok: bool, message: str | None = None) -> None: ...

    @abstractmethod
    def journal_open(self, marketplace: str, account: str) -> list[dict[str, Any]]:
        """Batches sent by an interrupted run whose outcome was never recorded."""

    @abstractmethod
    def journal_close_stale(self, marketplace: str, account: str, message: str) -> int: ...

    # -- budgets ---------------------------------------------------------------------------------------------
    def budget_counter(self, marketplace: str, account: str) -> BudgetCounter:
        return BudgetCounter(self, marketplace, account)

    @abstractmethod
    def budget_used(self, marketplace: str, account: str, op_class: str, day: str) -> int: ...

    @abstractmethod
    def budget_add(self, marketplace: str, account: str, op_class: str, day: str, n: int = 1) -> None: ...

    @abstractmethod
    def recent_calls(self, marketplace: str, account: str, op_class: str, since: float) -> list[float]:
        """Times (epoch seconds) of the calls recorded after ``since``, oldest first."""

    @abstractmethod
    def budget_take(self, marketplace: str, account: str, op_class: str, *, day: str, per_day: int | None,
                    window_class: str, per_window: int | None, window_seconds: float, now: float) -> Taken:
        """One call of ``op_class``, checked and recorded in one transaction under a lock on (marketplace,
        account, op_class): granted when today's count is under ``per_day`` and the window of ``window_class``
        (the class, or the class and an IP group) at ``now`` holds fewer than ``per_window`` calls."""

    # -- cursors ---------------------------------------------------------------------------------------------
    @abstractmethod
    def get_cursor(self, source: str, name: str) -> str | None: ...

    @abstractmethod
    def set_cursor(self, source: str, name: str, value: str) -> None: ...

    # -- runs ------------------------------------------------------------------------------------------------
    @abstractmethod
    def run_started(self, run_id: str) -> None: ...

    @abstractmethod
    def run_finished(self, run_id: str, exit_code: int, summary: dict[str, Any]) -> None: ...

    # -- plugin tables (see connector.sync.state.tables) ----------------------------------------------------
    def tables(self, schema: PluginSchema) -> PluginTables:
        """The plugin's tables, migrated to the schema's version on first use."""
        self.apply_schema(schema)
        return PluginTables(self, schema)

    @abstractmethod
    def apply_schema(self, schema: PluginSchema) -> None:
        """Apply the plugin's migrations this state has not applied yet (idempotent)."""

    @abstractmethod
    def select_rows(self, table: Table, where: Where, order_by: Sequence[str] = ()) -> list[Row]: ...

    @abstractmethod
    def insert_rows(self, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Value]], *,
                    ignore: bool, update: Sequence[str]) -> int:
        """Insert rows; on a key conflict leave the row (``ignore``) or set the ``update`` columns (none given:
        leave it too).  Returns how many rows were written (inserted or updated)."""

    @abstractmethod
    def update_rows(self, table: Table, where: Where, values: Mapping[str, Value],
                    increment: Mapping[str, int]) -> int: ...

    @abstractmethod
    def delete_rows(self, table: Table, where: Where) -> int: ...


class BudgetCounter:
    """One account's call counts in the state (``connector.http.budget.DailyCounter``): per-day counts and the
    calls of the last per-minute windows, so both survive between runs."""

    def __init__(self, store: StateStore, marketplace: str, account: str) -> None:
        self.store, self.marketplace, self.account = store, marketplace, account

    def used_today(self, op_class: str, day: str) -> int:
        return self.store.budget_used(self.marketplace, self.account, op_class, day)

    def add_today(self, op_class: str, day: str, n: int = 1) -> None:
        self.store.budget_add(self.marketplace, self.account, op_class, day, n)

    def take(self, op_class: str, *, day: str, per_day: int | None, window_class: str, per_window: int | None,
             window_seconds: float, now: float) -> Taken:
        return self.store.budget_take(self.marketplace, self.account, op_class, day=day, per_day=per_day,
                                      window_class=window_class, per_window=per_window,
                                      window_seconds=window_seconds, now=now)
