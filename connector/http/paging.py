"""One way to read a paged listing: by page number, by offset or by cursor, declared rather than hand-written.

A ``Paging`` says how the next request is built (which parameter carries the page number, offset or cursor,
and the page size) and where the answer keeps the items, the "more" flag, the next cursor, the total and the
page size the server applied.  The client gives one function that sends a request with the paging parameters
merged into its own; ``iter_pages`` / ``iter_items`` walk the listing.

A listing that would never end is an error, not a loop: a cursor, page number or offset asked for twice, a
"next page" without a next cursor, a page that repeats the items of an earlier one (a server ignoring the
page parameter), or more pages than ``max_pages``.

A listing declared ``checked`` does not end on its total: it ends on an empty page, a short page or a "no more"
flag, and the total is checked against what was read.  Pages that contradict their total (an empty or short page
before the total was read, more items than the total) or their flag (an empty page that says there is more) are
an error (``contradiction``), not a listing silently cut short: read as such, a catalogue would look smaller than
it is and an orders read would end before the orders it did not read.  A total that changes from page to page
is a listing that changed while it was read (an order placed or updated meanwhile): normal on a busy account, so
it is not an error (refusing it would defer a busy shop's orders read on every run), but the count is then no
longer checked against it; what such a listing may have missed is read again by the next run (the orders read's
overlap and lookback; a catalogue listing read again), and the change is logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from connector.errors import MarketplaceUnreachable

PagingStyle = Literal["page", "offset", "cursor"]
STYLES: tuple[str, ...] = ("page", "offset", "cursor")
log = logging.getLogger("connector.http")
MAX_PAGES = 10_000
"""Default page cap: 10,000 pages of 100 items is a million records, more than any catalogue read here."""


class PagingError(MarketplaceUnreachable):
    """The listing does not advance (repeated cursor, page or items) or has more pages than the cap.

    It is a ``MarketplaceUnreachable``: a listing that never ends cannot be read, and the run stops on it the
    way it stops on a server that cannot be reached.
    """


@dataclass(frozen=True, slots=True)
class Paging:
    """How one listing pages.  Paths are dotted keys into the JSON answer (``""`` is the answer itself)."""

    style: PagingStyle
    items: str = ""  # where the list of items is
    param: str | None = None  # request parameter of the page number / offset / cursor (default: the style name)
    first: int | None = None  # first page number (default 1) or offset (default 0); unused for cursors
    size: int | None = None  # page size sent with every request, when given
    size_param: str = "limit"
    has_more: str | None = None  # a flag that must be ``true`` for the listing to go on
    next_cursor: str | None = None  # the cursor of the next page (cursor style)
    total: str | None = None  # the number of items of the whole listing: reached means done
    answer_size: str | None = None  # the page size the server applied: a page shorter than it is the last
    short_page_ends: bool = False  # a page shorter than ``size`` is the last
    empty_page_ends: bool = True  # an empty page is the last
    items_required: bool = False  # an answer without its ``items`` list is an error, not an empty page
    max_pages: int = MAX_PAGES
    source: str = "the server"  # names the listing in messages: "<source> ... <what>"
    what: str = "items"
    error: Callable[[str], Exception] = PagingError  # the exception raised when the listing does not advance
    checked: bool = False  # the total does not end the listing, it is checked (see the module's docstring)
    contradiction: Callable[[str], Exception] | None = None  # raised when pages contradict (default: ``error``)

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"paging style must be one of {STYLES}, got {self.style!r}")
        if self.style == "cursor" and not self.next_cursor:
            raise ValueError("cursor paging needs the path of the next cursor in the answer")
        if self.short_page_ends and not self.size:
            raise ValueError("short_page_ends needs the page size")
        if self.max_pages < 1:
            raise ValueError("max_pages must be at least 1")

    @property
    def token_param(self) -> str:
        return self.param or self.style

    @property
    def first_token(self) -> int | None:
        if self.style == "cursor":
            return None
        if self.first is not None:
            return self.first
        return 1 if self.style == "page" else 0

    def contradicted(self, count: int, total: int | None, how: str) -> Exception:
        """The error of a listing whose pages contradict each other (``count`` items read, ``total`` stated),
        marked ``contradicted``: the listing may have changed while it was read, so a run defers what needed it
        (``connector.sync.answers``) rather than failing it."""
        said = f", total said {total}" if total is not None else ""
        exc = (self.contradiction or self.error)(
            f"{self.source}'s listing of {self.what} contradicted itself: {count} {self.what} read{said} ({how})")
        exc.contradicted = True  # type: ignore[attr-defined]
        return exc

    def request(self, token: int | str | None) -> dict[str, Any]:
        """The paging parameters of one request (the first cursor request carries no cursor)."""
        params: dict[str, Any] = {}
        if token is not None:
            params[self.token_param] = token
        if self.size is not None:
            params[self.size_param] = self.size
        return params


@dataclass(frozen=True, slots=True)
class Page:
    """One answer of a listing."""

    number: int  # 1 for the first page read
    token: int | str | None  # the page number, offset or cursor this page was asked with
    items: list[Any]
    answer: Any
    has_more: bool
    next_token: int | str | None  # what the next request carries (``None`` on the last page)


def at(answer: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a JSON answer; ``None`` when a key is missing or not an object."""
    value = answer
    for key in path.split(".") if path else ():
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def iter_pages(paging: Paging, fetch: Callable[[dict[str, Any]], Any]) -> Iterator[Page]:
    """Every page of a listing, in order.  ``fetch`` sends one request with the given paging parameters."""
    token = paging.first_token
    asked: set[int | str] = set()
    digests: dict[bytes, int] = {}
    count = 0
    number = 0
    total: int | None = None  # the last total stated (a checked listing's)
    drifted = False  # a checked listing's total changed from page to page (it changed while it was read)
    while True:
        if token is not None:
            asked.add(token)
        number += 1
        answer = fetch(paging.request(token))
        items = _items(paging, answer)
        count += len(items)
        if items:
            digest = _fingerprint(items)
            if digest in digests:
                raise paging.error(
                    f"{paging.source} answered page {number} of {paging.what} with the same items as page "
                    f"{digests[digest]}: the listing does not advance")
            digests[digest] = number
        more = not _ends(paging, answer, items, count)
        if paging.checked:
            stated = _stated(paging, answer, number, total)
            if total is not None and stated != total and not drifted:
                drifted = True
                log.info("%s's listing of %s changed while it was read (page %d: total %s, before %s): its count is "
                         "not checked against the total", paging.source, paging.what, number, stated, total)
            total = stated
            _check(paging, answer, items, (count, None if drifted else total), number, more)
        next_token = _next_token(paging, answer, token, items) if more else None
        if more and (next_token is None or next_token == "" or next_token in asked):
            if paging.style == "cursor":
                raise paging.error(f"{paging.source} said there is a next page of {paging.what} "
                                   "but sent no new cursor")
            raise paging.error(f"{paging.source} gave no way past {paging.token_param} {token} of {paging.what}: "
                               f"the next {paging.token_param} ({next_token}) was already read")
        if more and number >= paging.max_pages:
            raise paging.error(f"{paging.source} still had more {paging.what} after {paging.max_pages} pages: "
                               "stopped reading a listing that seems endless")
        yield Page(number, token, items, answer, more, next_token)
        if not more:
            return
        token = next_token


