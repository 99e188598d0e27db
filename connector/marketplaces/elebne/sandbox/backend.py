"""The Elebne sandbox's state and rules: products with variants, stock, bulk inventory.  No HTTP here.

Refusals are ``Rejected`` with Elebne's own codes (``PRODUCT_NOT_FOUND``, ``VARIANT_NOT_FOUND``...); the
routes give them their HTTP status and envelope.  Request bodies arrive already checked (``checks.py``).
"""

from __future__ import annotations

from typing import Any

from connector.sandbox.records import Collection, RecordStore, object_id, snapshot
from connector.sandbox.store import utc_now_iso
from connector.sandbox.validation import MAX_INT, Rejected

DEFAULT_LOW_STOCK_THRESHOLD = 5
PRODUCTS = Collection("elebne_products", unique=("external_id",), columns={
    "external_id": "externalId", "quantity": "quantity", "low_stock_threshold": "lowStockThreshold"})
TRACKED = "quantity IS NOT NULL"
LOW = TRACKED + " AND quantity < low_stock_threshold"


def new_variant(fields: dict[str, Any]) -> dict[str, Any]:
    return {"variantId": object_id(), "label": fields["label"], "sku": fields.get("sku"),
            "price": fields.get("price"), "barcode": fields.get("barcode"), "quantity": fields.get("quantity")}


def new_product(fields: dict[str, Any]) -> dict[str, Any]:
    now = utc_now_iso()
    doc: dict[str, Any] = {
        "id": object_id(), "externalId": None, "name": None, "description": None, "price": None,
        "quantity": None, "status": "ACTIVE", "category": None, "brand": None, "barcode": None,
        "images": [], "lowStockThreshold": DEFAULT_LOW_STOCK_THRESHOLD, "variants": [],
        "createdAt": now, "updatedAt": now,
    }
    apply_fields(doc, {k: v for k, v in fields.items() if k != "variants"})
    doc["variants"] = [new_variant(v) for v in fields.get("variants") or []]
    return doc


def apply_fields(doc: dict[str, Any], fields: dict[str, Any]) -> None:
    """Set scalar product fields; ``null`` clears an optional field (or restores its default)."""
    for name, value in fields.items():
        if name == "images":
            doc["images"] = list(value or [])
        elif name == "lowStockThreshold":
            doc[name] = DEFAULT_LOW_STOCK_THRESHOLD if value is None else value
        else:
            doc[name] = value


def find_variants(doc: dict[str, Any], label: str) -> list[dict[str, Any]]:
    folded = label.casefold()
    return [v for v in doc["variants"] if v["label"].casefold() == folded]


def _ambiguous(doc: dict[str, Any], label: str, count: int) -> Rejected:
    return Rejected("VARIANT_LABEL_AMBIGUOUS", f"{count} variants of product {doc['id']} match label '{label}'")


def resolve_variant(doc: dict[str, Any], label: str) -> dict[str, Any]:
    """The one variant whose label matches case-insensitively, or VARIANT_NOT_FOUND / _AMBIGUOUS."""
    matches = find_variants(doc, label)
    if not matches:
        raise Rejected("VARIANT_NOT_FOUND", f"Variant '{label}' not found on product {doc['id']}")
    if len(matches) > 1:
        raise _ambiguous(doc, label, len(matches))
    return matches[0]


def merge_variants(doc: dict[str, Any], incoming: list[dict[str, Any]]) -> None:
    """Update variants matched by label (case-insensitive) with the fields sent; add the others."""
    for fields in incoming:
        matches = find_variants(doc, fields["label"])
        if len(matches) > 1:
            raise _ambiguous(doc, fields["label"], len(matches))
        if matches:
            matches[0].update(fields)
        else:
            doc["variants"].append(new_variant(fields))


def new_quantity(current: int | None, mode: str, entry: dict[str, Any]) -> int:
    """``set`` replaces; ``adjust`` adds the delta to the current stock (none = 0), never below 0."""
    if mode == "set":
        return int(entry["quantity"])
    result = max(0, (current or 0) + int(entry["quantityDelta"]))
    if result > MAX_INT:
        raise Rejected("VALIDATION_ERROR", f"quantityDelta: stock would exceed {MAX_INT}")
    return result


