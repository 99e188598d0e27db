"""The webhook receiver against hostile senders, over real sockets on 127.0.0.1: only JSON is accepted, a
sender that trickles its request is dropped, and connections beyond the bound are refused with 503.

Every wait here is bounded: a receiver that never drops or refuses fails the test instead of hanging it."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from connector.marketplaces.ecomlinx.webhooks import EventStore, WebhookReceiver, is_json
from tests.test_ecomlinx_webhooks import EVENT, SECRET, signed

READ_TIMEOUT, REQUEST_TIMEOUT = 0.5, 1.0
TRICKLE_PAUSE, MAX_TRICKLES = 0.1, 100  # 10 s of trickling at most: ten times the receiver's bound


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    s = EventStore(tmp_path / "state.sqlite")
    yield s
    s.close()


@pytest.fixture
def receiver(store: EventStore) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET, store, read_timeout=READ_TIMEOUT, request_timeout=REQUEST_TIMEOUT) as server:
        yield server


@pytest.fixture
def bounded(store: EventStore) -> Iterator[WebhookReceiver]:
    """Two connections at most; timeouts long enough that the connections holding them are not dropped before
    the test is done with them."""
    with WebhookReceiver(SECRET, store, max_connections=2, read_timeout=10, request_timeout=20) as server:
        yield server


def connect(server: WebhookReceiver) -> socket.socket:
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=5)
    return sock


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the receiver has closed the connection: the socket turns readable (EOF or reset); the
    receiver answers nothing to a request that has not fully arrived."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def read_to_end(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def request_head(server: WebhookReceiver, body: bytes, content_type: str = "application/json") -> bytes:
    headers = signed(body)
    return (f"POST {urlsplit(server.url).path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"X-EcomLinx-Signature: {headers['X-EcomLinx-Signature']}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()


def test_only_json_is_accepted(receiver: WebhookReceiver, store: EventStore) -> None:
    body = json.dumps(EVENT).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        resp = requests.post(receiver.url, data=body, headers={**signed(body), "Content-Type": content_type},
                             timeout=5)
        assert resp.status_code == 415, content_type
    without_type = {k: v for k, v in signed(body).items() if k != "Content-Type"}
    assert requests.post(receiver.url, data=body, headers=without_type, timeout=5).status_code == 415
    assert store.events() == []
    resp = requests.post(receiver.url, data=body,
                         headers={**signed(body), "Content-Type": "application/json; charset=utf-8"}, timeout=5)
    assert resp.status_code == 200 and len(store.events()) == 1
    assert is_json("application/cloudevents+json") and not is_json("text/json-ish")


@pytest.mark.parametrize("trickled", ["headers", "body"])
def test_a_sender_trickling_its_request_is_dropped(receiver: WebhookReceiver, store: EventStore,
                                                   trickled: str) -> None:
    """Each byte comes well within the read timeout, so only the bound on the whole request can end it."""
    body = json.dumps(EVENT).encode()
    head = request_head(receiver, body)
    sock = connect(receiver)
    try:
        if trickled == "headers":
            sock.sendall(head[:20])
            rest = head[20:] + body
        else:
            sock.sendall(head)
            rest = body
        dropped = False
        for byte in rest[:MAX_TRICKLES]:
            time.sleep(TRICKLE_PAUSE)
            if closed_by_peer(sock):
                dropped = True
                break
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                dropped = True
                break
        assert dropped, "the receiver kept a trickling sender's connection open"
    finally:
        sock.close()
    assert store.events() == [] and receiver.counts["dropped"] >= 1


def test_a_silent_connection_is_dropped(receiver: WebhookReceiver) -> None:
    sock = connect(receiver)
    try:
        assert sock.recv(4096) == b""  # closed by the receiver (the socket itself gives up after 5 s)
    finally:
        sock.close()


def test_connections_beyond_the_bound_are_refused_then_served_again(bounded: WebhookReceiver,
                                                                    store: EventStore) -> None:
    body = json.dumps(EVENT).encode()
    holders = [connect(bounded) for _ in range(2)]  # the receiver allows 2: both hold a slot
    try:
        for sock in holders:
            sock.sendall(b"POST ")
        extra = connect(bounded)
        try:
            answer = read_to_end(extra)
        finally:
            extra.close()
        assert answer.startswith(b"HTTP/1.1 503 ") and b"too many connections" in answer
        assert bounded.counts["busy"] == 1
    finally:
        for sock in holders:
            sock.close()
    # the slots come back once the holders are gone (the receiver notices their close on its next read)
    for _ in range(50):
        resp = requests.post(bounded.url, data=body, headers=signed(body), timeout=5)
        if resp.status_code != 503:
            break
        time.sleep(0.1)
    assert resp.status_code == 200 and len(store.events()) == 1


def test_serve_refuses_bounds_that_are_not_positive(monkeypatch, capsys) -> None:
    from connector.cli import main

    monkeypatch.setenv("ECOMLINX_WEBHOOK_SECRET", SECRET)
    assert main(["webhooks", "serve", "--port", "0", "--max-connections", "0"]) == 2
    assert "--max-connections" in capsys.readouterr().err
    assert main(["webhooks", "serve", "--port", "0", "--request-timeout", "0"]) == 2
    assert "--request-timeout" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["webhooks", "serve", "--port", "99999"], "from 0 to 65535"),
    (["webhooks", "serve", "--path", "nopath"], "--path must start with '/'"),
    (["sandbox", "elebne", "--port", "70000"], "from 0 to 65535"),
])
def test_a_bad_port_or_path_is_a_usage_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str], argv: list[str],
                                                             said: str) -> None:
    from connector.cli import main

    monkeypatch.setenv("ECOMLINX_WEBHOOK_SECRET", "whsec_testtesttest1234")
    if argv[0] == "webhooks":
        argv = [*argv, "--state", str(tmp_path / "s.sqlite")]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage error
        code = exc.code
    assert code == 2
    assert said in " ".join(capsys.readouterr().err.split())
