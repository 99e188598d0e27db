"""Rate limits as marketplaces document them: N per IP per window (sliding) and M per API key per day.

Limits are per *operation class* (``read``, ``write``, ...): the sandbox decides which class a route
belongs to.  A refused request is not counted.  Days are UTC calendar days.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Limit:
    """``per_window`` requests per client IP per window, ``per_day`` per API key per UTC day.

    ``None`` means unlimited.
    """

    per_window: int | None
    per_day: int | None


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

    ``clock`` (monotonic seconds) drives the sliding window; ``now`` (an aware UTC datetime) drives the day
    counters.  Both are injectable so tests need not sleep.
    """

    def __init__(self, limits: Mapping[str, Limit | tuple[int | None, int | None]], *,
                 window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = _utc_now) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self.limits = {name: lim if isinstance(lim, Limit) else Limit(*lim) for name, lim in limits.items()}
        self.window_seconds = window_seconds
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._days: dict[tuple[str, str], tuple[str, int]] = {}

    def acquire(self, op_class: str | None, ip: str, key: str) -> Refusal | None:
        """Count one request, or return a ``Refusal`` (and count nothing) if a limit is reached."""
        limit = self.limits.get(op_class or "")
        if limit is None:
            return None
        with self._lock:
            window = self._windows.setdefault((op_class or "", ip), deque())
            now = self._clock()
            while window and window[0] <= now - self.window_seconds:
                window.popleft()
            today = self._now().date().isoformat()
            day, used = self._days.get((op_class or "", key), (today, 0))
            if day != today:
                used = 0
            refusal = self._refusal(limit, window, now, used)
            if refusal is None:
                window.append(now)
                self._days[(op_class or "", key)] = (today, used + 1)
            return refusal

    def _refusal(self, limit: Limit, window: deque[float], now: float, used_today: int) -> Refusal | None:
        refusals = []
        if limit.per_window is not None and len(window) >= limit.per_window:
            # The window frees when the oldest counted request leaves it (the one `per_window` back).
            oldest = window[-limit.per_window] if limit.per_window else now
            wait = oldest + self.window_seconds - now
            refusals.append(Refusal(max(1, math.ceil(wait)), "window", limit.per_window))
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
