"""A marketplace SKU that Odoo holds in another case only (``X-CASE`` sold, ``x-case`` in Odoo).

Found on a real Odoo 18: the order needed attention with "SKU X-CASE is not in Odoo", which sent the merchant
looking for a product that is there.  It is still not imported (two products may differ in case only), but the
reason now names Odoo's reference, from the answer of the lookup already made for references typed with spaces
(no call more).
"""

from __future__ import annotations

from connector.orders.book import OrderBook
from connector.orders.outcome import OrderResult
from tests.orders_odoo_fixtures import book_fixture
from tests.test_orders_odoo_units import FakeOdoo, dest, order

book = book_fixture


def test_a_sku_odoo_holds_in_another_case_is_named_in_the_attention(book: OrderBook) -> None:
    odoo = FakeOdoo()
    odoo.db["product.product"] += [{"id": 60, "default_code": "x-case", "taxes_id": []},
                                   {"id": 61, "default_code": "X-CASE-2", "taxes_id": []}]
    out = dest(odoo).import_orders([order(1, sku="X-CASE")], book, "r")
    assert out[0].result is OrderResult.ATTENTION
    assert out[0].reason is not None and "SKU X-CASE is not in Odoo" in out[0].reason
    assert "Odoo has 'x-case', which differs in case only" in out[0].reason
    assert "X-CASE-2" not in out[0].reason  # ilike's other matches are not named
    assert odoo.methods().count("product.product.search_read") == 2  # the exact lookup and the one for spaces


def test_a_sku_odoo_does_not_hold_at_all_says_only_that(book: OrderBook) -> None:
    out = dest(FakeOdoo()).import_orders([order(1, sku="NOPE")], book, "r")
    assert out[0].result is OrderResult.ATTENTION
    assert out[0].reason == "SKU NOPE is not in Odoo (no active product variant with Internal Reference 'NOPE')"
