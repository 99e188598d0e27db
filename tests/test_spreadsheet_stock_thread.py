"""The stock sheets of a workbook read by fastexcel load on a thread while the Products sheet is built: the
same sheets and records as loading them first, and their error, if any, still comes before the build's."""

from __future__ import annotations

import threading

import pytest

import connector.sources.spreadsheet as spreadsheet
from connector.errors import SourceError
from connector.sources.spreadsheet import read_spreadsheet, reader
from connector.sources.spreadsheet.build import build_result, prepare_stock
from connector.sources.spreadsheet.reader import read_raw
from tests.test_spreadsheet_xlsx_table import write

ROWS = [["SKU", "Name", "Price"], ["A", "Tea", 1.0], ["B", "Oil", 2.0]]
STOCK = {"Main": [("A", 3), ("B", 4)], "Shop": [("A", 1), ("B", "x")]}


def _canonical(result) -> list:
    return [(p.model_dump(mode="json") if hasattr(p, "model_dump") else repr(p)) for p in result.products]


def test_the_stock_sheets_load_on_a_thread_and_read_as_before(tmp_path):
    path = write(tmp_path / "s.xlsx", ROWS, stock=STOCK, like_excel=True)
    book = read_raw(path, prepare_stock, columnar=True)
    assert book.loading is not None and book.has_stock  # still loading, known to have stock sheets
    assert [loc for loc, _ in book.stock] == ["Main", "Shop"]
    assert book.loading is None and book.has_stock
    eager = build_result(read_raw(path, prepare_stock, columnar=True))
    lazy = read_spreadsheet(path)
    assert _canonical(lazy) == _canonical(eager)
    assert {v.sku: {k: s.available for k, s in v.stock.items()} for p in lazy.products for v in p.variants} == \
        {v.sku: {k: s.available for k, s in v.stock.items()} for p in eager.products for v in p.variants}
    assert lazy.issues == eager.issues
    assert not [t for t in threading.enumerate() if t.name == "spreadsheet-stock"]


def test_a_stock_sheet_error_comes_before_the_builds(tmp_path, monkeypatch):
    path = write(tmp_path / "s.xlsx", ROWS, stock=STOCK, like_excel=True)

    def failing_stock(*args, **kwargs):
        raise SourceError("stock sheet unreadable")

    def failing_build(book, currency="MRU"):
        raise SourceError("products sheet unreadable")

    monkeypatch.setattr(reader, "_fast_stock", failing_stock)
    with pytest.raises(SourceError, match="stock sheet unreadable"):
        read_spreadsheet(path)
    monkeypatch.setattr(spreadsheet, "build_result", failing_build)
    with pytest.raises(SourceError, match="stock sheet unreadable"):
        read_spreadsheet(path)
    book = read_raw(path, prepare_stock, columnar=True)
    for _ in range(2):  # raised at every access, never an empty list
        with pytest.raises(SourceError, match="stock sheet unreadable"):
            book.stock  # noqa: B018


def test_the_build_error_when_the_stock_sheets_load(tmp_path, monkeypatch):
    path = write(tmp_path / "s.xlsx", ROWS, stock=STOCK, like_excel=True)

    def failing_build(book, currency="MRU"):
        raise SourceError("products sheet unreadable")

    monkeypatch.setattr(spreadsheet, "build_result", failing_build)
    with pytest.raises(SourceError, match="products sheet unreadable"):
        read_spreadsheet(path)
    assert not [t for t in threading.enumerate() if t.name == "spreadsheet-stock"]
