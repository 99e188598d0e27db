"""Equal cells of a number column share one converted value, up to a column of 90% distinct cells: a CSV's prices
too (most are distinct, yet a product's variants repeat theirs), with the row reader's records exactly."""

from __future__ import annotations

import random

from tests.fast_paths import both, same

_TEXTS = ["1", "1.0", "1.00", " 2 ", "2", "-0", "0.0", "0", "1e2", "100", "0.10"]
_BAD = ["12,5", "x", "", "-3"]  # a column holding any is converted by the general way (which caches equal texts)


def _price_cells(rng: random.Random, n: int, texts: list[str]) -> list[str]:
    """Mostly distinct prices (60 to 70% of the cells), each repeated for a few rows, and tricky spellings."""
    out: list[str] = []
    while len(out) < n:
        cell = rng.choice(texts) if rng.random() < 0.2 else f"{rng.randint(1, 10**6) / 100}"
        out += [cell] * rng.choice([1, 1, 1, 1, 2])
    return out[:n]


def test_mostly_distinct_csv_prices_share_equal_cells_and_read_as_the_row_reader(tmp_path):
    rng = random.Random(18)
    for k in range(4):
        n = rng.choice([300, 1000, 2500])
        prices, costs = _price_cells(rng, n, _TEXTS), _price_cells(rng, n, _TEXTS + _BAD)
        path = tmp_path / f"p{k}.csv"
        lines = ["SKU,Name,Price,Cost,Weight (kg)"] + [f'S{i},N{i},"{prices[i]}","{costs[i]}","{costs[i]}"'
                                                       for i in range(n)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        fast, slow, used = both(path)
        assert used
        same(fast, slow)
        assert repr(fast.products) == repr(slow.products)  # Decimal('1.0') is not Decimal('1'), even if ==
        by_text: dict[str, set[int]] = {}
        for p in fast.products:
            v = p.variants[0]
            by_text.setdefault(prices[int(v.sku[1:])], set()).add(id(v.price.amount))
        assert by_text and all(len(ids) == 1 for ids in by_text.values())  # one Decimal per distinct text
