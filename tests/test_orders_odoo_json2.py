"""Marketplace orders into a real Odoo 19 over JSON-2 (``backend: json2``, a bearer API key), recorded.

The JSON-RPC recordings (tests/test_orders_odoo.py) cover the orders step on 16, 18 and 19; these replay the same
steps sent over JSON-2 to the same Odoo 19 orders database: customers and sale orders made in pages and
confirmed, a lost state that finds every order by its reference, a run killed after Odoo made the sale orders
(or before their confirmation) and run again, and orders that need attention.  Recorded with
``ODOO_RECORD=1 ODOO19_JSON2=1 ODOO19_JSON2_KEY=<admin's API key>`` beside the orders server of
tests/orders_odoo_fixtures.py (``ODOO19_ORDERS_URL`` / ``ODOO19_ORDERS_DB``); cassettes
``cassettes/odoo19/<name>_json2.yaml``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connector.orders.book import OrderBook
from connector.orders.odoo import OdooOrderDestination, open_odoo_destination
from connector.orders.odoo.destination import CREATE_ACTION, DRAFT
from connector.orders.odoo.partners import partner_key
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
from tests.orders_odoo_fixtures import json2_target_fixture, make_order, reset_database, section, state_fixture

state = state_fixture


class SimulatedKill(BaseException):
    """The process dies here (nothing catches a BaseException that is not an Exception)."""


target = json2_target_fixture


def destination(target: Target, **extra: Any) -> OdooOrderDestination:
    settings = section(target.version, **extra)
    settings["connection"] = {**settings["connection"], "backend": JSON2, "password_env": password_var(target)}
    return open_odoo_destination(settings, None, Path("."))


def methods(cass: Any) -> Counter[str]:
    return Counter(f"{c.model}.{c.method}" for c in recorded_calls(cass.requests))


def test_orders_made_in_pages_confirmed_then_found_by_reference(target: Target, state: StateStore) -> None:
    reset_database(target.version, password(target))
    orders = [make_order("J2", i) for i in range(120)]
    book = OrderBook(state, "elryan", "main")
    with odoo_cassette(target, "orders_1_import") as cass:
        dest = destination(target)
        outcomes = dest.import_orders(orders, book, "run-1")
    assert isinstance(dest.backend, Json2Backend)
    assert [o.result for o in outcomes] == [OrderResult.IMPORTED] * 120, [o.reason for o in outcomes][:3]
    assert len({o.remote_id for o in outcomes}) == 120
    made = recorded_calls(cass.requests)
    count = methods(cass)
    assert count["sale.order.create"] == 2 and count["sale.order.action_confirm"] == 2
    assert count["res.partner.create"] == 1
    creates = [c.kwargs["vals_list"] for c in made if (c.model, c.method) == ("sale.order", "create")]
    assert [len(c) for c in creates] == [100, 20]
    first = creates[0][0]
    assert first["client_order_ref"] == first["origin"] == "elryan:J2-0000"
    assert first["order_line"][0][2]["price_unit"] == 15000.0
    partners = next(c.kwargs["vals_list"] for c in made if (c.model, c.method) == ("res.partner", "create"))
    assert len({p["ref"] for p in partners}) == len(partners) == len({partner_key(o) for o in orders} - {None})
    confirmed = [c.args[0] for c in made if (c.model, c.method) == ("sale.order", "action_confirm")]
    assert sorted(i for ids in confirmed for i in ids) == sorted(int(o.remote_id) for o in outcomes)
    assert len(book.imported("odoo")) == 120 and book.imported(DRAFT) == {}

    # the state lost: every order is found in Odoo by its reference over JSON-2 too, none made twice
    with StateStore.open(Path(str(state.path)).with_name("fresh.sqlite")) as fresh, \
            odoo_cassette(target, "orders_2_state_lost") as cass:
        lost = destination(target).import_orders(orders, OrderBook(fresh, "elryan", "main"), "run-2")
    assert [o.result for o in lost] == [OrderResult.UNCHANGED] * 120
    assert [o.remote_id for o in lost] == [o.remote_id for o in outcomes]
    assert not methods(cass)["sale.order.create"] and not methods(cass)["sale.order.action_confirm"]


@pytest.mark.parametrize("kill", ["after_create", "before_confirm"])
def test_a_killed_run_run_again_never_makes_a_second_sale_order(target: Target, state: StateStore, kill: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    reset_database(target.version, password(target))
    orders = [make_order("J" + kill[0].upper(), i) for i in range(3)]
    book = OrderBook(state, "elryan", "main")
    with monkeypatch.context() as mp:
        if kill == "after_create":
            original = Json2Backend.create

            def create(self: Any, model: str, vals_list: list[dict[str, Any]], context: Any = None) -> list[int]:
                ids = original(self, model, vals_list, context)
                if model == "sale.order":
                    raise SimulatedKill("killed after the create, before it was recorded")
                return ids

            mp.setattr(Json2Backend, "create", create)
        else:
            real = Json2Backend.call_on

            def call_on(self: Any, model: str, meth: str, ids: list[int], context: Any = None) -> Any:
                if model == "sale.order" and meth == "action_confirm":
                    raise SimulatedKill("killed after the create, before the confirmation")
                return real(self, model, meth, ids, context)

            mp.setattr(Json2Backend, "call_on", call_on)
        with odoo_cassette(target, f"orders_kill_{kill}_1"), pytest.raises(SimulatedKill):
            destination(target).import_orders(orders, book, "run-killed")
    if kill == "after_create":
        assert book.imported("odoo") == {}
        assert [e["action"] for e in state.journal_open("elryan", "main")] == [CREATE_ACTION]
    else:
        assert len(book.imported(DRAFT)) == 3 and book.imported("odoo") == {}

    with odoo_cassette(target, f"orders_kill_{kill}_2") as cass:
        dest = destination(target)
        outcomes = dest.import_orders(orders, book, "run-again")
        existing = dest.backend.search_count("sale.order", [("client_order_ref", "in", [o.reference for o in orders]),
                                                            ("state", "=", "sale")])
    assert [o.result for o in outcomes] == [OrderResult.IMPORTED] * 3, [o.reason for o in outcomes]
    assert existing == 3
    count = methods(cass)
    assert count["sale.order.create"] == 0 and count["sale.order.action_confirm"] == 1
    assert len(book.imported("odoo")) == 3 and book.imported(DRAFT) == {}
    assert state.journal_open("elryan", "main") == []


def test_orders_needing_attention_over_json2(target: Target, state: StateStore) -> None:
    reset_database(target.version, password(target))
    unknown_sku = make_order("JA", 0, skus=("OR-001", "NOT-IN-ODOO"))
    no_pricelist = make_order("JA", 1, marketplace="ecomlinx", currency="GBP")
    walk_in = make_order("JA", 3, cust=False, shipping=None)
    books = {m: OrderBook(state, m, "main") for m in ("elryan", "ecomlinx")}
    with odoo_cassette(target, "orders_attention_1"):
        dest = destination(target)
        res = {}
        for m, book in books.items():
            res.update({o.order.key: o for o in dest.import_orders(
                [o for o in (unknown_sku, no_pricelist, walk_in) if o.marketplace == m], book, "run-1")})
    assert res[unknown_sku.key].result is OrderResult.ATTENTION
    assert "SKU NOT-IN-ODOO is not in Odoo" in res[unknown_sku.key].reason
    assert res[no_pricelist.key].result is OrderResult.ATTENTION
    assert "no pricelist in GBP" in res[no_pricelist.key].reason
    assert res[walk_in.key].result is OrderResult.IMPORTED
