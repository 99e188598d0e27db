"""Arrow string columns whose cells repeat are converted once per distinct cell (``ArrowColumns.coded``): the
records, issues and rows are exactly the row reader's, bad cells included, wherever they sit."""

from __future__ import annotations

import random

from openpyxl import Workbook

from connector.sources.spreadsheet import columnar
from tests.fast_paths import both, same

_PRICES = ["12.50", "12,5", "3", "-3", "vingt", "", "1e20", " 7 ", "NaN", "0.10"]
_STOCK = ["1", "2", "-1", "x", "2.5", "", "300", " 4", "3000000000"]
_ACTIVE = ["Yes", "no", "maybe", "", "OUI", "1"]
_CURRENCY = ["MRU", "usd", "EURO", "", " eur "]
_CATEGORY = ["Home > Kitchen", "", "Home >  > Tea", ">"]


def _coded_calls(monkeypatch) -> list[int]:
    """Columns the builder took coded (distinct cells converted once): by ``coded``, or by ``distinct`` encoding
    a number column whole (``sample=False``)."""
    taken: list[int] = []
    real_coded = columnar.ArrowColumns.coded
    real_distinct = columnar.ArrowColumns.distinct

    def spy(self, j):
        got = real_coded(self, j)
        if got is not None:
            taken.append(j)
        return got

    def spy_whole(self, j, share, sample=True):
        got = real_distinct(self, j, share, sample)
        if got is not None and not sample:
            taken.append(j)
        return got

    monkeypatch.setattr(columnar.ArrowColumns, "coded", spy)
    monkeypatch.setattr(columnar.ArrowColumns, "distinct", spy_whole)
    return taken


def _rows(rng: random.Random, n: int) -> list[list[str]]:
    return [[f"S{i}", f"Name {i}", rng.choice(_PRICES), rng.choice(_PRICES), rng.choice(_CURRENCY),
             rng.choice(_ACTIVE), rng.choice(_CATEGORY), rng.choice(_STOCK), rng.choice(_PRICES)]
            for i in range(n)]


_HEADER = ["SKU", "Name", "Price", "Cost", "Currency", "Active", "Category", "Stock: Main", "Weight (kg)"]


def test_repeated_csv_cells_read_as_the_csv_module_reads_them(tmp_path, monkeypatch):
    taken = _coded_calls(monkeypatch)
    rng = random.Random(16)
    for k in range(6):
        path = tmp_path / f"c{k}.csv"
        rows = _rows(rng, rng.choice([40, 120, 300]))
        path.write_text("\n".join(",".join(f'"{c}"' for c in r) for r in [_HEADER, *rows]) + "\n", encoding="utf-8")
        fast, slow, used = both(path)
        assert used
        same(fast, slow)
        assert fast.issues  # bad cells among the repeated ones
    assert set(taken) >= {2, 3, 4, 5, 6, 7, 8}  # every converted column went the coded way at least once


def test_coded_issue_sits_on_its_own_row(tmp_path, monkeypatch):
    taken = _coded_calls(monkeypatch)
    path = tmp_path / "c.csv"
    prices = ["3", "3", "vingt", "3", "-1", "vingt", "3", "3"]
    path.write_text("SKU,Name,Price\n" + "".join(f"S{i},n,{p}\n" for i, p in enumerate(prices)), encoding="utf-8")
    fast, slow, used = both(path)
    assert used and taken == [2]
    same(fast, slow)
    assert [(x.row, x.value, x.reason) for x in fast.issues] == [
        (4, "vingt", "text in a number column"), (6, "-1", "negative price"), (7, "vingt", "text in a number column")]
    prices_read = [v.price.amount for p in fast.products for v in p.variants]
    assert len(prices_read) == 5 and len({id(d) for d in prices_read}) == 1  # one Decimal shared by equal cells


def test_repeated_text_cells_of_an_xlsx_read_as_the_row_reader_reads_them(tmp_path, monkeypatch):
    """An xlsx column typed as text throughout (prices, stock, Yes/No as text) is a string column of the
    fastexcel table; empty cells among them are nulls there and ``""`` for the row reader."""
    taken = _coded_calls(monkeypatch)
    rng = random.Random(61)
    for k in range(4):
        wb = Workbook()
        ws = wb.active
        ws.title = "Products"
        ws.append(_HEADER)
        for r in _rows(rng, 60):
            ws.append([c if c else None for c in r])
        stock = wb.create_sheet("Stock - Shop")
        stock.append(["SKU", "Quantity"])
        for i in range(0, 60, 2):
            stock.append([f"S{i}", rng.choice([s for s in _STOCK if s]) if i % 10 else None])
        path = tmp_path / f"x{k}.xlsx"
        wb.save(path)
        fast, slow, used = both(path)
        assert used
        same(fast, slow)
    assert set(taken) >= {2, 3, 4, 5, 6, 7, 8}
