"""The oversell guard's hold on shipped orders, for a stock file that does not deduct them itself: which lines
the book records as shipped (and when), and when ``reserve`` holds or releases them."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connector.orders.book import SHIPPED, OrderBook
from connector.orders.model import Order, OrderStatus
from connector.orders.reservation import StockFile, reserve, stock_file
from connector.sync.state import StateStore
from tests.orders_fixtures import make_order, moved

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACCOUNTS = [("elebne", "shop")]


def lines_moved(order: Order, *statuses: OrderStatus) -> Order:
    """Per-line statuses (as Elryan has), the order as far as its least advanced open line."""
    lines = tuple(replace(line, status=s, raw_status=s.value) for line, s in zip(order.lines, statuses, strict=True))
    return replace(order, lines=lines)


def saved(at: datetime) -> StockFile:
    return StockFile("products.csv", at)


def test_a_line_shipped_after_the_book_saw_it_open_is_held_until_the_file_is_saved_after_it(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as state:
        book = OrderBook(state, "elebne", "shop")
        order = make_order("A", ("TEA", 2), ("SOAP", 1))
        book.remember([order], now=T0)
        book.remember([moved(order, OrderStatus.SHIPPED)], now=T0 + timedelta(hours=1))
        book.remember([moved(order, OrderStatus.DELIVERED)], now=T0 + timedelta(hours=2))  # the time is the first
        assert set(state.hashes("elebne", "shop", SHIPPED).values()) == {"2026-12-01T10:00:00Z"}

        held = reserve(state, ACCOUNTS, stock=saved(T0))
        assert held.quantities == {"TEA": 2, "SOAP": 1} == held.shipped and held.shipped_orders == 1
        assert held.orders == 0 and "open orders: 0 hold back 0 unit(s)" in held.note
        assert reserve(state, ACCOUNTS, stock=saved(T0 + timedelta(hours=1))).quantities == {"TEA": 2, "SOAP": 1}
        unreadable = StockFile("products.csv", None)  # cannot say when it was saved: held
        assert reserve(state, ACCOUNTS, stock=unreadable).quantities == {"TEA": 2, "SOAP": 1}
        later = saved(T0 + timedelta(hours=3))
        assert reserve(state, ACCOUNTS, stock=later, release=False).quantities == {}  # a dry run forgets nothing
        assert len(state.hashes("elebne", "shop", SHIPPED)) == 2
        assert reserve(state, ACCOUNTS, stock=later).quantities == {}
        assert state.hashes("elebne", "shop", SHIPPED) == {}
        assert reserve(state, ACCOUNTS, stock=saved(T0)).quantities == {}  # released for good


def test_one_line_shipped_of_an_order_still_open_is_held_and_the_rest_stays_open(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as state:
        book = OrderBook(state, "elebne", "shop")
        order = lines_moved(make_order("A", ("TEA", 2), ("SOAP", 1)), OrderStatus.NEW, OrderStatus.NEW)
        book.remember([order], now=T0)
        book.remember([lines_moved(order, OrderStatus.SHIPPED, OrderStatus.NEW)], now=T0 + timedelta(hours=1))
        held = reserve(state, ACCOUNTS, stock=saved(T0))
        assert held.quantities == {"TEA": 2, "SOAP": 1} and held.shipped == {"TEA": 2} and held.orders == 1


def test_what_the_first_read_finds_shipped_is_in_the_file_already_an_order_shipped_between_runs_is_not(
        tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as state:
        book = OrderBook(state, "elebne", "shop")
        book.remember([make_order("OLD", ("TEA", 4), status=OrderStatus.SHIPPED)], now=T0)
        assert state.hashes("elebne", "shop", SHIPPED) == {}
        book.remember([make_order("NEW", ("TEA", 1), status=OrderStatus.DELIVERED),
                       make_order("GONE", ("TEA", 8), status=OrderStatus.CANCELLED)], now=T0)
        assert reserve(state, ACCOUNTS, stock=saved(T0 - timedelta(minutes=1))).quantities == {"TEA": 1}


def test_a_shipped_order_cancelled_or_returned_since_is_released_at_once(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as state:
        book = OrderBook(state, "elebne", "shop")
        a, b = make_order("A", ("TEA", 2)), make_order("B", ("SOAP", 3))
        book.remember([a, b], now=T0)
        book.remember([moved(a, OrderStatus.SHIPPED), moved(b, OrderStatus.SHIPPED)], now=T0)
        early = saved(T0 - timedelta(hours=1))
        # a dry run read A returned: not held, not forgotten
        held = reserve(state, ACCOUNTS, pulled=[moved(a, OrderStatus.RETURNED)], stock=early, release=False)
        assert held.quantities == {"SOAP": 3}
        book.remember([moved(a, OrderStatus.RETURNED)], now=T0)
        assert reserve(state, ACCOUNTS, stock=early).quantities == {"SOAP": 3}


def test_a_dry_run_holds_what_it_read_shipped_without_remembering_it(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as state:
        book = OrderBook(state, "elebne", "shop")
        order = make_order("A", ("TEA", 2))
        book.remember([order], now=T0)
        held = reserve(state, ACCOUNTS, pulled=[moved(order, OrderStatus.SHIPPED)], stock=saved(T0), release=False,
                       now=T0 + timedelta(minutes=5))
        assert held.shipped == {"TEA": 2} and state.hashes("elebne", "shop", SHIPPED) == {}


def test_sources_that_deduct_shipped_orders_or_are_not_the_shelf_hold_nothing_shipped(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as state:
        book = OrderBook(state, "elebne", "shop")
        order = make_order("A", ("TEA", 2))
        book.remember([order], now=T0)
        book.remember([moved(order, OrderStatus.SHIPPED)], now=T0)
        assert reserve(state, ACCOUNTS, stock=None, release=False).quantities == {}
        assert len(state.hashes("elebne", "shop", SHIPPED)) == 1
        assert reserve(state, ACCOUNTS).quantities == {}  # Odoo or Aleta: the record is dropped
        assert state.hashes("elebne", "shop", SHIPPED) == {}

    assert stock_file({"type": "odoo", "url": "http://127.0.0.1:8069"}) is None
    assert stock_file({"type": "aleta"}) is None
    csv = tmp_path / "products.csv"
    csv.write_text("SKU\n", encoding="utf-8")
    os.utime(csv, (T0.timestamp(), T0.timestamp()))
    assert stock_file({"type": "spreadsheet", "path": str(csv)}) == StockFile("products.csv", T0)
    assert stock_file({"type": "spreadsheet", "path": str(tmp_path / "gone.csv")}) == StockFile("gone.csv", None)
