"""Marketplace prices with more decimals than Odoo keeps for prices (its "Product Price" precision).

Found on a real Odoo 18: an EcomLinx line at 12.345 (a three-decimal price, as in KWD, BHD, OMR, JOD) went in as
``price_unit`` 12.35, silently: the sale order's total was not what the customer paid.  Now such an order needs
attention, saying what Odoo would store and which setting to raise; the precision is asked only when a price has
more than 2 decimals, so orders priced in cents cost no call more.
"""

from __future__ import annotations

from decimal import Decimal

from connector.orders.book import OrderBook
from connector.orders.model import Order, OrderLine
from connector.orders.outcome import OrderResult
from tests.orders_odoo_fixtures import book_fixture
from tests.test_orders_odoo_units import FakeOdoo, dest, order

book = book_fixture


def priced(n: int, price: str, fee: str = "0") -> Order:
    o = order(n, fee=fee)
    line = o.lines[0]
    return Order(**{**{f: getattr(o, f) for f in Order.__slots__ if f != "lines"},
                    "lines": (OrderLine(line.line_id, line.sku, 2, Decimal(price), line.currency),)})


def fake(digits: int) -> FakeOdoo:
    odoo = FakeOdoo()
    odoo.db["decimal.precision"] = [{"id": 1, "name": "Product Price", "digits": digits},
                                    {"id": 2, "name": "Discount", "digits": 2}]
    return odoo


def test_a_price_odoo_would_round_needs_attention_naming_the_precision(book: OrderBook) -> None:
    odoo = fake(2)
    out = dest(odoo).import_orders([priced(1, "12.345"), priced(2, "12.34")], book, "r")
    assert out[0].result is OrderResult.ATTENTION
    assert out[0].reason is not None and "12.345 IQD has 3 decimals but Odoo keeps 2" in out[0].reason
    assert "it would store 12.35" in out[0].reason and "Decimal Accuracy" in out[0].reason
    assert out[1].result is OrderResult.IMPORTED  # two decimals: as before
    assert [so["client_order_ref"] for so in odoo.db["sale.order"]] == ["elryan:O2"]


def test_a_shipping_fee_odoo_would_round_needs_attention(book: OrderBook) -> None:
    out = dest(fake(2)).import_orders([priced(1, "10", fee="4.999")], book, "r")
    assert out[0].result is OrderResult.ATTENTION and "the shipping fee: 4.999 IQD" in str(out[0].reason)


def test_a_precision_raised_in_odoo_imports_the_exact_price(book: OrderBook) -> None:
    odoo = fake(3)
    out = dest(odoo).import_orders([priced(1, "12.345")], book, "r")
    assert out[0].result is OrderResult.IMPORTED
    assert odoo.db["sale.order"][0]["order_line"][0][2]["price_unit"] == 12.345


def test_prices_in_cents_never_ask_for_the_precision(book: OrderBook) -> None:
    odoo = fake(2)
    dest(odoo).import_orders([priced(1, "12.30"), priced(2, "1500.5", fee="2.25")], book, "r")
    assert "decimal.precision.search_read" not in odoo.methods()
    assert len(odoo.db["sale.order"]) == 2
