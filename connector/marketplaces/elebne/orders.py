"""Elebne orders as canonical ``Order`` records (``connector.orders.reader.OrderReader``).

The document names the calls (list/get orders, simulate in sandbox) but shows no order: the paths, the time
filter, the object and its statuses are inferred from the product and inventory pages and are settings
(docs/elebne.md, "Orders").  ``changed_since`` reads ``GET /orders?updatedSince=`` page after page (with the
filter set to null in the settings, every page is read); ``refresh`` re-reads orders with ``GET /orders/{id}``.
Amounts are minor units (as product prices): divided by ``order_amount_scale``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from connector.errors import ConfigError
from connector.marketplaces.elebne.client import ORDERS_SINCE_PARAM, ElebneClient, ElebneError
from connector.orders.fields import CUSTOMER_KEYS, RecordFields, read_customer, read_head, status_table
from connector.orders.model import Order, OrderLine, iso
from connector.orders.reader import refresh_by_id

SOURCE = "Elebne"
#: Elebne status -> canonical status (setting ``order_statuses``; a profile's entries are merged on top).
ORDER_STATUSES: dict[str, str] = {
    "PENDING": "new", "CONFIRMED": "processing", "PREPARING": "processing", "READY": "ready", "SHIPPED": "shipped",
    "DELIVERED": "delivered", "CANCELLED": "cancelled", "RETURNED": "returned",
}


class ElebneOrderReader:
    marketplace = "elebne"

    def __init__(self, client: ElebneClient, account: str, settings: dict[str, Any]) -> None:
        self.client, self.account = client, account
        self.statuses = status_table(ORDER_STATUSES, settings.get("order_statuses"), setting="order_statuses")
        self.since_param = settings.get("orders_since_param", ORDERS_SINCE_PARAM) or None
        self.sku_fields = list(settings.get("order_line_sku") or ["sku", "externalId"])
        self.currency = str(settings.get("order_currency") or "MRU")
        scale = settings.get("order_amount_scale", 100)
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
            raise ConfigError("settings.order_amount_scale must be a whole number ≥ 1 (100: amounts in cents)")
        self.scale = Decimal(scale)

    def changed_since(self, since: datetime) -> Iterator[Order]:
        for raw in self.client.iter_orders(updated_since=iso(since), since_param=self.since_param):
            order = self.order(raw)
            if self.since_param or (order.updated_at or order.created_at) >= since:
                yield order

    def refresh(self, orders: Sequence[Order]) -> Iterator[Order]:
        return refresh_by_id(orders, self.client.get_order, self.order,
                             gone=lambda exc: isinstance(exc, ElebneError) and exc.status == 404)

    def order(self, raw: Any) -> Order:
        """One Elebne order record as an ``Order``; ``OrderRecordError`` names the order and the bad field."""
        head = read_head(SOURCE, raw, self.statuses, self.currency)
        f, raw, currency = head.fields, head.record, head.currency
        lines = tuple(OrderLine(
            line_id=line_id, sku=f.first_text(item, self.sku_fields, where),
            quantity=f.quantity(item.get("quantity"), f"{where}.quantity"),
            unit_price=self.amount(f, item.get("unitPrice"), f"{where}.unitPrice"), currency=currency,
            name=f.optional_text(item.get("name")))
            for where, line_id, item in f.lines(raw.get("items"), "items", head.remote_id))
        return Order(
            marketplace=self.marketplace, account=self.account, remote_id=head.remote_id,
            channel_order_id=f.optional_text(raw.get("orderNumber")),
            status=head.status, raw_status=head.raw_status,
            created_at=f.time(raw.get("createdAt"), "createdAt", required=True),  # type: ignore[arg-type]
            updated_at=f.time(raw.get("updatedAt"), "updatedAt"), currency=currency, lines=lines,
            customer=read_customer(raw.get("customer"), f, CUSTOMER_KEYS),
            shipping_fee=self.amount(f, raw.get("deliveryFee"), "deliveryFee", default=Decimal("0")),
            total=None if raw.get("total") is None else self.amount(f, raw["total"], "total"),
        )

    def amount(self, f: RecordFields, value: Any, where: str, *, default: Decimal | None = None) -> Decimal:
        """Minor units (``50000``) as currency units (``Decimal("500")``)."""
        return f.money(value, where, default=default) / self.scale

