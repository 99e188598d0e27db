"""The orders the state remembers, per marketplace account (state kinds, no tables of their own):

- ``order``: the last seen version of every order (hash = fingerprint, body = ``Order.to_json``);
- ``order.open``: the same for the orders still open, so the oversell guard and ``refresh`` load only those;
- ``order.shipped``: each order line seen leaving the warehouse (shipped or delivered) after the book knew it
  open, or in an order new to a book that already knew orders (placed and shipped between two runs), with the
  moment it was first seen so (key ``<order key>/<line id>``, hash = that moment, body = ``ShippedHold``): with a
  stock file that does not deduct shipped orders itself, the oversell guard holds it back until the file is saved
  after that moment (``reservation.reserve``), then forgets it; a line cancelled or returned is forgotten at once;
- ``order.given_back``: each order line seen cancelled after the book knew it open (key ``<order key>/<line
  id>``, body ``{"sku", "quantity"}``): the marketplace gave its units back to the stock it lists by itself, so
  that stock is no longer what the connector last sent there; the next stock push to that marketplace sends the
  SKU's quantity again even when the quantity it wants did not change (``resend_given_back``), then forgets it;
- ``import.<destination>``: which orders a destination holds (remote id = Odoo ``sale.order`` id, workbook
  row key; body = what was imported, e.g. ``{"reference": ..., "confirmed": true}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from connector.orders.model import OPEN_STATUSES, Order, OrderLine, OrderStatus, iso, parse_time
from connector.sync.state.store import StateStore

SEEN = "order"
OPEN = "order.open"
SHIPPED = "order.shipped"
GIVEN_BACK = "order.given_back"
FULFIL_CONFIRMED = "fulfil.confirmed"  # (connector.fulfilment.writer.CONFIRMED: what a marketplace confirmed)
LEFT = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})  # the units left the warehouse
BACK = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED})  # they never left, or came back


@dataclass(frozen=True)
class ShippedHold:
    """One order line seen shipped: ``quantity`` of ``sku`` gone from the shelf since ``seen``."""

    key: str
    order: str  # the order's key in the book
    reference: str
    sku: str
    quantity: int
    seen: datetime

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "seen": iso(self.seen)}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ShippedHold:
        seen = parse_time(body["seen"])
        if seen is None:
            raise ValueError(f"shipped hold {body['key']} has no time")
        return cls(body["key"], body["order"], body["reference"], body["sku"], int(body["quantity"]), seen)


def line_status(order: Order, line: OrderLine) -> OrderStatus:
    """A line's own status where the marketplace has one (Elryan), else its order's."""
    return line.status or order.status


def _given_back_item(order: Order, line: OrderLine) -> tuple[str, str, str, None]:
    """An ``order.given_back`` note of one line: its SKU and quantity, keyed like a shipped hold."""
    return hold_key(order, line), "", _dump({"sku": line.sku, "quantity": line.quantity}), None


def hold_key(order: Order, line: OrderLine) -> str:
    """A line's key in ``order.shipped``."""
    return f"{order.key}/{line.line_id}"


def import_kind(destination: str) -> str:
    return f"import.{destination}"


