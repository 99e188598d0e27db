"""Stopping a run on request (SIGTERM): the request in flight finishes, nothing new is sent.

The CLI sets a ``StopSignal`` from its signal handler (setting a flag is all a handler may safely do); the
HTTP layer checks it before every attempt and sleeps through it (budget windows, ``Retry-After``, backoff) in
short slices, so a stop never waits for a long pause to end.  The next call then raises ``StopRequested``,
which every marketplace's answer classification treats like a spent budget: the op and the rest of its lane
are deferred to the next run (exit 3).
"""

from __future__ import annotations

import time

from connector.errors import BudgetExhausted

SLICE = 0.2  # seconds: how late a stop may notice the flag while sleeping


class StopRequested(BudgetExhausted):
    """The run was asked to stop: nothing more is sent; the next run carries on."""

    def __init__(self, reason: str) -> None:
        self.op_class, self.limit, self.reason = "", 0, reason
        Exception.__init__(self, f"stopped ({reason}); the next run carries on")


class StopSignal:
    """A flag set once (from a signal handler) and read by the HTTP layer."""

    def __init__(self) -> None:
        self.reason: str | None = None

    @property
    def requested(self) -> bool:
        return self.reason is not None

    def set(self, reason: str) -> None:
        self.reason = self.reason or reason

    def check(self) -> None:
        """Raise ``StopRequested`` once a stop was asked for."""
        if self.reason is not None:
            raise StopRequested(self.reason)

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` that ends early (within ``SLICE``) when a stop is asked for."""
        end = time.monotonic() + seconds
        while self.reason is None:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(SLICE, left))
