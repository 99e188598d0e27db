"""What a fulfilment source provides: the merchant's system where the orders went (``orders.to``) says what
shipped and what was cancelled.  Odoo: done outgoing deliveries of the imported sale orders (tracking reference,
carrier) and cancelled sale orders, read incrementally with a cursor and an overlap.  The orders workbook: the
merchant's Status, Tracking number and Courier columns, read whole (it is small and has no cursor)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from connector.fulfilment.model import OrderProgress
from connector.orders.model import Order


@dataclass(frozen=True, slots=True)
class ImportedOrder:
    """An order the destination holds, as the fulfilment run hands it to the source: the order as last read
    from the marketplace (the book), and the destination's id of it (Odoo sale.order id, workbook row key) with
    the import record (``OrderBook.mark_imported`` body)."""

    order: Order
    destination_id: str
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def marketplace(self) -> str:
        return self.order.marketplace

    @property
    def account(self) -> str:
        return self.order.account


@dataclass(slots=True)
class SourceRead:
    progress: list[OrderProgress]  # one per order the source has something (new or not) to say about
    cursor: str | None = None  # saved under ``fulfil:<source name>`` once the progress is remembered (None: none)
    notes: list[str] = field(default_factory=list)  # said in every marketplace's report (e.g. pickings of orders
    #                                                 the connector did not import, ignored)


class FulfilmentSource(Protocol):
    name: str  # "odoo", "workbook": the cursor is ``fulfil:<name>``

    def read(self, imported: Sequence[ImportedOrder], cursor: str | None, now: datetime) -> SourceRead:
        """What shipped or was cancelled since ``cursor`` (minus the source's overlap; None: everything) among
        ``imported``.  For each order with anything new, its whole progress (every shipment so far), so the run
        can compare it with what the marketplace confirmed.  Raises ``ConnectorError`` (unreachable, refused)
        when it cannot read: nothing is sent then."""
        ...

    def close(self) -> None:
        ...
