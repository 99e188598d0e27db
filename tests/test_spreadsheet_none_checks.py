"""The builder's ``None`` checks (``build._has_none``, ``build._all_none``) read truth first and compare by
identity only where it cannot tell: they answer as a plain identity scan on lists mixing ``None`` with false
values of every kind the converters give (zero, -0, empty texts and lists) and true ones."""

from __future__ import annotations

import random
from decimal import Decimal

from connector.model import Money, StockLevel
from connector.sources.spreadsheet import build

_FALSE = [0, 0.0, -0.0, False, "", [], {}, Decimal("0"), Decimal("-0"), Decimal("0E-7")]
_TRUE = [1, -1, "x", " ", ["a"], {"a": 1}, Decimal("NaN"), Decimal("sNaN"), Decimal("1.50"), True,
         Money(Decimal("1"), "MRU"), StockLevel("Main", 0)]


def test_none_checks_answer_as_an_identity_scan():
    rng = random.Random(1617)
    for _ in range(3000):
        n = rng.choice([0, 1, 2, 5, 40])
        weights = [rng.random() for _ in range(3)]
        values = [rng.choices([None, rng.choice(_FALSE), rng.choice(_TRUE)], weights)[0] for _ in range(n)]
        has, every = any(v is None for v in values), all(v is None for v in values)
        assert build._has_none(values) is has
        assert build._all_none(values) is every
        assert build._all_none(iter(values)) is every
