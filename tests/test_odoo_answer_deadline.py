"""Odoo's answer dripped a byte at a time (a fault-injecting proxy, a failing network): each byte comes inside the
per-read ``timeout``, so only a deadline for the whole answer (the setting ``answer_deadline``) ends the call.

``DrippingOdoo`` is a real TCP server on 127.0.0.1 answering the connection's calls like Odoo (JSON-RPC:
``version_info``, ``login``, ``context_get``; JSON-2: ``/web/version``, ``context_get``) and dripping the answer to
any other call, its status line and headers or its body, until the test ends.  Each backend (odoorpc over urllib,
JSON-2 over requests) makes the call on a thread joined with a generous limit: it must have ended, as the answer
lost it is (``OdooUnreachable``, naming the setting), a read sent again, a write sent once.
"""

from __future__ import annotations

import contextlib
import json
import socketserver
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from connector.errors import ConfigError
from connector.orders.odoo.batch import create_page
from connector.sources.odoo import backend as backend_module
from connector.sources.odoo.backend import OdooBackend, OdooUnreachable, open_backend
from connector.sources.odoo.settings import DEFAULT_ANSWER_DEADLINE, OdooSettings

DRIP = 0.02  # seconds between two dripped bytes: far inside the per-read timeout
JOIN = 60.0  # seconds a call may take before the test calls it hung (its deadline is a fraction of a second)
BACKENDS = ["jsonrpc", "json2"]


class DrippingOdoo(socketserver.ThreadingTCPServer):
    """Answers the connection's calls at once and drips every other answer (``drip``: ``headers`` or ``body``);
    ``sent`` lists those calls (``model.method``) as they arrive."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, drip: str) -> None:
        self.drip = drip
        self.sent: list[str] = []
        self.stop = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(socketserver.StreamRequestHandler):
    server: DrippingOdoo

    def handle(self) -> None:
        while not self.server.stop.is_set():  # (requests keeps the connection open between calls)
            request = self.rfile.readline()
            if not request:
                return
            headers: dict[str, str] = {}
            while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = self.rfile.read(int(headers.get("content-length") or 0))
            path = request.split()[1].decode()
            answer = self._connection_answer(path, json.loads(body) if body else {})
            if answer is None:
                self._drip(path)
                return
            data = json.dumps(answer).encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(data)).encode() + b"\r\n\r\n" + data)

    def _connection_answer(self, path: str, body: dict[str, Any]) -> Any:
        """What Odoo answers to the connection's calls (JSON-RPC wraps it), or None: a call whose answer drips."""
        params = body.get("params") or {}
        if path == "/web/webclient/version_info":
            result: Any = {"server_version": "17.0", "server_version_info": [17, 0, 0, "final", 0, ""]}
        elif path == "/jsonrpc" and params.get("method") == "login":
            result = 2
        elif path == "/jsonrpc" and params.get("method") == "execute" and params["args"][4] == "context_get":
            result = {"lang": "en_US", "tz": False}
        elif path == "/web/version":
            return {"version": "19.0", "version_info": [19, 0, 0, "final", 0, ""]}
        elif path == "/json/2/res.users/context_get":
            return {"lang": "en_US", "tz": False, "uid": 2}
        else:
            args = params.get("args") or []
            self.server.sent.append(f"{args[3]}.{args[4]}" if path == "/jsonrpc" else
                                    path.removeprefix("/json/2/").replace("/", "."))
            return None
        return {"jsonrpc": "2.0", "id": body.get("id"), "result": result}

    def _drip(self, path: str) -> None:
        """A status line and headers that never end, or a body far shorter than the length its headers promise
        (a JSON answer that never closes), a byte every ``DRIP`` seconds until the test stops the server."""
        if self.server.drip == "headers":
            head, endless = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: ", b"a"
        else:
            start = b'{"jsonrpc": "2.0", "id": 0, "result": ' if path == "/jsonrpc" else b""
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                    + start + b"[")
            endless = b" "
        with contextlib.suppress(OSError):  # the client gave up: shut or closed its end
            for byte in head:
                self.wfile.write(bytes([byte]))
                self.server.stop.wait(DRIP)
            while not self.server.stop.wait(DRIP):
                self.wfile.write(endless)


