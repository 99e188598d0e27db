"""Per-minute budget windows kept in the state file: a run started right after another one waits for the
window the first run filled, instead of sending a call the marketplace refuses with 429."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.http import Budget, HttpClient, RateLimit
from connector.marketplaces.elebne import PLUGIN
from connector.marketplaces.elebne.sandbox import create_sandbox
from connector.sync.state import StateStore
from tests.conftest import ELEBNE_KEY

LIMITS = {"write": RateLimit("write", per_window=3, per_day=None)}


class FakeTime:
    """A monotonic clock of one process (it starts anywhere) and the wall clock processes share."""

    def __init__(self, monotonic: float, wall: float) -> None:
        self.monotonic, self.wall_now = monotonic, wall
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.monotonic

    def wall(self) -> float:
        return self.wall_now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds
        self.wall_now += seconds


def budget(state: StateStore, t: FakeTime) -> Budget:
    return Budget(LIMITS, state.budget_counter("elebne", "acct"), clock=t.clock, sleep=t.sleep, wall=t.wall)


def run_filling_the_window(path: str | Path) -> FakeTime:
    """A first run on the state at ``path`` that makes the three writes a minute allows; its clock."""
    first = FakeTime(monotonic=0.0, wall=1_800_000_000.0)
    with StateStore.open(path) as state:
        b = budget(state, first)
        for _ in range(3):
            b.acquire("write")
    return first


def test_the_next_run_waits_for_the_window_the_previous_run_filled(state_location: str | Path) -> None:
    path = state_location
    first = FakeTime(monotonic=5_000.0, wall=1_800_000_000.0)
    with StateStore.open(path) as state:
        b = budget(state, first)
        for _ in range(3):
            assert b.acquire("write") == 0
        first.advance(10)
    # the next run: another process (its monotonic clock has nothing to do with the first one's), 10 s later
    second = FakeTime(monotonic=12.0, wall=first.wall_now)
    with StateStore.open(path) as state:
        b = budget(state, second)
        assert b.acquire("write") == pytest.approx(50.5)  # what is left of the window, plus the margin
    assert second.sleeps == [pytest.approx(50.5)]


def test_calls_older_than_the_window_do_not_hold_the_next_run(state_location: str | Path) -> None:
    path = state_location
    first = run_filling_the_window(path)
    later = FakeTime(monotonic=0.0, wall=first.wall_now + 61)
    with StateStore.open(path) as state:
        assert budget(state, later).acquire("write") == 0
    # windows are per account: another account is not held by this one's calls
    with StateStore.open(path) as state:
        other = Budget(LIMITS, state.budget_counter("elebne", "other"), clock=first.clock, sleep=first.sleep,
                       wall=first.wall)
        assert other.acquire("write") == 0


def test_a_wall_clock_stepped_back_never_means_a_wait_longer_than_the_window(state_location: str | Path) -> None:
    path = state_location
    first = run_filling_the_window(path)
    stepped_back = FakeTime(monotonic=0.0, wall=first.wall_now - 3600)
    with StateStore.open(path) as state:
        assert budget(state, stepped_back).acquire("write") <= 60.5


class WouldWait(Exception):
    pass


def test_back_to_back_runs_draw_no_429_from_the_marketplace(tmp_path: Path) -> None:
    """Against a sandbox that allows 3 reads a minute: the first run makes 3, the second run's first call
    is held back by its budget instead of being sent and refused."""
    limits = {"read": RateLimit("read", per_window=3, per_day=None)}
    path = tmp_path / "state.sqlite"
    sandbox = create_sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite"), rate_limits={"read": (3, 1000)})
    with sandbox:
        base_url = sandbox.url + PLUGIN.sandbox_base_path

        def run(sleep) -> None:
            with StateStore.open(path) as state:
                b = Budget(limits, state.budget_counter("elebne", "acct"), sleep=sleep)
                http = HttpClient(base_url, auth=lambda: {"Authorization": f"Bearer {ELEBNE_KEY}"}, budget=b,
                                  sleep=sleep, timeout=(2.0, 2.0), max_retries=0)
                try:
                    for _ in range(3):
                        assert http.request("GET", "/inventory", op_class="read").status_code == 200
                finally:
                    http.close()

        def no_wait(seconds: float) -> None:
            raise AssertionError(f"the first run waited {seconds} s")

        run(no_wait)
        waits: list[float] = []

        def would_wait(seconds: float) -> None:
            waits.append(seconds)
            raise WouldWait

        with pytest.raises(WouldWait):
            run(would_wait)
        statuses = [r["status"] for r in sandbox.requests_log()]
    assert statuses == [200, 200, 200]  # the fourth call was never sent, so never refused
    assert len(waits) == 1 and 0 < waits[0] <= 60.5
