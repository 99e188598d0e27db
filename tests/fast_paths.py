"""Comparing a reader's column-by-column fast path (Arrow for CSV, fastexcel for xlsx) with its row reader."""

from __future__ import annotations

from connector.sources.spreadsheet.build import build_result, prepare_stock
from connector.sources.spreadsheet.reader import read_raw


def both(path):
    """(result through the fast path, result through the row reader, whether the fast path was taken)."""
    fast_book = read_raw(path, prepare_stock, columnar=True)
    used = fast_book.products.table is not None
    return build_result(fast_book), build_result(read_raw(path, prepare_stock)), used


def same(a, b) -> None:
    """The two results are equal in everything a caller sees."""
    assert a.products == b.products
    assert a.rows == b.rows
    assert a.issues == b.issues
    assert a.warnings == b.warnings
    assert a.provided_fields == b.provided_fields
