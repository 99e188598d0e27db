"""Elryan's fulfilment writer against the real Elryan sandbox on loopback: shipments become packages (prepare,
create with items and tracking, delivery status), cancellations go out with a listed reason, and every call is
made exactly once — a re-run sends nothing, a run killed right after creating a package never creates a second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.errors import ConfigError
from connector.fulfilment.model import FulfilResult, OrderProgress, Shipment, ShippedLine
from connector.fulfilment.writer import FulfilPlan, StepLog
from connector.http import HttpClient
from connector.marketplaces.elryan import PLUGIN, SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.marketplaces.elryan.errors import ElryanError
from connector.marketplaces.elryan.fulfilment import ElryanFulfilmentWriter, package_remote_id
from connector.orders.model import Order, OrderStatus
from connector.sync.state import StateStore
from tests.test_orders_elryan import Shop

pytestmark = pytest.mark.sandbox


class Desk:
    """The sandbox shop, the writer, and one state file: each ``run`` is a new fulfilment run over it."""

    def __init__(self, shop: Shop, state_path: Path, **settings: Any) -> None:
        self.shop, self.state_path, self.runs = shop, state_path, 0
        self.writer = ElryanFulfilmentWriter(shop.client, account="main", settings=settings)

    def order(self, number: str) -> Order:
        """The order as the order reader reads it now."""
        orders = {o.key: o for o in self.shop.reader().group(self.shop.client.iter_orders())}
        return orders[number]

    def run(self, number: str, progress: OrderProgress, plan: FulfilPlan | None = None, *, dry: bool = False
            ) -> Any:
        self.runs += 1
        order = self.order(number)
        with StateStore.open(self.state_path) as state:
            steps = StepLog(state, "elryan", "main", f"run-{self.runs}")
            send = self.writer.preview if dry else self.writer.apply
            return send(order, progress, plan or FulfilPlan(), steps)

    def packages(self) -> list[dict[str, Any]]:
        return self.shop.server.backend.all("package")

    def line(self, line_id: str) -> dict[str, Any]:
        return self.shop.client.order_details(line_id)

    def calls(self, since: int = 0) -> list[str]:
        """``METHOD /path`` of every request the sandbox answered after ``since`` (logins aside)."""
        return [f"{r['method']} {r['path'].removeprefix('/api')}" for r in self.shop.requests()
                if r["id"] > since and not r["path"].endswith("/generate-token")]

    def last_request(self) -> int:
        return max((r["id"] for r in self.shop.requests()), default=0)


@pytest.fixture
def desk(elryan_sandbox: Any, tmp_path: Path) -> Iterator[Desk]:
    shop = Shop(elryan_sandbox)
    shop.stock_up({"EDP-50": (10, 25), "EDP-100": (10, 24.99), "EDP-200": (3, 40)})
    yield Desk(shop, tmp_path / "state.db")
    shop.http.close()


def progress(number: str, *shipments: Shipment, **extra: Any) -> OrderProgress:
    return OrderProgress("elryan", "main", number, "odoo", shipments=tuple(shipments), **extra)


def shipment(name: str, *lines: tuple[dict[str, Any], int], tracking: str | None = "TRK-1") -> Shipment:
    """A shipment of ``(order line record, quantity)`` pairs (the SKU is the line's ``Item`` without its owner)."""
    return Shipment(name, tuple(ShippedLine(line["POlineID"], line["Item"].rsplit("-", 1)[0], q) for line, q in lines),
                    tracking, "DHL Express")


def couriers(*names: str) -> FulfilPlan:
    return FulfilPlan(couriers={n: "pts" for n in names})


# -- shipments ---------------------------------------------------------------------------------------------------

def test_a_full_shipment_is_one_package_with_its_items_and_tracking_and_a_rerun_sends_nothing(desk: Desk) -> None:
    a, b = desk.shop.place(("EDP-50", 2), ("EDP-100", 1))
    number = a["Order Number"]
    ship = shipment("odoo:picking:7", (a, 2), (b, 1))
    outcome = desk.run(number, progress(number, ship), couriers("odoo:picking:7"))

    assert outcome.result is FulfilResult.SHIPPED and outcome.reason is None
    assert outcome.sent == [f"prepare:{a['POlineID']}", f"prepare:{b['POlineID']}", "package:odoo:picking:7",
                            "delivery:odoo:picking:7"]
    [package] = desk.packages()
    assert package["remote_id"] == package_remote_id(number, "odoo:picking:7")
    assert str(package["order_id"]) == a["Purchase Order ID"]
    assert package["items"] == [{"order_item_id": int(a["POlineID"]), "quantity": 2},
                                {"order_item_id": int(b["POlineID"]), "quantity": 1}]
    assert package["tracking"] == {"tracking_barcode": "TRK-1", "provider": "pts"}
    assert package["status"] == "fulfilled" and package["delivery"]["status"] == "in_transit"
    order = desk.order(number)
    assert order.status is OrderStatus.SHIPPED and {ln.raw_status for ln in order.lines} == {"Shipped"}

    before = desk.last_request()
    again = desk.run(number, progress(number, ship), couriers("odoo:picking:7"))
    assert again.result is FulfilResult.UNCHANGED and again.sent == []
    assert [c for c in desk.calls(before) if not c.startswith("POST /orders/search")] == []  # nothing but the read
    assert len(desk.packages()) == 1


def test_a_partial_shipment_carries_only_what_shipped_and_the_second_package_the_rest(desk: Desk) -> None:
    a, b = desk.shop.place(("EDP-50", 2), ("EDP-100", 1))
    number = a["Order Number"]
    first = shipment("odoo:picking:1", (a, 1), tracking="TRK-A")
    outcome = desk.run(number, progress(number, first), couriers("odoo:picking:1"))
    assert outcome.result is FulfilResult.SHIPPED
    assert outcome.sent == [f"prepare:{a['POlineID']}", "package:odoo:picking:1", "delivery:odoo:picking:1"]
    assert [p["items"] for p in desk.packages()] == [[{"order_item_id": int(a["POlineID"]), "quantity": 1}]]
    # one unit of two packed: the line stays ready to ship, the other line still pending
    assert desk.line(a["POlineID"])["Status"] == "Ready to Ship"
    assert desk.line(b["POlineID"])["Status"] == "Pending Confirmation"
    assert desk.order(number).status is OrderStatus.NEW

    second = shipment("odoo:picking:2", (a, 1), (b, 1), tracking="TRK-B")
    outcome = desk.run(number, progress(number, first, second), couriers("odoo:picking:1", "odoo:picking:2"))
    assert outcome.result is FulfilResult.SHIPPED
    assert outcome.sent == [f"prepare:{b['POlineID']}", "package:odoo:picking:2", "delivery:odoo:picking:2"]
    packages = desk.packages()
    assert [p["tracking"]["tracking_barcode"] for p in packages] == ["TRK-A", "TRK-B"]
    assert packages[1]["items"] == [{"order_item_id": int(a["POlineID"]), "quantity": 1},
                                    {"order_item_id": int(b["POlineID"]), "quantity": 1}]
    assert desk.order(number).status is OrderStatus.SHIPPED


def test_a_run_killed_right_after_the_package_create_never_creates_a_second_package(
        desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    ship = shipment("odoo:picking:9", (a, 1))
    real_create = desk.shop.client.create_package

    def create_then_die(body: dict[str, Any]) -> dict[str, Any]:
        real_create(body)  # Elryan created it and answered...
        raise KeyboardInterrupt("killed before the answer was recorded")

    monkeypatch.setattr(desk.shop.client, "create_package", create_then_die)
    with pytest.raises(KeyboardInterrupt):
        desk.run(number, progress(number, ship), couriers("odoo:picking:9"))
    assert len(desk.packages()) == 1
    with StateStore.open(desk.state_path) as state:
        assert StepLog(state, "elryan", "main", "look").interrupted(number, "package:odoo:picking:9")

    monkeypatch.undo()
    before = desk.last_request()
    outcome = desk.run(number, progress(number, ship), couriers("odoo:picking:9"))
    assert outcome.result is FulfilResult.SHIPPED
    assert "package:odoo:picking:9" in outcome.sent
    assert len(desk.packages()) == 1  # exactly one package on Elryan
    calls = desk.calls(before)
    assert "POST /packages/search" in calls and "POST /packages/create" not in calls
    with StateStore.open(desk.state_path) as state:
        log = StepLog(state, "elryan", "main", "look")
        assert not log.interrupted(number, "package:odoo:picking:9")
        assert log.done(number, "package:odoo:picking:9")["id"] == desk.packages()[0]["id"]
    assert desk.run(number, progress(number, ship), couriers("odoo:picking:9")).result is FulfilResult.UNCHANGED
    assert len(desk.packages()) == 1


def test_an_unreachable_elryan_raises_and_the_next_run_looks_before_sending(desk: Desk) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    ship = shipment("odoo:picking:3", (a, 1))
    desk.shop.server.add_fault(status=503, method="POST", path="/packages/create$", count=10)
    with pytest.raises(ElryanError) as down:
        desk.run(number, progress(number, ship), couriers("odoo:picking:3"))
    assert down.value.retryable and desk.packages() == []
    desk.shop.server.faults.clear()
    before = desk.last_request()
    outcome = desk.run(number, progress(number, ship), couriers("odoo:picking:3"))
    assert outcome.result is FulfilResult.SHIPPED and len(desk.packages()) == 1
    calls = desk.calls(before)
    assert calls.index("POST /packages/search") < calls.index("POST /packages/create")


def test_a_refusal_is_failed_with_elryans_message_and_nothing_left_begun(desk: Desk) -> None:
    a = desk.shop.place(("EDP-50", 2))[0]
    number = a["Order Number"]
    too_many = shipment("workbook:TRK-1", (a, 3))  # more than was ordered
    outcome = desk.run(number, progress(number, too_many), couriers("workbook:TRK-1"))
    assert outcome.result is FulfilResult.FAILED
    assert "unit(s) left to pack" in outcome.reason and "2 ordered" in outcome.reason
    assert outcome.sent == [f"prepare:{a['POlineID']}"] and desk.packages() == []
    with StateStore.open(desk.state_path) as state:
        log = StepLog(state, "elryan", "main", "look")
        assert not log.interrupted(number, "package:workbook:TRK-1") and log.done(number, "package:workbook:TRK-1") \
            is None


def test_a_shipment_without_tracking_or_courier_is_held_and_nothing_is_sent(desk: Desk) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    before = desk.last_request()
    untracked = desk.run(number, progress(number, shipment("s1", (a, 1), tracking=None)), couriers("s1"))
    assert untracked.result is FulfilResult.ATTENTION and "no tracking number" in untracked.reason
    unmapped = desk.run(number, progress(number, shipment("s1", (a, 1))), FulfilPlan())
    assert unmapped.result is FulfilResult.ATTENTION and "DHL Express" in unmapped.reason
    assert [c for c in desk.calls(before) if not c.startswith("POST /orders/search")] == []


def test_without_needs_tracking_the_package_goes_first_and_its_tracking_later(desk: Desk) -> None:
    desk.writer = ElryanFulfilmentWriter(desk.shop.client, account="main",
                                         settings={"needs_tracking": False, "delivery_statuses": {"shipped": None}})
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    outcome = desk.run(number, progress(number, shipment("s1", (a, 1), tracking=None)))
    assert outcome.sent == [f"prepare:{a['POlineID']}", "package:s1"]
    assert desk.packages()[0]["status"] == "created" and desk.packages()[0]["tracking"] == {}
    outcome = desk.run(number, progress(number, shipment("s1", (a, 1), tracking="LATE-1")), couriers("s1"))
    assert outcome.result is FulfilResult.SHIPPED and outcome.sent == ["fulfill:s1"]
    assert desk.packages()[0]["tracking"] == {"tracking_barcode": "LATE-1", "provider": "pts"}
    assert desk.packages()[0]["status"] == "fulfilled"


def test_a_delivered_order_sets_its_deliveries_delivered(desk: Desk) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    ship = shipment("s1", (a, 1))
    desk.run(number, progress(number, ship), couriers("s1"))
    outcome = desk.run(number, progress(number, ship, delivered=True), couriers("s1"))
    assert outcome.result is FulfilResult.DELIVERED and outcome.sent == ["delivered:s1"]
    assert desk.order(number).status is OrderStatus.DELIVERED


def test_a_preview_sends_and_records_nothing(desk: Desk) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    before = desk.last_request()
    outcome = desk.run(number, progress(number, shipment("s1", (a, 1))), couriers("s1"), dry=True)
    assert outcome.result is FulfilResult.SHIPPED
    assert outcome.sent == [f"prepare:{a['POlineID']}", "package:s1", "delivery:s1"]
    assert "package conn-" in outcome.reason and "tracking TRK-1" in outcome.reason
    assert [c for c in desk.calls(before) if not c.startswith("POST /orders/search")] == []
    assert desk.packages() == [] and desk.line(a["POlineID"])["Status"] == "Pending Confirmation"
    with StateStore.open(desk.state_path) as state:
        log = StepLog(state, "elryan", "main", "look")
        assert log.done(number, f"prepare:{a['POlineID']}") is None and not log.interrupted(number, "package:s1")


def test_a_line_prepared_in_elryans_back_office_is_adopted_not_failed(desk: Desk) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    order = desk.order(number)  # read while still pending...
    desk.shop.client.prepare_order_items(a["POlineID"])  # ...then prepared by hand
    with StateStore.open(desk.state_path) as state:
        outcome = desk.writer.apply(order, progress(number, shipment("s1", (a, 1))), couriers("s1"),
                                    StepLog(state, "elryan", "main", "run-x"))
    assert outcome.result is FulfilResult.SHIPPED and len(desk.packages()) == 1


# -- cancellations -----------------------------------------------------------------------------------------------

def test_a_cancellation_with_a_listed_reason_cancels_every_line_once(desk: Desk) -> None:
    a, b = desk.shop.place(("EDP-50", 2), ("EDP-200", 1))
    number = a["Order Number"]
    assert desk.shop.stock("EDP-50") == 8
    cancelled = progress(number, cancelled=True, cancel_reason="customer changed mind")
    outcome = desk.run(number, cancelled, FulfilPlan(cancel_reason="out_of_stock"))
    assert outcome.result is FulfilResult.CANCELLED
    assert outcome.sent == [f"cancel:{a['POlineID']}", f"cancel:{b['POlineID']}"]
    assert {desk.line(x["POlineID"])["cancelReason"] for x in (a, b)} == {"out_of_stock"}
    assert desk.order(number).status is OrderStatus.CANCELLED
    assert (desk.shop.stock("EDP-50"), desk.shop.stock("EDP-200")) == (10, 3)  # the units are back
    again = desk.run(number, cancelled, FulfilPlan(cancel_reason="out_of_stock"))
    assert again.result is FulfilResult.UNCHANGED and again.sent == []


@pytest.mark.parametrize("reason", ["changed_mind", None])
def test_a_reason_not_in_elryans_list_is_held_naming_the_allowed_codes(desk: Desk, reason: str | None) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    before = desk.last_request()
    outcome = desk.run(number, progress(number, cancelled=True), FulfilPlan(cancel_reason=reason))
    assert outcome.result is FulfilResult.ATTENTION
    assert "out_of_stock, incorrect_pricing, sourcing_delay" in outcome.reason
    assert not any(c.startswith("PUT ") for c in desk.calls(before))
    assert desk.line(a["POlineID"])["Status"] == "Pending Confirmation"


def test_a_cancellation_killed_after_its_call_is_looked_up_by_the_line_status_not_sent_again(
        desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    real_cancel = desk.shop.client.cancel_order

    def cancel_then_die(line_id: str, reason: str) -> dict[str, Any]:
        real_cancel(line_id, reason)
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(desk.shop.client, "cancel_order", cancel_then_die)
    order = desk.order(number)  # read before the cancellation: the line still pending
    with StateStore.open(desk.state_path) as state, pytest.raises(KeyboardInterrupt):
        desk.writer.apply(order, progress(number, cancelled=True), FulfilPlan(cancel_reason="out_of_stock"),
                          StepLog(state, "elryan", "main", "run-killed"))
    monkeypatch.undo()
    before = desk.last_request()
    with StateStore.open(desk.state_path) as state:
        outcome = desk.writer.apply(order, progress(number, cancelled=True), FulfilPlan(cancel_reason="out_of_stock"),
                                    StepLog(state, "elryan", "main", "run-again"))
    assert outcome.result is FulfilResult.CANCELLED and outcome.sent == [f"cancel:{a['POlineID']}"]
    assert desk.calls(before) == [f"GET /orders/get/{a['POlineID']}"]  # looked up, not sent again


def test_an_order_the_customer_already_cancelled_on_elryan_sends_nothing_even_without_a_reason(desk: Desk) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    desk.shop.move(a["POlineID"], "Cancelled")
    before = desk.last_request()
    outcome = desk.run(number, progress(number, cancelled=True), FulfilPlan())
    assert outcome.result is FulfilResult.UNCHANGED and outcome.sent == []
    assert [c for c in desk.calls(before) if not c.startswith("POST /orders/search")] == []


def test_the_reason_list_is_read_once_per_run(desk: Desk) -> None:
    first = desk.shop.place(("EDP-50", 1))[0]
    second = desk.shop.place(("EDP-100", 1))[0]
    before = desk.last_request()
    for line in (first, second):
        number = line["Order Number"]
        desk.run(number, progress(number, cancelled=True), FulfilPlan(cancel_reason="sourcing_delay"))
    assert desk.calls(before).count("GET /orders/cancel-reasons") == 1


def test_a_cancellation_after_a_package_is_held(desk: Desk) -> None:
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    ship = shipment("s1", (a, 1))
    desk.run(number, progress(number, ship), couriers("s1"))
    outcome = desk.run(number, progress(number, ship, cancelled=True), FulfilPlan(cancel_reason="out_of_stock",
                                                                                  couriers={"s1": "pts"}))
    assert outcome.result is FulfilResult.ATTENTION and "package" in outcome.reason
    assert desk.line(a["POlineID"])["Status"] == "Shipped"


@pytest.mark.parametrize("read_again", [False, True], ids=["order-as-last-read", "order-read-again"])
def test_a_tracking_number_corrected_after_its_package_went_is_held_not_packed_again(
        desk: Desk, read_again: bool) -> None:
    """The workbook's shipment id is its tracking number: a number corrected after its package was sent is a new
    shipment of a line packed whole already.  Elryan refuses to pack it again (on every run, in words that do not
    say what to do), and with the order read again it was taken as shipped elsewhere, the new number dropped
    without a word; it is held, saying what to do.  A line packed in part still takes a second package (above)."""
    a = desk.shop.place(("EDP-50", 2))[0]
    number = a["Order Number"]
    stale = desk.order(number)
    sent = shipment("workbook:TRK-1", (a, 2), tracking="TRK-1")
    assert desk.run(number, progress(number, sent), couriers("workbook:TRK-1")).result is FulfilResult.SHIPPED
    before = desk.last_request()
    corrected = shipment("workbook:TRK-9", (a, 2), tracking="TRK-9")
    order = desk.order(number) if read_again else stale
    with StateStore.open(desk.state_path) as state:
        outcome = desk.writer.apply(order, progress(number, corrected), couriers("workbook:TRK-9"),
                                    StepLog(state, "elryan", "main", "run-x"))
    assert outcome.result is FulfilResult.ATTENTION and outcome.sent == []
    assert f"line {a['POlineID']} (EDP-50) went to Elryan in a package already (tracking TRK-1)" in outcome.reason
    assert "change it in Elryan's back office" in outcome.reason
    calls = [c for c in desk.calls(before) if not c.startswith("POST /orders/search")]
    assert calls == [f"GET /packages/{desk.packages()[0]['id']}"]  # is it still live? A read, nothing sent
    assert [p["tracking"]["tracking_barcode"] for p in desk.packages()] == ["TRK-1"]


def test_a_package_cancelled_in_elryans_back_office_does_not_hold_the_next_one(desk: Desk) -> None:
    """A package the merchant cancelled in Elryan's back office holds nothing any more: a new shipment of its line
    is packed (Elryan counts only packages not cancelled), not held as "packed already"."""
    desk.writer = ElryanFulfilmentWriter(desk.shop.client, account="main",
                                         settings={"needs_tracking": False, "delivery_statuses": {"shipped": None}})
    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    assert desk.run(number, progress(number, shipment("s1", (a, 1), tracking=None))).sent[-1] == "package:s1"
    desk.shop.client.cancel_package(desk.packages()[0]["id"])
    outcome = desk.run(number, progress(number, shipment("s2", (a, 1), tracking="NEW-1")), couriers("s2"))
    assert outcome.result is FulfilResult.SHIPPED and "package:s2" in outcome.sent, outcome
    assert [p["status"] for p in desk.packages()] == ["cancelled", "fulfilled"]


# -- registration ------------------------------------------------------------------------------------------------

def test_the_plugin_registers_the_writer_with_its_settings(elryan_sandbox: Any) -> None:
    http = HttpClient(elryan_sandbox.api_url, max_retries=0)
    settings = {"email": SANDBOX_EMAIL}
    writer = PLUGIN.make_fulfilment_writer(http, settings, "main", SANDBOX_PASSWORD)
    assert writer.marketplace == "elryan" and writer.needs_tracking is True
    assert writer.reasons() == ["out_of_stock", "incorrect_pricing", "sourcing_delay"]
    assert PLUGIN.make_fulfilment_writer(http, {**settings, "needs_tracking": False}, "main", "x").needs_tracking \
        is False
    with pytest.raises(ConfigError, match="delivery_statuses"):
        PLUGIN.make_fulfilment_writer(http, {**settings, "delivery_statuses": {"lost": "x"}}, "main", "x")
    http.close()
