"""The Elebne sandbox's orders: simulated (the documented sandbox-only "simulate orders" call), listed, read by id
and moved through their statuses.  No HTTP here.

The document names the calls (list/get orders, simulate orders in sandbox, scopes ``store.orders:read`` /
``store.orders:write``) but shows no order: the object, its statuses and the error codes below are inferred from
the product and inventory pages' patterns (camelCase, ``id`` + ``externalId``, ``createdAt``/``updatedAt``,
upper-case statuses, prices in minor units, ``XXX_NOT_FOUND`` codes); docs/elebne.md lists them.

A simulated order is placed as a customer would: its units leave the stock of the product (and of the variant
named by ``variantLabel``) at once; a product whose stock is not tracked (``quantity`` null) is not counted.
Cancelling an order whose units have not left gives them back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connector.sandbox.records import Collection, RecordStore, object_id, snapshot
from connector.sandbox.states import StatusMachine
from connector.sandbox.store import utc_now_iso
from connector.sandbox.validation import MAX_INT, Problems, Rejected, check_integer, check_string, check_unknown

from .backend import PRODUCTS, ElebneBackend, resolve_variant

ORDERS = Collection("elebne_orders", columns={"updated_at": "updatedAt", "status": "status"})
STATUSES = ("PENDING", "CONFIRMED", "PREPARING", "READY", "SHIPPED", "DELIVERED", "CANCELLED", "RETURNED")
HOLDING = ("PENDING", "CONFIRMED", "PREPARING", "READY")  # units not yet left: a cancel gives them back
#: forward moves only; a delivered order may come back (RETURNED); CANCELLED and RETURNED are final.
ORDER_STATUS = StatusMachine({
    "PENDING": ("CONFIRMED", "PREPARING", "READY", "SHIPPED", "CANCELLED"),
    "CONFIRMED": ("PREPARING", "READY", "SHIPPED", "CANCELLED"),
    "PREPARING": ("READY", "SHIPPED", "CANCELLED"),
    "READY": ("SHIPPED", "CANCELLED"),
    "SHIPPED": ("DELIVERED",),
    "DELIVERED": ("RETURNED",),
    "CANCELLED": (),
    "RETURNED": (),
}, code="INVALID_STATUS_TRANSITION", refusal="Order {subject} is {current}: it cannot become {target}")
DEFAULT_CURRENCY = "MRU"
ORDER_FIELDS = ("items", "customer", "deliveryFee", "currency", "createdAt")
ITEM_FIELDS = ("externalId", "variantLabel", "quantity", "unitPrice")
CUSTOMER_FIELDS = ("name", "phone", "email", "address", "city", "country")


def utc_text(value: str) -> str:
    """An ISO 8601 time in the sandbox's own format (UTC, milliseconds, ``Z``); a naive time is UTC."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def check_time(problems: Problems, field: str, value: Any) -> None:
    if value is None:
        return
    try:
        utc_text(value)
    except (TypeError, ValueError, AttributeError):
        problems.add(field, "must be an ISO 8601 time, e.g. 2026-04-17T07:45:00Z")


