"""HTTP client shared by every marketplace: timeouts, retries, ``Retry-After``, budgets, idempotency keys.

Retried: 429, 500/502/503/504, timeouts (an answer, headers or body, not whole by its deadline included: see
``deadline``), dropped connections and answers cut short (headers that end part way, a body shorter than its
``Content-Length``, or framed by the close and not whole JSON), and, for a request safe to repeat, a success status
whose body is not JSON (a proxy's page, an empty or cut body), with jittered exponential backoff; a ``Retry-After``
header (seconds or HTTP date) is honoured.  Not retried: other 4xx (validation errors do not
get better by asking again).  A request that is not idempotent (a POST without an idempotency key) is not
retried after a timeout, a dropped connection, a 500/502/504 or a success whose body is not JSON, because the first
attempt may have been applied;
only 429 and 503 (not handled) are retried for it.
Secrets never reach logs: only method, path (without query string), status and timing are logged.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from connector import __version__
from connector.errors import ConfigError
from connector.http.budget import Budget, WaitHook, notify_wait
from connector.http.deadline import fetch, watch_session
from connector.http.reasons import SENT_ONCE, transport_reason
from connector.http.stop import StopSignal

if TYPE_CHECKING:
    import requests

log = logging.getLogger("connector.http")
# urllib3 logs headers it cannot parse as a warning with a traceback, then returns the response: such an answer
# is taken here for a lost one (``_cut_short``) and said in one line instead
logging.getLogger("urllib3.connection").setLevel(logging.ERROR)

ANSWER_DEADLINE = 300.0
"""Seconds a whole answer may take, from sending the request to its body's last byte (``deadline.fetch``)."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
UNDONE_STATUSES = frozenset({429, 503})
"""Retryable statuses that say the request was not handled (rate limited, service unavailable): the only ones a
request that is not idempotent is sent again after.  A 500, 502 or 504 may come after the marketplace (behind its
gateway) applied the request: like a lost answer, it is returned to the caller, which looks before sending again."""
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def backoff_seconds(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Full-jitter exponential backoff before resend ``attempt + 1``: uniform in [0.5, 1] × min(cap, base × 2^attempt)
    (the marketplaces' clients, and the Odoo source's reads)."""
    return min(cap, base * (2**attempt)) * random.uniform(0.5, 1.0)


class TransportError(Exception):
    """No usable answer after every retry (connection refused, timeouts, dropped connections)."""


class RateLimitedTooLong(Exception):
    """The marketplace asks us to wait longer than this run is willing to (e.g. a daily limit)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"the marketplace asks to wait {retry_after:.0f}s before the next call")