class OrderBook:
    def __init__(self, state: StateStore, marketplace: str, account: str) -> None:
        self.state, self.marketplace, self.account = state, marketplace, account

    def known(self) -> dict[str, str]:
        """key -> fingerprint of every order seen."""
        return self.state.hashes(self.marketplace, self.account, SEEN)

    def load(self, keys: Iterable[str]) -> dict[str, Order]:
        return {k: Order.from_json(v) for k, v in self.state.bodies(self.marketplace, self.account, SEEN, keys).items()}

    def open_orders(self) -> list[Order]:
        keys = self.state.hashes(self.marketplace, self.account, OPEN)
        return [Order.from_json(v) for v in self.state.bodies(self.marketplace, self.account, OPEN, keys).values()]

    def remember(self, orders: Iterable[Order], *, now: datetime | None = None) -> None:
        """Save the latest version of each order (its open-ness, and the lines it shipped since the book's version,
        seen so at ``now``) in one transaction."""
        orders = list(orders)
        shipped = self.newly_shipped(orders, now or datetime.now(UTC))
        back = self.came_back(orders)
        given = self.given_back(orders)
        with self.state.atomic():
            if shipped:
                self.state.confirm(self.marketplace, self.account, SHIPPED,
                                   [(h.key, iso(h.seen) or "", _dump(h.to_json()), None) for h in shipped])
            if given:
                self._given_back(given)
            self.release_shipped(back)
            items = [(o.key, o.fingerprint(), _dump(o.to_json()), None) for o in orders]
            self.state.confirm(self.marketplace, self.account, SEEN, items)
            open_items = [item for item, o in zip(items, orders, strict=True) if o.is_open]
            if open_items:
                self.state.confirm(self.marketplace, self.account, OPEN, open_items)
            for o in orders:
                if not o.is_open:
                    self.state.forget(self.marketplace, self.account, OPEN, o.key)

    # -- lines that left the warehouse (the oversell guard of a stock file) ------------------------------------
    def newly_shipped(self, orders: Iterable[Order], seen: datetime) -> list[ShippedHold]:
        """The lines of ``orders`` that left the warehouse since the book's version of them (open there), or in an
        order the book does not know when it already knows others (the first read of an account finds orders
        the stock file already counts); none already held."""
        orders = [o for o in orders if any(line_status(o, line) in LEFT for line in o.lines)]
        if not orders:
            return []
        held = self.state.hashes(self.marketplace, self.account, SHIPPED)
        before = self.load(o.key for o in orders)
        fresh_book = not before and not self.known()
        out: list[ShippedHold] = []
        for order in orders:
            previous = before.get(order.key)
            if previous is None and fresh_book:
                continue
            was = {line.line_id: line_status(previous, line) for line in previous.lines} if previous else {}
            for line in order.lines:
                key = hold_key(order, line)
                if line_status(order, line) not in LEFT or key in held or (
                        previous is not None and was.get(line.line_id, OrderStatus.NEW) not in OPEN_STATUSES):
                    continue
                out.append(ShippedHold(key, order.key, order.reference, line.sku, line.quantity, seen))
        return out

    def came_back(self, orders: Iterable[Order]) -> list[str]:
        """Keys of the held lines of ``orders`` now cancelled or returned."""
        held = self.state.hashes(self.marketplace, self.account, SHIPPED)
        if not held:
            return []
        return [key for o in orders for line in o.lines
                if (key := hold_key(o, line)) in held and line_status(o, line) in BACK]

    def given_back(self, orders: Iterable[Order]) -> list[tuple[str, str, str, None]]:
        """``order.given_back`` items of ``given_back_lines``."""
        return [_given_back_item(order, line) for order, line in self.given_back_lines(orders)]

    def given_back_lines(self, orders: Iterable[Order]) -> list[tuple[Order, OrderLine]]:
        """The lines of ``orders`` now cancelled that the book knew open (an order placed and cancelled between two
        runs took nothing from the marketplace's stock and gave nothing back)."""
        orders = [o for o in orders if any(line_status(o, line) is OrderStatus.CANCELLED for line in o.lines)]
        if not orders:
            return []
        before = self.load(o.key for o in orders)
        sent = self.state.bodies(self.marketplace, self.account, FULFIL_CONFIRMED, [o.key for o in orders])
        out = []
        for order in orders:
            previous = before.get(order.key)
            if previous is None or sent.get(order.key, {}).get("result") == "cancelled":
                continue  # (a cancellation ``connector fulfil`` sent noted its lines when it was confirmed)
            was = {line.line_id: line_status(previous, line) for line in previous.lines}
            for line in order.lines:
                if line_status(order, line) is OrderStatus.CANCELLED and was.get(line.line_id) in OPEN_STATUSES:
                    out.append((order, line))
        return out

    def note_given_back(self, order: Order) -> None:
        """The marketplace confirmed a cancellation the connector sent (``connector fulfil``): the lines of
        ``order`` still open as last read gave their units back (``order.given_back``), so the stock push of the
        same ``sync`` sends them again; the orders read that sees the order cancelled later does not note them
        twice."""
        items = [_given_back_item(order, line) for line in order.lines if line_status(order, line) in OPEN_STATUSES]
        if items:
            self._given_back(items)

    def _given_back(self, items: list[tuple[str, str, str, None]]) -> None:
        """Note them, and forget the account's clean run: the next push must plan (unchanged.py would skip it)."""
        self.state.confirm(self.marketplace, self.account, GIVEN_BACK, items)
        self.state.forget_clean_runs(self.marketplace, self.account)

    def shipped_holds(self) -> list[ShippedHold]:
        keys = self.state.hashes(self.marketplace, self.account, SHIPPED)
        if not keys:
            return []
        bodies = self.state.bodies(self.marketplace, self.account, SHIPPED, keys)
        return [ShippedHold.from_json(body) for body in bodies.values()]

    def release_shipped(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.state.forget(self.marketplace, self.account, SHIPPED, key)

    # -- what a destination holds --------------------------------------------------------------------------
    def imported(self, destination: str) -> dict[str, str]:
        """key -> the destination's id of every order it holds."""
        return self.state.remote_ids(self.marketplace, self.account, import_kind(destination))

    def imported_versions(self, destination: str) -> dict[str, str]:
        """key -> fingerprint of the order's version the destination recorded (``mark_imported``)."""
        return self.state.hashes(self.marketplace, self.account, import_kind(destination))

    def imported_bodies(self, destination: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        return self.state.bodies(self.marketplace, self.account, import_kind(destination), keys)

    def mark_imported(self, destination: str, order: Order, remote_id: str, body: dict[str, Any]) -> None:
        text = _dump(body)
        self.state.confirm(self.marketplace, self.account, import_kind(destination),
                           [(order.key, order.fingerprint(), text, remote_id)])


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
