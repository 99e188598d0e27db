"""Deliveries of kits (mrp) read back from a real Odoo 18: a kit ships as its components' moves.

A sale order line of a kit is delivered as moves of its components (each with the line's ``sale_line_id`` and
its ``bom_line_id``), never of the kit itself: read per SKU, they matched no line of the marketplace's order,
and the order never shipped ("shipped CT-KIT-A x2, which no line of the order takes: not sent").  The kits a
delivery shipped are now worked out from its components as Odoo counts a kit line's delivered quantity.

Recorded on 18 with mrp (``seed_data.setup_kit_deliveries``, applied at record time): CT-KIT (2 x CT-KIT-A +
1 x CT-KIT-B) sold once and shipped whole; sold twice and shipped in two deliveries; sold twice, one and a half
kit's components shipped and the rest cancelled.  Odoo's own count (``qty_delivered``) is read in the cassette.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from connector.fulfilment.odoo import OdooFulfilmentSource
from connector.fulfilment.source import ImportedOrder, SourceRead
from connector.orders.odoo.settings import parse_settings
from connector.sources.odoo.backend import open_backend
from tests.odoo_vcr import odoo_cassette, odoo_test_env, seed_data, server
from tests.orders_fixtures import make_order

VERSIONS = [16, 18]  # recorded on a real Odoo 16 and 18 with mrp
CREATED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # before the deliveries: the read's window starts here
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@dataclass
class KitRead:
    got: SourceRead
    delivered: dict[str, float]  # client_order_ref -> Odoo's qty_delivered of the kit line
    keys: dict[str, str]  # client_order_ref -> the marketplace order's key


@pytest.fixture(scope="module", params=VERSIONS, ids=[f"odoo{v}" for v in VERSIONS])
def kit_read(request: pytest.FixtureRequest) -> Iterator[KitRead]:
    VERSION = request.param
    with odoo_test_env(VERSION, seed_data.setup_kit_deliveries):
        url, db = server(VERSION)
        settings = parse_settings({"connection": {"url": url, "db": db, "user": "admin",
                                                  "password_env": f"CONNECTOR_TEST_ODOO{VERSION}_PASSWORD"}}, None)
        refs = sorted(seed_data.KIT_DELIVERIES)
        with odoo_cassette(VERSION, "fulfil_kits"):
            backend = open_backend(settings.connection)
            sales = backend.search_read("sale.order", [("client_order_ref", "in", refs)], ["id", "client_order_ref"])
            sale_of = {r["client_order_ref"]: r["id"] for r in sales}
            lines = backend.search_read("sale.order.line", [("order_id", "in", sorted(sale_of.values()))],
                                        ["order_id", "qty_delivered"])
            by_sale = {r["order_id"][0]: r["qty_delivered"] for r in lines}
            items, keys = [], {}
            for ref in refs:
                kits = seed_data.KIT_DELIVERIES[ref][0]
                order = make_order(ref, (seed_data.KIT_SKU, kits), created=CREATED)
                items.append(ImportedOrder(order, str(sale_of[ref])))
                keys[ref] = order.key
            got = OdooFulfilmentSource(settings, backend=backend).read(items, None, NOW)
        yield KitRead(got, {ref: by_sale[sale_of[ref]] for ref in refs}, keys)


def _shipped(kit_read: KitRead, ref: str) -> list[tuple[str | None, int]]:
    [progress] = [p for p in kit_read.got.progress if p.order_key == kit_read.keys[ref]]
    assert progress.problems == ()
    return [(s.tracking_number, sum(line.quantity for line in s.lines)) for s in progress.shipments]


def test_a_kit_shipped_whole_is_one_shipment_of_the_kit(kit_read: KitRead) -> None:
    assert _shipped(kit_read, seed_data.KIT_SO_REF) == [("KIT-T1", 1)]


def test_kits_shipped_in_two_deliveries_are_two_shipments_with_their_tracking(kit_read: KitRead) -> None:
    assert _shipped(kit_read, "CONNECTOR-KIT-SPLIT") == [("KIT-T2a", 1), ("KIT-T2b", 1)]


def test_a_kit_whose_components_went_out_in_part_counts_only_whole_kits(kit_read: KitRead) -> None:
    """3 of the 4 CT-KIT-A and 2 of the 2 CT-KIT-B: one whole kit, the rest cancelled (no backorder)."""
    assert _shipped(kit_read, "CONNECTOR-KIT-NOBO") == [("KIT-T3", 1)]


def test_the_kits_counted_are_odoos(kit_read: KitRead) -> None:
    for ref, delivered in kit_read.delivered.items():
        assert sum(q for _t, q in _shipped(kit_read, ref)) == delivered, ref
    assert not any("no line of the order takes" in n for n in kit_read.got.notes), kit_read.got.notes

