"""The EcomLinx client against recorded traffic (cassettes/ecomlinx), replayed with record mode ``none``.

Re-record against the sandbox (seeded by the tests themselves):

    rm -f cassettes/ecomlinx/*.yaml
    CONNECTOR_RECORD=1 .venv/bin/pytest -p no:cacheprovider tests/test_ecomlinx_client_cassettes.py

Against a real Scale-plan test account instead, add ``ECOMLINX_RECORD_URL=https://api.ecomlinx.com/v1`` and
``ECOMLINX_API_KEY=elx_...`` (the account must hold the products the tests use).  Authorization headers are
scrubbed from cassettes (tests/vcr_support.py); no webhook secret is ever sent by these tests.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from connector.http import HttpClient
from connector.marketplaces.ecomlinx import PLUGIN
from connector.marketplaces.ecomlinx.client import EcomLinxClient
from connector.marketplaces.ecomlinx.errors import BadRequest, NotFound
from tests.vcr_support import RECORDING, make_vcr

CANONICAL_BASE = "https://api.ecomlinx.com/v1"
CATALOGUE = [
    {"id": "prod_01HX4", "sku": "BLUE-TEE-M", "name": "Premium Cotton T-Shirt – Blue / M", "price": 899,
     "stock": 143, "cogs": 280, "allocations": {"amazon_in": 60, "flipkart": 50, "shopify": 33}},
    {"id": "prod_01HX5", "sku": "BLUE-TEE-L", "name": "Premium Cotton T-Shirt – Blue / L", "price": 899,
     "stock": 12, "channels": ["amazon_in", "shopify"]},
    {"id": "prod_01HX6", "sku": "RED-MUG", "name": "Red mug", "price": 250, "stock": 4, "channels": ["flipkart"]},
    {"id": "prod_01HX7", "sku": "TEA-500", "name": "Green tea 500 g", "price": 350, "stock": 40,
     "channels": ["amazon_in"]},
]
ORDERS = [
    {"id": "ord_8FZ2K", "channel": "amazon_in", "channel_order_id": "402-1234567-1234567", "status": "processing",
     "items": [{"sku": "BLUE-TEE-M", "qty": 1, "price": 899}], "created_at": "2026-04-17T07:45:00Z"},
    {"id": "ord_7AB1C", "channel": "flipkart", "status": "new", "items": [{"sku": "RED-MUG", "qty": 2, "price": 250}],
     "created_at": "2026-04-16T10:00:00Z"},
]


class Recorder:
    """Sleeps for real while recording; while replaying, only remembers how long it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if RECORDING:
            time.sleep(seconds)


@pytest.fixture
def ecomlinx(request: pytest.FixtureRequest) -> Iterator[tuple[EcomLinxClient, Any, Recorder]]:
    limits = getattr(request, "param", None)
    server, base, key = None, CANONICAL_BASE, "elx_test_sk_replayonly0000"
    if RECORDING:
        base = os.environ.get("ECOMLINX_RECORD_URL", "")
        key = os.environ.get("ECOMLINX_API_KEY", PLUGIN.sandbox_key)
        if not base:
            from connector.marketplaces.ecomlinx.sandbox import create_sandbox

            server = create_sandbox(port=0, **(limits or {})).start()
            server.seed({"products": CATALOGUE, "orders": ORDERS})
            base = server.api_url
    sleeper = Recorder()
    http = HttpClient(base, auth=lambda: {"Authorization": f"Bearer {key}"}, max_retries=3, sleep=sleeper)
    v = make_vcr("ecomlinx", rewrite_base=(base, CANONICAL_BASE))
    try:
        yield EcomLinxClient(http, page_limit=2), v, sleeper
    finally:
        http.close()
        if server is not None:
            server.stop()


