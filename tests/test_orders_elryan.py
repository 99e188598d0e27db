"""Elryan orders: the sandbox's per-line orders (control call, statuses, stock), the client's order calls and
the order reader grouping lines into canonical orders, all against the real Elryan sandbox on loopback."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from connector.errors import EXIT_FAILED, ConfigError, ConnectorError, MarketplaceUnreachable
from connector.http import HttpClient
from connector.marketplaces.elryan import PLUGIN, SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.marketplaces.elryan.client import ElryanClient
from connector.marketplaces.elryan.errors import ElryanError
from connector.marketplaces.elryan.orders import ElryanOrderReader, order_status
from connector.orders.fields import OrderRecordError
from connector.orders.model import Order, OrderStatus
from connector.orders.reader import PullSettings, pull_orders
from connector.sync.session import merge_settings

pytestmark = pytest.mark.sandbox

NOW = datetime.now(UTC)


class Shop:
    """The sandbox, a logged-in client, and the sandbox-only order control calls."""

    def __init__(self, server: Any, page_length: int = 100) -> None:
        self.server = server
        self.http = HttpClient(server.api_url, max_retries=0)
        self.client = ElryanClient(self.http, email=SANDBOX_EMAIL, password=SANDBOX_PASSWORD,
                                   page_length=page_length)

    def reader(self, **settings: Any) -> ElryanOrderReader:
        return ElryanOrderReader(self.client, account="main", settings=settings)

    def stock_up(self, variants: dict[str, tuple[int, float]]) -> None:
        """A product whose variants (sku -> (stock, price)) exist on Elryan with that stock."""
        c = self.client
        c.upsert_category({"name": "Perfume", "remote_id": "cat-p", "remote_parent_id": "null", "is_active": True})
        c.upsert_brand({"name": "Jacomo", "remote_id": "jacomo", "is_active": True})
        c.upsert_product({
            "name": "Eau de Parfum", "spu": "EDP", "category": {"name": "Perfume", "remote_id": "cat-p"},
            "brand": {"name": "Jacomo", "remote_id": "jacomo"}, "tax": 0, "is_active": True, "guarantee": 0,
            "fulfillment_day": 2, "translations": [{"language": "ar", "name": "عطر"}],
            "variants": [{"sku": sku, "name": f"Parfum {sku}", "retail_price": price, "price": price,
                          "currency": "USD", "is_active": True, "supplier": {"name": "S", "remote_id": "s1"},
                          "translations": [{"language": "ar", "name": f"عطر {sku}"}], "attributes": []}
                         for sku, (_, price) in variants.items()]})
        c.update_price_stock([{"sku": sku, "stock": stock} for sku, (stock, _) in variants.items()])

    def control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = requests.post(f"{self.server.api_url}/_sandbox{path}", json=body, timeout=5,
                             headers={"Authorization": f"Bearer {self.client.token()}"})
        assert resp.status_code == 200, resp.text
        return resp.json()

    def place(self, *lines: tuple[str, int], **extra: Any) -> list[dict[str, Any]]:
        answer = self.control("/orders", {"lines": [{"sku": s, "quantity": q} for s, q in lines], **extra})
        assert answer["error_code"] == 0, answer
        return answer["data"]

    def move(self, line_id: str, status: str) -> dict[str, Any]:
        return self.control(f"/orders/{line_id}/status", {"status": status})

    def stock(self, sku: str) -> int:
        return int(self.client.variant_info(sku)["stock"])

    def requests(self) -> list[dict[str, Any]]:
        return self.server.store.requests()


@pytest.fixture
def shop(elryan_sandbox: Any) -> Iterator[Shop]:
    s = Shop(elryan_sandbox)
    s.stock_up({"EDP-50": (10, 25), "EDP-100": (10, 24.99), "EDP-200": (3, 40)})
    yield s
    s.http.close()


def pull(reader: ElryanOrderReader, *, cursor: str | None = None, known_open: Sequence[Order] = (),
         now: datetime = NOW) -> dict[str, Order]:
    result = pull_orders(reader, previous_cursor=cursor, known={o.key: o for o in known_open},
                         known_open=known_open, now=now, settings=PullSettings())
    return {o.key: o for o in result.orders}


# -- grouping, statuses, money, time ---------------------------------------------------------------------------

def test_the_lines_of_one_order_become_one_order(shop: Shop) -> None:
    first = shop.place(("EDP-50", 2), ("EDP-100", 1))
    second = shop.place(("EDP-200", 1))
    number = first[0]["Order Number"]
    assert first[1]["Order Number"] == number != second[0]["Order Number"]
    assert first[0]["Item"] == f"EDP-50-{first[0]['userId']}"  # the document's "<sku>-<userId>"

    orders = pull(shop.reader())
    assert sorted(orders) == sorted([number, second[0]["Order Number"]])
    order = orders[number]
    assert order.channel_order_id == number and order.reference == f"elryan:{number}"
    assert [(ln.line_id, ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        (first[0]["POlineID"], "EDP-50", 2, Decimal("25")), (first[1]["POlineID"], "EDP-100", 1, Decimal("24.99"))]
    assert all(ln.status is OrderStatus.NEW and ln.raw_status == "Pending Confirmation" for ln in order.lines)
    assert order.status is OrderStatus.NEW and order.raw_status == "Pending Confirmation"
    assert order.total == Decimal("74.99") and order.currency == "USD" and order.customer is None
    assert order.extra["purchase_order_id"] == first[0]["Purchase Order ID"]
    assert order.open_quantities() == {"EDP-50": 2, "EDP-100": 1}


def test_the_order_status_follows_its_least_advanced_line(shop: Shop) -> None:
    a, b = shop.place(("EDP-50", 1), ("EDP-100", 2))
    ids = a["POlineID"], b["POlineID"]
    reader = shop.reader()

    def status() -> tuple[OrderStatus, str, list[OrderStatus | None]]:
        order = pull(reader)[a["Order Number"]]
        return order.status, order.raw_status, [ln.status for ln in order.lines]

    shop.move(ids[0], "Ready to Ship")
    assert status() == (OrderStatus.NEW, "Pending Confirmation", [OrderStatus.READY, OrderStatus.NEW])
    shop.move(ids[1], "Cancelled")
    assert status() == (OrderStatus.READY, "Ready to Ship", [OrderStatus.READY, OrderStatus.CANCELLED])
    assert pull(reader)[a["Order Number"]].open_quantities() == {"EDP-50": 1}  # the cancelled line holds nothing
    shop.move(ids[0], "Shipped")
    assert status()[0] is OrderStatus.SHIPPED
    shop.move(ids[0], "Delivered")
    assert status()[0] is OrderStatus.DELIVERED
    shop.move(ids[0], "Returned")
    assert status()[0] is OrderStatus.RETURNED
    assert order_status([OrderStatus.CANCELLED, OrderStatus.CANCELLED]) is OrderStatus.CANCELLED
    assert order_status([OrderStatus.DELIVERED, OrderStatus.SHIPPED]) is OrderStatus.SHIPPED


def test_times_are_utc_from_elryans_local_day_and_money_is_decimal(shop: Shop) -> None:
    # 22:30 UTC on the 20th is 01:30 on the 21st in Baghdad (UTC+3): Elryan files the order under the 21st
    placed = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)
    line = shop.place(("EDP-100", 3), created_at="2026-11-20T22:30:00Z")[0]
    assert (line["Date"], line["dateISO"]) == ("21/11/2026", "2026-11-21T00:00:00")
    assert line["updatedTime"] == "2026-11-20T22:30:00.000Z" and line["updatedLocalTime"].startswith("2026-11-21T01:30")
    assert (line["Selling Price"], line["Total Amount"]) == ("24.99", "74.97")

    since = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # midnight of the 21st in Baghdad
    order = next(iter(shop.reader().changed_since(since)))
    assert order.created_at == placed and order.created_at.tzinfo is UTC
    assert order.updated_at == placed
    assert order.total == Decimal("74.97") and isinstance(order.lines[0].unit_price, Decimal)
    assert order.extra["net_amount"] == "67.47"
    # the window starts on Elryan's local day: one hour earlier in UTC is still the 21st there, the 20th is not
    assert [o.remote_id for o in shop.reader().changed_since(since - timedelta(hours=1))] == [order.remote_id]
    assert list(shop.reader().changed_since(since + timedelta(days=1))) == []

    # read as if Elryan's days were UTC (the setting), the order's day starts after its first change: the
    # start of the day is the earliest time the order can have, and it is kept
    utc_day = next(iter(shop.reader(order_timezone="UTC").changed_since(since)))
    assert utc_day.created_at == datetime(2026, 11, 21, tzinfo=UTC)


def test_the_documents_own_sample_record_reads(elryan_sandbox: Any) -> None:
    shop = Shop(elryan_sandbox)
    sample = {"POlineID": "77231331", "Date": "11/09/2022", "Description": "Night Bloom by Jacomo for Women",
              "Elryan Commission": "10.0%", "Item": "3392865241177-62e67b59a77546efcb592795", "Net Amount": "22.50",
              "Order Number": "PO110038645", "POLastModified": "12/09/2022 11:38 PM", "Purchase Order ID": "7723133",
              "Quantity": "1", "Selling Price": "25", "Status": "Delivered", "Status (AR)": "تم التوصيل",
              "Total Amount": "25.00", "dateISO": "2022-09-11T00:00:00", "id": "631e4485e081fc4a978a8598",
              "recordType": "salesorder", "userId": "62e67b59a77546efcb592795", "exported": True,
              "updatedLocalTime": "2022-09-12T01:38:58.000Z", "updatedTime": "2022-09-11T22:38:58.184Z",
              "Magento IQD Exchange Rate": "1485"}
    elryan_sandbox.seed({"orders": [sample]})
    order = next(iter(shop.reader().changed_since(datetime(2022, 9, 1, tzinfo=UTC))))
    assert order.remote_id == "PO110038645" and order.status is OrderStatus.DELIVERED
    assert order.lines[0].sku == "3392865241177" and order.lines[0].quantity == 1
    # its day is 11 September in Baghdad (10 Sept 21:00 UTC to 11 Sept 21:00 UTC); its first change came later
    assert order.created_at == datetime(2022, 9, 11, 21, 0, tzinfo=UTC)
    assert order.updated_at == datetime(2022, 9, 11, 22, 38, 58, 184000, tzinfo=UTC)
    shop.http.close()


def test_customer_fields_are_read_when_an_account_gives_them(elryan_sandbox: Any) -> None:
    shop = Shop(elryan_sandbox)
    elryan_sandbox.seed({"orders": [{"POlineID": "8801", "Order Number": "PO88", "Item": "X", "Quantity": "1",
                                     "Selling Price": "10", "Status": "Pending Confirmation",
                                     "dateISO": "2026-11-30T00:00:00", "Customer Name": "Ali Hassan",
                                     "Customer Phone": "+9647700000000", "City": " Basra "}]})
    since = datetime(2026, 11, 1, tzinfo=UTC)
    assert next(iter(shop.reader().changed_since(since))).customer is None  # the document shows none
    mapped = shop.reader(order_customer_fields={"name": "Customer Name", "phone": "Customer Phone", "city": "City",
                                                "email": "Customer Email"})
    customer = next(iter(mapped.changed_since(since))).customer
    assert customer is not None
    assert (customer.name, customer.phone, customer.city, customer.email) == (
        "Ali Hassan", "+9647700000000", "Basra", None)
    with pytest.raises(ConfigError, match="not one of them: nickname"):
        shop.reader(order_customer_fields={"nickname": "Customer Name"})
    shop.http.close()


# -- pages, changes after creation -----------------------------------------------------------------------------

def test_the_pull_reads_pages_to_the_end(elryan_sandbox: Any) -> None:
    shop = Shop(elryan_sandbox, page_length=2)
    shop.stock_up({f"S{i}": (5, 10) for i in range(7)})
    big = shop.place(*[(f"S{i}", 1) for i in range(5)])  # five lines: more than two pages on its own
    small = [shop.place((f"S{i}", 2))[0]["Order Number"] for i in (5, 6)]
    orders = pull(shop.reader())
    assert sorted(orders) == sorted([big[0]["Order Number"], *small])
    assert len(orders[big[0]["Order Number"]].lines) == 5
    searches = [r for r in shop.requests() if r["path"] == "/api/orders/search"]
    # 7 lines in pages of 2: 2 + 2 + 2 + 1, then the empty page that ends the listing (a short page does not: Elryan
    # may send fewer lines than asked)
    assert len(searches) == 5
    shop.http.close()


def test_a_cancellation_after_creation_is_seen_by_the_next_pull(shop: Shop) -> None:
    reader = shop.reader()
    line = shop.place(("EDP-50", 1), ("EDP-200", 1))
    first = pull_orders(reader, previous_cursor=None, known={}, known_open=[], now=NOW, settings=PullSettings())
    (order,) = first.orders
    assert order.is_open

    shop.client.cancel_order(line[0]["POlineID"], "out_of_stock")  # the merchant cancels one line...
    shop.move(line[1]["POlineID"], "Cancelled")  # ...the customer the other
    later = NOW + timedelta(minutes=30)
    second = pull_orders(reader, previous_cursor=first.cursor, known={order.key: order}, known_open=[order],
                         now=later, settings=PullSettings())
    (again,) = second.orders
    assert again.status is OrderStatus.CANCELLED and again.raw_status == "Cancelled"
    assert again.fingerprint() != order.fingerprint() and second.missed == []


def test_an_old_open_order_cancelled_later_is_refreshed(shop: Shop) -> None:
    reader = shop.reader()
    placed = NOW - timedelta(days=30)
    lines = shop.place(("EDP-50", 1), ("EDP-100", 1), created_at=placed.isoformat())
    shop.place(("EDP-200", 1))  # a recent order, read by the window
    old = pull(reader, now=placed + timedelta(hours=1))[lines[0]["Order Number"]]
    assert old.is_open

    shop.move(lines[0]["POlineID"], "Cancelled")
    shop.move(lines[1]["POlineID"], "Ready to Ship")  # still unfulfilled: read from the unfulfilled list
    mark = len(shop.requests())
    orders = pull(reader, cursor=(NOW - timedelta(hours=1)).isoformat(), known_open=[old])  # last run: 1 h ago
    assert orders[old.key].status is OrderStatus.READY
    assert [ln.status for ln in orders[old.key].lines] == [OrderStatus.CANCELLED, OrderStatus.READY]
    paths = [r["path"] for r in shop.requests()[mark:]]
    assert "/api/orders/unfulfilled" in paths
    assert paths.count(f"/api/orders/get/{lines[0]['POlineID']}") == 1  # left the unfulfilled list: details
    assert f"/api/orders/get/{lines[1]['POlineID']}" not in paths

    shop.move(lines[1]["POlineID"], "Cancelled")
    (gone,) = reader.refresh([orders[old.key]])
    assert gone.status is OrderStatus.CANCELLED
    assert list(reader.refresh([])) == []


# -- stock, refusals -----------------------------------------------------------------------------------------

def test_an_order_takes_elryans_stock_and_a_cancellation_gives_it_back(shop: Shop) -> None:
    line = shop.place(("EDP-50", 4), ("EDP-200", 3))
    assert (shop.stock("EDP-50"), shop.stock("EDP-200")) == (6, 0)

    refused = shop.control("/orders", {"lines": [{"sku": "EDP-200", "quantity": 1}]})
    assert refused["error_code"] == 1005 and refused["data"] is None
    assert "EDP-200" in refused["message"] and "0 in stock" in refused["message"]
    assert shop.control("/orders", {"lines": [{"sku": "EDP-50", "quantity": 4},
                                              {"sku": "EDP-50", "quantity": 3}]})["error_code"] == 1005
    assert shop.control("/orders", {"lines": [{"sku": "NOPE", "quantity": 1}]})["error_code"] == 1002
    shop.client.disable_variant("EDP-100")
    assert shop.control("/orders", {"lines": [{"sku": "EDP-100", "quantity": 1}]})["error_code"] == 1001
    assert shop.stock("EDP-50") == 6  # a refused order takes nothing

    shop.client.cancel_order(line[0]["POlineID"], "out_of_stock")
    shop.move(line[1]["POlineID"], "Cancelled")
    assert (shop.stock("EDP-50"), shop.stock("EDP-200")) == (10, 3)
    with pytest.raises(ElryanError):
        shop.client.cancel_order(line[0]["POlineID"], "out_of_stock")  # once only
    assert shop.stock("EDP-50") == 10


def test_an_illegal_line_move_is_refused_with_elryans_error_shape(shop: Shop) -> None:
    line = shop.place(("EDP-50", 1))[0]
    refused = shop.move(line["POlineID"], "Delivered")
    assert refused == {"data": None, "error_code": 1001,
                       "message": f"order line {line['POlineID']} is Pending Confirmation: it cannot become Delivered"}
    assert shop.move(line["POlineID"], "Teleported")["error_code"] == 1001
    assert shop.move("nope", "Shipped")["error_code"] == 1004
    assert shop.move(line["POlineID"], "Ready to Ship")["data"]["Status"] == "Ready to Ship"
    assert shop.move(line["POlineID"], "Shipped")["data"]["Status (AR)"] == "تم الشحن"
    with pytest.raises(ElryanError) as shipped:
        shop.client.cancel_order(line["POlineID"], "out_of_stock")  # the merchant cannot cancel a shipped line
    assert shipped.value.status == 200 and shipped.value.error_code == 1001
    assert shop.client.order_details(line["POlineID"])["Status"] == "Shipped"


def test_the_control_call_checks_its_body(shop: Shop) -> None:
    bad = shop.control("/orders", {"lines": [{"sku": "EDP-50", "quantity": 0}], "colour": "red"})
    assert bad["error_code"] == 1001 and bad["data"] is None
    assert {e["field"] for e in bad["errors"]} == {"colour", "lines[0].quantity"}
    resp = requests.post(f"{shop.server.api_url}/_sandbox/orders", json={"lines": []}, timeout=5)
    assert resp.status_code == 401 and resp.json()["error_code"] == 1401  # a token, like every Elryan call


def test_search_date_filters_and_the_unfulfilled_list(shop: Shop) -> None:
    old = shop.place(("EDP-50", 1), created_at="2026-01-10T09:00:00Z")[0]
    new = shop.place(("EDP-100", 1), created_at="2026-03-10T09:00:00Z")[0]
    c = shop.client
    by_day = [r["POlineID"] for r in c.iter_orders(created_from=datetime(2026, 2, 1).date())]
    assert by_day == [new["POlineID"]]
    assert [r["POlineID"] for r in c.iter_orders(created_to=datetime(2026, 2, 1).date())] == [old["POlineID"]]
    changed = [r["POlineID"] for r in c.iter_orders(updated_from=datetime(2026, 3, 10, 9, tzinfo=UTC))]
    assert changed == [new["POlineID"]]
    with pytest.raises(ElryanError) as bad:
        c.search_orders({"dateFrom": "10/01/2026"})
    assert bad.value.error_code == 1001 and "dateFrom" in bad.value.message
    shop.move(old["POlineID"], "Ready to Ship")
    shop.move(old["POlineID"], "Shipped")
    assert [r["POlineID"] for r in c.iter_unfulfilled_orders()] == [new["POlineID"]]
    assert c.cancellation_reasons() == ["out_of_stock", "incorrect_pricing", "sourcing_delay"]


# -- what goes wrong -------------------------------------------------------------------------------------------

def test_a_malformed_line_is_a_clear_error_naming_the_order(elryan_sandbox: Any) -> None:
    shop = Shop(elryan_sandbox)
    base = {"POlineID": "5501", "Order Number": "PO55", "Item": "X", "Quantity": "1", "Selling Price": "10",
            "Status": "Pending Confirmation", "dateISO": "2026-11-30T00:00:00"}
    since = datetime(2026, 11, 1, tzinfo=UTC)
    cases = [({"Quantity": "two"}, "Quantity 'two' is not a whole number"),
             ({"Selling Price": "ten"}, "Selling Price 'ten' is not an amount"),
             ({"Selling Price": ""}, "Selling Price is missing"),
             ({"Item": ""}, "Item (the SKU) is missing"),
             ({"Status": "Lost in Space"}, "unknown status 'Lost in Space'; add it to the target setting "
                                           "order_statuses")]
    for change, words in cases:
        elryan_sandbox.seed({"orders": [{**base, **change}]})
        with pytest.raises(OrderRecordError) as err:
            list(shop.reader().changed_since(since))
        assert isinstance(err.value, ConnectorError)  # the CLI prints it as a message, no traceback
        assert str(err.value).startswith("Elryan order PO55, line 5501: ") and words in str(err.value)
    with pytest.raises(OrderRecordError, match=r"^Elryan order PO55, line 5501: dateISO 'yesterday' / Date None"):
        list(shop.reader().group([{**base, "dateISO": "yesterday"}]))  # e.g. read by refresh
    # a status unknown to the table is read once the profile maps it
    (order,) = shop.reader(order_statuses={"lost in space": "cancelled"}).changed_since(since)
    assert order.status is OrderStatus.CANCELLED and order.raw_status == "Lost in Space"
    elryan_sandbox.seed({"orders": [{**base, "POlineID": "5502", "Order Number": ""}]})
    with pytest.raises(OrderRecordError, match="line 5502 has no Order Number"):
        list(shop.reader().changed_since(since))
    shop.http.close()


def test_a_malformed_line_exits_like_any_marketplaces_and_grouped_amounts_read(elryan_sandbox: Any) -> None:
    shop = Shop(elryan_sandbox)
    base = {"POlineID": "6601", "Order Number": "PO66", "Item": "X", "Quantity": "2", "Selling Price": "1,250.00",
            "Total Amount": "2,500.00", "Status": "Pending Confirmation", "dateISO": "2026-11-30T00:00:00"}
    since = datetime(2026, 11, 1, tzinfo=UTC)
    elryan_sandbox.seed({"orders": [{**base, "Quantity": "1.5"}]})
    with pytest.raises(OrderRecordError) as err:
        list(shop.reader().changed_since(since))
    # Elryan answered: not "unreachable" (4), but the exit code of every marketplace's unreadable order (1)
    assert err.value.exit_code == EXIT_FAILED and not isinstance(err.value, MarketplaceUnreachable)
    elryan_sandbox.seed({"orders": [base]})
    (order,) = shop.reader().changed_since(since)
    assert order.lines[0].unit_price == Decimal("1250.00") and order.total == Decimal("2500.00")
    shop.http.close()


def test_an_expired_token_is_renewed_on_order_calls(shop: Shop) -> None:
    reader = shop.reader()
    lines = shop.place(("EDP-50", 1), created_at=(NOW - timedelta(days=20)).isoformat())
    (old,) = pull(reader, now=NOW - timedelta(days=19)).values()
    assert shop.client.logins == 1

    shop.server.seed({"revoke_tokens": True})  # Elryan forgets the token
    assert [o.key for o in reader.changed_since(NOW - timedelta(days=21))] == [old.key]
    shop.move(lines[0]["POlineID"], "Cancelled")
    shop.server.seed({"revoke_tokens": True})
    (again,) = reader.refresh([old])  # the unfulfilled list (refused, renewed), then the line's details
    assert again.status is OrderStatus.CANCELLED
    assert shop.client.logins == 3
    statuses = [r["status"] for r in shop.requests() if r["path"].startswith("/api/orders/")]
    assert statuses.count(401) == 2


# -- the plugin ----------------------------------------------------------------------------------------------

def test_the_plugin_makes_the_reader_with_the_login_and_the_settings(elryan_sandbox: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ELRYAN_EMAIL", raising=False)
    http = HttpClient(elryan_sandbox.api_url, max_retries=0)
    settings = merge_settings(PLUGIN.settings, {"email": SANDBOX_EMAIL, "order_currency": "IQD",
                                                "order_statuses": {"On Hold": "processing"}})
    assert PLUGIN.make_order_reader is not None
    reader = PLUGIN.make_order_reader(http, settings, "main", SANDBOX_PASSWORD)
    assert reader.marketplace == "elryan" and reader.currency == "IQD"
    assert reader.statuses["on hold"] is OrderStatus.PROCESSING
    assert reader.statuses["pending confirmation"] is OrderStatus.NEW  # the default table stays under it
    assert list(reader.changed_since(NOW)) == [] and reader.client.logins == 1
    with pytest.raises(ConfigError, match="login email"):
        PLUGIN.make_order_reader(http, dict(PLUGIN.settings), "main", SANDBOX_PASSWORD)
    with pytest.raises(ConfigError, match="order_timezone"):
        PLUGIN.make_order_reader(http, {**settings, "order_timezone": "Mars/Olympus"}, "main", SANDBOX_PASSWORD)
    with pytest.raises(ConfigError, match="order_statuses"):
        PLUGIN.make_order_reader(http, {**settings, "order_statuses": {"X": "lost"}}, "main", SANDBOX_PASSWORD)
    http.close()


@pytest.mark.parametrize("body", [{"error_code": 0}, {"error_code": 0, "data": {"unexpected": True}}])
def test_an_order_search_answered_without_its_list_is_an_error_not_no_orders(shop: Shop, body: Any) -> None:
    """Elryan (or a proxy) answering an order search with success but no list of order lines: the read fails
    (the run keeps its cursor and says so), it is not an empty search."""
    shop.place(("EDP-50", 1))
    resp = requests.post(f"{shop.server.url}/__sandbox/faults", timeout=5,
                         json={"status": 200, "path": ".*orders.*", "body": body})
    assert resp.status_code == 201, resp.text
    with pytest.raises(ElryanError, match="without a list"):
        pull(shop.reader())
