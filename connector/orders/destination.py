"""What an order destination (Odoo, the orders workbook) provides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from connector.orders.book import OrderBook
from connector.orders.model import Order
from connector.orders.outcome import OrderOutcome


class OrderDestination(Protocol):
    name: str  # "odoo", "workbook": the book's import kind is ``import.<name>``
    # True when an order this destination imported is already deducted from the stock the profile's source
    # reads (Odoo: a confirmed sale order reserves it, so the free quantity holds it): the oversell guard
    # then reserves only orders not yet imported.  False (workbook, supplier feed): every open order.
    reserves_imported: bool

    def import_orders(self, orders: Sequence[Order], book: OrderBook, run_id: str) -> list[OrderOutcome]:
        """Import what is new, leave what is there; one outcome per order, in order.  Exactly once: an order
        is looked up in the destination (by ``Order.reference``) before it is created, and the create is
        journalled, so a run killed at any point and re-run never creates it twice."""
        ...

    # Optional (looked up with getattr by connector.orders.run and the CLI):
    # - ``preview(orders, book) -> list[OrderOutcome]``: what ``import_orders`` would do, nothing written (a dry
    #   run); without it a dry run says "would be imported" / "would be updated" from the book;
    # - ``holds(body) -> bool``: whether the import record ``body`` (``mark_imported``) is of this destination as
    #   configured now (the workbook: the same file, still there); False: the order is handed again;
    # - ``close()``: called once the run is over (a destination holding a connection).
