"""A local EcomLinx REST API: the contract of ``docs/ecomlinx.md`` on 127.0.0.1 with SQLite state.

What the document leaves open is decided in the "Sandbox notes" of ``docs/ecomlinx.md``; keep them in step.
Besides the base admin endpoints (``/__sandbox/requests``, ``reset``, ``faults``, ``state``, ``seed``):

- ``POST /__sandbox/seed`` ``{"products": [...], "orders": [...], "channels": [...]}`` pre-loads a catalogue
  (EcomLinx has no create endpoint, so this is how products get there);
- ``POST /__sandbox/webhooks/emit`` ``{"event", "data", "times"}`` delivers an event (``times`` > 1: the same
  signed body again, as a redelivery);
- ``GET /__sandbox/webhooks/deliveries`` lists what was POSTed to registered URLs.

Webhooks are really POSTed, signed ``X-EcomLinx-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, but
only to loopback URLs: a sandbox never calls out to the internet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from connector.sandbox.server import ADMIN_PREFIX, HTTPError, InvalidJSONError, Request, Response, Route, SandboxServer
from connector.sandbox.store import utc_now_iso

PATH_PREFIX = "/v1"
KEY_PATTERN = re.compile(r"elx_(live|test)_sk_[A-Za-z0-9]{8,}")
SCALE_KEY = "elx_test_sk_scale0000connector"
PRO_KEY = "elx_test_sk_pro00000connector"
#: plan -> (requests per second, requests per minute), per API key, reads and writes together.
PLAN_LIMITS: dict[str, tuple[int | None, int | None]] = {"scale": (100, 1000), "pro": (20, 200)}
DEFAULT_CHANNELS = (("amazon_in", "Amazon India"), ("flipkart", "Flipkart"), ("shopify", "Shopify"))
EVENTS = ("order.new", "order.shipped", "order.cancelled", "inventory.low", "inventory.out", "return.received",
          "listing.suppressed", "channel.error", "sync.completed")
PRODUCT_STATUSES = ("live", "suppressed", "draft", "inactive")
WRITABLE_STATUSES = ("live", "draft", "inactive")
INVENTORY_STATUSES = ("critical", "low", "healthy", "dead_stock")
ORDER_STATUSES = ("new", "processing", "ready", "shipped", "delivered", "cancelled", "return")
ORDER_UPDATE_STATUSES = ("processing", "ready", "shipped", "delivered", "cancelled")
FINAL_ORDER_STATUSES = ("delivered", "cancelled", "return")
DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT = 20, 100
MAX_INT = 2_147_483_647
DEFAULT_REORDER_POINT = 10
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DELIVERY_TIMEOUT = 3.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS ecl_products (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    sku TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ecl_products_sku ON ecl_products (sku);
CREATE TABLE IF NOT EXISTS ecl_orders (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ecl_channels (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ecl_webhooks (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    secret TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ecl_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, webhook_id TEXT NOT NULL,
    event TEXT NOT NULL, url TEXT NOT NULL, status INTEGER, error TEXT, body TEXT NOT NULL, signed INTEGER NOT NULL,
    delivered_at TEXT NOT NULL);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4).upper()}"


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def api_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HTTPError:
    return HTTPError(Response(status, error_body(status, code, message), dict(headers or {})))


def bad_request(message: str) -> HTTPError:
    return api_error(400, "bad_request", message)


def object_body(request: Request, allowed: set[str], hint: str, *, message: str = "The body must be a JSON object",
                non_empty: bool = False) -> dict[str, Any]:
    """The request's JSON object, refused with 400 when it is not an object (or is empty, if ``non_empty``) or
    holds a field outside ``allowed``; ``hint`` says what the endpoint takes."""
    body = request.json()
    if not isinstance(body, dict) or (non_empty and not body):
        raise bad_request(message)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request(f"Unknown field '{unknown[0]}': {hint}")
    return body


def sign(secret: str, body: bytes) -> str:
    """The ``X-EcomLinx-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_INT


def fit_allocations(allocations: Mapping[str, int], total: int) -> dict[str, int]:
    """Existing allocations cut down, in order, so they sum to no more than ``total``."""
    left, out = total, {}
    for channel, units in allocations.items():
        out[channel] = min(units, left)
        left -= out[channel]
    return out