def test_products_paged_get_and_patch(ecomlinx) -> None:
    client, v, _ = ecomlinx
    with v.use_cassette("products.yaml") as cassette:
        every = list(client.iter_products())
        on_amazon = list(client.iter_products(channel="amazon_in"))
        tee = client.get_product("prod_01HX4")
        patched = client.update_product("prod_01HX4", {"price": 950, "status": "live"})
        with pytest.raises(NotFound) as gone:
            client.update_product("prod_NOPE", {"price": 1})
    assert [p["sku"] for p in every] == ["BLUE-TEE-M", "BLUE-TEE-L", "RED-MUG", "TEA-500"]
    assert [p["sku"] for p in on_amazon] == ["BLUE-TEE-M", "BLUE-TEE-L", "TEA-500"]
    assert tee["cogs"] == 280 and "amazon_in" in tee["channel_statuses"]
    assert patched["price"] == 950 and patched["stock"] == 143
    assert (gone.value.status, gone.value.code) == (404, "not_found")
    pages = [r.uri for r in cassette.requests if r.method == "GET" and r.uri.split("?")[0].endswith("/products")]
    # every product: 2 full pages and the empty one that ends the listing (meta.total is checked, not trusted to end
    # it); on Amazon: a full page and a short one
    assert len(pages) == 5 and all("limit=2" in uri for uri in pages)
    assert all("authorization" not in {k.lower() for k in r.headers} for r in cassette.requests)
    assert RECORDING or cassette.all_played


def test_inventory_absolute_with_allocations_and_orders(ecomlinx) -> None:
    client, v, _ = ecomlinx
    with v.use_cassette("inventory_orders.yaml") as cassette:
        stock = client.set_inventory("BLUE-TEE-M", 120, {"amazon_in": 60, "flipkart": 40})
        with pytest.raises(BadRequest) as too_much:
            client.set_inventory("BLUE-TEE-M", 10, {"amazon_in": 11})
        low = client.list_inventory(status="critical")
        orders = list(client.iter_orders(channel="amazon_in"))
        shipped = client.update_order("ord_8FZ2K", "shipped", awb="161234567890", courier="Delhivery")
    assert stock == {**stock, "sku": "BLUE-TEE-M", "total_stock": 120, "allocations": {"amazon_in": 60, "flipkart": 40}}
    assert too_much.value.code == "bad_request"
    assert [i["sku"] for i in low["data"]] == [] and low["summary"]["total_units"] == 120 + 12 + 4 + 40
    assert [o["id"] for o in orders] == ["ord_8FZ2K"]
    assert (shipped["status"], shipped["awb"], shipped["courier"]) == ("shipped", "161234567890", "Delhivery")
    bodies = [r.body for r in cassette.requests if r.method == "PATCH"]
    assert all(b"adjust" not in (b or b"") for b in bodies)  # stock is only ever set absolutely


def test_channels_and_webhooks(ecomlinx) -> None:
    client, v, _ = ecomlinx
    with v.use_cassette("channels_webhooks.yaml"):
        channels = client.list_channels()
        job = client.trigger_channel_sync("amazon_in")
        hook = client.register_webhook("https://yourapp.example/hooks/ecomlinx", ["order.new", "inventory.low"])
        listed = client.list_webhooks()
        deleted = client.delete_webhook(hook["id"])
    assert [c["id"] for c in channels] == ["amazon_in", "flipkart", "shopify"]
    assert job["channel"] == "amazon_in" and job["status"] == "queued"
    assert [h["id"] for h in listed] == [hook["id"]] and listed[0]["events"] == ["order.new", "inventory.low"]
    assert deleted == {"deleted": True, "id": hook["id"]}


@pytest.mark.parametrize("ecomlinx", [{"plan_limits": {"scale": (None, 2)}, "minute_seconds": 1.0}],
                         indirect=True)
def test_429_is_retried_after_retry_after(ecomlinx) -> None:
    client, v, sleeper = ecomlinx
    with v.use_cassette("rate_limited.yaml") as cassette:
        answers = [len(client.list_channels()) for _ in range(3)]
    assert answers == [3, 3, 3]
    statuses = [r["status"]["code"] for r in cassette.responses]
    assert 429 in statuses
    throttled = [r for r in cassette.responses if r["status"]["code"] == 429]
    retry_after = float(throttled[0]["headers"]["Retry-After"][0])
    assert client.http.stats.throttled == len(throttled)
    assert min(sleeper.waits) >= retry_after  # never sooner than EcomLinx asked
