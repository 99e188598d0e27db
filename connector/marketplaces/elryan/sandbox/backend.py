"""The Elryan sandbox's state and rules: logins and tokens, catalogue entities upserted by our ``remote_id``,
products by ``spu`` and variants by ``sku``, orders, transactions and packages.  No HTTP here.

Refusals are ``Rejected`` with Elryan's ``error_code`` (1001 invalid, 1002 unknown reference, 1004 not found,
1403 bad login); the routes put them in the ``{"data": null, "error_code", "message"}`` envelope.
"""

from __future__ import annotations

import secrets
from typing import Any

from connector.marketplaces.elryan.errors import BAD_CREDENTIALS, NOT_FOUND, UNKNOWN_REFERENCE, VALIDATION
from connector.sandbox.records import Collection, RecordStore, object_id
from connector.sandbox.store import utc_now_iso
from connector.sandbox.validation import Rejected

from .checks import ENTITY_FIELDS, PRODUCT_FIELDS
from .orders import CANCEL, CANCELLED, PREPARE, READY, UNFULFILLED, OrderDesk, window_filter
from .packages import PackageDesk

USER_ID = "6630c317826ae800363d051e"
CANCELLATION_REASONS = ("out_of_stock", "incorrect_pricing", "sourcing_delay")

#: kind -> the field a record is known by (ours: ``remote_id``, ``spu``, ``sku``; Elryan's for the rest).
KEYS = {"category": "remote_id", "brand": "remote_id", "attribute": "remote_id", "attribute_value": "remote_id",
        "product": "spu", "variant": "sku", "order": "POlineID", "transaction": "id", "package": "id"}
KINDS = {kind: Collection(f"elryan_{kind}", key=field, key_column="key") for kind, field in KEYS.items()}
USERS = Collection("elryan_users", key="email", key_column="email")
TOKENS = Collection("elryan_tokens", key="token", key_column="token")


