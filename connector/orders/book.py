"""The orders the state remembers, per marketplace account (state kinds, no tables of their own):

- ``order``: the last seen version of every order (hash = fingerprint, body = ``Order.to_json``);
- ``order.open``: the same for the orders still open, so the oversell guard and ``refresh`` load only those;
- ``import.<destination>``: which orders a destination holds (remote id = Odoo ``sale.order`` id, workbook
  row key; body = what was imported, e.g. ``{"reference": ..., "confirmed": true}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from connector.orders.model import Order
from connector.sync.state.store import StateStore

SEEN = "order"
OPEN = "order.open"


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

    def remember(self, orders: Iterable[Order]) -> None:
        """Save the latest version of each order (and its open-ness) in one transaction."""
        orders = list(orders)
        with self.state.atomic():
            items = [(o.key, o.fingerprint(), _dump(o.to_json()), None) for o in orders]
            self.state.confirm(self.marketplace, self.account, SEEN, items)
            open_items = [item for item, o in zip(items, orders, strict=True) if o.is_open]
            if open_items:
                self.state.confirm(self.marketplace, self.account, OPEN, open_items)
            for o in orders:
                if not o.is_open:
                    self.state.forget(self.marketplace, self.account, OPEN, o.key)

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
