"""``refresh_by_id``: the refresh of the marketplaces that get one order by its id (EcomLinx, Elebne)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connector.orders.model import Order, OrderLine, OrderStatus
from connector.orders.reader import refresh_by_id


class Gone(Exception):
    pass


def order(remote_id: str, status: OrderStatus = OrderStatus.NEW) -> Order:
    return Order(marketplace="m", account="a", remote_id=remote_id, status=status, raw_status=status.value,
                 created_at=datetime(2026, 12, 1, tzinfo=UTC), currency="USD",
                 lines=(OrderLine(line_id="1", sku="S", quantity=1, unit_price=Decimal("1"), currency="USD"),))


def test_each_order_is_fetched_again_and_one_the_marketplace_no_longer_has_is_left_out() -> None:
    records = {"o1": {"id": "o1", "status": "cancelled"}, "o3": {"id": "o3", "status": "shipped"}}
    fetched: list[str] = []

    def fetch(remote_id: str) -> dict[str, Any]:
        fetched.append(remote_id)
        if remote_id not in records:
            raise Gone(remote_id)
        return records[remote_id]

    def read(record: dict[str, Any]) -> Order:
        return order(record["id"], OrderStatus(record["status"]))

    again = list(refresh_by_id([order("o1"), order("o2"), order("o3")], fetch, read,
                               gone=lambda exc: isinstance(exc, Gone)))
    assert [(o.remote_id, o.status) for o in again] == [("o1", OrderStatus.CANCELLED), ("o3", OrderStatus.SHIPPED)]
    assert fetched == ["o1", "o2", "o3"]


def test_any_other_error_of_the_fetch_is_raised() -> None:
    def fetch(remote_id: str) -> dict[str, Any]:
        raise RuntimeError("503")

    with pytest.raises(RuntimeError, match="503"):
        list(refresh_by_id([order("o1")], fetch, lambda r: order("o1"), gone=lambda exc: isinstance(exc, Gone)))
