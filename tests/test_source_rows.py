"""``SourceRows``: a source's input rows stored as columns behave as the list of ``RowRef`` they replace."""

from __future__ import annotations

import pytest

from connector.model import SourceRef
from connector.sources.base import RowRef, SourceResult, SourceRows


def mixed() -> list[RowRef]:
    return [RowRef("A", SourceRef("Products", 2)), RowRef(None, SourceRef("product.product", None, "17"), "no SKU"),
            RowRef("B", SourceRef("Products", 3), ""), RowRef("A", SourceRef("Stock - Shop", 2)),
            RowRef("C", SourceRef("aleta", None, None), "bad barcode")]


def test_rows_added_one_by_one_come_back_equal_in_order() -> None:
    rows = mixed()
    store = SourceRows()
    for row in rows:
        store.append(row)
    assert list(store) == rows and store == rows and len(store) == 5
    assert store[1] == rows[1] and store[-1] == rows[-1] and store[1:4] == rows[1:4] and store[::-2] == rows[::-2]
    assert store.skus() == ["A", None, "B", "A", "C"]
    assert store.skipped() == [rows[1], rows[2], rows[4]]  # an empty reason is still the one given
    assert list(store.columns()) == [(r.sku, r.ref.origin, r.ref.row, r.skipped_reason) for r in rows]
    with pytest.raises(IndexError):
        store[5]


def test_extending_by_a_list_or_by_another_store_keeps_every_column() -> None:
    rows = mixed()
    first = SourceRows(rows[:2])
    second = SourceRows(rows[2:])
    first.extend(second)
    assert first == rows
    plain = SourceRows(rows[2:])  # no ident in any row yet
    plain.extend(SourceRows(rows[:2]))
    assert plain == rows[2:] + rows[:2]
    assert SourceRows() == [] and SourceRows(rows) != rows[:4] and SourceRows(rows) != [*rows[:4], rows[0]]


def test_a_sheet_added_at_once_is_its_rows_one_by_one() -> None:
    skus = ["A", None, "B", "C", None, "D"]
    skip = [False, True, False, False, True, False]  # blank or example rows: no row at all
    reasons = {2: "Price: not a number", 4: "left out anyway", 5: "duplicate SKU"}
    store = SourceRows([RowRef("X", SourceRef("product.product", None, "9"))])
    store.add_sheet("Stock - Main", 4, skus, reasons, skip)
    expected = [RowRef("X", SourceRef("product.product", None, "9"))] + [
        RowRef(sku, SourceRef("Stock - Main", 4 + i), reasons.get(i)) for i, sku in enumerate(skus) if not skip[i]]
    assert store == expected
    store.add_sheet("Products", 2, ["E", "F"], {1: "no name"})
    assert store[-2:] == [RowRef("E", SourceRef("Products", 2)), RowRef("F", SourceRef("Products", 3), "no name")]


def test_a_large_store_iterates_across_its_chunks() -> None:
    rows = [RowRef(f"S{i}", SourceRef("Products" if i % 3 else "Stock", i + 2), "why" if i % 997 == 0 else None)
            for i in range(10_000)]
    store = SourceRows(rows)
    assert list(store) == rows and store[4096] == rows[4096] and store[4090:4100] == rows[4090:4100]


def test_a_source_result_holds_its_rows_in_a_store_whatever_it_is_given() -> None:
    rows = mixed()
    result = SourceResult(rows=rows)
    assert isinstance(result.rows, SourceRows) and result.rows == rows
    result.rows = [r for r in result.rows if r.sku != "A"]
    assert isinstance(result.rows, SourceRows) and result.rows == [r for r in rows if r.sku != "A"]
    assert isinstance(SourceResult().rows, SourceRows)

