"""Contract tests: the EcomLinx client against the EcomLinx sandbox (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connector.http import HttpClient
from connector.marketplaces.ecomlinx import PLUGIN
from connector.marketplaces.ecomlinx.client import EcomLinxClient
from connector.marketplaces.ecomlinx.errors import BadRequest, Conflict, Forbidden, NotFound, RateLimited, Unauthorized
from connector.marketplaces.ecomlinx.sandbox import PRO_KEY, SCALE_KEY, create_sandbox, sign
from connector.marketplaces.ecomlinx.webhooks import EventStore, WebhookReceiver

pytestmark = pytest.mark.sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator:
    server = create_sandbox(port=0, db_path=str(tmp_path / "ecomlinx.sqlite")).start()
    try:
        yield server
    finally:
        server.stop()


def client_for(server, key: str = SCALE_KEY, *, retries: int = 0) -> EcomLinxClient:
    http = HttpClient(server.api_url, auth=lambda: {"Authorization": f"Bearer {key}"}, max_retries=retries)
    return EcomLinxClient(http)


def seed_catalogue(server, n: int = 5) -> list[dict]:
    return server.seed_products([{"sku": f"SKU-{i}", "name": f"Product {i}", "price": 100 + i, "stock": 20 + i,
                                  "channels": ["amazon_in", "flipkart"] if i % 2 else ["shopify"]}
                                 for i in range(n)])


def test_products_are_paged_and_filtered(sandbox) -> None:
    seed_catalogue(sandbox, 5)
    client = client_for(sandbox)
    first = client.list_products(page=1, limit=2)
    assert first["meta"] == {"total": 5, "page": 1, "limit": 2}
    assert [p["sku"] for p in first["data"]] == ["SKU-0", "SKU-1"]
    assert set(first["data"][0]) == {"id", "sku", "name", "status", "price", "stock", "health_score", "channels",
                                     "updated_at"}
    client.page_limit = 2
    assert [p["sku"] for p in client.iter_products()] == [f"SKU-{i}" for i in range(5)]
    assert [p["sku"] for p in client.iter_products(channel="flipkart")] == ["SKU-1", "SKU-3"]
    assert [p["sku"] for p in client.iter_products(q="sku-4")] == ["SKU-4"]
    assert client.list_products(status="draft")["data"] == []
    default = requests.get(f"{sandbox.api_url}/products", headers={"Authorization": f"Bearer {SCALE_KEY}"},
                           timeout=5).json()
    assert default["meta"]["limit"] == 20  # documented default


def test_errors_come_in_the_envelope_and_become_typed_errors(sandbox) -> None:
    client = client_for(sandbox)
    with pytest.raises(NotFound) as missing:
        client.get_product("prod_NOPE")
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert "prod_NOPE" in missing.value.message
    raw = requests.get(f"{sandbox.api_url}/products/prod_NOPE", headers={"Authorization": f"Bearer {SCALE_KEY}"},
                       timeout=5)
    assert raw.json() == {"error": {"code": "not_found", "message": "Product prod_NOPE does not exist.",
                                    "status": 404}}
    with pytest.raises(BadRequest) as bad:
        client.list_products(limit=101)
    assert bad.value.code == "bad_request"
    with pytest.raises(BadRequest):
        client.list_products(status="sold_out")
    with pytest.raises(Unauthorized):
        client_for(sandbox, key="elx_live_sk_short").list_products()
    no_key = requests.get(f"{sandbox.api_url}/products", timeout=5)
    assert no_key.status_code == 401 and no_key.json()["error"]["code"] == "unauthorized"


def test_get_and_patch_a_product(sandbox) -> None:
    [doc] = sandbox.seed_products([{"sku": "BLUE-TEE-M", "name": "Tee", "price": 899, "stock": 143,
                                    "cogs": 280}])
    client = client_for(sandbox)
    got = client.get_product(doc["id"])
    assert got["sku"] == "BLUE-TEE-M" and got["cogs"] == 280 and set(got["channel_statuses"]) == {
        "amazon_in", "flipkart", "shopify"}
    updated = client.update_product(doc["id"], {"price": 950, "name": "Premium Tee", "status": "draft"})
    assert (updated["price"], updated["name"], updated["status"], updated["stock"]) == (950, "Premium Tee", "draft",
                                                                                         143)
    for bad in ({"price": -1}, {"status": "suppressed"}, {"colour": "blue"}, {"price": True}, {}):
        with pytest.raises(BadRequest):
            client.update_product(doc["id"], bad)
    with pytest.raises(NotFound):
        client.update_product("prod_GONE", {"price": 1})


def test_inventory_is_set_absolutely_with_allocations(sandbox) -> None:
    sandbox.seed_products([{"sku": "BLUE-TEE-M", "stock": 143, "allocations": {"amazon_in": 60, "flipkart": 50}}])
    client = client_for(sandbox)
    answer = client.set_inventory("BLUE-TEE-M", 40, {"amazon_in": 20, "flipkart": 15})
    assert answer["total_stock"] == 40 and answer["allocations"] == {"amazon_in": 20, "flipkart": 15}
    again = client.set_inventory("BLUE-TEE-M", 40, {"amazon_in": 20, "flipkart": 15})  # absolute: a retry is safe
    assert again["total_stock"] == 40
    shrunk = client.set_inventory("BLUE-TEE-M", 25)  # allocations kept, cut down in order to fit
    assert shrunk["allocations"] == {"amazon_in": 20, "flipkart": 5}
    with pytest.raises(BadRequest, match="more than the total"):
        client.set_inventory("BLUE-TEE-M", 10, {"amazon_in": 11})
    with pytest.raises(BadRequest, match="not a connected channel"):
        client.set_inventory("BLUE-TEE-M", 10, {"ebay": 1})
    with pytest.raises(NotFound):
        client.set_inventory("NO-SUCH-SKU", 1)
    both = requests.patch(f"{sandbox.api_url}/inventory/BLUE-TEE-M", json={"quantity": 1, "adjust": 1},
                          headers={"Authorization": f"Bearer {SCALE_KEY}"}, timeout=5)
    assert both.status_code == 400
    inventory = client.list_inventory(channel="amazon_in")
    assert inventory["data"][0]["allocations"] == {"amazon_in": 20}
    assert inventory["summary"]["total_units"] == 25


def test_orders_are_listed_newest_first_and_shipped_with_awb(sandbox) -> None:
    sandbox.seed({"orders": [
        {"id": "ord_OLD", "channel": "flipkart", "status": "new", "created_at": "2026-04-01T07:00:00Z"},
        {"id": "ord_8FZ2K", "channel": "amazon_in", "status": "processing", "created_at": "2026-04-17T07:45:00Z",
         "items": [{"sku": "BLUE-TEE-M", "qty": 1, "price": 899}]},
        {"id": "ord_DONE", "channel": "amazon_in", "status": "delivered", "created_at": "2026-04-10T07:00:00Z"},
    ]})
    client = client_for(sandbox)
    assert [o["id"] for o in client.iter_orders()] == ["ord_8FZ2K", "ord_DONE", "ord_OLD"]
    assert [o["id"] for o in client.iter_orders(channel="amazon_in", since="2026-04-15")] == ["ord_8FZ2K"]
    assert client.list_orders(status="new")["meta"]["total"] == 1
    shipped = client.update_order("ord_8FZ2K", "shipped", awb="161234567890", courier="Delhivery")
    assert (shipped["status"], shipped["awb"], shipped["courier"]) == ("shipped", "161234567890", "Delhivery")
    with pytest.raises(Conflict):
        client.update_order("ord_DONE", "cancelled")
    with pytest.raises(BadRequest):
        client.update_order("ord_OLD", "teleported")
    with pytest.raises(NotFound):
        client.update_order("ord_NONE", "ready")


def test_channels_and_sync_trigger(sandbox) -> None:
    client = client_for(sandbox)
    assert [c["id"] for c in client.list_channels()] == ["amazon_in", "flipkart", "shopify"]
    job = client.trigger_channel_sync("amazon_in")
    assert job["channel"] == "amazon_in" and job["status"] == "queued" and job["sync_id"].startswith("sync_")
    assert client.list_channels()[0]["last_synced"] is not None
    with pytest.raises(NotFound):
        client.trigger_channel_sync("ebay_in")


def test_pro_plan_keys_read_but_never_write(sandbox) -> None:
    [doc] = sandbox.seed_products([{"sku": "A-1", "price": 10, "stock": 1}])
    pro = client_for(sandbox, key=PRO_KEY)
    assert pro.list_products()["meta"]["total"] == 1
    for write in (lambda: pro.update_product(doc["id"], {"price": 11}), lambda: pro.set_inventory("A-1", 5),
                  lambda: pro.register_webhook("https://example.com/h", ["order.new"])):
        with pytest.raises(Forbidden) as refused:
            write()
        assert refused.value.code == "forbidden" and refused.value.status == 403
    assert client_for(sandbox).get_product(doc["id"])["price"] == 10


def test_rate_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    with create_sandbox(plan_limits={"scale": (3, 5)}, second_seconds=0.5, minute_seconds=2.0) as server:
        url, headers = f"{server.api_url}/channels", {"Authorization": f"Bearer {SCALE_KEY}"}
        statuses = [requests.get(url, headers=headers, timeout=5) for _ in range(4)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]  # 3 per (half) second
        refused = statuses[-1]
        assert refused.json()["error"]["code"] == "rate_limited"
        assert refused.headers["Retry-After"] == "1"
        time.sleep(0.6)
        more = [requests.get(url, headers=headers, timeout=5).status_code for _ in range(3)]
        assert more == [200, 200, 429]  # the per-"minute" window (5) is now full
        other_key = requests.get(url, headers={"Authorization": "Bearer elx_test_sk_another000key"}, timeout=5)
        assert other_key.status_code == 200  # limits are per API key
        with pytest.raises(RateLimited):
            client_for(server).list_channels()  # no retries left: the 429 becomes a typed error
        patient = client_for(server, retries=3)
        assert len(patient.list_channels()) == 3  # honours Retry-After, then gets through
        assert patient.http.stats.throttled >= 1 and patient.http.stats.waited_seconds >= 1.0


def test_webhooks_register_list_delete_and_signed_delivery(sandbox, tmp_path: Path) -> None:
    store = EventStore(tmp_path / "state.sqlite")
    with WebhookReceiver("whsec_test_secret", store) as receiver:
        client = client_for(sandbox)
        hook = client.register_webhook(receiver.url, ["order.shipped", "inventory.out"], "whsec_test_secret")
        assert hook["id"].startswith("wh_") and hook["status"] == "active" and "test_secret" not in hook["secret"]
        assert [h["id"] for h in client.list_webhooks()] == [hook["id"]]
        assert "secret" not in client.list_webhooks()[0]
        with pytest.raises(Conflict):
            client.register_webhook(receiver.url, ["order.new"], "x")
        with pytest.raises(BadRequest):
            client.register_webhook("http://example.com/hook", ["order.new"])  # plain HTTP off loopback
        with pytest.raises(BadRequest):
            client.register_webhook("https://example.com/hook", ["order.teleported"])
        # a real change on the sandbox fires a real, signed POST to the receiver
        sandbox.seed({"orders": [{"id": "ord_1", "status": "ready"}], "products": [{"sku": "Z-1", "stock": 2}]})
        client.update_order("ord_1", "shipped", awb="AWB1", courier="Delhivery")
        client.set_inventory("Z-1", 0)
        assert sorted(e["event"] for e in store.events()) == ["inventory.out", "order.shipped"]
        delivery = sandbox.deliveries()[0]
        assert delivery["status"] == 200 and delivery["signed"] == 1
        body = delivery["body"].encode()
        assert sign("whsec_test_secret", body).startswith("sha256=")
        assert client.delete_webhook(hook["id"]) == {"deleted": True, "id": hook["id"]}
        assert client.list_webhooks() == []
        with pytest.raises(NotFound):
            client.delete_webhook(hook["id"])
    store.close()


def test_plugin_budget_keeps_under_both_documented_limits() -> None:
    from connector.marketplaces.ecomlinx import PLANS, plan_limits

    scale = plan_limits(PLANS["scale"])["api"]
    pro = plan_limits(PLANS["pro"])["api"]
    assert (scale.per_window, scale.window_seconds) == (100, 6.0)  # ≤100 in any second, ≤1,000 in any minute
    assert (pro.per_window, pro.window_seconds) == (20, 6.0)
    fast = plan_limits({"per_second": 100, "per_minute": 10_000})["api"]
    assert fast.window_seconds == 1.0  # never a window shorter than the per-second limit allows
    assert PLUGIN.limits == {"api": scale}
