"""Rate limits as marketplaces document them: sliding windows (N per second, per minute...) and M per day.

Limits are per *operation class* (``read``, ``write``, ...; or a plan, when a marketplace limits a key by its
plan): the sandbox decides which class a request belongs to.  Windows count per client IP (Elebne) or per API
key (EcomLinx), as the limiter is told; days count per API key and are UTC calendar days.  A refused request
is not counted.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal


@dataclass(frozen=True)
class Window:
    """At most ``limit`` requests in any ``seconds`` (sliding)."""

    limit: int
    seconds: float


@dataclass(frozen=True)
class Limit:
    """``per_window`` requests per window of the limiter's ``window_seconds``, ``per_day`` per API key per UTC
    day, and any further ``windows`` of their own lengths (EcomLinx: per second beside per minute).

    ``None`` means unlimited.
    """

    per_window: int | None
    per_day: int | None
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused and how long until it may be retried (whole seconds, ≥ 1)."""

    retry_after: int
    scope: str  # "window" (per IP) or "day" (per key)
    limit: int


def mask_key(key: str) -> str:
    """Enough of an API key to tell keys apart in a dump, never the whole secret."""
    return key[:10] + "…" if len(key) > 10 else key


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RateLimiter:
    """Thread-safe sliding-window and per-day counters.

    ``clock`` (monotonic seconds) drives the sliding windows; ``now`` (an aware UTC datetime) drives the day
    counters.  Both are injectable so tests need not sleep.  ``windows_per`` says who a window counts: the
    client IP or the API key.  ``refused`` counts the refusals since the last reset.
    """

    def __init__(self, limits: Mapping[str, Limit | tuple[int | None, int | None]], *,
                 window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = _utc_now, windows_per: Literal["ip", "key"] = "ip") -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self.limits = {name: lim if isinstance(lim, Limit) else Limit(*lim) for name, lim in limits.items()}
        self.window_seconds = window_seconds
        self.windows_per = windows_per
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._days: dict[tuple[str, str], tuple[str, int]] = {}
        self.refused = 0

    def acquire(self, op_class: str | None, ip: str, key: str) -> Refusal | None:
        """Count one request, or return a ``Refusal`` (and count nothing) if a limit is reached."""
        limit = self.limits.get(op_class or "")
        if limit is None:
            return None
        windows = self._windows_of(limit)
        horizon = max((w.seconds for w in windows), default=0.0)
        with self._lock:
            seen = self._windows.setdefault((op_class or "", ip if self.windows_per == "ip" else key), deque())
            now = self._clock()
            while seen and seen[0] <= now - horizon:
                seen.popleft()
            today = self._now().date().isoformat()
            day, used = self._days.get((op_class or "", key), (today, 0))
            if day != today:
                used = 0
            refusal = self._refusal(limit, windows, horizon, seen, now, used)
            if refusal is None:
                seen.append(now)
                self._days[(op_class or "", key)] = (today, used + 1)
            else:
                self.refused += 1
            return refusal

    def _windows_of(self, limit: Limit) -> list[Window]:
        first = [] if limit.per_window is None else [Window(limit.per_window, self.window_seconds)]
        return first + list(limit.windows)

    def _refusal(self, limit: Limit, windows: list[Window], horizon: float, seen: deque[float], now: float,
                 used_today: int) -> Refusal | None:
        refusals = []
        for window in windows:
            recent = seen if window.seconds >= horizon else [t for t in seen if t > now - window.seconds]
            if len(recent) >= window.limit:
                # The window frees when the oldest counted request leaves it (the one `limit` back).
                oldest = recent[-window.limit] if window.limit else now
                wait = oldest + window.seconds - now
                refusals.append(Refusal(max(1, math.ceil(wait)), "window", window.limit))
        if limit.per_day is not None and used_today >= limit.per_day:
            refusals.append(Refusal(self._seconds_to_midnight(), "day", limit.per_day))
        return max(refusals, key=lambda r: r.retry_after) if refusals else None

    def _seconds_to_midnight(self) -> int:
        now = self._now()
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        return max(1, math.ceil((midnight - now).total_seconds()))

    def usage(self) -> dict[str, dict[str, int]]:
        """Requests counted today per class and masked key (``{"write": {"sk_test_ab…": 3}}``)."""
        today = self._now().date().isoformat()
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            for (op_class, key), (day, used) in self._days.items():
                if day == today:
                    out.setdefault(op_class, {})[mask_key(key)] = used
        return out

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._days.clear()
            self.refused = 0
