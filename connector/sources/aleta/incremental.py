"""Incremental reads: an ``updated_since`` cursor with an overlap window, and a catalogue snapshot.

Shopify-backed feeds do not move ``updated_at`` when only stock changes, so stock is re-read for every SKU on
every run.  To know every SKU without listing every product again, the source keeps a *snapshot* of the
product documents it read (compressed JSON) next to the cursor.  Both travel in ``SourceResult.cursors`` and
are stored by the CLI only once every target confirmed the push (a failed run reads the same changes again).

- ``updated_since``: the oldest moment the data of the last run reflects (``meta.generated_at`` minus
  ``cache_age_seconds``, the earliest over every response), stored as ISO 8601 UTC.  The next run asks for
  ``updated_since = cursor - overlap_seconds``: a product edited while the last run was reading, or sitting
  in Aleta's response cache, is read again rather than missed.
- ``catalogue``: ``{"v": 1, "filters": {...}, "products": {id: document}}``.  A snapshot taken with other
  filters (status, vendor, sku) is ignored and the run reads everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.sources.aleta.client import format_time, parse_time
from connector.sources.packed import pack, unpack

CURSOR_NAME = "updated_since"
SNAPSHOT_NAME = "catalogue"
SNAPSHOT_VERSION = 1
#: fields of a product document the converter reads; the rest is not kept in the snapshot
KEPT_FIELDS = ("id", "title", "handle", "vendor", "product_type", "status", "updated_at", "featured_image", "images",
               "variants")


@dataclass
class Snapshot:
    filters: dict[str, str]
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # Aleta product id -> document

    def encode(self) -> str:
        docs = {pid: {k: doc[k] for k in KEPT_FIELDS if k in doc} for pid, doc in self.products.items()}
        return pack({"v": SNAPSHOT_VERSION, "filters": self.filters, "products": docs}, default=_json_default)

    @classmethod
    def decode(cls, value: str | None) -> Snapshot | None:
        """``None`` for a missing or unreadable snapshot (the run then reads everything)."""
        data = unpack(value, parse_float=Decimal)
        if not isinstance(data, dict) or data.get("v") != SNAPSHOT_VERSION or not isinstance(data.get("products"),
                                                                                             dict):
            return None
        return cls(filters=dict(data.get("filters") or {}), products=data["products"])


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):  # weights: kept as exact text (the converter reads numbers from strings)
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


@dataclass(frozen=True)
class ReadPlan:
    """How this run reads products: everything, or what changed since ``since``."""

    since: datetime | None  # None: full read
    snapshot: Snapshot | None  # the previous catalogue (also used by a full read, to spot withdrawn products)
    reason: str

    @property
    def incremental(self) -> bool:
        return self.since is not None


def plan_read(cursor: str | None, snapshot_text: str | None, filters: dict[str, str], *, full: bool,
              overlap_seconds: int) -> ReadPlan:
    snapshot = Snapshot.decode(snapshot_text)
    if snapshot is not None and snapshot.filters != filters:
        return ReadPlan(None, None, "the filters changed since the last run: reading everything")
    if full:
        return ReadPlan(None, snapshot, "full read requested")
    since = parse_time(cursor)
    if since is None or snapshot is None:
        return ReadPlan(None, snapshot, "no previous run: reading everything")
    return ReadPlan(since - timedelta(seconds=overlap_seconds), snapshot,
                    f"products updated since {format_time(since)} (minus {overlap_seconds}s overlap)")


def next_cursor(data_as_of: datetime | None, started: datetime) -> str:
    """The cursor a successful run stores: when the data it read was current (never later than its start)."""
    moment = started if data_as_of is None else min(data_as_of, started)
    return format_time(moment)
