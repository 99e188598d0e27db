"""How each order ended in a run: every order read ends as exactly one of these."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from connector.orders.model import Order


class OrderResult(StrEnum):
    IMPORTED = "imported"  # created in the destination by this run
    UNCHANGED = "unchanged"  # already there, nothing to do
    UPDATED = "updated"  # already there; what the destination keeps of it changed (a status, a workbook row)
    ATTENTION = "needs_attention"  # not imported, for a reason a person must fix (unknown SKU, no pricelist)
    FAILED = "failed"  # the destination refused it (its message in ``reason``); tried again next run


@dataclass(slots=True)
class OrderOutcome:
    order: Order
    result: OrderResult
    reason: str | None = None
    remote_id: str | None = None  # the destination's id (Odoo sale.order id, workbook row)

    @property
    def ok(self) -> bool:
        return self.result in (OrderResult.IMPORTED, OrderResult.UNCHANGED, OrderResult.UPDATED)
