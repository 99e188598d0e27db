"""Orders for tests, and a small in-test order reader (the marketplaces' own readers are tested on sandboxes)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from connector.orders.model import Customer, Order, OrderLine, OrderStatus

NOW = datetime.now(UTC).replace(microsecond=0)


def make_order(key: str, *lines: tuple[str, int], status: OrderStatus = OrderStatus.NEW, marketplace: str = "elebne",
               account: str = "shop", created: datetime | None = None, name: str = "Ada Lovelace") -> Order:
    lines = lines or (("TEE-M-BL", 1),)
    return Order(marketplace=marketplace, account=account, remote_id=key, status=status, raw_status=status.value,
                 created_at=created or NOW - timedelta(hours=1), currency="MRU", channel_order_id=f"N-{key}",
                 customer=Customer(name=name, phone="0022245000000", email="ada@example.com", street="Rue 1",
                                   city="Nouakchott", country="MR"),
                 lines=tuple(OrderLine(line_id=f"{key}-{i}", sku=sku, quantity=qty, unit_price=Decimal("25.00"),
                                       currency="MRU", name=f"{sku} item")
                             for i, (sku, qty) in enumerate(lines, start=1)),
                 shipping_fee=Decimal("3.50"), total=Decimal("28.50"))


def moved(order: Order, status: OrderStatus) -> Order:
    return replace(order, status=status, raw_status=status.value, updated_at=NOW)


class ListReader:
    """An order reader over a list the test controls (``orders`` may be changed between runs)."""

    def __init__(self, marketplace: str, orders: Sequence[Order] = (), error: Exception | None = None) -> None:
        self.marketplace = marketplace
        self.orders = {o.key: o for o in orders}
        self.error = error
        self.asked: list[datetime] = []

    def put(self, *orders: Order) -> None:
        self.orders.update({o.key: o for o in orders})

    def changed_since(self, since: datetime) -> Iterator[Order]:
        self.asked.append(since)
        if self.error is not None:
            raise self.error
        yield from (o for o in self.orders.values() if (o.updated_at or o.created_at) >= since)

    def refresh(self, orders: Sequence[Order]) -> Iterator[Order]:
        yield from (self.orders[o.key] for o in orders if o.key in self.orders)
