"""Product-level values of products with several rows (``build._resolve_product_values``): the fast exits for
later rows left blank give the values, issues and groups of the plain per-product walk."""

from __future__ import annotations

import copy
import random
from typing import Any

from connector.sources.spreadsheet import build


class _FakeSheet:
    first_row = 2

    def __init__(self, columns: dict[int, list]) -> None:
        self.columns = columns
        self.issues: dict[int, list[tuple]] = {}

    def add(self, i: int, reason: str, col: int | None, value: Any = None, sku: str | None = None) -> None:
        self.issues.setdefault(i, []).append((reason, col, value, sku))


def _walk(sheet, groups, level_cols, skus) -> dict[str, dict[int, Any]]:
    """Every product with several rows walked row by row (``build._walk_product``), with no fast exit."""
    return {key: build._walk_product(sheet, key, idxs, level_cols, skus)
            for key, idxs in groups.items() if len(idxs) >= 2}


def _case(rng: random.Random):
    n = rng.randint(1, 60)
    keys = [f"P{rng.randint(0, n // 3)}" for _ in range(n)]
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        if rng.random() > 0.05:  # a skipped row is in no group
            groups.setdefault(k, []).append(i)
    later_filled = rng.random()  # from "every later row blank" (the usual) to "most filled"
    later_filled = 0.0 if later_filled < 0.5 else later_filled
    firsts = {idxs[0] for idxs in groups.values()}
    columns: dict[int, list] = {}
    for c in range(rng.randint(1, 5)):
        pool = [["Home", "Tea"], ["Home"], []] if c == 2 else ["A", "B", "a"]
        columns[c + 3] = [rng.choice(pool) if (i in firsts and rng.random() < 0.8) or rng.random() < later_filled
                          else None for i in range(n)]
    return groups, [(c, col) for c, col in columns.items()], [f"S{i}" for i in range(n)], columns


def test_fast_exits_give_the_per_product_walk():
    rng = random.Random(1605)
    shortcuts = 0
    for _ in range(600):
        groups, level_cols, skus, columns = _case(rng)
        fast_groups, slow_groups = copy.deepcopy(groups), copy.deepcopy(groups)
        fast_sheet, slow_sheet = _FakeSheet(columns), _FakeSheet(columns)
        fast = build._resolve_product_values(fast_sheet, fast_groups, level_cols, skus)
        slow = _walk(slow_sheet, slow_groups, level_cols, skus)
        assert fast_groups == slow_groups
        assert fast_sheet.issues == slow_sheet.issues
        for key, values in slow.items():  # a product left out takes its first row's values
            first = fast_groups[key][0]
            assert fast.get(key, {c: col[first] for c, col in level_cols}) == values
        assert set(fast) <= set(slow)
        shortcuts += len(slow) - len(fast)
    assert shortcuts > 100  # the fast exits were taken
