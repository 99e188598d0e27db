"""Combo products (Odoo 18, product type ``combo``) read back from a real Odoo 18: a combo ships as its items.

Odoo's order form adds one line per chosen item of a combo, linked to the combo line, and delivers the items,
never the combo line (whose own delivered quantity Odoo keeps at 0).  Read per SKU, the items matched no line of
the marketplace's order ("shipped CT-CMB-A x1, which no line of the order takes: not sent") and the combo line
waited for a delivery that never comes.  A combo line without items (as one created over RPC is) has nothing
to ship at all: the order waited silently, exit code 0, for ever.

Recorded on an empty Odoo 18 database with ``sale_management``, ``stock`` and ``delivery``, seeded by
``tests/fixtures/odoo_combo_seed.py`` (applied at record time): CT-CMB = one CT-CMB-A + one CT-CMB-B, sold once and
shipped whole; sold twice with a CT-CMB-X and shipped in two deliveries; a bare combo line beside a CT-CMB-X
that shipped; a bare combo line alone.  Recording (defaults ``http://127.0.0.1:8018`` and ``lab18``)::

    odoo-bin -d lab18 -i sale_management,stock,delivery --without-demo=all --http-port 8018
    export ODOO18_COMBO_URL=http://127.0.0.1:8018 ODOO18_COMBO_DB=lab18 ODOO_PASSWORD=...
    ODOO_RECORD=1 .venv/bin/pytest -p no:cacheprovider tests/test_fulfil_odoo_combos.py
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.config import FulfilmentSection
from connector.errors import EXIT_FAILED
from connector.fulfilment.model import FulfilResult, OrderProgress
from connector.fulfilment.odoo import OdooFulfilmentSource
from connector.fulfilment.source import ImportedOrder, SourceRead
from connector.orders.book import OrderBook
from connector.orders.model import Order
from connector.orders.odoo.settings import parse_settings
from connector.sources.odoo.backend import open_backend
from connector.sync.state import StateStore
from tests.odoo_vcr import (
    RECORDING,
    block_network,
    load_fixture_module,
    odoo_cassette,
    password,
    password_var,
    recorded_calls,
    seed_data,
)
from tests.orders_fixtures import make_order
from tests.test_fulfilment_run import ACCOUNT, FakeSource, FakeWriter, rows, run
from tests.test_fulfilment_run import writer as writer  # the fixture, for the run test

load_fixture_module("odoo_fulfil_seed")  # imported by the combo seed
combo_seed = load_fixture_module("odoo_combo_seed")
VERSION = 18  # combos came with Odoo 18
URL = os.environ.get("ODOO18_COMBO_URL", "http://127.0.0.1:8018")  # an empty database of its own, seeded here
DB = os.environ.get("ODOO18_COMBO_DB", "lab18")
CREATED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # before the deliveries: the read's window starts here
NOW = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)


@dataclass
class ComboRead:
    got: SourceRead
    orders: dict[str, Order]  # client_order_ref -> the marketplace's order
    calls: list[str]  # model.method of the model calls (execute_kw): the test's lookup, then the read's
    sent: int  # the HTTP requests the backend sent (logins included)
    recorded: int  # the requests of the cassette


@pytest.fixture(scope="module")
def combo_read() -> Iterator[ComboRead]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(password_var(VERSION), password(VERSION))
        if RECORDING:
            combo_seed.setup(seed_data.Rpc(URL, DB, os.environ.get("ODOO_USER", "admin"), password(VERSION)))
        else:
            block_network(mp)
        settings = parse_settings({"connection": {"url": URL, "db": DB, "user": os.environ.get("ODOO_USER", "admin"),
                                                  "password_env": password_var(VERSION)}}, None)
        with odoo_cassette(VERSION, "fulfil_combos") as cass:
            backend = open_backend(settings.connection)
            refs = sorted(combo_seed.ORDERS)
            sales = backend.search_read("sale.order", [("client_order_ref", "in", refs)], ["id", "client_order_ref"])
            sale_of = {r["client_order_ref"]: r["id"] for r in sales}
            orders = {ref: make_order(ref, *[(sku, n) for sku, n, _ in combo_seed.ORDERS[ref][0]], created=CREATED,
                                      marketplace="ecomlinx", account=ACCOUNT) for ref in refs}
            items = [ImportedOrder(orders[ref], str(sale_of[ref])) for ref in refs]
            got = OdooFulfilmentSource(settings, backend=backend).read(items, None, NOW)
            made = [f"{c.model}.{c.method}" for c in recorded_calls(cass.requests)]
            recorded = len(cass.requests)
        yield ComboRead(got, orders, made, backend.calls, recorded)


def _progress(read: ComboRead, ref: str) -> OrderProgress:
    [progress] = [p for p in read.got.progress if p.order_key == read.orders[ref].key]
    return progress


def _shipped(read: ComboRead, ref: str) -> list[tuple[str | None, dict[str, int]]]:
    progress = _progress(read, ref)
    return [(s.tracking_number, {ln.sku: ln.quantity for ln in s.lines}) for s in progress.shipments]


def test_a_combo_ships_when_its_items_ship(combo_read: ComboRead) -> None:
    assert _shipped(combo_read, "CONNECTOR-CMB-WHOLE") == [("CMB-T1", {"CT-CMB": 1})]
    progress = _progress(combo_read, "CONNECTOR-CMB-WHOLE")
    assert progress.problems == () and progress.fully_shipped(combo_read.orders["CONNECTOR-CMB-WHOLE"])


def test_combos_whose_items_went_in_two_deliveries_ship_as_the_items_allow(combo_read: ComboRead) -> None:
    """The first delivery held 2 CT-CMB-A and 1 CT-CMB-B (one whole combo) with the CT-CMB-X; the backorder the
    second CT-CMB-B: the second combo."""
    assert _shipped(combo_read, "CONNECTOR-CMB-SPLIT") == [("CMB-T2a", {"CT-CMB": 1, "CT-CMB-X": 1}),
                                                          ("CMB-T2b", {"CT-CMB": 1})]
    assert _progress(combo_read, "CONNECTOR-CMB-SPLIT").fully_shipped(combo_read.orders["CONNECTOR-CMB-SPLIT"])


def test_items_are_never_reported_as_shipped_but_not_ordered(combo_read: ComboRead) -> None:
    assert not any("no line of the order takes" in n for n in combo_read.got.notes), combo_read.got.notes


def test_a_bare_combo_line_beside_shipped_lines_is_a_problem_saying_what_to_do(combo_read: ComboRead) -> None:
    progress = _progress(combo_read, "CONNECTOR-CMB-BARE")
    assert _shipped(combo_read, "CONNECTOR-CMB-BARE") == [("CMB-T3", {"CT-CMB-X": 1})]
    [problem] = progress.problems
    assert "CONNECTOR-CMB-BARE-1 (CT-CMB x1) is a combo product" in problem
    assert "no items to ship" in problem and "Edit Configuration button of its CT-CMB line" in problem


def test_the_read_costs_its_combo_calls_only_where_combos_are(combo_read: ComboRead) -> None:
    """Beyond the usual read (cancelled orders, deliveries, move fields, done moves, their SKUs): the line fields,
    the combo lines and the items' moves (the orders whose deliveries hold what no line takes), the combo's SKU;
    the lines left looked up as services (the exact and the spaced lookup: the second tells the combos), and the
    combo lines of the order whose combo is all that is left."""
    assert combo_read.sent == combo_read.recorded == 2 * 3 + len(combo_read.calls)  # two logins (version, login,
    #                                                                                   user context), the calls
    assert combo_read.calls[0] == "sale.order.search_read"  # the test's own lookup of the sale orders
    assert Counter(combo_read.calls[1:]) == Counter({
        "sale.order.search_read": 1, "stock.picking.search_read": 1, "stock.move.fields_get": 1,
        "stock.move.search_read": 2, "product.product.search_read": 4, "sale.order.line.fields_get": 1,
        "sale.order.line.search_read": 2})


def test_the_run_holds_the_order_with_a_bare_combo_line_as_needs_attention(
        combo_read: ComboRead, tmp_path: Path, writer: FakeWriter) -> None:
    """Exit code 1 and the reason in the report; the order's other shipment is not sent meanwhile."""
    with StateStore.open(tmp_path / "state.sqlite") as state:
        book = OrderBook(state, "ecomlinx", ACCOUNT)
        orders = list(combo_read.orders.values())
        book.remember(orders)
        for o in orders:
            book.mark_imported("odoo", o, o.key, {})
        settings = FulfilmentSection(carriers={"ecomlinx": {"connector express": "Delhivery"}})
        result = run(state, tmp_path, FakeSource(list(combo_read.got.progress)), settings)
        assert result.exit_code == EXIT_FAILED
        outcome: dict[str, Any] = {key: (res, reason) for key, res, reason in rows(result)}
        bare = combo_read.orders["CONNECTOR-CMB-BARE"].key
        assert outcome[bare][0] == FulfilResult.ATTENTION.value and "no items to ship" in outcome[bare][1]
        assert {key for key, _plan in writer.calls} == {combo_read.orders[r].key
                                                         for r in ("CONNECTOR-CMB-WHOLE", "CONNECTOR-CMB-SPLIT")}
