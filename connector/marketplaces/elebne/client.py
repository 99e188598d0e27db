"""Elebne Store API client (contract: docs/elebne.md).

Every method returns the ``data`` of the success envelope or raises ``ElebneError`` carrying the HTTP status,
the marketplace's error code and its own message.  Paths come from the marketplace settings, because the
update path (and a few others) are inferred, not documented.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connector.http import HttpClient, Paging, iter_items
from connector.http.reasons import answer_facts, error_text, not_json_reason
from connector.jsonutil import to_wire
from connector.marketplaces.answer_checks import AnswerCheck, list_of_objects, objects_under, one_object

if TYPE_CHECKING:  # (requests is imported by the HTTP layer when a request is sent: a dry run needs none)
    import requests

DEFAULT_PATHS = {
    "products": "/products",
    "product": "/products/{id}",  # inferred: update and get by id or externalId
    "product_stock": "/products/{id}/stock",
    "bulk_inventory": "/inventory/bulk",
    "inventory": "/inventory",
    "orders": "/orders",  # inferred: the document names "list/get orders" but shows no path
    "order": "/orders/{id}",  # inferred
}
ORDERS_SINCE_PARAM = "updatedSince"  # inferred: the list's time filter (``null`` in the settings: none)


class ElebneError(Exception):
    """An error answer from Elebne."""

    unread = False  # a success status whose body is not JSON (``reasons.answer_facts``)
    sent_once = False  # the request was not safe to repeat: the answer is that of its one attempt

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        self.status, self.code, self.message, self.details = status, code, message, details
        super().__init__(f"{code} ({status}): {message}")

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


@dataclass(slots=True)
class BulkResult:
    updated: int
    failed: int
    errors: list[dict[str, Any]] = field(default_factory=list)  # [{"externalId", "error", "code"?}]


class ElebneClient:
    def __init__(self, http: HttpClient, *, paths: dict[str, str] | None = None,
                 idempotency_header: str | None = "X-Idempotency-Key", page_limit: int = 100,
                 listing_total: str | None = "total") -> None:
        self.http = http
        self.paths = {**DEFAULT_PATHS, **(paths or {})}
        self.idempotency_header = idempotency_header
        self.page_limit = page_limit
        self.listing_total = listing_total  # where a page states the listing's total (None: nowhere)

    def _path(self, name: str, ident: str | None = None) -> str:
        path = self.paths[name]
        return path.replace("{id}", quote(ident, safe="")) if ident is not None else path

    def _call(self, method: str, path: str, op_class: str, *, shape: AnswerCheck | None = None, **kw: Any) -> Any:
        """The ``data`` of the answer; ``shape`` (default ``one_object``) says what is wrong with it, if anything:
        a wrong shape is an ``ElebneError`` naming the call, never a value the caller misreads (see ``_misshapen``)."""
        if "json" in kw:
            kw["json"] = to_wire(kw["json"])
        resp = self.http.request(method, path, op_class=op_class, **kw)
        data = _unwrap(resp)
        problem = (shape or one_object)(data)
        if problem is not None:
            raise _misshapen(resp, method, path, problem, data)
        return data

    # -- products ------------------------------------------------------------------------------------------
    def create_product(self, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """``POST /products`` with ``idempotency_key`` in the ``idempotency_header`` (retried when its answer is
        lost).  An account whose gateway takes no such header (setting ``idempotency_header: null``) gets none:
        the create is then sent once, and a lost or unreadable answer defers it (the next run's create of a
        product that was made is answered ``DUPLICATE_EXTERNAL_ID`` and adopted)."""
        if not self.idempotency_header:
            return self._call("POST", self._path("products"), "write", json=payload)
        return self._call("POST", self._path("products"), "write", json=payload, idempotency_key=idempotency_key,
                          idempotency_header=self.idempotency_header)

    def get_product(self, ident: str) -> dict[str, Any]:
        return self._call("GET", self._path("product", ident), "read")

    def update_product(self, ident: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", self._path("product", ident), "write", json=changes, idempotent=True)

    def list_products(self, page: int = 1, limit: int | None = None) -> dict[str, Any]:
        return self._call("GET", self._path("products"), "read", shape=page_of_objects,
                          params={"page": page, "limit": limit or self.page_limit})

    def iter_products(self) -> Iterator[dict[str, Any]]:
        yield from iter_items(self._paging("products"), lambda params: self.list_products(**params))

    # -- stock ---------------------------------------------------------------------------------------------
    def update_stock(self, ident: str, quantity: int | None = None,
                     variants: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if quantity is not None:
            body["quantity"] = quantity
        if variants is not None:
            body["variants"] = variants
        return self._call("PATCH", self._path("product_stock", ident), "stock", json=body, idempotent=True)

    def bulk_inventory(self, items: list[dict[str, Any]]) -> BulkResult:
        """``PATCH /inventory/bulk``: up to 200 items; per-item errors come back, the rest is applied.

        Only absolute ``set`` items are idempotent, so only those are retried after a dropped connection.
        """
        idempotent = all(item.get("mode") == "set" for item in items)
        data = self._call("PATCH", self._path("bulk_inventory"), "bulk", json={"items": items},
                          idempotent=idempotent, shape=lambda data: bulk_problem(data, items))
        return BulkResult(updated=data["updated"], failed=len(data.get("errors") or []),
                          errors=list(data.get("errors") or []))

    def list_inventory(self, *, low_stock: bool = False, page: int = 1, limit: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"page": page, "limit": limit or self.page_limit}
        if low_stock:
            params["lowStock"] = "true"
        return self._call("GET", self._path("inventory"), "read", params=params, shape=page_of_objects)

    def iter_inventory(self, *, low_stock: bool = False) -> Iterator[dict[str, Any]]:
        yield from iter_items(self._paging("inventory"),
                              lambda params: self.list_inventory(low_stock=low_stock, **params))

    # -- orders --------------------------------------------------------------------------------------------
    def list_orders(self, *, page: int = 1, limit: int | None = None, status: str | None = None,
                    updated_since: str | None = None, since_param: str | None = ORDERS_SINCE_PARAM
                    ) -> dict[str, Any]:
        """One page of orders (``data.items``, ``total``, ``page``, ``hasMore``), changed since an ISO time when
        the account's API takes a time filter (``since_param``)."""
        params: dict[str, Any] = {"page": page, "limit": limit or self.page_limit}
        if status is not None:
            params["status"] = status
        if updated_since is not None and since_param:
            params[since_param] = updated_since
        return self._call("GET", self._path("orders"), "read", params=params, shape=page_of_objects)

    def iter_orders(self, *, status: str | None = None, updated_since: str | None = None,
                    since_param: str | None = ORDERS_SINCE_PARAM) -> Iterator[dict[str, Any]]:
        yield from iter_items(self._paging("orders"), lambda params: self.list_orders(
            **params, status=status, updated_since=updated_since, since_param=since_param))

    def get_order(self, order_id: str) -> dict[str, Any]:
        return self._call("GET", self._path("order", order_id), "read")

    def _paging(self, what: str) -> Paging:
        """Elebne lists pages by number (``page``, ``limit``) until ``hasMore`` is false or a page is empty; the
        ``total`` (setting ``listing_total``) is checked: an empty page that says ``hasMore``, or fewer (or more)
        items than the total, is an ``INVALID_RESPONSE`` (``listing_contradicted``), not a listing that ended."""
        return Paging("page", items="items", size=self.page_limit, has_more="hasMore", total=self.listing_total,
                      checked=True, contradiction=listing_contradicted, source="Elebne", what=what,
                      items_required=what == "orders")


