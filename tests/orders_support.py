"""Pulling a marketplace's orders the way a run does: the book and the cursor kept in a real state file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.http import HttpClient
from connector.marketplaces.base import MarketplacePlugin
from connector.orders.book import OrderBook
from connector.orders.reader import PullResult, PullSettings, cursor_source, pull_orders
from connector.sync.session import merge_settings
from connector.sync.state.store import StateStore


def order_reader(plugin: MarketplacePlugin, base_url: str, key: str, *, account: str = "main",
                 settings: dict[str, Any] | None = None, secret: str = "") -> Any:
    """The plugin's order reader for one account, over a plain HTTP client (no budget: sandboxes only)."""
    http = HttpClient(base_url, auth=lambda: plugin.auth_headers(key), max_retries=0)
    assert plugin.make_order_reader is not None
    return plugin.make_order_reader(http, merge_settings(plugin.settings, settings or {}), account, secret)


def pull(reader: Any, state_path: Path, *, now: datetime | None = None, account: str = "main",
         settings: PullSettings | None = None) -> PullResult:
    """One pull: the cursor and the orders known from the state, the orders remembered and the cursor saved."""
    with StateStore.open(state_path) as state:
        book = OrderBook(state, reader.marketplace, account)
        known_keys = book.known()
        result = pull_orders(reader, previous_cursor=state.get_cursor(cursor_source(reader.marketplace), account),
                             known=dict(book.load(known_keys)), known_open=book.open_orders(),
                             now=now or datetime.now(UTC), settings=settings or PullSettings())
        book.remember(result.orders)
        state.set_cursor(cursor_source(reader.marketplace), account, result.cursor)
    return result
