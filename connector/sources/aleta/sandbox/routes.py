"""The Aleta sandbox's HTTP side: both auth forms, cursor pagination, filters, the response cache and ``meta``.

State is in ``backend.py``.  Errors are ``{"error": {"code", "message"}}``; a cursor is bound to the filters of
the query that made it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from connector.sandbox.paging import decode_cursor, encode_cursor
from connector.sandbox.records import Collection, RecordStore
from connector.sandbox.server import Request, Response, Route, SandboxServer
from connector.sandbox.validation import Rejected

from .backend import STATUSES, AletaBackend, iso

PATH_PREFIX = "/api/v1"
SANDBOX_KEY = "b2b_sandbox_demo0000"
KEY_PATTERN = re.compile(r"b2b_[A-Za-z0-9_]{8,}")
DEFAULT_LIMIT = 50
MAX_LIMIT = 250
MAX_URL_LENGTH = 8192
VERSION = "1.0.0"
SHOPIFY_API_VERSION = "2026-01"
CACHED_ENDPOINTS = ("products", "product", "stock", "stock_one")
STATUS = {"UNAUTHORIZED": 401, "NOT_FOUND": 404, "URI_TOO_LONG": 414}
CACHE = Collection("aleta_cache", key="key", key_column="key")


def bad_request(message: str, code: str = "INVALID_PARAMETER") -> Rejected:
    return Rejected(code, message)


def parse_since(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise bad_request(f"updated_since is not an ISO 8601 datetime: {value!r}") from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def read_cursor(cursor: str, digest: str) -> tuple[int, int]:
    """``(last seq, fetched so far)`` from a cursor made for the same filters (``digest``)."""
    try:
        data = decode_cursor(cursor)
        last, fetched, q = int(data["last_id"]), int(data["fetched"]), data["q"]
    except (ValueError, KeyError, TypeError):
        raise bad_request("invalid cursor", "INVALID_CURSOR") from None
    if q != digest:
        raise bad_request("the cursor belongs to a query with other filters", "INVALID_CURSOR")
    return last, fetched


class AletaSandbox(SandboxServer):
    """The Aleta B2B API under ``/api/v1``.

    ``keys``: ``None`` accepts any well-formed key (``b2b_`` + 8 or more letters, digits or ``_``); a list
    accepts only those; a dict maps each accepted key to its ``client_id``.
    """

    name = "aleta"
    path_prefix = PATH_PREFIX

    def __init__(self, *, keys: Iterable[str] | dict[str, str] | None = None,
                 cache_ttl: dict[str, float] | None = None, max_url_length: int = MAX_URL_LENGTH,
                 **kwargs: Any) -> None:
        if keys is None:
            self.keys: dict[str, str] | None = None
        elif isinstance(keys, dict):
            self.keys = dict(keys)
        else:
            self.keys = {k: self.client_id_for(k) for k in keys}
        self.cache_ttl = {name: 0.0 for name in CACHED_ENDPOINTS} | dict(cache_ttl or {})
        self.max_url_length = max_url_length
        super().__init__(**kwargs)
        self.backend = AletaBackend(RecordStore(self.store, CACHE))

    # -- test scenarios: the backend's operations, on the server object tests hold ---------------------------

    def load(self, locations: list[dict[str, Any]], products: list[dict[str, Any]],
             stock: list[dict[str, Any]]) -> None:
        self.backend.load(locations, products, stock)

    def generate(self, variants: int = 3000, seed: int = 1, locations: int = 2) -> None:
        self.backend.generate(variants, seed=seed, locations=locations)

    def set_stock(self, sku: str, location_id: str | None = None, **quantities: int) -> None:
        self.backend.set_stock(sku, location_id, **quantities)

    def update_variant(self, sku: str, **fields: Any) -> None:
        self.backend.update_variant(sku, **fields)

    def delete_variant(self, sku: str) -> None:
        self.backend.delete_variant(sku)

    def update_product(self, product_id: str, **fields: Any) -> None:
        self.backend.update_product(product_id, **fields)

    def advance(self, seconds: float) -> None:
        self.backend.advance(seconds)

    def now(self) -> float:
        return self.backend.now()

    # -- plumbing ------------------------------------------------------------------------------------------

    def register_routes(self) -> None:
        self.add_route("GET", "/health", self.health, op_class="public")
        self.add_route("GET", "/products", self.list_products, op_class="read")
        self.add_route("GET", r"/products/(?P<sku>[^/]+)", self.get_product, op_class="read")
        self.add_route("GET", "/stock", self.list_stock, op_class="read")
        self.add_route("GET", r"/stock/(?P<sku>[^/]+)", self.get_stock, op_class="read")
        self.add_route("GET", "/locations", self.list_locations, op_class="read")

    def rejected_response(self, rejected: Rejected) -> Response:
        return self.error_response(STATUS.get(str(rejected.code), 400), str(rejected.code), rejected.first())

    @staticmethod
    def client_id_for(key: str) -> str:
        return "client_" + hashlib.sha256(key.encode()).hexdigest()[:8]

    def key_of(self, request: Request) -> str | None:
        """The key sent in the header (preferred) or the query string, or ``None``."""
        return request.bearer() or request.query_value("api_key") or None

    def client_id(self, key: str | None) -> str | None:
        if not key:
            return None
        if self.keys is None:
            return self.client_id_for(key) if KEY_PATTERN.fullmatch(key) else None
        return self.keys.get(key)

    def before_handle(self, request: Request, route: Route) -> Response | None:
        if len(request.path) + 1 + len(request.query_string) > self.max_url_length:
            raise Rejected("URI_TOO_LONG", f"The URL is longer than {self.max_url_length} characters")
        key = self.key_of(request)
        request.params["_client_id"] = self.client_id(key) or ""
        if route.op_class == "public":
            return None
        if not key:
            raise Rejected("UNAUTHORIZED",
                           "Missing API key: send 'Authorization: Bearer b2b_...' or '?api_key=b2b_...'")
        if not request.params["_client_id"]:
            raise Rejected("UNAUTHORIZED", "Invalid API key")
        return None

    def meta(self, request: Request, *, client: bool = True, cache_age: float | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"generated_at": iso(self.backend.now())}
        if client:
            meta = {"client_id": request.params.get("_client_id") or None, **meta}
        if cache_age is not None:
            meta["cached"] = cache_age > 0
            meta["cache_age_seconds"] = int(cache_age)
        return meta

    def cached(self, endpoint: str, request: Request, build: Callable[[], dict[str, Any]], *,
               client_meta: bool = True) -> Response:
        """Answer from the response cache when it holds a young enough copy, else build and store it."""
        ttl = self.cache_ttl.get(endpoint, 0.0)
        if ttl <= 0:
            body = build()
            return Response(200, {**body, "meta": self.meta(request, client=client_meta, cache_age=0)})
        query = sorted((k, v) for k, vs in request.query.items() if k != "api_key" for v in vs)
        key = json.dumps([request.params.get("_client_id"), request.path, query])
        now = self.backend.now()
        records = self.backend.records
        with records.transaction():
            entry = records.get(CACHE, key)
            if entry is not None and now - entry["created"] < ttl:
                body, age = entry["body"], now - entry["created"]
            else:
                body, age = build(), 0.0
                records.put(CACHE, {"key": key, "body": body, "created": now})
        return Response(200, {**body, "meta": self.meta(request, client=client_meta, cache_age=age)})

    # -- endpoints -----------------------------------------------------------------------------------------

    def health(self, request: Request) -> Response:
        return Response(200, {"status": "ok", "version": VERSION, "shopify_api_version": SHOPIFY_API_VERSION,
                              "timestamp": iso(self.backend.now()),
                              "client_id": request.params.get("_client_id") or None})

    def list_products(self, request: Request) -> Response:
        allowed = {"cursor", "limit", "sku", "vendor", "status", "updated_since", "api_key"}
        unknown = sorted(set(request.query) - allowed)
        if unknown:
            raise bad_request(f"unknown query parameter(s): {', '.join(unknown)}")
        limit_text = request.query_value("limit") or str(DEFAULT_LIMIT)
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
            raise bad_request(f"limit must be an integer between 1 and {MAX_LIMIT}")
        status = request.query_value("status") or "active"
        if status not in STATUSES:
            raise bad_request(f"status must be one of {'|'.join(STATUSES)}")
        vendor = request.query_value("vendor") or None
        sku = request.query_value("sku") or None
        since_text = request.query_value("updated_since")
        since = parse_since(since_text) if since_text else None
        digest = hashlib.sha256(json.dumps([status, vendor, sku, since]).encode()).hexdigest()[:16]
        cursor = request.query_value("cursor")
        last, fetched = read_cursor(cursor, digest) if cursor else (0, 0)
        limit = int(limit_text)

        def build() -> dict[str, Any]:
            rows, has_next = self.backend.products_after(last, limit, status=status, vendor=vendor, sku=sku,
                                                         since=since)
            total = fetched + len(rows)
            state = {"last_id": rows[-1][0], "fetched": total, "q": digest} if has_next else None
            return {"data": [product for _seq, product in rows],
                    "pagination": {"has_next_page": has_next, "cursor": encode_cursor(state) if state else None,
                                   "total_fetched": total}}

        return self.cached("products", request, build)

    def get_product(self, request: Request) -> Response:
        sku = request.params["sku"]

        def build() -> dict[str, Any]:
            product = self.backend.product_of_sku(sku)
            if product is None:
                raise Rejected("NOT_FOUND", f"SKU {sku} not found")
            return {"data": product}

        return self.cached("product", request, build)

    def list_stock(self, request: Request) -> Response:
        raw = request.query_value("sku")
        skus = list(dict.fromkeys(s.strip() for s in raw.split(",") if s.strip())) if raw else None
        low = request.query_value("low_stock")
        if low is not None and not re.fullmatch(r"-?\d+", low):
            raise bad_request("low_stock must be an integer")
        location_id = request.query_value("location_id") or None
        return self.cached("stock", request, lambda: {"data": self.backend.stock_rows(
            skus, location_id, int(low) if low is not None else None)}, client_meta=False)

    def get_stock(self, request: Request) -> Response:
        sku = request.params["sku"]

        def build() -> dict[str, Any]:
            rows = self.backend.stock_rows([sku], None, None)
            if not rows:
                raise Rejected("NOT_FOUND", f"SKU {sku} not found")
            return {"data": rows[0]}

        return self.cached("stock_one", request, build, client_meta=False)

    def list_locations(self, request: Request) -> Response:
        return Response(200, {"data": [{"id": loc["id"], "name": loc["name"], "is_active": True}
                                       for loc in self.backend.locations()],
                              "meta": {"generated_at": iso(self.backend.now())}})

    # -- admin ---------------------------------------------------------------------------------------------

    def seed(self, payload: Any) -> Any:
        """``POST /__sandbox/seed``: ``generate``, ``locations``/``products``/``stock`` (raw load), ``set_stock``,
        ``update_variants``, ``update_products`` (lists of keyword objects)."""
        if not isinstance(payload, dict):
            raise ValueError("the seed body is a JSON object")
        backend = self.backend
        if "generate" in payload:
            backend.generate(**dict(payload["generate"] or {}))
        if any(k in payload for k in ("locations", "products", "stock")):
            backend.load(payload.get("locations") or [], payload.get("products") or [], payload.get("stock") or [])
        for name, change in (("set_stock", backend.set_stock), ("update_variants", backend.update_variant),
                             ("update_products", backend.update_product)):
            for item in payload.get(name) or []:
                change(**item)
        return self.dump_state()

    def dump_state(self) -> Any:
        return self.backend.summary()

    def on_reset(self) -> None:
        self.backend.clock_offset = 0.0


def create_sandbox(*, port: int = 0, db_path: str | None = None, keys: Iterable[str] | dict[str, str] | None = None,
                   variants: int = 0, seed: int = 1, locations: int = 2, cache_ttl: dict[str, float] | None = None,
                   max_url_length: int = MAX_URL_LENGTH, access_log: bool = False) -> AletaSandbox:
    """An Aleta sandbox on 127.0.0.1, not yet started; ``variants > 0`` loads a generated catalogue
    (unless the database file already holds one)."""
    server = AletaSandbox(port=port, db_path=db_path, keys=keys, cache_ttl=cache_ttl, max_url_length=max_url_length,
                          access_log=access_log)
    if variants > 0 and not server.backend.has_products():
        server.backend.generate(variants, seed=seed, locations=locations)
    return server
