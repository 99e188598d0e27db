"""The Elryan sandbox's HTTP side: routes, bearer tokens, and the ``{"data", "error_code", "message"}`` envelope.

Refusals are HTTP 200 with a non-zero ``error_code``, as Elryan does; only a missing or unknown token is a 401.
State and rules are in ``backend.py``, body checks in ``checks.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.marketplaces.elryan.errors import INVALID_TOKEN, VALIDATION
from connector.sandbox.paging import offset_slice
from connector.sandbox.records import RecordStore
from connector.sandbox.server import InvalidJSONError, Request, Response, Route, SandboxServer
from connector.sandbox.validation import Rejected

from .backend import CANCELLATION_REASONS, USER_ID, ElryanBackend
from .checks import (
    check_entity,
    check_package,
    check_price_stock,
    check_product,
    check_sandbox_order,
    check_texts,
    check_variant_body,
    check_variant_keys,
    check_window,
)

PATH_PREFIX = "/api"
CONTROL = "/_sandbox"  # sandbox-only calls (not Elryan's): docs/elryan.md, "Orders in the sandbox"
DEFAULT_USERS = {"merchant@example.com": "sandbox-password"}
ID = r"(?P<id>[^/]+)"
PLURALS = {"category": "categories", "brand": "brands", "attribute": "attributes",
           "attribute_value": "attribute-values"}
TRACKING_FIELDS = ("tracking_pdf", "tracking_barcode", "base64_file", "tracking_link", "tracking_provider", "provider")

Handler = Callable[[Request], Response]


def ok(data: Any, message: str | None = None) -> Response:
    body: dict[str, Any] = {"data": data, "error_code": 0}
    if message is not None:
        body["message"] = message
    return Response(200, body)


def refusal(rejected: Rejected) -> Response:
    """A refusal: HTTP 200, ``data`` null, the ``error_code``, the first problem as the message, all of them
    under ``errors``."""
    body: dict[str, Any] = {"data": None, "error_code": rejected.code, "message": rejected.first()}
    if rejected.details:
        body["errors"] = rejected.details
    return Response(200, body)


def window(body: dict[str, Any], docs: list[Any]) -> list[Any]:
    return list(offset_slice(docs, int(body.get("start") or 0), int(body.get("length") or 0)))


class ElryanSandbox(SandboxServer):
    name = "elryan"
    path_prefix = PATH_PREFIX

    def __init__(self, *, users: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.users = dict(users or DEFAULT_USERS)
        super().__init__(**kwargs)
        self.backend = ElryanBackend(RecordStore(self.store), self.users)

    def on_reset(self) -> None:
        self.backend.add_users()

    # -- routes --------------------------------------------------------------------------------------------
    def register_routes(self) -> None:
        r = self.add_route
        r("GET", "/health-check", self.health_check, op_class="noauth")
        r("GET", "/cron/start", self.cron_start, op_class="noauth")
        r("POST", "/users/generate-token", self.generate_token, op_class="noauth")
        for kind, plural in PLURALS.items():
            r("POST", f"/{plural}/search", self._search(kind), op_class="read")
            r("POST", f"/{plural}/upsert/?", self._upsert_entity(kind), op_class="write")
            r("GET", f"/{plural}/get/{ID}", self._info(kind), op_class="read")
        r("POST", "/products/upsert/?", self.upsert_product, op_class="write")
        r("POST", "/products/search", self._search("product"), op_class="read")
        r("GET", f"/products/get/{ID}", self._info("product"), op_class="read")
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
        r("GET", f"/deliveries/{ID}/?", self.delivery_info, op_class="read")
        r("POST", f"/deliveries/{ID}/status", self.update_delivery_status, op_class="write")
        r("POST", f"{CONTROL}/orders", self.place_order, op_class="write")
        r("POST", f"{CONTROL}/orders/{ID}/status", self.move_order_line, op_class="write")

    # -- envelope for the base server's own errors ----------------------------------------------------------
    def error_response(self, status: int, code: str, message: str, *,
                       headers: dict[str, str] | None = None) -> Response:
        return Response(status, {"data": None, "error_code": status, "message": message}, dict(headers or {}))

    def rejected_response(self, rejected: Rejected) -> Response:
        return refusal(rejected)

    def invalid_json_response(self, request: Request, error: InvalidJSONError) -> Response:
        return Response(200, {"data": None, "error_code": VALIDATION, "message": f"invalid JSON body: {error}"})

    def before_handle(self, request: Request, route: Route) -> Response | None:
        if route.op_class == "noauth":
            return None
        token = request.bearer()
        if token is None or not self.backend.token_is_valid(token):
            return Response(401, {"data": None, "error_code": INVALID_TOKEN,
                                  "message": "missing, invalid or expired token: generate a new one"})
        return self.check_rate_limit(request, route.op_class, token)

    # -- general -------------------------------------------------------------------------------------------
    def health_check(self, request: Request) -> Response:
        return ok({"status": "ok"})

    def cron_start(self, request: Request) -> Response:
        return ok({"message": "cron started"}, message="")

    def generate_token(self, request: Request) -> Response:
        body = check_texts(request.json(), ("email", "password"), required=("email", "password"), optional=())
        token = self.backend.issue_token(body["email"], body["password"])
        return ok({"_id": USER_ID, "id": USER_ID, "vacation": False, "syncStatus": True,
                   "accountUsername": body["email"].split("@")[0], "mailAddress": body["email"], "mobileNumber": "",
                   "name": "Sandbox merchant", "password": "", "shopBrandName": "Sandbox shop", "role": "vendor",
                   "APIToken": token})

    # -- search / info -------------------------------------------------------------------------------------
    def _search(self, kind: str) -> Handler:
        def handle(request: Request) -> Response:
            body, problems = check_window(request.json(), ("start", "length", "search"))
            search = body.get("search") or {}
            if not isinstance(search, dict):
                problems.add("search", f"must be an object, got {problems.type_of(search)}")
            problems.raise_if_any()
            return ok(window(body, self.backend.search(kind, search)))

        return handle

    def _info(self, kind: str) -> Handler:
        def handle(request: Request) -> Response:
            return ok(self.backend.info(kind, request.params["id"]))

        return handle

    # -- catalogue -----------------------------------------------------------------------------------------
    def _upsert_entity(self, kind: str) -> Handler:
        def handle(request: Request) -> Response:
            return ok(self.backend.upsert_entity(kind, check_entity(kind, request.json())))

        return handle

    def upsert_product(self, request: Request) -> Response:
        return ok(self.backend.upsert_product(check_product(request.json())))

    def upsert_variant(self, request: Request) -> Response:
        body = check_variant_keys(request.json())
        with self.backend.records.transaction():
            self.backend.product_of(body["spu"])
            check_variant_body(body, new=self.backend.get("variant", body["sku"]) is None)
            return ok(self.backend.upsert_variant(body))

    def _toggle(self, kind: str, active: bool) -> Handler:
        def handle(request: Request) -> Response:
            self.backend.toggle(kind, request.params["id"], active)
            word = "enabled" if active else "disabled"
            return ok({"message": f"{kind} {request.params['id']} {word}"}, message="")

        return handle

    def update_price_stock(self, request: Request) -> Response:
        found, not_found = self.backend.update_price_stock(check_price_stock(request.json()))
        return ok({"message": f"{len(found)} variant(s) updated", "updatedCount": len(found),
                   "foundVariantsInDb": found, "notFoundVariantsInDb": not_found}, message="")

    # -- orders and transactions ---------------------------------------------------------------------------
    def unfulfilled_orders(self, request: Request) -> Response:
        body, problems = check_window(request.json())
        problems.raise_if_any()
        return ok(window(body, self.backend.unfulfilled_orders()))

    def cancel_order(self, request: Request) -> Response:
        body = check_texts(request.json(), ("reason",), required=("reason",), optional=())
        return ok(self.backend.cancel_order(request.params["id"], body["reason"]))

    def prepare_order(self, request: Request) -> Response:
        return ok(self.backend.prepare_order(request.params["id"]))

    def cancellation_reasons(self, request: Request) -> Response:
        return ok(list(CANCELLATION_REASONS))

    # -- sandbox-only control calls ------------------------------------------------------------------------
    def place_order(self, request: Request) -> Response:
        """``POST /_sandbox/orders``: a customer's order, one record per line, taking the units from stock."""
        return ok(self.backend.orders.place(check_sandbox_order(request.json())))

    def move_order_line(self, request: Request) -> Response:
        """``POST /_sandbox/orders/{POlineID}/status`` ``{"status", "reason"?}``: what Elryan, the courier or the
        customer does to a line (ship, deliver, return, cancel)."""
        body = check_texts(request.json(), ("status", "reason"), required=("status",), optional=("reason",))
        return ok(self.backend.orders.move(request.params["id"], body["status"], body.get("reason")))

    # -- packages ------------------------------------------------------------------------------------------
    def create_package(self, request: Request) -> Response:
        return ok(self.backend.create_package(check_package(request.json())))

    def cancel_package(self, request: Request) -> Response:
        return ok(self.backend.cancel_package(request.params["id"]))

    def fulfill_package(self, request: Request) -> Response:
        body = check_texts(request.json(), TRACKING_FIELDS)
        return ok(self.backend.fulfill_package(request.params["id"], body))

    def fulfill_online_package(self, request: Request) -> Response:
        body = check_texts(request.json(), ("tracking_provider", "provider"), required=("provider",),
                           optional=("tracking_provider",))
        return ok(self.backend.fulfill_package(request.params["id"], body))

    # -- deliveries (a package's: docs/elryan.md, "Fulfilment") ---------------------------------------------
    def delivery_info(self, request: Request) -> Response:
        return ok(self.backend.packages.delivery(request.params["id"]))

    def update_delivery_status(self, request: Request) -> Response:
        body = check_texts(request.json(), ("status",), required=("status",), optional=())
        return ok(self.backend.packages.set_delivery_status(request.params["id"], body["status"]))

    # -- admin ---------------------------------------------------------------------------------------------
    def dump_state(self) -> dict[str, Any]:
        return self.backend.dump()

    def seed(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise ValueError("seed with {\"orders\": [...], \"transactions\": [...], \"revoke_tokens\": true}")
        unknown = set(payload) - {"orders", "transactions", "revoke_tokens"}
        if unknown:
            raise ValueError(f"unknown seed keys: {sorted(unknown)}")
        with self.backend.records.transaction():
            if payload.get("revoke_tokens"):
                self.backend.revoke_tokens()
            for kind in ("orders", "transactions"):
                for doc in payload.get(kind) or []:
                    self.backend.seed(kind[:-1], doc)
        return {"seeded": {k: len(payload.get(k) or []) for k in ("orders", "transactions")}}


def create_sandbox(*, port: int = 0, db_path: str | None = None, keys: list[str] | None = None,
                   users: dict[str, str] | None = None, access_log: bool = False) -> ElryanSandbox:
    """An Elryan sandbox; ``users`` maps login emails to passwords (``keys``: passwords for the default
    email, as ``connector sandbox --key`` gives them)."""
    accounts = dict(users or DEFAULT_USERS)
    for i, password in enumerate(keys or []):
        accounts["merchant@example.com" if i == 0 else f"merchant{i}@example.com"] = password
    return ElryanSandbox(port=port, db_path=db_path, users=accounts, access_log=access_log)
