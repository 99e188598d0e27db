"""Odoo as a fulfilment source: done deliveries (tracking reference, carrier) and cancelled sale orders of the
orders the connector imported (``OdooOrderDestination``: ``ImportedOrder.destination_id`` is the sale order id).

A read, incremental on Odoo's ``write_date`` from ``cursor - overlap`` (``overlap_seconds`` of the connection,
300 by default: ``write_date`` is the transaction's start, to the second), costs after the login:

1. ``sale.order``: the ids of sale orders cancelled in the window;
2. ``stock.picking``: the done outgoing deliveries (``picking_type_code = outgoing``, state ``done``) of every
   sale order having a delivery written in the window (``sale_id.picking_ids.write_date``), or cancelled in
   it: so an order with a new delivery comes with ALL its done deliveries, as the contract wants its whole
   progress.  Returns are incoming pickings: never read.  Pages of ``PAGE_SIZE`` pickings;

and, only when deliveries were found: ``fields_get`` of ``stock.move`` (once per source: 16 ``quantity_done``,
17+ ``quantity`` with ``picked``), per page the done moves of its pickings, and the SKUs (``default_code``) of
their products not known yet.  An idle read (nothing changed) is 2 calls.  With mrp, a kit's line is delivered
as its components' moves (``bom_line_id``): the kits each delivery shipped are worked out from them as Odoo counts
them (``_kit_quantities``: 2 calls more, only when a delivery holds a kit); a service line, in no delivery,
ships with the latest one once the goods are all shipped (``_ship_services``: 1 call more, only then); a combo line
(18+) ships as its items allow, and one without items is a problem of its order (``odoo_combos.py``).

The domains do not list the imported ids (a merchant with 50,000 imported orders would send them all on every
read): what Odoo changed in the window is read and kept for the imported orders; deliveries of other sale
orders are counted in a note.  Without a cursor, the window starts at the oldest imported order's creation on
the marketplace (its sale order, and so its deliveries, came later).

The next cursor is the server's clock (HTTP ``Date``) at this read's first answer, so a delivery validated
while the read runs is in the next window.  Each delivery is one ``Shipment`` (``odoo:picking:<id>``); its
moves are summed per SKU and spread over the marketplace's lines with ``assign_lines``, deliveries in the order
they were done (a backorder after the delivery it completes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.fulfilment.model import OrderProgress, Shipment, ShippedLine, assign_lines
from connector.fulfilment.odoo_combos import ComboReads
from connector.fulfilment.source import ImportedOrder, SourceRead
from connector.orders.model import OrderLine, iso, parse_time
from connector.orders.odoo.destination import SALE_ORDER, containing, spaced_matches
from connector.orders.odoo.settings import OdooOrderSettings, parse_settings
from connector.sources.odoo.backend import OdooBackend, OdooRPCError, open_backend

PICKING = "stock.picking"
MOVE = "stock.move"
PRODUCT = "product.product"
PAGE_SIZE = 500  # done deliveries per search_read
ODOO_DT = "%Y-%m-%d %H:%M:%S"
PICKING_FIELDS = ["id", "name", "sale_id", "carrier_tracking_ref", "carrier_id", "date_done", "write_date"]
OUTGOING_DONE: list[Any] = [("picking_type_code", "=", "outgoing"), ("state", "=", "done"), ("sale_id", "!=", False)]


def odoo_time(value: datetime) -> str:
    """A UTC time as Odoo's domains take it (naive, to the second)."""
    return value.astimezone(UTC).strftime(ODOO_DT)


