"""EcomLinx REST API client (contract: docs/ecomlinx.md).

Every method returns the parsed answer or raises a typed ``EcomLinxError`` (``errors.py``).  Retries on
429/5xx, ``Retry-After`` and the per-key budget live in ``connector.http``.  Paths come from the plugin
settings so a changed path is a profile edit, not a code change.

Stock is only ever set as an absolute ``quantity``: the documented relative ``adjust`` is deliberately not
offered, because a retried adjust counts twice (design §4).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from connector.http import HttpClient, Paging, iter_items
from connector.jsonutil import to_wire
from connector.marketplaces.answer_checks import AnswerCheck, objects_under, one_object
from connector.marketplaces.ecomlinx.errors import EcomLinxError, raise_for_error

OP_CLASS = "api"
"""EcomLinx limits requests per API key, reads and writes together: one budget class for every call."""

DEFAULT_PATHS = {
    "products": "/products",
    "product": "/products/{id}",
    "inventory": "/inventory",
    "inventory_sku": "/inventory/{id}",
    "orders": "/orders",
    "order": "/orders/{id}",
    "channels": "/channels",
    "channel_sync": "/channels/{id}/sync",
    "webhooks": "/webhooks",
    "webhook": "/webhooks/{id}",
}
PRODUCT_STATUSES = ("live", "suppressed", "draft", "inactive")  # listing filter
WRITABLE_STATUSES = ("live", "draft", "inactive")  # PATCH /products/{id}
INVENTORY_STATUSES = ("critical", "low", "healthy", "dead_stock")
ORDER_STATUSES = ("new", "processing", "ready", "shipped", "delivered", "cancelled", "return")
ORDER_UPDATE_STATUSES = ("processing", "ready", "shipped", "delivered", "cancelled")
MAX_PAGE_LIMIT = 100


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class EcomLinxClient:
    def __init__(self, http: HttpClient, *, paths: dict[str, str] | None = None, page_limit: int = 100,
                 listing_total: str | None = "meta.total") -> None:
        self.http = http
        self.paths = {**DEFAULT_PATHS, **(paths or {})}
        self.page_limit = max(1, min(int(page_limit), MAX_PAGE_LIMIT))
        self.listing_total = listing_total  # where a page states the listing's total (None: nowhere)

    def _path(self, name: str, ident: str | None = None) -> str:
        path = self.paths[name]
        return path.replace("{id}", quote(ident, safe="")) if ident is not None else path

    def _call(self, method: str, path: str, *, shape: AnswerCheck | None = None, **kw: Any) -> Any:
        """The parsed answer; ``shape`` says what is wrong with it, if anything: a wrong shape is an
        ``EcomLinxError`` ``invalid_response`` naming the call (``misshapen``), never a value the caller misreads."""
        if "json" in kw:
            kw["json"] = to_wire(kw["json"])
        answer = raise_for_error(self.http.request(method, path, op_class=OP_CLASS, **kw))
        problem = shape(answer) if shape is not None else None
        if problem is not None:
            raise misshapen(method, path, problem, answer)
        return answer

    # -- products ------------------------------------------------------------------------------------------
    def list_products(self, *, page: int = 1, limit: int | None = None, channel: str | None = None,
                      status: str | None = None, q: str | None = None) -> dict[str, Any]:
        """One page: ``{"data": [...], "meta": {"total", "page", "limit"}}``."""
        return self._call("GET", self._path("products"), shape=page_of_objects,
                          params=_params(page=page, limit=limit or self.page_limit, channel=channel, status=status,
                                         q=q))

    def iter_products(self, *, channel: str | None = None, status: str | None = None,
                      q: str | None = None) -> Iterator[dict[str, Any]]:
        """Every product matching the filters, page after page."""
        yield from iter_items(self._paging("products"),
                              lambda params: self.list_products(**params, channel=channel, status=status, q=q))

    def get_product(self, product_id: str) -> dict[str, Any]:
        return self._call("GET", self._path("product", product_id))

    def update_product(self, product_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """``PATCH /products/{id}``: only the fields given change (name, price, status; absolute values, so
        a retry after a dropped connection is safe)."""
        return self._call("PATCH", self._path("product", product_id), json=fields, idempotent=True)

    # -- inventory -----------------------------------------------------------------------------------------
    def list_inventory(self, *, status: str | None = None, channel: str | None = None) -> dict[str, Any]:
        """``{"data": [{"sku", "total_stock", "allocations", ...}], "summary": {...}}`` (not paged)."""
        return self._call("GET", self._path("inventory"), params=_params(status=status, channel=channel))

    def set_inventory(self, sku: str, quantity: int, allocations: dict[str, int] | None = None) -> dict[str, Any]:
        """``PATCH /inventory/{sku}`` with an absolute ``quantity`` and optional per-channel ``allocations``."""
        body: dict[str, Any] = {"quantity": quantity}
        if allocations is not None:
            body["allocations"] = allocations
        return self._call("PATCH", self._path("inventory_sku", sku), json=body, idempotent=True)

    # -- orders --------------------------------------------------------------------------------------------
    def list_orders(self, *, status: str | None = None, channel: str | None = None, since: str | None = None,
                    page: int = 1, limit: int | None = None) -> dict[str, Any]:
        """Newest first; ``since`` is the documented ``from`` filter (ISO 8601 date)."""
        return self._call("GET", self._path("orders"), shape=page_of_objects,
                          params=_params(status=status, channel=channel, page=page, limit=limit or self.page_limit,
                                         **{"from": since}))

    def iter_orders(self, *, status: str | None = None, channel: str | None = None,
                    since: str | None = None) -> Iterator[dict[str, Any]]:
        yield from iter_items(self._paging("orders"),
                              lambda params: self.list_orders(**params, status=status, channel=channel, since=since))

    def get_order(self, order_id: str) -> dict[str, Any]:
        """``GET /orders/{id}`` (inferred from ``GET /products/{id}``: the document lists none; path setting
        ``paths.order``)."""
        return self._call("GET", self._path("order", order_id), shape=one_object)

    def update_order(self, order_id: str, status: str, *, awb: str | None = None,
                     courier: str | None = None) -> dict[str, Any]:
        """``PATCH /orders/{id}``: status, and the airway bill and courier once shipped.  The answer is the order:
        one that is not at ``status`` does not say the move was made (``order_at``)."""
        body = _params(status=status, awb=awb, courier=courier)
        return self._call("PATCH", self._path("order", order_id), json=body, idempotent=True,
                          shape=lambda answer: order_at(answer, status))

    # -- channels ------------------------------------------------------------------------------------------
    def list_channels(self) -> list[dict[str, Any]]:
        return list(self._call("GET", self._path("channels"), shape=page_of_objects)["data"])

    def trigger_channel_sync(self, channel_id: str) -> dict[str, Any]:
        """``POST /channels/{id}/sync``: queues a sync job (not retried after a dropped connection: the first
        attempt may have queued one)."""
        return self._call("POST", self._path("channel_sync", channel_id))

    # -- webhooks ------------------------------------------------------------------------------------------
    def list_webhooks(self) -> list[dict[str, Any]]:
        return list(self._call("GET", self._path("webhooks"), shape=page_of_objects)["data"])

    def register_webhook(self, url: str, events: list[str], secret: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"url": url, "events": list(events)}
        if secret:
            body["secret"] = secret
        return self._call("POST", self._path("webhooks"), json=body)

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return self._call("DELETE", self._path("webhook", webhook_id))

    # -- paging --------------------------------------------------------------------------------------------
    def _paging(self, what: str) -> Paging:
        """Pages from 1 until an empty page or a page shorter than ``meta.limit``; ``meta.total`` (setting
        ``listing_total``) is checked, not trusted to end the listing: pages that contradict it are an
        ``invalid_response`` (``listing_contradicted``)."""
        return Paging("page", items="data", size=self.page_limit, total=self.listing_total, answer_size="meta.limit",
                      checked=True, contradiction=listing_contradicted, source="EcomLinx", what=what,
                      items_required=what == "orders")


page_of_objects = objects_under("data")
"""A listing: read otherwise, every SKU of the source would look missing from EcomLinx, or an orders read would end
before its orders."""


def order_at(answer: Any, status: str) -> str | None:
    """The answer to a status move: the order, at the status sent."""
    if not isinstance(answer, dict):
        return "no JSON object of the order"
    if answer.get("status") != status:
        return f"an order whose status is {answer.get('status')!r}, not {status!r}"
    return None


def listing_contradicted(message: str) -> EcomLinxError:
    """A listing whose pages contradict their ``meta.total`` (the paging helper words ``message``)."""
    return EcomLinxError(200, "invalid_response", message)


def misshapen(method: str, path: str, problem: str, answer: Any) -> EcomLinxError:
    """A 2xx answer whose JSON is not what the call answers.  A write's says neither done nor refused: it is
    ``unread`` (deferred, the next run finds out, as after a gateway's page); a read's fails the read."""
    exc = EcomLinxError(200, "invalid_response", f"EcomLinx answered {method} {path} with {problem} "
                        f"({str(answer)[:80]})")
    exc.unread = method != "GET"
    return exc