@dataclass
class HttpStats:
    """What the report shows about the traffic of one client."""

    requests: dict[str, int] = field(default_factory=dict)  # per operation class, attempts included
    retries: int = 0
    throttled: int = 0  # 429 answers
    waited_seconds: float = 0.0  # sleeping for Retry-After / backoff / budget windows

    def count(self, op_class: str) -> None:
        self.requests[op_class] = self.requests.get(op_class, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization: Bearer`` header every API here authenticates with."""
    return {"Authorization": f"Bearer {token}"}


def _cut_short(resp: requests.Response) -> bool:
    """Whether the answer's headers ended part way (the connection closed in them).  requests then returns the
    response as if whole, without the headers that say where its body ends (``Content-Length``, chunked), and
    reads the body to the close.  Taken for a cut: no such header, for a status that has a body, and either a
    defect http.client noted in the headers (a line cut in two; urllib3 only logs it), or no ``Content-Type``
    either (every marketplace API answers JSON and says so), or no body at all (the headers never ended: a
    ``Content-Type`` cut in its value, ``application/js``, is no longer said to be JSON).  A server's odd header
    line alone, with its body framed, is no cut.  Nor is the body whole when only the close frames it (a proxy that
    re-frames answers sends no length) and what it says is JSON does not parse: the connection closed part way
    through it, and the body reached the close."""
    headers = resp.headers
    if "Content-Length" in headers or "Transfer-Encoding" in headers or resp.status_code in (204, 304) \
            or resp.status_code < 200 or resp.request.method == "HEAD":
        return False
    original = getattr(getattr(resp, "raw", None), "_original_response", None)
    if getattr(getattr(original, "msg", None), "defects", None):
        return True
    content_type = headers.get("Content-Type")
    if content_type is None or not resp.content:
        return True
    return "json" in content_type.lower() and not _parses(resp.content)


def _odd_success(resp: requests.Response) -> bool:
    """Whether ``resp`` is a success status whose body is not the JSON every API here answers: a proxy's or a
    gateway's HTML page, an empty body, JSON cut part way behind a length that says it is whole.  (A 204, a 205
    and the answer to a HEAD have no body to be JSON.)"""
    return 200 <= resp.status_code < 300 and resp.status_code not in (204, 205) \
        and resp.request.method != "HEAD" and not _parses(resp.content)


def _parses(body: bytes) -> bool:
    """Whether ``body`` is whole JSON text."""
    try:
        json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return False
    return True


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` is delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def checked_base_url(url: str) -> str:
    """``url`` if it can be an API's base address; ``ConfigError`` (exit 2, nothing sent) otherwise: without this a
    typo (no scheme, ``ftp://``, a port out of range) ended in a traceback, and a query string or a password in
    it would go with every request."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (not port_ok or parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or parts.username is not None):
        shown = url.split("://", 1)[0] + "://…@" + url.rsplit("@", 1)[1] if "@" in url else url  # no password
        raise ConfigError(f"base URL {shown!r} is not an API address: give it as https://host[:port]/path (http "
                          "for a local sandbox), without user, password, '?' or '#'")
    return url


class HttpClient:
    """One ``requests.Session`` per marketplace account."""

    def __init__(self, base_url: str, *, headers: Mapping[str, str] | None = None,
                 auth: Callable[[], Mapping[str, str]] | None = None, timeout: tuple[float, float] = (5.0, 30.0),
                 max_retries: int = 5, backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 max_retry_after: float = 120.0, budget: Budget | None = None,
                 sleep: Callable[[float], None] = time.sleep, session: requests.Session | None = None,
                 answer_deadline: float | None = ANSWER_DEADLINE) -> None:
        self.base_url = checked_base_url(base_url).rstrip("/")
        self._session = session
        self._headers = {"User-Agent": f"connector/{__version__}", "Accept": "application/json", **(headers or {})}
        if session is not None:
            session.headers.update(self._headers)
            watch_session(session)
        self._auth = auth
        self.timeout = timeout
        self.answer_deadline = answer_deadline
        self.max_retries = max_retries
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.max_retry_after = max_retry_after
        self.budget = budget
        self._sleep = sleep
        self.stats = HttpStats()
        self.on_wait: WaitHook | None = None  # told before a Retry-After / backoff pause
        self.stop: StopSignal | None = None  # checked before every attempt (see ``connector.http.stop``)

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session``, made (and ``requests`` imported: about 5 MB and 60 ms) with the first request:
        a run that sends nothing, like a dry run, needs neither."""
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers.update(self._headers)
            watch_session(self._session)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def _pause(self, seconds: float, reason: str = "retry") -> None:
        if seconds > 0:
            self.stats.waited_seconds += seconds
            notify_wait(self.on_wait, seconds, reason)
            if self.stop is not None:
                self.stop.sleep(seconds)
            else:
                self._sleep(seconds)

    def backoff(self, attempt: int) -> float:
        return backoff_seconds(attempt, self.backoff_base, self.backoff_cap)

    def request(self, method: str, path: str, *, op_class: str, json: Any = None,
                params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                idempotency_key: str | None = None, idempotency_header: str = "X-Idempotency-Key",
                idempotent: bool | None = None, data: bytes | None = None,
                expect_json: bool = True) -> requests.Response:
        """Send one logical request (with retries) and return the final response.

        Non-retryable statuses and the last retryable one are returned, not raised: the marketplace client
        reads its own error envelope.  ``TransportError`` when no response could be had at all.  With
        ``expect_json`` (every marketplace API answers JSON), a success whose body is not JSON (``_odd_success``)
        is retried like a 502 when the request is safe to repeat; one that is not is returned for the client to
        fail (it may have been applied: never sent twice).
        """
        import requests  # (imported once, with the session: see ``session``)

        method = method.upper()
        send_headers: dict[str, str] = dict(headers or {})
        if idempotency_key:
            send_headers[idempotency_header] = idempotency_key
        if self._auth:
            send_headers.update(self._auth())
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS or bool(idempotency_key)
        url = self.base_url + path
        shown = urlsplit(url).path  # never the query string: it may carry an api_key
        attempt = 0
        while True:
            if self.stop is not None:
                self.stop.check()
            if self.budget is not None:
                waited = self.budget.acquire(op_class)
                self.stats.waited_seconds += waited
            self.stats.count(op_class)
            started = time.monotonic()
            session = self.session
            try:
                resp = fetch(session, method, url, None if self.answer_deadline is None else
                             started + self.answer_deadline, json=json, params=params, data=data,
                             headers=send_headers, timeout=self.timeout)
                if _cut_short(resp):
                    resp.close()
                    raise requests.exceptions.ChunkedEncodingError("the answer's headers end part way")
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                # (a body shorter than its Content-Length, or headers cut short: the request may have been done,
                # its answer was lost like a dropped connection's)
                kind = "timeout" if isinstance(exc, requests.Timeout) else \
                    "connection error" if isinstance(exc, requests.ConnectionError) else "answer cut short"
                log.warning("%s %s: %s (attempt %d)", method, shown, kind, attempt + 1)
                if not idempotent or attempt >= self.max_retries:
                    why = f" ({transport_reason(exc)})" if kind == "connection error" else ""  # refused, no host...
                    raise TransportError(f"{method} {shown}: {kind}{why} after {attempt + 1} attempt(s)") from None
                attempt += 1
                self.stats.retries += 1
                self._pause(self.backoff(attempt))
                continue
            log.debug("%s %s -> %s in %.0f ms", method, shown, resp.status_code,
                      (time.monotonic() - started) * 1000)
            if resp.status_code == 429:  # every one counts, the last one returned after the retries included
                self.stats.throttled += 1
            if expect_json and idempotent and attempt < self.max_retries and _odd_success(resp):
                attempt += 1
                self.stats.retries += 1
                wait = self.backoff(attempt)
                log.warning("%s %s -> %s whose body is not JSON, retrying in %.2fs", method, shown,
                            resp.status_code, wait)
                resp.close()
                self._pause(wait)
                continue
            if resp.status_code not in (RETRY_STATUSES if idempotent else UNDONE_STATUSES) \
                    or attempt >= self.max_retries:
                setattr(resp, SENT_ONCE, not idempotent)  # (read by ``reasons.answer_facts``)
                return resp
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            if retry_after is not None and retry_after > self.max_retry_after:
                raise RateLimitedTooLong(retry_after)
            attempt += 1
            self.stats.retries += 1
            wait = retry_after * random.uniform(1.0, 1.1) if retry_after is not None else self.backoff(attempt)
            log.info("%s %s -> %s, retrying in %.2fs", method, shown, resp.status_code, wait)
            resp.close()
            self._pause(wait, "rate limit" if resp.status_code == 429 else "retry")
