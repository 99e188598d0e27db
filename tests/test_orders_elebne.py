"""Elebne orders against the real sandbox: simulated with the documented sandbox-only call, read back through the
order reader and ``pull_orders`` (pages to the end, cancellations seen, refresh of older open orders), stock taken
and given back, the status machine, and the normalisation to canonical orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.errors import EXIT_FAILED, ConfigError
from connector.marketplaces.elebne import PLUGIN
from connector.orders.fields import OrderRecordError
from connector.orders.model import OrderStatus
from connector.orders.reader import PullSettings
from tests.conftest import running_elebne
from tests.orders_support import order_reader, pull

pytestmark = pytest.mark.sandbox
KEY = PLUGIN.sandbox_key
LIFTED = {"read": (10_000, 100_000), "write": (10_000, 100_000)}
THIEB = {"name": "Thiéboudienne Royale", "price": 50000, "externalId": "THIEB-001", "quantity": 3,
         "variants": [{"label": "Normal", "sku": "THIEB-N", "quantity": 2},
                      {"label": "Grand", "sku": "THIEB-G", "price": 65000, "quantity": 1}]}


def call(server: Any, method: str, path: str, key: str = KEY, **kw: Any) -> requests.Response:
    return requests.request(method, server.url + PLUGIN.sandbox_base_path + path,
                            headers={"Authorization": f"Bearer {key}"}, timeout=5, **kw)


def quantities(server: Any, external_id: str) -> tuple[int | None, dict[str, int | None]]:
    product = call(server, "GET", f"/products/{external_id}").json()["data"]
    return product["quantity"], {v["label"]: v["quantity"] for v in product["variants"]}


def order_gets(server: Any) -> list[str]:
    return [r["path"].removeprefix(PLUGIN.sandbox_base_path) + (f"?{r['query']}" if r["query"] else "")
            for r in server.requests_log() if r["method"] == "GET" and "/orders" in r["path"]]


def simulate(server: Any, **body: Any) -> dict[str, Any]:
    response = call(server, "POST", "/orders/simulate", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_simulated_orders_are_pulled_page_after_page(tmp_path: Path) -> None:
    with running_elebne(tmp_path / "elebne.sqlite", rate_limits=LIFTED) as handle:
        server = handle.server
        server.seed_products([{**THIEB, "quantity": 100, "variants": [{"label": "Grand", "sku": "THIEB-G",
                                                                       "quantity": 100}]}])
        placed = [simulate(server, items=[{"externalId": "THIEB-001", "variantLabel": "grand", "quantity": 2}],
                           customer={"name": f"Client {n}", "phone": "+22220000000", "city": "Nouakchott"})
                  for n in range(7)]
        reader = order_reader(PLUGIN, handle.base_url, KEY, settings={"page_limit": 3})
        result = pull(reader, tmp_path / "state.db")
        pages = order_gets(server)
    assert sorted(o.remote_id for o in result.orders) == sorted(p["id"] for p in placed)
    assert len(pages) == 3 and all("limit=3" in p and "updatedSince=" in p for p in pages)
    first = next(o for o in result.orders if o.remote_id == placed[0]["id"])
    assert (first.status, first.raw_status, first.channel_order_id) == (OrderStatus.NEW, "PENDING", "EL-000001")
    (line,) = first.lines
    assert (line.sku, line.quantity, line.unit_price, line.currency) == ("THIEB-G", 2, Decimal("500"), "MRU")
    assert first.total == Decimal("1000") and first.created_at.tzinfo == UTC
    assert first.customer is not None and (first.customer.name, first.customer.city) == ("Client 0", "Nouakchott")


def test_an_order_takes_its_units_and_a_cancel_gives_them_back(tmp_path: Path) -> None:
    with running_elebne(tmp_path / "elebne.sqlite", rate_limits=LIFTED) as handle:
        server = handle.server
        server.seed_products([THIEB, {"name": "Bissap", "price": 1500, "externalId": "BISSAP"}])  # untracked
        grand = simulate(server, items=[{"externalId": "THIEB-001", "variantLabel": "Grand", "quantity": 1}])
        assert grand["items"][0]["unitPrice"] == 65000  # the variant's own price
        assert quantities(server, "THIEB-001") == (2, {"Normal": 2, "Grand": 0})
        refused = call(server, "POST", "/orders/simulate",
                       json={"items": [{"externalId": "THIEB-001", "variantLabel": "Grand", "quantity": 1}]})
        assert refused.status_code == 409
        assert refused.json() == {"success": False, "error": {
            "code": "INSUFFICIENT_STOCK", "message": "'THIEB-001 / Grand' has 0 in stock, the order needs 1"}}
        half = call(server, "POST", "/orders/simulate", json={"items": [
            {"externalId": "THIEB-001", "variantLabel": "Normal", "quantity": 1},
            {"externalId": "THIEB-001", "variantLabel": "Grand", "quantity": 1}]})
        assert half.status_code == 409 and quantities(server, "THIEB-001") == (2, {"Normal": 2, "Grand": 0})
        simulate(server, items=[{"externalId": "THIEB-001", "variantLabel": "Normal", "quantity": 2},
                                {"externalId": "BISSAP", "quantity": 5}])  # down to 0: allowed
        assert quantities(server, "THIEB-001") == (0, {"Normal": 0, "Grand": 0})
        assert quantities(server, "BISSAP") == (None, {})
        server.set_order_status(grand["id"], "CONFIRMED")
        cancelled = call(server, "POST", f"/orders/{grand['id']}/simulate", json={"status": "CANCELLED"})
        assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "CANCELLED"
        assert quantities(server, "THIEB-001") == (1, {"Normal": 0, "Grand": 1})
        unknown = call(server, "POST", "/orders/simulate", json={"items": [{"externalId": "NOPE", "quantity": 1}]})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "PRODUCT_NOT_FOUND"


def test_status_moves_follow_the_machine_and_simulate_is_for_test_keys(tmp_path: Path) -> None:
    with running_elebne(tmp_path / "elebne.sqlite", rate_limits=LIFTED) as handle:
        server = handle.server
        server.seed_products([THIEB])
        order = simulate(server, items=[{"externalId": "THIEB-001", "quantity": 1}])
        server.set_order_status(order["id"], "SHIPPED")
        back = call(server, "POST", f"/orders/{order['id']}/simulate", json={"status": "CANCELLED"})
        assert back.status_code == 409
        assert back.json()["error"] == {"code": "INVALID_STATUS_TRANSITION",
                                        "message": f"Order {order['id']} is SHIPPED: it cannot become CANCELLED"}
        assert quantities(server, "THIEB-001")[0] == 2  # shipped units never come back
        bad = call(server, "POST", f"/orders/{order['id']}/simulate", json={"status": "LOST"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
        assert call(server, "GET", "/orders/nope").json()["error"]["code"] == "ORDER_NOT_FOUND"
        live = call(server, "POST", "/orders/simulate", key="sk_live_demo0000connector",
                    json={"items": [{"externalId": "THIEB-001", "quantity": 1}]})
        assert live.status_code == 403 and "sandbox" in live.json()["error"]["message"]
        publishable = call(server, "POST", "/orders/simulate", key="pk_test_demo0000connector",
                           json={"items": [{"externalId": "THIEB-001", "quantity": 1}]})
        assert publishable.status_code == 403
        assert call(server, "GET", f"/orders/{order['id']}", key="pk_test_demo0000connector").status_code == 200
        server.set_order_status(order["id"], "DELIVERED")
        server.set_order_status(order["id"], "RETURNED")
        (returned,) = pull(order_reader(PLUGIN, handle.base_url, KEY), tmp_path / "state.db").orders
    assert (returned.status, returned.raw_status) == (OrderStatus.RETURNED, "RETURNED")


def test_a_cancellation_after_creation_is_seen_on_the_next_pull(tmp_path: Path) -> None:
    with running_elebne(tmp_path / "elebne.sqlite", rate_limits=LIFTED) as handle:
        server = handle.server
        server.seed_products([THIEB])
        order = simulate(server, items=[{"externalId": "THIEB-001", "variantLabel": "Normal", "quantity": 1}])
        reader = order_reader(PLUGIN, handle.base_url, KEY)
        assert [o.status for o in pull(reader, tmp_path / "state.db").orders] == [OrderStatus.NEW]
        server.set_order_status(order["id"], "CANCELLED")
        (cancelled,) = pull(reader, tmp_path / "state.db").orders
    assert (cancelled.status, cancelled.raw_status) == (OrderStatus.CANCELLED, "CANCELLED")
    assert cancelled.updated_at is not None and cancelled.updated_at > cancelled.created_at


def test_an_open_order_older_than_the_window_is_refreshed_and_its_cancel_seen(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old_time = (now - timedelta(days=20)).isoformat()
    with running_elebne(tmp_path / "elebne.sqlite", rate_limits=LIFTED) as handle:
        server = handle.server
        server.seed_products([{**THIEB, "quantity": 10, "variants": []}])
        quiet = simulate(server, items=[{"externalId": "THIEB-001", "quantity": 1}], createdAt=old_time)
        cancelled_later = simulate(server, items=[{"externalId": "THIEB-001", "quantity": 1}], createdAt=old_time)
        reader = order_reader(PLUGIN, handle.base_url, KEY)
        first = pull(reader, tmp_path / "state.db", now=now, settings=PullSettings(lookback=timedelta(days=30)))
        assert {o.remote_id for o in first.orders} == {quiet["id"], cancelled_later["id"]}
        server.set_order_status(cancelled_later["id"], "CANCELLED")
        seen = len(order_gets(server))
        second = pull(reader, tmp_path / "state.db", now=datetime.now(UTC) + timedelta(minutes=1))
        gets = order_gets(server)[seen:]
        assert quantities(server, "THIEB-001")[0] == 9
    by_id = {o.remote_id: o for o in second.orders}
    assert by_id[cancelled_later["id"]].status is OrderStatus.CANCELLED  # updatedAt moved: in the window
    assert by_id[quiet["id"]].status is OrderStatus.NEW  # not in the window: re-read by id
    assert f"/orders/{quiet['id']}" in gets and f"/orders/{cancelled_later['id']}" not in gets


def test_times_become_utc_and_minor_units_decimal(tmp_path: Path) -> None:
    with running_elebne(tmp_path / "elebne.sqlite", rate_limits=LIFTED) as handle:
        handle.server.seed({"orders": [{
            "id": "ord-tz", "orderNumber": "EL-900", "status": "CONFIRMED", "currency": "EUR",
            "createdAt": "2026-04-17T09:45:00+02:00", "updatedAt": "2026-04-17T08:00:00.250Z",
            "items": [{"id": "line-1", "sku": "THIEB-N", "externalId": "THIEB-001", "quantity": 2, "unitPrice": 12345},
                      {"externalId": "BISSAP", "quantity": 1, "unitPrice": 99}],
            "deliveryFee": 500, "total": 25289}]})
        reader = order_reader(PLUGIN, handle.base_url, KEY)
        (o,) = pull(reader, tmp_path / "state.db", now=datetime(2026, 4, 18, tzinfo=UTC)).orders
    assert o.created_at == datetime(2026, 4, 17, 7, 45, tzinfo=UTC)
    assert o.updated_at == datetime(2026, 4, 17, 8, 0, 0, 250000, tzinfo=UTC)
    assert [(ln.line_id, ln.sku, ln.quantity, ln.unit_price, ln.currency) for ln in o.lines] == [
        ("line-1", "THIEB-N", 2, Decimal("123.45"), "EUR"), ("ord-tz-2", "BISSAP", 1, Decimal("0.99"), "EUR")]
    assert (o.shipping_fee, o.total) == (Decimal("5"), Decimal("252.89"))
    assert (o.status, o.raw_status, o.channel_order_id) == (OrderStatus.PROCESSING, "CONFIRMED", "EL-900")


def test_settings_change_the_scale_the_statuses_and_the_time_filter(tmp_path: Path) -> None:
    with running_elebne(tmp_path / "elebne.sqlite", rate_limits=LIFTED) as handle:
        handle.server.seed({"orders": [{"id": "o1", "status": "AWAITING_PICKUP", "updatedAt": "2026-04-17T08:00:00Z",
                                        "createdAt": "2026-04-17T08:00:00Z",
                                        "items": [{"externalId": "A", "quantity": 1, "unitPrice": 700}]}]})
        reader = order_reader(PLUGIN, handle.base_url, KEY, settings={
            "order_amount_scale": 1, "orders_since_param": None, "order_statuses": {"AWAITING_PICKUP": "ready"}})
        (o,) = pull(reader, tmp_path / "state.db", now=datetime(2026, 4, 18, tzinfo=UTC)).orders
        assert [g for g in order_gets(handle.server) if "updatedSince" in g] == []
        assert list(reader.changed_since(datetime(2026, 4, 18, tzinfo=UTC))) == []  # filtered on our side
    assert (o.status, o.lines[0].unit_price) == (OrderStatus.READY, Decimal("700"))
    with pytest.raises(ConfigError, match="order_amount_scale"):
        order_reader(PLUGIN, handle.base_url, KEY, settings={"order_amount_scale": 0})


@pytest.mark.parametrize(("item", "problem"), [
    ({"externalId": "A", "quantity": 1, "unitPrice": "abc"}, "items[0].unitPrice 'abc' is not a number"),
    ({"externalId": "A", "quantity": 0, "unitPrice": 1}, "items[0].quantity 0 is not a whole number of units"),
    ({"quantity": 1, "unitPrice": 1}, "items[0].sku/externalId is missing"),
])
def test_a_bad_field_names_the_order_instead_of_a_traceback(tmp_path: Path, item: dict[str, Any],
                                                           problem: str) -> None:
    with running_elebne(tmp_path / "elebne.sqlite", rate_limits=LIFTED) as handle:
        handle.server.seed({"orders": [{"id": "bad-1", "items": [item]}]})
        with pytest.raises(OrderRecordError) as caught:
            pull(order_reader(PLUGIN, handle.base_url, KEY), tmp_path / "state.db")
    assert str(caught.value).startswith(f"Elebne order bad-1: {problem}")
    assert caught.value.exit_code == EXIT_FAILED
