"""The EcomLinx sandbox's state and rules: products matched by SKU, stock with channel allocations, orders,
channels and webhook registrations.  No HTTP here.

Refusals are ``Rejected`` with EcomLinx's codes (``not_found``, ``conflict``, ``bad_request``); the routes give
them their status and envelope.  Changes that EcomLinx announces by webhook call ``notify(event, data)``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connector.sandbox.records import Collection, RecordStore
from connector.sandbox.states import StatusMachine
from connector.sandbox.validation import Rejected

DEFAULT_CHANNELS = (("amazon_in", "Amazon India"), ("flipkart", "Flipkart"), ("shopify", "Shopify"))
#: couriers a ``shipped`` PATCH may name (inferred: the document names Delhivery only, "Courier name, e.g.
#: Delhivery"; marketplaces refuse carriers they do not know).  ``create_sandbox(couriers=...)`` replaces the
#: list, ``POST /__sandbox/seed {"couriers": [...]}`` adds to it.
DEFAULT_COURIERS = ("Delhivery", "Blue Dart", "DTDC", "Ecom Express", "Xpressbees", "Shadowfax", "Ekart",
                    "India Post", "Amazon Shipping")
ORDER_UPDATE_STATUSES = ("processing", "ready", "shipped", "delivered", "cancelled")
FINAL_ORDER_STATUSES = ("delivered", "cancelled", "return")
OPEN_ORDER_STATUSES = ("new", "processing", "ready", "shipped")
RESERVING_ORDER_STATUSES = ("new", "processing", "ready")  # the units have not left: a cancel gives them back
DEFAULT_REORDER_POINT = 10
#: forward moves only (inferred: the document lists the statuses, not the moves): an order goes on to a later
#: status or is cancelled before it ships; a final one never moves.
ORDER_MOVES: dict[str, tuple[str, ...]] = {
    "new": ("processing", "ready", "shipped", "cancelled"),
    "processing": ("ready", "shipped", "cancelled"),
    "ready": ("shipped", "cancelled"),
    "shipped": ("delivered",),
    **{s: () for s in FINAL_ORDER_STATUSES},
}
ORDER_STATUS = StatusMachine(ORDER_MOVES, code="conflict", refusal="{subject} is {current}: it cannot become {target}")
#: the sandbox-only control call also plays the customer: a delivered order may come back (``return``).
SANDBOX_ORDER_STATUS = StatusMachine({**ORDER_MOVES, "delivered": ("return",)}, code="conflict",
                                     refusal=ORDER_STATUS.refusal)

PRODUCTS = Collection("ecl_products", columns={"sku": "sku"}, indexes=("sku",))
ORDERS = Collection("ecl_orders", columns={"created_at": "created_at"})
CHANNELS = Collection("ecl_channels")
WEBHOOKS = Collection("ecl_webhooks", columns={"url": "url"})
COURIERS = Collection("ecl_couriers", key="key")
DELIVERIES = Collection("ecl_deliveries")

Notify = Callable[[str, dict[str, Any]], object]


def courier_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4).upper()}"


def not_found(what: str) -> Rejected:
    return Rejected("not_found", f"{what} does not exist.")


def fit_allocations(allocations: Mapping[str, int], total: int) -> dict[str, int]:
    """Existing allocations cut down, in order, so they sum to no more than ``total``."""
    left, out = total, {}
    for channel, units in allocations.items():
        out[channel] = min(units, left)
        left -= out[channel]
    return out


def stock_status(doc: dict[str, Any]) -> str:
    if doc["stock"] == 0:
        return "critical"
    if doc.get("velocity", 0) == 0:
        return "dead_stock"
    return "low" if doc["stock"] <= doc.get("reorder_point", DEFAULT_REORDER_POINT) else "healthy"


def without_secret(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "secret"}


class EcomLinxBackend:
    """EcomLinx's records and the rules that change them."""

    def __init__(self, records: RecordStore, notify: Notify, couriers: Sequence[str] = DEFAULT_COURIERS) -> None:
        self.records = records
        self.notify = notify
        self.default_couriers = tuple(couriers)
        for c in (PRODUCTS, ORDERS, CHANNELS, WEBHOOKS, DELIVERIES, COURIERS):
            records.create(c)
        self.install_channels()
        self.install_couriers()

    # -- channels ----------------------------------------------------------------------------------------

    def install_channels(self) -> None:
        with self.records.transaction():
            if not self.records.count(CHANNELS):
                for cid, title in DEFAULT_CHANNELS:
                    self.insert_channel({"id": cid, "name": title})

    def insert_channel(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self.records.insert(CHANNELS, {
            "id": fields["id"], "name": fields.get("name") or fields["id"], "status": fields.get("status", "active"),
            "last_synced": fields.get("last_synced"), "orders_today": fields.get("orders_today", 0),
            "active_listings": fields.get("active_listings", 0)})

    def channels(self) -> list[dict[str, Any]]:
        return self.records.find(CHANNELS)

    def channel_ids(self) -> list[str]:
        return [c["id"] for c in self.channels()]

    def sync_channel(self, cid: str) -> dict[str, Any]:
        with self.records.transaction():
            doc = self.records.get(CHANNELS, cid)
            if doc is None:
                raise not_found(f"Channel {cid}")
            doc["last_synced"] = now_iso()
            self.records.put(CHANNELS, doc)
        job = {"sync_id": new_id("sync"), "channel": cid, "status": "queued", "estimated_seconds": 12,
               "created_at": now_iso()}
        self.notify("sync.completed", {"sync_id": job["sync_id"], "channel": cid, "status": "completed"})
        return job

    # -- couriers ----------------------------------------------------------------------------------------

    def install_couriers(self) -> None:
        with self.records.transaction():
            if not self.records.count(COURIERS):
                for name in self.default_couriers:
                    self.insert_courier(name)

    def insert_courier(self, name: Any) -> dict[str, Any]:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a seeded courier is a non-empty name")
        return self.records.put(COURIERS, {"key": courier_key(name), "name": name.strip()})

    def courier(self, name: str) -> str:
        """The known courier ``name`` stands for (case and spacing aside), as EcomLinx spells it; ``Rejected``
        (400 ``bad_request``) for one it does not know."""
        doc = self.records.get(COURIERS, courier_key(name))
        if doc is None:
            known = ", ".join(d["name"] for d in self.records.find(COURIERS))
            raise Rejected("bad_request", f"courier {name} is not a known courier (known: {known})")
        return str(doc["name"])

    # -- products and stock ------------------------------------------------------------------------------

    def insert_product(self, f: dict[str, Any]) -> dict[str, Any]:
        """A product as EcomLinx would hold it (seeded: EcomLinx has no create endpoint)."""
        if not isinstance(f, dict) or not isinstance(f.get("sku"), str) or not f["sku"]:
            raise ValueError("a seeded product needs a sku")
        channels = list(f.get("channels") or self.channel_ids())
        now = now_iso()
        return self.records.insert(PRODUCTS, {
            "id": f.get("id") or new_id("prod"), "sku": f["sku"], "name": f.get("name") or f["sku"],
            "category": f.get("category"), "status": f.get("status", "live"), "price": f.get("price", 0),
            "stock": int(f.get("stock", 0)), "cogs": f.get("cogs"), "health_score": f.get("health_score", 80),
            "channels": channels,
            "channel_statuses": {c: {"status": "live", "listing_id": f"{c.upper()}-{f['sku']}"} for c in channels},
            "allocations": dict(f.get("allocations") or {}), "images": list(f.get("images") or []),
            "velocity": f.get("velocity", 1.0), "reorder_point": f.get("reorder_point", DEFAULT_REORDER_POINT),
            "created_at": now, "updated_at": now})

    def products(self) -> list[dict[str, Any]]:
        return self.records.find(PRODUCTS)

    def product(self, product_id: str) -> dict[str, Any]:
        doc = self.records.get(PRODUCTS, product_id)
        if doc is None:
            raise not_found(f"Product {product_id}")
        return doc

    def _save_product(self, doc: dict[str, Any]) -> None:
        doc["updated_at"] = now_iso()
        self.records.put(PRODUCTS, doc)

    def update_product(self, product_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self.records.transaction():
            doc = self.product(product_id)
            before = doc["stock"]
            for name in ("name", "price", "status"):
                if name in fields:
                    doc[name] = fields[name]
            if "stock" in fields:
                doc["stock"] = fields["stock"]
                doc["allocations"] = fit_allocations(doc["allocations"], doc["stock"])
            self._save_product(doc)
        self._stock_events(doc, before)
        return doc

    def set_inventory(self, sku: str, *, quantity: int | None, adjust: int | None,
                      allocations: dict[str, int] | None) -> dict[str, Any]:
        """Absolute ``quantity`` or relative ``adjust`` (or neither), and optionally new channel allocations."""
        with self.records.transaction():
            docs = self.records.find(PRODUCTS, "sku = ?", (sku,))
            if not docs:
                raise not_found(f"SKU {sku}")
            if len(docs) > 1:
                raise Rejected("conflict", f"SKU {sku} matches {len(docs)} products")
            doc = docs[0]
            before = total = doc["stock"]
            if quantity is not None:
                total = quantity
            elif adjust is not None:
                total = doc["stock"] + adjust
                if total < 0:
                    raise Rejected("conflict",
                                   f"adjust {adjust} would take SKU {sku} below zero (stock {doc['stock']})")
            if allocations is not None:
                strangers = sorted(set(allocations) - set(self.channel_ids()))
                if strangers:
                    raise Rejected("bad_request", f"allocations: {strangers[0]} is not a connected channel")
                if sum(allocations.values()) > total:
                    raise Rejected("bad_request", f"allocations sum to {sum(allocations.values())}, more than the "
                                                  f"total stock {total}")
                doc["allocations"] = dict(allocations)
            else:
                doc["allocations"] = fit_allocations(doc["allocations"], total)
            doc["stock"] = total
            self._save_product(doc)
        self._stock_events(doc, before)
        return doc

    def _stock_events(self, doc: dict[str, Any], before: int) -> None:
        point = doc.get("reorder_point", DEFAULT_REORDER_POINT)
        data = {"sku": doc["sku"], "product_id": doc["id"], "total_stock": doc["stock"]}
        if doc["stock"] == 0 and before > 0:
            self.notify("inventory.out", data)
        elif doc["stock"] < point <= before:
            self.notify("inventory.low", {**data, "reorder_point": point})

    # -- orders ------------------------------------------------------------------------------------------

    def insert_order(self, f: dict[str, Any]) -> dict[str, Any]:
        """An order as given (seeded: no stock moves; ``place_order`` is the one that sells)."""
        items = list(f.get("items") or [])
        created = f.get("created_at") or now_iso()
        return self.records.insert(ORDERS, {
            "id": f.get("id") or new_id("ord"), "channel": f.get("channel", "amazon_in"),
            "channel_order_id": f.get("channel_order_id"), "status": f.get("status", "new"),
            "customer": f.get("customer") or {}, "items": items,
            "total": f["total"] if "total" in f else sum(i.get("qty", 1) * i.get("price", 0) for i in items),
            "awb": f.get("awb"), "courier": f.get("courier"), "sla_deadline": f.get("sla_deadline"),
            "created_at": created, "updated_at": f.get("updated_at") or created})

    def place_order(self, f: dict[str, Any]) -> dict[str, Any]:
        """A customer buys on a channel (sandbox-only control call): the order arrives ``new`` and its units leave
        the SKUs' stock at once, as on a real marketplace.  Refused (``conflict``) when a SKU has fewer units than
        ordered: stock may reach 0, never below (inferred: the document is silent)."""
        channel = f.get("channel") or DEFAULT_CHANNELS[0][0]
        if channel not in self.channel_ids():
            raise Rejected("bad_request", f"channel: {channel} is not a connected channel")
        wanted: dict[str, int] = {}
        for item in f["items"]:
            wanted[item["sku"]] = wanted.get(item["sku"], 0) + item["qty"]
        touched: list[tuple[dict[str, Any], int]] = []
        with self.records.transaction():
            for sku, qty in wanted.items():
                doc = self._one_product(sku)
                if doc["stock"] < qty:
                    raise Rejected("conflict", f"SKU {sku} has {doc['stock']} in stock: an order of {qty} cannot be "
                                               "placed")
            for sku, qty in wanted.items():
                doc = self._one_product(sku)
                touched.append((doc, doc["stock"]))
                self._restock(doc, -qty, channel)
            items = [{"sku": i["sku"], "qty": i["qty"],
                      "price": i["price"] if i.get("price") is not None else self._one_product(i["sku"])["price"]}
                     for i in f["items"]]
            order = self.insert_order({**f, "channel": channel, "status": "new", "items": items,
                                       "channel_order_id": f.get("channel_order_id") or new_id(channel.upper()),
                                       "created_at": f.get("created_at") or now_iso(), "updated_at": None})
            order["_stock_taken"] = wanted
            self.records.put(ORDERS, order)
        for doc, before in touched:
            self._stock_events(doc, before)
        self.notify("order.new", {k: order.get(k) for k in ("id", "channel", "total", "status")})
        return order

    def _one_product(self, sku: str) -> dict[str, Any]:
        docs = self.records.find(PRODUCTS, "sku = ?", (sku,))
        if not docs:
            raise not_found(f"SKU {sku}")
        if len(docs) > 1:
            raise Rejected("conflict", f"SKU {sku} matches {len(docs)} products")
        return docs[0]

    def _restock(self, doc: dict[str, Any], change: int, channel: str) -> None:
        """Stock moved by an order on ``channel``: that channel's allocation moves with it (never below 0), the
        others are cut down in order to fit the new total."""
        doc["stock"] += change
        allocations = dict(doc["allocations"])
        if channel in allocations:
            allocations[channel] = max(0, allocations[channel] + change)
        doc["allocations"] = fit_allocations(allocations, doc["stock"])
        self._save_product(doc)

    def order(self, order_id: str) -> dict[str, Any]:
        doc = self.records.get(ORDERS, order_id)
        if doc is None:
            raise not_found(f"Order {order_id}")
        return doc

    def orders(self, *, newest_first: bool = True) -> list[dict[str, Any]]:
        """Newest first (as listed), or in the order they arrived."""
        return self.records.find(ORDERS, order="created_at DESC, seq DESC" if newest_first else "seq")

    def update_order(self, order_id: str, status: str, shipping: dict[str, Any], *,
                     machine: StatusMachine = ORDER_STATUS) -> dict[str, Any]:
        """Move an order along ``machine`` (``PATCH /orders/{id}``; the control call passes its own).  Cancelling an
        order whose units have not left gives them back to the stock they were taken from."""
        touched: list[tuple[dict[str, Any], int]] = []
        with self.records.transaction():
            doc = self.order(order_id)
            before = doc["status"]
            changed = machine.move(doc, status, subject=f"Order {doc['id']}")
            doc.update(shipping)
            doc["updated_at"] = now_iso()
            if changed and status == "cancelled" and before in RESERVING_ORDER_STATUSES:
                for sku, qty in (doc.pop("_stock_taken", None) or {}).items():
                    product = self.records.first(PRODUCTS, "sku = ?", (sku,))
                    if product is not None:
                        touched.append((product, product["stock"]))
                        self._restock(product, qty, doc["channel"])
            self.records.put(ORDERS, doc)
        for product, stock_before in touched:
            self._stock_events(product, stock_before)
        if changed and doc["status"] in ("shipped", "cancelled"):
            self.notify(f"order.{doc['status']}",
                        {k: doc.get(k) for k in ("id", "channel", "status", "awb", "courier")})
        return doc

    # -- webhooks ----------------------------------------------------------------------------------------

    def webhooks(self) -> list[dict[str, Any]]:
        """Registrations with their secrets (never shown over the API)."""
        return self.records.find(WEBHOOKS)

    def register_webhook(self, url: str, events: list[str], secret: str | None) -> dict[str, Any]:
        doc = {"id": new_id("wh"), "url": url, "events": list(dict.fromkeys(events)), "status": "active",
               "created_at": now_iso()}
        with self.records.transaction():
            if self.records.exists(WEBHOOKS, "url = ?", (url,)):
                raise Rejected("conflict", f"A webhook for {url} is already registered")
            self.records.insert(WEBHOOKS, {**doc, "secret": secret} if secret is not None else doc)
        return {**doc, "secret": secret} if secret is not None else doc

    def delete_webhook(self, webhook_id: str) -> None:
        if not self.records.delete(WEBHOOKS, webhook_id):
            raise not_found(f"Webhook {webhook_id}")

    def record_delivery(self, delivery: dict[str, Any]) -> int:
        """Log one webhook POST; its id (1, 2, ... since the last reset)."""
        return self.records.append_numbered(DELIVERIES, delivery)

    def deliveries(self) -> list[dict[str, Any]]:
        return self.records.find(DELIVERIES)
