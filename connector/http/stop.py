"""Stopping a run on request (SIGTERM): the request in flight finishes, nothing new is sent.

The CLI sets a ``StopSignal`` from its signal handler (setting a flag is all a handler may safely do); the
HTTP layer checks it before every attempt and sleeps through it (budget windows, ``Retry-After``, backoff) in
short slices, so a stop never waits for a long pause to end.  The next call then raises ``StopRequested``,
which every marketplace's answer classification treats like a spent budget: the op and the rest of its lane
are deferred to the next run (exit 3).

A run in a thread other than the main one (a ``connector worker`` job) gets no signal: the worker asks it to
stop through ``stop_asked_by``, a question every ``StopSignal`` created in that thread also asks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from connector.errors import BudgetExhausted

SLICE = 0.2  # seconds: how late a stop may notice the flag while sleeping


class StopRequested(BudgetExhausted):
    """The run was asked to stop: nothing more is sent; the next run carries on."""

    def __init__(self, reason: str) -> None:
        self.op_class, self.limit, self.reason = "", 0, reason
        Exception.__init__(self, f"stopped ({reason}); the next run carries on")


_thread = threading.local()


@contextmanager
def stop_asked_by(asked: Callable[[], str | None]) -> Iterator[None]:
    """Runs started in this thread inside the block stop (as on SIGTERM) once ``asked()`` gives a reason."""
    previous = getattr(_thread, "asked", None)
    _thread.asked = asked
    try:
        yield
    finally:
        _thread.asked = previous


class StopSignal:
    """A flag set once (from a signal handler, or by the thread's ``stop_asked_by``) and read by the HTTP layer."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._asked: Callable[[], str | None] | None = getattr(_thread, "asked", None)

    @property
    def requested(self) -> bool:
        if self.reason is None and self._asked is not None:
            self.reason = self._asked() or None
        return self.reason is not None

    def set(self, reason: str) -> None:
        self.reason = self.reason or reason

    def check(self) -> None:
        """Raise ``StopRequested`` once a stop was asked for."""
        if self.requested:
            raise StopRequested(str(self.reason))

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` that ends early (within ``SLICE``) when a stop is asked for."""
        end = time.monotonic() + seconds
        while not self.requested:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(SLICE, left))
