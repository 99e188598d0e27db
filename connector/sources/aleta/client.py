"""HTTP client of the Aleta B2B API (read-only): health, products, single SKU, stock, locations.

Auth is ``Authorization: Bearer b2b_...`` by default; ``auth="query"`` sends ``?api_key=b2b_...`` instead,
as the document allows.  The query form never reaches our logs or reports: the shared HTTP layer logs paths
without query strings, error messages here never quote a URL, and a filter on urllib3's logger (which logs
full URLs at debug level) masks ``api_key=``.

JSON is parsed with ``parse_float=Decimal``: a number is never a float here.  Money stays a string until
``pricing.parse_money`` makes it a ``Decimal``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from connector.errors import EXIT_PARTIAL, MarketplaceUnreachable, SourceError
from connector.http import HttpClient, Paging, RateLimitedTooLong, TransportError, bearer, iter_pages
from connector.http.client import RETRY_STATUSES
from connector.http.paging import at
from connector.marketplaces.answer_checks import one_object

log = logging.getLogger("connector.sources.aleta")

MAX_PAGE_LIMIT = 250
_SECRET_QUERY = re.compile(r"(api_key=)[^&\s\"']+", re.I)


class _RedactApiKey(logging.Filter):
    """Masks ``api_key=...`` in records of loggers that print full URLs (urllib3 at debug level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "api_key=" in message.lower():
            record.msg, record.args = _SECRET_QUERY.sub(r"\1***", message), ()
        return True


_REDACT = _RedactApiKey()
for _name in ("urllib3.connectionpool", "urllib3", "requests"):
    _logger = logging.getLogger(_name)
    if _REDACT not in _logger.filters:
        _logger.addFilter(_REDACT)


class AletaError(SourceError):
    """Aleta answered with an error (other than a refused key, which is ``MarketplaceUnreachable``)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class AletaAnswerError(AletaError):
    """An answer that cannot be read (not JSON, the wrong shape, still 429/5xx after the retries) or a listing
    whose pages contradict each other: nothing is sent, the run ends deferred (exit 3) and the next one reads
    again.  Read as it came, a catalogue would look smaller than it is (products taken for withdrawn, stock 0)."""

    exit_code = EXIT_PARTIAL

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(f"{message}; nothing sent, the next run reads again", status=status, code=code)


class UrlTooLong(AletaError):
    """HTTP 414: the server refused the request line; the caller splits the batch."""


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (``2026-03-13T14:00:00Z``) to an aware UTC datetime; ``None`` when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ReadStats:
    """What the source tells the report and the benchmark about its traffic."""

    requests: dict[str, int] = field(default_factory=dict)  # per endpoint: health, products, stock, ...
    cached_responses: int = 0
    max_cache_age: int = 0
    # The oldest moment the data we read reflects: generated_at minus cache_age_seconds, over every response.
    data_as_of: datetime | None = None

    def count(self, endpoint: str) -> None:
        self.requests[endpoint] = self.requests.get(endpoint, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def saw_meta(self, meta: Any, sent_at: datetime) -> None:
        meta = meta if isinstance(meta, dict) else {}
        generated = parse_time(meta.get("generated_at")) or sent_at
        age = meta.get("cache_age_seconds")
        age = int(age) if isinstance(age, int | Decimal) and not isinstance(age, bool) and age > 0 else 0
        if meta.get("cached") is True:
            self.cached_responses += 1
        self.max_cache_age = max(self.max_cache_age, age)
        as_of = min(generated, sent_at + timedelta(seconds=5)) - timedelta(seconds=age)
        if self.data_as_of is None or as_of < self.data_as_of:
            self.data_as_of = as_of


@dataclass
class ProductPage:
    products: list[dict[str, Any]]
    has_next_page: bool
    cursor: str | None
    meta: dict[str, Any]


class AletaClient:
    """Calls of the documented endpoints over the shared HTTP layer (retries, timeouts, Retry-After)."""

    def __init__(self, http: HttpClient, api_key: str, *, auth: str = "header",
                 stock_url_limit: int = 4000) -> None:
        if auth not in ("header", "query"):
            raise ValueError("auth must be 'header' or 'query'")
        self.http = http
        self._key = api_key
        self.auth = auth
        self.stock_url_limit = stock_url_limit
        self.stats = ReadStats()

    @classmethod
    def connect(cls, api_base: str, api_key: str, *, auth: str = "header", timeout: float = 30.0,
                max_retries: int = 5, stock_url_limit: int = 4000) -> AletaClient:
        headers_auth = (lambda: bearer(api_key)) if auth == "header" else None
        http = HttpClient(api_base, auth=headers_auth, timeout=(5.0, timeout), max_retries=max_retries)
        return cls(http, api_key, auth=auth, stock_url_limit=stock_url_limit)

    def close(self) -> None:
        self.http.close()

    # -- plumbing --------------------------------------------------------------------------------------------

    def _url(self, path: str, params: Iterable[tuple[str, Any]] = (), *, with_key: bool = True) -> str:
        """``path?query`` with values percent-encoded; ``sku`` lists keep their commas."""
        parts = []
        for name, value in params:
            if value is None or value == "":
                continue
            if name == "sku" and isinstance(value, list | tuple):
                parts.append("sku=" + ",".join(quote(str(s), safe="") for s in value))
            else:
                parts.append(f"{name}={quote(str(value), safe='')}")
        if self.auth == "query" and with_key:
            parts.append("api_key=" + quote(self._key, safe=""))
        return path + ("?" + "&".join(parts) if parts else "")

    def _get(self, endpoint: str, path: str, params: Iterable[tuple[str, Any]] = (), *,
             allow_404: bool = False, with_key: bool = True, what: str = "") -> dict[str, Any] | None:
        """The answer's JSON object; ``what`` names the request in messages (``page 2 of products``)."""
        url = self._url(path, params, with_key=with_key)
        self.stats.count(endpoint)
        sent_at = datetime.now(UTC)
        try:
            resp = self.http.request("GET", url, op_class="read")
        except TransportError as exc:
            raise MarketplaceUnreachable(f"Aleta could not be reached: {exc}") from None
        except RateLimitedTooLong as exc:
            raise MarketplaceUnreachable(f"Aleta asks to wait {exc.retry_after:.0f}s: try again later") from None
        shown = path + (f" ({what})" if what else "")  # never the query string
        if resp.status_code == 404 and allow_404:
            return None
        if resp.status_code in (401, 403):
            key_env = "the key" if self.auth == "header" else "the key (sent in the query string)"
            raise MarketplaceUnreachable(
                f"Aleta refused {key_env} on GET {shown} (HTTP {resp.status_code}: {_message(resp)}); "
                "check the environment variable named by 'api_key_env' (default ALETA_API_KEY)")
        if resp.status_code == 414:
            raise UrlTooLong(f"Aleta refused a URL of {len(url)} characters on GET {shown} (HTTP 414)", status=414)
        if resp.status_code in RETRY_STATUSES:
            raise AletaAnswerError(f"Aleta still answered HTTP {resp.status_code} on GET {shown} after retries: "
                                   f"{_message(resp)}", status=resp.status_code, code=_code(resp))
        if resp.status_code >= 400:
            raise AletaError(f"Aleta answered HTTP {resp.status_code} on GET {shown}: {_message(resp)}",
                             status=resp.status_code, code=_code(resp))
        try:
            body = resp.json(parse_float=Decimal)
        except ValueError:
            raise AletaAnswerError(f"Aleta answered GET {shown} with something that is not JSON (an HTML page, a "
                                   "body cut short)") from None
        if (wrong := one_object(body)) is not None:
            raise AletaAnswerError(f"Aleta answered GET {shown} with {wrong}")
        if "meta" in body:
            self.stats.saw_meta(body.get("meta"), sent_at)
        return body

    # -- endpoints -------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /health`` (auth optional): status, version, shopify_api_version, timestamp, client_id."""
        body = self._get("health", "/health")
        assert body is not None
        return body

    def product_pages(self, *, status: str | None = "active", vendor: str | None = None, sku: str | None = None,
                      updated_since: datetime | None = None, limit: int = MAX_PAGE_LIMIT) -> Iterator[ProductPage]:
        """``GET /products`` page by page, following ``pagination.cursor`` while ``has_next_page``."""
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_LIMIT}")
        filters = [("status", status), ("vendor", vendor), ("sku", sku),
                   ("updated_since", format_time(updated_since) if updated_since else None)]
        paging = Paging("cursor", items="data", size=limit, has_more="pagination.has_next_page",
                        next_cursor="pagination.cursor", empty_page_ends=False, source="Aleta", what="products",
                        error=AletaAnswerError)
        asked = 0

        def fetch(params: dict[str, Any]) -> dict[str, Any]:
            nonlocal asked
            asked += 1
            what = f"page {asked} of {status or 'all'} products"
            body = self._get("products", "/products",
                             [("limit", params["limit"]), *filters, ("cursor", params.get("cursor"))], what=what)
            assert body is not None
            if not isinstance(body.get("data"), list):
                raise AletaAnswerError(f"Aleta answered GET /products ({what}) without a 'data' list")
            return body

        fetched = 0
        counts: bool | None = None  # whether total_fetched counts the products returned (page 1 says)
        for page in iter_pages(paging, fetch):
            fetched += len(page.items)
            counts = _check_product_page(page.number, page.items, fetched, page.answer, counts)
            yield ProductPage(list(page.items), page.has_more,
                              None if page.next_token is None else str(page.next_token),
                              page.answer.get("meta") or {})

    def products(self, **filters: Any) -> list[dict[str, Any]]:
        return [p for page in self.product_pages(**filters) for p in page.products]

    def product(self, sku: str) -> dict[str, Any] | None:
        """``GET /products/{sku}``: the parent product with that variant; ``None`` when unknown."""
        body = self._get("product", "/products/" + quote(sku, safe=""), allow_404=True)
        data = body.get("data") if body else None
        return data if isinstance(data, dict) else None

    def stock_one(self, sku: str) -> dict[str, Any] | None:
        """``GET /stock/{sku}``: one SKU across all locations; ``None`` when unknown."""
        body = self._get("stock", "/stock/" + quote(sku, safe=""), allow_404=True)
        if body is None:
            return None
        return _stock_rows([body.get("data")], "GET /stock/{sku}")[0]

    def stock(self, skus: Iterable[str], *, location_id: str | None = None,
              low_stock: int | None = None) -> list[dict[str, Any]]:
        """``GET /stock?sku=A,B,...`` in batches that keep each URL under ``stock_url_limit`` characters.

        A SKU holding a comma cannot travel in the list: it is read with ``GET /stock/{sku}``.  A 414 answer
        splits the batch in two and tries again.  A SKU a batch's answer leaves out is asked again alone with
        ``GET /stock/{sku}``: an answer cut short (an empty list, rows dropped) would otherwise list its SKUs at 0;
        only Aleta's 404 for that SKU alone makes it a SKU without a stock row.
        """
        rows: list[dict[str, Any]] = []
        listed, single = [], []
        for sku in dict.fromkeys(skus):
            (single if "," in sku else listed).append(sku)
        extra = [("location_id", location_id), ("low_stock", low_stock)]
        for batch in self.stock_batches(listed, extra):
            rows.extend(self._stock_batch(batch, extra))
        if low_stock is None:  # (a low_stock filter leaves rows out on purpose)
            answered = {row["sku"] for row in rows}
            single += [sku for sku in listed if sku not in answered]
        for sku in single:
            row = self.stock_one(sku)
            if row is not None:
                rows.append(_filter_locations(row, location_id, low_stock))
        return rows

    def stock_batches(self, skus: list[str], extra: list[tuple[str, Any]] | None = None) -> list[list[str]]:
        """Split ``skus`` so that every ``/stock`` URL (base URL included) stays within the limit."""
        fixed = len(self.http.base_url) + len(self._url("/stock", [("sku", ["x"]), *(extra or [])])) - 1
        budget = self.stock_url_limit - fixed
        batches: list[list[str]] = []
        current: list[str] = []
        used = 0
        for sku in skus:
            cost = len(quote(sku, safe="")) + (1 if current else 0)
            if current and used + cost > budget:
                batches.append(current)
                current, used, cost = [], 0, cost - 1
            current.append(sku)
            used += cost
        if current:
            batches.append(current)
        return batches

    def _stock_batch(self, batch: list[str], extra: list[tuple[str, Any]]) -> list[dict[str, Any]]:
        try:
            body = self._get("stock", "/stock", [("sku", batch), *extra])
        except UrlTooLong:
            if len(batch) == 1:
                raise
            half = len(batch) // 2
            return self._stock_batch(batch[:half], extra) + self._stock_batch(batch[half:], extra)
        assert body is not None
        data = body.get("data")
        if not isinstance(data, list):
            raise AletaAnswerError(f"Aleta answered GET /stock (a batch of {len(batch)} SKU(s) from "
                                   f"{str(batch[0])[:80]!r}) without a 'data' list")
        return _stock_rows(data, "GET /stock")

    def locations(self) -> list[dict[str, Any]]:
        """``GET /locations``: the active locations (id, name, is_active)."""
        body = self._get("locations", "/locations")
        data = body.get("data") if body else None
        if not isinstance(data, list):
            raise AletaAnswerError("Aleta answered GET /locations without a 'data' list")
        return [loc for loc in data if isinstance(loc, dict)]


