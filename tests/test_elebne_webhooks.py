"""Elebne webhooks (scheme inferred, every part a target setting): the shared receiver verifies them, refuses
unsigned, badly signed, id-less and replayed deliveries, stores each delivery id once; end to end, an order
simulated on the Elebne sandbox is delivered signed to the receiver, which queues an orders job and a stock job
in PostgreSQL, once, and a worker brings the order into the orders workbook."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.cli import main
from connector.marketplaces.elebne.webhooks import EventStore, job_kinds, webhook_settings
from connector.service.queue import connection
from connector.service.webhooks import enqueue_handler
from connector.webhooks.receiver import WebhookReceiver
from connector.webhooks.signature import sign
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.service_support import migrated, profile, runs

SECRET = "whsec_elebne_receiver_0001"


def event(**fields: Any) -> dict[str, Any]:
    return {"id": "evt_0001", "event": "order.created", "createdAt": datetime.now(UTC).isoformat(),
            "data": {"id": "ord_1", "status": "PENDING"}, **fields}


def post(server: WebhookReceiver, body: dict[str, Any] | bytes, secret: str | None = SECRET,
         header: str = "X-Elebne-Signature", algorithm: str = "sha256") -> requests.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[header] = sign(secret, raw, algorithm, f"{algorithm}=")
    return requests.post(server.url, data=raw, headers=headers, timeout=5)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[WebhookReceiver]:
    store = EventStore(tmp_path / "state.sqlite")
    processed: list[dict[str, Any]] = []
    with WebhookReceiver(SECRET, store, handler=processed.append) as server:
        server.processed = processed  # type: ignore[attr-defined]
        yield server
    store.close()


def test_a_signed_delivery_is_accepted_once_per_delivery_id(receiver: WebhookReceiver) -> None:
    first = event()
    assert receiver.url.endswith("/hooks/elebne")
    assert post(receiver, first).json() == {"ok": True, "duplicate": False}
    again = post(receiver, {**first, "createdAt": datetime.now(UTC).isoformat()})  # redelivered later
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert [e["id"] for e in receiver.processed] == ["evt_0001"]  # type: ignore[attr-defined]
    [stored] = receiver.store.events()
    assert stored["event_key"] == "id:evt_0001" and stored["deliveries"] == 2


def test_unsigned_badly_signed_id_less_and_replayed_deliveries_are_refused(receiver: WebhookReceiver) -> None:
    assert post(receiver, event(), secret=None).status_code == 401
    assert post(receiver, event(), secret="whsec_someone_else").status_code == 401
    assert post(receiver, event(), algorithm="sha512").status_code == 401  # not the configured algorithm
    body = json.dumps(event()).encode()
    tampered = body.replace(b"PENDING", b"CANCELLED")
    headers = {"Content-Type": "application/json", "X-Elebne-Signature": sign(SECRET, body)}
    assert requests.post(receiver.url, data=tampered, headers=headers, timeout=5).status_code == 401
    no_id = {k: v for k, v in event().items() if k != "id"}
    assert post(receiver, no_id).status_code == 400
    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    replay = post(receiver, event(id="evt_old", createdAt=old))
    assert replay.status_code == 400 and "old delivery" in replay.json()["error"]
    assert post(receiver, event(id="evt_undated", createdAt="yesterday")).status_code == 400
    assert receiver.store.events() == [] and receiver.processed == []  # type: ignore[attr-defined]


def test_header_algorithm_window_and_event_names_are_settings(tmp_path: Path) -> None:
    settings = webhook_settings({"webhooks": {"signature_header": "X-Shop-Signature", "algorithm": "sha512",
                                              "signature_prefix": "sha512=", "tolerance_seconds": None,
                                              "order_events": ["orders/create"], "stock_events": ["stock/changed"]}})
    store = EventStore(tmp_path / "state.sqlite", settings)
    with WebhookReceiver(SECRET, store) as server:
        old = event(createdAt="2020-01-01T00:00:00Z")
        assert post(server, old).status_code == 401  # the default header is not the configured one
        assert post(server, old, header="X-Shop-Signature", algorithm="sha512").status_code == 200  # no window
    store.close()
    kinds = job_kinds(settings)
    assert kinds("orders/create")[-1] == "stock" and kinds("stock/changed") == ["stock"]
    assert kinds("order.created") == []
    assert job_kinds(webhook_settings())("order.cancelled")[-1] == "stock"


def test_serving_elebne_webhooks_needs_their_secret(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ELEBNE_WEBHOOK_SECRET", raising=False)
    assert main(["webhooks", "serve", "--marketplace", "elebne", "--port", "0"]) == 2
    assert "ELEBNE_WEBHOOK_SECRET" in capsys.readouterr().err


def queued(url: str) -> list[tuple[str, str]]:
    with connection(url) as conn:
        return [tuple(r) for r in conn.execute("SELECT args->>'target', args->>'kind' FROM procrastinate_jobs"
                                               " WHERE status = 'todo' ORDER BY id").fetchall()]


def tea_shop(tmp_path: Path, pg_url: str, handle: SandboxHandle, extra: str = "") -> tuple[Any, Path]:
    """The Elebne sandbox listing TEA-1 (5 in stock), and the profile of a shop (account shop-e) selling it."""
    sandbox = handle.server
    sandbox.seed_products([{"externalId": "TEA-1", "name": "Thé", "price": 500, "quantity": 5}])
    source = tmp_path / "shop.csv"
    source.write_text("SKU,Name,Price,Stock: Main\nTEA-1,Thé,5,5\n", encoding="utf-8")
    return sandbox, profile(tmp_path / "shop.yaml", "shop", source, pg_url,
                            {"elebne": {"account": "shop-e", "base_url": handle.base_url}}, extra=extra)


@pytest.mark.sandbox
def test_an_order_simulated_on_elebne_queues_its_jobs_once_and_a_worker_imports_it(
        pg_url: str, fast_elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    url = migrated(pg_url)
    sandbox, prof = tea_shop(tmp_path, pg_url, fast_elebne_sandbox,
                             extra="orders: {to: workbook, workbook: orders.csv, from: [elebne]}\n")
    settings = webhook_settings()
    store = EventStore(tmp_path / "events.sqlite", settings)
    handler = enqueue_handler(url, prof, "elebne", kinds_of=job_kinds(settings))
    with WebhookReceiver(SECRET, store, handler=handler) as server:
        sandbox.register_webhook(server.url, SECRET)
        placed = requests.post(fast_elebne_sandbox.base_url + "/orders/simulate",
                               json={"items": [{"externalId": "TEA-1", "quantity": 2}]},
                               headers={"Authorization": f"Bearer {ELEBNE_KEY}"}, timeout=10)
        assert placed.status_code == 201, placed.text
        order = placed.json()["data"]
        [delivery] = sandbox.deliveries()
        assert delivery["status"] == 200 and delivery["event"] == "order.created" and delivery["signed"] == 1
        assert queued(url) == [("elebne", "orders"), ("elebne", "stock")]
        # Elebne delivers the same event again (its answer was lost): acknowledged, nothing more queued
        first = json.loads(delivery["body"])
        again = sandbox.emit("order.created", first["data"], 2, event_id=first["id"], created_at=first["createdAt"])
        assert [d["status"] for d in again] == [200, 200]
        # and a delivery signed with another secret is refused
        sandbox.register_webhook(server.url + "?forged", "whsec_not_ours", ["order.updated"])
        sandbox.set_order_status(order["id"], "CONFIRMED")
        assert sandbox.deliveries()[-1]["status"] == 401
    store.close()
    assert queued(url) == [("elebne", "orders"), ("elebne", "stock")]
    assert main(["worker", "--db", url, "--once"]) == 0
    with (tmp_path / "orders.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["Order ID"], r["SKU"]) for r in rows] == [(order["id"], "TEA-1")], rows
    assert [r[2:4] for r in runs(url)] == [("orders", "shop-e"), ("stock", "shop-e")] and all(
        r[5] == 0 for r in runs(url))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _default_sigint() -> None:
    """(in the child, before exec) Ctrl-C's default action: a suite started in the background (``make test &``)
    ignores SIGINT, and a child inherits that, so the receiver would never see the test's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.sandbox
