"""The oversell guard's arithmetic: open quantities over every marketplace's order book, what the source already
accounts for, and the stock policy taking them off (before the buffer, never below 0); the orders: section."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import load_profile
from connector.model import Product, StockLevel, Variant
from connector.orders.book import OrderBook
from connector.orders.model import OrderStatus
from connector.orders.reservation import accounted_by, reserve
from connector.sync.state import StateStore
from connector.sync.stock_policy import StockPolicy
from tests.orders_fixtures import make_order, moved


def test_open_orders_of_every_marketplace_add_up_per_sku(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as state:
        OrderBook(state, "elebne", "shop").remember([
            make_order("E1", ("TEA", 1), ("SOAP", 2)),
            make_order("E2", ("TEA", 4), status=OrderStatus.SHIPPED),  # left the warehouse: the source knows
            make_order("E3", ("TEA", 8), status=OrderStatus.CANCELLED)])
        OrderBook(state, "ecomlinx", "main").remember([make_order("X1", ("TEA", 1), marketplace="ecomlinx",
                                                                  account="main")])
        held = reserve(state, [("elebne", "shop"), ("ecomlinx", "main")])
        assert held.quantities == {"TEA": 2, "SOAP": 2} and held.orders == 2
        # an order this run read (a dry run does not remember it) wins over the book's older version
        pulled = [moved(make_order("E1", ("TEA", 1), ("SOAP", 2)), OrderStatus.CANCELLED),
                  make_order("E9", ("CAP", 1))]
        assert reserve(state, [("elebne", "shop")], pulled=pulled).quantities == {"CAP": 1}
        assert reserve(state, []).quantities == {}


def test_orders_odoo_imported_and_confirmed_are_not_held_back_twice(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as state:
        book = OrderBook(state, "elebne", "shop")
        confirmed, draft = make_order("A", ("TEA", 1)), make_order("B", ("TEA", 2))
        waiting = make_order("C", ("TEA", 4))
        book.remember([confirmed, draft, waiting])
        book.mark_imported("odoo", confirmed, "41", {"reference": confirmed.reference, "confirmed": True})
        book.mark_imported("odoo", draft, "42", {"reference": draft.reference, "confirmed": False})
        held = reserve(state, [("elebne", "shop")], accounted="odoo")
        assert held.quantities == {"TEA": 6} and held.accounted == 1
        assert "not counted twice" in held.note
        # a workbook or supplier source never sees Odoo's reservations: every open order counts
        assert reserve(state, [("elebne", "shop")], accounted=None).quantities == {"TEA": 7}
    assert accounted_by("odoo", True, "odoo") == "odoo"
    assert accounted_by("odoo", True, "aleta") is None and accounted_by("odoo", True, "spreadsheet") is None
    assert accounted_by("workbook", False, "spreadsheet") is None


def variant(sku: str, qty: int) -> Variant:
    return Variant(sku=sku, stock={"Main": StockLevel("Main", available=qty)}, stock_known=True)


@pytest.mark.parametrize(("stock", "reserved", "policy", "listed"), [
    (5, 2, {}, 3),
    (1, 1, {}, 0),  # the last unit sold elsewhere
    (1, 3, {}, 0),  # never below 0
    (5, 2, {"buffer": 3}, 0),  # 3 left is at the buffer
    (10, 2, {"percent": 50}, 4),  # the percentage of what is left
    (10, 2, {"maximum": 5}, 5),
])
def test_the_stock_policy_takes_reservations_off_first(stock: int, reserved: int, policy: dict, listed: int) -> None:
    p = StockPolicy(**policy, reserved={"TEA": reserved})
    v = variant("TEA", stock)
    product = Product(key="TEA", name="Tea", variants=[v, variant("SOAP", 4)])
    p.apply([product])
    assert v.qty == listed
    assert product.variants[1].qty == StockPolicy(**policy).listed(variant("SOAP", 4))  # no order: as before
    assert p.reservations([product]) == {"TEA": {"reserved": reserved, "listed": listed}}


def test_the_orders_section_defaults_and_paths(tmp_path: Path) -> None:
    profile = tmp_path / "shop.yaml"
    profile.write_text("source: products.xlsx\ntargets: {elebne: {}, ecomlinx: {}}\n"
                       "orders: {workbook: out/orders.csv}\n", encoding="utf-8")
    section = load_profile(profile).orders
    assert section is not None
    assert (section.to, section.workbook, section.from_targets) == ("workbook", tmp_path / "out" / "orders.csv", None)
    assert (section.lookback_days, section.overlap_minutes, section.reserve_open_orders) == (7, 10, True)
    profile.write_text("source: products.xlsx\ntargets: {elebne: {}, ecomlinx: {}}\n"
                       "orders: {to: odoo, from: ecomlinx, odoo: {team: Marketplaces}, lookback_days: 2.5}\n",
                       encoding="utf-8")
    section = load_profile(profile).orders
    assert section is not None
    assert (section.to, section.from_targets, section.odoo, section.lookback_days) == (
        "odoo", ["ecomlinx"], {"team": "Marketplaces"}, 2.5)
    profile.write_text("source: products.xlsx\ntargets: {elebne: {}}\n", encoding="utf-8")
    assert load_profile(profile).orders is None


def test_the_mass_change_guard_names_open_orders_as_the_cause() -> None:
    from connector.sources.base import SourceResult
    from connector.sync.guard import likely_causes

    policy = StockPolicy(reserved={"TEA": 1, "SOAP": 2})
    products = [Product(key=sku, name=sku, variants=[variant(sku, qty)]) for sku, qty in (("TEA", 1), ("SOAP", 2))]
    policy.apply(products)
    causes = likely_causes(SourceResult(products=products), policy)
    assert any("2 SKU(s) are sold out by open marketplace orders" in c for c in causes)
    assert not any("sold out" in c for c in likely_causes(SourceResult(products=products), StockPolicy()))


class _OdooLike:
    name, reserves_imported = "odoo", True


@pytest.mark.parametrize(("source", "odoo", "held"), [
    ("{type: odoo, url: 'https://erp.example.com', db: prod, user: c, password_env: P}", "{}", {"TEA": 2}),
    ("{type: odoo, url: 'https://erp.example.com', db: prod, user: c, password_env: P}",
     "{connection: {url: 'https://erp.example.com'}}", {"TEA": 2}),
    ("{type: odoo, url: 'https://erp.example.com', db: prod, user: c, password_env: P}",
     "{connection: {url: 'https://other.example.com'}}", {"TEA": 3}),  # stock read from another Odoo
    ("products.xlsx", "{}", {"TEA": 3}),  # a workbook never sees Odoo's reservations
])
def test_which_orders_the_profile_holds_back_with_odoo(tmp_path: Path, source: str, odoo: str,
                                                       held: dict[str, int]) -> None:
    from connector.orders.profile import reservation
    from connector.sync.session import SyncOptions

    profile_path = tmp_path / "shop.yaml"
    profile_path.write_text(f"source: {source}\ntargets: {{elebne: {{account: shop}}}}\n"
                            f"orders: {{to: odoo, from: [elebne], odoo: {odoo}}}\n", encoding="utf-8")
    profile = load_profile(profile_path)
    assert profile.orders is not None
    with StateStore.open(tmp_path / "s.sqlite") as state:
        book = OrderBook(state, "elebne", "shop")
        confirmed = make_order("A", ("TEA", 1))
        book.remember([confirmed, make_order("B", ("TEA", 2))])
        book.mark_imported("odoo", confirmed, "41", {"confirmed": True})
        got = reservation(profile, profile.orders, _OdooLike(), state,  # type: ignore[arg-type]
                          lambda t: SyncOptions(target=t, state_path=tmp_path / "s.sqlite", secret=None,
                                                account="shop"))
    assert got.quantities == held
