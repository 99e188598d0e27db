"""EcomLinx's side of fulfilment: the sandbox's ``PATCH /v1/orders/{id}`` refuses a shipment without an airway bill
or with a courier it does not know, and the writer walks the status machine one confirmed step at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.fulfilment.model import FulfilResult, OrderProgress, Shipment, ShippedLine
from connector.fulfilment.writer import FulfilPlan, StepLog
from connector.http import HttpClient
from connector.marketplaces.ecomlinx import PLUGIN
from connector.marketplaces.ecomlinx.orders import EcomLinxOrderReader
from connector.marketplaces.ecomlinx.sandbox import SCALE_KEY, create_sandbox
from connector.sync.state import StateStore

pytestmark = pytest.mark.sandbox
AUTH = {"Authorization": f"Bearer {SCALE_KEY}"}


@pytest.fixture
def server(tmp_path: Path) -> Any:
    with create_sandbox(db_path=str(tmp_path / "ecl.sqlite"), couriers=["Delhivery", "Blue Dart"]) as s:
        s.seed_products([{"sku": "TEA", "stock": 10}, {"sku": "MUG", "stock": 10}])
        yield s


def patch(server: Any, order_id: str, body: dict[str, Any]) -> requests.Response:
    return requests.patch(f"{server.api_url}/orders/{order_id}", json=body, headers=AUTH, timeout=5)


def test_shipped_needs_an_awb_and_a_known_courier(server: Any) -> None:
    placed = server.create_order({"items": [{"sku": "TEA", "qty": 1}]})
    no_awb = patch(server, placed["id"], {"status": "shipped", "courier": "Delhivery"})
    assert no_awb.status_code == 400
    assert no_awb.json() == {"error": {"code": "bad_request", "status": 400,
                                       "message": "awb is required when status is shipped"}}
    stranger = patch(server, placed["id"], {"status": "shipped", "awb": "A1", "courier": "Aramex"})
    assert stranger.status_code == 400
    assert stranger.json()["error"]["message"] == "courier Aramex is not a known courier (known: Delhivery, Blue Dart)"
    ok = patch(server, placed["id"], {"status": "shipped", "awb": "A1", "courier": "blue  dart"})
    assert ok.status_code == 200 and (ok.json()["status"], ok.json()["courier"]) == ("shipped", "Blue Dart")
    back = patch(server, placed["id"], {"status": "ready"})
    assert back.status_code == 409 and back.json()["error"]["code"] == "conflict"
    server.seed({"couriers": ["Aramex"]})  # a courier added to the sandbox's list
    other = server.create_order({"items": [{"sku": "TEA", "qty": 1}]})
    assert patch(server, other["id"], {"status": "shipped", "awb": "A2", "courier": "Aramex"}).status_code == 200


def writer_for(server: Any, key: str = SCALE_KEY) -> Any:
    http = HttpClient(server.api_url, auth=lambda: PLUGIN.auth_headers(key), max_retries=0)
    return PLUGIN.make_fulfilment_writer(http, dict(PLUGIN.settings), "main", key)


def read_order(server: Any, order_id: str) -> Any:
    """The order as the orders flow last read it (the book's copy)."""
    reader = EcomLinxOrderReader(writer_for(server).client, "main", dict(PLUGIN.settings))
    return reader.order(reader.client.get_order(order_id))


def progress(order: Any, *lines: tuple[str, int], tracking: str = "AWB1", **kw: Any) -> OrderProgress:
    shipped = tuple(ShippedLine(order.lines[i].line_id, order.lines[i].sku, qty) for i, qty in lines)
    return OrderProgress("ecomlinx", "main", order.key, "test",
                         (Shipment(f"t:{tracking}", shipped, tracking, "dhl", datetime(2026, 5, 1, tzinfo=UTC)),),
                         **kw)


def test_any_line_ships_at_the_first_shipment_and_a_corrected_awb_is_sent_again(server: Any, tmp_path: Path) -> None:
    placed = server.create_order({"items": [{"sku": "TEA", "qty": 1}, {"sku": "MUG", "qty": 2}]})
    order = read_order(server, placed["id"])
    writer = writer_for(server)
    with StateStore.open(tmp_path / "state.sqlite") as state:
        steps = StepLog(state, "ecomlinx", "main", "run-1")
        first = progress(order, (0, 1))
        plan = FulfilPlan(couriers={"t:AWB1": "Delhivery"}, shipped_when="all_lines")
        waiting = writer.apply(order, first, plan, steps)
        assert (waiting.result, waiting.reason) == (FulfilResult.UNCHANGED,
                                                    "waiting for the rest of the order (1 of 2 lines shipped)")
        plan = FulfilPlan(couriers={"t:AWB1": "Delhivery"}, shipped_when="any_line")
        done = writer.apply(order, first, plan, steps)
        assert (done.result, done.sent) == (FulfilResult.SHIPPED, ["status:processing", "status:ready",
                                                                   "status:shipped"])
        assert writer.apply(order, first, plan, steps).result is FulfilResult.UNCHANGED  # nothing left to send
        shipped = read_order(server, placed["id"])  # the book now says shipped
        fixed = progress(shipped, (0, 1), tracking="AWB2")
        again = writer.apply(shipped, fixed, FulfilPlan(couriers={"t:AWB2": "Delhivery"}, shipped_when="any_line"),
                             steps)
        assert (again.result, again.sent) == (FulfilResult.SHIPPED, ["status:shipped"])
    assert server.dump_state()["orders"][0]["awb"] == "AWB2"


def test_a_refusal_is_failed_with_ecomlinx_message_and_nothing_is_marked(server: Any, tmp_path: Path) -> None:
    placed = server.create_order({"items": [{"sku": "TEA", "qty": 1}]})
    order = read_order(server, placed["id"])
    server.set_order_status(placed["id"], "cancelled")  # behind the book's back
    writer = writer_for(server)
    with StateStore.open(tmp_path / "state.sqlite") as state:
        steps = StepLog(state, "ecomlinx", "main", "run-1")
        outcome = writer.apply(order, progress(order, (0, 1)), FulfilPlan(couriers={"t:AWB1": "Delhivery"}), steps)
        assert outcome.result is FulfilResult.FAILED
        assert outcome.reason == (f"EcomLinx refused processing: Order {placed['id']} is cancelled: it cannot become "
                                  "processing")
        assert not steps.interrupted(order.key, "status:processing") and steps.done(order.key, "status:processing") \
            is None


def test_a_read_only_key_stops_the_run(server: Any, tmp_path: Path) -> None:
    from connector.marketplaces.ecomlinx.errors import Forbidden
    from connector.marketplaces.ecomlinx.sandbox import PRO_KEY

    placed = server.create_order({"items": [{"sku": "TEA", "qty": 1}]})
    order = read_order(server, placed["id"])
    with StateStore.open(tmp_path / "state.sqlite") as state:
        steps = StepLog(state, "ecomlinx", "main", "run-1")
        with pytest.raises(Forbidden):
            writer_for(server, PRO_KEY).apply(order, progress(order, (0, 1)),
                                              FulfilPlan(couriers={"t:AWB1": "Delhivery"}), steps)
        assert not steps.interrupted(order.key, "status:processing")
