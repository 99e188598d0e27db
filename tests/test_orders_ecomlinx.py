"""EcomLinx orders against the real sandbox: placed with the sandbox-only control call, read back through the order
reader and ``pull_orders`` (pages to the end, cancellations seen, refresh of older orders), stock taken and given
back, the status machine, and the normalisation to canonical orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from connector.errors import EXIT_FAILED, ConfigError
from connector.http import HttpClient
from connector.marketplaces.ecomlinx import PLUGIN
from connector.marketplaces.ecomlinx.client import EcomLinxClient
from connector.marketplaces.ecomlinx.errors import Conflict
from connector.orders.fields import OrderRecordError
from connector.orders.model import OrderStatus
from connector.orders.reader import PullSettings
from tests.conftest import running_ecomlinx
from tests.orders_support import order_reader, pull

pytestmark = pytest.mark.sandbox
KEY = PLUGIN.sandbox_key
AUTH = {"Authorization": f"Bearer {KEY}"}


def client_for(server) -> EcomLinxClient:
    return EcomLinxClient(HttpClient(server.api_url, auth=lambda: AUTH, max_retries=0))


def stock(server, sku: str) -> int:
    return next(i["total_stock"] for i in client_for(server).list_inventory()["data"] if i["sku"] == sku)


def order_gets(server) -> list[str]:
    return [r["path"] + (f"?{r['query']}" if r["query"] else "") for r in server.requests_log()
            if r["method"] == "GET" and r["path"].startswith("/v1/orders")]


def test_orders_placed_in_the_sandbox_are_pulled_page_after_page(tmp_path: Path) -> None:
    with running_ecomlinx(tmp_path / "ecl.sqlite", listed=["TEE-M", "MUG"]) as server:
        client_for(server).set_inventory("TEE-M", 50)
        client_for(server).set_inventory("MUG", 50)
        placed = [server.create_order({"channel": "flipkart" if n % 2 else "amazon_in",
                                       "items": [{"sku": "TEE-M", "qty": 1, "price": 899.9},
                                                 {"sku": "MUG", "qty": 2}],
                                       "customer": {"name": f"Buyer {n}", "city": "Mumbai"}})
                  for n in range(7)]
        reader = order_reader(PLUGIN, server.api_url, KEY, settings={"page_limit": 3})
        result = pull(reader, tmp_path / "state.db")
        pages = order_gets(server)
    assert sorted(o.remote_id for o in result.orders) == sorted(p["id"] for p in placed)
    assert len(pages) == 3 and all("limit=3" in p for p in pages)  # 3 + 3 + 1: read to the end
    first = next(o for o in result.orders if o.remote_id == placed[0]["id"])
    assert (first.status, first.raw_status, first.channel) == (OrderStatus.NEW, "new", "amazon_in")
    assert first.channel_order_id == placed[0]["channel_order_id"] and first.currency == "INR"
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in first.lines] == [
        ("TEE-M", 1, Decimal("899.9")), ("MUG", 2, Decimal("1"))]  # MUG: the listing's price
    assert isinstance(first.lines[0].quantity, int) and first.created_at.tzinfo == UTC
    assert first.customer is not None and (first.customer.name, first.customer.city) == ("Buyer 0", "Mumbai")
    assert result.missed == []


def test_an_order_takes_its_units_and_a_cancel_gives_them_back(tmp_path: Path) -> None:
    with running_ecomlinx(tmp_path / "ecl.sqlite", listed=["TEE-M"]) as server:
        client_for(server).set_inventory("TEE-M", 5, allocations={"amazon_in": 3, "flipkart": 2})
        first = server.create_order({"channel": "amazon_in", "items": [{"sku": "TEE-M", "qty": 2}]})
        assert stock(server, "TEE-M") == 3
        assert client_for(server).list_inventory()["data"][0]["allocations"] == {"amazon_in": 1, "flipkart": 2}
        too_many = requests.post(f"{server.api_url}/_sandbox/orders", headers=AUTH, timeout=5,
                                 json={"items": [{"sku": "TEE-M", "qty": 4}]})
        assert too_many.status_code == 409 and too_many.json()["error"]["code"] == "conflict"
        assert "TEE-M has 3 in stock" in too_many.json()["error"]["message"]
        last = server.create_order({"items": [{"sku": "TEE-M", "qty": 3}]})  # down to 0: allowed
        assert stock(server, "TEE-M") == 0
        client_for(server).update_order(first["id"], "cancelled")
        assert stock(server, "TEE-M") == 2
        client_for(server).update_order(last["id"], "shipped", awb="AWB1", courier="Delhivery")
        server.set_order_status(last["id"], "delivered")
        server.set_order_status(last["id"], "return")
        assert stock(server, "TEE-M") == 2  # shipped units never come back by a status move


def test_a_cancellation_after_creation_is_seen_on_the_next_pull(tmp_path: Path) -> None:
    with running_ecomlinx(tmp_path / "ecl.sqlite", listed=["TEE-M"]) as server:
        client_for(server).set_inventory("TEE-M", 10)
        placed = server.create_order({"items": [{"sku": "TEE-M", "qty": 1}]})
        reader = order_reader(PLUGIN, server.api_url, KEY)
        before = pull(reader, tmp_path / "state.db")
        assert [o.status for o in before.orders] == [OrderStatus.NEW]
        client_for(server).update_order(placed["id"], "cancelled")
        after = pull(reader, tmp_path / "state.db")
    (cancelled,) = after.orders
    assert (cancelled.status, cancelled.raw_status) == (OrderStatus.CANCELLED, "cancelled")
    assert cancelled.updated_at is not None and cancelled.updated_at >= cancelled.created_at


def test_an_order_older_than_the_window_is_refreshed_by_id(tmp_path: Path) -> None:
    """``from`` filters on creation time: a cancellation of an order created before the window is seen through
    ``GET /orders/{id}``."""
    now = datetime.now(UTC)
    with running_ecomlinx(tmp_path / "ecl.sqlite", listed=["TEE-M"]) as server:
        client_for(server).set_inventory("TEE-M", 10)
        old = server.create_order({"items": [{"sku": "TEE-M", "qty": 1}],
                                   "created_at": (now - timedelta(days=20)).isoformat()})
        server.create_order({"items": [{"sku": "TEE-M", "qty": 1}]})
        reader = order_reader(PLUGIN, server.api_url, KEY)
        first = pull(reader, tmp_path / "state.db", now=now, settings=PullSettings(lookback=timedelta(days=30)))
        assert len(first.orders) == 2
        server.set_order_status(old["id"], "processing")
        client_for(server).update_order(old["id"], "cancelled")
        gets_before = len(order_gets(server))
        second = pull(reader, tmp_path / "state.db", now=now + timedelta(hours=1))
        gets = order_gets(server)[gets_before:]
        assert stock(server, "TEE-M") == 9
    assert f"/v1/orders/{old['id']}" in gets
    refreshed = next(o for o in second.orders if o.remote_id == old["id"])
    assert refreshed.status is OrderStatus.CANCELLED
    assert refreshed.created_at < now - timedelta(days=19)


def test_the_order_patch_follows_the_status_machine(tmp_path: Path) -> None:
    with running_ecomlinx(tmp_path / "ecl.sqlite", listed=["TEE-M"]) as server:
        client_for(server).set_inventory("TEE-M", 10)
        placed = server.create_order({"items": [{"sku": "TEE-M", "qty": 1}]})
        client_for(server).update_order(placed["id"], "ready")
        back = requests.patch(f"{server.api_url}/orders/{placed['id']}", headers=AUTH, json={"status": "processing"},
                              timeout=5)
        assert back.status_code == 409
        assert back.json() == {"error": {"code": "conflict", "status": 409,
                                         "message": f"Order {placed['id']} is ready: it cannot become processing"}}
        client_for(server).update_order(placed["id"], "shipped", awb="AWB9", courier="Delhivery")
        with pytest.raises(Conflict, match="is shipped: it cannot become cancelled"):
            client_for(server).update_order(placed["id"], "cancelled")
        moved = requests.post(f"{server.api_url}/_sandbox/orders/{placed['id']}/status", headers=AUTH,
                              json={"status": "delivered"}, timeout=5)
        assert moved.status_code == 200 and moved.json()["status"] == "delivered"
        server.set_order_status(placed["id"], "return")
        (returned,) = pull(order_reader(PLUGIN, server.api_url, KEY), tmp_path / "state.db").orders
    assert (returned.status, returned.raw_status) == (OrderStatus.RETURNED, "return")
    assert returned.extra == {"awb": "AWB9", "courier": "Delhivery"}


def test_times_become_utc_and_money_decimal(tmp_path: Path) -> None:
    with running_ecomlinx(tmp_path / "ecl.sqlite") as server:
        server.seed({"orders": [{
            "id": "ord_IST", "channel": "amazon_in", "channel_order_id": "402-1", "status": "processing",
            "items": [{"sku": "TEE-M", "qty": 2.0, "price": "899.90"}, {"sku": "MUG", "qty": "1", "price": 0.1}],
            "total": 1799.9, "created_at": "2026-04-17T13:15:00+05:30",
            "updated_at": "2026-04-17T08:00:00", "sla_deadline": "2026-04-18T10:00:00Z"}]})
        reader = order_reader(PLUGIN, server.api_url, KEY, settings={"order_statuses": {"processing": "ready"}})
        (o,) = pull(reader, tmp_path / "state.db", now=datetime(2026, 4, 18, tzinfo=UTC)).orders
    assert o.created_at == datetime(2026, 4, 17, 7, 45, tzinfo=UTC)
    assert o.updated_at == datetime(2026, 4, 17, 8, 0, tzinfo=UTC)
    assert o.sla_deadline == datetime(2026, 4, 18, 10, 0, tzinfo=UTC)
    assert [(ln.quantity, ln.unit_price) for ln in o.lines] == [(2, Decimal("899.90")), (1, Decimal("0.1"))]
    assert (o.total, o.shipping_fee) == (Decimal("1799.9"), Decimal("0"))
    with_fee = reader.order({**o.to_json(), "id": "ord_FEE", "items": [{"sku": "A", "qty": 1, "price": 5}],
                             "shipping_fee": "40.50", "status": "new"})
    assert with_fee.shipping_fee == Decimal("40.50")  # read when given (inferred name; the document shows none)
    assert (o.status, o.raw_status) == (OrderStatus.READY, "processing")  # the profile's table wins
    assert [ln.line_id for ln in o.lines] == ["ord_IST-1", "ord_IST-2"]


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("price", "abc", "items[0].price 'abc' is not a number"),
    ("qty", 1.5, "items[0].qty 1.5 is not a whole number of units"),
])
def test_a_bad_field_names_the_order_instead_of_a_traceback(tmp_path: Path, field: str, value: object,
                                                           problem: str) -> None:
    with running_ecomlinx(tmp_path / "ecl.sqlite") as server:
        item = {"sku": "TEE-M", "qty": 1, "price": 10, field: value}
        server.seed({"orders": [{"id": "ord_BAD", "status": "new", "items": [item], "total": 10}]})
        with pytest.raises(OrderRecordError) as caught:
            pull(order_reader(PLUGIN, server.api_url, KEY), tmp_path / "state.db")
    assert str(caught.value).startswith(f"EcomLinx order ord_BAD: {problem}")
    assert caught.value.exit_code == EXIT_FAILED


def test_an_unknown_status_and_a_bad_status_table_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="order_statuses: 'new' maps to 'fresh'"):
        order_reader(PLUGIN, "http://127.0.0.1:9/v1", KEY, settings={"order_statuses": {"new": "fresh"}})
    with running_ecomlinx(tmp_path / "ecl.sqlite") as server:
        server.seed({"orders": [{"id": "ord_X", "status": "on_hold", "items": [{"sku": "A", "qty": 1, "price": 1}]}]})
        with pytest.raises(OrderRecordError, match="ord_X: status 'on_hold' is not in the status table"):
            pull(order_reader(PLUGIN, server.api_url, KEY), tmp_path / "state.db")