@contextlib.contextmanager
def dripping_odoo(drip: str) -> Iterator[DrippingOdoo]:
    server = DrippingOdoo(drip)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()  # (a call still hanging, before the fix, then ends too)
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resends' pauses skipped: the tests need not sleep."""
    monkeypatch.setattr(backend_module, "backoff_seconds", lambda attempt: 0.0)
    monkeypatch.setenv("CONNECTOR_TEST_DRIP_KEY", "secret")


def connected(kind: str, url: str, retries: int) -> OdooBackend:
    """A backend connected to ``url`` whose answers may take 0.3 s whole, each read 30 s."""
    return open_backend(OdooSettings.from_dict({
        "url": url, "db": "shop", "backend": kind, "password_env": "CONNECTOR_TEST_DRIP_KEY", "timeout": 30,
        "answer_deadline": 0.3, "retries": retries}))


def ended(call: Callable[[], Any]) -> BaseException | None:
    """The error ``call()`` ended with, on a thread; fails the test when it is still running after ``JOIN``."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # (handed to the test)
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(JOIN)
    assert not thread.is_alive(), f"the call still hangs after {JOIN:g} s on an answer dripped inside the timeout"
    return outcome[0]


@pytest.mark.parametrize("drip", ["headers", "body"])
@pytest.mark.parametrize("kind", BACKENDS)
def test_a_read_whose_answer_drips_ends_at_the_deadline_and_is_sent_again(kind: str, drip: str,
                                                                          no_waits: None) -> None:
    with dripping_odoo(drip) as server:
        backend = connected(kind, server.url, retries=2)
        error = ended(lambda: backend.search_read("product.product", [], ["default_code"]))
    assert isinstance(error, OdooUnreachable), repr(error)
    assert str(error) == (f"Odoo at {server.url} gave no whole answer to product.product.search_read within 0.3 s "
                          f"(setting 'answer_deadline'; a proxy or the network dripping it, or a server stuck in "
                          f"the middle of it)")
    assert server.sent == ["product.product.search_read"] * 3  # a read is sent again (retries: 2), then given up


@pytest.mark.parametrize("drip", ["headers", "body"])
@pytest.mark.parametrize("kind", BACKENDS)
def test_a_sale_order_whose_answer_drips_is_never_sent_twice(kind: str, drip: str, no_waits: None) -> None:
    with dripping_odoo(drip) as server:
        backend = connected(kind, server.url, retries=5)
        error = ended(lambda: create_page(backend, "sale.order", [{"client_order_ref": "A"},
                                                                  {"client_order_ref": "B"}], lambda: None))
        confirm = ended(lambda: backend.call_on("sale.order", "action_confirm", [41]))
    assert isinstance(error, OdooUnreachable) and "sale.order.create" in str(error), repr(error)
    assert isinstance(confirm, OdooUnreachable) and "'answer_deadline'" in str(confirm), repr(confirm)
    assert server.sent == ["sale.order.create", "sale.order.action_confirm"]  # each once: it may have been done


def test_the_deadline_is_a_checked_setting_with_a_default_above_the_timeout() -> None:
    settings = OdooSettings(url="http://odoo.test", db="shop")
    assert settings.answer_seconds == DEFAULT_ANSWER_DEADLINE >= 5 * settings.timeout
    assert OdooSettings(url="http://odoo.test", db="shop", timeout=300).answer_seconds == 1500  # never undercut
    assert OdooSettings.from_dict({"url": "http://odoo.test", "db": "shop", "answer_deadline": 45}).answer_seconds == 45
    with pytest.raises(ConfigError, match="'answer_deadline' must be > 0"):
        OdooSettings(url="http://odoo.test", db="shop", answer_deadline=0)
    with pytest.raises(ConfigError, match="'answer_deadline': expected a number"):
        OdooSettings.from_dict({"url": "http://odoo.test", "db": "shop", "answer_deadline": "10 min"})


def test_a_blank_deadline_in_a_profile_takes_the_default() -> None:
    """``answer_deadline:`` left blank in YAML is null: the default, as if the key were not there (a number
    that is not one is still refused above)."""
    source = yaml.safe_load("url: http://odoo.test\ndb: shop\ntimeout: 300\nanswer_deadline:\n")
    assert source["answer_deadline"] is None
    assert OdooSettings.from_dict(source).answer_seconds == 1500
    with pytest.raises(ConfigError, match="'page_size': expected a whole number"):  # a key with a value to have
        OdooSettings.from_dict({**source, "page_size": None})
