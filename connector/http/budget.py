"""Call budgets per operation class, declared by each marketplace from its documented limits.

We slow down *before* the marketplace has to answer 429: a sliding window per class (e.g. Elebne writes
30/min) makes the caller wait, and a per-day count stops the run cleanly with ``BudgetExhausted`` when the
day's allowance is spent.  Both are kept in the state database, so they survive between runs: a run started
right after another one waits for the window the first one filled instead of drawing a 429.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from connector.errors import BudgetExhausted
from connector.http.stop import StopSignal


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Documented limit of one operation class."""

    op_class: str
    per_window: int | None = None  # calls per window (per minute unless window_seconds says otherwise)
    per_day: int | None = None
    window_seconds: float = 60.0


class DailyCounter(Protocol):
    """Persistent call counts of one account (implemented by the state store): per-day counts, and the calls
    of the last per-minute windows as wall-clock times (epoch seconds)."""

    def used_today(self, op_class: str, day: str) -> int: ...

    def add_today(self, op_class: str, day: str, n: int = 1) -> None: ...

    def recent_calls(self, op_class: str, since: float) -> list[float]: ...

    def note_call(self, op_class: str, at: float, forget_before: float) -> None: ...


class MemoryCounter:
    """Call counts kept in memory: for tests and for runs without a state file."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._calls: dict[str, list[float]] = {}

    def used_today(self, op_class: str, day: str) -> int:
        return self._counts.get((op_class, day), 0)

    def add_today(self, op_class: str, day: str, n: int = 1) -> None:
        self._counts[(op_class, day)] = self._counts.get((op_class, day), 0) + n

    def recent_calls(self, op_class: str, since: float) -> list[float]:
        return sorted(t for t in self._calls.get(op_class, ()) if t > since)

    def note_call(self, op_class: str, at: float, forget_before: float) -> None:
        self._calls[op_class] = [t for t in self._calls.get(op_class, ()) if t >= forget_before] + [at]


WaitHook = Callable[[float, datetime, str], None]
"""Told before the HTTP layer sleeps: (seconds, until when (UTC), why: "rate limit" or "retry")."""


def notify_wait(hook: WaitHook | None, seconds: float, reason: str) -> None:
    if hook is not None and seconds > 0:
        hook(seconds, datetime.now(UTC) + timedelta(seconds=seconds), reason)


WINDOW_MARGIN = 0.5
"""Seconds added to a window wait so that a call never lands on the marketplace's window edge."""


def utc_day() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class Budget:
    """Thread-safe budget over several operation classes.

    Windows are timed with ``clock`` (monotonic) and saved to the counter in ``wall`` time (epoch seconds),
    the only clock two processes share.
    """

    def __init__(self, limits: dict[str, RateLimit], counter: DailyCounter | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 day: Callable[[], str] | None = None, wall: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.counter = counter or MemoryCounter()
        self._clock, self._sleep, self._wall = clock, sleep, wall
        self._day = day or (lambda: utc_day())  # looked up at call time: the day changes during long runs
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.waited: dict[str, float] = {}
        self.on_wait: WaitHook | None = None  # told before every window wait (progress lines, the bar)
        self.stop: StopSignal | None = None  # a stop asked for during a window wait ends it: nothing is taken

    def remaining_today(self, op_class: str) -> int | None:
        limit = self.limits.get(op_class)
        if limit is None or limit.per_day is None:
            return None
        return max(0, limit.per_day - self.counter.used_today(op_class, self._day()))

    def acquire(self, op_class: str) -> float:
        """Take one call from the budget, waiting for the window if needed; returns seconds waited.

        Raises ``BudgetExhausted`` when the per-day allowance is spent (nothing is taken then).
        """
        limit = self.limits.get(op_class)
        if limit is None:
            return 0.0
        waited = 0.0
        with self._lock:
            day = self._day()
            if limit.per_day is not None and self.counter.used_today(op_class, day) >= limit.per_day:
                raise BudgetExhausted(op_class, limit.per_day)
            if limit.per_window:
                window = self._window(op_class, limit)
                while True:
                    now = self._clock()
                    while window and window[0] <= now - limit.window_seconds:
                        window.popleft()
                    if len(window) < limit.per_window:
                        break
                    # a little past the edge: the marketplace's clock and window are not exactly ours
                    pause = window[0] + limit.window_seconds - now + WINDOW_MARGIN
                    notify_wait(self.on_wait, pause, "rate limit")
                    self._sleep(pause)
                    if self.stop is not None:
                        self.stop.check()
                    waited += pause
                window.append(self._clock())
                self._note_call(op_class, limit)
            self.counter.add_today(op_class, day)
        if waited:
            self.waited[op_class] = self.waited.get(op_class, 0.0) + waited
        return waited

    def _window(self, op_class: str, limit: RateLimit) -> deque[float]:
        """The class's window, on first use loaded with the calls an earlier run made in it."""
        window = self._windows.get(op_class)
        if window is None:
            now, wall = self._clock(), self._wall()
            # a time after ours (the wall clock stepped back) counts as now: never a wait longer than a window
            recent = [min(t, wall) for t in self.counter.recent_calls(op_class, wall - limit.window_seconds)]
            window = deque(now - (wall - t) for t in recent[-(limit.per_window or 0):])
            self._windows[op_class] = window
        return window

    def _note_call(self, op_class: str, limit: RateLimit) -> None:
        wall = self._wall()
        self.counter.note_call(op_class, wall, forget_before=wall - limit.window_seconds)
