"""Call budgets per operation class, declared by each marketplace from its documented limits.

We slow down *before* the marketplace has to answer 429: a sliding window per class (e.g. Elebne writes
30/min) makes the caller wait, and a per-day count stops the run cleanly with ``BudgetExhausted`` when the
day's allowance is spent.  Both are kept in the state database, so they survive between runs: a run started
right after another one waits for the window the first one filled instead of drawing a 429.

A call is taken with one ``take`` of the counter, which checks both limits and records the call together (in
one transaction of the state, under a lock per key and class), so any number of processes on any number of
machines sharing one state never exceed a key's limits together.  A limit the marketplace counts per IP
(``window_scope="ip"``) has its window per host: machines that reach the marketplace through one public
address set the same ``CONNECTOR_IP_GROUP`` to share it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from connector.errors import BudgetExhausted
from connector.http.stop import StopSignal


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Documented limit of one operation class."""

    op_class: str
    per_window: int | None = None  # calls per window (per minute unless window_seconds says otherwise)
    per_day: int | None = None
    window_seconds: float = 60.0
    window_scope: Literal["key", "ip"] = "key"  # whom the marketplace counts the window for: the key, or an IP


@dataclass(frozen=True, slots=True)
class Taken:
    """The answer of one ``take``: the call was granted (and recorded), or the window is full for ``wait``
    more seconds, or the day's allowance is spent (``exhausted``)."""

    granted: bool
    wait: float = 0.0
    exhausted: bool = False


def settle(used_today: int, calls: Sequence[float], *, per_day: int | None, per_window: int | None,
           window_seconds: float, now: float) -> Taken:
    """Whether one more call fits: ``used_today`` calls today, ``calls`` the times in the current window."""
    if per_day is not None and used_today >= per_day:
        return Taken(False, exhausted=True)
    inside = sorted(min(t, now) for t in calls if t > now - window_seconds)
    if per_window and len(inside) >= per_window:
        return Taken(False, wait=inside[-per_window] + window_seconds - now)
    return Taken(True)


IP_GROUP_ENV = "CONNECTOR_IP_GROUP"


def ip_group() -> str:
    """The name under which this machine's per-IP windows are kept: ``$CONNECTOR_IP_GROUP`` (machines behind
    one public address share it), else the host name (each machine has its own address)."""
    return os.environ.get(IP_GROUP_ENV, "").strip() or socket.gethostname()


class DailyCounter(Protocol):
    """Persistent call counts of one account (implemented by the state store): per-day counts, and the calls
    of the last per-minute windows as wall-clock times (epoch seconds)."""

    def used_today(self, op_class: str, day: str) -> int: ...

    def add_today(self, op_class: str, day: str, n: int = 1) -> None: ...

    def take(self, op_class: str, *, day: str, per_day: int | None, window_class: str, per_window: int | None,
             window_seconds: float, now: float) -> Taken:
        """Check the day's count of ``op_class`` and the window of ``window_class`` at ``now`` (epoch seconds)
        and, when the call fits, record it in both, atomically."""


class MemoryCounter:
    """Call counts kept in memory: for tests and for runs without a state file."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._calls: dict[str, list[float]] = {}

    def used_today(self, op_class: str, day: str) -> int:
        return self._counts.get((op_class, day), 0)

    def add_today(self, op_class: str, day: str, n: int = 1) -> None:
        self._counts[(op_class, day)] = self._counts.get((op_class, day), 0) + n

    def take(self, op_class: str, *, day: str, per_day: int | None, window_class: str, per_window: int | None,
             window_seconds: float, now: float) -> Taken:
        # a call "after now" (a clock stepped back) counts as made now
        self._calls[window_class] = [min(t, now) for t in self._calls.get(window_class, ())
                                     if t > now - window_seconds]
        taken = settle(self.used_today(op_class, day), self._calls[window_class], per_day=per_day,
                       per_window=per_window, window_seconds=window_seconds, now=now)
        if taken.granted:
            if per_window:
                self._calls[window_class].append(now)
            self.add_today(op_class, day)
        return taken


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

    Windows are timed on the wall clock (epoch seconds), the only clock processes and machines share; within
    one process it advances with ``clock`` (monotonic) from the wall time at the start, so a wall clock stepped
    during a run does not bend its windows.
    """

    def __init__(self, limits: dict[str, RateLimit], counter: DailyCounter | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 day: Callable[[], str] | None = None, wall: Callable[[], float] = time.time,
                 host: str | None = None) -> None:
        self.limits = limits
        self.counter = counter or MemoryCounter()
        self._clock, self._sleep = clock, sleep
        self._start = (wall(), clock())
        self._day = day or (lambda: utc_day())  # looked up at call time: the day changes during long runs
        self.host = host or ip_group()
        self._lock = threading.Lock()
        self.waited: dict[str, float] = {}
        self.on_wait: WaitHook | None = None  # told before every window wait (progress lines, the bar)
        self.stop: StopSignal | None = None  # a stop asked for during a window wait ends it: nothing is taken

    def remaining_today(self, op_class: str) -> int | None:
        limit = self.limits.get(op_class)
        if limit is None or limit.per_day is None:
            return None
        return max(0, limit.per_day - self.counter.used_today(op_class, self._day()))

    def now(self) -> float:
        wall, mono = self._start
        return wall + (self._clock() - mono)

    def window_class(self, limit: RateLimit) -> str:
        """The name the window is kept under: the class, and for a per-IP limit this machine's IP group."""
        return f"{limit.op_class}@{self.host}" if limit.window_scope == "ip" else limit.op_class

    def acquire(self, op_class: str) -> float:
        """Take one call from the budget, waiting for the window if needed; returns seconds waited.

        Raises ``BudgetExhausted`` when the per-day allowance is spent (nothing is taken then).
        """
        limit = self.limits.get(op_class)
        if limit is None:
            return 0.0
        waited = 0.0
        with self._lock:
            while True:
                taken = self.counter.take(op_class, day=self._day(), per_day=limit.per_day,
                                          window_class=self.window_class(limit), per_window=limit.per_window,
                                          window_seconds=limit.window_seconds, now=self.now())
                if taken.exhausted:
                    raise BudgetExhausted(op_class, limit.per_day or 0)
                if taken.granted:
                    break
                # a little past the edge: the marketplace's clock and window are not exactly ours
                pause = taken.wait + WINDOW_MARGIN
                notify_wait(self.on_wait, pause, "rate limit")
                self._sleep(pause)
                if self.stop is not None:
                    self.stop.check()
                waited += pause
        if waited:
            self.waited[op_class] = self.waited.get(op_class, 0.0) + waited
        return waited