def is_null_ref(value: Any) -> bool:
    """The document's own sample sends ``"null"`` (a string) for "no parent"."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "null"))


def stamp(doc: dict[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
    """A new record (Elryan's ``id``, owner, ``created_at``) or an existing one with ``fields`` applied;
    ``updated_at`` moves only when something changed."""
    now = utc_now_iso()
    if doc is None:
        doc = {"id": object_id(), "userId": USER_ID, "created_at": now, "exported": False}
    changed = any(doc.get(k) != v for k, v in fields.items())
    doc.update(fields)
    if changed or "updated_at" not in doc:
        doc["updated_at"] = now
    return doc


def matches(kind: str, doc: dict[str, Any], search: dict[str, Any]) -> bool:
    """Search filters: null/empty ones are ignored, ``name``/``value`` match a part, the others exactly."""
    for key, wanted in search.items():
        if wanted is None or wanted == "":
            continue
        if key in ("remote_category_id", "category_id", "remote_brand_id", "brand_id") and kind == "product":
            ref = doc.get("category" if "category" in key else "brand") or {}
            actual = ref.get("remote_id" if key.startswith("remote_") else "id")
        elif key == "remote_attribute_id":
            actual = (doc.get("attribute") or {}).get("remote_id")
        elif key == "attribute_id":
            actual = (doc.get("attribute") or {}).get("id")
        else:
            actual = doc.get(key)
        if key in ("name", "value") and isinstance(wanted, str):
            if wanted.casefold() not in str(actual or "").casefold():
                return False
        elif str(actual).casefold() != str(wanted).casefold():
            return False
    return True


def unknown(field: str, what: str, hint: str = "create it first") -> Rejected:
    return Rejected(UNKNOWN_REFERENCE, f"{field}: unknown {what}: {hint}")


class ElryanBackend:
    """Elryan's records and the rules that change them."""

    def __init__(self, records: RecordStore, users: dict[str, str]) -> None:
        self.records = records
        self.users = users
        for c in (*KINDS.values(), USERS, TOKENS):
            records.create(c)
        self.add_users()
        self.orders = OrderDesk(self, KINDS["order"])
        self.packages = PackageDesk(self, KINDS["package"], stamp)

    # -- records -------------------------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return self.records.get(KINDS[kind], key)

    def put(self, kind: str, doc: dict[str, Any]) -> dict[str, Any]:
        return self.records.put(KINDS[kind], doc)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return self.records.find(KINDS[kind])

    def get_or_refuse(self, kind: str, key: str) -> dict[str, Any]:
        doc = self.get(kind, key)
        if doc is None:
            raise Rejected(NOT_FOUND, f"{kind.replace('_', ' ')} {key!r} not found")
        return doc

    def expand(self, kind: str, doc: dict[str, Any]) -> dict[str, Any]:
        """A record as Elryan shows it: a product with its variants, a package without its delivery."""
        if kind == "package":
            return self.packages.shown(doc)
        if kind != "product":
            return doc
        with self.records.transaction():
            variants = [self.get("variant", sku) for sku in doc.get("variant_skus", [])]
        out = {k: v for k, v in doc.items() if k != "variant_skus"}
        out["variants"] = [v for v in variants if v is not None]
        return out

    def search(self, kind: str, search: dict[str, Any]) -> list[dict[str, Any]]:
        keep = None
        if kind == "order":  # the date filters (orders.window_filter), then the others as for every kind
            search, keep = window_filter(search)
        with self.records.transaction():
            docs = [self.expand(kind, d) for d in self.all(kind)]
        return [d for d in docs if matches(kind, d, search) and (keep is None or keep(d))]

    def info(self, kind: str, key: str) -> dict[str, Any]:
        with self.records.transaction():
            return self.expand(kind, self.get_or_refuse(kind, key))

    # -- logins --------------------------------------------------------------------------------------------

    def add_users(self) -> None:
        with self.records.transaction():
            for email, password in self.users.items():
                self.records.put(USERS, {"email": email, "password": password})

    def issue_token(self, email: str, password: str) -> str:
        user = self.records.get(USERS, email)
        if user is None or not secrets.compare_digest(user["password"], password):
            raise Rejected(BAD_CREDENTIALS, "invalid email or password")
        token = secrets.token_hex(24)
        self.records.insert(TOKENS, {"token": token, "email": email, "issued_at": utc_now_iso()})
        return token

    def token_is_valid(self, token: str) -> bool:
        return self.records.get(TOKENS, token) is not None

    def token_count(self) -> int:
        return self.records.count(TOKENS)

    def revoke_tokens(self) -> None:
        self.records.clear(TOKENS)

    # -- categories, brands, attributes, values ------------------------------------------------------------

    def upsert_entity(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.records.transaction():
            fields = {k: body[k] for k in ENTITY_FIELDS[kind] if k in body}
            fields = self._resolve_entity_refs(kind, body, fields)
            return self.put(kind, stamp(self.get(kind, body["remote_id"]), fields))

    def _resolve_entity_refs(self, kind: str, body: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        if kind == "category":
            parent = None
            if not is_null_ref(body.get("remote_parent_id")):
                parent = self.get("category", body["remote_parent_id"])
                if parent is None:
                    raise unknown("remote_parent_id", f"category {body['remote_parent_id']!r}",
                                  "create the parent first")
                if parent["remote_id"] == body["remote_id"]:
                    raise Rejected(VALIDATION, "remote_parent_id: a category cannot be its own parent")
            elif not is_null_ref(body.get("parent_id")):
                parent = next((c for c in self.all("category") if c["id"] == body["parent_id"]), None)
                if parent is None:
                    raise Rejected(UNKNOWN_REFERENCE, f"parent_id: unknown category id {body['parent_id']!r}")
            fields["parent_id"] = parent["id"] if parent else None
            fields["remote_parent_id"] = parent["remote_id"] if parent else None
        if kind == "attribute_value":
            attribute = self.get("attribute", body["attribute"]["remote_id"])
            if attribute is None:
                raise unknown("attribute.remote_id", f"attribute {body['attribute']['remote_id']!r}")
            existing = self.get("attribute_value", body["remote_id"])
            if existing and existing["attribute"]["remote_id"] != attribute["remote_id"]:
                raise Rejected(VALIDATION, f"remote_id {body['remote_id']!r} is a value of attribute "
                                           f"{existing['attribute']['remote_id']!r}")
            fields["attribute"] = {"name": attribute["name"], "remote_id": attribute["remote_id"],
                                   "is_active": attribute["is_active"]}
        return fields

    # -- products and variants -----------------------------------------------------------------------------

    def upsert_product(self, body: dict[str, Any]) -> dict[str, Any]:
        category, brand, variants = body["category"], body["brand"], body["variants"]
        skus = [v.get("sku") for v in variants if isinstance(v, dict)]
        with self.records.transaction():
            stored_category = self.get("category", category["remote_id"])
            if stored_category is None:
                raise unknown("category.remote_id", f"category {category['remote_id']!r}",
                              "create it with /categories/upsert first")
            parent = category.get("parent_remote_id")
            if not is_null_ref(parent) and parent != stored_category.get("remote_parent_id"):
                raise Rejected(VALIDATION, f"category.parent_remote_id: {parent!r} is not the parent of "
                                           f"{category['remote_id']!r}")
            stored_brand = self.get("brand", brand["remote_id"])
            if stored_brand is None:
                raise unknown("brand.remote_id", f"brand {brand['remote_id']!r}", "create it with /brands/upsert first")
            for i, variant in enumerate(variants):
                self.check_variant_refs(variant, body["spu"], f"variants[{i}].")
            existing = self.get("product", body["spu"])
            fields = {k: body[k] for k in PRODUCT_FIELDS if k in body and k != "variants"}
            fields["category"] = {"name": stored_category["name"], "remote_id": stored_category["remote_id"],
                                  "parent_remote_id": stored_category.get("remote_parent_id"),
                                  "id": stored_category["id"]}
            fields["brand"] = {"name": stored_brand["name"], "remote_id": stored_brand["remote_id"],
                               "id": stored_brand["id"]}
            known = list(existing.get("variant_skus", [])) if existing else []
            fields["variant_skus"] = known + [s for s in skus if s not in known]
            doc = self.put("product", stamp(existing, fields))
            for variant in variants:
                self.save_variant(body["spu"], variant)
            return self.expand("product", doc)

    def check_variant_refs(self, variant: dict[str, Any], spu: str, prefix: str) -> None:
        owner = self.get("variant", variant["sku"])
        if owner is not None and owner["spu"] != spu:
            raise Rejected(VALIDATION, f"{prefix}sku: {variant['sku']!r} belongs to product {owner['spu']!r}")
        for j, attr in enumerate(variant.get("attributes") or []):
            where = f"{prefix}attributes[{j}]."
            attribute = self.get("attribute", attr["remote_attribute_id"])
            if attribute is None:
                raise unknown(f"{where}remote_attribute_id", f"attribute {attr['remote_attribute_id']!r}")
            value = self.get("attribute_value", attr["remote_attribute_value_id"])
            if value is None:
                raise unknown(f"{where}remote_attribute_value_id",
                              f"attribute value {attr['remote_attribute_value_id']!r}")
            if value["attribute"]["remote_id"] != attribute["remote_id"]:
                raise Rejected(VALIDATION, f"{where}remote_attribute_value_id: {value['remote_id']!r} is not a "
                                           f"value of {attribute['remote_id']!r}")
            if value["value"] != attr["value"]:
                raise Rejected(VALIDATION, f"{where}value: {attr['value']!r} differs from the value of "
                                           f"{value['remote_id']!r} ({value['value']!r})")

    def save_variant(self, spu: str, variant: dict[str, Any]) -> dict[str, Any]:
        existing = self.get("variant", variant["sku"])
        fields = {k: v for k, v in variant.items() if k != "spu"}
        fields["spu"] = spu
        if existing is None and "stock" not in fields:
            fields["stock"] = 0  # stock comes with the price & stock update (docs/elryan.md)
        doc = stamp(existing, fields)
        doc.setdefault("_id", doc["id"])
        return self.put("variant", doc)

    def product_of(self, spu: str) -> dict[str, Any]:
        product = self.get("product", spu)
        if product is None:
            raise unknown("spu", f"product {spu!r}", "upsert the product first")
        return product

    def upsert_variant(self, body: dict[str, Any]) -> dict[str, Any]:
        """A checked variant of a known product (``product_of``) with known attribute values."""
        with self.records.transaction():
            product = self.product_of(body["spu"])
            self.check_variant_refs(body, body["spu"], "")
            doc = self.save_variant(body["spu"], body)
            if body["sku"] not in product["variant_skus"]:
                product["variant_skus"].append(body["sku"])
                self.put("product", stamp(product, {}))
            return doc

    def toggle(self, kind: str, key: str, active: bool) -> None:
        with self.records.transaction():
            self.put(kind, stamp(self.get_or_refuse(kind, key), {"is_active": active}))

    def update_price_stock(self, items: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        """The SKUs found (and updated) and those not found."""
        found: list[str] = []
        not_found: list[str] = []
        with self.records.transaction():
            for item in items:
                doc = self.get("variant", item["sku"])
                if doc is None:
                    not_found.append(item["sku"])
                    continue
                self.put("variant", stamp(doc, {k: item[k] for k in ("stock", "price", "retail_price") if k in item}))
                found.append(item["sku"])
        return found, not_found

    # -- orders and packages -------------------------------------------------------------------------------

    def unfulfilled_orders(self) -> list[dict[str, Any]]:
        return [o for o in self.all("order") if o.get("Status") in UNFULFILLED]

    def cancel_order(self, key: str, reason: str) -> dict[str, Any]:
        if reason not in CANCELLATION_REASONS:
            raise Rejected(VALIDATION, f"reason: must be one of {', '.join(CANCELLATION_REASONS)}")
        with self.records.transaction():
            CANCEL.check(self.get_or_refuse("order", key).get("Status"), CANCELLED, subject=key)  # shipped: no
            packed = self.packages.packed(key)
            if packed:
                raise Rejected(VALIDATION, f"order line {key} has {packed} unit(s) in a package: cancel the package "
                                           "first")
            return self.orders.set_status(key, CANCELLED, CANCEL, reason=reason)

    def prepare_order(self, key: str) -> dict[str, Any]:
        return self.orders.set_status(key, READY, PREPARE)

    def create_package(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.packages.create(body)

    def cancel_package(self, key: str) -> dict[str, Any]:
        return self.packages.cancel(key)

    def fulfill_package(self, key: str, tracking: dict[str, Any]) -> dict[str, Any]:
        return self.packages.fulfill(key, tracking)

    # -- seeding -------------------------------------------------------------------------------------------

    def seed(self, kind: str, doc: dict[str, Any]) -> None:
        """An order line (``POlineID``) or a transaction (``id``) as Elryan would list it."""
        key = KEYS[kind]
        if not isinstance(doc, dict) or not doc.get(key):
            raise ValueError(f"every seeded {kind} needs {key!r}")
        doc = {**doc}
        doc.setdefault("id", str(doc[key]))
        self.put(kind, doc)

    def dump(self) -> dict[str, Any]:
        return {
            "categories": self.all("category"), "brands": self.all("brand"), "attributes": self.all("attribute"),
            "attribute_values": self.all("attribute_value"),
            "products": [self.expand("product", p) for p in self.all("product")],
            "orders": self.all("order"), "packages": self.all("package"),  # with their deliveries
            "transactions": self.all("transaction"),
            "tokens": self.token_count(),
        }
