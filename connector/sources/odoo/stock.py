"""Per-warehouse / per-location quantities, with the context key the server's version honours.

Odoo computes ``qty_available``, ``free_qty``, ``virtual_available``, ``incoming_qty`` and ``outgoing_qty`` for
the locations named in the context.  The key changed between versions (design §7): 16 reads ``warehouse``,
18 and 19 read ``warehouse_id``.  A wrong key is silently ignored and company-wide totals come back, so the
key is chosen here, in one place, from the version, and 17 (not measured) uses the portable
``location`` = the warehouse's view location, which every version honours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from connector.errors import SourceError
from connector.model import StockLevel
from connector.sources.odoo.backend import OdooBackend

QTY_FIELDS = ["free_qty", "qty_available", "virtual_available", "incoming_qty", "outgoing_qty"]


@dataclass(slots=True)
class StockTarget:
    """One key of ``Variant.stock``: a warehouse or a location, and the context that selects it."""

    name: str
    kind: str  # "warehouse" | "location"
    odoo_id: int
    context: dict[str, Any] = field(default_factory=dict)


def warehouse_context(version: tuple[int, int], warehouse_id: int, view_location_id: int | None) -> dict[str, Any]:
    """The context selecting one warehouse on a server of ``version``."""
    major = version[0]
    if major <= 16:
        return {"warehouse": warehouse_id}
    if major >= 18:
        return {"warehouse_id": warehouse_id}
    if view_location_id is None:  # pragma: no cover - every warehouse has a view location
        raise SourceError(f"warehouse {warehouse_id} has no view location")
    return {"location": view_location_id}


def _m2o_id(value: Any) -> int | None:
    return value[0] if isinstance(value, list | tuple) and value else (value or None)


def resolve_targets(backend: OdooBackend, warehouses: list[str | int], locations: list[str | int],
                    context: dict[str, Any]) -> list[StockTarget]:
    """Look the configured warehouses / locations up (one call each); all warehouses when none is configured."""
    version = backend.version()
    targets: list[StockTarget] = []
    if warehouses or not locations:
        rows = backend.search_read("stock.warehouse", [], ["id", "name", "code", "view_location_id"],
                                   order="id", context={**context, "active_test": True})
        by_key: dict[Any, dict[str, Any]] = {}
        for r in rows:
            by_key[r["id"]] = r
            by_key.setdefault(str(r["name"]).casefold(), r)
            by_key.setdefault(str(r.get("code") or "").casefold(), r)
        chosen: list[tuple[str, dict[str, Any]]] = []  # (label, row): the label is the key of Variant.stock
        if warehouses:
            for w in warehouses:
                r = by_key.get(w if isinstance(w, int) else str(w).strip().casefold())
                if r is None:
                    known = ", ".join(f"{x['name']} ({x.get('code')})" for x in rows) or "none"
                    raise SourceError(f"odoo setting 'warehouses': no active warehouse {w!r} in Odoo; "
                                      f"known: {known}")
                # keyed by what the profile says (e.g. the code "WH"), so the stock policy can use the same names
                chosen.append((str(r["name"]) if isinstance(w, int) else str(w).strip(), r))
        else:
            chosen = [(str(r["name"]), r) for r in rows]
        for label, r in chosen:
            ctx = warehouse_context(version, r["id"], _m2o_id(r.get("view_location_id")))
            targets.append(StockTarget(label, "warehouse", r["id"], ctx))
    if locations:
        ids = [x for x in locations if isinstance(x, int)]
        names = [str(x) for x in locations if not isinstance(x, int)]
        rows = backend.search_read("stock.location", ["|", ("id", "in", ids), ("complete_name", "in", names)],
                                   ["id", "complete_name"], context={**context, "active_test": True})
        found = {r["id"]: r for r in rows}
        found.update({str(r["complete_name"]): r for r in rows})
        for loc in locations:
            r = found.get(loc if isinstance(loc, int) else str(loc))
            if r is None:
                raise SourceError(f"odoo setting 'locations': no active location {loc!r} in Odoo "
                                  f"(use the full name, e.g. 'WH/Stock', or the id)")
            label = str(r["complete_name"]) if isinstance(loc, int) else str(loc)
            targets.append(StockTarget(label, "location", r["id"], {"location": r["id"]}))
    return targets


def _floor(q: Any) -> int:
    return math.floor(float(q or 0) + 1e-9)


def to_level(target: StockTarget, row: dict[str, Any]) -> StockLevel:
    """Odoo quantities are floats: listed quantities are rounded down (never promise a fraction we lack)."""
    on_hand = _floor(row.get("qty_available"))
    available = _floor(row.get("free_qty"))
    return StockLevel(location=target.name, available=available, on_hand=on_hand,
                      reserved=max(0, on_hand - available), incoming=_floor(row.get("incoming_qty")))


def read_quantities(backend: OdooBackend, ids: list[int], targets: list[StockTarget],
                    context: dict[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    """target name -> product id -> raw quantity row: one call per target for the whole page of ids."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    if not ids:
        return out
    for t in targets:
        rows = backend.search_read("product.product", [("id", "in", ids)], QTY_FIELDS,
                                   context={**context, **t.context})
        out[t.name] = {r["id"]: r for r in rows}
    return out
