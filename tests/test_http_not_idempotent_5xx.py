"""A POST without an idempotency key that the marketplace applied, but whose answer its gateway turned into a
500/502/504, is not sent again by the HTTP layer (the caller looks before sending again, as after a lost answer);
a 429 or 503 (not handled) still is."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connector.http import HttpClient


@pytest.fixture
def server() -> Iterator[tuple[str, list[int], list[dict]]]:
    """A server answering the statuses queued in ``script`` (then 200), each request applied and recorded."""
    script: list[int] = []
    applied: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            applied.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            status = script.pop(0) if script else 200
            out = b'{"data": {"id": 1}, "error_code": 0}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_PUT = do_POST

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}", script, applied
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_post_without_key_answered_5xx_after_it_was_applied_is_not_sent_again(server, status: int) -> None:
    url, script, applied = server
    http = HttpClient(url, sleep=lambda s: None)
    script.append(status)
    resp = http.request("POST", "/packages/create", op_class="write", json={"remote_id": "conn-1"})
    assert resp.status_code == status and len(applied) == 1  # returned to the caller, never sent twice
    script.append(status)
    resp = http.request("POST", "/products", op_class="write", json={"x": 1}, idempotency_key="k-1")
    assert resp.status_code == 200 and len(applied) == 3  # with a key it is safe to send again
    script.append(status)
    assert http.request("PUT", "/orders/cancel/1", op_class="write", json={}).status_code == 200


@pytest.mark.parametrize("status", [429, 503])
def test_a_post_without_key_refused_as_not_handled_is_retried(server, status: int) -> None:
    url, script, applied = server
    http = HttpClient(url, sleep=lambda s: None)
    script.append(status)
    resp = http.request("POST", "/packages/create", op_class="write", json={"remote_id": "conn-1"})
    assert resp.status_code == 200 and len(applied) == 2
