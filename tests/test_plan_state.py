"""Plan (diff against confirmed state), state file (lock, journal, budgets, cursors) and stock policy."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.errors import ConfigError, StateLockedError
from connector.jsonutil import canonical_json, payload_hash, to_wire
from connector.mapping import load_mapping, shipped_mapping
from connector.marketplaces.elebne.adapter import ElebneAdapter
from connector.model import ABSENT, Money, Product, StockLevel, Variant
from connector.sync.plan import build_plan, diff_payload
from connector.sync.state import StateStore
from connector.sync.stock_policy import StockPolicy


def product(key: str, price: str = "10", qty: int = 5, name: str = "P") -> Product:
    v = Variant(sku=key, price=Money(Decimal(price), "MRU"), stock={"Main": StockLevel("Main", available=qty)},
                stock_known=True)
    p = Product(key=key, name=name, variants=[v])
    StockPolicy().apply([p])
    return p


@pytest.fixture
def state(state_location: str | Path):
    with StateStore.open(state_location) as s:
        yield s


def adapter() -> ElebneAdapter:
    return ElebneAdapter(client=None, account="acct")  # type: ignore[arg-type]


def confirm_all(state: StateStore, plan) -> None:
    for op in plan.ops:
        state.confirm("elebne", "acct", op.kind, [(op.key, op.digest, op.canonical, "rid-" + op.key)])


def test_first_plan_creates_then_nothing(state: StateStore) -> None:
    m = load_mapping(shipped_mapping("elebne"))
    products = [product("A"), product("B")]
    plan = build_plan(products, m, adapter(), state, "elebne", "acct")
    assert sorted((op.action, op.key) for op in plan.ops) == [
        ("create", "A"), ("create", "B"), ("stock", "A"), ("stock", "B")]
    confirm_all(state, plan)
    again = build_plan([product("A"), product("B")], m, adapter(), state, "elebne", "acct")
    assert again.ops == []
    assert again.unchanged == {"product": {"A", "B"}, "stock": {"A", "B"}}


def test_price_change_is_an_update_of_changed_fields_only(state: StateStore) -> None:
    m = load_mapping(shipped_mapping("elebne"))
    confirm_all(state, build_plan([product("A")], m, adapter(), state, "elebne", "acct"))
    plan = build_plan([product("A", price="11.50")], m, adapter(), state, "elebne", "acct")
    assert [(op.action, op.body) for op in plan.ops] == [("update", {"price": 1150, "externalId": "A"})]


def test_stock_change_only_sends_stock(state: StateStore) -> None:
    m = load_mapping(shipped_mapping("elebne"))
    confirm_all(state, build_plan([product("A")], m, adapter(), state, "elebne", "acct"))
    plan = build_plan([product("A", qty=9)], m, adapter(), state, "elebne", "acct")
    assert [(op.action, op.body["quantity"]) for op in plan.ops] == [("stock", 9)]


def test_absent_stock_plans_no_stock_operation(state: StateStore) -> None:
    m = load_mapping(shipped_mapping("elebne"))
    p = Product(key="N", name="No stock", variants=[Variant(sku="N", price=Money(Decimal(1), "MRU"))])
    StockPolicy().apply([p])
    plan = build_plan([p], m, adapter(), state, "elebne", "acct")
    assert [op.action for op in plan.ops] == ["create"]
    assert plan.no_stock == {"N"}


def test_absent_column_later_does_not_resend(state: StateStore) -> None:
    m = load_mapping(shipped_mapping("elebne"))
    with_desc = product("A")
    with_desc.description = "hello"
    confirm_all(state, build_plan([with_desc], m, adapter(), state, "elebne", "acct"))
    plan = build_plan([product("A")], m, adapter(), state, "elebne", "acct")  # description column absent now
    assert [op.action for op in plan.ops] == ["refresh"]  # nothing to send, only the state hash moves
    confirm_all(state, plan)
    assert state.bodies("elebne", "acct", "product", ["A"])["A"]["description"] == "hello"


def test_diff_payload_sends_only_new_or_changed_children() -> None:
    old = {"name": "x", "variants": [{"label": "M", "price": 1}, {"label": "L", "price": 2}]}
    new = {"name": "x",
           "variants": [{"label": "M", "price": 1}, {"label": "L", "price": 3}, {"label": "XL", "price": 4}]}
    changes = diff_payload(old, new, frozenset(), {"variants": "label"})
    assert changes == {"variants": [{"label": "L", "price": 3}, {"label": "XL", "price": 4}]}
    assert diff_payload(old, old, frozenset(), {"variants": "label"}) == {}


def test_create_only_fields_never_in_updates() -> None:
    assert diff_payload({"externalId": "A"}, {"externalId": "B", "name": "n"}, frozenset({"externalId"}), {}) == {
        "name": "n"}


def test_state_lock_is_exclusive(state_location: str | Path) -> None:
    path = state_location
    with StateStore.open(path), pytest.raises(StateLockedError, match="another run is using"):
        StateStore.open(path)
    StateStore.open(path).close()  # released


def test_journal_and_stale_batches(state: StateStore) -> None:
    jid = state.journal_sent("run1", "elebne", "acct", "create", ["A"], "key-1")
    assert state.journal_open("elebne", "acct")[0]["idempotency_key"] == "key-1"
    assert state.journal_close_stale("elebne", "acct", "interrupted") == 1
    assert state.journal_open("elebne", "acct") == []
    state.journal_done(jid, ok=True)


def test_budget_counts_and_cursors_survive_reopen(state_location: str | Path) -> None:
    path = state_location
    with StateStore.open(path) as s:
        c = s.budget_counter("elebne", "acct")
        c.add_today("write", "2026-11-23", 3)
        s.set_cursor("odoo:db", "products", "2026-11-23T00:00:00Z")
    with StateStore.open(path) as s:
        assert s.budget_counter("elebne", "acct").used_today("write", "2026-11-23") == 3
        assert s.get_cursor("odoo:db", "products") == "2026-11-23T00:00:00Z"


def test_stock_policy() -> None:
    v = Variant(sku="X", stock={"WH": StockLevel("WH", available=7, on_hand=9, incoming=5),
                                "Shop": StockLevel("Shop", available=3)}, stock_known=True)
    assert StockPolicy().listed(v) == 10
    assert StockPolicy(locations=("WH",)).listed(v) == 7
    assert StockPolicy(quantity="on_hand").listed(v) == 12
    assert StockPolicy(quantity="incoming_total").listed(v) == 15
    assert StockPolicy(buffer=10).listed(v) == 0
    assert StockPolicy(maximum=4).listed(v) == 4
    assert StockPolicy(percent=33).listed(v) == 3  # 3.3 rounded down
    assert StockPolicy().listed(Variant(sku="U")) is ABSENT
    assert StockPolicy().listed(v, kind="service") is ABSENT
    neg = Variant(sku="N", stock={"WH": StockLevel("WH", available=-4)}, stock_known=True)
    assert StockPolicy().listed(neg) == 0
    with pytest.raises(ConfigError):
        StockPolicy(quantity="forecast")


def test_money_is_decimal_and_wire_numbers_are_exact() -> None:
    with pytest.raises(TypeError):
        Money(12.5, "MRU")  # type: ignore[arg-type]
    assert canonical_json({"p": Decimal("49.90")}) == '{"p":"49.90"}'
    assert to_wire({"p": Decimal("49.90"), "q": Decimal("1250")}) == {"p": 49.9, "q": 1250}
    assert payload_hash({"a": 1, "b": 2}) == payload_hash({"b": 2, "a": 1})


def test_payloads_are_checked_strictly_before_sending() -> None:
    from connector.marketplaces.elebne.payloads import check

    assert check("create", {"externalId": "A", "name": "n", "price": 100}) is None
    assert "price Input should be a valid integer" in check("create", {"externalId": "A", "name": "n", "price": "7"})
    assert "name is required to create a product on Elebne" in check("create", {"externalId": "A", "price": 1})
    assert check("update", {"externalId": "A", "price": True})  # a bool is not an int
    assert "unique" in check("create", {"externalId": "A", "name": "n", "price": 1,
                                        "variants": [{"label": "M"}, {"label": "m"}]})
