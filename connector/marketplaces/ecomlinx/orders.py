"""EcomLinx orders as canonical ``Order`` records (``connector.orders.reader.OrderReader``).

``GET /orders`` filters on creation time only (``from``, an ISO date): ``changed_since`` reads every order
created since that day, pages to the end; a later change to an older order (a cancellation) is seen through
``refresh``, which re-reads each order with ``GET /orders/{id}`` (inferred path, setting ``paths.order``).
Statuses are normalised through the ``order_statuses`` setting; the raw one is kept.  Contract and inferences:
docs/ecomlinx.md, "Orders".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from connector.marketplaces.ecomlinx.client import EcomLinxClient
from connector.marketplaces.ecomlinx.errors import NotFound
from connector.orders.fields import CUSTOMER_KEYS, read_customer, read_head, status_table
from connector.orders.model import Order, OrderLine
from connector.orders.reader import refresh_by_id

SOURCE = "EcomLinx"
#: EcomLinx status -> canonical status (setting ``order_statuses``; a profile's entries are merged on top).
ORDER_STATUSES: dict[str, str] = {
    "new": "new", "processing": "processing", "ready": "ready", "shipped": "shipped", "delivered": "delivered",
    "cancelled": "cancelled", "return": "returned",
}
ORDER_CURRENCY = "INR"  # the document's amounts are rupees (Amazon India, Flipkart) and carry no currency
CUSTOMER_FIELDS = {**CUSTOMER_KEYS, "zip": "pincode"}


class EcomLinxOrderReader:
    marketplace = "ecomlinx"

    def __init__(self, client: EcomLinxClient, account: str, settings: dict[str, Any]) -> None:
        self.client, self.account = client, account
        self.statuses = status_table(ORDER_STATUSES, settings.get("order_statuses"), setting="order_statuses")
        self.currency = str(settings.get("order_currency") or settings.get("currency") or ORDER_CURRENCY)

    def changed_since(self, since: datetime) -> Iterator[Order]:
        """Orders created on or after ``since``'s day (``from`` takes a date), newest first, every page."""
        for raw in self.client.iter_orders(since=since.date().isoformat()):
            yield self.order(raw)

    def refresh(self, orders: Sequence[Order]) -> Iterator[Order]:
        return refresh_by_id(orders, self.client.get_order, self.order, gone=lambda exc: isinstance(exc, NotFound))

    def order(self, raw: Any) -> Order:
        """One EcomLinx order record as an ``Order``; ``OrderRecordError`` names the order and the bad field."""
        head = read_head(SOURCE, raw, self.statuses, self.currency)
        f, raw, currency = head.fields, head.record, head.currency
        lines = tuple(OrderLine(
            line_id=line_id, sku=f.text(item.get("sku"), f"{where}.sku"),
            quantity=f.quantity(item.get("qty"), f"{where}.qty"),
            unit_price=f.money(item.get("price"), f"{where}.price"), currency=currency,
            name=f.optional_text(item.get("name")))
            for where, line_id, item in f.lines(raw.get("items"), "items", head.remote_id))
        return Order(
            marketplace=self.marketplace, account=self.account, remote_id=head.remote_id,
            channel_order_id=f.optional_text(raw.get("channel_order_id")), channel=f.optional_text(raw.get("channel")),
            status=head.status, raw_status=head.raw_status,
            created_at=f.time(raw.get("created_at"), "created_at", required=True),  # type: ignore[arg-type]
            updated_at=f.time(raw.get("updated_at"), "updated_at"), currency=currency, lines=lines,
            customer=read_customer(raw.get("customer"), f, CUSTOMER_FIELDS),
            shipping_fee=f.money(raw.get("shipping_fee"), "shipping_fee", default=Decimal("0")),
            total=f.optional_money(raw.get("total"), "total"),
            sla_deadline=f.time(raw.get("sla_deadline"), "sla_deadline"),
            extra={k: raw[k] for k in ("awb", "courier") if raw.get(k) is not None},
        )

