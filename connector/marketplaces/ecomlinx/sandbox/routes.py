"""The EcomLinx sandbox's HTTP side: routes, keys and plans, rate limits, ``{"error": {code, message, status}}``.

State and rules are in ``backend.py``, webhook POSTs in ``delivery.py``; what the document leaves open is
decided in the "Sandbox notes" of ``docs/ecomlinx.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from connector.sandbox.auth import require_key
from connector.sandbox.paging import page_params, page_slice
from connector.sandbox.ratelimit import Limit, RateLimiter, Refusal, Window
from connector.sandbox.records import RecordStore
from connector.sandbox.server import ADMIN_PREFIX, InvalidJSONError, Request, Response, Route, SandboxServer
from connector.sandbox.validation import (
    MAX_INT,
    Problems,
    Rejected,
    check_choice,
    check_integer,
    check_number,
    check_string,
)
from connector.sandbox.webhooks import checked_emit

from .backend import (
    DEFAULT_COURIERS,
    ORDER_UPDATE_STATUSES,
    SANDBOX_ORDER_STATUS,
    EcomLinxBackend,
    stock_status,
    without_secret,
)
from .delivery import LOOPBACK_HOSTS, Deliverer

PATH_PREFIX = "/v1"
SANDBOX_ORDERS = "/_sandbox/orders"  # sandbox-only control calls under /v1 (docs/ecomlinx.md, "Sandbox notes")
KEY_PATTERN = re.compile(r"elx_(live|test)_sk_[A-Za-z0-9]{8,}")
SCALE_KEY = "elx_test_sk_scale0000connector"
PRO_KEY = "elx_test_sk_pro00000connector"
#: plan -> (requests per second, requests per minute), per API key, reads and writes together.
PLAN_LIMITS: dict[str, tuple[int | None, int | None]] = {"scale": (100, 1000), "pro": (20, 200)}
EVENTS = ("order.new", "order.shipped", "order.cancelled", "inventory.low", "inventory.out", "return.received",
          "listing.suppressed", "channel.error", "sync.completed")
PRODUCT_STATUSES = ("live", "suppressed", "draft", "inactive")
WRITABLE_STATUSES = ("live", "draft", "inactive")
INVENTORY_STATUSES = ("critical", "low", "healthy", "dead_stock")
ORDER_STATUSES = ("new", "processing", "ready", "shipped", "delivered", "cancelled", "return")
DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT = 20, 100
STATUS = {"bad_request": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404, "conflict": 409,
          "rate_limited": 429}
NON_EMPTY_STRING = "must be a non-empty string"
COUNT = "must be a non-negative integer"
NON_NEGATIVE = "must be a non-negative number"
INTEGER = "must be an integer"


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def refusal(rejected: Rejected, headers: dict[str, str] | None = None) -> Response:
    """EcomLinx's envelope; a failed check reads ``<field> <problem>`` (``price must be a non-negative number``)."""
    status = STATUS.get(str(rejected.code), 400)
    return Response(status, error_body(status, str(rejected.code), rejected.first(" ")), dict(headers or {}))


def bad_request(message: str) -> Rejected:
    return Rejected("bad_request", message)


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


def plan_limiter(limits: Mapping[str, tuple[int | None, int | None]], *, second: float = 1.0,
                 minute: float = 60.0) -> RateLimiter:
    """Per API key, at most N requests in any ``second`` and M in any ``minute`` (both sliding), by plan."""
    def windows(per_second: int | None, per_minute: int | None) -> tuple[Window, ...]:
        pairs = ((per_second, second), (per_minute, minute))
        return tuple(Window(n, length) for n, length in pairs if n is not None)

    return RateLimiter({plan: Limit(None, None, windows(*pair)) for plan, pair in limits.items()},
                       windows_per="key")


def listing_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("id", "sku", "name", "status", "price", "stock", "health_score", "channels",
                                "updated_at")}


def detail_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("id", "sku", "name", "category", "status", "price", "stock", "cogs",
                                "health_score", "channel_statuses", "images", "updated_at")}


