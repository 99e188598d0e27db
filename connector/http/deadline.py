"""A deadline for a whole answer: from sending the request, through the status line and headers, to the body's
last byte.

``requests``' read timeout bounds each wait for data, not the answer: a proxy or a network dripping the headers or
the body a byte at a time, each inside the timeout, held a run as long as the drip lasted (hours, for a page dripped
a byte every few seconds).  ``fetch`` gives each attempt one deadline, watched by one shared thread
(``_Deadlines``: a thread or ``threading.Timer`` per request cost about 0.25 ms to start and cancel, 17 s of a
67,000-request first sync); at the deadline the connection's socket is shut and the attempt ends in a
``ReadTimeout``, which the client treats like any timeout (retried only when the request is safe to repeat).

The socket is found through the connection pool: ``watch_session`` makes the session's pools note the
connection they hand out (``_get_conn``) in the thread's current attempt, so the header phase of a request (before
any response object exists) can be cut too.  Nothing here imports ``requests`` or ``urllib3`` until a request is
sent: a dry run loads neither.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import http.client
import itertools
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

log = logging.getLogger("connector.http")

RECHECK = 0.05
"""Seconds before looking again for the socket of an attempt past its deadline that has none yet (connecting: the
connect timeout bounds that)."""

Action = Callable[[], float | None]
"""Run at a deadline; returns when to run again (``time.monotonic``), or None: done."""


class _Deadlines:
    """One thread for the deadlines of every answer being read, instead of a timer thread per request (a
    ``threading.Timer`` costs about 0.25 ms to start and cancel: 17 s of a 67,000-request first sync).  ``watch``
    returns a token and ``done`` lets go of it; at its deadline a watched action runs on the thread, unless done
    first, and again when it asks to (its return value).  Once ``done`` returns, the action is not running and
    will not run: what it did is there to be seen."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, Action] = {}
        self._running: int | None = None
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float, action: Action) -> int:
        with self._cond:
            token = next(self._tokens)
            self._live[token] = action
            heapq.heappush(self._heap, (deadline, token))
            if len(self._heap) > 2 * len(self._live) + 64:  # answers read in time leave their entries behind
                self._heap = [entry for entry in self._heap if entry[1] in self._live]
                heapq.heapify(self._heap)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="http-answer-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][1] == token:  # sooner than what the thread waits for
                self._cond.notify_all()
        return token

    def done(self, token: int) -> None:
        with self._cond:
            self._live.pop(token, None)
            while self._running == token:  # (its action is shutting the connection: let it finish)
                self._cond.wait()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, token = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                action = self._live[token]
                self._running = token
            again: float | None = None
            try:
                again = action()
            except Exception:  # a bug in an action must not end the thread every deadline depends on
                log.exception("answer deadline action failed")
            with self._cond:
                self._running = None
                if again is not None and token in self._live:
                    heapq.heappush(self._heap, (again, token))
                else:
                    self._live.pop(token, None)
                self._cond.notify_all()


DEADLINES = _Deadlines()


class Attempt:
    """One attempt's connection (noted by the pool that hands it out) and whether its deadline shut it."""

    __slots__ = ("conn", "shut")

    def __init__(self) -> None:
        self.conn: Any = None
        self.shut = False

    def expire(self) -> float | None:
        """At the deadline: shut the connection's socket (the blocked read or write ends at once).  Not connected
        yet: look again shortly."""
        sock = getattr(self.conn, "sock", None)
        sock = getattr(sock, "socket", sock)  # (TLS through a TLS proxy: the socket under it)
        if sock is None:
            return time.monotonic() + RECHECK
        if not isinstance(sock, socket.socket):  # nothing to shut (a recorded answer)
            return None
        self.shut = True
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)
        return None


_CURRENT = threading.local()


def note_connection(conn: Any) -> None:
    """Note ``conn`` (an ``http.client``-like connection, connected or about to be) as the one the thread's current
    attempt uses (``within``), so its deadline can shut it; nothing when no attempt is watched."""
    attempt = getattr(_CURRENT, "attempt", None)
    if attempt is not None:
        attempt.conn = conn


@contextlib.contextmanager
def within(deadline: float | None) -> Iterator[Attempt]:
    """Watch what the thread sends and reads in the block until ``deadline`` (``time.monotonic``; None: nothing
    watched, an attempt never shut yielded): at the deadline the socket of the connection last noted
    (``note_connection``, by a watched pool or handler) is shut, so a blocked read or write ends at once with an
    error of its library.  The attempt says whether that happened (``shut``, set before the socket is shut), read
    once the block is left: the deadline no longer acts then, and the caller tells a lost answer by it."""
    attempt = Attempt()
    if deadline is None:
        yield attempt
        return
    _CURRENT.attempt = attempt
    token = DEADLINES.watch(deadline, attempt.expire)
    try:
        yield attempt
    finally:
        _CURRENT.attempt = None
        DEADLINES.done(token)


