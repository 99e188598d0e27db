"""Combo products (Odoo 18+, product type ``combo``) in the Odoo fulfilment read (``OdooFulfilmentSource``).

A combo line of a sale order is never delivered: Odoo's order form adds one line per chosen item, linked to the
combo line (``linked_line_id``, ``combo_item_id``), and the delivery moves are the items' (measured on a real Odoo
18, which also keeps the combo line's own delivered quantity at 0).  Read per SKU, the items matched no line of the
marketplace's order ("shipped CT-CMB-A x1, which no line of the order takes: not sent") and the combo line waited
for a delivery that never comes.

- **Items shipped**: when a delivery holds more of a SKU than the order takes (the only way items show), the
  combo lines of those sale orders and their items are read, then the items' done moves; a combo line ships as
  a kit does: per item, its done quantity over what one combo takes (the item line's quantity over the combo
  line's), the smallest, rounded down, counted over the deliveries in the order they were done.  3 calls (the
  line fields once per source, the lines, the moves), and the combos' SKUs when they are not known yet.
- **A bare combo line** (no items: a combo line created over RPC, as the orders step imports it, gets none) has
  nothing to ship.  Once everything else of the order shipped, the service lookup (``_ship_services``) already
  tells which lines left are combos; their sale order lines are read (1 call, only then) and a combo line without
  items is a problem of the order: the run holds it as needs attention and says what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connector.orders.model import Order, OrderLine

if TYPE_CHECKING:
    from connector.fulfilment.odoo import _Picking
    from connector.fulfilment.source import ImportedOrder
    from connector.sources.odoo.backend import OdooBackend

SALE_LINE = "sale.order.line"
MOVE = "stock.move"
COMBO_LINE_FIELDS = ["order_id", "product_id", "product_uom_qty", "linked_line_id", "combo_item_id"]


@dataclass(slots=True)
class ComboLine:
    """A sale order line of a combo product and its items (item line id -> quantity one combo takes)."""

    id: int
    sale_id: int
    sale_name: str
    product_id: int
    quantity: float
    items: dict[int, float] = field(default_factory=dict)


def _m2o_id(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def over_shipped(order: Order, pickings: Sequence[_Picking]) -> bool:
    """Whether ``pickings`` hold more of some SKU than ``order`` has (not ordered, or beyond what was ordered):
    a combo's items show so.  No call."""
    ordered: dict[str, int] = {}
    for line in order.lines:
        ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
    shipped: dict[str, int] = {}
    for p in pickings:
        for sku, quantity in p.quantities.items():
            shipped[sku] = shipped.get(sku, 0) + quantity
    return any(quantity > ordered.get(sku, 0) for sku, quantity in shipped.items())


def combo_lines(backend: OdooBackend, sale_ids: Sequence[int]) -> list[ComboLine]:
    """The combo lines of ``sale_ids`` with their items (one call)."""
    rows = backend.search_read(SALE_LINE, [("order_id", "in", sorted(sale_ids)), "|",
                                           ("product_id.type", "=", "combo"), ("combo_item_id", "!=", False)],
                               COMBO_LINE_FIELDS, order="id")
    combos: dict[int, ComboLine] = {}
    for r in rows:
        if not r.get("combo_item_id") and r.get("product_id"):
            sale = r.get("order_id") or [0, ""]
            combos[int(r["id"])] = ComboLine(int(r["id"]), int(sale[0]), str(sale[1] if len(sale) > 1 else sale[0]),
                                             int(r["product_id"][0]), float(r.get("product_uom_qty") or 0))
    for r in rows:
        combo = combos.get(_m2o_id(r.get("linked_line_id")) or 0)
        if r.get("combo_item_id") and combo is not None and combo.quantity > 0:
            combo.items[int(r["id"])] = float(r.get("product_uom_qty") or 0) / combo.quantity
    return list(combos.values())


def bare_combo_problem(order: Order, line: OrderLine, sale_name: str) -> str:
    """What the run says of a marketplace line whose combo line in Odoo has no items."""
    return (f"line {line.line_id} ({line.sku} x{line.quantity}) is a combo product, and Odoo's {sale_name} holds no "
            f"items for it: Odoo delivers a combo's items, never the combo line, so it has no items to ship. In "
            f"Odoo, open {sale_name} and choose the combo's items with the Edit Configuration button of its "
            f"{line.sku} line (their delivery then ships it), or settle the line on {order.marketplace} by hand")


