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

A stock file (the spreadsheet source) does not deduct shipped orders itself: the merchant lowers it, some time
after shipping.  So there, the lines an order shipped (``OrderBook.newly_shipped``) keep holding their units back
until the file is saved after they were first seen shipped (its modification time), then are released for good.
Odoo lowers its on-hand quantity with the done delivery; a supplier feed (Aleta) is the supplier's stock, which
the merchant's shipments do not change: shipped orders hold nothing back there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.orders.book import BACK, OrderBook, hold_key, line_status
from connector.orders.model import Order
from connector.sync.state import StateStore


@dataclass
class Reservation:
    quantities: dict[str, int] = field(default_factory=dict)  # SKU -> units held back
    orders: int = 0  # open orders counted
    accounted: int = 0  # open orders left out: the source already holds them (imported and confirmed)
    shipped: dict[str, int] = field(default_factory=dict)  # SKU -> of ``quantities``, units of shipped orders
    shipped_orders: int = 0  # orders shipped since the stock file was last saved
    stock_file: str | None = None  # the stock file's name
    # a dry run's: marketplace -> SKUs of the lines its orders read saw cancelled after the book knew them open
    # (the notes a real run would make: ``OrderBook.given_back``), so the dry run's stock push shows them sent again
    given_back: dict[str, set[str]] = field(default_factory=dict)

    @property
    def note(self) -> str:
        units = sum(self.quantities.values()) - sum(self.shipped.values())
        open_skus = sum(1 for sku, n in self.quantities.items() if n > self.shipped.get(sku, 0))
        text = f"open orders: {self.orders} hold back {units} unit(s) of {open_skus} SKU(s) on every marketplace"
        if self.accounted:
            text += f" ({self.accounted} more already reserved by the source, not counted twice)"
        if self.shipped_orders:
            text += (f"; orders shipped since {self.stock_file} was last saved: {self.shipped_orders} hold back "
                     f"{sum(self.shipped.values())} unit(s) of {len(self.shipped)} SKU(s) until you save it with "
                     "the stock left")
        return text

    def add(self, sku: str, quantity: int) -> None:
        self.quantities[sku] = self.quantities.get(sku, 0) + quantity


@dataclass(frozen=True)
class StockFile:
    """The stock file of a source that does not deduct shipped orders itself, and when it was last saved (None:
    it cannot be read: every shipped order is held)."""

    name: str
    saved: datetime | None


def stock_file(source: dict[str, Any]) -> StockFile | None:
    """The profile source's stock file (``source.type: spreadsheet``), or None: the source's stock already goes
    down when an order ships (Odoo's done delivery) or is not the merchant's shelf (a supplier feed)."""
    if source.get("type") != "spreadsheet" or not source.get("path"):
        return None
    path = Path(source["path"])
    try:
        saved: datetime | None = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        saved = None
    return StockFile(path.name, saved)


def accounted_by(destination_name: str, reserves_imported: bool, source_type: str | None) -> str | None:
    """The destination whose imports the source already deducts (Odoo receiving the orders and being the
    source), or None: every open order is held back."""
    return destination_name if reserves_imported and destination_name == source_type else None


def reserve(state: StateStore, accounts: Sequence[tuple[str, str]], *, pulled: Iterable[Order] = (),
            accounted: str | None = None, stock: StockFile | None = None, release: bool = True,
            now: datetime | None = None) -> Reservation:
    """Open quantities per SKU over the order books of ``accounts`` ((marketplace, account) of every marketplace
    of the profile).  ``pulled``: orders this run read, newer than the book's (a dry run does not remember
    them); ``accounted``: see ``accounted_by``; ``stock``: the source's stock file (``stock_file``), whose
    shipped orders are held until it is saved (``hold_shipped``); ``release``: forget the shipped lines no longer
    held (not in a dry run)."""
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
                out.add(sku, qty)
        hold_shipped(out, book, latest.get((marketplace, account), {}), stock, release=release,
                     now=now or datetime.now(UTC))
        if not release and latest.get((marketplace, account)):  # a dry run: what the orders read would note
            given = book.given_back_lines(latest[(marketplace, account)].values())
            if given:
                out.given_back.setdefault(marketplace, set()).update(line.sku for _order, line in given)
    return out


def hold_shipped(out: Reservation, book: OrderBook, pulled: dict[str, Order], stock: StockFile | None, *,
                 release: bool, now: datetime) -> None:
    """Add to ``out`` the lines ``book`` saw shipped after the stock file was last saved (and those ``pulled``
    shipped, which a dry run did not remember: seen so ``now``); forget the others when ``release``."""
    holds = book.shipped_holds()
    if stock is None:  # the source deducts shipped orders itself, or they are not its stock
        if release:
            book.release_shipped(h.key for h in holds)
        return
    holds += book.newly_shipped(pulled.values(), now)
    released, orders = [], set()
    for hold in holds:
        order = pulled.get(hold.order)
        line = next((x for x in order.lines if hold_key(order, x) == hold.key), None) if order else None
        if order is not None and line is not None and line_status(order, line) in BACK:
            continue  # cancelled or returned since: the book forgets it when it remembers the order
        if stock.saved is not None and stock.saved > hold.seen:
            released.append(hold.key)
            continue
        out.add(hold.sku, hold.quantity)
        out.shipped[hold.sku] = out.shipped.get(hold.sku, 0) + hold.quantity
        orders.add(hold.order)
    out.shipped_orders += len(orders)
    out.stock_file = stock.name
    if release:
        book.release_shipped(released)