def _check_product_page(number: int, items: list[Any], fetched: int, answer: dict[str, Any],
                        counts: bool | None) -> bool:
    """Refuse a page of products that does not hold what it announces; returns whether ``total_fetched`` counts
    the products returned (``counts`` for the pages after the first).

    A product missing from a listing is read as withdrawn (disabled, stock 0 on every marketplace), so a page
    cut short must stop the read rather than be taken for products removed.  ``pagination.total_fetched`` is
    inferred to be the count of products returned so far (docs/aleta.md); the document's one example cannot
    tell that from the page's own size, so either is accepted.  What the first page says decides whether the
    count is checked at all: a server whose ``total_fetched`` means something else there (a grand total, a
    count before filtering) is never refused for it.  An item that is not an object, or a product without its
    ``variants`` list, cannot be read as a product either.
    """
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise AletaAnswerError(f"Aleta answered page {number} of products with item {i} that is not a product "
                                   f"object ({type(item).__name__}): nothing is taken as removed")
        if not isinstance(item.get("variants"), list):  # its SKUs would look gone from the feed
            raise AletaAnswerError(f"Aleta answered page {number} of products with product "
                                   f"{str(item.get('id'))[:80]!r} without a 'variants' list: nothing is taken as "
                                   "removed")
    announced = at(answer, "pagination.total_fetched")
    if not isinstance(announced, int) or isinstance(announced, bool):
        return bool(counts)
    matches = announced in (fetched, len(items))
    if counts is None:  # the first page: on it both meanings are the page's size
        if not matches:
            log.debug("Aleta's total_fetched (%s) is not the first page's %d products: not checked", announced,
                      len(items))
        return matches
    if counts and not matches:
        raise AletaAnswerError(f"Aleta answered page {number} of products with {len(items)} product(s) ({fetched} so "
                               f"far) but pagination.total_fetched {announced}: a listing cut short would be taken "
                               "for products removed; nothing is taken as removed")
    return counts


