"""The canonical order: what every marketplace's order reader produces and every destination consumes.

Money is ``Decimal``, quantities are ``int``, times are timezone-aware UTC.  The raw marketplace status is kept
beside the normalised one so a report can show what the marketplace said.  An order is identified by
(marketplace, account, remote id); ``channel_order_id`` is the order number the customer and the marketplace's
back office show (EcomLinx: the sales channel's own id; Elryan: the order number that groups its per-line
records).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class OrderStatus(StrEnum):
    NEW = "new"
    PROCESSING = "processing"
    READY = "ready"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PROCESSING, OrderStatus.READY})
"""Statuses whose quantities are still to leave the warehouse: reserved by the oversell guard."""


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive one is taken as UTC (marketplaces that omit the offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_time(text: str | None) -> datetime | None:
    """An ISO-8601 time from a marketplace (``Z`` or an offset; naive means UTC) as aware UTC, or None."""
    if text is None or str(text).strip() == "":
        return None
    raw = str(text).strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    return utc(datetime.fromisoformat(raw))


def iso(value: datetime | None) -> str | None:
    return None if value is None else utc(value).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Customer:
    """Who ordered, as far as the marketplace tells.  Every field may be None."""

    remote_id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    street: str | None = None
    city: str | None = None
    zip: str | None = None
    country: str | None = None  # ISO 3166 alpha-2 when the marketplace gives one, else its text

    @property
    def empty(self) -> bool:
        return not any((self.remote_id, self.name, self.phone, self.email))


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line: ``line_id`` is the marketplace's id of the line (Elryan: the POlineID)."""

    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    name: str | None = None
    status: OrderStatus | None = None  # per-line status where the marketplace has one (Elryan)
    raw_status: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.unit_price, Decimal):
            raise TypeError(f"OrderLine.unit_price must be Decimal, got {type(self.unit_price).__name__}")
        if not isinstance(self.quantity, int) or isinstance(self.quantity, bool):
            raise TypeError(f"OrderLine.quantity must be int, got {type(self.quantity).__name__}")


@dataclass(frozen=True, slots=True)
class Order:
    marketplace: str
    account: str
    remote_id: str
    status: OrderStatus
    raw_status: str
    created_at: datetime
    currency: str
    lines: tuple[OrderLine, ...]
    channel_order_id: str | None = None
    updated_at: datetime | None = None
    customer: Customer | None = None
    shipping_fee: Decimal = Decimal("0")
    total: Decimal | None = None
    sla_deadline: datetime | None = None
    channel: str | None = None  # EcomLinx sales channel
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # reader-specific, JSON-safe values

    def __post_init__(self) -> None:
        for name in ("created_at", "updated_at", "sla_deadline"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() != UTC.utcoffset(None)):
                raise ValueError(f"Order.{name} must be timezone-aware UTC, got {value!r}")
        if not isinstance(self.shipping_fee, Decimal):
            raise TypeError("Order.shipping_fee must be Decimal")

    @property
    def key(self) -> str:
        """The order's key in the state (unique per marketplace account)."""
        return self.remote_id

    @property
    def reference(self) -> str:
        """What a destination stores as the marketplace reference (Odoo ``client_order_ref``): unique across
        marketplaces, stable across runs."""
        return f"{self.marketplace}:{self.channel_order_id or self.remote_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def open_quantities(self) -> dict[str, int]:
        """SKU -> quantity still to ship (lines with a closed status of their own count 0)."""
        out: dict[str, int] = {}
        if not self.is_open:
            return out
        for line in self.lines:
            if line.status is not None and line.status not in OPEN_STATUSES:
                continue
            out[line.sku] = out.get(line.sku, 0) + line.quantity
        return out

    # -- persistence ---------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "marketplace": self.marketplace, "account": self.account, "remote_id": self.remote_id,
            "channel_order_id": self.channel_order_id, "status": self.status.value, "raw_status": self.raw_status,
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at), "currency": self.currency,
            "customer": None if self.customer is None else {
                k: getattr(self.customer, k) for k in Customer.__slots__},
            "lines": [{"line_id": ln.line_id, "sku": ln.sku, "quantity": ln.quantity,
                       "unit_price": str(ln.unit_price), "currency": ln.currency, "name": ln.name,
                       "status": None if ln.status is None else ln.status.value, "raw_status": ln.raw_status}
                      for ln in self.lines],
            "shipping_fee": str(self.shipping_fee), "total": None if self.total is None else str(self.total),
            "sla_deadline": iso(self.sla_deadline), "channel": self.channel, "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Order:
        customer = data.get("customer")
        return cls(
            marketplace=data["marketplace"], account=data["account"], remote_id=data["remote_id"],
            channel_order_id=data.get("channel_order_id"), status=OrderStatus(data["status"]),
            raw_status=data["raw_status"], created_at=parse_time(data["created_at"]),  # type: ignore[arg-type]
            updated_at=parse_time(data.get("updated_at")), currency=data["currency"],
            customer=None if customer is None else Customer(**customer),
            lines=tuple(OrderLine(line_id=ln["line_id"], sku=ln["sku"], quantity=int(ln["quantity"]),
                                  unit_price=Decimal(ln["unit_price"]), currency=ln["currency"], name=ln.get("name"),
                                  status=None if ln.get("status") is None else OrderStatus(ln["status"]),
                                  raw_status=ln.get("raw_status"))
                        for ln in data["lines"]),
            shipping_fee=Decimal(data.get("shipping_fee") or "0"),
            total=None if data.get("total") is None else Decimal(data["total"]),
            sla_deadline=parse_time(data.get("sla_deadline")), channel=data.get("channel"),
            extra=dict(data.get("extra") or {}),
        )

    def fingerprint(self) -> str:
        """A hash of everything a destination cares about: a re-read order with the same fingerprint is
        unchanged."""
        body = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()
