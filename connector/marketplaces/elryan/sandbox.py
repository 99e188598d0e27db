"""A local Elryan Merchant API: the contract of ``docs/elryan.md``, served on 127.0.0.1 with SQLite state.

What it enforces (the document's rules, and our inferences where it is silent, listed in docs/elryan.md):

- a bearer token from ``POST /users/generate-token`` (email + password) on every call but the health check and
  the cron trigger; an unknown or revoked token gets HTTP 401 with ``error_code`` 1401;
- the envelope ``{"data": ..., "error_code": 0}``; refusals are **HTTP 200 with a non-zero error_code**
  (1001 invalid request, 1002 unknown reference, 1004 not found, 1403 bad login), as Elryan does;
- upserts keyed by our ``remote_id`` (``spu`` for products, ``sku`` for variants): the same call twice
  changes nothing and keeps Elryan's ``id``;
- a product (or variant) refusing a category, brand, attribute or attribute value it does not know;
- the price & stock update answering which SKUs it found and which it did not.

Start one with ``create_sandbox()``; test helpers: ``/__sandbox/state``, ``/__sandbox/requests``,
``/__sandbox/faults``, ``/__sandbox/seed`` (``{"orders": [...], "transactions": [...], "revoke_tokens": true}``).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any

from connector.marketplaces.elryan.errors import (
    BAD_CREDENTIALS,
    INVALID_TOKEN,
    NOT_FOUND,
    UNKNOWN_REFERENCE,
    VALIDATION,
)
from connector.sandbox.server import HTTPError, InvalidJSONError, Request, Response, Route, SandboxServer
from connector.sandbox.store import utc_now_iso

PATH_PREFIX = "/api"
DEFAULT_USERS = {"merchant@example.com": "sandbox-password"}
USER_ID = "6630c317826ae800363d051e"
CANCELLATION_REASONS = ("out_of_stock", "incorrect_pricing", "sourcing_delay")
UNFULFILLED = ("Pending Confirmation", "Ready to Ship")
ID = r"(?P<id>[^/]+)"

SCHEMA = """
CREATE TABLE IF NOT EXISTS elryan_users (email TEXT PRIMARY KEY, password TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS elryan_tokens (token TEXT PRIMARY KEY, email TEXT NOT NULL, issued_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS elryan_records (
    kind TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, key)
);
"""

ENTITY_FIELDS = {
    "category": ("parent_id", "name", "remote_id", "remote_parent_id", "is_active"),
    "brand": ("name", "remote_id", "remote_image_url", "is_active"),
    "attribute": ("name", "remote_id", "is_active"),
    "attribute_value": ("value", "is_active", "remote_id", "attribute"),
}
PRODUCT_FIELDS = ("name", "spu", "category", "brand", "default_image_url", "tax", "is_active", "translations",
                  "variants", "guarantee", "fulfillment_day")
VARIANT_FIELDS = ("spu", "retail_price", "price", "currency", "stock", "name", "sku", "barcode", "hs_code", "gtin",
                  "default_image_url", "extra_images", "description", "weight", "height", "width", "length",
                  "freight", "supplier", "is_active", "translations", "attributes")
VARIANT_REQUIRED_NEW = ("name", "retail_price", "price", "currency", "is_active", "supplier", "translations",
                        "attributes")
NUMBERS = ("retail_price", "price", "weight", "height", "width", "length", "freight")
TEXTS = ("barcode", "hs_code", "gtin", "default_image_url", "description")


# -- envelope ---------------------------------------------------------------------------------------------


def ok(data: Any, message: str | None = None) -> Response:
    body: dict[str, Any] = {"data": data, "error_code": 0}
    if message is not None:
        body["message"] = message
    return Response(200, body)


def refusal(error_code: int, message: str, *, status: int = 200, errors: list[dict[str, str]] | None = None
            ) -> HTTPError:
    body: dict[str, Any] = {"data": None, "error_code": error_code, "message": message}
    if errors:
        body["errors"] = errors
    return HTTPError(Response(status, body))


class Errors:
    """Collects every bad field; the first is the message, all are under ``errors``."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message})

    def raise_if_any(self, code: int = VALIDATION) -> None:
        if self.items:
            first = self.items[0]
            raise refusal(code, f"{first['field']}: {first['message']}" if first["field"] else first["message"],
                          errors=self.items)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "?")