class _NotingPool:
    """Mixed into urllib3's pool classes: notes the connection it hands out in the thread's current attempt."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        note_connection(conn)
        return conn


@functools.cache
def _watched_pools() -> dict[str, type]:
    """urllib3's pool classes, noting the connections they hand out (``_NotingPool``)."""
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    return {"http": type("WatchedHTTPConnectionPool", (_NotingPool, HTTPConnectionPool), {}),
            "https": type("WatchedHTTPSConnectionPool", (_NotingPool, HTTPSConnectionPool), {})}


def _watch_manager(manager: Any) -> Any:
    """``manager`` (a urllib3 pool manager) making watched pools; one with pools of its own (SOCKS) is left."""
    import urllib3.poolmanager

    if getattr(manager, "pool_classes_by_scheme", None) is urllib3.poolmanager.pool_classes_by_scheme:
        manager.pool_classes_by_scheme = _watched_pools()
    return manager


def watch_session(session: requests.Session) -> None:
    """Make the HTTP adapters of ``session`` note each connection they use, for ``fetch``'s deadline (other
    adapters, e.g. a test's stub, are left: their answers' deadline is watched from the body on)."""
    from requests.adapters import HTTPAdapter

    for adapter in getattr(session, "adapters", {}).values():  # (a test's stand-in may have none)
        if not isinstance(adapter, HTTPAdapter) or getattr(adapter, "_connector_watched", False):
            continue
        _watch_manager(adapter.poolmanager)
        for manager in adapter.proxy_manager.values():
            _watch_manager(manager)
        plain = adapter.proxy_manager_for

        def proxy_manager_for(proxy: str, plain: Callable[..., Any] = plain, **kwargs: Any) -> Any:
            return _watch_manager(plain(proxy, **kwargs))

        adapter.proxy_manager_for = proxy_manager_for  # type: ignore[method-assign]
        adapter._connector_watched = True  # type: ignore[attr-defined]


def _framed_whole(resp: requests.Response) -> bool:
    """Whether ``resp``'s body was read to the end its headers announce (a length, or the last chunk), not merely to
    a close (which a shut socket looks like)."""
    headers = resp.headers
    return "Content-Length" in headers or "chunked" in headers.get("Transfer-Encoding", "").lower()


def fetch(session: requests.Session, method: str, url: str, deadline: float | None, **kwargs: Any
          ) -> requests.Response:
    """``session.request(method, url, **kwargs)`` with its body read, the whole of it by ``deadline``
    (``time.monotonic``; None: no deadline).  An attempt that misses it is a ``requests.exceptions.ReadTimeout``
    ("no answer in time", ``missed_deadline``), wherever it was: sending, waiting for the status line, the headers
    or the body."""

    def send() -> requests.Response:
        resp = session.request(method, url, stream=True, **kwargs)
        attempt = getattr(_CURRENT, "attempt", None)
        if attempt is not None and attempt.conn is None:  # an adapter whose pools are not watched: the body's
            attempt.conn = getattr(resp.raw, "connection", None)  # connection, at least
        resp.content  # noqa: B018 (reads the body)
        return resp

    return answer_within(deadline, send)


def answer_within(deadline: float | None, send: Callable[[], requests.Response]) -> requests.Response:
    """``send()``, a request sent through a session whose pools are watched (``watch_session``) that reads the
    body (not streamed, or read by ``send``), ended at ``deadline`` as ``fetch`` says."""
    import requests

    if deadline is None:
        return send()
    attempt = Attempt()  # (replaced by the watched one)
    try:
        with within(deadline) as attempt:
            resp = send()
    except (requests.RequestException, OSError, http.client.HTTPException) as exc:
        if attempt.shut:
            raise _missed_type()(MISSED) from exc
        raise
    if attempt.shut:
        resp.close()  # the connection is not reusable
        if not _framed_whole(resp):  # the body "ended" with the shut: it may be any part of the answer
            raise _missed_type()(MISSED)
    return resp


MISSED = "no answer in time (the answer's deadline passed)"


@functools.cache
def _missed_type() -> type[requests.exceptions.ReadTimeout]:
    """``AnswerDeadlineMissed``: the ``ReadTimeout`` of ``fetch`` when the deadline ended the attempt (made on first
    use: this module imports ``requests`` only when a request is sent)."""
    import requests

    return type("AnswerDeadlineMissed", (requests.exceptions.ReadTimeout,), {"__module__": __name__})


def missed_deadline(exc: BaseException) -> bool:
    """Whether ``exc`` (raised by ``fetch``) is its deadline's, not a read timeout or another transport error."""
    return "requests" in sys.modules and isinstance(exc, _missed_type())