def _stock_rows(rows: list[Any], call: str) -> list[dict[str, Any]]:
    """Stock rows as they must be: an object with its ``sku`` and a ``locations`` list.  A row that is not is
    refused rather than dropped or read as no location: its SKU would be listed at 0 on every marketplace."""
    for row in rows:
        if not (isinstance(row, dict) and isinstance(row.get("sku"), str) and row["sku"]
                and isinstance(row.get("locations"), list)):
            shown = str(row.get("sku"))[:80] if isinstance(row, dict) else type(row).__name__
            raise AletaAnswerError(f"Aleta answered {call} with a stock row without its SKU or 'locations' list "
                                   f"({shown!r}): no stock is taken as 0")
    return rows


def _filter_locations(row: dict[str, Any], location_id: str | None, low_stock: int | None) -> dict[str, Any]:
    """What ``/stock`` filters server-side, done for a row read with ``/stock/{sku}``."""
    if location_id is None and low_stock is None:
        return row
    locations = [loc for loc in row.get("locations") or [] if isinstance(loc, dict)
                 and (location_id is None or loc.get("location_id") == location_id)
                 and (low_stock is None or (loc.get("quantities") or {}).get("available", 0) <= low_stock)]
    return {**row, "locations": locations}


def _error_field(resp: requests.Response, name: str) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        value = err.get(name)
        return str(value) if value is not None else None
    if name == "message":
        if isinstance(err, str):
            return err
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return body["message"]
    return None


def _message(resp: requests.Response) -> str:
    text = _error_field(resp, "message") or (resp.reason or "error")
    return _SECRET_QUERY.sub(r"\1***", text)[:300]


def _code(resp: requests.Response) -> str | None:
    return _error_field(resp, "code")