def need_object(body: Any, allowed: Iterable[str], errors: Errors, prefix: str = "") -> dict[str, Any]:
    if not isinstance(body, dict):
        errors.add(prefix.rstrip("."), f"must be an object, got {json_type(body)}")
        errors.raise_if_any()
        return {}
    for name in sorted(set(body) - set(allowed)):
        errors.add(f"{prefix}{name}", "unknown field")
    return body


def check_text(errors: Errors, obj: dict, name: str, prefix: str = "", *, required: bool = False) -> None:
    value = obj.get(name)
    if value is None:
        if required:
            errors.add(prefix + name, "is required")
    elif not isinstance(value, str):
        errors.add(prefix + name, f"must be a string, got {json_type(value)}")
    elif required and not value.strip():
        errors.add(prefix + name, "must not be empty")


def check_number(errors: Errors, obj: dict, name: str, prefix: str = "", *, required: bool = False,
                 integer: bool = False) -> None:
    value = obj.get(name)
    if value is None:
        if required:
            errors.add(prefix + name, "is required")
    elif isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        errors.add(prefix + name, f"must be {'an integer' if integer else 'a number'}, got {json_type(value)}")
    elif value < 0:
        errors.add(prefix + name, "must not be negative")


def check_bool(errors: Errors, obj: dict, name: str, prefix: str = "", *, required: bool = True) -> None:
    value = obj.get(name)
    if value is None:
        if required:
            errors.add(prefix + name, "is required")
    elif not isinstance(value, bool):
        errors.add(prefix + name, f"must be a boolean, got {json_type(value)}")


