"""A fault-injecting HTTP proxy for tests: a thread on 127.0.0.1 between the connector and a sandbox, passing
requests on and failing the answers it is told to, the way a gateway or a network does (not the sandbox's own
faults: the proxy knows nothing of the marketplace).

Faults (``FaultProxy.fail``), each for the next ``count`` requests matching ``method`` and ``path`` (a regular
expression searched in the path):

- ``reset-body``: passed on (the marketplace does it); the answer's headers and half its body are sent, then the
  connection is reset (RST);
- ``cut-unframed``: passed on; a 200 re-framed by the close (no length), half its body, then closed;
- ``cut-framed``: passed on; a 200 whose ``Content-Length`` says the half it sends is the whole;
- ``html-502``: not passed on; a gateway's 502 HTML page;
- ``html-502-after``: passed on (the marketplace does it); its answer replaced by that 502 page (a gateway that
  timed out waiting for the answer);
- ``html-200``: not passed on; a 200 HTML page (a captive portal, a proxy's maintenance page said with a 200);
- ``html-200-after``: passed on (the marketplace does it); its answer replaced by that 200 HTML page;
- ``429-date``: not passed on; a 429 whose ``Retry-After`` is an HTTP date a second or two ahead;
- ``json-after``: passed on; its JSON body replaced by ``rewrite(body)`` (valid JSON of another shape: an object
  where a list was, a field missing), status and headers kept.

Every answer closes its connection (``Connection: close``).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

KINDS = ("reset-body", "cut-unframed", "cut-framed", "html-502", "429-date", "html-200", "html-200-after",
         "html-502-after")
REWRITE = "json-after"  # not in KINDS (tests run every kind of those alone): it needs its ``rewrite``
PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
PORTAL = b"<html><head><title>Network login</title></head><body><h1>Sign in to continue</h1></body></html>"


@dataclass
class _Fault:
    kind: str
    method: str | None
    path: re.Pattern[str]
    count: int
    query: re.Pattern[str] | None = None
    rewrite: Callable[[Any], Any] | None = None


class FaultProxy:
    """``url`` is the upstream base URL (path included) through the proxy."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.faults: list[_Fault] = []
        self.seen: list[tuple[str, str, str | None]] = []  # (method, path, the fault applied)
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{parts.path}"

    def fail(self, kind: str, *, method: str | None = None, path: str = "", count: int = 1, query: str | None = None,
             rewrite: Callable[[Any], Any] | None = None) -> None:
        """``query``: a regular expression also searched in the request's query string and body (``page=2``,
        ``"start": 5``): a later page of a listing only.  ``rewrite``: the new JSON body of ``json-after``."""
        if kind not in KINDS and kind != REWRITE:
            raise ValueError(f"kind must be one of {KINDS} or {REWRITE}")
        if (kind == REWRITE) != (rewrite is not None):
            raise ValueError(f"{REWRITE} and only it takes a rewrite")
        with self._lock:
            self.faults.append(_Fault(kind, method.upper() if method else None, re.compile(path), count,
                                      None if query is None else re.compile(query), rewrite))

    def faulted(self) -> list[tuple[str, str, str | None]]:
        return [entry for entry in self.seen if entry[2] is not None]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take(self, method: str, path: str, query: str = "") -> _Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.count > 0 and fault.method in (None, method) and fault.path.search(path) and (
                        fault.query is None or fault.query.search(query)):
                    fault.count -= 1
                    return fault
        return None

    def _handle(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        request_line = reader.readline().decode("latin-1").split()
        if len(request_line) < 2:
            return
        method, target = request_line[0], request_line[1]
        headers: dict[str, str] = {}
        while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip()] = value.strip()
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
        body = reader.read(length) if length else b""
        path = urlsplit(target).path
        fault = self._take(method, path, f"{urlsplit(target).query} {body.decode('utf-8', 'replace')}")
        kind = fault.kind if fault is not None else None
        with self._lock:
            self.seen.append((method, path, kind))
        if kind == "html-502":
            conn.sendall(_answer(502, "Bad Gateway", [("Content-Type", "text/html")], PAGE))
            return
        if kind == "html-200":
            conn.sendall(_answer(200, "OK", [("Content-Type", "text/html")], PORTAL))
            return
        if kind == "429-date":
            when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
            conn.sendall(_answer(429, "Too Many Requests", [("Retry-After", when), ("Content-Type", "text/html")],
                                 b"<html><body>Too many requests</body></html>"))
            return
        upstream = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            passed = {k: v for k, v in headers.items() if k.lower() not in ("connection", "host")}
            upstream.request(method, target, body=body, headers=passed)
            resp = upstream.getresponse()
            status, reason, answer = resp.status, resp.reason, resp.read()
            kept = [(k, v) for k, v in resp.getheaders()
                    if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        finally:
            upstream.close()
        half = answer[: len(answer) // 2]
        if kind == "reset-body":
            conn.sendall(_answer(status, reason, kept, answer)[: -(len(answer) - len(half)) or None])
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        elif kind == "cut-unframed":
            conn.sendall(_answer(status, reason, kept, half, framed=False))
        elif kind == "cut-framed":
            conn.sendall(_answer(status, reason, kept, half))
        elif kind == "html-200-after":
            conn.sendall(_answer(200, "OK", [("Content-Type", "text/html")], PORTAL))
        elif kind == "html-502-after":
            conn.sendall(_answer(502, "Bad Gateway", [("Content-Type", "text/html")], PAGE))
        elif fault is not None and fault.rewrite is not None:
            conn.sendall(_answer(status, reason, kept, json.dumps(fault.rewrite(json.loads(answer))).encode()))
        else:
            conn.sendall(_answer(status, reason, kept, answer))


def _answer(status: int, reason: str, headers: list[tuple[str, str]], body: bytes, *, framed: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers), "Connection: close"]
    if framed:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def elebne_behind_proxy(sandbox: Any, monkeypatch: Any) -> Iterator[FaultProxy]:
    """The body of a test module's fixture: a ``FaultProxy`` in front of an Elebne sandbox (``elebne_sandbox``), the
    sandbox's key in the environment and the HTTP layer's backoff cut to 10 ms (the retries are what is tested,
    not their waits)."""
    from tests.conftest import ELEBNE_KEY

    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    monkeypatch.setattr("connector.http.client.backoff_seconds", lambda *_args: 0.01)
    server = FaultProxy(sandbox.base_url)
    try:
        yield server
    finally:
        server.close()
