"""Budgets shared by processes: several processes taking calls from one key's budget in one state (a SQLite
file, a PostgreSQL database) never take more than the limit together, because each call is checked and
recorded in one transaction; per-IP windows are kept per machine (or per group of machines)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from connector.errors import BudgetExhausted
from connector.http import Budget, RateLimit
from connector.sync.state import StateStore

WORKERS = 4
TRIES = 30  # per worker: together far more than the limits below


class WouldWait(Exception):
    pass


def would_wait(seconds: float) -> None:
    raise WouldWait


def take_until_refused(location: str | Path, limits: dict[str, RateLimit], start: Any, results: Any) -> None:
    """One process: takes calls of class "write" until the budget refuses; reports how many it got."""
    granted = 0
    with StateStore.open(location, lock=False) as state:  # several processes on one state: no run lock
        budget = Budget(limits, state.budget_counter("elebne", "acct"), sleep=would_wait)
        start.wait()
        try:
            for _ in range(TRIES):
                budget.acquire("write")
                granted += 1
        except (BudgetExhausted, WouldWait):
            pass
    results.put(granted)


def run_workers(location: str | Path, limits: dict[str, RateLimit]) -> list[int]:
    StateStore.open(location).close()  # created and migrated once, before the race
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=take_until_refused, args=(location, limits, start, results))
             for _ in range(WORKERS)]
    for p in procs:
        p.start()
    counts = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return counts


def test_processes_sharing_a_key_never_exceed_its_daily_budget_together(state_location: str | Path) -> None:
    counts = run_workers(state_location, {"write": RateLimit("write", per_day=37)})
    assert sum(counts) == 37
    with StateStore.open(state_location) as state:
        budget = Budget({"write": RateLimit("write", per_day=37)}, state.budget_counter("elebne", "acct"))
        assert budget.remaining_today("write") == 0


def test_processes_sharing_a_key_never_exceed_its_window_together(state_location: str | Path) -> None:
    limits = {"write": RateLimit("write", per_window=23, window_seconds=3600)}
    counts = run_workers(state_location, limits)
    assert sum(counts) == 23
    with StateStore.open(state_location) as state:  # and the next process waits for the window too
        with pytest.raises(WouldWait):
            Budget(limits, state.budget_counter("elebne", "acct"), sleep=would_wait).acquire("write")
        assert len(state.recent_calls("elebne", "acct", "write", 0)) == 23


def test_per_ip_windows_are_kept_per_machine_and_the_daily_budget_per_key(state_location: str | Path) -> None:
    limits = {"write": RateLimit("write", per_window=2, per_day=3, window_scope="ip")}
    with StateStore.open(state_location) as state:
        def budget(host: str) -> Budget:
            return Budget(limits, state.budget_counter("elebne", "acct"), sleep=would_wait, host=host)

        here, there = budget("host-a"), budget("host-b")
        here.acquire("write")
        here.acquire("write")
        with pytest.raises(WouldWait):  # this machine's window is full
            here.acquire("write")
        there.acquire("write")  # another machine (another IP) has its own window
        with pytest.raises(BudgetExhausted):  # but the key's daily budget is one for all
            there.acquire("write")
        assert budget("host-a").remaining_today("write") == 0


def test_machines_behind_one_address_share_the_per_ip_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_IP_GROUP", "office-nat")
    limit = RateLimit("write", per_window=2, window_scope="ip")
    assert Budget({"write": limit}).window_class(limit) == "write@office-nat"
    assert Budget({"write": RateLimit("write", per_window=2)}).window_class(RateLimit("write")) == "write"
