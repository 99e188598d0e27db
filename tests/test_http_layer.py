"""The shared HTTP layer: retries, Retry-After, no retry on validation errors, budgets, secrets out of logs."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests

from connector.errors import BudgetExhausted
from connector.http import Budget, HttpClient, RateLimit, RateLimitedTooLong, TransportError
from connector.http.client import parse_retry_after
from tests.conftest import ELEBNE_KEY, SandboxHandle, running_elebne
from tests.workbooks import write_workbook


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(sandbox: SandboxHandle, sleeps: Sleeps, **kw) -> HttpClient:
    return HttpClient(sandbox.base_url, auth=lambda: {"Authorization": f"Bearer {ELEBNE_KEY}"}, sleep=sleeps,
                      timeout=(2.0, 2.0), **kw)


def test_retry_after_is_honoured_on_429(elebne_sandbox: SandboxHandle) -> None:
    elebne_sandbox.fault(method="GET", path="/inventory", kind="status", status=429, retry_after=7, count=2)
    sleeps = Sleeps()
    http = client(elebne_sandbox, sleeps)
    resp = http.request("GET", "/inventory", op_class="read")
    assert resp.status_code == 200
    assert len(sleeps) == 2 and all(7 <= s <= 7.7 for s in sleeps)
    assert http.stats.throttled == 2 and http.stats.retries == 2
    assert http.stats.requests["read"] == 3


def test_5xx_is_retried_with_backoff_then_returned(elebne_sandbox: SandboxHandle) -> None:
    elebne_sandbox.fault(method="GET", path="/inventory", kind="status", status=503, count=10)
    sleeps = Sleeps()
    http = client(elebne_sandbox, sleeps, max_retries=3, backoff_base=0.5)
    resp = http.request("GET", "/inventory", op_class="read")
    assert resp.status_code == 503
    assert len(sleeps) == 3
    # jittered exponential: attempt n waits between 0.5 and 1 × base × 2^n
    for n, s in enumerate(sleeps, start=1):
        assert 0.5 * 0.5 * 2**n <= s <= 0.5 * 2**n


def test_validation_errors_are_not_retried(elebne_sandbox: SandboxHandle) -> None:
    sleeps = Sleeps()
    http = client(elebne_sandbox, sleeps)
    resp = http.request("POST", "/products", op_class="write", json={"name": "x", "price": "7"},
                        idempotency_key="k-1")
    assert resp.status_code == 400
    assert sleeps == [] and http.stats.requests["write"] == 1


def test_dropped_connection_retried_only_when_idempotent(elebne_sandbox: SandboxHandle) -> None:
    elebne_sandbox.fault(method="GET", path="/inventory", kind="drop", count=1)
    sleeps = Sleeps()
    http = client(elebne_sandbox, sleeps)
    assert http.request("GET", "/inventory", op_class="read").status_code == 200
    assert len(sleeps) == 1

    elebne_sandbox.fault(method="POST", path="/products", kind="drop", count=1)
    with pytest.raises(TransportError):
        http.request("POST", "/products", op_class="write", json={"name": "x", "price": 1})
    before = len(elebne_sandbox.writes())
    elebne_sandbox.fault(method="POST", path="/products", kind="drop", count=1)
    resp = http.request("POST", "/products", op_class="write", json={"name": "x", "price": 1, "externalId": "X"},
                        idempotency_key="create-x")
    assert resp.status_code == 201  # retried because the idempotency key makes it safe
    assert len(elebne_sandbox.writes()) == before + 2


def test_timeout_is_retried(elebne_sandbox: SandboxHandle) -> None:
    elebne_sandbox.fault(method="GET", path="/inventory", kind="delay", delay=1.5, count=1)
    sleeps = Sleeps()
    http = HttpClient(elebne_sandbox.base_url, auth=lambda: {"Authorization": f"Bearer {ELEBNE_KEY}"},
                      sleep=sleeps, timeout=(1.0, 0.3))
    assert http.request("GET", "/inventory", op_class="read").status_code == 200
    assert http.stats.retries == 1


def test_unreachable_server_raises_transport_error() -> None:
    sleeps = Sleeps()
    http = HttpClient("http://127.0.0.1:9", sleep=sleeps, max_retries=2, timeout=(0.5, 0.5))
    # why, in the system's words (not urllib3's "HTTPConnectionPool(...): Max retries exceeded ... Caused by")
    with pytest.raises(TransportError, match=r"connection error \(\[Errno 111\] Connection refused\) after 3 attempt"):
        http.request("GET", "/x", op_class="read")


def test_long_retry_after_stops_instead_of_hanging(elebne_sandbox: SandboxHandle) -> None:
    elebne_sandbox.fault(method="GET", path="/inventory", kind="status", status=429, retry_after=3600, count=1)
    with pytest.raises(RateLimitedTooLong):
        client(elebne_sandbox, Sleeps(), max_retry_after=120).request("GET", "/inventory", op_class="read")


def test_parse_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after("garbage") is None and parse_retry_after(None) is None


def test_budget_window_waits_before_the_marketplace_says_429() -> None:
    clock = [0.0]
    sleeps = Sleeps()

    def sleep(s: float) -> None:
        sleeps.append(s)
        clock[0] += s

    budget = Budget({"write": RateLimit("write", per_window=3, per_day=None)}, clock=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        assert budget.acquire("write") == 0
    assert budget.acquire("write") == pytest.approx(60.5)  # the window plus a safety margin
    assert budget.waited["write"] == pytest.approx(60.5)


def test_budget_per_day_is_exhausted_cleanly() -> None:
    budget = Budget({"write": RateLimit("write", per_window=None, per_day=2)}, day=lambda: "2026-11-23")
    budget.acquire("write")
    budget.acquire("write")
    with pytest.raises(BudgetExhausted, match=r"\(2/day\)"):
        budget.acquire("write")
    assert budget.remaining_today("write") == 0
    tomorrow = Budget(budget.limits, budget.counter, day=lambda: "2026-11-24")
    assert tomorrow.remaining_today("write") == 2


def test_secrets_and_query_strings_never_reach_logs(elebne_sandbox: SandboxHandle,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="connector")
    elebne_sandbox.fault(method="GET", path="/inventory", kind="status", status=503, count=1)
    http = client(elebne_sandbox, Sleeps())
    http.request("GET", "/inventory", op_class="read", params={"api_key": "b2b_supersecretvalue"})
    text = caplog.text
    assert "/inventory" in text
    assert ELEBNE_KEY not in text and "supersecret" not in text and "Authorization" not in text


def test_the_session_is_made_with_the_first_request_and_carries_the_headers(elebne_sandbox: SandboxHandle) -> None:
    http = client(elebne_sandbox, Sleeps())
    assert http._session is None  # nothing made yet: a run that sends nothing (a dry run) needs no requests
    http.close()  # closing a client that sent nothing makes nothing
    assert http._session is None
    http = HttpClient(elebne_sandbox.base_url, headers={"X-Extra": "1"},
                      auth=lambda: {"Authorization": f"Bearer {ELEBNE_KEY}"})
    assert http.request("GET", "/inventory", op_class="read").status_code == 200
    assert http.session.headers["User-Agent"].startswith("connector/") and http.session.headers["X-Extra"] == "1"
    given = requests.Session()
    http = HttpClient(elebne_sandbox.base_url, session=given, headers={"X-Extra": "2"})
    assert http.session is given and given.headers["X-Extra"] == "2"
    assert given.headers["Accept"] == "application/json"


def test_a_dry_run_does_not_import_requests(tmp_path: Path) -> None:
    """A dry run sends nothing, so the HTTP library (about 5 MB of a 100,000-row dry run's peak) is not loaded."""
    source = write_workbook(tmp_path / "p.xlsx")
    code = ("import sys\nfrom connector.cli import main\n"
            f"code = main(['sync', '--source', {str(source)!r}, '--target', 'elebne', '--dry-run', '--no-progress',"
            f" '--state', {str(tmp_path / 's.sqlite')!r}, '--report', {str(tmp_path / 'r.json')!r}])\n"
            "print(code, 'requests' in sys.modules, 'urllib3' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split()[-3:] == ["0", "False", "False"], done.stdout[-500:] + done.stderr[-2000:]


@pytest.mark.parametrize("part", ["headers", "header-value", "header-lines", "body", "body-unframed"])
def test_an_answer_cut_short_is_a_lost_answer_retried_only_when_idempotent(
        elebne_sandbox: SandboxHandle, part: str, caplog: pytest.LogCaptureFixture) -> None:
    """The request was done and its answer lost part way (a proxy or a network failing at the worst moment):
    taken for a dropped connection, never for the answer (a create came back "failed: Created" before, with
    urllib3's traceback in the log)."""
    sleeps = Sleeps()
    http = client(elebne_sandbox, sleeps)
    elebne_sandbox.fault(method="GET", path="/inventory", kind="cut", part=part, count=1)
    resp = http.request("GET", "/inventory", op_class="read")
    assert resp.status_code == 200 and isinstance(resp.json(), dict)
    assert http.stats.retries == 1

    body = {"name": "x", "price": 1, "externalId": f"X-{part}"}
    elebne_sandbox.fault(method="POST", path="/products", kind="cut", part=part, count=1)
    with pytest.raises(TransportError, match="answer cut short after 1 attempt"):
        http.request("POST", "/products", op_class="write", json=body)  # it may have been done: not sent again
    elebne_sandbox.fault(method="POST", path="/products", kind="cut", part=part, count=1)
    resp = http.request("POST", "/products", op_class="write", json={**body, "externalId": f"Y-{part}"},
                        idempotency_key=f"create-y-{part}")
    assert resp.status_code == 201 and resp.json()["data"]["externalId"] == f"Y-{part}"  # the replayed answer
    assert "Traceback" not in caplog.text and "Failed to parse headers" not in caplog.text


def test_a_request_outliving_its_sandbox_never_reaches_the_closed_database(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A request held by a ``delay`` fault whose client gave up (a timeout) woke after the sandbox stopped and
    logged a traceback from the closed database into whatever test ran then; a stopped sandbox answers nothing."""
    with running_elebne(tmp_path / "sandbox.sqlite") as sandbox:
        sandbox.fault(method="GET", path="/inventory", kind="delay", delay=0.8, count=1)
        http = HttpClient(sandbox.base_url, auth=lambda: {"Authorization": f"Bearer {ELEBNE_KEY}"},
                          sleep=Sleeps(), timeout=(1.0, 0.2), max_retries=0)
        with pytest.raises(TransportError, match="timeout"):
            http.request("GET", "/inventory", op_class="read")
        started = time.monotonic()
    assert time.monotonic() - started < 0.6  # the held request was woken, not waited for
    time.sleep(1.0)  # past the delay: the held request would have read the database by now
    assert "Traceback" not in caplog.text and "closed database" not in caplog.text


class _Dripping:
    """A server (a proxy or a link failing slowly) that sends each answer a byte at a time, each byte well inside
    the read timeout: the whole answer takes far longer than any timeout, and no single wait is one.  ``part``:
    what is dripped, the ``body`` (after whole headers) or the ``headers`` (from the status line on: minutes of
    them, a long header line included)."""

    def __init__(self, gap: float, part: str = "body") -> None:
        import socket
        import threading

        self.gap, self.part, self.answers, self.stopped = gap, part, 0, threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        body = b'{"data": "' + b"x" * 400 + b'"}'
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: %s\r\nContent-Length: %d\r\n\r\n" % (
            b"p" * (4000 if self.part == "headers" else 0), len(body))
        whole, dripped_from = head + body, (0 if self.part == "headers" else len(head))
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.answers += 1
            with conn:
                conn.recv(65536)
                try:
                    conn.sendall(whole[:dripped_from])
                    for i in range(dripped_from, len(whole)):
                        if self.stopped.wait(self.gap):
                            return
                        conn.sendall(whole[i:i + 1])
                except OSError:  # the client gave up on the answer and shut the connection
                    continue

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


def _outcome(call: Callable[[], object]) -> BaseException | object:
    """What ``call`` returned or raised, run on a thread joined with a generous limit: a call still running then
    is a hang (the dripping servers here would hold it for minutes), reported as such instead of holding the
    test suite."""
    import threading

    out: list[BaseException | object] = []

    def run() -> None:
        try:
            out.append(call())
        except BaseException as exc:
            out.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the request did not end: it waited as long as the drip lasted"
    return out[0]


def test_an_answer_dripped_past_its_deadline_is_a_timeout_not_a_hang() -> None:
    """Each byte came inside the read timeout, so no read ever timed out, and a run waited as long as the drip
    lasted (hours, for a proxy dripping a page a byte every few seconds): the whole answer now has a deadline, and
    one that misses it is a timeout, retried like one (an idempotent GET: once more here), then given up."""
    server = _Dripping(gap=0.05)  # 400 bytes: 20 s an answer, a read timeout of 2 s never reached
    try:
        http = HttpClient(server.url, sleep=Sleeps(), timeout=(2.0, 2.0), max_retries=1, answer_deadline=0.5)
        with pytest.raises(TransportError, match="GET /slow: timeout after 2 attempt"):
            http.request("GET", "/slow", op_class="read")
        assert server.answers == 2
    finally:
        server.close()


def test_headers_dripped_past_the_deadline_are_a_timeout_not_a_hang() -> None:
    """The status line and headers dripped a byte at a time (4,000 bytes, one every 50 ms: more than three minutes,
    each wait well inside the 2 s read timeout): the answer's deadline counts from the request, not from the body,
    so the attempt ends at it like a body that came too slowly: a GET is a timeout retried, then given up; a POST
    without an idempotency key (which may have reached the marketplace) is sent once, never again."""
    server = _Dripping(gap=0.05, part="headers")
    try:
        http = HttpClient(server.url, sleep=Sleeps(), timeout=(2.0, 2.0), max_retries=1, answer_deadline=0.3)
        got = _outcome(lambda: http.request("GET", "/slow", op_class="read"))
        assert isinstance(got, TransportError) and "GET /slow: timeout after 2 attempt" in str(got), got
        assert server.answers == 2 and http.stats.retries == 1

        got = _outcome(lambda: http.request("POST", "/orders", op_class="write", json={"sku": "A"}))
        assert isinstance(got, TransportError) and "POST /orders: timeout after 1 attempt" in str(got), got
        assert server.answers == 3  # sent once: its answer was lost, it may have been done
    finally:
        server.close()


def test_answer_deadlines_share_one_thread_and_fire_only_when_not_done() -> None:
    """The deadlines of the answers being read are watched by one thread (a timer thread per request cost about
    0.25 ms each): an action runs at its deadline unless its answer was read before, and a sooner deadline
    added while the thread waits for a later one is not missed."""
    import threading
    import time as clock

    from connector.http.deadline import _Deadlines

    deadlines = _Deadlines()
    fired: list[str] = []
    late = threading.Event()
    deadlines.watch(clock.monotonic() + 30, lambda: fired.append("late"))
    token = deadlines.watch(clock.monotonic() + 0.05, lambda: fired.append("read in time"))
    deadlines.done(token)
    deadlines.watch(clock.monotonic() + 0.1, lambda: fired.append("soon") or late.set())
    assert late.wait(5)
    clock.sleep(0.1)
    assert fired == ["soon"]
    assert sum(t.name == "http-answer-deadlines" for t in threading.enumerate()) >= 1
