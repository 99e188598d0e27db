"""The Aleta sandbox's state: locations, products with their variants, stock per location, and a clock that
tests can move.  No HTTP here; the routes read it, test scenarios change it (``set_stock``, ``update_variant``,
``update_product``), as the supplier's own edits would.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from connector.sandbox.records import Collection, RecordStore
from connector.sources.aleta.sandbox_catalogue import generate

STATUSES = ("active", "draft", "archived")
QUANTITIES = ("available", "on_hand", "committed", "incoming")
CHUNK = 500  # SQLite takes up to 999 parameters; stay well under

LOCATIONS = Collection("aleta_locations", columns={"name": "name", "is_active": "is_active"})
PRODUCTS = Collection("aleta_products", columns={"vendor": "vendor", "status": "status", "updated_at": "updated_at"})
#: a variant's document is the API's own; which product it belongs to, and where, live in columns only (no
#: document field: given on insert, kept on later writes).
VARIANTS = Collection("aleta_variants", key="sku", key_column="sku", indexes=("product_id",),
                      columns={"product_id": None, "position": None, "inventory_item_id": "inventory_item_id"})
STOCK = Collection("aleta_stock", key=("inventory_item_id", "location_id"), indexes=("inventory_item_id",),
                   columns={name: name for name in ("inventory_item_id", "location_id", *QUANTITIES)})


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def chunks(values: Sequence[Any]) -> Iterator[tuple[Sequence[Any], str]]:
    """``values`` in slices an ``IN (...)`` can take, each with its placeholders."""
    for i in range(0, len(values), CHUNK):
        chunk = values[i:i + CHUNK]
        yield chunk, ",".join("?" * len(chunk))


class AletaBackend:
    """Aleta's catalogue in the record store."""

    def __init__(self, records: RecordStore) -> None:
        self.records = records
        for c in (LOCATIONS, PRODUCTS, VARIANTS, STOCK):
            records.create(c)
        self.clock_offset = 0.0

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (response cache ages, ``updated_at`` of later edits)."""
        self.clock_offset += seconds

    # -- reads ---------------------------------------------------------------------------------------------

    def has_products(self) -> bool:
        return self.records.exists(PRODUCTS, "1")

    def locations(self) -> list[dict[str, Any]]:
        """The active locations, in order."""
        return self.records.find(LOCATIONS, "is_active = 1")

    def products_after(self, last: int, limit: int, *, status: str, vendor: str | None, sku: str | None,
                       since: str | None) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
        """Keyset page: up to ``limit`` ``(seq, product with variants)`` after ``last``, and whether more follow."""
        where, args = ["status = ?"], [status]
        if vendor:
            where.append("lower(vendor) = lower(?)")
            args.append(vendor)
        if since:
            where.append("updated_at >= ?")
            args.append(since)
        if sku:
            where.append(f"EXISTS (SELECT 1 FROM {VARIANTS.table} v WHERE v.product_id = {PRODUCTS.table}.id "
                         "AND instr(lower(v.sku), lower(?)) > 0)")
            args.append(sku)
        with self.records.transaction():
            rows, has_next = self.records.after(PRODUCTS, last, limit, " AND ".join(where), args)
            variants = self.variants_of([doc["id"] for _seq, doc in rows])
        out = []
        for seq, doc in rows:
            vs = variants.get(doc["id"], [])
            if sku:
                vs = [v for v in vs if sku.lower() in v["sku"].lower()]
            out.append((seq, {**doc, "variants": vs}))
        return out, has_next

    def variants_of(self, product_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for chunk, marks in chunks(product_ids):
            for product_id, doc in self.records.find_rows(VARIANTS, f"product_id IN ({marks})", chunk,
                                                          columns=("product_id",), order="product_id, position"):
                out.setdefault(product_id, []).append(doc)
        return out

    def product_of_sku(self, sku: str) -> dict[str, Any] | None:
        """The product holding ``sku``, with that variant alone."""
        with self.records.transaction():
            rows = self.records.find_rows(VARIANTS, "sku = ?", (sku,), columns=("product_id",))
            product = self.records.get(PRODUCTS, rows[0][0]) if rows else None
        return None if product is None else {**product, "variants": [rows[0][1]]}

    def stock_rows(self, skus: list[str] | None, location_id: str | None, low_stock: int | None
                   ) -> list[dict[str, Any]]:
        """Stock per SKU (in the order asked, or the catalogue's) and active location, as ``/stock`` lists it."""
        with self.records.transaction():
            locations = {loc["id"]: loc["name"] for loc in self.locations()}
            if skus is None:
                variants = self.records.find_rows(VARIANTS, columns=("sku", "inventory_item_id"), with_doc=False)
            else:
                variants = []
                for chunk, marks in chunks(skus):
                    variants += self.records.find_rows(VARIANTS, f"sku IN ({marks})", chunk,
                                                       columns=("sku", "inventory_item_id"), with_doc=False)
                order = {s: i for i, s in enumerate(skus)}
                variants.sort(key=lambda r: order[r[0]])
            levels: dict[str, list[dict[str, Any]]] = {}
            for chunk, marks in chunks([item for _sku, item in variants]):
                for (level,) in self.records.find_rows(STOCK, f"inventory_item_id IN ({marks})", chunk):
                    levels.setdefault(level["inventory_item_id"], []).append(level)
        rows = []
        for sku, item in variants:
            if item not in levels:  # not stocked anywhere (untracked): no row
                continue
            locs = []
            for level in levels[item]:
                if level["location_id"] not in locations or (location_id and level["location_id"] != location_id):
                    continue
                if low_stock is not None and level["available"] > low_stock:
                    continue
                locs.append({"location_id": level["location_id"], "location_name": locations[level["location_id"]],
                             "quantities": {name: level[name] for name in QUANTITIES}})
            if low_stock is not None and not locs:
                continue
            rows.append({"sku": sku, "inventory_item_id": item, "locations": locs})
        return rows

    # -- changes -------------------------------------------------------------------------------------------

    def load(self, locations: list[dict[str, Any]], products: list[dict[str, Any]],
             stock: list[dict[str, Any]]) -> None:
        """Add locations, products (with their variants) and stock rows (``{sku, location_id, quantities}``)."""
        with self.records.transaction():
            for loc in locations:
                self.records.put(LOCATIONS, {"id": loc["id"], "name": loc["name"],
                                             "is_active": 1 if loc.get("is_active", True) else 0})
            for p in products:
                doc = {k: v for k, v in p.items() if k != "variants"}
                self.records.insert(PRODUCTS, doc, status=p.get("status", "active"),
                                    updated_at=p.get("updated_at") or iso(self.now()))
                for i, v in enumerate(p.get("variants") or []):
                    self.records.insert(VARIANTS, v, product_id=p["id"], position=i)
            for s in stock:
                item = s.get("inventory_item_id") or self._item_of(s["sku"])
                self._put_stock(item, s["location_id"], s.get("quantities") or {})

    def generate(self, variants: int = 3000, seed: int = 1, locations: int = 2) -> None:
        """Load a generated catalogue (``sandbox_catalogue.generate``), deterministic from ``seed``."""
        self.load(*generate(variants, seed=seed, locations=locations))

    def _item_of(self, sku: str) -> str:
        variant = self.records.get(VARIANTS, sku)
        if variant is None:
            raise ValueError(f"unknown SKU {sku!r}")
        return str(variant["inventory_item_id"])

    def _put_stock(self, item: str, location_id: str, q: dict[str, Any]) -> None:
        old = self.records.get(STOCK, STOCK.key_of({"inventory_item_id": item, "location_id": location_id}))
        cur = {k: (old[k] if old is not None else 0) for k in QUANTITIES}
        for name in cur:
            if name in q:
                if type(q[name]) is not int:
                    raise ValueError(f"{name} must be an integer")
                cur[name] = q[name]
        if "available" in q and "on_hand" not in q:
            cur["on_hand"] = cur["available"] + cur["committed"]
        self.records.put(STOCK, {"inventory_item_id": item, "location_id": location_id, **cur})

    def set_stock(self, sku: str, location_id: str | None = None, **quantities: int) -> None:
        """Change stock (does *not* touch the product's ``updated_at``, like Shopify)."""
        with self.records.transaction():
            if location_id is None:
                location_id = self.records.find(LOCATIONS, limit=1)[0]["id"]
            self._put_stock(self._item_of(sku), location_id, quantities)

    def update_variant(self, sku: str, **fields: Any) -> None:
        """Change variant fields (prices as strings...); bumps the product's ``updated_at``."""
        with self.records.transaction():
            rows = self.records.find_rows(VARIANTS, "sku = ?", (sku,), columns=("product_id",))
            if not rows:
                raise ValueError(f"unknown SKU {sku!r}")
            product_id, doc = rows[0]
            self.records.put(VARIANTS, {**doc, **fields})
            self._touch(product_id)

    def delete_variant(self, sku: str) -> None:
        """The supplier deletes one variant; bumps the product's ``updated_at``."""
        with self.records.transaction():
            rows = self.records.find_rows(VARIANTS, "sku = ?", (sku,), columns=("product_id",))
            if not rows:
                raise ValueError(f"unknown SKU {sku!r}")
            self.records.delete(VARIANTS, sku)
            self._touch(rows[0][0])

    def update_product(self, product_id: str, **fields: Any) -> None:
        """Change product fields (``title``, ``status``...); bumps its ``updated_at``."""
        with self.records.transaction():
            doc = self.records.get(PRODUCTS, product_id)
            if doc is None:
                raise ValueError(f"unknown product {product_id!r}")
            if "status" in fields and fields["status"] not in STATUSES:
                raise ValueError(f"status must be one of {STATUSES}")
            doc = {**doc, **fields}
            self.records.put(PRODUCTS, doc, status=doc.get("status", "active"), vendor=doc.get("vendor"))
            self._touch(product_id)

    def _touch(self, product_id: str) -> None:
        stamp = iso(self.now())
        doc = self.records.get(PRODUCTS, product_id)
        assert doc is not None
        self.records.put(PRODUCTS, {**doc, "updated_at": stamp}, updated_at=stamp)

    def summary(self) -> dict[str, Any]:
        """Products per status, the number of variants, the locations (``/__sandbox/state``)."""
        counts = Counter(status for (status,) in self.records.find_rows(PRODUCTS, columns=("status",),
                                                                        with_doc=False))
        locations = [{"id": loc["id"], "name": loc["name"], "is_active": loc["is_active"]}
                     for loc in self.records.find(LOCATIONS)]
        return {"products": dict(sorted(counts.items())), "variants": self.records.count(VARIANTS),
                "locations": locations}
