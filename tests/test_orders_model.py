"""The canonical order, the order book in the state, and the incremental pull window."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connector.orders.book import OrderBook
from connector.orders.model import Customer, Order, OrderLine, OrderStatus, parse_time
from connector.orders.reader import PullSettings, pull_orders, pull_window
from connector.sync.state.store import StateStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def order(key: str, status: OrderStatus = OrderStatus.NEW, created: datetime = NOW, qty: int = 2) -> Order:
    return Order(marketplace="ecomlinx", account="main", remote_id=key, status=status, raw_status=status.value,
                 created_at=created, currency="USD", channel_order_id=f"CH-{key}",
                 customer=Customer(name="Ada", email="ada@example.com"),
                 lines=(OrderLine(line_id=f"{key}-1", sku="TSHIRT-M", quantity=qty, unit_price=Decimal("9.90"),
                                  currency="USD"),
                        OrderLine(line_id=f"{key}-2", sku="CAP", quantity=1, unit_price=Decimal("5"),
                                  currency="USD", status=OrderStatus.CANCELLED)),
                 shipping_fee=Decimal("2.50"), total=Decimal("22.30"))


def test_order_round_trips_through_json_with_decimals_and_utc() -> None:
    o = order("A1")
    back = Order.from_json(o.to_json())
    assert back == o
    assert back.lines[0].unit_price == Decimal("9.90") and isinstance(back.lines[0].unit_price, Decimal)
    assert back.created_at.tzinfo is not None and back.fingerprint() == o.fingerprint()
    assert o.reference == "ecomlinx:CH-A1"


def test_order_refuses_naive_time_and_float_money() -> None:
    with pytest.raises(ValueError):
        Order(marketplace="m", account="a", remote_id="1", status=OrderStatus.NEW, raw_status="n",
              created_at=datetime(2026, 1, 1), currency="USD", lines=())
    with pytest.raises(TypeError):
        OrderLine(line_id="1", sku="X", quantity=1, unit_price=1.5, currency="USD")  # type: ignore[arg-type]


def test_parse_time_reads_offsets_and_naive_as_utc() -> None:
    assert parse_time("2026-12-01T14:00:00+02:00") == NOW.replace(hour=12)
    assert parse_time("2026-12-01T12:00:00Z") == NOW
    assert parse_time("2026-12-01T12:00:00") == NOW
    assert parse_time("") is None


def test_open_quantities_skip_closed_lines_and_closed_orders() -> None:
    assert order("A").open_quantities() == {"TSHIRT-M": 2}
    assert order("B", OrderStatus.SHIPPED).open_quantities() == {}


def test_book_remembers_orders_and_drops_closed_ones_from_the_open_set(tmp_path) -> None:
    with StateStore.open(tmp_path / "state.db") as state:
        book = OrderBook(state, "ecomlinx", "main")
        book.remember([order("A"), order("B")])
        assert sorted(o.key for o in book.open_orders()) == ["A", "B"]
        book.remember([order("A", OrderStatus.CANCELLED)])
        assert [o.key for o in book.open_orders()] == ["B"]
        assert book.load(["A"])["A"].status is OrderStatus.CANCELLED
        book.mark_imported("odoo", order("B"), "42", {"reference": "ecomlinx:CH-B"})
        assert book.imported("odoo") == {"B": "42"}
        assert OrderBook(state, "ecomlinx", "other").known() == {}


class _Reader:
    marketplace = "ecomlinx"

    def __init__(self, window: list[Order], current: dict[str, Order]) -> None:
        self.window, self.current = window, current
        self.asked: list[datetime] = []
        self.refreshed: list[str] = []

    def changed_since(self, since: datetime) -> Iterator[Order]:
        self.asked.append(since)
        yield from (o for o in self.window if o.created_at >= since)

    def refresh(self, orders: Sequence[Order]) -> Iterator[Order]:
        self.refreshed += [o.key for o in orders]
        yield from (self.current[o.key] for o in orders if o.key in self.current)


def test_pull_window_is_never_shorter_than_the_lookback() -> None:
    s = PullSettings()
    assert pull_window(None, NOW, s) == NOW - timedelta(days=7)
    assert pull_window("2026-12-01T11:00:00Z", NOW, s) == NOW - timedelta(days=7)
    assert pull_window("2026-11-01T00:00:00Z", NOW, s) == datetime(2026, 10, 31, 23, 50, tzinfo=UTC)


def test_pull_refreshes_old_open_orders_and_reports_missed_ones() -> None:
    old = order("OLD", created=NOW - timedelta(days=20))
    missed = order("LATE", created=NOW - timedelta(days=2))
    reader = _Reader([missed, order("NEW")], {"OLD": order("OLD", OrderStatus.CANCELLED, created=old.created_at)})
    got = pull_orders(reader, previous_cursor="2026-12-01T00:00:00Z", known={"OLD": old}, known_open=[old],
                      now=NOW, settings=PullSettings())
    assert {o.key: o.status for o in got.orders} == {"LATE": OrderStatus.NEW, "NEW": OrderStatus.NEW,
                                                    "OLD": OrderStatus.CANCELLED}
    assert reader.refreshed == ["OLD"]
    assert got.missed == ["LATE"]  # created before the last pull's start, never seen
    assert got.cursor == "2026-12-01T12:00:00Z"
