"""Odoo 19 as the fulfilment source, and marketplace cancellations into it, over JSON-2 (recorded on a real server).

The same steps as tests/test_fulfil_odoo.py sent over JSON-2: a delivery validated with a tracking reference and
a carrier, read with the server's clock as the next cursor (JSON-2's HTTP ``Date``), then an idle read; a
marketplace cancellation that cancels the sale order that shipped nothing (``action_cancel`` with the context
that skips Odoo's cancel wizard) and holds the one that shipped.  Recorded with ``ODOO_RECORD=1 ODOO19_JSON2=1
ODOO19_JSON2_KEY=<admin's API key> ODOO_PASSWORD=<the same key>`` (the user's steps in Odoo go over JSON-RPC,
which takes the key as the password); cassettes ``cassettes/odoo19/<name>_json2.yaml``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

from connector.fulfilment.odoo import OdooFulfilmentSource, open_odoo_source
from connector.fulfilment.source import ImportedOrder, SourceRead
from connector.orders.book import OrderBook
from connector.orders.model import Order, OrderStatus
from connector.orders.odoo import open_odoo_destination
from connector.orders.outcome import OrderResult
from connector.sources.odoo.json2_backend import Json2Backend
from connector.sync.state import StateStore
from tests.odoo_vcr import (
    JSON2,
    Target,
    odoo_cassette,
    password,
    password_var,
    recorded_calls,
)
from tests.orders_odoo_fixtures import json2_target_fixture, reset_database, state_fixture
from tests.test_fulfil_odoo import NOW, Odoo, fulfil_seed, lines_of, odoo_section, order

state = state_fixture


target = json2_target_fixture


def json2_section(target: Target) -> dict[str, Any]:
    out = odoo_section(target.version)
    out["connection"] = {**out["connection"], "backend": JSON2, "password_env": password_var(target)}
    return out


def imported(target: Target, state: StateStore, orders: list[Order], name: str) -> list[ImportedOrder]:
    book = OrderBook(state, "elryan", "main")
    with odoo_cassette(target, name):
        outcomes = open_odoo_destination(json2_section(target), None, Path(".")).import_orders(orders, book, name)
    assert [o.result for o in outcomes] == [OrderResult.IMPORTED] * len(orders), [o.reason for o in outcomes]
    return [ImportedOrder(o.order, str(o.remote_id)) for o in outcomes]


def read(target: Target, name: str, items: list[ImportedOrder], cursor: str | None
         ) -> tuple[SourceRead, Counter[str], OdooFulfilmentSource]:
    with odoo_cassette(target, name) as cass:
        source = open_odoo_source(json2_section(target), None, Path("."))
        try:
            got = source.read(items, cursor, NOW)
        finally:
            source.close()
    assert isinstance(source.backend, Json2Backend)
    return got, Counter(f"{c.model}.{c.method}" for c in recorded_calls(cass.requests)), source


def test_delivery_with_tracking_and_carrier_over_json2_then_idle_read(target: Target, state: StateStore) -> None:
    reset_database(target.version, password(target))
    odoo = Odoo(target.version)
    items = imported(target, state, [order("J1", [("OR-001", 2), ("OR-002", 1)])], "fulfil_a_import")
    sale_id = items[0].destination_id
    odoo.validate(sale_id, tracking="TRK-J1-0001")

    got, count, _ = read(target, "fulfil_a_read_1", items, None)
    [progress] = got.progress
    assert progress.order_key == "FU-J1" and not progress.cancelled
    [shipment] = progress.shipments
    assert shipment.tracking_number == "TRK-J1-0001" and shipment.carrier == fulfil_seed.CARRIER
    assert shipment.shipped_at is not None and shipment.shipped_at.tzinfo is not None
    assert lines_of(shipment) == {("J1-L1", "OR-001", 2), ("J1-L2", "OR-002", 1)}
    assert progress.fully_shipped(items[0].order)
    assert got.cursor is not None  # the server's clock, from JSON-2's answers too
    assert count == Counter({"sale.order.search_read": 1, "stock.picking.search_read": 1,
                             "stock.move.fields_get": 1, "stock.move.search_read": 1,
                             "product.product.search_read": 1})

    again, count, _ = read(target, "fulfil_a_read_2", items, got.cursor)
    assert again.progress == [] and again.cursor is not None and again.cursor >= got.cursor
    assert count == Counter({"sale.order.search_read": 1, "stock.picking.search_read": 1})


def test_marketplace_cancellation_over_json2_cancels_unless_shipped(target: Target, state: StateStore) -> None:
    reset_database(target.version, password(target))
    odoo = Odoo(target.version)
    open_, shipped = order("J4", [("OR-007", 1)]), order("J5", [("OR-008", 2)])
    items = imported(target, state, [open_, shipped], "fulfil_d_import")
    ids = {i.order.key: i.destination_id for i in items}
    odoo.validate(ids["FU-J5"], tracking="TRK-J5-0001")
    book = OrderBook(state, "elryan", "main")
    cancelled = [dataclasses.replace(o, status=OrderStatus.CANCELLED, raw_status="cancelled")
                 for o in (open_, shipped)]

    with odoo_cassette(target, "fulfil_d_cancel_1") as cass:
        dest = open_odoo_destination(json2_section(target), None, Path("."))
        outcomes = {o.order.key: o for o in dest.import_orders(cancelled, book, "run-cancel")}
        states = {r["id"]: r["state"] for r in dest.backend.search_read(
            "sale.order", [("id", "in", [int(i) for i in ids.values()])], ["id", "state"])}
    assert outcomes["FU-J4"].result is OrderResult.UPDATED and "cancelled in Odoo" in outcomes["FU-J4"].reason
    assert outcomes["FU-J5"].result is OrderResult.ATTENTION
    assert outcomes["FU-J5"].reason.startswith("cancelled on the marketplace after it shipped: S")
    assert states == {int(ids["FU-J4"]): "cancel", int(ids["FU-J5"]): "sale"}
    cancels = [c for c in recorded_calls(cass.requests) if (c.model, c.method) == ("sale.order", "action_cancel")]
    assert [c.args[0] for c in cancels] == [[int(ids["FU-J4"])]]
    assert cancels[0].kwargs["context"].get("disable_cancel_warning") is True

    with odoo_cassette(target, "fulfil_d_cancel_2") as cass:
        dest = open_odoo_destination(json2_section(target), None, Path("."))
        again = {o.order.key: o for o in dest.import_orders(cancelled, book, "run-again")}
    assert again["FU-J4"].result is OrderResult.UNCHANGED and again["FU-J5"].result is OrderResult.ATTENTION
    assert not [c for c in recorded_calls(cass.requests) if c.method == "action_cancel"]

