"""Per-warehouse / per-location quantities: grouped quant and move reads on 16, 18 and 19, else one context
read per target.

Odoo computes ``qty_available``, ``free_qty``, ``virtual_available``, ``incoming_qty`` and ``outgoing_qty`` for
the locations named in the context.  The key changed between versions (design §7): 16 reads ``warehouse``,
18 and 19 read ``warehouse_id``.  A wrong key is silently ignored and company-wide totals come back, so the
key is chosen here, in one place, from the version, and 17 (not measured) uses the portable
``location`` = the warehouse's view location, which every version honours.

On 16, 18 and 19 the same numbers come from two reads per page whatever the number of targets (``GroupedStock``):
the page's quants and its open moves, with bare ids, summed here per target exactly as Odoo's
``_compute_quantities_dict`` sums them for a context (quants under the target's root location; open moves
entering or leaving it; 18 and 19 count an open move at its ``location_final_id`` when it has one), rounded to
the product's unit of measure.  ``tests/test_odoo_stock_grouped.py`` holds them against the context reads on
all three servers.  Other versions (17, 20+) keep the context reads (their rules were not measured).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from connector.errors import SourceError
from connector.model import StockLevel
from connector.sources.odoo.backend import OdooBackend, run_reads
from connector.sources.odoo.kits import kits_domain

QTY_FIELDS = ["free_qty", "qty_available", "virtual_available", "incoming_qty", "outgoing_qty"]
OPEN_MOVE_STATES = ["waiting", "confirmed", "assigned", "partially_available"]  # Odoo's "to do" moves
GROUPED_VERSIONS = (16, 18, 19)  # majors whose quantity rules the grouped reads follow (recorded differential test)


@dataclass(slots=True)
class StockTarget:
    """One key of ``Variant.stock``: a warehouse or a location, and the context that selects it."""

    name: str
    kind: str  # "warehouse" | "location"
    odoo_id: int
    context: dict[str, Any] = field(default_factory=dict)
    root_location: int | None = None  # the warehouse's view location, or the location itself


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


def resolve_stock(backend: OdooBackend, warehouses: list[str | int], locations: list[str | int],
                  context: dict[str, Any], grouped: bool = False) -> tuple[list[StockTarget], GroupedStock | None]:
    """Look the configured warehouses / locations up (one call each; all warehouses when none is configured),
    and with ``grouped`` the locations the grouped reads sum over (one more call)."""
    version = backend.version()
    targets: list[StockTarget] = []
    company_roots: list[int] = []
    if warehouses or not locations or grouped:
        # archived ones too: Odoo's company-wide totals count every warehouse of the company (grouped reads)
        every = backend.search_read("stock.warehouse", [], ["id", "name", "code", "view_location_id", "active"],
                                    order="id", context={**context, "active_test": False})
        company_roots = [v for v in (_m2o_id(r.get("view_location_id")) for r in every) if v]
        rows = [r for r in every if r.get("active", True)]
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
        elif not locations:
            chosen = [(str(r["name"]), r) for r in rows]
        for label, r in chosen:
            view = _m2o_id(r.get("view_location_id"))
            targets.append(StockTarget(label, "warehouse", r["id"], warehouse_context(version, r["id"], view), view))
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
            targets.append(StockTarget(label, "location", r["id"], {"location": r["id"]}, r["id"]))
    if not grouped or not targets:
        return targets, None
    roots = sorted({t.root_location for t in targets if t.root_location} | set(company_roots))
    locs = backend.search_read("stock.location", [("id", "child_of", roots)], ["id", "parent_path"],
                               context={**context, "active_test": False}, ids_only=True)
    return targets, GroupedStock(targets, {r["id"]: str(r["parent_path"]) for r in locs}, company_roots,
                                 final_dest=version[0] >= 18)


class GroupedStock:
    """Every target's five quantities from two reads per page (see the module docstring).

    ``locations`` maps each location under a target or a warehouse (archived ones included, as Odoo counts
    them) to its ``parent_path``; a location is in a target when its path starts with the root's path.
    """

    def __init__(self, targets: list[StockTarget], locations: dict[int, str], company_roots: list[int],
                 final_dest: bool) -> None:
        self.final_dest = final_dest
        self.locations = locations
        self._targets = list(targets)
        # how a page's independent reads are sent (the source's ``_run``: up to ``parallel_calls`` at a time)
        self.run: Callable[[dict[str, Callable[[], Any]]], dict[str, Any]] = partial(run_reads, workers=1)
        roots = {t.name: locations.get(t.root_location or 0) for t in targets}
        company = [p for p in (locations.get(r) for r in company_roots) if p]
        # location id -> the targets it counts for, and whether it is under a warehouse (company-wide totals)
        self._in: dict[int, list[str]] = {
            loc: [name for name, root in roots.items() if root and path.startswith(root)]
            for loc, path in locations.items()}
        self._company = {loc for loc, path in locations.items() if any(path.startswith(c) for c in company)}
        self._rounding: dict[int, Decimal] = {}  # uom id -> rounding, read only when a sum is not whole

    def read(self, backend: OdooBackend, products: list[dict[str, Any]], context: dict[str, Any],
             consumable_kits: list[int] | None = None) -> tuple[dict[str, dict[int, dict[str, Any]]], dict[int, float]]:
        """(target name -> product id -> the five quantities, product id -> company-wide on hand).  Of
        ``consumable_kits`` (18+: ``kits.py``), those Odoo counts stock for are in both, the others in neither."""
        ids = [p["id"] for p in products]
        ctx = {**context, "active_test": False}
        out: dict[str, dict[int, dict[str, Any]]] = {t.name: {} for t in self._targets}
        if not ids:  # a page whose only products with stock may be its consumable kits: no quant or move
            totals: dict[int, float] = {}
            if consumable_kits:
                self._read_kits(backend, [], context, out, totals, consumable_kits)
            return out, totals
        quants = backend.search_read("stock.quant", [("product_id", "in", ids), ("location_id", "in",
                                                                                   sorted(self.locations))],
                                     ["product_id", "location_id", "quantity", "reserved_quantity"],
                                     context=ctx, ids_only=True)
        move_fields = ["product_id", "location_id", "location_dest_id", "product_qty"]
        if self.final_dest:
            move_fields.append("location_final_id")
        moves = backend.search_read("stock.move", [("product_id", "in", ids), ("state", "in", OPEN_MOVE_STATES)],
                                    move_fields, context=ctx, ids_only=True)
        zero = Decimal(0)
        sums: dict[tuple[str, int], dict[str, Decimal]] = defaultdict(
            lambda: {"on_hand": zero, "reserved": zero, "in": zero, "out": zero})
        company: dict[int, Decimal] = defaultdict(Decimal)
        for q in quants:
            pid, loc = _m2o_id(q["product_id"]), _m2o_id(q["location_id"]) or 0
            qty, reserved = _dec(q.get("quantity")), _dec(q.get("reserved_quantity"))
            for name in self._in.get(loc, ()):
                acc = sums[(name, pid)]
                acc["on_hand"] += qty
                acc["reserved"] += reserved
            if loc in self._company:
                company[pid] += qty
        for m in moves:
            pid, src = _m2o_id(m["product_id"]), _m2o_id(m["location_id"]) or 0
            dest = (self.final_dest and _m2o_id(m.get("location_final_id"))) or _m2o_id(m["location_dest_id"]) or 0
            into, out_of = set(self._in.get(dest, ())), set(self._in.get(src, ()))
            qty = _dec(m.get("product_qty"))
            for name in into - out_of:
                sums[(name, pid)]["in"] += qty
            for name in out_of - into:
                sums[(name, pid)]["out"] += qty
        uom = {p["id"]: _m2o_id(p.get("uom_id")) for p in products}
        self._load_roundings(backend, uom, sums, company, context)
        for name, by_id in out.items():
            for pid in ids:  # every product gets every target, zeros included, as a context read answers
                got = sums.get((name, pid))
                r = self._rounding.get(uom.get(pid) or 0)
                if got is None:
                    by_id[pid] = {"id": pid, **dict.fromkeys(QTY_FIELDS, 0.0)}
                    continue
                on_hand, incoming, outgoing = _round(got["on_hand"], r), _round(got["in"], r), _round(got["out"], r)
                by_id[pid] = {"id": pid, "free_qty": float(_round(got["on_hand"] - got["reserved"], r)),
                              "qty_available": float(on_hand), "incoming_qty": float(incoming),
                              "outgoing_qty": float(outgoing),
                              "virtual_available": float(_round(on_hand + incoming - outgoing, r))}
        totals = {pid: float(_round(q, self._rounding.get(uom.get(pid) or 0))) for pid, q in company.items()}
        kits = [p["id"] for p in products if p.get("is_kits")]
        if kits or consumable_kits:
            self._read_kits(backend, kits, context, out, totals, consumable_kits or [])
        return out, totals

    def _read_kits(self, backend: OdooBackend, kits: list[int], context: dict[str, Any],
                   out: dict[str, dict[int, dict[str, Any]]], totals: dict[int, float],
                   consumable: list[int] | None = None) -> None:
        """A kit (mrp's bill of materials of type kit; the page read's ``is_kits``, mrp's own test) has no quants
        or moves of its own: Odoo computes its quantities from its components' (mrp's override of
        ``_compute_quantities_dict``).  A page's kits are therefore read with Odoo's own context reads: one call
        per target and one for the company-wide on hand, only for a page that has kits.  The page's consumable
        kits go in the same calls, whose domain then keeps only those with a storable component (``kits.py``):
        a consumable kit missing from any answer is not counted (its stock is not tracked)."""
        domain = kits_domain(kits, consumable or [])
        reads: dict[str, Callable[[], Any]] = {
            f"kits {t.name}": partial(read_quantities, backend, [], [t], context, domain) for t in self._targets}
        reads["kits company"] = partial(backend.search_read, "product.product", domain, ["qty_available"],
                                        context=context)
        done = self.run(reads)  # sent together, as the page's other reads
        answered = [set(done[f"kits {t.name}"][t.name]) for t in self._targets]
        answered.append({r["id"] for r in done["kits company"]})
        counted = set(kits) | set.intersection(*answered)
        for t in self._targets:
            for pid, row in done[f"kits {t.name}"][t.name].items():
                if pid in counted:
                    out[t.name][pid] = {"id": pid, **{f: float(row.get(f) or 0.0) for f in QTY_FIELDS}}
        for r in done["kits company"]:
            if r["id"] in counted:
                totals[r["id"]] = float(r.get("qty_available") or 0.0)

    def _load_roundings(self, backend: OdooBackend, uom: dict[int, int | None],
                        sums: dict[tuple[str, int], dict[str, Decimal]], company: dict[int, Decimal],
                        context: dict[str, Any]) -> None:
        """Odoo rounds each quantity to the product's unit of measure; a whole number stays what it is under
        any rounding that divides 1, so the roundings are read (once per unit) only for fractional sums."""
        values = [(pid, v) for (_, pid), s in sums.items() for v in s.values()] + list(company.items())
        wanted = {uom.get(pid) for pid, v in values if v != v.to_integral_value()} - set(self._rounding) - {None}
        if wanted:
            rows = backend.search_read("uom.uom", [("id", "in", sorted(wanted))], ["id", "rounding"],
                                       context={**context, "active_test": False})
            self._rounding.update({r["id"]: _dec(r.get("rounding")) for r in rows})


def _dec(value: Any) -> Decimal:
    """An Odoo float as the decimal it stands for (quantities are stored as numerics of a few digits)."""
    return Decimal(repr(float(value or 0)))


def _round(value: Decimal, rounding: Decimal | None) -> Decimal:
    """Odoo's ``float_round(value, precision_rounding=rounding)`` (half away from zero)."""
    if not rounding:
        return value
    return (value / rounding).quantize(Decimal(1), rounding=ROUND_HALF_UP) * rounding


def _floor(q: Any) -> int:
    return math.floor(float(q or 0) + 1e-9)


def to_level(target: StockTarget, row: dict[str, Any]) -> StockLevel:
    """Odoo quantities are floats: listed quantities are rounded down (never promise a fraction we lack)."""
    on_hand = _floor(row.get("qty_available"))
    available = _floor(row.get("free_qty"))
    return StockLevel(location=target.name, available=available, on_hand=on_hand,
                      reserved=max(0, on_hand - available), incoming=_floor(row.get("incoming_qty")))


def read_quantities(backend: OdooBackend, ids: list[int], targets: list[StockTarget],
                    context: dict[str, Any], domain: list[Any] | None = None) -> dict[str, dict[int, dict[str, Any]]]:
    """target name -> product id -> raw quantity row: one call per target for the whole page of ``ids`` (or the
    products of ``domain``)."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    if not ids and not domain:
        return out
    for t in targets:
        rows = backend.search_read("product.product", domain or [("id", "in", ids)], QTY_FIELDS,
                                   context={**context, **t.context})
        out[t.name] = {r["id"]: r for r in rows}
    return out
