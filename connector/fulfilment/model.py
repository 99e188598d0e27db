"""What the merchant's system says happened to an imported order: shipments (lines, quantities, tracking number,
carrier), a cancellation, a delivery.  Sources (Odoo pickings, the orders workbook) produce one
``OrderProgress`` per order they know something about; the fulfilment run compares its fingerprint with the one
the marketplace last confirmed and hands only what changed to the marketplace's writer.

Line ids are the marketplace's (``OrderLine.line_id``): a source matches what it shipped to the order's lines
with ``assign_lines`` (by SKU, in line order, never more than a line's quantity).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from connector.orders.model import Order, iso, parse_time


@dataclass(frozen=True, slots=True)
class ShippedLine:
    line_id: str  # the marketplace's line id (OrderLine.line_id)
    sku: str
    quantity: int

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, int) or isinstance(self.quantity, bool) or self.quantity <= 0:
            raise ValueError(f"ShippedLine.quantity must be a positive int, got {self.quantity!r}")


@dataclass(frozen=True, slots=True)
class Shipment:
    """One parcel: ``shipment_id`` is stable in the source (``odoo:picking:42``, ``workbook:<tracking>``) and is
    what makes a re-run recognise it (Elryan's package ``remote_id`` is derived from it)."""

    shipment_id: str
    lines: tuple[ShippedLine, ...]
    tracking_number: str | None = None
    carrier: str | None = None  # the source's carrier name (Odoo delivery.carrier name, workbook Courier text)
    shipped_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"shipment_id": self.shipment_id, "tracking_number": self.tracking_number, "carrier": self.carrier,
                "shipped_at": iso(self.shipped_at),
                "lines": [{"line_id": ln.line_id, "sku": ln.sku, "quantity": ln.quantity} for ln in self.lines]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Shipment:
        return cls(shipment_id=data["shipment_id"], tracking_number=data.get("tracking_number"),
                   carrier=data.get("carrier"), shipped_at=parse_time(data.get("shipped_at")),
                   lines=tuple(ShippedLine(ln["line_id"], ln["sku"], int(ln["quantity"])) for ln in data["lines"]))


@dataclass(frozen=True, slots=True)
class OrderProgress:
    """Everything one source knows about one imported order: every shipment so far (not only new ones), and
    whether the merchant cancelled it or it was delivered.  ``problems``: what the source could not read (a bad
    workbook cell named by sheet, row, column, value and reason): the order is held as needs attention."""

    marketplace: str  # plugin name
    account: str
    order_key: str  # Order.key
    source: str  # "odoo", "workbook"
    shipments: tuple[Shipment, ...] = ()
    cancelled: bool = False
    cancel_reason: str | None = None  # the source's words; the profile maps them to a marketplace's reason code
    delivered: bool = False
    problems: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # source-specific, JSON-safe

    @property
    def key(self) -> str:
        return self.order_key

    def shipped_quantities(self) -> dict[str, int]:
        """line id -> quantity shipped over every shipment."""
        out: dict[str, int] = {}
        for shipment in self.shipments:
            for line in shipment.lines:
                out[line.line_id] = out.get(line.line_id, 0) + line.quantity
        return out

    def fully_shipped(self, order: Order) -> bool:
        """Every line of ``order`` shipped in full (lines the marketplace itself closed, e.g. cancelled, aside)."""
        shipped = self.shipped_quantities()
        return all(shipped.get(ln.line_id, 0) >= ln.quantity for ln in order.lines
                   if ln.status is None or ln.status.value not in ("cancelled", "returned"))

    def to_json(self) -> dict[str, Any]:
        return {"marketplace": self.marketplace, "account": self.account, "order_key": self.order_key,
                "source": self.source, "shipments": [s.to_json() for s in self.shipments],
                "cancelled": self.cancelled, "cancel_reason": self.cancel_reason, "delivered": self.delivered,
                "problems": list(self.problems), "extra": self.extra}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderProgress:
        return cls(marketplace=data["marketplace"], account=data["account"], order_key=data["order_key"],
                   source=data["source"], shipments=tuple(Shipment.from_json(s) for s in data.get("shipments", ())),
                   cancelled=bool(data.get("cancelled")), cancel_reason=data.get("cancel_reason"),
                   delivered=bool(data.get("delivered")), problems=tuple(data.get("problems") or ()),
                   extra=dict(data.get("extra") or {}))

    def fingerprint(self) -> str:
        """Hash of what a marketplace is told (``extra`` aside): equal fingerprints mean nothing new to send."""
        body = self.to_json()
        body.pop("extra")
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def assign_lines(order: Order, shipped: Mapping[str, int], already: Mapping[str, int] | None = None
                 ) -> tuple[list[ShippedLine], dict[str, int]]:
    """Spread quantities shipped per SKU over ``order``'s lines with that SKU, in line order, never beyond what
    a line still has to ship (``already``: line id -> quantity earlier shipments took).  Returns (the shipped
    lines, SKU -> quantity that no line could take: shipped but not ordered, to report)."""
    taken = dict(already or {})
    lines: list[ShippedLine] = []
    left: dict[str, int] = {}
    for sku, quantity in shipped.items():
        rest = int(quantity)
        for line in order.lines:
            if rest <= 0:
                break
            if line.sku != sku:
                continue
            room = line.quantity - taken.get(line.line_id, 0)
            if room <= 0:
                continue
            n = min(room, rest)
            lines.append(ShippedLine(line.line_id, sku, n))
            taken[line.line_id] = taken.get(line.line_id, 0) + n
            rest -= n
        if rest > 0:
            left[sku] = rest
    return lines, left


class FulfilResult(StrEnum):
    """How each order handed to a marketplace's writer ended in a fulfilment run."""

    SHIPPED = "shipped"  # the marketplace confirmed a shipment (all or part of the order) sent by this run
    DELIVERED = "delivered"  # the marketplace confirmed the delivery sent by this run
    CANCELLED = "cancelled"  # the marketplace confirmed the cancellation sent by this run
    UNCHANGED = "unchanged"  # already confirmed (or already so on the marketplace): nothing sent
    ATTENTION = "needs_attention"  # held back, never sent: unmapped carrier, missing tracking number, shipped
    #                               after the marketplace cancelled, a bad workbook cell... (``reason`` says which)
    FAILED = "failed"  # the marketplace refused (its message in ``reason``); tried again next run
    UNSUPPORTED = "unsupported"  # the marketplace documents no call for it (Elebne): said in the report, not sent


@dataclass(slots=True)
class FulfilOutcome:
    progress: OrderProgress
    result: FulfilResult
    reason: str | None = None
    sent: list[str] = field(default_factory=list)  # the steps confirmed by this run (``StepLog`` step names)

    @property
    def ok(self) -> bool:
        return self.result not in (FulfilResult.ATTENTION, FulfilResult.FAILED)