_items = objects_under("items")


def page_of_objects(data: Any) -> str | None:
    """A listing page: its ``items`` a list of objects and its ``hasMore`` true or false (a page without them is
    no "no more items": an orders read would end, its cursor moving on, before the orders it did not read)."""
    problem = _items(data)
    if problem is None and data["items"] and not isinstance(data.get("hasMore"), bool):
        return f"'hasMore' {data.get('hasMore')!r}, not true or false"
    return problem


def listing_contradicted(message: str) -> ElebneError:
    """A listing whose pages contradict their ``total`` or ``hasMore`` (the paging helper words ``message``)."""
    return ElebneError(200, "INVALID_RESPONSE", message)


def bulk_problem(data: Any, items: list[dict[str, Any]]) -> str | None:
    """A bulk answer that does not account for every item sent (``updated`` plus one error per failed item, each
    naming an item sent): read otherwise, an item the answer says nothing of would count as applied."""
    if not isinstance(data, dict):
        return "no JSON object"
    updated, errors = data.get("updated"), data.get("errors") or []
    if not list_of_objects(errors):
        return "'errors' that is no list of objects"
    counts = [updated, data.get("failed", len(errors))]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        return "no whole numbers 'updated' and 'failed'"
    sent = {str(item.get("externalId")) for item in items}
    if counts[1] != len(errors) or updated + len(errors) != len(items) or any(
            str(e.get("externalId")) not in sent for e in errors):
        return f"{updated} updated and {len(errors)} error(s) for the {len(items)} item(s) sent"
    return None


def _misshapen(resp: requests.Response, method: str, path: str, problem: str, data: Any) -> ElebneError:
    """A success answer whose JSON is not what the call answers.  A write's says neither done nor refused: it is
    ``unread`` (deferred, the next run finds out, as after a gateway's page); a read's fails the read."""
    exc = ElebneError(resp.status_code, "INVALID_RESPONSE",
                      f"Elebne answered {method} {path} with {problem} ({str(data)[:80]})")
    exc.unread, exc.sent_once = method != "GET", answer_facts(resp, data)[1]
    return exc


def _unwrap(resp: requests.Response) -> Any:
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.ok and isinstance(body, dict) and body.get("success") is not False:
        return body.get("data", body)
    exc = _error(resp, body)
    exc.unread, exc.sent_once = answer_facts(resp, body)
    raise exc


def _error(resp: requests.Response, body: Any) -> ElebneError:
    if resp.ok and body is None:  # not JSON: a gateway's page, an empty answer (the request may have been done)
        return ElebneError(resp.status_code, "INVALID_RESPONSE",
                           not_json_reason(resp.status_code, resp.headers.get("Content-Type"), resp.content))
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return ElebneError(resp.status_code, str(err.get("code") or "ERROR"), str(err.get("message") or ""),
                           err.get("details"))
    if isinstance(err, str):  # tolerate {"success": false, "error": "message"}
        return ElebneError(resp.status_code, str(body.get("code") or "ERROR"), err)
    return ElebneError(resp.status_code, f"HTTP_{resp.status_code}", error_text(resp, body))
