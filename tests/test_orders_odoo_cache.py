"""The Odoo ids kept in the state between runs (connector/orders/odoo/cache.py), on the in-memory Odoo of
tests/test_orders_odoo_units.py: a warm run looks nothing up again, only what the orders need is looked up,
and an id deleted in Odoo since is dropped and looked up again (the refused page tried once more)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.orders.book import OrderBook
from connector.orders.odoo.cache import CURSOR_SOURCE
from connector.orders.outcome import OrderResult
from connector.sync.state import StateStore
from tests.test_orders_odoo_units import FakeOdoo, dest, order

LOOKUPS = ("sale.order.line.fields_get", "crm.team.search_read", "stock.warehouse.search_read",
           "crm.tag.search_read", "product.pricelist.search_read", "res.country.search_read")


@pytest.fixture
def book(tmp_path: Path) -> OrderBook:
    state = StateStore.open(tmp_path / "state.sqlite")
    yield OrderBook(state, "elryan", "main")
    state.close()


def lookups(fake: FakeOdoo) -> list[str]:
    return [m for m in fake.methods() if m in LOOKUPS]


def test_a_warm_run_looks_up_nothing_the_settings_name(book: OrderBook) -> None:
    fake = FakeOdoo()
    assert all(o.result is OrderResult.IMPORTED for o in dest(fake).import_orders([order(1), order(2)], book, "r1"))
    assert lookups(fake) == list(LOOKUPS)
    fake.log.clear()
    out = dest(fake).import_orders([order(3), order(4)], book, "r2")  # a new run, the same state
    assert all(o.result is OrderResult.IMPORTED for o in out)
    assert lookups(fake) == []
    assert fake.methods() == ["sale.order.search_read", "product.product.search_read", "res.partner.search_read",
                              "res.partner.create", "sale.order.create", "sale.order.action_confirm"]
    so = fake.db["sale.order"][-1]
    assert (so["team_id"], so["warehouse_id"], so["tag_ids"], so["pricelist_id"]) == (1, 1, [(6, 0, [1])], 1)


def test_another_server_version_or_database_starts_afresh(book: OrderBook) -> None:
    fake = FakeOdoo()
    fake.server_version = "16.0"
    dest(fake).import_orders([order(1)], book, "r1")
    fake.server_version = "17.0"  # upgraded: field names and ids may have moved
    fake.log.clear()
    dest(fake).import_orders([order(2)], book, "r2")
    assert "sale.order.line.fields_get" in fake.methods() and "crm.team.search_read" in fake.methods()
    assert len(book.state.get_cursor(CURSOR_SOURCE, '["http://127.0.0.1:9", "shop", "17.0", "admin"]') or "") > 2


def test_only_what_the_orders_marketplaces_need_is_looked_up(book: OrderBook) -> None:
    fake = FakeOdoo()
    out = dest(fake).import_orders([order(1, marketplace="ecomlinx")], book, "r1")  # EcomLinx: no team, tags...
    assert out[0].result is OrderResult.IMPORTED
    assert not {"crm.team.search_read", "stock.warehouse.search_read", "crm.tag.search_read"} & set(fake.methods())
    assert "team_id" not in fake.db["sale.order"][0]


def test_a_cached_id_deleted_in_odoo_is_looked_up_again_and_the_page_created(book: OrderBook) -> None:
    fake = FakeOdoo()
    dest(fake).import_orders([order(1)], book, "r1")
    # the sales team is deleted and made again in Odoo: the cached id 1 is gone
    fake.db["crm.team"] = [{"id": 7, "name": "Elryan"}]
    fake.refuse[("sale.order", "create")] = lambda vals: (
        "Record does not exist or has been deleted. (Record: crm.team(1,))" if vals.get("team_id") == 1 else None)
    fake.log.clear()
    out = dest(fake).import_orders([order(2), order(3)], book, "r2")
    assert [o.result for o in out] == [OrderResult.IMPORTED] * 2
    m = fake.methods()
    assert m.count("sale.order.create") == 2  # refused once, then created with the fresh id
    assert m.count("crm.team.search_read") == 1 and m.count("product.pricelist.search_read") == 1
    assert [so["team_id"] for so in fake.db["sale.order"][1:]] == [7, 7]
    fake.log.clear()
    dest(fake).import_orders([order(4)], book, "r3")  # the fresh ids are kept in turn (the countries, dropped
    assert lookups(fake) == ["res.country.search_read"]  # with the rest, are looked up once more)
    assert fake.db["sale.order"][-1]["team_id"] == 7


def test_a_refusal_unrelated_to_cached_ids_is_not_retried(book: OrderBook) -> None:
    fake = FakeOdoo()
    fake.refuse[("sale.order", "create")] = lambda vals: "Archived product" if vals["client_order_ref"] == "elryan:O2" \
        else None
    out = dest(fake).import_orders([order(1), order(2)], book, "r1")  # every id looked up by this run
    assert [o.result for o in out] == [OrderResult.IMPORTED, OrderResult.FAILED]
    assert fake.methods().count("sale.order.create") == 3  # the page, then one by one: no fresh lookup
    assert fake.methods().count("crm.team.search_read") == 1


def test_a_cached_country_deleted_in_odoo_is_looked_up_again(book: OrderBook) -> None:
    fake = FakeOdoo()
    dest(fake).import_orders([order(1)], book, "r1")
    fake.db["res.country"] = [{"id": 200, "code": "IQ", "name": "Iraq"}]
    fake.refuse[("res.partner", "create")] = lambda vals: "Record does not exist" if vals.get("country_id") == 106 \
        else None
    out = dest(fake).import_orders([order(2)], book, "r2")
    assert out[0].result is OrderResult.IMPORTED
    assert fake.db["res.partner"][-1]["country_id"] == 200


def test_a_pricelist_in_a_currency_the_cache_does_not_hold_is_looked_up(book: OrderBook) -> None:
    fake = FakeOdoo()
    dest(fake).import_orders([order(1, marketplace="ecomlinx")], book, "r1")
    fake.db["product.pricelist"].append({"id": 2, "name": "Web USD", "currency_id": [1, "USD"], "sequence": 2})
    fake.log.clear()
    out = dest(fake).import_orders([order(2, marketplace="ecomlinx", currency="USD")], book, "r2")
    assert out[0].result is OrderResult.IMPORTED and fake.db["sale.order"][-1]["pricelist_id"] == 2
    assert fake.methods().count("product.pricelist.search_read") == 1


def test_the_connection_is_handed_to_a_stock_read_of_the_same_odoo_only(book: OrderBook) -> None:
    from dataclasses import replace

    fake = FakeOdoo()
    d = dest(fake)
    same = d.settings.connection
    assert d.hand_over(same) is None  # not connected: nothing to share
    d.import_orders([order(1)], book, "r1")
    assert d.hand_over(replace(same, db="other")) is None  # another database: its own connection
    closed: list[bool] = []
    fake.close = lambda: closed.append(True)  # type: ignore[method-assign]
    assert d.hand_over(same) is fake
    d.close()
    assert closed == []  # the stock read owns it now