class ComboReads:
    """The combo steps of ``OdooFulfilmentSource`` (it provides ``_skus``, ``_learn_skus``, ``_quantity_fields``
    and ``_kit_moves``)."""

    _skus: dict[int, str | None]
    _quantity_fields: list[str] | None
    _kit_moves: list[tuple[Any, int, int, float, int]]
    _combo_fields: bool | None = None  # sale.order.line has combo_item_id (18+)

    def _learn_skus(self, backend: OdooBackend, product_ids: set[int]) -> None:
        raise NotImplementedError

    def _ship_combo_items(self, backend: OdooBackend, by_sale: dict[int, ImportedOrder],
                          per_sale: dict[int, list[_Picking]]) -> None:
        """Items' quantities in the deliveries become their combo's (``over_shipped`` orders only)."""
        candidates = [sid for sid, pickings in per_sale.items() if over_shipped(by_sale[sid].order, pickings)]
        if not candidates:
            return
        if self._combo_fields is None:
            self._combo_fields = "combo_item_id" in backend.fields_get(SALE_LINE, ["type"])
        combos = [c for c in combo_lines(backend, candidates) if c.items] if self._combo_fields else []
        if not combos:
            return
        qty_field = (self._quantity_fields or ["quantity"])[0]
        pickings = {p.id: p for sid in candidates for p in per_sale[sid]}
        domain: list[Any] = [("sale_line_id", "in", sorted(i for c in combos for i in c.items)),
                             ("picking_id", "in", sorted(pickings)), ("state", "=", "done")]
        if "picked" in (self._quantity_fields or []):
            domain.append(("picked", "=", True))
        moves = backend.search_read(MOVE, domain, ["picking_id", "sale_line_id", "product_id", qty_field],
                                    ids_only=True)
        kit_moves = {m for *_rest, m in self._kit_moves}  # counted as their kit already
        done: dict[int, dict[int, float]] = {}  # picking id -> item line -> done
        for m in moves:
            picking = pickings.get(int(m["picking_id"]))
            if picking is None or int(m["id"]) in kit_moves:
                continue
            quantity = float(m.get(qty_field) or 0)
            per = done.setdefault(picking.id, {})
            per[int(m["sale_line_id"])] = per.get(int(m["sale_line_id"]), 0.0) + quantity
            sku = self._skus.get(int(m["product_id"])) or f"product id {m['product_id']} (no Internal Reference)"
            left = picking.quantities.get(sku, 0) - round(quantity)
            if left > 0:
                picking.quantities[sku] = left
            else:
                picking.quantities.pop(sku, None)
        self._learn_skus(backend, {c.product_id for c in combos})
        far = datetime.max.replace(tzinfo=UTC)
        for combo in combos:
            sku = self._skus.get(combo.product_id) or f"product id {combo.product_id} (no Internal Reference)"
            total: dict[int, float] = {}
            before = 0
            for picking in sorted(per_sale[combo.sale_id], key=lambda p: (p.done_at or far, p.id)):
                for item, quantity in done.get(picking.id, {}).items():
                    if item in combo.items:
                        total[item] = total.get(item, 0.0) + quantity
                after = min(int(total.get(item, 0.0) / need + 1e-9) if need > 0 else 0
                            for item, need in combo.items.items())
                if after > before:
                    picking.quantities[sku] = picking.quantities.get(sku, 0) + after - before
                    before = after

    def _bare_combos(self, backend: OdooBackend, by_sale: dict[int, ImportedOrder],
                     waiting: dict[int, list[OrderLine]]) -> dict[int, list[str]]:
        """Sale id -> the problems of its lines left that are combos without items (``waiting``: the lines
        left of each order whose SKU Odoo holds as a combo).  One call, only when there are some."""
        if not waiting:
            return {}
        combos = combo_lines(backend, list(waiting))
        self._learn_skus(backend, {c.product_id for c in combos})
        problems: dict[int, list[str]] = {}
        for sale_id, lines in waiting.items():
            order = by_sale[sale_id].order
            mine = [c for c in combos if c.sale_id == sale_id]
            for line in lines:
                bare = [c for c in mine if self._skus.get(c.product_id) == line.sku and c.quantity > 0 and not c.items]
                if bare:
                    problems.setdefault(sale_id, []).append(bare_combo_problem(order, line, bare[0].sale_name))
        return problems