class KeyRateLimiter:
    """Per API key: at most N requests in any ``second`` and M in any ``minute`` (both windows sliding).

    A refused request is not counted; ``Retry-After`` is the whole number of seconds (≥ 1) until the window
    that refused has room again.  Window lengths are parameters so tests can use short ones.
    """

    def __init__(self, limits: Mapping[str, tuple[int | None, int | None]], *, second: float = 1.0,
                 minute: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self.second, self.minute, self._clock = dict(limits), second, minute, clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}
        self.refused = 0

    def acquire(self, key: str, plan: str) -> int | None:
        per_second, per_minute = self.limits.get(plan, (None, None))
        with self._lock:
            now = self._clock()
            seen = self._seen.setdefault(key, deque())
            horizon = max(self.second, self.minute)
            while seen and seen[0] <= now - horizon:
                seen.popleft()
            waits = []
            for limit, window in ((per_second, self.second), (per_minute, self.minute)):
                if limit is None:
                    continue
                recent = sum(1 for t in seen if t > now - window) if window < horizon else len(seen)
                if recent >= limit:
                    in_window = [t for t in seen if t > now - window]
                    waits.append(in_window[-limit] + window - now)
            if waits:
                self.refused += 1
                return max(1, math.ceil(max(waits)))
            seen.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
            self.refused = 0