def iter_items(paging: Paging, fetch: Callable[[dict[str, Any]], Any]) -> Iterator[Any]:
    """Every item of a listing, page after page."""
    for page in iter_pages(paging, fetch):
        yield from page.items


def _fingerprint(items: list[Any]) -> bytes:
    """What tells a page from another: its length, first and last item.  Items never repeat across the pages of
    a listing, so two pages alike in these are the same page; comparing whole pages would cost a full ``repr``
    of every page (milliseconds per page of 250 supplier products)."""
    return hashlib.blake2b(repr((len(items), items[0], items[-1])).encode(), digest_size=16).digest()


def _items(paging: Paging, answer: Any) -> list[Any]:
    value = at(answer, paging.items)
    if value is None and not paging.items_required:
        return []
    if not isinstance(value, list):
        where = f"'{paging.items}'" if paging.items else "the answer"
        raise paging.error(f"{paging.source} answered a page of {paging.what} whose {where} is not a list")
    return value


def _ends(paging: Paging, answer: Any, items: list[Any], count: int) -> bool:
    if paging.empty_page_ends and not items:
        return True
    if paging.has_more is not None and at(answer, paging.has_more) is not True:
        return True
    if paging.short_page_ends and paging.size and len(items) < paging.size:
        return True
    if paging.total is not None and not paging.checked:
        total = _int(at(answer, paging.total))
        if total is not None and count >= total:
            return True
    if paging.answer_size is not None:
        applied = _int(at(answer, paging.answer_size))
        if applied and len(items) < applied:
            return True
    return paging.style == "cursor" and paging.has_more is None and not at(answer, paging.next_cursor or "")


def _stated(paging: Paging, answer: Any, number: int, before: int | None) -> int | None:
    """The total a page of a ``checked`` listing states, else the one stated before.  One that is no whole number
    is an error (``contradiction``), not a total to skip."""
    value = at(answer, paging.total) if paging.total is not None else None
    if value is None:
        return before
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise (paging.contradiction or paging.error)(
            f"{paging.source} answered page {number} of {paging.what} with the total {value!r}, not a whole number")
    return value


def _check(paging: Paging, answer: Any, items: list[Any], read: tuple[int, int | None], number: int,
           more: bool) -> None:
    """A ``checked`` listing's page against the total stated so far and its "more" flag (``more``: whether
    ``_ends`` said it is not the last page); ``read``: the items read so far and that total."""
    count, total = read
    if total is not None and count > total:
        raise paging.contradicted(count, total, f"page {number} went past the total")
    if more:
        return
    if not items and paging.has_more is not None and at(answer, paging.has_more) is True:
        raise paging.contradicted(count, total, f"page {number} was empty yet said there are more")
    if total is not None and count < total:
        page = "was empty" if not items else f"({len(items)} {paging.what}) ended the listing"
        raise paging.contradicted(count, total, f"page {number} {page} before the total was read")


def _next_token(paging: Paging, answer: Any, token: int | str | None, items: list[Any]) -> int | str | None:
    if paging.style == "page":
        return int(token or 0) + 1
    if paging.style == "offset":
        return int(token or 0) + len(items)
    cursor = at(answer, paging.next_cursor or "")
    return cursor if isinstance(cursor, str | int) and not isinstance(cursor, bool) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
