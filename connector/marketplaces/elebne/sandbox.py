"""A local Elebne Store API: the contract of ``docs/elebne.md``, served on 127.0.0.1 with SQLite state.

Everything the documents leave open is decided in the "Sandbox notes" of ``docs/elebne.md``; keep the two
in step.  Start one with ``create_sandbox()``::

    with create_sandbox(rate_limits={"write": (2, 10)}, window_seconds=0.5) as sandbox:
        requests.post(sandbox.api_url + "/products", json={...}, headers={"Authorization": "Bearer sk_test_..."})
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from connector.sandbox.ratelimit import Limit, RateLimiter
from connector.sandbox.server import HTTPError, InvalidJSONError, Request, Response, Route, SandboxServer
from connector.sandbox.store import utc_now_iso

PATH_PREFIX = "/api/v1/dev/store"
#: class -> (per IP per minute, per key per day), as documented.
DEFAULT_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "read": (60, 2_000),
    "write": (30, 500),
    "stock": (120, 5_000),
    "bulk": (30, 500),
}
KEY_PATTERN = re.compile(r"(sk|pk)_(test|live)_[A-Za-z0-9]{8,}")
IDEMPOTENCY_HEADER = "X-Idempotency-Key"
MAX_INT = 2_147_483_647
MAX_BULK_ITEMS = 200
MAX_PAGE_LIMIT = 100
MAX_IDEMPOTENCY_KEY_LENGTH = 255
DEFAULT_LOW_STOCK_THRESHOLD = 5
STATUSES = ("ACTIVE", "INACTIVE", "DRAFT")
PRODUCT_FIELDS = ("name", "price", "description", "quantity", "externalId", "status", "category", "brand",
                  "images", "barcode", "lowStockThreshold", "variants")
VARIANT_FIELDS = ("label", "sku", "price", "barcode", "quantity")
_URL = re.compile(r"https?://[^\s/]+\S*")

SCHEMA = """
CREATE TABLE IF NOT EXISTS elebne_products (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    external_id TEXT UNIQUE,
    quantity INTEGER,
    low_stock_threshold INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS elebne_idempotency (
    key_hash TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (key_hash, idempotency_key)
);
"""


# -- errors ---------------------------------------------------------------------------------------------


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"success": False, "error": error}


def api_error(status: int, code: str, message: str, details: list[dict[str, str]] | None = None,
              headers: dict[str, str] | None = None) -> HTTPError:
    return HTTPError(Response(status, error_body(code, message, details), dict(headers or {})))


class ItemError(Exception):
    """One bulk item (or one single-stock request) cannot be applied."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_http(self) -> HTTPError:
        return api_error(404 if self.code == "PRODUCT_NOT_FOUND" else 400, self.code, self.message)


class Errors:
    """Collects ``VALIDATION_ERROR`` details so the client hears about every bad field at once."""

    def __init__(self) -> None:
        self.details: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.details.append({"field": field, "message": message})

    def raise_if_any(self) -> None:
        if self.details:
            first = self.details[0]
            where = f"{first['field']}: " if first["field"] else ""
            raise api_error(400, "VALIDATION_ERROR", f"Invalid request: {where}{first['message']}",
                            self.details)

    def first_as_item_error(self) -> ItemError | None:
        if not self.details:
            return None
        first = self.details[0]
        return ItemError("VALIDATION_ERROR", f"{first['field']}: {first['message']}")


# -- strict field checks --------------------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__)


def check_int(errors: Errors, field: str, value: Any, *, nullable: bool = False, minimum: int = 0) -> None:
    """An integer in ``[minimum, MAX_INT]``: ``"7"``, ``7.0`` and ``true`` are not integers."""
    if value is None:
        if not nullable:
            errors.add(field, "must not be null")
    elif type(value) is not int:
        errors.add(field, f"must be an integer, got {json_type(value)}")
    elif not minimum <= value <= MAX_INT:
        errors.add(field, f"must be between {minimum} and {MAX_INT}")


def check_str(errors: Errors, field: str, value: Any, *, nullable: bool = True, non_empty: bool = False) -> None:
    if value is None:
        if not nullable:
            errors.add(field, "must not be null")
    elif not isinstance(value, str):
        errors.add(field, f"must be a string, got {json_type(value)}")
    elif non_empty and not value.strip():
        errors.add(field, "must not be empty")


def check_unknown(errors: Errors, prefix: str, obj: dict[str, Any], allowed: Iterable[str]) -> None:
    for name in sorted(set(obj) - set(allowed)):
        errors.add(f"{prefix}{name}", "unknown field")


def check_images(errors: Errors, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        errors.add("images", f"must be an array of URLs, got {json_type(value)}")
        return
    for i, url in enumerate(value):
        if not isinstance(url, str) or not _URL.fullmatch(url):
            errors.add(f"images[{i}]", "must be an http(s) URL string")


def check_variant(errors: Errors, field: str, variant: Any) -> None:
    if not isinstance(variant, dict):
        errors.add(field, f"must be an object, got {json_type(variant)}")
        return
    check_unknown(errors, f"{field}.", variant, VARIANT_FIELDS)
    if "label" not in variant:
        errors.add(f"{field}.label", "is required")
    check_str(errors, f"{field}.label", variant.get("label"), nullable="label" not in variant, non_empty=True)
    for name in ("sku", "barcode"):
        check_str(errors, f"{field}.{name}", variant.get(name))
    for name in ("price", "quantity"):
        check_int(errors, f"{field}.{name}", variant.get(name), nullable=True)


def check_unique_labels(errors: Errors, field: str, entries: list[Any]) -> None:
    """Labels must be unique case-insensitively (``"M"`` and ``"m"`` are the same variant)."""
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        label = entry.get("label") if isinstance(entry, dict) else None
        if not isinstance(label, str):
            continue
        folded = label.casefold()
        if folded in seen:
            errors.add(f"{field}[{i}].label", f"duplicates {field}[{seen[folded]}].label (case-insensitive)")
        else:
            seen[folded] = i


def object_items(errors: Errors, field: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """The entries of an array-of-objects field with their paths (``variants[2]``); anything else is
    reported and left out."""
    if not isinstance(value, list):
        errors.add(field, f"must be an array, got {json_type(value)}")
        return []
    out = []
    for i, entry in enumerate(value):
        if isinstance(entry, dict):
            out.append((f"{field}[{i}]", entry))
        else:
            errors.add(f"{field}[{i}]", f"must be an object, got {json_type(entry)}")
    return out


def check_variants(errors: Errors, value: Any, *, unique_labels: bool = True) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        errors.add("variants", f"must be an array, got {json_type(value)}")
        return
    for i, variant in enumerate(value):
        check_variant(errors, f"variants[{i}]", variant)
    if unique_labels:
        check_unique_labels(errors, "variants", value)


def check_product(body: Any, *, partial: bool, unique_labels: bool = True) -> dict[str, Any]:
    """Validate a create (``partial=False``) or update body; returns it, or raises VALIDATION_ERROR."""
    errors = Errors()
    if not isinstance(body, dict):
        errors.add("", f"the body must be a JSON object, got {json_type(body)}")
        errors.raise_if_any()
    check_unknown(errors, "", body, PRODUCT_FIELDS)
    for name in ("name", "price"):
        if name not in body and not partial:
            errors.add(name, "is required")
    if "name" in body:
        check_str(errors, "name", body["name"], nullable=False, non_empty=True)
    if "price" in body:
        check_int(errors, "price", body["price"])
    for name in ("description", "category", "brand", "barcode"):
        check_str(errors, name, body.get(name))
    check_str(errors, "externalId", body.get("externalId"), non_empty=True)
    check_int(errors, "quantity", body.get("quantity"), nullable=True)
    check_int(errors, "lowStockThreshold", body.get("lowStockThreshold"), nullable=True)
    if "status" in body and body["status"] not in STATUSES:
        errors.add("status", f"must be one of {', '.join(STATUSES)}")
    check_images(errors, body.get("images"))
    check_variants(errors, body.get("variants"), unique_labels=unique_labels)
    errors.raise_if_any()
    return body


# -- documents ------------------------------------------------------------------------------------------


def new_id() -> str:
    """24 hex characters like a MongoDB ObjectId: 4 bytes of seconds, then 8 random bytes."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


def new_variant(fields: dict[str, Any]) -> dict[str, Any]:
    return {"variantId": new_id(), "label": fields["label"], "sku": fields.get("sku"),
            "price": fields.get("price"), "barcode": fields.get("barcode"), "quantity": fields.get("quantity")}


def new_product(fields: dict[str, Any]) -> dict[str, Any]:
    now = utc_now_iso()
    doc: dict[str, Any] = {
        "id": new_id(), "externalId": None, "name": None, "description": None, "price": None,
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


def resolve_variant(doc: dict[str, Any], label: str) -> dict[str, Any]:
    """The one variant whose label matches case-insensitively, or VARIANT_NOT_FOUND / _AMBIGUOUS."""
    matches = find_variants(doc, label)
    if not matches:
        raise ItemError("VARIANT_NOT_FOUND", f"Variant '{label}' not found on product {doc['id']}")
    if len(matches) > 1:
        raise ItemError("VARIANT_LABEL_AMBIGUOUS",
                        f"{len(matches)} variants of product {doc['id']} match label '{label}'")
    return matches[0]


def merge_variants(doc: dict[str, Any], incoming: list[dict[str, Any]]) -> None:
    """Update variants matched by label (case-insensitive) with the fields sent; add the others."""
    for fields in incoming:
        matches = find_variants(doc, fields["label"])
        if len(matches) > 1:
            raise ItemError("VARIANT_LABEL_AMBIGUOUS",
                            f"{len(matches)} variants of product {doc['id']} match label '{fields['label']}'")
        if matches:
            matches[0].update(fields)
        else:
            doc["variants"].append(new_variant(fields))


def inventory_item(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "productId": doc["id"], "externalId": doc["externalId"], "name": doc["name"],
        "quantity": doc["quantity"], "lowStockThreshold": doc["lowStockThreshold"],
        "isLowStock": doc["quantity"] is not None and doc["quantity"] < doc["lowStockThreshold"],
        "variants": [{"variantId": v["variantId"], "label": v["label"], "quantity": v["quantity"]}
                     for v in doc["variants"]],
    }


def body_hash(body: Any) -> str:
    """Same JSON value, same hash: key order and whitespace do not make a different request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


# -- bulk items -----------------------------------------------------------------------------------------


def check_stock_entry(errors: Errors, field: str, entry: dict[str, Any], mode: str, *,
                      required: bool) -> None:
    """``set`` takes a non-negative ``quantity``; ``adjust`` an integer ``quantityDelta``."""
    wanted, other = ("quantity", "quantityDelta") if mode == "set" else ("quantityDelta", "quantity")
    if other in entry:
        errors.add(f"{field}{other}", f"is not used in {mode} mode (send {wanted})")
    if wanted in entry:
        check_int(errors, f"{field}{wanted}", entry[wanted], minimum=0 if mode == "set" else -MAX_INT)
    elif required:
        errors.add(f"{field}{wanted}", f"is required in {mode} mode")


def check_mode(errors: Errors, field: str, entry: dict[str, Any], default: str) -> str:
    mode = entry.get("mode", default)
    if mode not in ("set", "adjust"):
        errors.add(field, "must be 'set' or 'adjust'")
        return default
    return str(mode)


def check_bulk_item(item: Any) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """Validate one bulk item; returns its mode and (mode, entry) per variant, or raises ItemError."""
    errors = Errors()
    if not isinstance(item, dict):
        raise ItemError("VALIDATION_ERROR", f"item must be an object, got {json_type(item)}")
    check_unknown(errors, "", item, ("externalId", "mode", "quantity", "quantityDelta", "variants"))
    if "externalId" not in item:
        errors.add("externalId", "is required")
    else:
        check_str(errors, "externalId", item["externalId"], nullable=False, non_empty=True)
    mode = check_mode(errors, "mode", item, "adjust")
    check_stock_entry(errors, "", item, mode, required=False)
    resolved: list[tuple[str, dict[str, Any]]] = []
    variants = item.get("variants", [])
    entries = object_items(errors, "variants", variants)
    variants = variants if isinstance(variants, list) else []
    for field, entry in entries:
        check_unknown(errors, f"{field}.", entry, ("label", "mode", "quantity", "quantityDelta"))
        check_str(errors, f"{field}.label", entry.get("label"), nullable=False, non_empty=True)
        variant_mode = check_mode(errors, f"{field}.mode", entry, mode)
        check_stock_entry(errors, f"{field}.", entry, variant_mode, required=True)
        resolved.append((variant_mode, entry))
    check_unique_labels(errors, "variants", variants)
    if not errors.details and "quantity" not in item and "quantityDelta" not in item and not resolved:
        errors.add("", "nothing to update: send quantity, quantityDelta or variants")
    failure = errors.first_as_item_error()
    if failure is not None:
        raise failure
    return mode, resolved


def new_quantity(current: int | None, mode: str, entry: dict[str, Any]) -> int:
    """``set`` replaces; ``adjust`` adds the delta to the current stock (none = 0), never below 0."""
    if mode == "set":
        return int(entry["quantity"])
    result = max(0, (current or 0) + int(entry["quantityDelta"]))
    if result > MAX_INT:
        raise ItemError("VALIDATION_ERROR", f"quantityDelta: stock would exceed {MAX_INT}")
    return result


# -- the server -----------------------------------------------------------------------------------------


class ElebneSandbox(SandboxServer):
    """The Elebne Store API under ``/api/v1/dev/store``, enforcing ``docs/elebne.md``.

    ``keys=None`` accepts any well-formed key (``(sk|pk)_(test|live)_`` + 8 or more alphanumerics); a list
    accepts only those keys.
    """

    name = "elebne"
    schema = SCHEMA
    path_prefix = PATH_PREFIX
    idempotency_header = IDEMPOTENCY_HEADER

    def __init__(self, *, keys: Iterable[str] | None = None, **kwargs: Any) -> None:
        self.keys = None if keys is None else frozenset(keys)
        super().__init__(**kwargs)

    # -- plumbing --------------------------------------------------------------------------------------

    def register_routes(self) -> None:
        ref = r"/products/(?P<ref>[^/]+)"
        self.add_route("POST", "/products", self.create_product, op_class="write")
        self.add_route("GET", "/products", self.list_products, op_class="read")
        self.add_route("GET", ref, self.get_product, op_class="read")
        self.add_route("PATCH", ref, self.update_product, op_class="write")
        self.add_route("PATCH", ref + "/stock", self.update_stock, op_class="stock")
        self.add_route("PATCH", "/inventory/bulk", self.bulk_inventory, op_class="bulk")
        self.add_route("GET", "/inventory", self.list_inventory, op_class="read")

    def error_response(self, status: int, code: str, message: str, *,
                       headers: dict[str, str] | None = None) -> Response:
        return Response(status, error_body(code, message), dict(headers or {}))

    def invalid_json_response(self, request: Request, error: InvalidJSONError) -> Response:
        return Response(400, error_body("VALIDATION_ERROR", f"Invalid JSON body: {error}",
                                        [{"field": "", "message": str(error)}]))

    def before_handle(self, request: Request, route: Route) -> Response | None:
        """401 without a valid key, 403 for a publishable key on a write, then the rate limits."""
        api_key = self.api_key(request)
        if route.op_class != "read" and api_key.startswith("pk_"):
            raise api_error(403, "FORBIDDEN", "Write operations require a secret key (sk_test_* or sk_live_*)")
        return self.check_rate_limit(request, route.op_class, api_key)

    def api_key(self, request: Request) -> str:
        scheme, _, key = (request.header("Authorization") or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise api_error(401, "UNAUTHORIZED", "Missing API key: send 'Authorization: Bearer <key>'")
        known = KEY_PATTERN.fullmatch(key) is not None if self.keys is None else key in self.keys
        if not known:
            raise api_error(401, "UNAUTHORIZED", "Invalid API key")
        return key

    @staticmethod
    def ok(data: Any, status: int = 200) -> Response:
        return Response(status, {"success": True, "data": data})

    # -- storage ---------------------------------------------------------------------------------------

    def find(self, conn: sqlite3.Connection, ref: str) -> dict[str, Any] | None:
        """A product by id, else by externalId (an id wins if both could match)."""
        row = conn.execute("SELECT doc FROM elebne_products WHERE id = ?", (ref,)).fetchone()
        if row is None:
            row = conn.execute("SELECT doc FROM elebne_products WHERE external_id = ?", (ref,)).fetchone()
        return None if row is None else json.loads(row["doc"])

    def get_or_404(self, conn: sqlite3.Connection, ref: str) -> dict[str, Any]:
        doc = self.find(conn, ref)
        if doc is None:
            raise api_error(404, "PRODUCT_NOT_FOUND", f"Product '{ref}' not found")
        return doc

    def external_id_taken(self, conn: sqlite3.Connection, external_id: Any, *, other_than: str = "") -> bool:
        if external_id is None:
            return False
        row = conn.execute("SELECT 1 FROM elebne_products WHERE external_id = ? AND id != ?",
                           (external_id, other_than)).fetchone()
        return row is not None

    def insert(self, conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
        if self.external_id_taken(conn, doc["externalId"]):
            raise api_error(409, "DUPLICATE_EXTERNAL_ID",
                            f"A product with externalId '{doc['externalId']}' already exists")
        conn.execute(
            "INSERT INTO elebne_products (id, external_id, quantity, low_stock_threshold, doc)"
            " VALUES (?, ?, ?, ?, ?)",
            (doc["id"], doc["externalId"], doc["quantity"], doc["lowStockThreshold"],
             json.dumps(doc, ensure_ascii=False)),
        )

    def save(self, conn: sqlite3.Connection, doc: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
        """Write ``doc`` back if it changed (bumping ``updatedAt``); returns it."""
        if doc == before:
            return doc
        doc["updatedAt"] = utc_now_iso()
        conn.execute(
            "UPDATE elebne_products SET external_id = ?, quantity = ?, low_stock_threshold = ?, doc = ?"
            " WHERE id = ?",
            (doc["externalId"], doc["quantity"], doc["lowStockThreshold"], json.dumps(doc, ensure_ascii=False),
             doc["id"]),
        )
        return doc

    # -- products ----------------------------------------------------------------------------------------

    def create_product(self, request: Request) -> Response:
        body = request.json()
        api_key = self.api_key(request)
        idem_key = request.header(IDEMPOTENCY_HEADER) or None
        if idem_key is not None and len(idem_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise api_error(400, "VALIDATION_ERROR", f"{IDEMPOTENCY_HEADER} is longer than "
                            f"{MAX_IDEMPOTENCY_KEY_LENGTH} characters",
                            [{"field": IDEMPOTENCY_HEADER, "message": "too long"}])
        with self.store.transaction() as conn:
            if idem_key is not None:
                replay = self.replay(conn, api_key, idem_key, body)
                if replay is not None:
                    return replay
            try:
                doc = new_product(check_product(body, partial=False))
                self.insert(conn, doc)
                response = self.ok(doc, 201)
            except HTTPError as exc:
                response = exc.response
            if idem_key is not None:
                self.remember(conn, api_key, idem_key, body, response)
            return response

    def replay(self, conn: sqlite3.Connection, api_key: str, idem_key: str, body: Any) -> Response | None:
        """The stored response for this key, 409 if it came with another body, ``None`` if new."""
        row = conn.execute(
            "SELECT request_hash, status, body FROM elebne_idempotency"
            " WHERE key_hash = ? AND idempotency_key = ?", (key_hash(api_key), idem_key)).fetchone()
        if row is None:
            return None
        if row["request_hash"] != body_hash(body):
            raise api_error(409, "IDEMPOTENCY_KEY_REUSED",
                            f"{IDEMPOTENCY_HEADER} '{idem_key}' was already used with a different request body")
        return Response(row["status"], bytes(row["body"]), {"Idempotent-Replayed": "true"})

    def remember(self, conn: sqlite3.Connection, api_key: str, idem_key: str, body: Any,
                 response: Response) -> None:
        conn.execute(
            "INSERT INTO elebne_idempotency (key_hash, idempotency_key, request_hash, status, body, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key_hash(api_key), idem_key, body_hash(body), response.status, response.encoded(), utc_now_iso()),
        )

    def get_product(self, request: Request) -> Response:
        with self.store.transaction() as conn:
            return self.ok(self.get_or_404(conn, request.params["ref"]))

    def list_products(self, request: Request) -> Response:
        page, limit = self.paging(request)
        with self.store.transaction() as conn:
            total = conn.execute("SELECT COUNT(*) FROM elebne_products").fetchone()[0]
            rows = conn.execute("SELECT doc FROM elebne_products ORDER BY seq LIMIT ? OFFSET ?",
                                (limit, (page - 1) * limit)).fetchall()
        items = [json.loads(row["doc"]) for row in rows]
        return self.ok(self.page_of(items, total, page, limit))

    def update_product(self, request: Request) -> Response:
        body = check_product(request.json(), partial=True)
        with self.store.transaction() as conn:
            doc = self.get_or_404(conn, request.params["ref"])
            before = json.loads(json.dumps(doc))
            if "externalId" in body and self.external_id_taken(conn, body["externalId"], other_than=doc["id"]):
                raise api_error(409, "DUPLICATE_EXTERNAL_ID",
                                f"A product with externalId '{body['externalId']}' already exists")
            apply_fields(doc, {k: v for k, v in body.items() if k != "variants"})
            try:
                merge_variants(doc, body.get("variants") or [])
            except ItemError as exc:
                raise exc.as_http() from None
            return self.ok(self.save(conn, doc, before))

    # -- stock -------------------------------------------------------------------------------------------

    def update_stock(self, request: Request) -> Response:
        body = self.check_stock_body(request.json())
        with self.store.transaction() as conn:
            doc = self.get_or_404(conn, request.params["ref"])
            before = json.loads(json.dumps(doc))
            try:
                targets = [(resolve_variant(doc, v["label"]), v["quantity"]) for v in body.get("variants", [])]
            except ItemError as exc:
                raise exc.as_http() from None
            if "quantity" in body:
                doc["quantity"] = body["quantity"]
            for variant, quantity in targets:
                variant["quantity"] = quantity
            return self.ok(self.save(conn, doc, before))

    @staticmethod
    def check_stock_body(body: Any) -> dict[str, Any]:
        errors = Errors()
        if not isinstance(body, dict):
            errors.add("", f"the body must be a JSON object, got {json_type(body)}")
            errors.raise_if_any()
        check_unknown(errors, "", body, ("quantity", "variants"))
        if "quantity" in body:
            check_int(errors, "quantity", body["quantity"])
        variants = body.get("variants", [])
        entries = object_items(errors, "variants", variants)
        variants = variants if isinstance(variants, list) else []
        for field, entry in entries:
            check_unknown(errors, f"{field}.", entry, ("label", "quantity"))
            for name in ("label", "quantity"):
                if name not in entry:
                    errors.add(f"{field}.{name}", "is required")
            check_str(errors, f"{field}.label", entry.get("label"), nullable="label" not in entry, non_empty=True)
            if "quantity" in entry:
                check_int(errors, f"{field}.quantity", entry["quantity"])
        check_unique_labels(errors, "variants", variants)
        if not errors.details and "quantity" not in body and not variants:
            errors.add("", "nothing to update: send quantity and/or variants")
        errors.raise_if_any()
        return body

    def bulk_inventory(self, request: Request) -> Response:
        body = request.json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise api_error(400, "VALIDATION_ERROR", "Invalid request: items must be an array",
                            [{"field": "items", "message": "is required and must be an array"}])
        if len(items) > MAX_BULK_ITEMS:
            raise api_error(400, "TOO_MANY_ITEMS",
                            f"A bulk request takes at most {MAX_BULK_ITEMS} items, got {len(items)}")
        if unknown := sorted(set(body) - {"items"}):
            raise api_error(400, "VALIDATION_ERROR", f"Invalid request: unknown field {unknown[0]}",
                            [{"field": name, "message": "unknown field"} for name in unknown])
        errors: list[dict[str, Any]] = []
        with self.store.transaction() as conn:
            for index, item in enumerate(items):
                try:
                    self.apply_bulk_item(conn, item)
                except ItemError as exc:
                    external_id = item.get("externalId") if isinstance(item, dict) else None
                    errors.append({"index": index, "externalId": external_id, "error": exc.message,
                                   "code": exc.code})
        return self.ok({"updated": len(items) - len(errors), "failed": len(errors), "errors": errors})

    def apply_bulk_item(self, conn: sqlite3.Connection, item: Any) -> None:
        """Apply one item entirely or not at all."""
        mode, variant_entries = check_bulk_item(item)
        doc = self.find_by_external_id(conn, item["externalId"])
        if doc is None:
            raise ItemError("PRODUCT_NOT_FOUND", "Product not found")
        before = json.loads(json.dumps(doc))
        targets = [(resolve_variant(doc, entry["label"]), entry_mode, entry)
                   for entry_mode, entry in variant_entries]
        updates = [(variant, new_quantity(variant["quantity"], entry_mode, entry))
                   for variant, entry_mode, entry in targets]
        if "quantity" in item or "quantityDelta" in item:
            doc["quantity"] = new_quantity(doc["quantity"], mode, item)
        for variant, quantity in updates:
            variant["quantity"] = quantity
        self.save(conn, doc, before)

    @staticmethod
    def find_by_external_id(conn: sqlite3.Connection, external_id: str) -> dict[str, Any] | None:
        row = conn.execute("SELECT doc FROM elebne_products WHERE external_id = ?", (external_id,)).fetchone()
        return None if row is None else json.loads(row["doc"])

    def list_inventory(self, request: Request) -> Response:
        page, limit = self.paging(request)
        low_stock = request.query_value("lowStock")
        if low_stock not in (None, "true", "false"):
            raise api_error(400, "VALIDATION_ERROR", "Invalid request: lowStock must be 'true' or 'false'",
                            [{"field": "lowStock", "message": "must be 'true' or 'false'"}])
        where = "quantity IS NOT NULL" + (" AND quantity < low_stock_threshold" if low_stock == "true" else "")
        with self.store.transaction() as conn:
            total = conn.execute(f"SELECT COUNT(*) FROM elebne_products WHERE {where}").fetchone()[0]
            rows = conn.execute(f"SELECT doc FROM elebne_products WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
                                (limit, (page - 1) * limit)).fetchall()
        items = [inventory_item(json.loads(row["doc"])) for row in rows]
        return self.ok(self.page_of(items, total, page, limit))

    # -- paging ------------------------------------------------------------------------------------------

    @staticmethod
    def paging(request: Request) -> tuple[int, int]:
        """``page`` ≥ 1 (default 1) and 1 ≤ ``limit`` ≤ 100 (default 100); anything else is a 400."""
        errors = Errors()
        values = {}
        for name, default, maximum in (("page", 1, MAX_INT), ("limit", MAX_PAGE_LIMIT, MAX_PAGE_LIMIT)):
            raw = request.query_value(name)
            if raw is None:
                values[name] = default
            elif not raw.isdigit() or not 1 <= int(raw) <= maximum:
                errors.add(name, f"must be an integer between 1 and {maximum}")
            else:
                values[name] = int(raw)
        errors.raise_if_any()
        return values["page"], values["limit"]

    @staticmethod
    def page_of(items: list[Any], total: int, page: int, limit: int) -> dict[str, Any]:
        return {"items": items, "total": total, "page": page, "limit": limit,
                "hasMore": (page - 1) * limit + len(items) < total}

    # -- admin -------------------------------------------------------------------------------------------

    def dump_state(self) -> dict[str, Any]:
        rows = self.store.query("SELECT doc FROM elebne_products ORDER BY seq")
        keys = self.store.query("SELECT idempotency_key, status, created_at FROM elebne_idempotency"
                                " ORDER BY created_at")
        return {
            "products": [json.loads(row["doc"]) for row in rows],
            "idempotencyKeys": [{"key": r["idempotency_key"], "status": r["status"], "createdAt": r["created_at"]}
                                for r in keys],
        }

    def seed(self, payload: Any) -> dict[str, Any]:
        """``{"products": [...]}`` created without the API's variant-label uniqueness check.

        That is how a test gets a product whose labels differ only by case (as a CSV import or an older
        API version could leave it), to exercise ``VARIANT_LABEL_AMBIGUOUS``.
        """
        products = payload.get("products") if isinstance(payload, dict) else None
        if not isinstance(products, list):
            raise HTTPError(Response(400, {"error": "seed takes {\"products\": [...]}"}))
        return {"products": self.seed_products(products)}

    def seed_products(self, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert products (same fields as a create), skipping only the label-uniqueness check."""
        docs = [new_product(check_product(p, partial=False, unique_labels=False)) for p in products]
        with self.store.transaction() as conn:
            for doc in docs:
                self.insert(conn, doc)
        return docs


def create_sandbox(*, port: int = 0, db_path: str | None = None, keys: list[str] | None = None,
                   rate_limits: dict[str, tuple[int, int]] | None = None,
                   window_seconds: float = 60.0) -> ElebneSandbox:
    """An Elebne sandbox on 127.0.0.1, not yet started (``with create_sandbox() as s:`` or ``.start()``).

    ``rate_limits`` overrides the documented limits per class (``read``, ``write``, ``stock``, ``bulk``):
    ``(per IP per window, per key per day)``; classes not given keep their documented limits.
    ``window_seconds`` is the length of the per-IP window (60 in production).
    """
    limits = {name: Limit(*pair) for name, pair in {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}.items()}
    limiter = RateLimiter(limits, window_seconds=window_seconds)
    return ElebneSandbox(port=port, db_path=db_path, keys=keys, rate_limiter=limiter)