def inventory_view(doc: dict[str, Any], channel: str | None = None) -> dict[str, Any]:
    allocations = doc["allocations"]
    if channel is not None:
        allocations = {k: v for k, v in allocations.items() if k == channel}
    velocity = doc.get("velocity", 0)
    return {"sku": doc["sku"], "total_stock": doc["stock"], "status": stock_status(doc),
            "velocity": velocity, "restock_days": int(doc["stock"] / velocity) if velocity else None,
            "allocations": allocations}


def order_view(doc: dict[str, Any]) -> dict[str, Any]:
    """An order as listed: the sandbox's own bookkeeping (``_stock_taken``) left out."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def webhook_view(doc: dict[str, Any]) -> dict[str, Any]:
    view = without_secret(doc)
    if doc.get("secret"):
        view["secret"] = "whsec_" + "•" * 12
    return view


def page_envelope(docs: list[dict[str, Any]], page: int, limit: int, view: Any = None) -> Response:
    chunk = page_slice(docs, page, limit)
    return Response(200, {"data": [view(d) for d in chunk] if view else list(chunk),
                          "meta": {"total": len(docs), "page": page, "limit": limit}})


class EcomLinxSandbox(SandboxServer):
    """The EcomLinx REST API under ``/v1``.

    ``keys``: ``None`` accepts any well-formed key (``elx_(live|test)_sk_`` + 8 or more alphanumerics) on the
    Scale plan, except ``PRO_KEY`` (Pro plan); a mapping ``key -> plan`` accepts exactly those keys.
    """

    name = "ecomlinx"
    path_prefix = PATH_PREFIX
    idempotency_header = "Idempotency-Key"

    def __init__(self, *, keys: Mapping[str, str] | Iterable[str] | None = None,
                 couriers: Iterable[str] = DEFAULT_COURIERS, **kwargs: Any) -> None:
        if keys is None or isinstance(keys, Mapping):
            self.keys: dict[str, str] | None = None if keys is None else dict(keys)
        else:
            self.keys = {k: "pro" if k == PRO_KEY else "scale" for k in keys}
        super().__init__(**kwargs)
        self.backend = EcomLinxBackend(RecordStore(self.store), notify=self.emit, couriers=tuple(couriers))
        self.deliverer = Deliverer(self.backend)
        for method, path, handler in (("POST", "/webhooks/emit", self._admin_emit),
                                      ("GET", "/webhooks/deliveries", self._admin_deliveries)):
            self._admin_routes.append(Route(method, re.compile(re.escape(ADMIN_PREFIX + path)), handler))

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
            ("GET", "/orders" + ident, self.get_order, "read"),
            ("PATCH", "/orders" + ident, self.update_order, "write"),
            ("POST", SANDBOX_ORDERS, self.place_order, "write"),
            ("POST", SANDBOX_ORDERS + ident + "/status", self.move_order, "write"),
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

    def rejected_response(self, rejected: Rejected) -> Response:
        return refusal(rejected)

    def invalid_json_response(self, request: Request, error: InvalidJSONError) -> Response:
        return self.error_response(400, "bad_request", f"Invalid JSON body: {error}")

    def rate_limited_response(self, request: Request, refusal: Refusal) -> Response:
        return self.error_response(429, "rate_limited", "Too many requests - see rate limits",
                                   headers={"Retry-After": str(refusal.retry_after)})

    def before_handle(self, request: Request, route: Route) -> Response | None:
        """401 without a valid key; 429 past the plan's per-second/per-minute limit; 403 for Pro keys on
        writes (the Pro plan reaches read-only endpoints only)."""
        key = require_key(request, KEY_PATTERN, self.keys, "unauthorized")
        plan = self.plan_of(key)
        throttled = self.check_rate_limit(request, plan, key)
        if throttled is not None:
            return throttled
        if route.op_class == "write" and plan != "scale":
            raise Rejected("forbidden", f"API keys on the {plan.title()} plan reach read-only endpoints only; "
                                        "writes are a Scale plan feature")
        return None

    def plan_of(self, key: str) -> str:
        if self.keys is not None:
            return self.keys[key]
        return "pro" if key == PRO_KEY else "scale"

    def on_reset(self) -> None:
        self.backend.install_channels()
        self.backend.install_couriers()

    @staticmethod
    def paging(request: Request) -> tuple[int, int]:
        """``page`` ≥ 1 (default 1), 1 ≤ ``limit`` ≤ 100 (default 20); anything else is a 400."""
        return page_params(request.query_value, Problems("bad_request"), default_limit=DEFAULT_PAGE_LIMIT,
                           max_limit=MAX_PAGE_LIMIT)

    @staticmethod
    def choice(request: Request, name: str, allowed: Iterable[str]) -> str | None:
        value = request.query_value(name)
        if value is not None and value not in allowed:
            raise bad_request(f"{name} must be one of {' | '.join(allowed)}")
        return value

    # -- products ----------------------------------------------------------------------------------------

    def list_products(self, request: Request) -> Response:
        page, limit = self.paging(request)
        status = self.choice(request, "status", PRODUCT_STATUSES)
        channel = request.query_value("channel")
        q = (request.query_value("q") or "").strip().casefold()
        docs = [d for d in self.backend.products() if (status is None or d["status"] == status)
                and (channel is None or channel in d["channels"])
                and (not q or q in d["sku"].casefold() or q in (d["name"] or "").casefold())]
        return page_envelope(docs, page, limit, listing_view)

    def get_product(self, request: Request) -> Response:
        return Response(200, detail_view(self.backend.product(request.params["ident"])))

    def update_product(self, request: Request) -> Response:
        body = object_body(request, {"name", "price", "stock", "status"},
                           "a product update takes name, price, stock, status", non_empty=True,
                           message="The body must be a JSON object with at least one of name, price, stock, status")
        problems = Problems("bad_request")
        if "name" in body:
            check_string(problems, "name", body["name"], if_none=NON_EMPTY_STRING, non_empty=True,
                         message=NON_EMPTY_STRING)
        if "price" in body:
            check_number(problems, "price", body["price"], if_none=NON_NEGATIVE, finite=True, message=NON_NEGATIVE)
        if "stock" in body:
            check_integer(problems, "stock", body["stock"], if_none=COUNT, message=COUNT)
        if "status" in body:
            check_choice(problems, "status", body["status"], WRITABLE_STATUSES,
                         f"must be one of {' | '.join(WRITABLE_STATUSES)}")
        problems.raise_if_any()
        doc = self.backend.update_product(request.params["ident"], body)
        return Response(200, {k: doc[k] for k in ("id", "sku", "name", "status", "price", "stock", "updated_at")})

    # -- inventory ---------------------------------------------------------------------------------------

    def list_inventory(self, request: Request) -> Response:
        status = self.choice(request, "status", INVENTORY_STATUSES)
        channel = request.query_value("channel")
        docs = self.backend.products()
        items = [inventory_view(d, channel) for d in docs]
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
        problems = Problems("bad_request")
        if "quantity" in body:
            check_integer(problems, "quantity", body["quantity"], if_none=COUNT, message=COUNT)
        if "adjust" in body:
            check_integer(problems, "adjust", body["adjust"], if_none=INTEGER, minimum=-MAX_INT, message=INTEGER)
        allocations = body.get("allocations")
        if "allocations" in body and (not isinstance(allocations, dict) or any(
                type(v) is not int or not 0 <= v <= MAX_INT for v in allocations.values())):
            problems.add("allocations", "must be an object of channel id -> non-negative integer")
        problems.raise_if_any()
        doc = self.backend.set_inventory(request.params["ident"], quantity=body.get("quantity"),
                                         adjust=body.get("adjust"), allocations=allocations)
        return Response(200, {"sku": doc["sku"], "total_stock": doc["stock"], "allocations": doc["allocations"],
                              "updated_at": doc["updated_at"]})

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
        docs = [d for d in self.backend.orders() if (status is None or d["status"] == status)
                and (channel is None or d["channel"] == channel) and (since is None or d["created_at"] >= since)]
        return page_envelope(docs, page, limit, order_view)

    def get_order(self, request: Request) -> Response:
        """``GET /orders/{id}`` (inferred from ``GET /products/{id}``; the document lists no order read by id)."""
        return Response(200, order_view(self.backend.order(request.params["ident"])))

    def update_order(self, request: Request) -> Response:
        body = object_body(request, {"status", "awb", "courier"}, "an order update takes status, awb, courier")
        problems = Problems("bad_request")
        check_choice(problems, "status", body.get("status"), ORDER_UPDATE_STATUSES,
                     f"is required, one of {' | '.join(ORDER_UPDATE_STATUSES)}")
        for name in ("awb", "courier"):
            check_string(problems, name, body.get(name), min_length=1, message=NON_EMPTY_STRING)
        if body.get("status") == "shipped":  # a parcel needs its airway bill and a courier EcomLinx knows
            for name in ("awb", "courier"):
                if body.get(name) is None:
                    problems.add(name, "is required when status is shipped")
        problems.raise_if_any()
        shipping = {name: body[name] for name in ("awb", "courier") if name in body}
        if "courier" in shipping:
            shipping["courier"] = self.backend.courier(shipping["courier"])
        doc = self.backend.update_order(request.params["ident"], body["status"], shipping)
        return Response(200, {k: doc.get(k) for k in ("id", "status", "awb", "courier", "updated_at")})

    # -- sandbox-only order control ---------------------------------------------------------------------

    def place_order(self, request: Request) -> Response:
        """``POST /v1/_sandbox/orders``: a customer buys (sandbox only; see ``create_order``)."""
        return Response(201, self.create_order(request.json()))

    def move_order(self, request: Request) -> Response:
        """``POST /v1/_sandbox/orders/{id}/status`` ``{"status"}``: any documented status, along the moves."""
        body = object_body(request, {"status"}, "a status move takes status")
        return Response(200, self.set_order_status(request.params["ident"], body.get("status")))

    def create_order(self, body: Any) -> dict[str, Any]:
        """Place an order (Python side of ``POST /v1/_sandbox/orders``): ``{"items": [{"sku", "qty", "price"?}],
        "channel"?, "channel_order_id"?, "customer"?, "sla_deadline"?, "created_at"?}``.  The units leave the
        SKUs' stock; ``Rejected`` (409) when a SKU has fewer than ordered, 404 for an unknown SKU."""
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object")
        unknown = sorted(set(body) - {"items", "channel", "channel_order_id", "customer", "sla_deadline",
                                      "created_at"})
        if unknown:
            raise bad_request(f"Unknown field '{unknown[0]}': an order takes items, channel, channel_order_id, "
                              "customer, sla_deadline, created_at")
        items = body.get("items")
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise bad_request("items is required: a non-empty array of {sku, qty, price}")
        problems = Problems("bad_request")
        for n, item in enumerate(items):
            check_string(problems, f"items[{n}].sku", item.get("sku"), if_none=NON_EMPTY_STRING, non_empty=True,
                         message=NON_EMPTY_STRING)
            check_integer(problems, f"items[{n}].qty", item.get("qty"), if_none="must be a positive integer",
                          minimum=1, message="must be a positive integer")
            if item.get("price") is not None:
                check_number(problems, f"items[{n}].price", item["price"], finite=True, message=NON_NEGATIVE)
        for name in ("channel", "channel_order_id"):
            check_string(problems, name, body.get(name), min_length=1, message=NON_EMPTY_STRING)
        if body.get("customer") is not None and not isinstance(body["customer"], dict):
            problems.add("customer", "must be an object")
        for name in ("sla_deadline", "created_at"):
            if body.get(name) is not None and not _iso_time(body[name]):
                problems.add(name, "must be an ISO 8601 time, e.g. 2026-04-17T07:45:00Z")
        problems.raise_if_any()
        fields = {**body, "items": [{k: i[k] for k in ("sku", "qty", "price") if k in i} for i in items]}
        if body.get("created_at"):
            fields["created_at"] = _utc_text(body["created_at"])
        return order_view(self.backend.place_order(fields))

    def set_order_status(self, order_id: str, status: Any) -> dict[str, Any]:
        """Move an order to any documented status (Python side of ``POST /v1/_sandbox/orders/{id}/status``)."""
        problems = Problems("bad_request")
        check_choice(problems, "status", status, ORDER_STATUSES, f"is required, one of {' | '.join(ORDER_STATUSES)}")
        problems.raise_if_any()
        return order_view(self.backend.update_order(order_id, status, {}, machine=SANDBOX_ORDER_STATUS))

    # -- channels ----------------------------------------------------------------------------------------

    def list_channels(self, request: Request) -> Response:
        return Response(200, {"data": self.backend.channels()})

    def sync_channel(self, request: Request) -> Response:
        return Response(200, self.backend.sync_channel(request.params["ident"]))

    # -- webhooks ----------------------------------------------------------------------------------------

    def list_webhooks(self, request: Request) -> Response:
        return Response(200, {"data": [without_secret(d) for d in self.backend.webhooks()]})

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
        problems = Problems("bad_request")
        check_string(problems, "secret", body.get("secret"), min_length=1, message=NON_EMPTY_STRING)
        problems.raise_if_any()
        return Response(201, webhook_view(self.backend.register_webhook(url, events, body.get("secret"))))

    def delete_webhook(self, request: Request) -> Response:
        self.backend.delete_webhook(request.params["ident"])
        return Response(200, {"deleted": True, "id": request.params["ident"]})

    # -- admin -------------------------------------------------------------------------------------------

    def emit(self, event: str, data: dict[str, Any], times: int = 1) -> list[dict[str, Any]]:
        return self.deliverer.emit(event, data, times)

    def deliveries(self) -> list[dict[str, Any]]:
        return self.backend.deliveries()

    def _admin_emit(self, request: Request) -> Response:
        event, data, times = checked_emit(request.json(), EVENTS)
        return Response(200, {"deliveries": self.emit(event, data, times)})

    def _admin_deliveries(self, request: Request) -> Response:
        return Response(200, {"deliveries": self.deliveries()})

    def dump_state(self) -> dict[str, Any]:
        refused = self.rate_limiter.refused if self.rate_limiter is not None else 0
        return {"products": self.backend.products(), "orders": self.backend.orders(newest_first=False),
                "channels": self.backend.channels(),
                "webhooks": [without_secret(d) for d in self.backend.webhooks()], "rate_limit_refusals": refused}

    def seed(self, payload: Any) -> dict[str, Any]:
        """Pre-load ``{"products": [...], "orders": [...], "channels": [...]}`` (no API validation of names:
        duplicate SKUs are allowed here, to exercise the connector's handling of them)."""
        if not isinstance(payload, dict) or not set(payload) <= {"products", "orders", "channels", "couriers"}:
            raise ValueError("seed takes {\"products\": [...], \"orders\": [...], \"channels\": [...], "
                             "\"couriers\": [names]}")
        out: dict[str, list[Any]] = {}
        with self.backend.records.transaction():
            for kind, insert in (("channels", self.backend.insert_channel), ("products", self.backend.insert_product),
                                 ("orders", self.backend.insert_order), ("couriers", self.backend.insert_courier)):
                for fields in payload.get(kind) or []:
                    out.setdefault(kind, []).append(insert(fields))
        return out

    def seed_products(self, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.seed({"products": products}).get("products", [])


def _iso_time(value: Any) -> bool:
    try:
        _utc_text(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _utc_text(value: str) -> str:
    """An ISO 8601 time as the sandbox stores times: UTC, seconds, ``Z`` (a naive time is taken as UTC)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def create_sandbox(*, port: int = 0, db_path: str | None = None,
                   keys: Mapping[str, str] | Iterable[str] | None = None,
                   plan_limits: Mapping[str, tuple[int | None, int | None]] | None = None,
                   second_seconds: float = 1.0, minute_seconds: float = 60.0,
                   couriers: Iterable[str] = DEFAULT_COURIERS) -> EcomLinxSandbox:
    """An EcomLinx sandbox on 127.0.0.1, not yet started (``with create_sandbox() as s:`` or ``.start()``).

    ``plan_limits`` overrides ``(per second, per minute)`` per plan; ``second_seconds`` / ``minute_seconds``
    shorten the two windows so a test reaches 429s in seconds.
    """
    limiter = plan_limiter({**PLAN_LIMITS, **(plan_limits or {})}, second=second_seconds, minute=minute_seconds)
    return EcomLinxSandbox(port=port, db_path=db_path, keys=keys, rate_limiter=limiter, couriers=couriers)
