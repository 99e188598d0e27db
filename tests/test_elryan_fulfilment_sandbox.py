"""Contract tests: the Elryan sandbox's packages, deliveries and order-line moves (raw HTTP, no writer): items
of the package's order only, no more than was ordered, prepared lines only, reasons from the list, the order
status machine, refusals in Elryan's error shape (HTTP 200, ``data`` null, a non-zero ``error_code``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.test_orders_elryan import Shop

pytestmark = pytest.mark.sandbox


class Raw(Shop):
    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        resp = requests.request(method, f"{self.server.api_url}{path}", json=body, timeout=5,
                                headers={"Authorization": f"Bearer {self.client.token()}"})
        assert resp.status_code == 200, resp.text
        return resp.json()

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.call(method, path, body)
        assert answer["error_code"] == 0, answer
        return answer["data"]

    def refused(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = self.call(method, path, body)
        assert answer["error_code"] != 0 and answer["data"] is None and answer["message"], answer
        return answer

    def package(self, order: dict[str, Any], *items: tuple[dict[str, Any], int], remote_id: str = "pkg-1",
                **extra: Any) -> dict[str, Any]:
        return {"order_id": int(order["Purchase Order ID"]), "remote_id": remote_id,
                "items": [{"order_item_id": int(line["POlineID"]), "quantity": q} for line, q in items], **extra}

    def status(self, line: dict[str, Any]) -> str:
        return self.ok("GET", f"/orders/get/{line['POlineID']}")["Status"]


@pytest.fixture
def raw(elryan_sandbox: Any) -> Iterator[Raw]:
    r = Raw(elryan_sandbox)
    r.stock_up({"EDP-50": (10, 25), "EDP-100": (10, 24.99)})
    yield r
    r.http.close()


def test_a_package_of_prepared_lines_ships_them_and_is_found_by_its_remote_id(raw: Raw) -> None:
    a, b = raw.place(("EDP-50", 2), ("EDP-100", 1))
    for line in (a, b):
        assert raw.ok("GET", f"/orders/prepare/{line['POlineID']}")["Status"] == "Ready to Ship"
    created = raw.ok("POST", "/packages/create", raw.package(a, (a, 2), (b, 1), tracking={
        "tracking_barcode": "TRK-1", "provider": "pts"}))
    assert created["status"] == "fulfilled" and created["tracking"] == {"tracking_barcode": "TRK-1", "provider": "pts"}
    assert set(created) >= {"id", "order_id", "items", "remote_id", "tracking", "invoice", "created_at", "updated_at"}
    assert raw.status(a) == raw.status(b) == "Shipped"
    found = raw.ok("POST", "/packages/search", {"start": 0, "length": 10, "search": {"remote_id": "pkg-1"}})
    assert [p["id"] for p in found] == [created["id"]]
    assert raw.ok("POST", "/packages/search", {"start": 0, "length": 10, "search": {"remote_id": "pkg-2"}}) == []
    assert raw.ok("GET", f"/packages/{created['id']}")["remote_id"] == "pkg-1"
    again = raw.refused("POST", "/packages/create", raw.package(a, (a, 1)))
    assert again["error_code"] == 1001 and "already exists" in again["message"]


def test_a_package_with_an_item_of_another_order_is_refused(raw: Raw) -> None:
    mine = raw.place(("EDP-50", 1))[0]
    other = raw.place(("EDP-100", 1))[0]
    for line in (mine, other):
        raw.ok("GET", f"/orders/prepare/{line['POlineID']}")
    refused = raw.refused("POST", "/packages/create", raw.package(mine, (mine, 1), (other, 1)))
    assert refused["error_code"] == 1002
    assert refused["message"] == (f"items[1].order_item_id: {other['POlineID']} is not a line of order "
                                  f"{mine['Purchase Order ID']}")
    assert raw.refused("POST", "/packages/create", {**raw.package(mine, (mine, 1)), "order_id": 1})["error_code"] \
        == 1002
    assert raw.server.backend.all("package") == [] and raw.status(mine) == "Ready to Ship"


def test_quantities_cannot_exceed_what_was_ordered_over_every_live_package(raw: Raw) -> None:
    a = raw.place(("EDP-50", 3))[0]
    raw.ok("GET", f"/orders/prepare/{a['POlineID']}")
    over = raw.refused("POST", "/packages/create", raw.package(a, (a, 4)))
    assert over["error_code"] == 1001 and "3 unit(s) left to pack (3 ordered), 4 sent" in over["message"]
    first = raw.ok("POST", "/packages/create", raw.package(a, (a, 2)))
    assert raw.status(a) == "Ready to Ship"  # one unit still to pack
    rest = raw.refused("POST", "/packages/create", raw.package(a, (a, 2), remote_id="pkg-2"))
    assert "1 unit(s) left to pack" in rest["message"]
    twice = raw.refused("POST", "/packages/create", raw.package(a, (a, 1), (a, 1), remote_id="pkg-2"))
    assert "2 sent" in twice["message"]
    assert raw.refused("POST", "/packages/create", raw.package(a, (a, 0), remote_id="pkg-2"))["error_code"] == 1001
    # a cancelled package gives its units back
    assert raw.ok("GET", f"/packages/cancel/{first['id']}")["status"] == "cancelled"
    raw.ok("POST", "/packages/create", raw.package(a, (a, 3), remote_id="pkg-3"))
    assert raw.status(a) == "Shipped"


def test_only_a_prepared_line_is_packed_and_the_line_status_machine_holds(raw: Raw) -> None:
    a, b = raw.place(("EDP-50", 1), ("EDP-100", 1))
    pending = raw.refused("POST", "/packages/create", raw.package(a, (a, 1)))
    assert pending["message"] == (f"items[0].order_item_id: order line {a['POlineID']} is Pending Confirmation: "
                                  "it cannot be packed (prepare it first)")
    raw.ok("PUT", f"/orders/cancel/{b['POlineID']}", {"reason": "out_of_stock"})
    cancelled = raw.refused("POST", "/packages/create", raw.package(b, (b, 1)))
    assert cancelled["error_code"] == 1001 and "is Cancelled: it cannot be packed" in cancelled["message"]
    assert raw.refused("GET", f"/orders/prepare/{b['POlineID']}")["error_code"] == 1001  # cancelled: not prepared

    raw.ok("GET", f"/orders/prepare/{a['POlineID']}")
    again = raw.refused("GET", f"/orders/prepare/{a['POlineID']}")
    assert again["message"] == f"order line {a['POlineID']} is Ready to Ship: only a pending one can be prepared"
    raw.ok("POST", "/packages/create", raw.package(a, (a, 1), tracking={"tracking_barcode": "T", "provider": "pts"}))
    shipped = raw.refused("PUT", f"/orders/cancel/{a['POlineID']}", {"reason": "out_of_stock"})
    assert shipped["message"] == f"order line {a['POlineID']} is Shipped: it cannot be cancelled"
    assert raw.status(a) == "Shipped"


def test_a_partly_packed_line_cannot_be_cancelled_and_a_reason_must_be_listed(raw: Raw) -> None:
    a = raw.place(("EDP-50", 2))[0]
    unknown = raw.refused("PUT", f"/orders/cancel/{a['POlineID']}", {"reason": "changed_mind"})
    assert unknown["message"] == "reason: must be one of out_of_stock, incorrect_pricing, sourcing_delay"
    assert raw.ok("GET", "/orders/cancel-reasons") == ["out_of_stock", "incorrect_pricing", "sourcing_delay"]
    raw.ok("GET", f"/orders/prepare/{a['POlineID']}")
    raw.ok("POST", "/packages/create", raw.package(a, (a, 1)))
    partly = raw.refused("PUT", f"/orders/cancel/{a['POlineID']}", {"reason": "out_of_stock"})
    assert "1 unit(s) in a package" in partly["message"]
    assert raw.stock("EDP-50") == 8 and raw.status(a) == "Ready to Ship"


def test_a_cancelled_line_gives_its_stock_back(raw: Raw) -> None:
    a = raw.place(("EDP-50", 4))[0]
    assert raw.stock("EDP-50") == 6
    done = raw.ok("PUT", f"/orders/cancel/{a['POlineID']}", {"reason": "sourcing_delay"})
    assert done["Status"] == "Cancelled" and done["cancelReason"] == "sourcing_delay"
    assert raw.stock("EDP-50") == 10


def test_a_fulfilled_package_cannot_be_cancelled_and_a_cancelled_one_not_fulfilled(raw: Raw) -> None:
    a = raw.place(("EDP-50", 2))[0]
    raw.ok("GET", f"/orders/prepare/{a['POlineID']}")
    first = raw.ok("POST", "/packages/create", raw.package(a, (a, 1)))
    assert first["status"] == "created" and first["tracking"] == {}
    done = raw.ok("POST", f"/packages/fulfill/{first['id']}", {"tracking_barcode": "TRK", "provider": "pts"})
    assert done["status"] == "fulfilled" and done["tracking"]["tracking_barcode"] == "TRK"
    assert raw.refused("GET", f"/packages/cancel/{first['id']}")["message"] == "a fulfilled package cannot be cancelled"
    second = raw.ok("POST", "/packages/create", raw.package(a, (a, 1), remote_id="pkg-2"))
    assert raw.status(a) == "Shipped"
    raw.ok("GET", f"/packages/cancel/{second['id']}")
    assert raw.status(a) == "Ready to Ship"  # its units are to pack again
    assert raw.refused("POST", f"/packages/fulfill/{second['id']}", {"tracking_barcode": "X"})["error_code"] == 1001
    assert raw.refused("GET", f"/packages/cancel/{second['id']}")["error_code"] == 1001


def test_a_delivery_moves_in_transit_then_delivered_and_delivers_its_lines(raw: Raw) -> None:
    a, b = raw.place(("EDP-50", 2), ("EDP-100", 1))
    for line in (a, b):
        raw.ok("GET", f"/orders/prepare/{line['POlineID']}")
    one = raw.ok("POST", "/packages/create", raw.package(a, (a, 1), (b, 1)))
    two = raw.ok("POST", "/packages/create", raw.package(a, (a, 1), remote_id="pkg-2"))
    assert raw.ok("GET", f"/deliveries/{one['id']}/")["status"] == "pending"
    moved = raw.ok("POST", f"/deliveries/{one['id']}/status", {"status": "in_transit"})
    assert moved["status"] == "in_transit" and moved["package_id"] == one["id"]
    assert raw.ok("POST", f"/deliveries/{one['id']}/status", {"status": "delivered"})["status"] == "delivered"
    back = raw.refused("POST", f"/deliveries/{one['id']}/status", {"status": "in_transit"})
    assert back["message"] == f"delivery {one['id']} is delivered: it cannot become in_transit"
    assert raw.refused("POST", f"/deliveries/{one['id']}/status", {"status": "lost"})["error_code"] == 1001
    assert raw.refused("GET", "/deliveries/nope/")["error_code"] == 1004
    # b travelled only in the delivered package; a waits for its second package
    assert (raw.status(a), raw.status(b)) == ("Shipped", "Delivered")
    raw.ok("POST", f"/deliveries/{two['id']}/status", {"status": "delivered"})
    assert raw.status(a) == "Delivered"
    assert "delivery" not in raw.ok("GET", f"/packages/{one['id']}")  # a package shows no delivery of its own