def from_odoo_time(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(str(text), ODOO_DT).replace(tzinfo=UTC)


def window_start(cursor: str | None, overlap: timedelta, imported: Sequence[ImportedOrder]) -> datetime | None:
    """Where a read starts: ``cursor - overlap``; without a cursor, the oldest imported order's creation on the
    marketplace minus the overlap (nothing of it can be older); None when nothing is imported."""
    start = parse_time(cursor) if cursor else None
    if start is None:
        created = [i.order.created_at for i in imported]
        if not created:
            return None
        start = min(created)
    return start - overlap


def next_cursor(cursor: str | None, server_start: datetime | None, now: datetime) -> str | None:
    """The cursor to save after a read: the server's clock at the read's first answer (the local ``now`` when
    the backend gives none), never behind the previous cursor."""
    at = server_start or now
    previous = parse_time(cursor) if cursor else None
    if previous is not None and previous > at:
        at = previous
    return iso(at)


@dataclass(slots=True)
class _Picking:
    id: int
    name: str
    sale_id: int
    tracking: str | None
    carrier: str | None
    done_at: datetime | None
    quantities: dict[str, int]


def _m2o(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, list | tuple) and value:
        return int(value[0]), (str(value[1]) if len(value) > 1 else None)
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    return None, None


class OdooFulfilmentSource(ComboReads):
    """``FulfilmentSource`` reading the Odoo that ``orders.odoo`` imports into (its ``connection``)."""

    name = "odoo"

    def __init__(self, settings: OdooOrderSettings, backend: OdooBackend | None = None,
                 page_size: int = PAGE_SIZE) -> None:
        self.settings = settings
        self.backend: OdooBackend | None = backend
        self._connected = False
        self._borrowed = False  # logged in by the orders destination of the same run
        self._handed_over = False  # given to the stock read of the same run, which closes it
        self.page_size = page_size
        self._quantity_fields: list[str] | None = None  # stock.move: ["quantity_done"] or ["quantity", "picked"]
        self._kit_fields = False  # stock.move has sale_line_id and bom_line_id (sale_stock and mrp): kits are read
        # (picking, sale line, bom line, done quantity in the move's unit, move id)
        self._kit_moves: list[tuple[_Picking, int, int, float, int]] = []
        self._skus: dict[int, str | None] = {}  # product id -> default_code
        self._picking_fields = PICKING_FIELDS  # without the delivery module: no tracking and carrier fields

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.settings.connection.overlap_seconds)

    def _connect(self) -> OdooBackend:
        if not self._connected:
            if self.backend is None:
                self.backend = open_backend(self.settings.connection)
            else:
                self.backend.open()
            self._connected = True
        assert self.backend is not None
        return self.backend

    def adopt(self, backend: OdooBackend | None) -> None:
        """Use ``backend``, already logged in by this run's orders destination (the same Odoo): no second login."""
        if backend is not None and not self._connected:
            self.backend, self._connected, self._borrowed = backend, True, True

    def hand_over(self, settings: Any) -> OdooBackend | None:
        """The logged-in connection for the stock read of the same run when it reads this same Odoo (``settings``
        equal to ours), which then closes it; None when not connected or another Odoo."""
        if not self._connected or self.backend is None or settings != self.settings.connection:
            return None
        self._handed_over = True
        return self.backend

    def close(self) -> None:
        if self.backend is not None and self._connected and not self._handed_over:
            self.backend.close()

    # -- the read -------------------------------------------------------------------------------------------
    def read(self, imported: Sequence[ImportedOrder], cursor: str | None, now: datetime) -> SourceRead:
        by_sale: dict[int, ImportedOrder] = {}
        for item in imported:
            if str(item.destination_id).isdigit():
                by_sale[int(item.destination_id)] = item
        since = window_start(cursor, self.overlap, list(by_sale.values()))
        if since is None or not by_sale:  # no sale order imported: nothing to ask Odoo
            return SourceRead(progress=[], cursor=cursor)
        backend = self._connect()
        backend.first_response_date = None  # this read's first answer gives the next cursor (the server's clock)
        cancelled = self._cancelled(backend, since, by_sale)
        pickings, ignored = self._deliveries(backend, since, cancelled, by_sale)
        notes = []
        if ignored:
            notes.append(f"{sum(ignored.values())} done Odoo deliveries of {len(ignored)} sale orders the connector "
                         f"did not import were ignored")
        per_sale: dict[int, list[_Picking]] = {}
        for p in pickings:
            per_sale.setdefault(p.sale_id, []).append(p)
        progress = []
        self._ship_combo_items(backend, by_sale, per_sale)
        built = {sale_id: self._shipments(by_sale[sale_id], per_sale.get(sale_id, []))
                 for sale_id in sorted(set(per_sale) | cancelled)}
        combos = self._ship_services(backend, by_sale, per_sale, built)
        problems = self._bare_combos(backend, by_sale, combos)
        for sale_id, (shipments, left) in built.items():
            item = by_sale[sale_id]
            notes.extend(left)
            progress.append(OrderProgress(marketplace=item.marketplace, account=item.account, order_key=item.order.key,
                                          source=self.name, shipments=tuple(shipments), cancelled=sale_id in cancelled,
                                          problems=tuple(problems.get(sale_id, ())), extra={"sale_order_id": sale_id}))
        return SourceRead(progress=progress, cursor=next_cursor(cursor, backend.first_response_date, now),
                          notes=notes)

    def _pages(self, backend: OdooBackend, model: str, domain: list[Any], fields: list[str], *,
               ids_only: bool = False) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            page = backend.search_read(model, domain, fields, offset=len(rows), limit=self.page_size, order="id",
                                       ids_only=ids_only)
            rows.extend(page)
            if len(page) < self.page_size:
                return rows

    def _cancelled(self, backend: OdooBackend, since: datetime, by_sale: dict[int, ImportedOrder]) -> set[int]:
        rows = self._pages(backend, SALE_ORDER, [("state", "=", "cancel"), ("write_date", ">=", odoo_time(since))],
                           ["id"])
        return {int(r["id"]) for r in rows if int(r["id"]) in by_sale}

    def _deliveries(self, backend: OdooBackend, since: datetime, cancelled: set[int],
                    by_sale: dict[int, ImportedOrder]) -> tuple[list[_Picking], dict[int, int]]:
        """(done outgoing deliveries of imported sale orders with anything new, sale id -> count of the others)."""
        changed: list[Any] = [("sale_id.picking_ids.write_date", ">=", odoo_time(since))]
        if cancelled:
            changed = ["|", *changed, ("sale_id", "in", sorted(cancelled))]
        rows = self._picking_rows(backend, [*OUTGOING_DONE, *changed])
        ignored: dict[int, int] = {}
        pickings: list[_Picking] = []
        for r in rows:
            sale_id, _ = _m2o(r.get("sale_id"))
            if sale_id is None:
                continue
            if sale_id not in by_sale:
                ignored[sale_id] = ignored.get(sale_id, 0) + 1
                continue
            _, carrier = _m2o(r.get("carrier_id"))
            pickings.append(_Picking(id=int(r["id"]), name=str(r.get("name") or r["id"]), sale_id=sale_id,
                                     tracking=(str(r["carrier_tracking_ref"]).strip() or None)
                                     if r.get("carrier_tracking_ref") else None,
                                     carrier=carrier, done_at=from_odoo_time(r.get("date_done")), quantities={}))
        self._kit_moves = []
        for i in range(0, len(pickings), self.page_size):
            self._done_quantities(backend, pickings[i:i + self.page_size])
        if self._kit_moves:
            self._kit_quantities(backend, pickings)
        return pickings, ignored

    def _picking_rows(self, backend: OdooBackend, domain: list[Any]) -> list[dict[str, Any]]:
        """The deliveries' rows.  ``carrier_tracking_ref`` and ``carrier_id`` come with the delivery module
        (``stock_delivery`` on 17+, ``delivery`` on 16); without it Odoo refuses the read naming the field
        (found on a real Odoo 18 with stock and sale_management only: every fulfilment run, and every ``sync``
        with ``orders: {to: odoo}``, stopped with exit 2 once an order was imported).  Then the fields the
        server has are asked once (``fields_get``) and the read sent again without the others: such deliveries
        ship without a tracking number or carrier.  A server with the module costs nothing more."""
        try:
            return self._pages(backend, PICKING, domain, self._picking_fields)
        except OdooRPCError:
            if self._picking_fields != PICKING_FIELDS:
                raise
            have = backend.fields_get(PICKING, ["type"])
            if all(f in have for f in PICKING_FIELDS):  # not a missing field: Odoo's own error stands
                raise
            self._picking_fields = [f for f in PICKING_FIELDS if f in have]
        return self._pages(backend, PICKING, domain, self._picking_fields)

    def _done_quantities(self, backend: OdooBackend, page: list[_Picking]) -> None:
        """Each picking's done quantity per SKU, from its done moves (one call, plus the unknown SKUs)."""
        if self._quantity_fields is None:
            meta = backend.fields_get(MOVE, ["type"])
            self._quantity_fields = ["quantity", "picked"] if "picked" in meta else ["quantity_done"]
            self._kit_fields = "bom_line_id" in meta and "sale_line_id" in meta
        qty_field = self._quantity_fields[0]
        domain: list[Any] = [("picking_id", "in", [p.id for p in page]), ("state", "=", "done")]
        if "picked" in self._quantity_fields:
            domain.append(("picked", "=", True))
        fields = ["picking_id", "product_id", qty_field, *(["sale_line_id", "bom_line_id"] if self._kit_fields else [])]
        moves = backend.search_read(MOVE, domain, fields, order="id", ids_only=True)
        by_id = {p.id: p for p in page}
        kit_moves = [m for m in moves if m.get("bom_line_id") and m.get("sale_line_id")]
        for m in kit_moves:  # a kit's components: the kit's quantity is worked out from them (_kit_quantities)
            picking = by_id.get(int(m["picking_id"]))
            if picking is not None:
                self._kit_moves.append((picking, int(m["sale_line_id"]), int(m["bom_line_id"]),
                                        float(m.get(qty_field) or 0), int(m["id"])))
        moves = [m for m in moves if not (m.get("bom_line_id") and m.get("sale_line_id"))]
        self._learn_skus(backend, {int(m["product_id"]) for m in moves if m.get("product_id")})
        for m in moves:
            picking = by_id.get(int(m["picking_id"]))
            quantity = round(float(m.get(qty_field) or 0))
            if picking is None or quantity <= 0:
                continue
            sku = self._skus.get(int(m["product_id"])) or f"product id {m['product_id']} (no Internal Reference)"
            picking.quantities[sku] = picking.quantities.get(sku, 0) + quantity

    def _learn_skus(self, backend: OdooBackend, product_ids: set[int]) -> None:
        """The SKUs (``default_code``, without the spaces around it, as the catalogue read takes it) of the products
        not known yet: one call when there are some."""
        unknown = sorted(product_ids - set(self._skus))
        if unknown:
            found = backend.search_read(PRODUCT, [("id", "in", unknown)], ["default_code"],
                                        context={"active_test": False})
            codes = {int(r["id"]): (str(r["default_code"]).strip() or None if r.get("default_code") else None)
                     for r in found}
            self._skus.update({pid: codes.get(pid) for pid in unknown})

    def _kit_quantities(self, backend: OdooBackend, pickings: list[_Picking]) -> None:
        """The kits each delivery shipped, from their components' done moves, as Odoo counts a kit line's
        delivered quantity (mrp's ``_compute_kit_quantities``): for each component (bill of materials line) its
        done quantity over the quantity one kit takes, the smallest of them, rounded down.  Counted over the
        sale order's deliveries in the order they were done (a read has them all), each delivery gets what it
        added.  What one kit takes of a component: for the line's own kit, its bill line's quantity over its bill's;
        for a kit inside a kit, its moves' demand to the customer (cancelled remainders included: a delivery
        validated without a backorder cancels the rest) over the kits ordered.  Quantities are counted in the bill
        line's unit.  4 calls (the lines' moves to the customer, the sale lines, the bill lines, the bills), 6 when
        a move's unit is not its bill line's (the units' fields and factors), and the kits' SKUs when they are not
        known yet."""
        lines = sorted({line for _p, line, _b, _q, _m in self._kit_moves})
        component_moves = self._pages(backend, MOVE, [("sale_line_id", "in", lines), ("bom_line_id", "!=", False),
                                                      ("location_dest_id.usage", "=", "customer")],
                                      ["sale_line_id", "bom_line_id", "product_uom_qty", "product_uom"], ids_only=True)
        ordered = {int(r["id"]): r for r in backend.search_read("sale.order.line", [("id", "in", lines)],
                                                                ["product_id", "product_template_id",
                                                                 "product_uom_qty"], ids_only=True)}
        # What one kit takes of a component is its bill of materials' (as Odoo counts it), not the moves' demand:
        # a sale order cancelled and confirmed again keeps the first confirmation's moves, cancelled, with the same
        # sale line and bill of materials line (their demand counted twice, its kits were never shipped)
        bom_line_ids = sorted({b for _p, _l, b, _q, _m in self._kit_moves})
        bom_lines = {int(r["id"]): r for r in backend.search_read(
            "mrp.bom.line", [("id", "in", bom_line_ids)], ["bom_id", "product_qty", "product_uom_id"], ids_only=True,
            context={"active_test": False})}
        # A move's quantities are in its own unit, which need not be its bill line's (on 16 a sale's component
        # move of a line in Dozens is in the product's Units): everything is counted in the bill line's unit
        to_line = self._to_line_unit(backend, bom_lines, component_moves)
        demand: dict[tuple[int, int], float] = {}
        for m in component_moves:
            key = (int(m["sale_line_id"]), int(m["bom_line_id"]))
            demand[key] = demand.get(key, 0.0) + to_line(float(m.get("product_uom_qty") or 0), int(m["id"]), key[1])
        bom_ids = sorted({int(r["bom_id"]) for r in bom_lines.values() if r.get("bom_id")})
        boms = {int(r["id"]): r for r in backend.search_read(
            "mrp.bom", [("id", "in", bom_ids)], ["product_id", "product_tmpl_id", "product_qty"], ids_only=True,
            context={"active_test": False})} if bom_ids else {}
        self._learn_skus(backend, {int(r["product_id"]) for r in ordered.values() if r.get("product_id")})
        done: dict[int, dict[int, dict[int, float]]] = {}  # sale line -> picking id -> bom line -> done
        for picking, line, bom_line, qty, move_id in self._kit_moves:
            per = done.setdefault(line, {}).setdefault(picking.id, {})
            per[bom_line] = per.get(bom_line, 0.0) + to_line(qty, move_id, bom_line)
        far = datetime.max.replace(tzinfo=UTC)
        order = sorted(pickings, key=lambda p: (p.done_at or far, p.id))
        for line, by_picking in done.items():
            row = ordered.get(line) or {}
            kits = float(row.get("product_uom_qty") or 0)
            per_kit = {b: q / kits for (ln, b), q in demand.items() if ln == line and kits > 0 and q > 0}
            for b in list(per_kit):  # a component of the line's own kit: the bill of materials says what one takes
                bom = boms.get(int((bom_lines.get(b) or {}).get("bom_id") or 0)) or {}
                own = (bom.get("product_id") == row.get("product_id") if bom.get("product_id")
                       else bool(bom) and bom.get("product_tmpl_id") == row.get("product_template_id"))
                if own and float(bom.get("product_qty") or 0) > 0 and float(bom_lines[b].get("product_qty") or 0) > 0:
                    per_kit[b] = float(bom_lines[b]["product_qty"]) / float(bom["product_qty"])
            pid = int(row["product_id"]) if row.get("product_id") else None
            sku = (self._skus.get(pid) if pid else None) or f"product id {pid} (no Internal Reference)"
            total: dict[int, float] = {}
            before = 0
            for picking in order:
                if picking.id not in by_picking:
                    continue
                for b, q in by_picking[picking.id].items():
                    total[b] = total.get(b, 0.0) + q
                after = min((int(total.get(b, 0.0) / need + 1e-9) for b, need in per_kit.items()), default=0)
                if after > before:
                    picking.quantities[sku] = picking.quantities.get(sku, 0) + after - before
                    before = after

    @staticmethod
    def _to_line_unit(backend: OdooBackend, bom_lines: dict[int, dict[str, Any]],
                      moves: list[dict[str, Any]]) -> Any:
        """``(quantity, move id, bom line id) -> the quantity in the bom line's unit``, as Odoo's
        ``uom.uom._compute_quantity`` converts it: up to 18 ``factor`` is the units of this one in the reference
        unit (Dozens 1/12: ``/ from.factor * to.factor``); 19 turned it round (Dozens 12, beside its new
        ``relative_factor``: ``* from.factor / to.factor``).  Reads the units' fields (which of the two, by
        ``relative_factor``) and factors (two calls) only when a move's unit is not its bill line's."""
        line_uom = {b: int(r["product_uom_id"]) for b, r in bom_lines.items() if r.get("product_uom_id")}
        move_uom = {int(m["id"]): int(m["product_uom"]) for m in moves if m.get("product_uom")}
        odd = {(move_uom[int(m["id"])], line_uom[int(m["bom_line_id"])]) for m in moves
               if int(m["id"]) in move_uom and int(m["bom_line_id"]) in line_uom
               and move_uom[int(m["id"])] != line_uom[int(m["bom_line_id"])]}
        factor: dict[int, float] = {}
        absolute = False  # 19+: factor is the reference units in one of this unit
        if odd:
            absolute = "relative_factor" in backend.fields_get("uom.uom", ["type"])
            factor = {int(r["id"]): float(r.get("factor") or 0) for r in backend.search_read(
                "uom.uom", [("id", "in", sorted({u for pair in odd for u in pair}))], ["factor"], ids_only=True,
                context={"active_test": False})}

        def convert(quantity: float, move_id: int, bom_line: int) -> float:
            src, dst = move_uom.get(move_id), line_uom.get(bom_line)
            if src is None or dst is None or src == dst or not factor.get(src) or not factor.get(dst):
                return quantity
            return quantity * factor[src] / factor[dst] if absolute else quantity / factor[src] * factor[dst]

        return convert

    def _ship_services(self, backend: OdooBackend, by_sale: dict[int, ImportedOrder],
                       per_sale: dict[int, list[_Picking]],
                       built: dict[int, tuple[list[Shipment], list[str]]]) -> dict[int, list[OrderLine]]:
        """Lines of services ship with the delivery that completes the goods.

        Odoo makes no delivery for a service (gift wrap, an installation): such a line never shipped, so an
        order-level marketplace (EcomLinx, ``shipped_when: all_lines``) waited "for the rest of the order" for
        ever although every parcel had gone (found on a real Odoo 18).  When all lines whose SKU some done
        delivery of the order holds are shipped in full, the SKUs of the lines left (in no delivery) are asked
        (one ``product.product`` read for the whole read, only then, and one more for those it did not find, whose
        Internal Reference may have spaces around it); when Odoo holds every one of them as a
        service, they are added, in full, to the order's latest shipment.  A stocked line left (a backorder not
        done yet, of a SKU shipped or not) keeps the order, and its services, waiting.  Returns, per sale order, the
        lines left whose SKU Odoo holds as a combo (told by the second lookup's answer: no call more)."""
        waiting: dict[int, list[Any]] = {}
        for sale_id, (shipments, _) in built.items():
            if not shipments:
                continue
            delivered = {sku for p in per_sale.get(sale_id, []) for sku in p.quantities}
            taken = _taken(shipments)
            order = by_sale[sale_id].order
            open_lines = [ln for ln in order.lines if taken.get(ln.line_id, 0) < ln.quantity
                          and (ln.status is None or ln.status.value not in ("cancelled", "returned"))]
            if open_lines and not any(ln.sku in delivered for ln in open_lines):
                waiting[sale_id] = open_lines
        if not waiting:
            return {}
        skus = sorted({ln.sku for lines in waiting.values() for ln in lines})
        left_combos: dict[int, list[OrderLine]] = {}
        rows = backend.search_read(PRODUCT, [("default_code", "in", skus), ("type", "=", "service")],
                                   ["default_code"], context={"active_test": False})
        services = {str(r["default_code"]) for r in rows}
        combos: set[str] = set()
        if unfound := [sku for sku in skus if sku not in services]:  # a reference typed with spaces around it,
            #  as the orders step finds it (one call more, only for a SKU the exact lookup did not give)
            found = containing(backend, unfound, ["default_code", "type"])
            spaced, _ = spaced_matches(found, unfound)
            services |= {str(r["default_code"]).strip() for r in spaced if r.get("type") == "service"}
            combos = {str(r["default_code"]).strip() for r in found if r.get("type") == "combo"
                      and isinstance(r.get("default_code"), str) and r["default_code"].strip() in unfound}
        for sale_id, lines in waiting.items():
            shipments = built[sale_id][0]
            taken = _taken(shipments)
            if any(ln.sku in combos for ln in lines):
                left_combos[sale_id] = [ln for ln in lines if ln.sku in combos]
            if not all(ln.sku in services for ln in lines):
                continue  # a stocked line in no done delivery yet (a backorder of another SKU): the goods are not
                #           all shipped; the services would ship now and move to its shipment once it is done
            extra = tuple(ShippedLine(ln.line_id, ln.sku, ln.quantity - taken.get(ln.line_id, 0)) for ln in lines)
            if extra:
                last = shipments[-1]
                shipments[-1] = Shipment(shipment_id=last.shipment_id, lines=(*last.lines, *extra),
                                         tracking_number=last.tracking_number, carrier=last.carrier,
                                         shipped_at=last.shipped_at)
        return left_combos

    def _shipments(self, item: ImportedOrder, pickings: list[_Picking]) -> tuple[list[Shipment], list[str]]:
        """One shipment per delivery, in the order they were done; (shipments, notes on what no line takes)."""
        shipments: list[Shipment] = []
        notes: list[str] = []
        taken: dict[str, int] = {}
        far = datetime.max.replace(tzinfo=UTC)
        for p in sorted(pickings, key=lambda p: (p.done_at or far, p.id)):
            lines, left = assign_lines(item.order, p.quantities, taken)
            for line in lines:
                taken[line.line_id] = taken.get(line.line_id, 0) + line.quantity
            if left:
                what = ", ".join(f"{sku} x{n}" for sku, n in sorted(left.items()))
                notes.append(f"{item.order.reference}: Odoo delivery {p.name} shipped {what}, which no line of the "
                             f"order takes (not ordered, or more than ordered): not sent")
            if lines:
                shipments.append(Shipment(shipment_id=f"odoo:picking:{p.id}", lines=tuple(lines),
                                          tracking_number=p.tracking, carrier=p.carrier, shipped_at=p.done_at))
        return shipments, notes


def _taken(shipments: list[Shipment]) -> dict[str, int]:
    """Line id -> the quantity ``shipments`` ship of it."""
    out: dict[str, int] = {}
    for shipment in shipments:
        for line in shipment.lines:
            out[line.line_id] = out.get(line.line_id, 0) + line.quantity
    return out


def open_odoo_source(odoo_section: dict[str, Any] | None, source: dict[str, Any] | None,
                     base_dir: Path) -> OdooFulfilmentSource:
    """The source for a profile: ``odoo_section`` is its ``orders.odoo`` table (the Odoo the orders go to),
    ``source`` its ``source:`` section (the connection's default when it is Odoo).  Nothing is sent before
    ``read``; a wrong setting is a ``ConfigError`` now."""
    del base_dir  # no file settings: kept for the sources' common factory signature
    return OdooFulfilmentSource(parse_settings(odoo_section, source))
