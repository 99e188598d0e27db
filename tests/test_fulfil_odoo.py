"""Odoo as the fulfilment source, and marketplace cancellations into Odoo, on real Odoo 16 / 18 (recorded;
replayed in CI with the network blocked).

Each test imports its orders with the Odoo destination (recorded), then does in Odoo what a user does, over RPC
(tests/fixtures/odoo_fulfil_seed.py; recording only, outside the cassettes): a delivery validated with a
tracking reference and a carrier, a partial delivery and its backorder, a sale order cancelled.  The source's
reads and the destination's cancellations are recorded, and their RPC calls counted on the recorded requests.
Recording: ``ODOO_RECORD=1 ODOO_PASSWORD=... .venv/bin/pytest -p no:cacheprovider tests/test_fulfil_odoo.py``
(docs/odoo.md, "Recording the fulfilment cassettes").
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.fulfilment.model import ShippedLine
from connector.fulfilment.odoo import (
    OdooFulfilmentSource,
    from_odoo_time,
    next_cursor,
    odoo_time,
    open_odoo_source,
    window_start,
)
from connector.fulfilment.source import ImportedOrder, SourceRead
from connector.orders.book import OrderBook
from connector.orders.model import Order, OrderLine, OrderStatus
from connector.orders.odoo import open_odoo_destination
from connector.orders.outcome import OrderResult
from connector.sync.state import StateStore
from tests.odoo_vcr import RECORDING, load_fixture_module, odoo_cassette, password, seed_data
from tests.orders_odoo_fixtures import (
    CREATED,
    calls,
    reset_database,
    section,
    server,
    state_fixture,
    version_fixture,
)

fulfil_seed = load_fixture_module("odoo_fulfil_seed")
LOGIN = 3  # version, login, user context (JSON-RPC)
OVERLAP = 1  # seconds: the recordings wait longer than this between a change and the read after it
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # the local clock (the cursor is the server's: recorded)


version = version_fixture


state = state_fixture


def odoo_section(version: int) -> dict[str, Any]:
    out = section(version)
    out["connection"] = {**out["connection"], "overlap_seconds": OVERLAP}
    return out


def order(tag: str, lines: list[tuple[str, int]], status: OrderStatus = OrderStatus.NEW) -> Order:
    return Order(marketplace="elryan", account="main", remote_id=f"FU-{tag}", status=status, raw_status=status.value,
                 created_at=CREATED, currency="IQD", channel_order_id=f"FU-{tag}",
                 lines=tuple(OrderLine(f"{tag}-L{n + 1}", sku, qty, Decimal(15000), "IQD")
                             for n, (sku, qty) in enumerate(lines)))


def imported(version: int, state: StateStore, orders: list[Order], name: str) -> list[ImportedOrder]:
    """The orders imported (confirmed sale orders) by the destination, as the fulfilment run hands them over."""
    book = OrderBook(state, "elryan", "main")
    with odoo_cassette(version, name):
        outcomes = open_odoo_destination(odoo_section(version), None, Path(".")).import_orders(orders, book, name)
    assert [o.result for o in outcomes] == [OrderResult.IMPORTED] * len(orders)
    return [ImportedOrder(o.order, str(o.remote_id)) for o in outcomes]


class Odoo:
    """What the user does in Odoo (recording only: replays never reach a server)."""

    def __init__(self, version: int) -> None:
        self.rpc = seed_data.Rpc(*server(version), os.environ.get("ODOO_USER", "admin"), password(version)) \
            if RECORDING else None

    def validate(self, sale_id: str, tracking: str, quantities: dict[str, int] | None = None) -> None:
        if self.rpc is None:
            return
        picking = fulfil_seed.deliveries(self.rpc, int(sale_id), state="assigned")[0]
        fulfil_seed.validate(self.rpc, picking["id"], tracking=tracking, carrier_id=fulfil_seed.carrier(self.rpc),
                             quantities=quantities)
        time.sleep(OVERLAP + 2)  # the read after it starts outside the overlap of the change

    def cancel(self, sale_id: str) -> None:
        if self.rpc is not None:
            fulfil_seed.cancel(self.rpc, int(sale_id))
            time.sleep(OVERLAP + 2)


def read(version: int, name: str, items: list[ImportedOrder], cursor: str | None
         ) -> tuple[SourceRead, list[tuple[str, str, Any]], OdooFulfilmentSource]:
    with odoo_cassette(version, name) as cass:
        source = open_odoo_source(odoo_section(version), None, Path("."))
        try:
            got = source.read(items, cursor, NOW)
        finally:
            source.close()
    made = calls(cass)
    assert source.backend is not None and len(made) == source.backend.calls
    return got, made, source


def methods(made: list[tuple[str, str, Any]]) -> Counter[str]:
    return Counter(f"{m}.{meth}" for m, meth, _ in made[LOGIN:])


def lines_of(shipment: Any) -> set[tuple[str, str, int]]:
    return {(ln.line_id, ln.sku, ln.quantity) for ln in shipment.lines}


def test_delivery_validated_with_tracking_and_carrier_then_idle_read(version: int, state: StateStore) -> None:
    reset_database(version, password(version))
    odoo = Odoo(version)
    # two lines of OR-001: what Odoo ships of it is spread over both, in line order
    items = imported(version, state, [order("A1", [("OR-001", 2), ("OR-002", 1), ("OR-001", 1)])], "fulfil_a_import")
    sale_id = items[0].destination_id
    odoo.validate(sale_id, tracking="TRK-A1-0001")

    got, made, _ = read(version, "fulfil_a_read_1", items, None)
    assert [p.order_key for p in got.progress] == ["FU-A1"]
    progress = got.progress[0]
    assert (progress.marketplace, progress.account, progress.source) == ("elryan", "main", "odoo")
    assert not progress.cancelled and progress.extra == {"sale_order_id": int(sale_id)}
    [shipment] = progress.shipments
    assert shipment.shipment_id.startswith("odoo:picking:")
    assert shipment.tracking_number == "TRK-A1-0001" and shipment.carrier == fulfil_seed.CARRIER
    assert shipment.shipped_at is not None and shipment.shipped_at.tzinfo is not None
    assert lines_of(shipment) == {("A1-L1", "OR-001", 2), ("A1-L3", "OR-001", 1), ("A1-L2", "OR-002", 1)}
    assert progress.fully_shipped(items[0].order)
    assert got.cursor is not None
    # after the login: cancelled sale orders, deliveries, the move fields, the done moves, their SKUs
    assert methods(made) == Counter({"sale.order.search_read": 1, "stock.picking.search_read": 1,
                                     "stock.move.fields_get": 1, "stock.move.search_read": 1,
                                     "product.product.search_read": 1})
    moves = next(arg for m, meth, arg in made if (m, meth) == ("stock.move", "search_read"))
    assert moves["fields"] == (["picking_id", "product_id", "quantity"] if version >= 17
                               else ["picking_id", "product_id", "quantity_done"])
    assert (["picked", "=", True] in moves["domain"]) is (version >= 17)

    # the next read from the cursor: nothing new, 2 calls after the login
    again, made, _ = read(version, "fulfil_a_read_2", items, got.cursor)
    assert again.progress == []
    assert len(made) == LOGIN + 2
    assert methods(made) == Counter({"sale.order.search_read": 1, "stock.picking.search_read": 1})
    assert again.cursor is not None and again.cursor >= got.cursor


def test_partial_delivery_then_its_backorder_two_shipments_over_two_reads(version: int, state: StateStore) -> None:
    reset_database(version, password(version))
    odoo = Odoo(version)
    items = imported(version, state, [order("B1", [("OR-003", 3), ("OR-004", 1)])], "fulfil_b_import")
    sale_id = items[0].destination_id
    odoo.validate(sale_id, tracking="TRK-B1-0001", quantities={"OR-003": 2})  # the rest as a backorder

    first, _, _ = read(version, "fulfil_b_read_1", items, None)
    [progress] = first.progress
    [part] = progress.shipments
    assert part.tracking_number == "TRK-B1-0001" and lines_of(part) == {("B1-L1", "OR-003", 2)}
    assert not progress.fully_shipped(items[0].order)

    odoo.validate(sale_id, tracking="TRK-B1-0002")  # the backorder, all of it
    second, made, _ = read(version, "fulfil_b_read_2", items, first.cursor)
    [progress] = second.progress
    earlier, rest = progress.shipments  # the whole progress, in the order they were done
    assert earlier == part
    assert rest.tracking_number == "TRK-B1-0002" and rest.shipment_id != part.shipment_id
    assert lines_of(rest) == {("B1-L1", "OR-003", 1), ("B1-L2", "OR-004", 1)}
    assert progress.shipped_quantities() == {"B1-L1": 3, "B1-L2": 1}
    assert progress.fully_shipped(items[0].order)
    assert len(made) == LOGIN + 5


def test_sale_order_cancelled_in_odoo_is_cancelled_progress(version: int, state: StateStore) -> None:
    reset_database(version, password(version))
    odoo = Odoo(version)
    items = imported(version, state, [order("C1", [("OR-005", 1)]), order("C2", [("OR-006", 1)])], "fulfil_c_import")
    odoo.cancel(items[0].destination_id)

    got, made, _ = read(version, "fulfil_c_read", items, None)
    assert [(p.order_key, p.cancelled, p.shipments) for p in got.progress] == [("FU-C1", True, ())]
    assert len(made) == LOGIN + 2  # no delivery done: no move read
    pickings = next(arg for m, meth, arg in made if (m, meth) == ("stock.picking", "search_read"))
    assert ["sale_id", "in", [int(items[0].destination_id)]] in pickings["domain"]  # its deliveries read with it


def test_marketplace_cancellation_cancels_the_sale_order_unless_it_shipped(version: int, state: StateStore) -> None:
    reset_database(version, password(version))
    odoo = Odoo(version)
    open_, shipped = order("D1", [("OR-007", 1)]), order("D2", [("OR-008", 2)])
    items = imported(version, state, [open_, shipped], "fulfil_d_import")
    ids = {i.order.key: i.destination_id for i in items}
    odoo.validate(ids["FU-D2"], tracking="TRK-D2-0001")
    book = OrderBook(state, "elryan", "main")
    cancelled = [dataclasses.replace(o, status=OrderStatus.CANCELLED, raw_status="cancelled")
                 for o in (open_, shipped)]

    with odoo_cassette(version, "fulfil_d_cancel_1") as cass:
        dest = open_odoo_destination(odoo_section(version), None, Path("."))
        outcomes = {o.order.key: o for o in dest.import_orders(cancelled, book, "run-cancel")}
        states = {r["id"]: r["state"] for r in dest.backend.search_read(
            "sale.order", [("id", "in", [int(i) for i in ids.values()])], ["id", "state"])}
    done = outcomes["FU-D1"]
    assert done.result is OrderResult.UPDATED and done.remote_id == ids["FU-D1"]
    assert "cancelled in Odoo" in done.reason
    held = outcomes["FU-D2"]
    assert held.result is OrderResult.ATTENTION
    assert held.reason.startswith("cancelled on the marketplace after it shipped: S")
    assert states == {int(ids["FU-D1"]): "cancel", int(ids["FU-D2"]): "sale"}
    made = calls(cass)
    cancels = [arg for m, meth, arg in made if (m, meth) == ("sale.order", "action_cancel")]
    assert cancels == [[int(ids["FU-D1"])]]  # once, only the one that shipped nothing
    raw = [r for r in cass.requests if b"action_cancel" in r.body]
    assert b"disable_cancel_warning" in raw[0].body
    # states, done deliveries, the cancel, the states after it (+ the test's own check)
    assert len(made) == LOGIN + 4 + 1
    assert book.imported_bodies("odoo", ["FU-D1"])["FU-D1"]["cancelled"] is True

    # the run hands them again (same versions): the cancelled one costs nothing and is never cancelled twice;
    # the shipped one still needs attention
    with odoo_cassette(version, "fulfil_d_cancel_2") as cass:
        dest = open_odoo_destination(odoo_section(version), None, Path("."))
        again = {o.order.key: o for o in dest.import_orders(cancelled, book, "run-again")}
    assert again["FU-D1"].result is OrderResult.UNCHANGED
    assert again["FU-D2"].result is OrderResult.ATTENTION
    made = calls(cass)
    assert not [c for c in made if c[1] == "action_cancel"]
    assert len(made) == LOGIN + 2
    # the cancelled sale order is what the fulfilment source reports for it next (cancelled, nothing shipped)
    assert book.imported_versions("odoo")["FU-D1"] == cancelled[0].fingerprint()


def test_unknown_destination_ids_and_nothing_imported_cost_no_call() -> None:
    source = open_odoo_source({"connection": {"url": "http://127.0.0.1:9", "db": "x"}}, None, Path("."))
    got = source.read([], "2026-12-01T00:00:00Z", NOW)
    assert got.progress == [] and got.cursor == "2026-12-01T00:00:00Z" and source.backend is None
    stray = ImportedOrder(order("X", [("OR-001", 1)]), "workbook:row-3")
    assert source.read([stray], None, NOW).cursor is None and source.backend is None


def test_window_is_the_cursor_minus_the_overlap_or_the_oldest_imported_order() -> None:
    overlap = timedelta(seconds=300)
    items = [ImportedOrder(order("W1", [("OR-001", 1)]), "1"),
             ImportedOrder(dataclasses.replace(order("W2", [("OR-001", 1)]), created_at=CREATED - timedelta(days=3)),
                           "2")]
    assert window_start("2026-12-02T10:00:00Z", overlap, items) == datetime(2026, 12, 2, 9, 55, tzinfo=UTC)
    # no cursor yet: from the oldest imported order (its sale order and deliveries came after it)
    assert window_start(None, overlap, items) == CREATED - timedelta(days=3, seconds=300)
    assert window_start(None, overlap, []) is None
    assert odoo_time(datetime(2026, 12, 2, 9, 55, 1, 999, tzinfo=UTC)) == "2026-12-02 09:55:01"
    assert from_odoo_time("2026-12-02 09:55:01") == datetime(2026, 12, 2, 9, 55, 1, tzinfo=UTC)


def test_next_cursor_is_the_servers_clock_never_going_back() -> None:
    server_clock = datetime(2026, 12, 2, 10, 0, 5, tzinfo=UTC)
    assert next_cursor(None, server_clock, NOW) == "2026-12-02T10:00:05Z"  # the server's, not the local clock
    assert next_cursor("2026-12-02T09:00:00Z", server_clock, NOW) == "2026-12-02T10:00:05Z"
    assert next_cursor(None, None, NOW) == "2026-12-02T12:00:00Z"  # a backend without a Date: the local clock
    assert next_cursor("2026-12-02T11:00:00Z", server_clock, NOW) == "2026-12-02T11:00:00Z"  # never backwards


def test_shipped_line_mapping_never_exceeds_the_order() -> None:
    """A delivery shipping more than ordered: the surplus is named in a note, never sent."""
    from connector.fulfilment.odoo import _Picking

    source = open_odoo_source({"connection": {"url": "http://127.0.0.1:9", "db": "x"}}, None, Path("."))
    item = ImportedOrder(order("M", [("OR-001", 1), ("OR-002", 1)]), "7")
    pickings = [_Picking(2, "WH/OUT/2", 7, None, None, NOW, {"OR-001": 1, "OR-009": 4}),
                _Picking(1, "WH/OUT/1", 7, "T1", "DHL", CREATED, {"OR-001": 2, "OR-002": 1})]
    shipments, notes = source._shipments(item, pickings)
    assert [s.shipment_id for s in shipments] == ["odoo:picking:1"]  # done first; the second takes nothing
    assert shipments[0].lines == (ShippedLine("M-L1", "OR-001", 1), ShippedLine("M-L2", "OR-002", 1))
    assert notes == ["elryan:FU-M: Odoo delivery WH/OUT/1 shipped OR-001 x1, which no line of the order takes "
                     "(not ordered, or more than ordered): not sent",
                     "elryan:FU-M: Odoo delivery WH/OUT/2 shipped OR-001 x1, OR-009 x4, which no line of the order "
                     "takes (not ordered, or more than ordered): not sent"]