class EcomLinxSandbox(SandboxServer):
    """The EcomLinx REST API under ``/v1``.

    ``keys``: ``None`` accepts any well-formed key (``elx_(live|test)_sk_`` + 8 or more alphanumerics) on the
    Scale plan, except ``PRO_KEY`` (Pro plan); a mapping ``key -> plan`` accepts exactly those keys.
    """

    name = "ecomlinx"
    schema = SCHEMA
    path_prefix = PATH_PREFIX
    idempotency_header = "Idempotency-Key"

    def __init__(self, *, keys: Mapping[str, str] | Iterable[str] | None = None,
                 limiter: KeyRateLimiter | None = None, **kwargs: Any) -> None:
        if keys is None or isinstance(keys, Mapping):
            self.keys: dict[str, str] | None = None if keys is None else dict(keys)
        else:
            self.keys = {k: "pro" if k == PRO_KEY else "scale" for k in keys}
        self.limiter = limiter
        super().__init__(**kwargs)
        for method, path, handler in (("POST", "/webhooks/emit", self._admin_emit),
                                      ("GET", "/webhooks/deliveries", self._admin_deliveries)):
            self._admin_routes.append(Route(method, re.compile(re.escape(ADMIN_PREFIX + path)), handler))
        self.install_channels()

    # -- plumbing --------------------------------------------------------------------------------------

    def register_routes(self) -> None:
        ident = r"/(?P<ident>[^/]+)"
        for method, pattern, handler, op in (
            ("GET", "/products", self.list_products, "read"),
            ("GET", "/products" + ident, self.get_product, "read"),
            ("PATCH", "/products" + ident, self.update_product, "write"),
            ("GET", "/inventory", self.list_inventory, "read"),
            ("PATCH", "/inventory" + ident, self.update_inventory, "write"),
            ("GET", "/orders", self.list_orders, "read"),
            ("PATCH", "/orders" + ident, self.update_order, "write"),
            ("GET", "/channels", self.list_channels, "read"),
            ("POST", "/channels" + ident + "/sync", self.sync_channel, "write"),
            ("GET", "/webhooks", self.list_webhooks, "read"),
            ("POST", "/webhooks", self.register_webhook, "write"),
            ("DELETE", "/webhooks" + ident, self.delete_webhook, "write"),
        ):
            self.add_route(method, pattern, handler, op_class=op)

    def error_response(self, status: int, code: str, message: str, *,
                       headers: dict[str, str] | None = None) -> Response:
        code = {"NOT_FOUND": "not_found", "RATE_LIMITED": "rate_limited", "INTERNAL_ERROR": "internal_error",
                "INVALID_JSON": "bad_request"}.get(code, code.lower())
        return Response(status, error_body(status, code, message), dict(headers or {}))

    def invalid_json_response(self, request: Request, error: InvalidJSONError) -> Response:
        return self.error_response(400, "bad_request", f"Invalid JSON body: {error}")

    def before_handle(self, request: Request, route: Route) -> Response | None:
        """401 without a valid key; 429 past the plan's per-second/per-minute limit; 403 for Pro keys on
        writes (the Pro plan reaches read-only endpoints only)."""
        key = self.api_key(request)
        plan = self.plan_of(key)
        if self.limiter is not None:
            retry_after = self.limiter.acquire(key, plan)
            if retry_after is not None:
                return self.error_response(429, "rate_limited", "Too many requests - see rate limits",
                                           headers={"Retry-After": str(retry_after)})
        if route.op_class == "write" and plan != "scale":
            raise api_error(403, "forbidden", f"API keys on the {plan.title()} plan reach read-only endpoints "
                                              "only; writes are a Scale plan feature")
        return None

    def api_key(self, request: Request) -> str:
        scheme, _, key = (request.header("Authorization") or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise api_error(401, "unauthorized", "Missing API key: send 'Authorization: Bearer <key>'")
        known = KEY_PATTERN.fullmatch(key) is not None if self.keys is None else key in self.keys
        if not known:
            raise api_error(401, "unauthorized", "Invalid API key")
        return key

    def plan_of(self, key: str) -> str:
        if self.keys is not None:
            return self.keys[key]
        return "pro" if key == PRO_KEY else "scale"

    def on_reset(self) -> None:
        if self.limiter is not None:
            self.limiter.reset()
        self.install_channels()

    # -- storage helpers ---------------------------------------------------------------------------------

    def install_channels(self) -> None:
        with self.store.transaction() as conn:
            if conn.execute("SELECT COUNT(*) FROM ecl_channels").fetchone()[0]:
                return
            for cid, title in DEFAULT_CHANNELS:
                self._insert_channel(conn, {"id": cid, "name": title})

    @staticmethod
    def _insert_channel(conn: sqlite3.Connection, fields: dict[str, Any]) -> dict[str, Any]:
        doc = {"id": fields["id"], "name": fields.get("name") or fields["id"], "status": fields.get("status", "active"),
               "last_synced": fields.get("last_synced"), "orders_today": fields.get("orders_today", 0),
               "active_listings": fields.get("active_listings", 0)}
        conn.execute("INSERT INTO ecl_channels (id, doc) VALUES (?, ?)", (doc["id"], json.dumps(doc)))
        return doc

    @staticmethod
    def channel_ids(conn: sqlite3.Connection) -> list[str]:
        return [r["id"] for r in conn.execute("SELECT id FROM ecl_channels ORDER BY seq")]

    @staticmethod
    def products_by_sku(conn: sqlite3.Connection, sku: str) -> list[dict[str, Any]]:
        return [json.loads(r["doc"]) for r in conn.execute("SELECT doc FROM ecl_products WHERE sku = ? ORDER BY seq",
                                                            (sku,))]

    @staticmethod
    def product_or_404(conn: sqlite3.Connection, product_id: str) -> dict[str, Any]:
        row = conn.execute("SELECT doc FROM ecl_products WHERE id = ?", (product_id,)).fetchone()
        if row is None:
            raise api_error(404, "not_found", f"Product {product_id} does not exist.")
        return json.loads(row["doc"])

    @staticmethod
    def save_product(conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
        doc["updated_at"] = now_iso()
        conn.execute("UPDATE ecl_products SET sku = ?, doc = ? WHERE id = ?", (doc["sku"], json.dumps(doc), doc["id"]))

    # -- paging ------------------------------------------------------------------------------------------

    @staticmethod
    def paging(request: Request) -> tuple[int, int]:
        """``page`` ≥ 1 (default 1), 1 ≤ ``limit`` ≤ 100 (default 20); anything else is a 400."""
        values = {}
        for name, default, maximum in (("page", 1, MAX_INT), ("limit", DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT)):
            raw = request.query_value(name)
            if raw is None:
                values[name] = default
            elif not raw.isdigit() or not 1 <= int(raw) <= maximum:
                raise bad_request(f"{name} must be an integer between 1 and {maximum}")
            else:
                values[name] = int(raw)
        return values["page"], values["limit"]

    @staticmethod
    def choice(request: Request, name: str, allowed: Iterable[str]) -> str | None:
        value = request.query_value(name)
        if value is not None and value not in allowed:
            raise bad_request(f"{name} must be one of {' | '.join(allowed)}")
        return value

    # -- products ----------------------------------------------------------------------------------------

    @staticmethod
    def listing_view(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: doc[k] for k in ("id", "sku", "name", "status", "price", "stock", "health_score", "channels",
                                    "updated_at")}

    @staticmethod
    def detail_view(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: doc[k] for k in ("id", "sku", "name", "category", "status", "price", "stock", "cogs",
                                    "health_score", "channel_statuses", "images", "updated_at")}

    def list_products(self, request: Request) -> Response:
        page, limit = self.paging(request)
        status = self.choice(request, "status", PRODUCT_STATUSES)
        channel = request.query_value("channel")
        q = (request.query_value("q") or "").strip().casefold()
        with self.store.transaction() as conn:
            docs = [json.loads(r["doc"]) for r in conn.execute("SELECT doc FROM ecl_products ORDER BY seq")]
        docs = [d for d in docs if (status is None or d["status"] == status)
                and (channel is None or channel in d["channels"])
                and (not q or q in d["sku"].casefold() or q in (d["name"] or "").casefold())]
        chunk = docs[(page - 1) * limit: page * limit]
        return Response(200, {"data": [self.listing_view(d) for d in chunk],
                              "meta": {"total": len(docs), "page": page, "limit": limit}})

    def get_product(self, request: Request) -> Response:
        with self.store.transaction() as conn:
            return Response(200, self.detail_view(self.product_or_404(conn, request.params["ident"])))

    def update_product(self, request: Request) -> Response:
        body = object_body(request, {"name", "price", "stock", "status"},
                           "a product update takes name, price, stock, status", non_empty=True,
                           message="The body must be a JSON object with at least one of name, price, stock, status")
        if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
            raise bad_request("name must be a non-empty string")
        if "price" in body and (not _is_number(body["price"]) or body["price"] < 0):
            raise bad_request("price must be a non-negative number")
        if "stock" in body and not _is_count(body["stock"]):
            raise bad_request("stock must be a non-negative integer")
        if "status" in body and body["status"] not in WRITABLE_STATUSES:
            raise bad_request(f"status must be one of {' | '.join(WRITABLE_STATUSES)}")
        with self.store.transaction() as conn:
            doc = self.product_or_404(conn, request.params["ident"])
            before = doc["stock"]
            for name in ("name", "price", "status"):
                if name in body:
                    doc[name] = body[name]
            if "stock" in body:
                doc["stock"] = body["stock"]
                doc["allocations"] = fit_allocations(doc["allocations"], doc["stock"])
            self.save_product(conn, doc)
        self.stock_events(doc, before)
        return Response(200, {k: doc[k] for k in ("id", "sku", "name", "status", "price", "stock", "updated_at")})

    # -- inventory ---------------------------------------------------------------------------------------

    @staticmethod
    def stock_status(doc: dict[str, Any]) -> str:
        if doc["stock"] == 0:
            return "critical"
        if doc.get("velocity", 0) == 0:
            return "dead_stock"
        return "low" if doc["stock"] <= doc.get("reorder_point", DEFAULT_REORDER_POINT) else "healthy"

    def inventory_view(self, doc: dict[str, Any], channel: str | None = None) -> dict[str, Any]:
        allocations = doc["allocations"]
        if channel is not None:
            allocations = {k: v for k, v in allocations.items() if k == channel}
        velocity = doc.get("velocity", 0)
        return {"sku": doc["sku"], "total_stock": doc["stock"], "status": self.stock_status(doc),
                "velocity": velocity, "restock_days": int(doc["stock"] / velocity) if velocity else None,
                "allocations": allocations}

    def list_inventory(self, request: Request) -> Response:
        status = self.choice(request, "status", INVENTORY_STATUSES)
        channel = request.query_value("channel")
        with self.store.transaction() as conn:
            docs = [json.loads(r["doc"]) for r in conn.execute("SELECT doc FROM ecl_products ORDER BY seq")]
        items = [self.inventory_view(d, channel) for d in docs]
        summary = {"total_units": sum(d["stock"] for d in docs),
                   "critical_skus": sum(1 for i in items if i["status"] == "critical"),
                   "out_of_stock": sum(1 for d in docs if d["stock"] == 0)}
        return Response(200, {"data": [i for i in items if status is None or i["status"] == status],
                              "summary": summary})

    def update_inventory(self, request: Request) -> Response:
        body = object_body(request, {"quantity", "adjust", "allocations"},
                           "send quantity or adjust, and optionally allocations")
        if "quantity" in body and "adjust" in body:
            raise bad_request("Send quantity (absolute) or adjust (relative), not both")
        if not {"quantity", "adjust", "allocations"} & set(body):
            raise bad_request("Nothing to update: send quantity, adjust or allocations")
        if "quantity" in body and not _is_count(body["quantity"]):
            raise bad_request("quantity must be a non-negative integer")
        if "adjust" in body and (type(body["adjust"]) is not int or abs(body["adjust"]) > MAX_INT):
            raise bad_request("adjust must be an integer")
        allocations = body.get("allocations")
        if "allocations" in body and (not isinstance(allocations, dict)
                                      or not all(_is_count(v) for v in allocations.values())):
            raise bad_request("allocations must be an object of channel id -> non-negative integer")
        sku = request.params["ident"]
        with self.store.transaction() as conn:
            docs = self.products_by_sku(conn, sku)
            if not docs:
                raise api_error(404, "not_found", f"SKU {sku} does not exist.")
            if len(docs) > 1:
                raise api_error(409, "conflict", f"SKU {sku} matches {len(docs)} products")
            doc = docs[0]
            before = doc["stock"]
            total = doc["stock"]
            if "quantity" in body:
                total = body["quantity"]
            elif "adjust" in body:
                total = doc["stock"] + body["adjust"]
                if total < 0:
                    raise api_error(409, "conflict", f"adjust {body['adjust']} would take SKU {sku} below zero "
                                                     f"(stock {doc['stock']})")
            if allocations is not None:
                known = set(self.channel_ids(conn))
                strangers = sorted(set(allocations) - known)
                if strangers:
                    raise bad_request(f"allocations: {strangers[0]} is not a connected channel")
                if sum(allocations.values()) > total:
                    raise bad_request(f"allocations sum to {sum(allocations.values())}, more than the total stock "
                                      f"{total}")
                doc["allocations"] = dict(allocations)
            else:
                doc["allocations"] = fit_allocations(doc["allocations"], total)
            doc["stock"] = total
            self.save_product(conn, doc)
        self.stock_events(doc, before)
        return Response(200, {"sku": doc["sku"], "total_stock": doc["stock"], "allocations": doc["allocations"],
                              "updated_at": doc["updated_at"]})

    def stock_events(self, doc: dict[str, Any], before: int) -> None:
        point = doc.get("reorder_point", DEFAULT_REORDER_POINT)
        data = {"sku": doc["sku"], "product_id": doc["id"], "total_stock": doc["stock"]}
        if doc["stock"] == 0 and before > 0:
            self.emit("inventory.out", data)
        elif doc["stock"] < point <= before:
            self.emit("inventory.low", {**data, "reorder_point": point})

    # -- orders ------------------------------------------------------------------------------------------

    def list_orders(self, request: Request) -> Response:
        page, limit = self.paging(request)
        status = self.choice(request, "status", ORDER_STATUSES)
        channel = request.query_value("channel")
        since = request.query_value("from")
        if since is not None:
            try:
                since = (date.fromisoformat(since).isoformat() if len(since) == 10
                         else datetime.fromisoformat(since.replace("Z", "+00:00")).astimezone(UTC)
                         .isoformat(timespec="seconds").replace("+00:00", "Z"))
            except ValueError:
                raise bad_request("from must be an ISO 8601 date, e.g. 2026-04-01") from None
        with self.store.transaction() as conn:
            docs = [json.loads(r["doc"]) for r in
                    conn.execute("SELECT doc FROM ecl_orders ORDER BY created_at DESC, seq DESC")]
        docs = [d for d in docs if (status is None or d["status"] == status)
                and (channel is None or d["channel"] == channel) and (since is None or d["created_at"] >= since)]
        return Response(200, {"data": docs[(page - 1) * limit: page * limit],
                              "meta": {"total": len(docs), "page": page, "limit": limit}})

    def update_order(self, request: Request) -> Response:
        body = object_body(request, {"status", "awb", "courier"}, "an order update takes status, awb, courier")
        if body.get("status") not in ORDER_UPDATE_STATUSES:
            raise bad_request(f"status is required, one of {' | '.join(ORDER_UPDATE_STATUSES)}")
        for name in ("awb", "courier"):
            if name in body and body[name] is not None and (not isinstance(body[name], str) or not body[name]):
                raise bad_request(f"{name} must be a non-empty string")
        with self.store.transaction() as conn:
            row = conn.execute("SELECT doc FROM ecl_orders WHERE id = ?", (request.params["ident"],)).fetchone()
            if row is None:
                raise api_error(404, "not_found", f"Order {request.params['ident']} does not exist.")
            doc = json.loads(row["doc"])
            if doc["status"] in FINAL_ORDER_STATUSES and doc["status"] != body["status"]:
                raise api_error(409, "conflict", f"Order {doc['id']} is {doc['status']}: its status cannot change")
            changed = doc["status"] != body["status"]
            doc["status"] = body["status"]
            for name in ("awb", "courier"):
                if name in body:
                    doc[name] = body[name]
            doc["updated_at"] = now_iso()
            conn.execute("UPDATE ecl_orders SET doc = ? WHERE id = ?", (json.dumps(doc), doc["id"]))
        if changed and doc["status"] in ("shipped", "cancelled"):
            self.emit(f"order.{doc['status']}", {k: doc.get(k) for k in ("id", "channel", "status", "awb", "courier")})
        return Response(200, {k: doc.get(k) for k in ("id", "status", "awb", "courier", "updated_at")})

    # -- channels ----------------------------------------------------------------------------------------

    def list_channels(self, request: Request) -> Response:
        with self.store.transaction() as conn:
            return Response(200, {"data": [json.loads(r["doc"]) for r in
                                           conn.execute("SELECT doc FROM ecl_channels ORDER BY seq")]})

    def sync_channel(self, request: Request) -> Response:
        cid = request.params["ident"]
        with self.store.transaction() as conn:
            row = conn.execute("SELECT doc FROM ecl_channels WHERE id = ?", (cid,)).fetchone()
            if row is None:
                raise api_error(404, "not_found", f"Channel {cid} does not exist.")
            doc = json.loads(row["doc"])
            doc["last_synced"] = now_iso()
            conn.execute("UPDATE ecl_channels SET doc = ? WHERE id = ?", (json.dumps(doc), cid))
        job = {"sync_id": new_id("sync"), "channel": cid, "status": "queued", "estimated_seconds": 12,
               "created_at": now_iso()}
        self.emit("sync.completed", {"sync_id": job["sync_id"], "channel": cid, "status": "completed"})
        return Response(200, job)

    # -- webhooks ----------------------------------------------------------------------------------------

    @staticmethod
    def webhook_view(doc: dict[str, Any], secret: str | None) -> dict[str, Any]:
        view = dict(doc)
        if secret:
            view["secret"] = "whsec_" + "•" * 12
        return view

    def list_webhooks(self, request: Request) -> Response:
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT doc FROM ecl_webhooks ORDER BY seq").fetchall()
        return Response(200, {"data": [json.loads(r["doc"]) for r in rows]})

    def register_webhook(self, request: Request) -> Response:
        body = object_body(request, {"url", "events", "secret"}, "a webhook takes url, events, secret")
        url = body.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or not parts.hostname or not (
                parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)):
            raise bad_request("url is required: an HTTPS URL (the sandbox also takes http:// on loopback)")
        events = body.get("events")
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            raise bad_request("events is required: a non-empty array of event names")
        strangers = sorted(set(events) - set(EVENTS))
        if strangers:
            raise bad_request(f"Unknown event '{strangers[0]}' (known: {', '.join(EVENTS)})")
        secret = body.get("secret")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise bad_request("secret must be a non-empty string")
        doc = {"id": new_id("wh"), "url": url, "events": list(dict.fromkeys(events)), "status": "active",
               "created_at": now_iso()}
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM ecl_webhooks WHERE json_extract(doc, '$.url') = ?", (url,)).fetchone():
                raise api_error(409, "conflict", f"A webhook for {url} is already registered")
            conn.execute("INSERT INTO ecl_webhooks (id, secret, doc) VALUES (?, ?, ?)",
                         (doc["id"], secret, json.dumps(doc)))
        return Response(201, self.webhook_view(doc, secret))

    def delete_webhook(self, request: Request) -> Response:
        wid = request.params["ident"]
        with self.store.transaction() as conn:
            if conn.execute("DELETE FROM ecl_webhooks WHERE id = ?", (wid,)).rowcount == 0:
                raise api_error(404, "not_found", f"Webhook {wid} does not exist.")
        return Response(200, {"deleted": True, "id": wid})

    # -- webhook delivery --------------------------------------------------------------------------------

    def emit(self, event: str, data: dict[str, Any], times: int = 1) -> list[dict[str, Any]]:
        """POST the event to every active webhook subscribed to it (the same body ``times`` times)."""
        with self.store.transaction() as conn:
            hooks = [(json.loads(r["doc"]), r["secret"]) for r in conn.execute("SELECT doc, secret FROM ecl_webhooks")]
        body = json.dumps({"event": event, "created_at": now_iso(), "data": data}, separators=(",", ":")).encode()
        out = []
        for doc, secret in hooks:
            if event not in doc["events"] or doc["status"] != "active":
                continue
            for _ in range(times):
                out.append(self._deliver(doc, secret, event, body))
        return out

    def _deliver(self, hook: dict[str, Any], secret: str | None, event: str, body: bytes) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "User-Agent": "EcomLinx-Webhooks/sandbox"}
        if secret:
            headers["X-EcomLinx-Signature"] = sign(secret, body)
        status, error = None, None
        if urlsplit(hook["url"]).hostname not in LOOPBACK_HOSTS:
            error = "not delivered: the sandbox only delivers to loopback URLs"
        else:
            try:
                resp = requests.post(hook["url"], data=body, headers=headers, timeout=DELIVERY_TIMEOUT)
                status = resp.status_code
                resp.close()
            except requests.RequestException as exc:
                error = type(exc).__name__
        with self.store.transaction() as conn:
            cur = conn.execute("INSERT INTO ecl_deliveries (webhook_id, event, url, status, error, body, signed, "
                               "delivered_at) VALUES (?,?,?,?,?,?,?,?)",
                               (hook["id"], event, hook["url"], status, error, body.decode(), int(bool(secret)),
                                utc_now_iso()))
            delivery_id = int(cur.lastrowid or 0)
        return {"id": delivery_id, "webhook_id": hook["id"], "event": event, "status": status, "error": error}

    def deliveries(self) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT * FROM ecl_deliveries ORDER BY id")
        return [dict(r) for r in rows]

    def _admin_emit(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or body.get("event") not in EVENTS:
            raise ValueError(f"emit takes {{\"event\": one of {', '.join(EVENTS)}, \"data\": {{...}}, \"times\": n}}")
        times = body.get("times", 1)
        if type(times) is not int or not 1 <= times <= 10:
            raise ValueError("times must be an integer from 1 to 10")
        return Response(200, {"deliveries": self.emit(body["event"], dict(body.get("data") or {}), times)})

    def _admin_deliveries(self, request: Request) -> Response:
        return Response(200, {"deliveries": self.deliveries()})

    # -- admin: state and seed ---------------------------------------------------------------------------

    def dump_state(self) -> dict[str, Any]:
        def docs(table: str) -> list[dict[str, Any]]:
            return [json.loads(r["doc"]) for r in self.store.query(f"SELECT doc FROM {table} ORDER BY seq")]

        return {"products": docs("ecl_products"), "orders": docs("ecl_orders"), "channels": docs("ecl_channels"),
                "webhooks": docs("ecl_webhooks"),
                "rate_limit_refusals": self.limiter.refused if self.limiter is not None else 0}

    def seed(self, payload: Any) -> dict[str, Any]:
        """Pre-load ``{"products": [...], "orders": [...], "channels": [...]}`` (no API validation of names:
        duplicate SKUs are allowed here, to exercise the connector's handling of them)."""
        if not isinstance(payload, dict) or not set(payload) <= {"products", "orders", "channels"}:
            raise HTTPError(Response(400, {"error": "seed takes {\"products\": [...], \"orders\": [...], "
                                                    "\"channels\": [...]}"}))
        out: dict[str, list[Any]] = {}
        with self.store.transaction() as conn:
            for fields in payload.get("channels") or []:
                out.setdefault("channels", []).append(self._insert_channel(conn, fields))
            for fields in payload.get("products") or []:
                out.setdefault("products", []).append(self._insert_product(conn, fields))
            for fields in payload.get("orders") or []:
                out.setdefault("orders", []).append(self._insert_order(conn, fields))
        return out

    def seed_products(self, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.seed({"products": products}).get("products", [])

    def _insert_product(self, conn: sqlite3.Connection, f: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(f, dict) or not isinstance(f.get("sku"), str) or not f["sku"]:
            raise HTTPError(Response(400, {"error": "a seeded product needs a sku"}))
        channels = list(f.get("channels") or self.channel_ids(conn))
        stock = int(f.get("stock", 0))
        now = now_iso()
        doc = {"id": f.get("id") or new_id("prod"), "sku": f["sku"], "name": f.get("name") or f["sku"],
               "category": f.get("category"), "status": f.get("status", "live"), "price": f.get("price", 0),
               "stock": stock, "cogs": f.get("cogs"), "health_score": f.get("health_score", 80),
               "channels": channels,
               "channel_statuses": {c: {"status": "live", "listing_id": f"{c.upper()}-{f['sku']}"} for c in channels},
               "allocations": dict(f.get("allocations") or {}), "images": list(f.get("images") or []),
               "velocity": f.get("velocity", 1.0), "reorder_point": f.get("reorder_point", DEFAULT_REORDER_POINT),
               "created_at": now, "updated_at": now}
        conn.execute("INSERT INTO ecl_products (id, sku, doc) VALUES (?, ?, ?)",
                     (doc["id"], doc["sku"], json.dumps(doc)))
        return doc

    @staticmethod
    def _insert_order(conn: sqlite3.Connection, f: dict[str, Any]) -> dict[str, Any]:
        items = list(f.get("items") or [])
        doc = {"id": f.get("id") or new_id("ord"), "channel": f.get("channel", "amazon_in"),
               "channel_order_id": f.get("channel_order_id"), "status": f.get("status", "new"),
               "customer": f.get("customer") or {}, "items": items,
               "total": f.get("total", sum(i.get("qty", 1) * i.get("price", 0) for i in items)),
               "awb": f.get("awb"), "courier": f.get("courier"), "sla_deadline": f.get("sla_deadline"),
               "created_at": f.get("created_at") or now_iso()}
        conn.execute("INSERT INTO ecl_orders (id, created_at, doc) VALUES (?, ?, ?)",
                     (doc["id"], doc["created_at"], json.dumps(doc)))
        return doc


def create_sandbox(*, port: int = 0, db_path: str | None = None,
                   keys: Mapping[str, str] | Iterable[str] | None = None,
                   plan_limits: Mapping[str, tuple[int | None, int | None]] | None = None,
                   second_seconds: float = 1.0, minute_seconds: float = 60.0) -> EcomLinxSandbox:
    """An EcomLinx sandbox on 127.0.0.1, not yet started (``with create_sandbox() as s:`` or ``.start()``).

    ``plan_limits`` overrides ``(per second, per minute)`` per plan; ``second_seconds`` / ``minute_seconds``
    shorten the two windows so a test reaches 429s in seconds.
    """
    limiter = KeyRateLimiter({**PLAN_LIMITS, **(plan_limits or {})}, second=second_seconds, minute=minute_seconds)
    return EcomLinxSandbox(port=port, db_path=db_path, keys=keys, limiter=limiter)
