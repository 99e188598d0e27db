"""The EcomLinx webhook receiver: signatures, size limit, exactly-once storage, and the CLI around it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connector.cli import main
from connector.marketplaces.ecomlinx.sandbox import SCALE_KEY, create_sandbox
from connector.marketplaces.ecomlinx.webhooks import EventStore, WebhookReceiver, event_key, verify_signature

SECRET = "whsec_receiver_test_0001"
EVENT = {"event": "order.new", "created_at": "2026-04-17T09:45:00Z",
         "data": {"id": "ord_8FZ2K", "channel": "amazon_in", "total": 899, "status": "new"}}


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-EcomLinx-Signature": f"sha256={digest}", "Content-Type": "application/json"}


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[WebhookReceiver, EventStore]]:
    store = EventStore(tmp_path / "state.sqlite")
    processed: list[dict] = []
    server = WebhookReceiver(SECRET, store, max_body_bytes=4096, handler=processed.append).start()
    server.processed = processed  # type: ignore[attr-defined]
    try:
        yield server, store
    finally:
        server.stop()
        store.close()


def post(server: WebhookReceiver, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(server.url, data=body, headers=headers, timeout=5)


def test_valid_signature_is_accepted_and_stored(receiver) -> None:
    server, store = receiver
    body = json.dumps(EVENT).encode()
    resp = post(server, body, signed(body))
    assert resp.status_code == 200 and resp.json() == {"ok": True, "duplicate": False}
    [stored] = store.events()
    assert stored["event"] == "order.new" and json.loads(stored["body"]) == EVENT
    assert stored["processed_at"] is not None and server.processed == [EVENT]


def test_tampered_body_is_refused(receiver) -> None:
    server, store = receiver
    body = json.dumps(EVENT).encode()
    headers = signed(body)
    tampered = body.replace(b'"total": 899', b'"total": 1')
    assert tampered != body
    resp = post(server, tampered, headers)
    assert resp.status_code == 401
    assert store.events() == [] and server.processed == []


def test_wrong_secret_is_refused(receiver) -> None:
    server, store = receiver
    body = json.dumps(EVENT).encode()
    assert post(server, body, signed(body, secret="whsec_someone_else")).status_code == 401
    assert store.events() == []


def test_missing_or_malformed_signature_header_is_refused(receiver) -> None:
    server, store = receiver
    body = json.dumps(EVENT).encode()
    assert post(server, body, {"Content-Type": "application/json"}).status_code == 401
    assert post(server, body, {"X-EcomLinx-Signature": "sha256="}).status_code == 401
    assert post(server, body, {"X-EcomLinx-Signature": "sha256=zz-not-hex"}).status_code == 401
    assert store.events() == []


def test_replayed_event_is_stored_and_processed_once(receiver) -> None:
    server, store = receiver
    body = json.dumps(EVENT).encode()
    first = post(server, body, signed(body))
    again = post(server, body, signed(body))
    # the same event re-serialised (other key order, spacing) is still the same event
    respaced = json.dumps(dict(reversed(list(EVENT.items()))), indent=1).encode()
    third = post(server, respaced, signed(respaced))
    assert [r.json()["duplicate"] for r in (first, again, third)] == [False, True, True]
    [stored] = store.events()
    assert stored["deliveries"] == 3
    assert server.processed == [EVENT]
    other = dict(EVENT, created_at="2026-04-17T09:46:00Z")
    other_body = json.dumps(other).encode()
    assert post(server, other_body, signed(other_body)).json()["duplicate"] is False
    assert len(store.events()) == 2


def test_oversized_body_is_refused_unread(receiver) -> None:
    server, store = receiver
    body = json.dumps({**EVENT, "data": {"blob": "x" * 5000}}).encode()
    resp = post(server, body, signed(body))
    assert resp.status_code == 413
    assert store.events() == []


def test_signed_body_that_is_not_an_event_is_a_400(receiver) -> None:
    server, _store = receiver
    for body in (b"not json", b"[1, 2]", b'{"data": {}}'):
        assert post(server, body, signed(body)).status_code == 400


def test_a_failing_handler_leaves_the_event_for_a_redelivery(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "state.sqlite")
    calls: list[dict] = []

    def flaky(event: dict) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("database down")

    with WebhookReceiver(SECRET, store, handler=flaky) as server:
        body = json.dumps(EVENT).encode()
        assert post(server, body, signed(body)).status_code == 500
        assert post(server, body, signed(body)).json() == {"ok": True, "duplicate": False}
        assert post(server, body, signed(body)).json() == {"ok": True, "duplicate": True}
    assert len(calls) == 2 and len(store.events()) == 1
    store.close()


def test_verify_signature_accepts_bare_hex_and_rejects_empty_secret() -> None:
    body = b'{"event":"sync.completed"}'
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert verify_signature(SECRET, body, digest)
    assert verify_signature(SECRET, body, "SHA256=" + digest.upper())
    assert not verify_signature("", body, digest)
    assert event_key({"id": "evt_1", "event": "x"}) == "id:evt_1"


@pytest.mark.sandbox
def test_cli_registers_a_webhook_and_the_sandbox_redelivery_is_stored_once(tmp_path: Path, monkeypatch,
                                                                            capsys) -> None:
    monkeypatch.setenv("ECOMLINX_API_KEY", SCALE_KEY)
    monkeypatch.setenv("ECOMLINX_WEBHOOK_SECRET", SECRET)
    store = EventStore(tmp_path / "state.sqlite")
    with create_sandbox() as sandbox, WebhookReceiver(SECRET, store) as server:
        base = ["webhooks"]
        assert main([*base, "register", "--base-url", sandbox.api_url, "--url", server.url,
                     "--events", "order.new,inventory.low", "--json"]) == 0
        hook = json.loads(capsys.readouterr().out)
        assert hook["events"] == ["order.new", "inventory.low"] and SECRET not in json.dumps(hook)
        assert main([*base, "list", "--base-url", sandbox.api_url]) == 0
        assert hook["id"] in capsys.readouterr().out
        # EcomLinx delivers the same order.new twice: stored once
        resp = requests.post(f"{sandbox.url}/__sandbox/webhooks/emit",
                             json={"event": "order.new", "data": {"id": "ord_9", "total": 899}, "times": 2}, timeout=10)
        assert [d["status"] for d in resp.json()["deliveries"]] == [200, 200]
        [stored] = store.events()
        assert stored["deliveries"] == 2 and json.loads(stored["body"])["data"]["id"] == "ord_9"
        assert main([*base, "delete", "--base-url", sandbox.api_url, hook["id"]]) == 0
        assert main([*base, "delete", "--base-url", sandbox.api_url, hook["id"]]) == 2  # 404: a clear error
        assert "not_found" in capsys.readouterr().err
    store.close()


def test_cli_refuses_to_register_without_a_secret(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ECOMLINX_API_KEY", SCALE_KEY)
    monkeypatch.delenv("ECOMLINX_WEBHOOK_SECRET", raising=False)
    code = main(["webhooks", "register", "--base-url", "http://127.0.0.1:9/v1", "--url", "https://x.example/h",
                 "--events", "order.new"])
    assert code == 2 and "ECOMLINX_WEBHOOK_SECRET" in capsys.readouterr().err
    assert main(["webhooks", "serve", "--port", "0"]) == 2
