"""A stock sheet that lists the Products sheet's SKUs in its order (a template's, an export's) takes the variants
in that order, without looking any SKU up (``build._stock_sheet``): the same records, stock, issues and rows as
the lookups give, whatever breaks that order (a row moved, repeated, missing or added, a blank or example row, a
SKU skipped in Products, a bad quantity, the stock also given inline)."""

from __future__ import annotations

import random

from connector.sources.spreadsheet import build, read_spreadsheet
from tests.fast_paths import same
from tests.test_spreadsheet_xlsx_table import write

_HEADER = ["Parent SKU", "SKU", "Name", "Price"]


def _products(rng: random.Random) -> list[list]:
    rows: list[list] = [list(_HEADER)]
    for p in range(rng.randint(1, 12)):
        size = rng.choice([1, 1, 2, 3])
        parent = f"P{p}" if size > 1 else None
        for k in range(size):
            sku = f"{rng.choice(['S', 'E', 'X'])}{p}-{k}"  # E: an example's first letter, not an example
            rows.append([parent, sku, f"Name {p}" if k == 0 else None, round(rng.uniform(1, 99), 2)])
    if rng.random() < 0.3:  # a bad row: skipped in Products, its SKU still in the stock sheets
        rows[rng.randrange(1, len(rows))][3] = "free"
    if rng.random() < 0.2:
        rows.append([None, "EXAMPLE-1", "Example", 1.0])
    return rows


def _stock(rng: random.Random, skus: list[str]) -> list[tuple]:
    pairs: list[tuple] = [(s, rng.randint(0, 500)) for s in skus]
    change = rng.random()
    if change < 0.45 or not pairs:
        return pairs  # every SKU in the Products order
    i = rng.randrange(len(pairs))
    if change < 0.55:
        j = rng.randrange(len(pairs))
        pairs[i], pairs[j] = pairs[j], pairs[i]
    elif change < 0.62:
        pairs.insert(i, pairs[i])
    elif change < 0.69:
        del pairs[i]
    elif change < 0.75:
        pairs.insert(i, ("UNKNOWN", 3))
    elif change < 0.8:
        pairs.insert(i, (None, None))
    elif change < 0.85:
        pairs.insert(i, ("EXAMPLE-2", 5))
    elif change < 0.9:
        pairs[i] = (pairs[i][0], rng.choice(["x", -1, 2.5, None]))
    else:
        pairs[i] = (pairs[i][0], rng.choice(["", " "]))
    return pairs


def test_stock_sheets_in_the_products_order_read_as_the_lookups_read_them(tmp_path, monkeypatch):
    rng = random.Random(1618)
    real = build._stock_sheet
    shortcuts: list[bool] = []

    def spied(result, raw, location, in_order, variants_by_sku, *rest):
        looked_up: list[bool] = []
        real(result, raw, location, in_order, lambda: looked_up.append(True) or variants_by_sku(), *rest)
        shortcuts.append(not looked_up)

    def lookups_only(result, raw, location, in_order, *rest):
        real(result, raw, location, ([], []), *rest)

    for k in range(40):
        rows = _products(rng)
        skus = [r[1] for r in rows[1:]]
        if rng.random() < 0.2:  # the stock of one location given inline too
            rows[0].append("Stock: Main")
            for r in rows[1:]:
                r.append(rng.choice([None, 7, 8]))
        stock = {loc: _stock(rng, skus) for loc in rng.sample(["Main", "Shop"], rng.randint(1, 2))}
        path = write(tmp_path / f"s{k}.xlsx", rows, stock=stock, like_excel=k % 2 == 0)
        monkeypatch.setattr(build, "_stock_sheet", spied)
        fast = read_spreadsheet(path)
        monkeypatch.setattr(build, "_stock_sheet", lookups_only)
        slow = read_spreadsheet(path)
        same(fast, slow)
        assert repr(fast.products) == repr(slow.products)
        assert fast.orphan_skus == slow.orphan_skus
    assert True in shortcuts and False in shortcuts  # both ways taken