def test_connector_webhooks_serve_for_elebne_uses_the_targets_settings_and_queues_jobs(
        pg_url: str, fast_elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    url = migrated(pg_url)
    sandbox, prof = tea_shop(tmp_path, pg_url, fast_elebne_sandbox)
    # the merchant's Elebne account names its order event differently: a setting of the target
    prof.write_text(prof.read_text(encoding="utf-8").replace(
        f'  elebne: {{account: "shop-e", base_url: "{fast_elebne_sandbox.base_url}"}}',
        f'  elebne:\n    account: shop-e\n    base_url: "{fast_elebne_sandbox.base_url}"\n'
        '    settings: {webhooks: {order_events: [order.updated]}}'), encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "connector.cli", "webhooks", "serve", "--marketplace", "elebne",
                             "--port", str(port), "--state", str(tmp_path / "events.sqlite"),
                             "--enqueue-profile", str(prof), "--db", url],
                            env={**os.environ, "ELEBNE_WEBHOOK_SECRET": SECRET}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, preexec_fn=_default_sigint)
    try:
        hook = f"http://127.0.0.1:{port}/hooks/elebne"
        for _ in range(300):  # bounded: the receiver listens within seconds
            try:
                requests.get(hook, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        sandbox.register_webhook(hook, SECRET)
        order = sandbox.create_order({"items": [{"externalId": "TEA-1", "quantity": 1}]})
        assert sandbox.deliveries()[-1]["status"] == 200
        assert queued(url) == []  # order.created is not an order event of this account
        sandbox.set_order_status(order["id"], "CONFIRMED")
        assert sandbox.deliveries()[-1]["status"] == 200
        assert queued(url) == [("elebne", "orders"), ("elebne", "stock")]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            said = proc.communicate(timeout=30)[0].decode()
        except subprocess.TimeoutExpired:
            proc.kill()  # not left running, holding the port and its database connections
            pytest.fail(f"the receiver did not stop on Ctrl-C: {proc.communicate()[0].decode()}")
    assert "receiving Elebne webhooks" in said and "2 accepted" in said, said
