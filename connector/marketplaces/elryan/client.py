"""Elryan Merchant API client: every operation of the document (contract: docs/elryan.md).

Authentication: ``POST`` the merchant's email and password to the token service, keep the token for the
session, send it as ``Authorization: Bearer``; when Elryan rejects it (HTTP 401/403 or an auth
``error_code``), log in again once and repeat the call.  The password is never logged nor stored.

Every method returns the ``data`` of the envelope or raises ``ElryanError`` (a 200 with ``error_code`` ≠ 0
is an error).  Operations are named; each name maps to ``"METHOD /path"`` in ``paths``: the document spells
out only some of them, the others follow its own pattern and can be overridden from the marketplace settings
(``INFERRED`` lists which).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from connector.http import HttpClient, Paging, bearer, iter_items
from connector.jsonutil import to_wire
from connector.marketplaces.answer_checks import list_of_objects
from connector.marketplaces.elryan.errors import ElryanError, unwrap

DEFAULT_PATHS: dict[str, str] = {
    # general
    "health_check": "GET /health-check",
    "generate_token": "POST /users/generate-token",
    "cron_start": "GET /cron/start",
    # categories
    "search_categories": "POST /categories/search",
    "upsert_category": "POST /categories/upsert/",
    "category_info": "GET /categories/get/{id}",
    # brands
    "search_brands": "POST /brands/search",
    "upsert_brand": "POST /brands/upsert",
    "brand_info": "GET /brands/get/{id}",
    # attributes and their values
    "search_attributes": "POST /attributes/search",
    "upsert_attribute": "POST /attributes/upsert",
    "attribute_info": "GET /attributes/get/{id}",
    "search_attribute_values": "POST /attribute-values/search",
    "upsert_attribute_value": "POST /attribute-values/upsert",
    "attribute_value_info": "GET /attribute-values/get/{id}",
    # products and variants
    "upsert_product": "POST /products/upsert",
    "search_products": "POST /products/search",
    "product_info": "GET /products/get/{id}",
    "enable_product": "GET /products/enable/{id}",
    "disable_product": "GET /products/disable/{id}",
    "upsert_variant": "POST /variants/upsert",
    "search_variants": "POST /variants/search",
    "variant_info": "GET /variants/get/{id}",
    "enable_variant": "GET /variants/enable/{id}",
    "disable_variant": "GET /variants/disable/{id}",
    "update_price_stock": "POST /variants/price-stock",
    # orders and transactions
    "search_orders": "POST /orders/search",
    "order_details": "GET /orders/get/{id}",
    "unfulfilled_orders": "POST /orders/unfulfilled",
    "cancel_order": "PUT /orders/cancel/{id}",
    "prepare_order_items": "GET /orders/prepare/{id}",
    "cancellation_reasons": "GET /orders/cancel-reasons",
    "search_transactions": "POST /transactions/search",
    "transaction_info": "GET /transactions/get/{id}",
    # packages, tracking, deliveries
    "search_packages": "POST /packages/search",
    "create_package": "POST /packages/create",
    "package_info": "GET /packages/{id}",
    "cancel_package": "GET /packages/cancel/{id}",
    "fulfill_package": "POST /packages/fulfill/{id}",
    "fulfill_online_package": "POST /packages/fulfill-online/{id}",
    "search_tracking": "POST /tracking/search",
    "upsert_tracking": "POST /tracking/upsert",
    "tracking_info": "GET /tracking/get/{id}",
    "delivery_info": "GET /deliveries/{id}/",
    "update_delivery_event": "POST /deliveries/{id}/event-info",
    "update_delivery_status": "POST /deliveries/{id}/status",
}

DOCUMENTED = frozenset({
    "health_check", "cron_start", "search_categories", "upsert_category", "search_brands", "upsert_brand",
    "search_attributes", "upsert_attribute", "attribute_info", "search_products", "variant_info",
    "cancel_order", "search_transactions", "search_packages", "package_info", "fulfill_package",
    "delivery_info",
})
"""Operations whose method and path the document spells out; every other one is inferred (docs/elryan.md)."""
INFERRED = frozenset(DEFAULT_PATHS) - DOCUMENTED

ORDER_FILTERS: dict[str, str] = {
    "updated_from": "updatedFrom", "updated_to": "updatedTo", "created_from": "dateFrom", "created_to": "dateTo"}
"""The order search's date filters (inferred: the document's sample leaves ``search`` empty): ``updated_*`` take
an ISO 8601 UTC time and filter on ``updatedTime``, ``created_*`` a ``YYYY-MM-DD`` day (Elryan's local day) and
filter on ``dateISO``; both bounds inclusive.  The setting ``order_filters`` renames them."""

NO_AUTH = frozenset({"health_check", "generate_token", "cron_start"})
SAFE_POSTS = frozenset({"generate_token", "update_price_stock", "unfulfilled_orders"})
"""POSTs safe to send again after a dropped connection, besides searches and upserts by remote id: the
absolute price & stock update, the login (a second login only hands out another token), so a login dropped
once is retried like any safe call, and the unfulfilled orders list (a read sent as a POST, like the searches)."""

def _op_class(name: str) -> str:
    """Budget class of an operation (the document gives no limits; the classes split the report's counts)."""
    if name == "update_price_stock":
        return "stock"
    if name.startswith("search_") or name.endswith("_info") or name in ("health_check", "order_details",
                                                                        "unfulfilled_orders",
                                                                        "cancellation_reasons"):
        return "read"
    if name == "generate_token":
        return "auth"
    return "write"


@dataclass(slots=True)
class PriceStockResult:
    """Answer of the price & stock update: which SKUs Elryan found and which it did not."""

    updated_count: int
    found: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    message: str = ""


class ElryanClient:
    def __init__(self, http: HttpClient, *, email: str, password: str, paths: dict[str, str] | None = None,
                 page_length: int = 100, order_filters: dict[str, str] | None = None,
                 orders_short_page_ends: bool = False) -> None:
        self.http = http
        self.orders_to_empty = not orders_short_page_ends  # an orders read ends on an empty page only
        self.order_filters = {**ORDER_FILTERS, **(order_filters or {})}
        self.email = email
        self._password = password
        self.paths = {**DEFAULT_PATHS, **(paths or {})}
        self.page_length = page_length
        self._token: str | None = None
        self._lock = threading.Lock()
        self.logins = 0  # how many tokens this client asked for (tests, report)
        for name, spec in self.paths.items():
            method, _, path = str(spec).partition(" ")
            if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE") or not path.startswith("/"):
                raise ValueError(f"Elryan path setting {name!r} must look like 'POST /products/upsert', got {spec!r}")

    def __repr__(self) -> str:  # never show the password
        return f"ElryanClient(base={self.http.base_url!r}, email={self.email!r})"

    # -- plumbing --------------------------------------------------------------------------------------------
    def _route(self, name: str, ident: str | int | None) -> tuple[str, str]:
        method, _, path = self.paths[name].partition(" ")
        if "{id}" in path:
            if ident is None or str(ident) == "":
                raise ValueError(f"{name} needs an id")
            path = path.replace("{id}", quote(str(ident), safe=""))
        return method.upper(), path

    def call(self, name: str, ident: str | int | None = None, body: Any = None) -> Any:
        """Run the named operation; renews the token once if Elryan rejects it."""
        method, path = self._route(name, ident)
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["json"] = to_wire(body)
        idempotent = method != "POST" or name in SAFE_POSTS or name.startswith(("search_", "upsert_"))
        if name in NO_AUTH:
            return unwrap(self.http.request(method, path, op_class=_op_class(name), idempotent=idempotent,
                                             **kwargs))
        token = self.token()
        try:
            return unwrap(self.http.request(method, path, op_class=_op_class(name), idempotent=idempotent,
                                             headers=bearer(token), **kwargs))
        except ElryanError as exc:
            if not exc.auth_rejected:
                raise
        token = self.token(renew_after=token)
        return unwrap(self.http.request(method, path, op_class=_op_class(name), idempotent=idempotent,
                                         headers=bearer(token), **kwargs))

    def token(self, renew_after: str | None = None) -> str:
        """The cached token, or a new one (when there is none, or ``renew_after`` was rejected)."""
        with self._lock:
            if self._token is not None and self._token != renew_after:
                return self._token
            self._token = None
            data = self.generate_token()
            token = data.get("APIToken") if isinstance(data, dict) else None
            if not token:
                raise ElryanError(200, None, "the token service answered without an APIToken")
            self._token = str(token)
            return self._token

    def generate_token(self) -> dict[str, Any]:
        """``Users / Generate Token``: exchange email and password for a bearer token (counts as a login)."""
        self.logins += 1
        data = self.call("generate_token", body={"email": self.email, "password": self._password})
        return data if isinstance(data, dict) else {}

    def _search(self, name: str, search: dict[str, Any] | None, start: int, length: int | None) -> list[Any]:
        data = self.call(name, body={"start": start, "length": length or self.page_length, "search": search or {}})
        return _results(name, data)

    def _paging(self, what: str, *, to_empty: bool = False) -> Paging:
        """``start`` moves on by the results received.  ``to_empty``: the listing ends on an empty page only (an
        orders read), not on a page shorter than ``length`` (Elryan may send fewer than asked: ending there would
        drop the rest without a word); otherwise a short page ends it."""
        return Paging("offset", param="start", size=self.page_length, size_param="length",
                      short_page_ends=not to_empty, source="Elryan", what=what)

    def iter_search(self, name: str, search: dict[str, Any] | None = None, *,
                    to_empty: bool = False) -> Iterator[dict[str, Any]]:
        """Every result of a ``search_*`` operation, page by page (``start``/``length``) until a short page (with
        ``to_empty``: until an empty page)."""
        paging = self._paging(f"{name.removeprefix('search_')} results", to_empty=to_empty)
        yield from iter_items(paging, lambda params: self._search(name, search, params["start"], params["length"]))

    # -- general ---------------------------------------------------------------------------------------------
    def health_check(self) -> dict[str, Any]:
        return self.call("health_check") or {}

    def cron_start(self) -> Any:
        return self.call("cron_start")

    # -- categories, brands, attributes, attribute values --------------------------------------------------
    def search_categories(self, search: dict[str, Any] | None = None, start: int = 0,
                          length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_categories", search, start, length)

    def upsert_category(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("upsert_category", body=body)

    def category_info(self, remote_id: str) -> dict[str, Any]:
        return self.call("category_info", remote_id)

    def search_brands(self, search: dict[str, Any] | None = None, start: int = 0,
                      length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_brands", search, start, length)

    def upsert_brand(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("upsert_brand", body=body)

    def brand_info(self, remote_id: str) -> dict[str, Any]:
        return self.call("brand_info", remote_id)

    def search_attributes(self, search: dict[str, Any] | None = None, start: int = 0,
                          length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_attributes", search, start, length)

    def upsert_attribute(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("upsert_attribute", body=body)

    def attribute_info(self, remote_id: str) -> dict[str, Any]:
        return self.call("attribute_info", remote_id)

    def search_attribute_values(self, search: dict[str, Any] | None = None, start: int = 0,
                                length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_attribute_values", search, start, length)

    def upsert_attribute_value(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("upsert_attribute_value", body=body)

    def attribute_value_info(self, remote_id: str) -> dict[str, Any]:
        return self.call("attribute_value_info", remote_id)

    # -- products and variants -------------------------------------------------------------------------------
    def upsert_product(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("upsert_product", body=body)

    def search_products(self, search: dict[str, Any] | None = None, start: int = 0,
                        length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_products", search, start, length)

    def product_info(self, spu: str) -> dict[str, Any]:
        return self.call("product_info", spu)

    def enable_product(self, spu: str) -> Any:
        return self.call("enable_product", spu)

    def disable_product(self, spu: str) -> Any:
        return self.call("disable_product", spu)

    def upsert_variant(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("upsert_variant", body=body)

    def search_variants(self, search: dict[str, Any] | None = None, start: int = 0,
                        length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_variants", search, start, length)

    def variant_info(self, sku: str) -> dict[str, Any]:
        return self.call("variant_info", sku)

    def enable_variant(self, sku: str) -> Any:
        return self.call("enable_variant", sku)

    def disable_variant(self, sku: str) -> Any:
        return self.call("disable_variant", sku)

    def update_price_stock(self, items: list[dict[str, Any]]) -> PriceStockResult:
        """One request: absolute stock and prices per SKU; Elryan answers which SKUs it found."""
        data = self.call("update_price_stock", body={"items": items}) or {}
        return PriceStockResult(updated_count=int(data.get("updatedCount") or 0),
                                found=[str(s) for s in data.get("foundVariantsInDb") or []],
                                not_found=[str(s) for s in data.get("notFoundVariantsInDb") or []],
                                message=str(data.get("message") or ""))

    # -- orders and transactions -----------------------------------------------------------------------------
    def search_orders(self, search: dict[str, Any] | None = None, start: int = 0,
                      length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_orders", search, start, length)

    def order_details(self, po_line_id: str) -> dict[str, Any]:
        return self.call("order_details", po_line_id)

    def iter_orders(self, search: dict[str, Any] | None = None, *, updated_from: datetime | None = None,
                    updated_to: datetime | None = None, created_from: date | None = None,
                    created_to: date | None = None) -> Iterator[dict[str, Any]]:
        """Every order line the search finds, pages read to the end; the date filters (``ORDER_FILTERS``) are
        added to ``search``: times as ISO 8601 UTC, days as ``YYYY-MM-DD``."""
        wanted = dict(search or {})
        for name, value in (("updated_from", updated_from), ("updated_to", updated_to)):
            if value is not None:
                wanted[self.order_filters[name]] = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        for name, day in (("created_from", created_from), ("created_to", created_to)):
            if day is not None:
                wanted[self.order_filters[name]] = day.isoformat()
        yield from self.iter_search("search_orders", wanted, to_empty=self.orders_to_empty)

    def unfulfilled_orders(self, start: int = 0, length: int | None = None) -> list[dict[str, Any]]:
        data = self.call("unfulfilled_orders", body={"start": start, "length": length or self.page_length})
        return _results("unfulfilled_orders", data if data else [])

    def iter_unfulfilled_orders(self) -> Iterator[dict[str, Any]]:
        """Every unfulfilled order line, pages read to an empty page (``orders_short_page_ends``: a short one)."""
        yield from iter_items(self._paging("unfulfilled order lines", to_empty=self.orders_to_empty),
                              lambda params: self.unfulfilled_orders(params["start"], params["length"]))

    def cancel_order(self, po_line_id: str, reason: str) -> dict[str, Any]:
        return self.call("cancel_order", po_line_id, body={"reason": reason})

    def prepare_order_items(self, po_line_id: str) -> Any:
        return self.call("prepare_order_items", po_line_id)

    def cancellation_reasons(self) -> list[str]:
        return [str(r) for r in self.call("cancellation_reasons") or []]

    def search_transactions(self, search: dict[str, Any] | None = None, start: int = 0,
                            length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_transactions", search, start, length)

    def transaction_info(self, transaction_id: str) -> dict[str, Any]:
        return self.call("transaction_info", transaction_id)

    # -- packages, tracking, deliveries ----------------------------------------------------------------------
    def search_packages(self, search: dict[str, Any] | None = None, start: int = 0,
                        length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_packages", search, start, length)

    def package_by_remote_id(self, remote_id: str) -> dict[str, Any] | None:
        """The package we created with ``remote_id`` (the documented search filter), or None."""
        return next((p for p in self.search_packages({"remote_id": remote_id})
                     if isinstance(p, dict) and p.get("remote_id") == remote_id), None)

    def create_package(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("create_package", body=body)

    def package_info(self, package_id: str | int) -> dict[str, Any]:
        return self.call("package_info", package_id)

    def cancel_package(self, package_id: str | int) -> dict[str, Any]:
        return self.call("cancel_package", package_id)

    def fulfill_package(self, package_id: str | int, tracking: dict[str, Any]) -> dict[str, Any]:
        return self.call("fulfill_package", package_id, body=tracking)

    def fulfill_online_package(self, package_id: str | int, provider: str) -> dict[str, Any]:
        return self.call("fulfill_online_package", package_id,
                         body={"tracking_provider": provider, "provider": provider})

    def search_tracking(self, search: dict[str, Any] | None = None, start: int = 0,
                        length: int | None = None) -> list[dict[str, Any]]:
        return self._search("search_tracking", search, start, length)

    def upsert_tracking(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("upsert_tracking", body=body)

    def tracking_info(self, tracking_id: str) -> dict[str, Any]:
        return self.call("tracking_info", tracking_id)

    def delivery_info(self, delivery_id: str | int) -> dict[str, Any]:
        return self.call("delivery_info", delivery_id)

    def update_delivery_event(self, delivery_id: str | int, delivery_info: dict[str, Any]) -> dict[str, Any]:
        return self.call("update_delivery_event", delivery_id, body={"delivery_info": delivery_info})

    def update_delivery_status(self, delivery_id: str | int, status: str) -> dict[str, Any]:
        return self.call("update_delivery_status", delivery_id, body={"status": status})


def _results(name: str, data: Any) -> list[dict[str, Any]]:
    """A page of results: a list of objects.  Anything else (an object, a list of texts) is no "no results" and
    no crash further on: an error naming the operation, and a read that stopped on it keeps its cursor."""
    if not list_of_objects(data):
        raise ElryanError(200, None, f"{name} answered without a list of results ({str(data)[:80]})")
    return data