def inventory_item(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "productId": doc["id"], "externalId": doc["externalId"], "name": doc["name"],
        "quantity": doc["quantity"], "lowStockThreshold": doc["lowStockThreshold"],
        "isLowStock": doc["quantity"] is not None and doc["quantity"] < doc["lowStockThreshold"],
        "variants": [{"variantId": v["variantId"], "label": v["label"], "quantity": v["quantity"]}
                     for v in doc["variants"]],
    }


class ElebneBackend:
    """Products in the record store, and the rules that change them."""

    def __init__(self, records: RecordStore) -> None:
        self.records = records
        records.create(PRODUCTS)

    def find(self, ref: str) -> dict[str, Any] | None:
        """A product by id, else by externalId (an id wins if both could match)."""
        return self.records.get(PRODUCTS, ref) or self.records.first(PRODUCTS, "external_id = ?", (ref,))

    def get(self, ref: str) -> dict[str, Any]:
        doc = self.find(ref)
        if doc is None:
            raise Rejected("PRODUCT_NOT_FOUND", f"Product '{ref}' not found")
        return doc

    def _refuse_taken(self, external_id: Any, other_than: str = "") -> None:
        if external_id is not None and self.records.exists(PRODUCTS, "external_id = ? AND id != ?",
                                                           (external_id, other_than)):
            raise Rejected("DUPLICATE_EXTERNAL_ID", f"A product with externalId '{external_id}' already exists")

    def insert(self, doc: dict[str, Any]) -> dict[str, Any]:
        with self.records.transaction():
            self._refuse_taken(doc["externalId"])
            return self.records.insert(PRODUCTS, doc)

    def save(self, doc: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
        """Write ``doc`` back if it changed (bumping ``updatedAt``); returns it."""
        if doc != before:
            doc["updatedAt"] = utc_now_iso()
            self.records.update(PRODUCTS, doc)
        return doc

    def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self.insert(new_product(fields))

    def update(self, ref: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self.records.transaction():
            doc = self.get(ref)
            before = snapshot(doc)
            if "externalId" in fields:
                self._refuse_taken(fields["externalId"], other_than=doc["id"])
            apply_fields(doc, {k: v for k, v in fields.items() if k != "variants"})
            merge_variants(doc, fields.get("variants") or [])
            return self.save(doc, before)

    def set_stock(self, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """Absolute quantities for the product and/or variants by label; all or nothing."""
        with self.records.transaction():
            doc = self.get(ref)
            before = snapshot(doc)
            targets = [(resolve_variant(doc, v["label"]), v["quantity"]) for v in body.get("variants", [])]
            if "quantity" in body:
                doc["quantity"] = body["quantity"]
            for variant, quantity in targets:
                variant["quantity"] = quantity
            return self.save(doc, before)

    def apply_bulk_item(self, item: dict[str, Any], mode: str, variant_entries: list[tuple[str, dict[str, Any]]]
                        ) -> None:
        """Apply one checked bulk item entirely or not at all."""
        doc = self.records.first(PRODUCTS, "external_id = ?", (item["externalId"],))
        if doc is None:
            raise Rejected("PRODUCT_NOT_FOUND", "Product not found")
        before = snapshot(doc)
        targets = [(resolve_variant(doc, entry["label"]), entry_mode, entry) for entry_mode, entry in variant_entries]
        updates = [(variant, new_quantity(variant["quantity"], entry_mode, entry))
                   for variant, entry_mode, entry in targets]
        if "quantity" in item or "quantityDelta" in item:
            doc["quantity"] = new_quantity(doc["quantity"], mode, item)
        for variant, quantity in updates:
            variant["quantity"] = quantity
        self.save(doc, before)

    def products(self, page: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        return self.records.page(PRODUCTS, page, limit)

    def inventory(self, page: int, limit: int, *, low_only: bool) -> tuple[list[dict[str, Any]], int]:
        docs, total = self.records.page(PRODUCTS, page, limit, LOW if low_only else TRACKED)
        return [inventory_item(doc) for doc in docs], total

    def all_products(self) -> list[dict[str, Any]]:
        return self.records.find(PRODUCTS)
