"""A price op never changes a price silently: ``minor_units`` refuses an amount that would need rounding (12.345
with 2 minor units) instead of sending 1235, ``pad_decimals`` writes places without rounding; ``round`` stays for
amounts a mapping computes itself (after ``multiply``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.mapping import RecordMappingError, load_mapping
from connector.mapping.ops import OpError, compile_op
from connector.model import Money, Product, Variant

SHIPPED = Path(__file__).resolve().parent.parent / "mappings"


@pytest.mark.parametrize("value", [Decimal("12.345"), Money(Decimal("12.345"), "MRU"), "12.345", 12.345])
def test_minor_units_refuses_an_amount_that_would_need_rounding(value) -> None:
    op = compile_op({"minor_units": 2}, {})[1]
    with pytest.raises(OpError, match=r"12\.345 has more than 2 decimal\(s\): it would have to be rounded"):
        op(value)
    assert op(Money(Decimal("12.50"), "MRU")) == 1250  # an exact amount, trailing zeros included, still converts
    assert op(Decimal("12.3400")) == 1234
    assert compile_op({"minor_units": 3}, {})[1](Decimal("12.345")) == 12345


def test_pad_decimals_writes_the_places_and_never_rounds() -> None:
    """EcomLinx's price (a JSON number, 2 decimals for INR) was ``round: 2``: 12.345 of a 3-decimal account
    currency (KWD) went out as 12.35.  The places are the account currency's (sync/prices.py)."""
    op = compile_op({"pad_decimals": 2}, {})[1]
    assert str(op(Decimal("12.5"))) == "12.50" and str(op(Money(Decimal("7"), "INR"))) == "7.00"
    assert str(op(Decimal("12.345"))) == "12.345"
    record = Product(key="TEA", name="Tea", variants=[Variant(sku="TEA", price=Money(Decimal("12.345"), "KWD"))])
    assert load_mapping(SHIPPED / "ecomlinx.yaml").apply(record)["product"]["price"] == Decimal("12.345")


def test_elebne_refuses_a_price_its_minor_units_would_round_naming_the_field() -> None:
    variant = Variant(sku="TEA", price=Money(Decimal("12.345"), "MRU"))
    mapping = load_mapping(SHIPPED / "elebne.yaml")
    with pytest.raises(RecordMappingError, match=r"price.*12\.345 has more than 2 decimal"):
        mapping.apply(Product(key="TEA", name="Tea", variants=[variant]))
