"""The Elebne sandbox's HTTP side: routes, keys and rate limits, the ``{"success", "data"|"error"}`` envelope.

State and rules are in ``backend.py``, body checks in ``checks.py``; this module parses requests, calls them and
words the answers (``docs/elebne.md``, "Sandbox notes").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from connector.sandbox.auth import require_key
from connector.sandbox.paging import has_more, page_params
from connector.sandbox.ratelimit import Limit, RateLimiter
from connector.sandbox.records import IdempotencyKeys, KeyReusedError, RecordStore
from connector.sandbox.server import (
    ADMIN_PREFIX,
    HTTPError,
    InvalidJSONError,
    Request,
    Response,
    Route,
    SandboxServer,
)
from connector.sandbox.validation import Problems, Rejected
from connector.sandbox.webhooks import checked_emit

from .backend import ElebneBackend, new_product
from .checks import check_bulk_item, check_product, check_stock_body
from .orders import STATUSES, ElebneOrders, check_simulation, check_time, public, utc_text
from .webhooks import EVENTS, ElebneWebhooks, order_event

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
MAX_BULK_ITEMS = 200
MAX_PAGE_LIMIT = 100
MAX_IDEMPOTENCY_KEY_LENGTH = 255
#: HTTP status per Elebne error code (anything else is a 400).
STATUS = {"UNAUTHORIZED": 401, "FORBIDDEN": 403, "PRODUCT_NOT_FOUND": 404, "DUPLICATE_EXTERNAL_ID": 409,
          "IDEMPOTENCY_KEY_REUSED": 409, "ORDER_NOT_FOUND": 404, "INSUFFICIENT_STOCK": 409,
          "INVALID_STATUS_TRANSITION": 409}


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"success": False, "error": error}


def refusal(rejected: Rejected) -> Response:
    """Elebne's envelope for a refusal; checks without a message read ``Invalid request: <field>: <problem>``."""
    message = rejected.message if rejected.message is not None else f"Invalid request: {rejected.first()}"
    return Response(STATUS.get(str(rejected.code), 400), error_body(str(rejected.code), message, rejected.details))


def ok(data: Any, status: int = 200) -> Response:
    return Response(status, {"success": True, "data": data})


def page_of(items: list[Any], total: int, page: int, limit: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "limit": limit,
            "hasMore": has_more(page, limit, len(items), total)}