def check_simulation(body: Any) -> dict[str, Any]:
    """A simulate body: ``{"items": [{externalId, variantLabel?, quantity, unitPrice?}], "customer"?,
    "deliveryFee"?, "currency"?, "createdAt"?}``; every problem at once as a ``VALIDATION_ERROR``."""
    problems = Problems()
    if not isinstance(body, dict):
        problems.add("", f"the body must be a JSON object, got {problems.type_of(body)}")
        problems.raise_if_any()
    check_unknown(problems, "", body, ORDER_FIELDS)
    items = body.get("items")
    if not isinstance(items, list) or not items:
        problems.add("items", "is required: a non-empty array")
        items = []
    for n, item in enumerate(items):
        where = f"items[{n}]"
        if not isinstance(item, dict):
            problems.add(where, "must be an object")
            continue
        check_unknown(problems, f"{where}.", item, ITEM_FIELDS)
        check_string(problems, f"{where}.externalId", item.get("externalId"), if_none="is required", non_empty=True)
        check_string(problems, f"{where}.variantLabel", item.get("variantLabel"), non_empty=True)
        check_integer(problems, f"{where}.quantity", item.get("quantity"), if_none="is required", minimum=1)
        check_integer(problems, f"{where}.unitPrice", item.get("unitPrice"))
    customer = body.get("customer")
    if customer is not None:
        if not isinstance(customer, dict):
            problems.add("customer", "must be an object")
        else:
            check_unknown(problems, "customer.", customer, CUSTOMER_FIELDS)
            for name in CUSTOMER_FIELDS:
                check_string(problems, f"customer.{name}", customer.get(name))
    check_integer(problems, "deliveryFee", body.get("deliveryFee"))
    check_string(problems, "currency", body.get("currency"), non_empty=True)
    check_time(problems, "createdAt", body.get("createdAt"))
    problems.raise_if_any()
    return body


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """An order as answered: the sandbox's bookkeeping (``_stockTaken``) left out."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


class ElebneOrders:
    """Orders in the record store, and the stock they take and give back."""

    def __init__(self, records: RecordStore, products: ElebneBackend) -> None:
        self.records, self.products = records, products
        records.create(ORDERS)

    def get(self, order_id: str) -> dict[str, Any]:
        doc = self.records.get(ORDERS, order_id)
        if doc is None:
            raise Rejected("ORDER_NOT_FOUND", f"Order '{order_id}' not found")
        return doc

    def all(self) -> list[dict[str, Any]]:
        return [public(d) for d in self.records.find(ORDERS)]

    def page(self, page: int, limit: int, *, status: str | None, updated_since: str | None
             ) -> tuple[list[dict[str, Any]], int]:
        """Creation order (as the other listings), filtered by status and ``updatedAt >= updated_since``."""
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if updated_since is not None:
            where.append("updated_at >= ?")
            params.append(updated_since)
        docs, total = self.records.page(ORDERS, page, limit, " AND ".join(where), tuple(params))
        return [public(d) for d in docs], total

    def insert(self, fields: dict[str, Any]) -> dict[str, Any]:
        """An order as given (``POST /__sandbox/seed``): no checks, no stock moves."""
        now = utc_now_iso()
        doc = {"id": object_id(), "orderNumber": f"EL-{self.records.count(ORDERS) + 1:06d}", "status": "PENDING",
               "items": [], "customer": None, "subtotal": 0, "deliveryFee": 0, "total": 0,
               "currency": DEFAULT_CURRENCY, "createdAt": now, "updatedAt": now, **fields}
        return self.records.insert(ORDERS, doc)

    def simulate(self, body: dict[str, Any]) -> dict[str, Any]:
        """Place a checked simulate body as a new ``PENDING`` order, taking its units from stock."""
        with self.records.transaction():
            lines, taken = [], []
            for item in body["items"]:
                product = self.products.records.first(PRODUCTS, "external_id = ?", (item["externalId"],))
                if product is None:
                    raise Rejected("PRODUCT_NOT_FOUND", f"Product '{item['externalId']}' not found")
                variant = resolve_variant(product, item["variantLabel"]) if item.get("variantLabel") else None
                price = item.get("unitPrice")
                if price is None:
                    price = variant["price"] if variant and variant.get("price") is not None else product["price"]
                quantity = item["quantity"]
                lines.append({"id": object_id(), "productId": product["id"], "externalId": product["externalId"],
                              "variantId": variant and variant["variantId"],
                              "variantLabel": variant and variant["label"],
                              "sku": (variant or {}).get("sku") or product["externalId"],
                              "name": product["name"] + (f" - {variant['label']}" if variant else ""),
                              "quantity": quantity, "unitPrice": price, "total": price * quantity})
                taken.append(self._take(product, variant, quantity))
            subtotal = sum(line["total"] for line in lines)
            fee = body.get("deliveryFee") or 0
            fields: dict[str, Any] = {"items": lines, "customer": body.get("customer"), "subtotal": subtotal,
                                      "deliveryFee": fee, "total": subtotal + fee,
                                      "currency": body.get("currency") or DEFAULT_CURRENCY}
            if body.get("createdAt"):
                fields["createdAt"] = fields["updatedAt"] = utc_text(body["createdAt"])
            doc = self.insert(fields)
            doc["_stockTaken"] = [t for t in taken if t is not None]
            self.records.put(ORDERS, doc)
        return public(doc)

    def _take(self, product: dict[str, Any], variant: dict[str, Any] | None, quantity: int
              ) -> dict[str, Any] | None:
        """Take ``quantity`` units (refused below 0); what was taken, to give back on a cancel (None: the
        stock is not tracked)."""
        product = self.products.get(product["id"])  # re-read: an earlier line of the same order may have taken some
        before = snapshot(product)
        target = product if variant is None else resolve_variant(product, variant["label"])
        if target["quantity"] is None:
            return None
        if target["quantity"] < quantity:
            what = product["externalId"] + (f" / {variant['label']}" if variant else "")
            raise Rejected("INSUFFICIENT_STOCK", f"'{what}' has {target['quantity']} in stock, the order needs "
                                                 f"{quantity}")
        target["quantity"] -= quantity
        from_product = variant is not None and product["quantity"] is not None
        if from_product:
            product["quantity"] = max(0, product["quantity"] - quantity)
        self.products.save(product, before)
        return {"productId": product["id"], "variantId": variant and variant["variantId"], "quantity": quantity,
                "fromProduct": from_product}

    def _give_back(self, taken: dict[str, Any]) -> None:
        product = self.records.get(PRODUCTS, taken["productId"])
        if product is None:
            return
        before = snapshot(product)
        variant = next((v for v in product["variants"] if v["variantId"] == taken["variantId"]), None)
        target = product if taken["variantId"] is None else variant
        if target is not None and target["quantity"] is not None:
            target["quantity"] = min(MAX_INT, target["quantity"] + taken["quantity"])
        if taken["fromProduct"] and product["quantity"] is not None:
            product["quantity"] = min(MAX_INT, product["quantity"] + taken["quantity"])
        self.products.save(product, before)

    def move(self, order_id: str, status: Any) -> dict[str, Any]:
        """Move an order to ``status`` along ``ORDER_STATUS``; a cancel before it ships gives its units back."""
        problems = Problems()
        if status not in STATUSES:
            problems.add("status", f"must be one of {', '.join(STATUSES)}")
        problems.raise_if_any()
        with self.records.transaction():
            doc = self.get(order_id)
            before = doc["status"]
            if ORDER_STATUS.move(doc, status, subject=doc["id"]):
                doc["updatedAt"] = utc_now_iso()
                if status == "CANCELLED" and before in HOLDING:
                    for taken in doc.pop("_stockTaken", None) or []:
                        self._give_back(taken)
                self.records.put(ORDERS, doc)
        return public(doc)
