"""EcomLinx order webhooks, verified by the receiver as before, become jobs: a stock push (and an order pull once
`connector orders` exists) for the profile's ecomlinx target; a redelivery or a burst queues nothing more."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from connector.marketplaces.ecomlinx.webhooks import EventStore, WebhookReceiver
from connector.service.kinds import kinds
from connector.service.queue import connection
from connector.service.webhooks import enqueue_handler, kinds_for
from tests.service_support import csv_catalogue, migrated, profile
from tests.test_ecomlinx_webhooks import EVENT, SECRET, signed


def queued(url: str) -> list[tuple[str, str]]:
    with connection(url) as conn:
        return [tuple(r) for r in conn.execute("SELECT args->>'target', args->>'kind' FROM procrastinate_jobs"
                                               " WHERE status = 'todo' ORDER BY id").fetchall()]


def test_order_events_queue_a_stock_push_once(pg_url: str, tmp_path: Path) -> None:
    url = migrated(pg_url)
    prof = profile(tmp_path / "shop.yaml", "shop", csv_catalogue(tmp_path / "s.csv", {"A": 1}), pg_url,
                   {"ecomlinx": {"account": "elx"}})
    store = EventStore(tmp_path / "events.sqlite")
    with WebhookReceiver(SECRET, store, handler=enqueue_handler(url, prof, "ecomlinx")) as server:
        for n in range(3):  # a burst of three orders
            body = json.dumps({**EVENT, "data": {**EVENT["data"], "id": f"ord_{n}"}}).encode()
            assert requests.post(server.url, data=body, headers=signed(body), timeout=5).status_code == 200
        forged = json.dumps({**EVENT, "data": {"id": "ord_x"}}).encode()
        assert requests.post(server.url, data=forged, headers=signed(forged, "wrong"), timeout=5).status_code == 401
    store.close()
    expected = [("ecomlinx", "orders")] if "orders" in kinds() else []
    assert queued(url) == [*expected, ("ecomlinx", "stock")]


def test_which_events_queue_which_jobs() -> None:
    assert "stock" in kinds_for("order.new") and kinds_for("inventory.low") == ["stock"]
    assert kinds_for("sync.completed") == []
