"""A local Aleta B2B API: the contract of docs/aleta.md served on 127.0.0.1 with SQLite state.

Enforced: both auth forms (``Authorization: Bearer b2b_...`` or ``?api_key=b2b_...``), 401 without a valid key
(``/health`` answers anyway, with ``client_id: null``), cursor pagination (``limit`` 1..250, default 50)
that is stable while pages are read (keyset on an insertion sequence, the cursor bound to its filters),
filters ``status``/``vendor``/``sku``/``updated_since``, stock for comma-separated SKUs with ``location_id`` and
``low_stock``, single SKU endpoints, locations, ``meta.cached``/``cache_age_seconds`` from a response cache
(``cache_ttl`` seconds per endpoint, 0 = off), 414 above ``max_url_length`` characters.  Start one with::

    with create_sandbox(variants=3000, seed=7) as sandbox:
        requests.get(sandbox.api_url + "/products", headers={"Authorization": "Bearer " + SANDBOX_KEY})

Test scenarios change the catalogue through ``set_stock``, ``update_variant``, ``set_status`` (or the same
operations under ``POST /__sandbox/seed``); ``advance(seconds)`` moves the sandbox clock (cache ages).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from connector.sandbox.server import HTTPError, Request, Response, Route, SandboxServer
from connector.sources.aleta.sandbox_catalogue import generate

PATH_PREFIX = "/api/v1"
SANDBOX_KEY = "b2b_sandbox_demo0000"
KEY_PATTERN = re.compile(r"b2b_[A-Za-z0-9_]{8,}")
DEFAULT_LIMIT = 50
MAX_LIMIT = 250
MAX_URL_LENGTH = 8192
STATUSES = ("active", "draft", "archived")
VERSION = "1.0.0"
SHOPIFY_API_VERSION = "2026-01"
CACHED_ENDPOINTS = ("products", "product", "stock", "stock_one")

SCHEMA = """
CREATE TABLE IF NOT EXISTS aleta_locations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, is_active INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS aleta_products (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, vendor TEXT, status TEXT NOT NULL,
    updated_at TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS aleta_variants (
    sku TEXT PRIMARY KEY, product_id TEXT NOT NULL, position INTEGER NOT NULL, inventory_item_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aleta_variants_product ON aleta_variants (product_id, position);
CREATE TABLE IF NOT EXISTS aleta_stock (
    inventory_item_id TEXT NOT NULL, location_id TEXT NOT NULL, available INTEGER NOT NULL, on_hand INTEGER NOT NULL,
    committed INTEGER NOT NULL, incoming INTEGER NOT NULL, PRIMARY KEY (inventory_item_id, location_id)
);
CREATE TABLE IF NOT EXISTS aleta_cache (key TEXT PRIMARY KEY, body TEXT NOT NULL, created REAL NOT NULL);
"""


def bad_request(message: str, code: str = "INVALID_PARAMETER") -> HTTPError:
    return HTTPError(Response(400, {"error": {"code": code, "message": message}}))


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_since(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise bad_request(f"updated_since is not an ISO 8601 datetime: {value!r}") from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


class AletaSandbox(SandboxServer):
    """The Aleta B2B API under ``/api/v1``.

    ``keys``: ``None`` accepts any well-formed key (``b2b_`` + 8 or more letters, digits or ``_``); a list
    accepts only those; a dict maps each accepted key to its ``client_id``.
    """

    name = "aleta"
    schema = SCHEMA
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
        self.clock_offset = 0.0
        super().__init__(**kwargs)

    # -- plumbing ------------------------------------------------------------------------------------------

    def register_routes(self) -> None:
        self.add_route("GET", "/health", self.health, op_class="public")
        self.add_route("GET", "/products", self.list_products, op_class="read")
        self.add_route("GET", r"/products/(?P<sku>[^/]+)", self.get_product, op_class="read")
        self.add_route("GET", "/stock", self.list_stock, op_class="read")
        self.add_route("GET", r"/stock/(?P<sku>[^/]+)", self.get_stock, op_class="read")
        self.add_route("GET", "/locations", self.list_locations, op_class="read")

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (response cache ages, ``updated_at`` of later edits)."""
        self.clock_offset += seconds

    @staticmethod
    def client_id_for(key: str) -> str:
        return "client_" + hashlib.sha256(key.encode()).hexdigest()[:8]

    def key_of(self, request: Request) -> str | None:
        """The key sent in the header (preferred) or the query string, or ``None``."""
        scheme, _, value = (request.header("Authorization") or "").strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return request.query_value("api_key") or None

    def client_id(self, key: str | None) -> str | None:
        if not key:
            return None
        if self.keys is None:
            return self.client_id_for(key) if KEY_PATTERN.fullmatch(key) else None
        return self.keys.get(key)

    def before_handle(self, request: Request, route: Route) -> Response | None:
        if len(request.path) + 1 + len(request.query_string) > self.max_url_length:
            return self.error_response(414, "URI_TOO_LONG", f"The URL is longer than {self.max_url_length} characters")
        key = self.key_of(request)
        request.params["_client_id"] = self.client_id(key) or ""
        if route.op_class == "public":
            return None
        if not key:
            return self.error_response(401, "UNAUTHORIZED",
                                       "Missing API key: send 'Authorization: Bearer b2b_...' or '?api_key=b2b_...'")
        if not request.params["_client_id"]:
            return self.error_response(401, "UNAUTHORIZED", "Invalid API key")
        return None

    def meta(self, request: Request, *, client: bool = True, cache_age: float | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"generated_at": iso(self.now())}
        if client:
            meta = {"client_id": request.params.get("_client_id") or None, **meta}
        if cache_age is not None:
            meta["cached"] = cache_age > 0
            meta["cache_age_seconds"] = int(cache_age)
        return meta

    def cached(self, endpoint: str, request: Request, build: Any, *, client_meta: bool = True) -> Response:
        """Answer from the response cache when it holds a young enough copy, else build and store it."""
        ttl = self.cache_ttl.get(endpoint, 0.0)
        if ttl <= 0:
            body = build()
            return Response(200, {**body, "meta": self.meta(request, client=client_meta, cache_age=0)})
        query = sorted((k, v) for k, vs in request.query.items() if k != "api_key" for v in vs)
        key = json.dumps([request.params.get("_client_id"), request.path, query])
        now = self.now()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT body, created FROM aleta_cache WHERE key = ?", (key,)).fetchone()
            if row is not None and now - row["created"] < ttl:
                body, age = json.loads(row["body"]), now - row["created"]
            else:
                body, age = build(), 0.0
                conn.execute("INSERT OR REPLACE INTO aleta_cache VALUES (?, ?, ?)", (key, json.dumps(body), now))
        return Response(200, {**body, "meta": self.meta(request, client=client_meta, cache_age=age)})

    # -- endpoints -----------------------------------------------------------------------------------------

    def health(self, request: Request) -> Response:
        return Response(200, {"status": "ok", "version": VERSION, "shopify_api_version": SHOPIFY_API_VERSION,
                              "timestamp": iso(self.now()), "client_id": request.params.get("_client_id") or None})

    def list_products(self, request: Request) -> Response:
        q = request.query
        allowed = {"cursor", "limit", "sku", "vendor", "status", "updated_since", "api_key"}
        unknown = sorted(set(q) - allowed)
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
        since = parse_since(request.query_value("updated_since") or "") if request.query_value("updated_since") \
            else None
        filters = [status, vendor, sku, since]
        digest = hashlib.sha256(json.dumps(filters).encode()).hexdigest()[:16]
        last, fetched = 0, 0
        cursor = request.query_value("cursor")
        if cursor:
            last, fetched = self.read_cursor(cursor, digest)
        limit = int(limit_text)

        def build() -> dict[str, Any]:
            products, has_next = self.page(status, vendor, sku, since, last, limit)
            total = fetched + len(products)
            next_cursor = self.make_cursor(products[-1]["_seq"], total, digest) if has_next else None
            for p in products:
                p.pop("_seq")
            return {"data": products, "pagination": {"has_next_page": has_next, "cursor": next_cursor,
                                                      "total_fetched": total}}

        return self.cached("products", request, build)

    @staticmethod
    def make_cursor(last: int, fetched: int, digest: str) -> str:
        raw = json.dumps({"last_id": last, "fetched": fetched, "q": digest}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def read_cursor(cursor: str, digest: str) -> tuple[int, int]:
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            last, fetched, q = int(data["last_id"]), int(data["fetched"]), data["q"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise bad_request("invalid cursor", "INVALID_CURSOR") from None
        if q != digest:
            raise bad_request("the cursor belongs to a query with other filters", "INVALID_CURSOR")
        return last, fetched

    def page(self, status: str, vendor: str | None, sku: str | None, since: str | None, last: int,
             limit: int) -> tuple[list[dict[str, Any]], bool]:
        where, args = ["p.status = ?", "p.seq > ?"], [status, last]
        if vendor:
            where.append("lower(p.vendor) = lower(?)")
            args.append(vendor)
        if since:
            where.append("p.updated_at >= ?")
            args.append(since)
        if sku:
            where.append("EXISTS (SELECT 1 FROM aleta_variants v WHERE v.product_id = p.id "
                         "AND instr(lower(v.sku), lower(?)) > 0)")
            args.append(sku)
        with self.store.transaction() as conn:
            rows = conn.execute(f"SELECT p.seq, p.id, p.doc FROM aleta_products p WHERE {' AND '.join(where)} "
                                "ORDER BY p.seq LIMIT ?", (*args, limit + 1)).fetchall()
            has_next = len(rows) > limit
            rows = rows[:limit]
            variants = self.variants_of(conn, [r["id"] for r in rows])
        out = []
        for r in rows:
            doc = json.loads(r["doc"])
            vs = variants.get(r["id"], [])
            if sku:
                vs = [v for v in vs if sku.lower() in v["sku"].lower()]
            out.append({**doc, "variants": vs, "_seq": r["seq"]})
        return out, has_next

    @staticmethod
    def variants_of(conn: Any, product_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for i in range(0, len(product_ids), 500):
            chunk = product_ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(f"SELECT product_id, doc FROM aleta_variants WHERE product_id IN ({marks}) "
                                    "ORDER BY product_id, position", chunk):
                out.setdefault(row["product_id"], []).append(json.loads(row["doc"]))
        return out

    def get_product(self, request: Request) -> Response:
        sku = request.params["sku"]

        def build() -> dict[str, Any]:
            with self.store.transaction() as conn:
                row = conn.execute("SELECT p.doc, v.doc AS vdoc FROM aleta_variants v JOIN aleta_products p "
                                   "ON p.id = v.product_id WHERE v.sku = ?", (sku,)).fetchone()
            if row is None:
                raise HTTPError(self.error_response(404, "NOT_FOUND", f"SKU {sku} not found"))
            return {"data": {**json.loads(row["doc"]), "variants": [json.loads(row["vdoc"])]}}

        return self.cached("product", request, build)

    def stock_rows(self, skus: list[str] | None, location_id: str | None, low_stock: int | None) -> list[dict]:
        with self.store.transaction() as conn:
            locations = {r["id"]: r["name"] for r in conn.execute(
                "SELECT id, name FROM aleta_locations WHERE is_active = 1 ORDER BY seq")}
            if skus is None:
                variants = conn.execute("SELECT sku, inventory_item_id FROM aleta_variants ORDER BY rowid").fetchall()
            else:
                variants = []
                for i in range(0, len(skus), 500):
                    chunk = skus[i:i + 500]
                    variants += conn.execute(f"SELECT sku, inventory_item_id FROM aleta_variants WHERE sku IN "
                                             f"({','.join('?' * len(chunk))})", chunk).fetchall()
                order = {s: i for i, s in enumerate(skus)}
                variants.sort(key=lambda r: order[r["sku"]])
            levels: dict[str, list[Any]] = {}
            items = [v["inventory_item_id"] for v in variants]
            for i in range(0, len(items), 500):
                chunk = items[i:i + 500]
                for r in conn.execute(f"SELECT * FROM aleta_stock WHERE inventory_item_id IN "
                                      f"({','.join('?' * len(chunk))})", chunk):
                    levels.setdefault(r["inventory_item_id"], []).append(r)
        rows = []
        for v in variants:
            if v["inventory_item_id"] not in levels:  # not stocked anywhere (untracked): no row
                continue
            locs = []
            for r in levels.get(v["inventory_item_id"], []):
                if r["location_id"] not in locations or (location_id and r["location_id"] != location_id):
                    continue
                if low_stock is not None and r["available"] > low_stock:
                    continue
                locs.append({"location_id": r["location_id"], "location_name": locations[r["location_id"]],
                             "quantities": {"available": r["available"], "on_hand": r["on_hand"],
                                            "committed": r["committed"], "incoming": r["incoming"]}})
            if low_stock is not None and not locs:
                continue
            rows.append({"sku": v["sku"], "inventory_item_id": v["inventory_item_id"], "locations": locs})
        return rows

    def list_stock(self, request: Request) -> Response:
        raw = request.query_value("sku")
        skus = list(dict.fromkeys(s.strip() for s in raw.split(",") if s.strip())) if raw else None
        low = request.query_value("low_stock")
        if low is not None and not re.fullmatch(r"-?\d+", low):
            raise bad_request("low_stock must be an integer")
        location_id = request.query_value("location_id") or None
        return self.cached("stock", request, lambda: {"data": self.stock_rows(
            skus, location_id, int(low) if low is not None else None)}, client_meta=False)

    def get_stock(self, request: Request) -> Response:
        sku = request.params["sku"]

        def build() -> dict[str, Any]:
            rows = self.stock_rows([sku], None, None)
            if not rows:
                raise HTTPError(self.error_response(404, "NOT_FOUND", f"SKU {sku} not found"))
            return {"data": rows[0]}

        return self.cached("stock_one", request, build, client_meta=False)

    def list_locations(self, request: Request) -> Response:
        rows = self.store.query("SELECT id, name, is_active FROM aleta_locations WHERE is_active = 1 ORDER BY seq")
        return Response(200, {"data": [{"id": r["id"], "name": r["name"], "is_active": True} for r in rows],
                              "meta": {"generated_at": iso(self.now())}})

    # -- state changes (Python side and POST /__sandbox/seed) -------------------------------------------------

    def load(self, locations: list[dict[str, Any]], products: list[dict[str, Any]],
             stock: list[dict[str, Any]]) -> None:
        """Add locations, products (with their variants) and stock rows (``{sku, location_id, quantities}``)."""
        with self.store.transaction() as conn:
            for loc in locations:
                conn.execute("INSERT OR REPLACE INTO aleta_locations (id, name, is_active) VALUES (?, ?, ?)",
                             (loc["id"], loc["name"], 1 if loc.get("is_active", True) else 0))
            for p in products:
                doc = {k: v for k, v in p.items() if k != "variants"}
                conn.execute("INSERT INTO aleta_products (id, vendor, status, updated_at, doc) VALUES (?, ?, ?, ?, ?)",
                             (p["id"], p.get("vendor"), p.get("status", "active"),
                              p.get("updated_at") or iso(self.now()), json.dumps(doc)))
                for i, v in enumerate(p.get("variants") or []):
                    conn.execute("INSERT INTO aleta_variants VALUES (?, ?, ?, ?, ?)",
                                 (v["sku"], p["id"], i, v["inventory_item_id"], json.dumps(v)))
            for s in stock:
                item = s.get("inventory_item_id") or self._item_of(conn, s["sku"])
                self._put_stock(conn, item, s["location_id"], s.get("quantities") or {})

    def generate(self, variants: int = 3000, seed: int = 1, locations: int = 2) -> None:
        """Load a generated catalogue (``sandbox_catalogue.generate``), deterministic from ``seed``."""
        self.load(*generate(variants, seed=seed, locations=locations))

    @staticmethod
    def _item_of(conn: Any, sku: str) -> str:
        row = conn.execute("SELECT inventory_item_id FROM aleta_variants WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            raise ValueError(f"unknown SKU {sku!r}")
        return str(row["inventory_item_id"])

    @staticmethod
    def _put_stock(conn: Any, item: str, location_id: str, q: dict[str, Any]) -> None:
        old = conn.execute("SELECT * FROM aleta_stock WHERE inventory_item_id = ? AND location_id = ?",
                           (item, location_id)).fetchone()
        cur = {k: (old[k] if old is not None else 0) for k in ("available", "on_hand", "committed", "incoming")}
        for name in cur:
            if name in q:
                if type(q[name]) is not int:
                    raise ValueError(f"{name} must be an integer")
                cur[name] = q[name]
        if "available" in q and "on_hand" not in q:
            cur["on_hand"] = cur["available"] + cur["committed"]
        conn.execute("INSERT OR REPLACE INTO aleta_stock VALUES (?, ?, ?, ?, ?, ?)",
                     (item, location_id, cur["available"], cur["on_hand"], cur["committed"], cur["incoming"]))

    def set_stock(self, sku: str, location_id: str | None = None, **quantities: int) -> None:
        """Change stock (does *not* touch the product's ``updated_at``, like Shopify)."""
        with self.store.transaction() as conn:
            if location_id is None:
                location_id = conn.execute("SELECT id FROM aleta_locations ORDER BY seq LIMIT 1").fetchone()["id"]
            self._put_stock(conn, self._item_of(conn, sku), location_id, quantities)

    def update_variant(self, sku: str, **fields: Any) -> None:
        """Change variant fields (prices as strings...); bumps the product's ``updated_at``."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT product_id, doc FROM aleta_variants WHERE sku = ?", (sku,)).fetchone()
            if row is None:
                raise ValueError(f"unknown SKU {sku!r}")
            conn.execute("UPDATE aleta_variants SET doc = ? WHERE sku = ?", (json.dumps({**json.loads(row["doc"]),
                                                                                         **fields}), sku))
            self._touch(conn, row["product_id"])

    def update_product(self, product_id: str, **fields: Any) -> None:
        """Change product fields (``title``, ``status``...); bumps its ``updated_at``."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT doc FROM aleta_products WHERE id = ?", (product_id,)).fetchone()
            if row is None:
                raise ValueError(f"unknown product {product_id!r}")
            if "status" in fields and fields["status"] not in STATUSES:
                raise ValueError(f"status must be one of {STATUSES}")
            doc = {**json.loads(row["doc"]), **fields}
            conn.execute("UPDATE aleta_products SET doc = ?, status = ?, vendor = ? WHERE id = ?",
                         (json.dumps(doc), doc.get("status", "active"), doc.get("vendor"), product_id))
            self._touch(conn, product_id)

    def _touch(self, conn: Any, product_id: str) -> None:
        stamp = iso(self.now())
        row = conn.execute("SELECT doc FROM aleta_products WHERE id = ?", (product_id,)).fetchone()
        doc = {**json.loads(row["doc"]), "updated_at": stamp}
        conn.execute("UPDATE aleta_products SET updated_at = ?, doc = ? WHERE id = ?", (stamp, json.dumps(doc),
                                                                                      product_id))

    def seed(self, payload: Any) -> Any:
        """``POST /__sandbox/seed``: ``generate``, ``locations``/``products``/``stock`` (raw load), ``set_stock``,
        ``update_variants``, ``update_products`` (lists of keyword objects)."""
        if not isinstance(payload, dict):
            raise ValueError("the seed body is a JSON object")
        if "generate" in payload:
            self.generate(**dict(payload["generate"] or {}))
        if any(k in payload for k in ("locations", "products", "stock")):
            self.load(payload.get("locations") or [], payload.get("products") or [], payload.get("stock") or [])
        for item in payload.get("set_stock") or []:
            self.set_stock(**item)
        for item in payload.get("update_variants") or []:
            self.update_variant(**item)
        for item in payload.get("update_products") or []:
            self.update_product(**item)
        return self.dump_state()

    def dump_state(self) -> Any:
        counts = {r["status"]: r["n"] for r in self.store.query(
            "SELECT status, count(*) AS n FROM aleta_products GROUP BY status")}
        variants = self.store.query("SELECT count(*) AS n FROM aleta_variants")[0]["n"]
        locations = [dict(r) for r in self.store.query("SELECT id, name, is_active FROM aleta_locations ORDER BY seq")]
        return {"products": counts, "variants": variants, "locations": locations}

    def on_reset(self) -> None:
        self.clock_offset = 0.0


def create_sandbox(*, port: int = 0, db_path: str | None = None, keys: Iterable[str] | dict[str, str] | None = None,
                   variants: int = 0, seed: int = 1, locations: int = 2, cache_ttl: dict[str, float] | None = None,
                   max_url_length: int = MAX_URL_LENGTH, access_log: bool = False) -> AletaSandbox:
    """An Aleta sandbox on 127.0.0.1, not yet started; ``variants > 0`` loads a generated catalogue
    (unless the database file already holds one)."""
    server = AletaSandbox(port=port, db_path=db_path, keys=keys, cache_ttl=cache_ttl, max_url_length=max_url_length,
                          access_log=access_log)
    if variants > 0 and not server.store.query("SELECT 1 FROM aleta_products LIMIT 1"):
        server.generate(variants, seed=seed, locations=locations)
    return server
