"""The oversell guard: what open marketplace orders hold back from the stock sent to every marketplace.

A unit sold on one marketplace is still in the source's count until the order reaches it (and, for Odoo, is
confirmed, which reserves it: the free quantity the stock policy reads then already excludes it).  The stock
push is absolute (``set``), so without this the next run would put the sold unit back on sale everywhere,
the marketplace that sold it included.  So, per SKU, the open quantities (``Order.open_quantities``: new,
processing, ready; shipped and cancelled orders hold nothing) of every marketplace of the profile are taken
off the listed stock (``StockPolicy.reserved``), never below 0:

- the source is the system the orders are imported into and that system reserves what it imports
  (``OrderDestination.reserves_imported``: Odoo as the source and the destination): only the orders not yet
  imported and confirmed there (never subtract twice);
- any other source (a workbook, a supplier feed, an Odoo that does not receive the orders): every open order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from connector.orders.book import OrderBook
from connector.orders.model import Order
from connector.sync.state import StateStore


@dataclass
class Reservation:
    quantities: dict[str, int] = field(default_factory=dict)  # SKU -> units held back
    orders: int = 0  # open orders counted
    accounted: int = 0  # open orders left out: the source already holds them (imported and confirmed)

    @property
    def note(self) -> str:
        units = sum(self.quantities.values())
        text = (f"open orders: {self.orders} hold back {units} unit(s) of {len(self.quantities)} SKU(s) on every "
                "marketplace")
        if self.accounted:
            text += f" ({self.accounted} more already reserved by the source, not counted twice)"
        return text


def accounted_by(destination_name: str, reserves_imported: bool, source_type: str | None) -> str | None:
    """The destination whose imports the source already deducts (Odoo receiving the orders and being the
    source), or None: every open order is held back."""
    return destination_name if reserves_imported and destination_name == source_type else None


def reserve(state: StateStore, accounts: Sequence[tuple[str, str]], *, pulled: Iterable[Order] = (),
            accounted: str | None = None) -> Reservation:
    """Open quantities per SKU over the order books of ``accounts`` ((marketplace, account) of every marketplace
    of the profile).  ``pulled``: orders this run read, newer than the book's (a dry run does not remember
    them); ``accounted``: see ``accounted_by``."""
    latest: dict[tuple[str, str], dict[str, Order]] = {}
    for order in pulled:
        latest.setdefault((order.marketplace, order.account), {})[order.key] = order
    out = Reservation()
    for marketplace, account in dict.fromkeys(accounts):
        book = OrderBook(state, marketplace, account)
        orders = {o.key: o for o in book.open_orders()}
        orders.update(latest.get((marketplace, account), {}))
        open_orders = [o for o in orders.values() if o.is_open]
        held: set[str] = set()
        if accounted is not None:
            imported = book.imported(accounted)
            keys = [o.key for o in open_orders if o.key in imported]
            held = {k for k, body in book.imported_bodies(accounted, keys).items() if body.get("confirmed", True)}
        for order in open_orders:
            if order.key in held:
                out.accounted += 1
                continue
            quantities = order.open_quantities()
            if not quantities:
                continue
            out.orders += 1
            for sku, qty in quantities.items():
                out.quantities[sku] = out.quantities.get(sku, 0) + qty
    return out