def is_null_ref(value: Any) -> bool:
    """The document's own sample sends ``"null"`` (a string) for "no parent"."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "null"))


def new_id() -> str:
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


class ElryanSandbox(SandboxServer):
    name = "elryan"
    schema = SCHEMA
    path_prefix = PATH_PREFIX

    def __init__(self, *, users: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.users = dict(users or DEFAULT_USERS)
        super().__init__(**kwargs)
        self._add_users()

    def _add_users(self) -> None:
        with self.store.transaction() as conn:
            for email, password in self.users.items():
                conn.execute("INSERT OR REPLACE INTO elryan_users VALUES (?, ?)", (email, password))

    def on_reset(self) -> None:
        self._add_users()

    # -- routes --------------------------------------------------------------------------------------------
    def register_routes(self) -> None:
        r = self.add_route
        r("GET", "/health-check", self.health_check, op_class="noauth")
        r("GET", "/cron/start", self.cron_start, op_class="noauth")
        r("POST", "/users/generate-token", self.generate_token, op_class="noauth")
        for kind, plural in (("category", "categories"), ("brand", "brands"), ("attribute", "attributes"),
                             ("attribute_value", "attribute-values")):
            r("POST", f"/{plural}/search", self._search(kind), op_class="read")
            r("POST", f"/{plural}/upsert/?", self._upsert_entity(kind), op_class="write")
            r("GET", f"/{plural}/get/{ID}", self._info(kind), op_class="read")
        r("POST", "/products/upsert/?", self.upsert_product, op_class="write")
        r("POST", "/products/search", self._search("product"), op_class="read")
        r("GET", f"/products/get/{ID}", self.product_info, op_class="read")
        r("GET", f"/products/enable/{ID}", self._toggle("product", True), op_class="write")
        r("GET", f"/products/disable/{ID}", self._toggle("product", False), op_class="write")
        r("POST", "/variants/upsert/?", self.upsert_variant, op_class="write")
        r("POST", "/variants/search", self._search("variant"), op_class="read")
        r("GET", f"/variants/get/{ID}", self._info("variant"), op_class="read")
        r("GET", f"/variants/enable/{ID}", self._toggle("variant", True), op_class="write")
        r("GET", f"/variants/disable/{ID}", self._toggle("variant", False), op_class="write")
        r("POST", "/variants/price-stock", self.update_price_stock, op_class="stock")
        r("POST", "/orders/search", self._search("order"), op_class="read")
        r("GET", f"/orders/get/{ID}", self._info("order"), op_class="read")
        r("POST", "/orders/unfulfilled", self.unfulfilled_orders, op_class="read")
        r("PUT", f"/orders/cancel/{ID}", self.cancel_order, op_class="write")
        r("GET", f"/orders/prepare/{ID}", self.prepare_order, op_class="write")
        r("GET", "/orders/cancel-reasons", self.cancellation_reasons, op_class="read")
        r("POST", "/transactions/search", self._search("transaction"), op_class="read")
        r("GET", f"/transactions/get/{ID}", self._info("transaction"), op_class="read")
        r("POST", "/packages/search", self._search("package"), op_class="read")
        r("POST", "/packages/create", self.create_package, op_class="write")
        r("GET", f"/packages/cancel/{ID}", self.cancel_package, op_class="write")
        r("POST", f"/packages/fulfill/{ID}", self.fulfill_package, op_class="write")
        r("POST", f"/packages/fulfill-online/{ID}", self.fulfill_online_package, op_class="write")
        r("GET", f"/packages/{ID}", self._info("package"), op_class="read")

    # -- envelope for the base server's own errors ----------------------------------------------------------
    def error_response(self, status: int, code: str, message: str, *,
                       headers: dict[str, str] | None = None) -> Response:
        return Response(status, {"data": None, "error_code": status, "message": message}, dict(headers or {}))

    def invalid_json_response(self, request: Request, error: InvalidJSONError) -> Response:
        return Response(200, {"data": None, "error_code": VALIDATION, "message": f"invalid JSON body: {error}"})

    def before_handle(self, request: Request, route: Route) -> Response | None:
        if route.op_class == "noauth":
            return None
        header = request.header("Authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        found = token and self.store.query("SELECT 1 FROM elryan_tokens WHERE token = ?", (token,))
        if not found:
            return Response(401, {"data": None, "error_code": INVALID_TOKEN,
                                  "message": "missing, invalid or expired token: generate a new one"})
        return self.check_rate_limit(request, route.op_class, token)

    # -- records -------------------------------------------------------------------------------------------
    def get(self, conn: sqlite3.Connection, kind: str, key: str) -> dict[str, Any] | None:
        row = conn.execute("SELECT doc FROM elryan_records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, conn: sqlite3.Connection, kind: str, key: str, doc: dict[str, Any]) -> None:
        conn.execute("INSERT INTO elryan_records VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET "
                     "doc = excluded.doc", (kind, key, doc["id"], json.dumps(doc, ensure_ascii=False)))

    def all(self, kind: str) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT doc FROM elryan_records WHERE kind = ? ORDER BY rowid", (kind,))
        return [json.loads(r["doc"]) for r in rows]

    def get_or_refuse(self, conn: sqlite3.Connection, kind: str, key: str) -> dict[str, Any]:
        doc = self.get(conn, kind, key)
        if doc is None:
            raise refusal(NOT_FOUND, f"{kind.replace('_', ' ')} {key!r} not found")
        return doc

    @staticmethod
    def stamp(doc: dict[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
        now = utc_now_iso()
        if doc is None:
            doc = {"id": new_id(), "userId": USER_ID, "created_at": now, "exported": False}
        changed = any(doc.get(k) != v for k, v in fields.items())
        doc.update(fields)
        if changed or "updated_at" not in doc:
            doc["updated_at"] = now
        return doc

    # -- general -------------------------------------------------------------------------------------------
    def health_check(self, request: Request) -> Response:
        return ok({"status": "ok"})

    def cron_start(self, request: Request) -> Response:
        return ok({"message": "cron started"}, message="")

    def generate_token(self, request: Request) -> Response:
        errors = Errors()
        body = need_object(request.json(), ("email", "password"), errors)
        check_text(errors, body, "email", required=True)
        check_text(errors, body, "password", required=True)
        errors.raise_if_any()
        rows = self.store.query("SELECT password FROM elryan_users WHERE email = ?", (body["email"],))
        if not rows or not secrets.compare_digest(rows[0]["password"], body["password"]):
            raise refusal(BAD_CREDENTIALS, "invalid email or password")
        token = secrets.token_hex(24)
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO elryan_tokens VALUES (?, ?, ?)", (token, body["email"], utc_now_iso()))
        return ok({"_id": USER_ID, "id": USER_ID, "vacation": False, "syncStatus": True,
                   "accountUsername": body["email"].split("@")[0], "mailAddress": body["email"], "mobileNumber": "",
                   "name": "Sandbox merchant", "password": "", "shopBrandName": "Sandbox shop", "role": "vendor",
                   "APIToken": token})

    # -- search / info -------------------------------------------------------------------------------------
    def _search(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            errors = Errors()
            body = need_object(request.json(), ("start", "length", "search"), errors)
            check_number(errors, body, "start", integer=True)
            check_number(errors, body, "length", integer=True)
            search = body.get("search") or {}
            if not isinstance(search, dict):
                errors.add("search", f"must be an object, got {json_type(search)}")
            errors.raise_if_any()
            docs = [self.expand(kind, d) for d in self.all(kind)]
            docs = [d for d in docs if matches(kind, d, search)]
            start, length = int(body.get("start") or 0), int(body.get("length") or 0)
            return ok(docs[start:start + length] if length else docs[start:])

        return handle

    def _info(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            with self.store.transaction() as conn:
                return ok(self.expand(kind, self.get_or_refuse(conn, kind, request.params["id"]), conn))

        return handle

    def expand(self, kind: str, doc: dict[str, Any], conn: sqlite3.Connection | None = None) -> dict[str, Any]:
        """A product as Elryan shows it: with its variants."""
        if kind != "product":
            return doc
        if conn is None:
            with self.store.transaction() as c:
                return self.expand(kind, doc, c)
        variants = [self.get(conn, "variant", sku) for sku in doc.get("variant_skus", [])]
        out = {k: v for k, v in doc.items() if k != "variant_skus"}
        out["variants"] = [v for v in variants if v is not None]
        return out

    def product_info(self, request: Request) -> Response:
        return self._info("product")(request)

    # -- categories, brands, attributes, values ------------------------------------------------------------
    def _upsert_entity(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            errors = Errors()
            body = need_object(request.json(), ENTITY_FIELDS[kind], errors)
            check_bool(errors, body, "is_active")
            check_text(errors, body, "remote_id", required=True)
            name_field = "value" if kind == "attribute_value" else "name"
            check_text(errors, body, name_field, required=True)
            if kind == "brand":
                check_text(errors, body, "remote_image_url")
            if kind == "category":
                for name in ("parent_id", "remote_parent_id"):
                    check_text(errors, body, name)
            if kind == "attribute_value":
                attribute = need_object(body.get("attribute"), ENTITY_FIELDS["attribute"], errors, "attribute.")
                check_text(errors, attribute, "remote_id", "attribute.", required=True)
                check_text(errors, attribute, "name", "attribute.", required=True)
                check_bool(errors, attribute, "is_active", "attribute.")
            errors.raise_if_any()
            with self.store.transaction() as conn:
                fields = {k: body[k] for k in ENTITY_FIELDS[kind] if k in body}
                fields = self.resolve_entity_refs(conn, kind, body, fields)
                doc = self.stamp(self.get(conn, kind, body["remote_id"]), fields)
                self.put(conn, kind, body["remote_id"], doc)
            return ok(doc)

        return handle

    def resolve_entity_refs(self, conn: sqlite3.Connection, kind: str, body: dict[str, Any],
                            fields: dict[str, Any]) -> dict[str, Any]:
        if kind == "category":
            parent = None
            if not is_null_ref(body.get("remote_parent_id")):
                parent = self.get(conn, "category", body["remote_parent_id"])
                if parent is None:
                    raise refusal(UNKNOWN_REFERENCE, f"remote_parent_id: unknown category "
                                                     f"{body['remote_parent_id']!r}: create the parent first")
                if parent["remote_id"] == body["remote_id"]:
                    raise refusal(VALIDATION, "remote_parent_id: a category cannot be its own parent")
            elif not is_null_ref(body.get("parent_id")):
                parent = next((c for c in self.all("category") if c["id"] == body["parent_id"]), None)
                if parent is None:
                    raise refusal(UNKNOWN_REFERENCE, f"parent_id: unknown category id {body['parent_id']!r}")
            fields["parent_id"] = parent["id"] if parent else None
            fields["remote_parent_id"] = parent["remote_id"] if parent else None
        if kind == "attribute_value":
            attribute = self.get(conn, "attribute", body["attribute"]["remote_id"])
            if attribute is None:
                raise refusal(UNKNOWN_REFERENCE, f"attribute.remote_id: unknown attribute "
                                                 f"{body['attribute']['remote_id']!r}: create it first")
            existing = self.get(conn, "attribute_value", body["remote_id"])
            if existing and existing["attribute"]["remote_id"] != attribute["remote_id"]:
                raise refusal(VALIDATION, f"remote_id {body['remote_id']!r} is a value of attribute "
                                          f"{existing['attribute']['remote_id']!r}")
            fields["attribute"] = {"name": attribute["name"], "remote_id": attribute["remote_id"],
                                   "is_active": attribute["is_active"]}
        return fields

    # -- products and variants -----------------------------------------------------------------------------
    def upsert_product(self, request: Request) -> Response:
        errors = Errors()
        body = need_object(request.json(), PRODUCT_FIELDS, errors)
        for name in ("name", "spu"):
            check_text(errors, body, name, required=True)
        check_text(errors, body, "default_image_url")
        for name in ("tax", "guarantee", "fulfillment_day"):
            check_number(errors, body, name, required=True)
        check_bool(errors, body, "is_active")
        category = need_object(body.get("category"), ("parent_remote_id", "remote_id", "name"), errors,
                               "category.")
        check_text(errors, category, "remote_id", "category.", required=True)
        check_text(errors, category, "name", "category.", required=True)
        check_text(errors, category, "parent_remote_id", "category.")
        brand = need_object(body.get("brand"), ("name", "remote_id"), errors, "brand.")
        check_text(errors, brand, "remote_id", "brand.", required=True)
        check_text(errors, brand, "name", "brand.", required=True)
        check_translations(errors, body.get("translations"), "translations", with_description=False)
        variants = body.get("variants")
        if not isinstance(variants, list) or not variants:
            errors.add("variants", "must be a non-empty array")
            variants = []
        for i, variant in enumerate(variants):
            check_variant(errors, variant, f"variants[{i}].", new=True, in_product=True)
        skus = [v.get("sku") for v in variants if isinstance(v, dict)]
        for sku in {s for s in skus if skus.count(s) > 1}:
            errors.add("variants", f"sku {sku!r} is given twice")
        errors.raise_if_any()
        with self.store.transaction() as conn:
            stored_category = self.get(conn, "category", category["remote_id"])
            if stored_category is None:
                raise refusal(UNKNOWN_REFERENCE, f"category.remote_id: unknown category {category['remote_id']!r}: "
                                                 "create it with /categories/upsert first")
            parent = category.get("parent_remote_id")
            if not is_null_ref(parent) and parent != stored_category.get("remote_parent_id"):
                raise refusal(VALIDATION, f"category.parent_remote_id: {parent!r} is not the parent of "
                                          f"{category['remote_id']!r}")
            stored_brand = self.get(conn, "brand", brand["remote_id"])
            if stored_brand is None:
                raise refusal(UNKNOWN_REFERENCE, f"brand.remote_id: unknown brand {brand['remote_id']!r}: "
                                                 "create it with /brands/upsert first")
            for i, variant in enumerate(variants):
                self.check_variant_refs(conn, variant, body["spu"], f"variants[{i}].")
            existing = self.get(conn, "product", body["spu"])
            fields = {k: body[k] for k in PRODUCT_FIELDS if k in body and k != "variants"}
            fields["category"] = {"name": stored_category["name"], "remote_id": stored_category["remote_id"],
                                  "parent_remote_id": stored_category.get("remote_parent_id"),
                                  "id": stored_category["id"]}
            fields["brand"] = {"name": stored_brand["name"], "remote_id": stored_brand["remote_id"],
                               "id": stored_brand["id"]}
            known = list(existing.get("variant_skus", [])) if existing else []
            fields["variant_skus"] = known + [s for s in skus if s not in known]
            doc = self.stamp(existing, fields)
            self.put(conn, "product", body["spu"], doc)
            for variant in variants:
                self.save_variant(conn, body["spu"], variant)
            return ok(self.expand("product", doc, conn))

    def check_variant_refs(self, conn: sqlite3.Connection, variant: dict[str, Any], spu: str, prefix: str) -> None:
        owner = self.get(conn, "variant", variant["sku"])
        if owner is not None and owner["spu"] != spu:
            raise refusal(VALIDATION, f"{prefix}sku: {variant['sku']!r} belongs to product {owner['spu']!r}")
        for j, attr in enumerate(variant.get("attributes") or []):
            where = f"{prefix}attributes[{j}]."
            attribute = self.get(conn, "attribute", attr["remote_attribute_id"])
            if attribute is None:
                raise refusal(UNKNOWN_REFERENCE, f"{where}remote_attribute_id: unknown attribute "
                                                 f"{attr['remote_attribute_id']!r}: create it first")
            value = self.get(conn, "attribute_value", attr["remote_attribute_value_id"])
            if value is None:
                raise refusal(UNKNOWN_REFERENCE, f"{where}remote_attribute_value_id: unknown attribute value "
                                                 f"{attr['remote_attribute_value_id']!r}: create it first")
            if value["attribute"]["remote_id"] != attribute["remote_id"]:
                raise refusal(VALIDATION, f"{where}remote_attribute_value_id: {value['remote_id']!r} is not a "
                                          f"value of {attribute['remote_id']!r}")
            if value["value"] != attr["value"]:
                raise refusal(VALIDATION, f"{where}value: {attr['value']!r} differs from the value of "
                                          f"{value['remote_id']!r} ({value['value']!r})")

    def save_variant(self, conn: sqlite3.Connection, spu: str, variant: dict[str, Any]) -> dict[str, Any]:
        existing = self.get(conn, "variant", variant["sku"])
        fields = {k: v for k, v in variant.items() if k != "spu"}
        fields["spu"] = spu
        if existing is None and "stock" not in fields:
            fields["stock"] = 0  # stock comes with the price & stock update (docs/elryan.md)
        doc = self.stamp(existing, fields)
        doc.setdefault("_id", doc["id"])
        self.put(conn, "variant", variant["sku"], doc)
        return doc

    def upsert_variant(self, request: Request) -> Response:
        errors = Errors()
        body = need_object(request.json(), VARIANT_FIELDS, errors)
        check_text(errors, body, "spu", required=True)
        check_text(errors, body, "sku", required=True)
        errors.raise_if_any()
        with self.store.transaction() as conn:
            product = self.get(conn, "product", body["spu"])
            if product is None:
                raise refusal(UNKNOWN_REFERENCE, f"spu: unknown product {body['spu']!r}: upsert the product first")
            new = self.get(conn, "variant", body["sku"]) is None
            check_variant(errors, body, "", new=new, in_product=False)
            errors.raise_if_any()
            self.check_variant_refs(conn, body, body["spu"], "")
            doc = self.save_variant(conn, body["spu"], body)
            if body["sku"] not in product["variant_skus"]:
                product["variant_skus"].append(body["sku"])
                self.put(conn, "product", body["spu"], self.stamp(product, {}))
            return ok(doc)

    def _toggle(self, kind: str, active: bool) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            with self.store.transaction() as conn:
                doc = self.get_or_refuse(conn, kind, request.params["id"])
                self.put(conn, kind, request.params["id"], self.stamp(doc, {"is_active": active}))
            word = "enabled" if active else "disabled"
            return ok({"message": f"{kind} {request.params['id']} {word}"}, message="")

        return handle

    def update_price_stock(self, request: Request) -> Response:
        errors = Errors()
        body = need_object(request.json(), ("items",), errors)
        items = body.get("items")
        if not isinstance(items, list) or not items:
            errors.add("items", "must be a non-empty array")
            items = []
        for i, item in enumerate(items):
            item = need_object(item, ("sku", "stock", "price", "retail_price"), errors, f"items[{i}].")
            check_text(errors, item, "sku", f"items[{i}].", required=True)
            check_number(errors, item, "stock", f"items[{i}].", integer=True)
            check_number(errors, item, "price", f"items[{i}].")
            check_number(errors, item, "retail_price", f"items[{i}].")
        errors.raise_if_any()
        found: list[str] = []
        not_found: list[str] = []
        with self.store.transaction() as conn:
            for item in items:
                doc = self.get(conn, "variant", item["sku"])
                if doc is None:
                    not_found.append(item["sku"])
                    continue
                fields = {k: item[k] for k in ("stock", "price", "retail_price") if k in item}
                self.put(conn, "variant", item["sku"], self.stamp(doc, fields))
                found.append(item["sku"])
        return ok({"message": f"{len(found)} variant(s) updated", "updatedCount": len(found),
                   "foundVariantsInDb": found, "notFoundVariantsInDb": not_found}, message="")

    # -- orders and transactions ---------------------------------------------------------------------------
    def unfulfilled_orders(self, request: Request) -> Response:
        errors = Errors()
        body = need_object(request.json(), ("start", "length"), errors)
        check_number(errors, body, "start", integer=True)
        check_number(errors, body, "length", integer=True)
        errors.raise_if_any()
        docs = [o for o in self.all("order") if o.get("Status") in UNFULFILLED]
        start, length = int(body.get("start") or 0), int(body.get("length") or 0)
        return ok(docs[start:start + length] if length else docs[start:])

    def cancel_order(self, request: Request) -> Response:
        errors = Errors()
        body = need_object(request.json(), ("reason",), errors)
        check_text(errors, body, "reason", required=True)
        errors.raise_if_any()
        if body["reason"] not in CANCELLATION_REASONS:
            raise refusal(VALIDATION, f"reason: must be one of {', '.join(CANCELLATION_REASONS)}")
        with self.store.transaction() as conn:
            order = self.get_or_refuse(conn, "order", request.params["id"])
            if order.get("Status") not in UNFULFILLED:
                raise refusal(VALIDATION, f"order line {request.params['id']} is {order.get('Status')}: "
                                          "it cannot be cancelled")
            order.update({"Status": "Cancelled", "Status (AR)": "ملغى", "cancelReason": body["reason"]})
            self.put(conn, "order", request.params["id"], order)
        return ok(order)

    def prepare_order(self, request: Request) -> Response:
        with self.store.transaction() as conn:
            order = self.get_or_refuse(conn, "order", request.params["id"])
            if order.get("Status") != "Pending Confirmation":
                raise refusal(VALIDATION, f"order line {request.params['id']} is {order.get('Status')}: "
                                          "only a pending one can be prepared")
            order["Status"] = "Ready to Ship"
            self.put(conn, "order", request.params["id"], order)
        return ok(order)

    def cancellation_reasons(self, request: Request) -> Response:
        return ok(list(CANCELLATION_REASONS))

    # -- packages ------------------------------------------------------------------------------------------
    def create_package(self, request: Request) -> Response:
        errors = Errors()
        allowed = ("remote_supplier_id", "supplier_id", "order_id", "company_id", "remote_id",
                   "marketplace_package_id", "total_deci", "status", "items", "tracking", "invoice")
        body = need_object(request.json(), allowed, errors)
        check_text(errors, body, "remote_id", required=True)
        for name in ("remote_supplier_id", "supplier_id", "order_id", "company_id", "marketplace_package_id",
                     "total_deci"):
            check_number(errors, body, name, integer=True)
        items = body.get("items")
        if not isinstance(items, list) or not items:
            errors.add("items", "must be a non-empty array")
            items = []
        for i, item in enumerate(items):
            item = need_object(item, ("order_item_id", "quantity", "total_deci"), errors, f"items[{i}].")
            check_number(errors, item, "order_item_id", f"items[{i}].", required=True, integer=True)
            check_number(errors, item, "quantity", f"items[{i}].", required=True, integer=True)
            check_number(errors, item, "total_deci", f"items[{i}].", integer=True)
        for name in ("tracking", "invoice"):
            if body.get(name) is not None and not isinstance(body[name], dict):
                errors.add(name, f"must be an object, got {json_type(body[name])}")
        errors.raise_if_any()
        with self.store.transaction() as conn:
            if any(p["remote_id"] == body["remote_id"] for p in self.all("package")):
                raise refusal(VALIDATION, f"remote_id: package {body['remote_id']!r} already exists")
            doc = self.stamp(None, {**body, "status": body.get("status") or "created",
                                    "tracking": body.get("tracking") or {}, "invoice": body.get("invoice") or {}})
            self.put(conn, "package", doc["id"], doc)
        return ok(doc)

    def cancel_package(self, request: Request) -> Response:
        with self.store.transaction() as conn:
            doc = self.get_or_refuse(conn, "package", request.params["id"])
            if doc["status"] == "fulfilled":
                raise refusal(VALIDATION, "a fulfilled package cannot be cancelled")
            doc = self.stamp(doc, {"status": "cancelled"})
            self.put(conn, "package", doc["id"], doc)
        return ok(doc)

    def _fulfill(self, request: Request, tracking: dict[str, Any]) -> Response:
        with self.store.transaction() as conn:
            doc = self.get_or_refuse(conn, "package", request.params["id"])
            if doc["status"] == "cancelled":
                raise refusal(VALIDATION, "a cancelled package cannot be fulfilled")
            doc = self.stamp(doc, {"status": "fulfilled", "tracking": {**doc.get("tracking", {}), **tracking}})
            self.put(conn, "package", doc["id"], doc)
        return ok(doc)

    def fulfill_package(self, request: Request) -> Response:
        errors = Errors()
        body = need_object(request.json(), ("tracking_pdf", "tracking_barcode", "base64_file", "tracking_link",
                                            "tracking_provider", "provider"), errors)
        for name in body:
            check_text(errors, body, name)
        errors.raise_if_any()
        return self._fulfill(request, body)

    def fulfill_online_package(self, request: Request) -> Response:
        errors = Errors()
        body = need_object(request.json(), ("tracking_provider", "provider"), errors)
        check_text(errors, body, "provider", required=True)
        check_text(errors, body, "tracking_provider")
        errors.raise_if_any()
        return self._fulfill(request, body)

    # -- admin ---------------------------------------------------------------------------------------------
    def dump_state(self) -> dict[str, Any]:
        return {
            "categories": self.all("category"), "brands": self.all("brand"), "attributes": self.all("attribute"),
            "attribute_values": self.all("attribute_value"),
            "products": [self.expand("product", p) for p in self.all("product")],
            "orders": self.all("order"), "packages": self.all("package"), "transactions": self.all("transaction"),
            "tokens": len(self.store.query("SELECT token FROM elryan_tokens")),
        }

    def seed(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise ValueError("seed with {\"orders\": [...], \"transactions\": [...], \"revoke_tokens\": true}")
        unknown = set(payload) - {"orders", "transactions", "revoke_tokens"}
        if unknown:
            raise ValueError(f"unknown seed keys: {sorted(unknown)}")
        with self.store.transaction() as conn:
            if payload.get("revoke_tokens"):
                conn.execute("DELETE FROM elryan_tokens")
            for kind, key in (("orders", "POlineID"), ("transactions", "id")):
                for doc in payload.get(kind) or []:
                    if not isinstance(doc, dict) or not doc.get(key):
                        raise ValueError(f"every seeded {kind[:-1]} needs {key!r}")
                    doc = {**doc}
                    doc.setdefault("id", str(doc[key]))
                    self.put(conn, kind[:-1], str(doc[key]), doc)
        return {"seeded": {k: len(payload.get(k) or []) for k in ("orders", "transactions")}}


def check_translations(errors: Errors, value: Any, field: str, *, with_description: bool,
                       required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, list):
        errors.add(field, f"must be an array, got {json_type(value)}")
        return
    for i, tr in enumerate(value):
        allowed = ("language", "name", "description") if with_description else ("language", "name")
        tr = need_object(tr, allowed, errors, f"{field}[{i}].")
        check_text(errors, tr, "language", f"{field}[{i}].", required=True)
        check_text(errors, tr, "name", f"{field}[{i}].", required=True)
        if with_description:
            check_text(errors, tr, "description", f"{field}[{i}].")


def check_variant(errors: Errors, variant: Any, prefix: str, *, new: bool, in_product: bool) -> None:
    allowed = tuple(f for f in VARIANT_FIELDS if f != "spu") if in_product else VARIANT_FIELDS
    variant = need_object(variant, allowed, errors, prefix)
    check_text(errors, variant, "sku", prefix, required=True)
    required = VARIANT_REQUIRED_NEW if new else ()
    check_text(errors, variant, "name", prefix, required="name" in required)
    check_text(errors, variant, "currency", prefix, required="currency" in required)
    currency = variant.get("currency")
    if isinstance(currency, str) and not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        errors.add(prefix + "currency", "must be a 3-letter ISO code such as IQD or USD")
    for name in NUMBERS:
        check_number(errors, variant, name, prefix, required=name in required)
    check_number(errors, variant, "stock", prefix, integer=True)
    for name in TEXTS:
        check_text(errors, variant, name, prefix)
    images = variant.get("extra_images")
    if images is not None and (not isinstance(images, list) or not all(isinstance(u, str) for u in images)):
        errors.add(prefix + "extra_images", "must be an array of URLs")
    check_bool(errors, variant, "is_active", prefix, required="is_active" in required)
    if variant.get("supplier") is not None or "supplier" in required:
        supplier = need_object(variant.get("supplier"), ("name", "remote_id"), errors, prefix + "supplier.")
        check_text(errors, supplier, "name", prefix + "supplier.", required=True)
        check_text(errors, supplier, "remote_id", prefix + "supplier.", required=True)
    if variant.get("translations") is not None or "translations" in required:
        check_translations(errors, variant.get("translations"), prefix + "translations", with_description=True)
    attributes = variant.get("attributes")
    if attributes is None and "attributes" not in required:
        return
    if not isinstance(attributes, list):
        errors.add(prefix + "attributes", f"must be an array, got {json_type(attributes)}")
        return
    for j, attr in enumerate(attributes):
        where = f"{prefix}attributes[{j}]."
        attr = need_object(attr, ("name", "value", "remote_attribute_id", "remote_attribute_value_id"), errors,
                           where)
        for name in ("name", "value", "remote_attribute_id", "remote_attribute_value_id"):
            check_text(errors, attr, name, where, required=True)


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


def create_sandbox(*, port: int = 0, db_path: str | None = None, keys: list[str] | None = None,
                   users: dict[str, str] | None = None, access_log: bool = False) -> ElryanSandbox:
    """An Elryan sandbox; ``users`` maps login emails to passwords (``keys``: passwords for the default
    email, as ``connector sandbox --key`` gives them)."""
    accounts = dict(users or DEFAULT_USERS)
    for i, password in enumerate(keys or []):
        accounts["merchant@example.com" if i == 0 else f"merchant{i}@example.com"] = password
    return ElryanSandbox(port=port, db_path=db_path, users=accounts, access_log=access_log)
