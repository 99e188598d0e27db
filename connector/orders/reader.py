"""What a marketplace's order reader provides, and the incremental pull every reader shares.

A pull reads every order created or changed since ``cursor - overlap``, and never less than the lookback
window (default 7 days): the lookback re-reads recent orders on every run, so an order an earlier run missed
(an index that lagged, a page that shifted) is found and imported, and the run reports how many were missed
(expected 0).  Orders the book still holds as open but that the window did not return (older than the window)
are re-read with ``refresh`` so a late cancellation is seen.  The new cursor is the pull's start time; it is
saved only after the orders were handed to the destination (like every cursor: design §3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from connector.orders.model import Order, iso, parse_time

CURSOR_SOURCE = "orders"


def cursor_source(marketplace: str) -> str:
    """The state cursor's source name for one marketplace's orders (the cursor's name is the account)."""
    return f"{CURSOR_SOURCE}:{marketplace}"


class OrderReader(Protocol):
    """Reads one marketplace account's orders (registered as ``MarketplacePlugin.make_order_reader``)."""

    marketplace: str

    def changed_since(self, since: datetime) -> Iterator[Order]:
        """Every order created or changed at or after ``since`` (aware UTC), reading pages to the end.  A
        marketplace whose filter is on creation time only returns those created since; ``refresh`` covers the
        rest."""
        ...

    def refresh(self, orders: Sequence[Order]) -> Iterator[Order]:
        """The current version of each of ``orders`` (known open orders the window did not return); an order
        the marketplace no longer returns is left out."""
        ...


@dataclass(slots=True)
class PullSettings:
    overlap: timedelta = timedelta(minutes=10)
    lookback: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: dict[str, object]) -> PullSettings:
        """``overlap_minutes`` and ``lookback_days`` from a profile's ``orders:`` section (validated there)."""
        overlap = settings.get("overlap_minutes", 10)
        lookback = settings.get("lookback_days", 7)
        return cls(overlap=timedelta(minutes=float(overlap)), lookback=timedelta(days=float(lookback)))  # type: ignore[arg-type]


@dataclass(slots=True)
class PullResult:
    orders: list[Order]
    since: datetime
    cursor: str  # the value to save under ``cursor_source(marketplace)`` / account once the orders are handled
    missed: list[str] = field(default_factory=list)  # keys found by the lookback that an earlier pull should have seen


def pull_window(previous_cursor: str | None, now: datetime, settings: PullSettings) -> datetime:
    """Where this pull starts: the earlier of ``cursor - overlap`` and ``now - lookback``."""
    lookback_start = now - settings.lookback
    if previous_cursor is None:
        return lookback_start
    cursor = parse_time(previous_cursor)
    assert cursor is not None
    return min(cursor - settings.overlap, lookback_start)


def pull_orders(reader: OrderReader, *, previous_cursor: str | None, known: dict[str, Order | None],
                known_open: Iterable[Order], now: datetime, settings: PullSettings) -> PullResult:
    """Read one account's orders.  ``known``: key -> the order as last seen (None when only its key is known);
    ``known_open``: the book's open orders, re-read when the window does not return them."""
    since = pull_window(previous_cursor, now, settings)
    by_key: dict[str, Order] = {}
    for order in reader.changed_since(since):
        by_key[order.key] = order  # a key seen twice (pages shifting under us) keeps the later read
    stale = [o for o in known_open if o.key not in by_key]
    if stale:
        for order in reader.refresh(stale):
            by_key[order.key] = order
    missed: list[str] = []
    if previous_cursor is not None:
        seen_before = parse_time(previous_cursor)
        assert seen_before is not None
        horizon = seen_before - settings.overlap
        missed = sorted(k for k, o in by_key.items() if k not in known and o.created_at < horizon)
    return PullResult(orders=list(by_key.values()), since=since, cursor=iso(now) or "", missed=missed)


def refresh_by_id(orders: Sequence[Order], fetch: Callable[[str], Any], read: Callable[[Any], Order], *,
                  gone: Callable[[Exception], bool]) -> Iterator[Order]:
    """``OrderReader.refresh`` for a marketplace that gets one order by its id (EcomLinx, Elebne): each of
    ``orders`` fetched again (``fetch(remote_id)``) and read (``read(record)``); an order the marketplace no
    longer has (``gone`` says so of the fetch's error, e.g. a 404) is left out, any other error is raised."""
    for known in orders:
        try:
            record = fetch(known.remote_id)
        except Exception as exc:
            if gone(exc):
                continue
            raise
        yield read(record)
