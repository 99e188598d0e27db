"""The fulfilment read on an Odoo without the delivery module (recorded on a real Odoo 18 with `stock` and
`sale_management` only; replayed with the network blocked).

`carrier_tracking_ref` and `carrier_id` of `stock.picking` come with `stock_delivery` (17+) / `delivery` (16).
Without it Odoo refused the deliveries' read ("Invalid field 'carrier_tracking_ref' on model 'stock.picking'"),
so `connector fulfil`, and every `connector sync` with `orders: {to: odoo}`, stopped with exit 2 as soon as one
order was imported: no stock was pushed either.  Now the read is sent again without those fields, and the
delivery ships without tracking or carrier (what the marketplace then needs is the fulfilment run's rule: held).

Recording (an Odoo 18 database of its own, seeded by tests/fixtures/odoo_orders_seed.py, without the delivery
module; defaults http://127.0.0.1:8072 and o18nodel)::

    odoo-bin -c my.conf -d o18nodel -i stock,sale_management --without-demo=all --stop-after-init
    ODOO_URL=http://127.0.0.1:8072 ODOO_DB=o18nodel ODOO_PASSWORD=... \
        .venv/bin/python tests/fixtures/odoo_orders_seed.py
    ODOO_RECORD=1 ODOO_PASSWORD=... .venv/bin/pytest -p no:cacheprovider tests/test_fulfil_odoo_no_delivery.py
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.fulfilment.odoo import open_odoo_source
from connector.fulfilment.source import ImportedOrder
from connector.orders.book import OrderBook
from connector.orders.model import Order, OrderLine, OrderStatus
from connector.orders.odoo import open_odoo_destination
from connector.orders.outcome import OrderResult
from connector.sync.state import StateStore
from tests.odoo_vcr import RECORDING, block_network, load_fixture_module, odoo_cassette, password, seed_data
from tests.orders_odoo_fixtures import CREATED, calls, password_env, section, state_fixture

fulfil_seed = load_fixture_module("odoo_fulfil_seed")
orders_seed = load_fixture_module("odoo_orders_seed")
VERSION = 18
URL = os.environ.get("ODOO18_NODELIVERY_URL", "http://127.0.0.1:8072")
DB = os.environ.get("ODOO18_NODELIVERY_DB", "o18nodel")
LOGIN = 3
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
PRICE = Decimal(15000)

state = state_fixture


@pytest.fixture(autouse=True)
def _replay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(password_env(VERSION), password(VERSION))
    block_network(monkeypatch)


def odoo_section() -> dict[str, Any]:
    out = section(VERSION)
    out["connection"] = {**out["connection"], "url": URL, "db": DB, "overlap_seconds": 1}
    return out


def test_a_delivery_of_an_odoo_without_the_delivery_module_ships_without_tracking(state: StateStore) -> None:
    rpc = seed_data.Rpc(URL, DB, os.environ.get("ODOO_USER", "admin"), password(VERSION)) if RECORDING else None
    if rpc is not None:
        orders_seed.reset_orders(rpc)
    order = Order(marketplace="elryan", account="main", remote_id="ND-1", status=OrderStatus.NEW, raw_status="new",
                  created_at=CREATED, currency="IQD", channel_order_id="ND-1",
                  lines=(OrderLine("ND-1-L1", "OR-001", 2, PRICE, "IQD"),
                         OrderLine("ND-1-L2", "OR-002", 1, PRICE, "IQD")))
    with odoo_cassette(VERSION, "fulfil_nodelivery_import"):
        outcomes = open_odoo_destination(odoo_section(), None, Path(".")).import_orders(
            [order], OrderBook(state, "elryan", "main"), "fulfil_nodelivery_import")
    assert [o.result for o in outcomes] == [OrderResult.IMPORTED]
    item = ImportedOrder(outcomes[0].order, str(outcomes[0].remote_id))
    if rpc is not None:  # the user validates the delivery: no carrier, no tracking field on this server
        picking = fulfil_seed.deliveries(rpc, int(item.destination_id), state="assigned")[0]
        fulfil_seed.validate(rpc, picking["id"], tracking=None, carrier_id=None)
        time.sleep(3)

    with odoo_cassette(VERSION, "fulfil_nodelivery_read") as cass:
        source = open_odoo_source(odoo_section(), None, Path("."))
        try:
            got = source.read([item], None, NOW)
        finally:
            source.close()
    [progress] = got.progress
    [shipment] = progress.shipments
    assert shipment.tracking_number is None and shipment.carrier is None
    assert {(ln.line_id, ln.sku, ln.quantity) for ln in shipment.lines} == {("ND-1-L1", "OR-001", 2),
                                                                             ("ND-1-L2", "OR-002", 1)}
    assert progress.fully_shipped(order) and not progress.cancelled
    made = calls(cass)
    # the refused read, the picking fields, the read again without the delivery module's fields, then as usual
    assert Counter(f"{m}.{meth}" for m, meth, _ in made[LOGIN:]) == Counter({
        "sale.order.search_read": 1, "stock.picking.search_read": 2, "stock.picking.fields_get": 1,
        "stock.move.fields_get": 1, "stock.move.search_read": 1, "product.product.search_read": 1})
    reads = [arg for m, meth, arg in made if (m, meth) == ("stock.picking", "search_read")]
    assert "carrier_tracking_ref" in reads[0]["fields"]
    assert reads[1]["fields"] == ["id", "name", "sale_id", "date_done", "write_date"]
