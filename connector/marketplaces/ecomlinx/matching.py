"""SKU -> EcomLinx product id, built from the paged product listing and cached in the state file.

EcomLinx has no product-create endpoint: products exist there already and are matched by SKU (exactly, as
written).  The listing is read again when the cache is older than ``listing_max_age_minutes`` or when a PATCH
answers 404 (the product was deleted or re-created under another id), at most once per run for 404s.  SKUs
of the source that the listing does not have are remembered as missing and are only re-checked when the
listing is next refreshed, so a sync run every minute does not ask about them every minute.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connector.marketplaces.ecomlinx.client import EcomLinxClient, misshapen
from connector.marketplaces.ecomlinx.statedb import TABLES
from connector.sync.state import StateStore


@dataclass(frozen=True, slots=True)
class Match:
    sku: str
    product_id: str | None  # None: EcomLinx has no product with this SKU
    duplicate_ids: tuple[str, ...] = ()  # several EcomLinx products carry this SKU

    @property
    def found(self) -> bool:
        return self.product_id is not None and not self.duplicate_ids


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class SkuIndex:
    def __init__(self, client: EcomLinxClient, state: StateStore, account: str, *,
                 max_age: timedelta = timedelta(hours=1), now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.client, self.state, self.account = client, state, account
        self.max_age, self._now = max_age, now
        self.tables = state.tables(TABLES)
        self._map: dict[str, tuple[str, tuple[str, ...]]] | None = None
        self.refreshes = 0  # listings read during this run
        self.refreshed_for_404 = False

    # -- cache -------------------------------------------------------------------------------------------------
    def listing_time(self) -> datetime | None:
        row = self.tables.first("listing", {"account": self.account})
        return datetime.fromisoformat(row["refreshed_at"].replace("Z", "+00:00")) if row else None

    def is_fresh(self) -> bool:
        when = self.listing_time()
        return when is not None and self._now() - when < self.max_age

    def _load(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        if self._map is None:
            if not self.is_fresh():
                self.refresh()
            else:
                rows = self.tables.rows("sku_map", {"account": self.account})
                self._map = {r["sku"]: (r["product_id"], tuple(json.loads(r["duplicate_ids"] or "[]")))
                             for r in rows}
        assert self._map is not None
        return self._map

    def lookup(self, sku: str) -> Match:
        """Where ``sku`` lives on EcomLinx (reads the listing first if the cache is missing or stale)."""
        entry = self._load().get(sku)
        if entry is None:
            return Match(sku, None)
        return Match(sku, entry[0], entry[1])

    def known_missing(self, sku: str) -> bool:
        """True when the map is loaded (no request needed) and has no product with ``sku``."""
        return self._map is not None and sku not in self._map

    def refresh(self) -> int:
        """Read the whole listing (every page) and replace the cached map; returns how many products."""
        found: dict[str, list[str]] = {}
        count = 0
        for product in self.client.iter_products():
            pid = self._text(product, "id", product.get("sku"))
            found.setdefault(self._text(product, "sku", pid), []).append(pid)
            count += 1
        now = _iso(self._now())
        with self.state.atomic():
            self.tables.delete("sku_map", {"account": self.account})
            self.tables.put("sku_map", ({"account": self.account, "sku": sku, "product_id": ids[0],
                                         "duplicate_ids": json.dumps(ids) if len(ids) > 1 else None}
                                        for sku, ids in found.items()))
            self.tables.put("listing", [{"account": self.account, "refreshed_at": now, "products": count}])
            # SKUs that appeared since: no longer missing
            self.tables.delete("missing", {"account": self.account, "sku": [s for s in self.missing() if s in found]})
        self._map = {sku: (ids[0], tuple(ids) if len(ids) > 1 else ()) for sku, ids in found.items()}
        self.refreshes += 1
        return count

    def _text(self, product: dict[str, object], key: str, other: object) -> str:
        """A listed product's ``sku`` or ``id`` as text: a JSON text, or a whole number as its digits (SKU ``1234``
        is matched as ``"1234"``).  Anything else (a fraction, null, true/false, an object, a blank) fails the read
        naming the product (``other``: its id, or its SKU when the id is what is wrong): taken as text, ``1.5`` or
        ``True`` would match no SKU of the source, and skipped, the product would look missing."""
        value = product.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        name = f"product {other}" if key == "sku" else f"a product (sku {other!r})"
        raise misshapen("GET", self.client.paths["products"],
                        f"{name} whose {key} is {value!r}, not a text or a whole number", product)

    def refresh_after_404(self) -> bool:
        """Re-read the listing once per run after a 404; False if it was already re-read for one."""
        if self.refreshed_for_404:
            return False
        self.refreshed_for_404 = True
        self.refresh()
        return True

    # -- missing SKUs ------------------------------------------------------------------------------------------
    def note_missing(self, skus: list[str]) -> None:
        if not skus:
            return
        now = _iso(self._now())
        checked = _iso(self.listing_time() or self._now())
        self.tables.put("missing", ({"account": self.account, "sku": sku, "first_seen": now, "last_checked": checked}
                                    for sku in skus), update=["last_checked"])

    def missing(self) -> dict[str, str]:
        """SKU -> when it was first found missing."""
        return {r["sku"]: r["first_seen"] for r in self.tables.rows("missing", {"account": self.account})}
