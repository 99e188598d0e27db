"""What an order destination (Odoo, the orders workbook) provides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from connector.orders.book import OrderBook
from connector.orders.model import Order
from connector.orders.outcome import OrderOutcome, OrderResult


class OrderDestination(Protocol):
    name: str  # "odoo", "workbook": the book's import kind is ``import.<name>``
    # True when an order this destination imported is already deducted from the stock the profile's source
    # reads (Odoo: a confirmed sale order reserves it, so the free quantity holds it): the oversell guard
    # then reserves only orders not yet imported.  False (workbook, supplier feed): every open order.
    reserves_imported: bool
    # Why the last ``import_orders`` could take none of its orders (the orders workbook could not be written: open
    # in a spreadsheet program, read-only), else None: the run then keeps its cursor, so the next run reads those
    # orders again however long the destination stays unavailable (not only the ones a lookback finds again).
    not_taken: str | None

    def import_orders(self, orders: Sequence[Order], book: OrderBook, run_id: str) -> list[OrderOutcome]:
        """Import what is new, leave what is there; one outcome per order, in order.  Exactly once: an order
        is looked up in the destination (by ``Order.reference``) before it is created, and the create is
        journalled, so a run killed at any point and re-run never creates it twice."""
        ...

    def preview(self, orders: Sequence[Order], book: OrderBook) -> list[OrderOutcome]:
        """What ``import_orders`` would do, nothing written (a dry run)."""
        ...

    def holds(self, body: dict[str, Any], order: Order) -> bool:
        """Whether the import record ``body`` (``mark_imported``) of ``order`` is of this destination as
        configured now (the workbook: the same file, still there, with the order's rows); False: the order is
        handed again."""
        ...

    def hand_over(self, settings: Any) -> Any:
        """The destination's logged-in connection for the stock read of the same run when the source is that same
        system (Odoo), else None."""
        ...

    def close(self) -> None:
        """Called once the run is over (a destination holding a connection)."""
        ...

    def take_notes(self) -> list[str]:
        """What the destination has to tell the run's report since it was last asked (the workbook: a column it
        added back), once."""
        ...


class DestinationBase:
    """The defaults of a destination's optional methods: a plugin implements ``import_orders`` and overrides
    only what it needs."""

    name: str
    reserves_imported: bool
    not_taken: str | None = None

    def preview(self, orders: Sequence[Order], book: OrderBook) -> list[OrderOutcome]:
        """What the book says: an order the destination holds would be updated, any other imported."""
        held = book.imported(self.name)
        return [OrderOutcome(o, OrderResult.UPDATED, "dry run: would be updated", remote_id=held[o.key])
                if o.key in held else OrderOutcome(o, OrderResult.IMPORTED, "dry run: would be imported")
                for o in orders]

    def holds(self, body: dict[str, Any], order: Order) -> bool:
        return True

    def hand_over(self, settings: Any) -> Any:
        return None

    def close(self) -> None:
        return None

    def take_notes(self) -> list[str]:
        return []
