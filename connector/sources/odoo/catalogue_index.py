"""What the last read knew of the whole catalogue, kept next to the incremental cursor (design §7).

An incremental read sees only what changed; two facts need the rest of the catalogue:

- **Duplicates.** Odoo does not enforce unique Internal References.  A changed record carrying a SKU that the
  index holds under another ``product.product`` id (an archived old product given the live product's SKU, a
  second live product) is a duplicate, exactly as a full read would see it, and is never pushed over the
  product the marketplace already lists.  The index is exact: every SKU edit bumps the variant's
  ``write_date`` and so re-reads it; it costs no RPC call.
- **Skipped records.** Variants skipped for data problems (no SKU, duplicate, invalid barcode) no longer hold
  the cursor back (``SourceResult.cursors_may_advance``); their ids are remembered here and read again
  on every incremental run, so they stay reported until fixed and are sent as soon as they are.
- **Records a marketplace skipped.** A variant a target skipped although the source read it whole (EcomLinx:
  "not on EcomLinx: create it there first") is read again, with its template, on every incremental run
  (``recheck_ids``) until no target skips it: the run ended clean, so the cursor moved on, and without this the
  product would reach that marketplace only once it changed in Odoo.

Stored as one cursor value (packed by ``connector.sources.packed``, like the Aleta snapshot), saved with the
cursor only once the push was confirmed.  An index written for another ``domain`` setting, or none at all,
means a full read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connector.sources.packed import pack, unpack

INDEX_NAME = "catalogue"
INDEX_VERSION = 2  # 2: SKUs read without the spaces around them; an index of another version is a full read


def domain_key(domain: list[Any]) -> str:
    return json.dumps(domain, sort_keys=True, default=str)


@dataclass
class CatalogueIndex:
    domain: str  # ``domain_key`` of the settings' domain the index was built with
    skus: dict[int, tuple[str, bool]] = field(default_factory=dict)  # product.product id -> (SKU, active)
    skipped_ids: set[int] = field(default_factory=set)
    recheck_ids: set[int] = field(default_factory=set)  # variants a target skipped (``recheck``)

    def encode(self) -> str:
        data = {"v": INDEX_VERSION, "domain": self.domain,
                "skus": {str(pid): [sku, active] for pid, (sku, active) in self.skus.items()},
                "skipped_ids": sorted(self.skipped_ids)}
        if self.recheck_ids:
            data["recheck_ids"] = sorted(self.recheck_ids)
        return pack(data)

    @classmethod
    def decode(cls, value: str | None) -> CatalogueIndex | None:
        """``None`` for a missing or unreadable index (the run then reads everything)."""
        data = unpack(value)
        if data is None or not isinstance(data, dict) or data.get("v") != INDEX_VERSION:
            return None
        try:
            return cls(domain=str(data["domain"]),
                       skus={int(pid): (str(sku), bool(active)) for pid, (sku, active) in data["skus"].items()},
                       skipped_ids={int(t) for t in data["skipped_ids"]},
                       recheck_ids={int(t) for t in data.get("recheck_ids") or ()})
        except (ValueError, TypeError, KeyError):
            return None

    def recheck(self, skus: Iterable[str]) -> None:
        """The variants of ``skus`` (what the targets skipped this run) are read again by the next incremental
        run; those of the last run are not, unless skipped again."""
        wanted = set(skus)
        self.recheck_ids = {pid for pid, (sku, _active) in self.skus.items() if sku in wanted} if wanted else set()

    def others(self, read_ids: Iterable[int]) -> dict[str, list[tuple[int, bool]]]:
        """SKU -> (id, active) of the indexed variants that are not among ``read_ids``."""
        skip = set(read_ids)
        out: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        for pid, (sku, active) in self.skus.items():
            if pid not in skip:
                out[sku].append((pid, active))
        return out

    def update(self, rows: Iterable[dict[str, Any]], *, full: bool) -> None:
        """Take in what a read returned (a full read replaces everything)."""
        if full:
            self.skus = {}
        for r in rows:
            sku = r.get("default_code")
            if isinstance(sku, str) and sku:
                self.skus[int(r["id"])] = (sku, bool(r.get("active")))
            else:
                self.skus.pop(int(r["id"]), None)
