"""A price (a Decimal) and a number written with a point in an expression compute together, exactly.

``price: {expr: "product.price.amount * 1.1 if product.brand == 'Atlas Home' else product.price.amount"}`` failed
the Atlas Home rows with ``unsupported operand type(s) for *: 'decimal.Decimal' and 'float'`` (Python refuses to
mix them), which says nothing to an integrator.  The float is now taken as the decimal it is written as (1.1 is
1.1, not 1.100000000000000088...), for ``*``, ``/``, ``//``, ``+`` and ``-``, either way round."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from connector.mapping import load_mapping
from connector.model import Money, Product, Variant


@pytest.mark.parametrize("expr, cents", [
    ("product.price.amount * 1.1", 38500), ("1.1 * product.price.amount", 38500),
    ("product.price.amount / 1.25", 28000), ("product.price.amount + 0.5", 35050),
    ("product.price.amount - 0.25", 34975), ("product.price.amount // 1.5", 23300)])
def test_a_price_and_a_float_compute_as_decimals(tmp_path: Path, expr: str, cents: int) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f"extends: elebne\npayloads:\n  product:\n    fields:\n      price: {{expr: {json.dumps(expr)}}}\n",
                    encoding="utf-8")
    product = Product(key="TEAPOT", name="Teapot", brand="Atlas Home",
                      variants=[Variant(sku="TEAPOT", price=Money(Decimal("350"), "MRU"))])
    assert load_mapping(path).apply(product)["product"]["price"] == cents  # (the shipped field's minor_units: 2)