class ElebneSandbox(SandboxServer):
    """The Elebne Store API under ``/api/v1/dev/store``, enforcing ``docs/elebne.md``.

    ``keys=None`` accepts any well-formed key (``(sk|pk)_(test|live)_`` + 8 or more alphanumerics); a list
    accepts only those keys.
    """

    name = "elebne"
    path_prefix = PATH_PREFIX
    idempotency_header = IDEMPOTENCY_HEADER

    def __init__(self, *, keys: Iterable[str] | None = None, **kwargs: Any) -> None:
        self.keys = None if keys is None else frozenset(keys)
        super().__init__(**kwargs)
        self.backend = ElebneBackend(RecordStore(self.store))
        self.orders = ElebneOrders(self.backend.records, self.backend)
        self.idempotency = IdempotencyKeys(self.store)
        self.webhooks = ElebneWebhooks(self.backend.records)
        for method, path, handler in (("POST", "/webhooks", self._admin_register_webhook),
                                      ("POST", "/webhooks/emit", self._admin_emit),
                                      ("GET", "/webhooks/deliveries", self._admin_deliveries)):
            self._admin_routes.append(Route(method, re.compile(re.escape(ADMIN_PREFIX + path)), handler))

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
        # orders (docs/elebne.md, "Orders"): simulate is the documented sandbox-only call
        self.add_route("GET", "/orders", self.list_orders, op_class="read")
        self.add_route("POST", "/orders/simulate", self.simulate_order, op_class="write")
        self.add_route("GET", r"/orders/(?P<order>[^/]+)", self.get_order, op_class="read")
        self.add_route("POST", r"/orders/(?P<order>[^/]+)/simulate", self.simulate_status, op_class="write")

    def error_response(self, status: int, code: str, message: str, *,
                       headers: dict[str, str] | None = None) -> Response:
        return Response(status, error_body(code, message), dict(headers or {}))

    def rejected_response(self, rejected: Rejected) -> Response:
        return refusal(rejected)

    def invalid_json_response(self, request: Request, error: InvalidJSONError) -> Response:
        return Response(400, error_body("VALIDATION_ERROR", f"Invalid JSON body: {error}",
                                        [{"field": "", "message": str(error)}]))

    def before_handle(self, request: Request, route: Route) -> Response | None:
        """401 without a valid key, 403 for a publishable key on a write, then the rate limits."""
        api_key = self.api_key(request)
        if route.op_class != "read" and api_key.startswith("pk_"):
            raise Rejected("FORBIDDEN", "Write operations require a secret key (sk_test_* or sk_live_*)")
        return self.check_rate_limit(request, route.op_class, api_key)

    def api_key(self, request: Request) -> str:
        return require_key(request, KEY_PATTERN, self.keys, "UNAUTHORIZED")

    @staticmethod
    def paging(request: Request) -> tuple[int, int]:
        """``page`` ≥ 1 (default 1) and 1 ≤ ``limit`` ≤ 100 (default 100); anything else is a 400."""
        return page_params(request.query_value, Problems(), default_limit=MAX_PAGE_LIMIT, max_limit=MAX_PAGE_LIMIT)

    # -- products ----------------------------------------------------------------------------------------

    def create_product(self, request: Request) -> Response:
        body = request.json()
        api_key = self.api_key(request)
        idem_key = request.header(IDEMPOTENCY_HEADER) or None
        if idem_key is not None and len(idem_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise Rejected("VALIDATION_ERROR", f"{IDEMPOTENCY_HEADER} is longer than {MAX_IDEMPOTENCY_KEY_LENGTH} "
                           "characters", details=[{"field": IDEMPOTENCY_HEADER, "message": "too long"}])
        with self.backend.records.transaction():
            if idem_key is not None:
                try:
                    replay = self.idempotency.replay(api_key, idem_key, body)
                except KeyReusedError:
                    raise Rejected("IDEMPOTENCY_KEY_REUSED", f"{IDEMPOTENCY_HEADER} '{idem_key}' was already used "
                                   "with a different request body") from None
                if replay is not None:
                    return Response(replay.status, replay.body, {"Idempotent-Replayed": "true"})
            try:
                response = ok(self.backend.create(check_product(body, partial=False)), 201)
            except Rejected as exc:
                response = refusal(exc)
            if idem_key is not None:
                self.idempotency.remember(api_key, idem_key, body, response.status, response.encoded())
            return response

    def get_product(self, request: Request) -> Response:
        return ok(self.backend.get(request.params["ref"]))

    def list_products(self, request: Request) -> Response:
        page, limit = self.paging(request)
        items, total = self.backend.products(page, limit)
        return ok(page_of(items, total, page, limit))

    def update_product(self, request: Request) -> Response:
        body = check_product(request.json(), partial=True)
        return ok(self.backend.update(request.params["ref"], body))

    # -- stock -------------------------------------------------------------------------------------------

    def update_stock(self, request: Request) -> Response:
        body = check_stock_body(request.json())
        return ok(self.backend.set_stock(request.params["ref"], body))

    def bulk_inventory(self, request: Request) -> Response:
        body = request.json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise Rejected("VALIDATION_ERROR", "Invalid request: items must be an array",
                           details=[{"field": "items", "message": "is required and must be an array"}])
        if len(items) > MAX_BULK_ITEMS:
            raise Rejected("TOO_MANY_ITEMS", f"A bulk request takes at most {MAX_BULK_ITEMS} items, got {len(items)}")
        if unknown := sorted(set(body) - {"items"}):
            raise Rejected("VALIDATION_ERROR", f"Invalid request: unknown field {unknown[0]}",
                           details=[{"field": name, "message": "unknown field"} for name in unknown])
        errors: list[dict[str, Any]] = []
        with self.backend.records.transaction():
            for index, item in enumerate(items):
                try:
                    self.backend.apply_bulk_item(item, *check_bulk_item(item))
                except Rejected as exc:
                    external_id = item.get("externalId") if isinstance(item, dict) else None
                    errors.append({"index": index, "externalId": external_id, "error": exc.first(),
                                   "code": exc.code})
        return ok({"updated": len(items) - len(errors), "failed": len(errors), "errors": errors})

    def list_inventory(self, request: Request) -> Response:
        page, limit = self.paging(request)
        low_stock = request.query_value("lowStock")
        if low_stock not in (None, "true", "false"):
            raise Rejected("VALIDATION_ERROR", "Invalid request: lowStock must be 'true' or 'false'",
                           details=[{"field": "lowStock", "message": "must be 'true' or 'false'"}])
        items, total = self.backend.inventory(page, limit, low_only=low_stock == "true")
        return ok(page_of(items, total, page, limit))

    # -- orders ------------------------------------------------------------------------------------------

    def list_orders(self, request: Request) -> Response:
        page, limit = self.paging(request)
        problems = Problems()
        status = request.query_value("status")
        if status is not None and status not in STATUSES:
            problems.add("status", f"must be one of {', '.join(STATUSES)}")
        since = request.query_value("updatedSince")
        check_time(problems, "updatedSince", since)
        if problems.details:
            raise Rejected("VALIDATION_ERROR", f"Invalid request: {problems.details[0]['field']}: "
                                               f"{problems.details[0]['message']}", details=problems.details)
        items, total = self.orders.page(page, limit, status=status,
                                        updated_since=None if since is None else utc_text(since))
        return ok(page_of(items, total, page, limit))

    def get_order(self, request: Request) -> Response:
        return ok(public(self.orders.get(request.params["order"])))

    def simulate_order(self, request: Request) -> Response:
        """``POST /orders/simulate``: sandbox only (test keys); places one order, its units leave the stock."""
        self.refuse_live_key(request)
        return ok(self.create_order(request.json()), 201)

    def simulate_status(self, request: Request) -> Response:
        """``POST /orders/{id}/simulate`` ``{"status"}``: sandbox only; moves an order as the shop would."""
        self.refuse_live_key(request)
        body = request.json()
        status = body.get("status") if isinstance(body, dict) else None
        return ok(self.set_order_status(request.params["order"], status))

    def refuse_live_key(self, request: Request) -> None:
        if self.api_key(request).startswith("sk_live_"):
            raise Rejected("FORBIDDEN", "Simulating orders is a sandbox feature: use a test key (sk_test_*)")

    def create_order(self, body: Any) -> dict[str, Any]:
        """Simulate one order (Python side of ``POST /orders/simulate``), announced as ``order.created``."""
        order = self.orders.simulate(check_simulation(body))
        self.webhooks.emit("order.created", order)
        return order

    def set_order_status(self, order_id: str, status: Any) -> dict[str, Any]:
        """Move an order (Python side of ``POST /orders/{id}/simulate``), announced when its status changed."""
        before = public(self.orders.get(order_id))["status"]
        order = self.orders.move(order_id, status)
        if order["status"] != before:
            self.webhooks.emit(order_event(order["status"]), order)
        return order

    # -- webhooks (sandbox control calls: Elebne documents no registration API) -------------------------

    def register_webhook(self, url: str, secret: str, events: list[str] | None = None) -> dict[str, Any]:
        """Deliver signed events to ``url`` (Python side of ``POST /__sandbox/webhooks``)."""
        try:
            return self.webhooks.register(url, secret, events)
        except Rejected as exc:
            raise HTTPError(refusal(exc)) from None

    def emit(self, event: str, data: dict[str, Any], times: int = 1, **fields: Any) -> list[dict[str, Any]]:
        return self.webhooks.emit(event, data, times, **fields)

    def deliveries(self) -> list[dict[str, Any]]:
        return self.webhooks.deliveries()

    def _admin_register_webhook(self, request: Request) -> Response:
        body = request.json()
        body = body if isinstance(body, dict) else {}
        return Response(201, self.register_webhook(body.get("url"), body.get("secret"), body.get("events")))

    def _admin_emit(self, request: Request) -> Response:
        """``{"event", "data", "times"?, "id"?, "createdAt"?}``: a delivery as Elebne would send it (a given
        ``id``/``createdAt`` plays a redelivery or a replay of an old one)."""
        body = request.json()
        event, data, times = checked_emit(body, EVENTS)
        return Response(200, {"deliveries": self.emit(event, data, times, event_id=body.get("id"),
                                                      created_at=body.get("createdAt"))})

    def _admin_deliveries(self, request: Request) -> Response:
        return Response(200, {"deliveries": self.deliveries()})

    # -- admin -------------------------------------------------------------------------------------------

    def dump_state(self) -> dict[str, Any]:
        return {"products": self.backend.all_products(), "idempotencyKeys": self.idempotency.listing(),
                "orders": self.orders.all()}

    def seed(self, payload: Any) -> dict[str, Any]:
        """``{"products": [...]}`` created without the API's variant-label uniqueness check.

        That is how a test gets a product whose labels differ only by case (as a CSV import or an older
        API version could leave it), to exercise ``VARIANT_LABEL_AMBIGUOUS``.  ``"orders": [...]`` are stored as
        given (no checks, no stock taken): how a test gets an order Elebne could send but the simulate call
        would never make.
        """
        products = payload.get("products") if isinstance(payload, dict) else None
        orders = payload.get("orders") if isinstance(payload, dict) else None
        if not isinstance(products, list) and not (isinstance(orders, list) and products is None):
            raise HTTPError(Response(400, {"error": "seed takes {\"products\": [...], \"orders\": [...]}"}))
        out: dict[str, Any] = {"products": self.seed_products(products or [])}
        if isinstance(orders, list):
            with self.backend.records.transaction():
                out["orders"] = [public(self.orders.insert(dict(o))) for o in orders]
        return out

    def seed_products(self, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert products (same fields as a create), skipping only the label-uniqueness check."""
        try:
            docs = [new_product(check_product(p, partial=False, unique_labels=False)) for p in products]
            with self.backend.records.transaction():
                for doc in docs:
                    self.backend.insert(doc)
        except Rejected as exc:
            raise HTTPError(refusal(exc)) from None
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
