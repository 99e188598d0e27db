"""Kits (mrp) of a sale order that was cancelled, set back to quotation and confirmed again: Odoo keeps the first
confirmation's component moves, cancelled, with the same sale_line_id and bom_line_id.  The kits a delivery
shipped must be counted as Odoo counts them (what one kit takes is the bill of materials', not the moves' demand)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connector.fulfilment.odoo import OdooFulfilmentSource
from connector.fulfilment.source import ImportedOrder
from connector.orders.odoo.settings import parse_settings
from connector.sources.odoo.backend import OdooBackend
from tests.orders_fixtures import make_order

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CREATED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CONNECTION = {"url": "http://127.0.0.1:9", "db": "shop", "password_env": "FAKE_ODOO_PW"}
KIT, COMP_A, COMP_B = 10, 11, 12
BOM, BL_A, BL_B = 50, 51, 52
LINE = 700
UNITS, DOZENS = 1, 2  # uom.uom ids


class KitOdoo(OdooBackend):
    """One sale order (id 7) of 1 kit (2 x A + 1 x B), confirmed, cancelled, confirmed again and shipped whole."""

    def __init__(self, moves: list[dict[str, Any]], kits_ordered: float = 1.0, b_unit: int = 0,
                 uom19: bool = False) -> None:
        super().__init__()
        self.moves, self.kits_ordered, self.b_unit = moves, kits_ordered, b_unit or UNITS
        self.uom19 = uom19  # Odoo 19's units: ``factor`` turned round (Dozens 12), beside ``relative_factor``
        self.calls_made: list[tuple[str, str]] = []

    def connect(self) -> None:
        self.first_response_date = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        self.calls_made.append((model, method))
        if method == "fields_get" and model == "uom.uom":
            return {"factor": {}, **({"relative_factor": {}} if self.uom19 else {"factor_inv": {}})}
        if method == "fields_get":
            return {"quantity": {}, "picked": {}, "bom_line_id": {}, "sale_line_id": {}}
        domain = kwargs.get("domain", [])
        offset, limit = kwargs.get("offset", 0), kwargs.get("limit") or 10**9
        leaf = {t[0]: t for t in domain if isinstance(t, tuple)}
        if model == "sale.order":
            rows: list[dict[str, Any]] = []
        elif model == "stock.picking":
            rows = [{"id": 1, "name": "WH/OUT/1", "sale_id": [7, "S7"], "carrier_tracking_ref": "T1",
                     "carrier_id": False, "date_done": "2026-12-02 10:00:00", "write_date": "2026-12-02 10:00:00"}]
        elif model == "stock.move" and "picking_id" in leaf:
            rows = [m for m in self.moves if m["state"] == "done" and m["picking_id"] in leaf["picking_id"][2]]
        elif model == "stock.move":
            rows = [m for m in self.moves if m["sale_line_id"] in leaf["sale_line_id"][2] and m["bom_line_id"]]
        elif model == "sale.order.line":
            rows = [{"id": LINE, "product_id": KIT, "product_template_id": KIT + 100,
                     "product_uom_qty": self.kits_ordered}]
        elif model == "mrp.bom.line":
            rows = [{"id": BL_A, "bom_id": BOM, "product_id": COMP_A, "product_qty": 2.0, "product_uom_id": UNITS},
                    {"id": BL_B, "bom_id": BOM, "product_id": COMP_B, "product_qty": 1.0,
                     "product_uom_id": self.b_unit}]
        elif model == "uom.uom":
            rows = [{"id": UNITS, "factor": 1.0}, {"id": DOZENS, "factor": 12.0 if self.uom19 else 1 / 12}]
            rows = [r for r in rows if r["id"] in leaf["id"][2]]
        elif model == "mrp.bom":
            rows = [{"id": BOM, "product_id": False, "product_tmpl_id": KIT + 100, "product_qty": 1.0}]
        elif model == "product.product":
            rows = [{"id": i, "default_code": {KIT: "KIT", COMP_A: "A", COMP_B: "B"}[i]} for i in leaf["id"][2]]
        else:
            raise AssertionError(f"unexpected {model}.{method}")
        return rows[offset:offset + limit]


def move(mid: int, product: int, bom_line: int, demand: float, done: float, state: str, picking: int | None,
         unit: int = UNITS) -> dict[str, Any]:
    return {"id": mid, "picking_id": picking, "product_id": product, "sale_line_id": LINE, "bom_line_id": bom_line,
            "product_uom_qty": demand, "quantity": done, "picked": state == "done", "state": state,
            "product_uom": unit}


def shipped(moves: list[dict[str, Any]], kits: int = 1, b_unit: int = UNITS, uom19: bool = False,
            backend: KitOdoo | None = None) -> list[int]:
    settings = parse_settings({"connection": CONNECTION}, None)
    order = make_order("K1", ("KIT", kits), created=CREATED)
    odoo = backend or KitOdoo(moves, kits, b_unit, uom19)
    got = OdooFulfilmentSource(settings, backend=odoo).read([ImportedOrder(order, "7")], None, NOW)
    return [sum(line.quantity for line in s.lines) for s in got.progress[0].shipments]


def test_a_kit_order_cancelled_and_confirmed_again_ships_its_kit() -> None:
    moves = [move(1, COMP_A, BL_A, 2, 0, "cancel", 9), move(2, COMP_B, BL_B, 1, 0, "cancel", 9),  # first confirmation
             move(3, COMP_A, BL_A, 2, 2, "done", 1), move(4, COMP_B, BL_B, 1, 1, "done", 1)]
    assert shipped(moves) == [1]  # Odoo's qty_delivered: 1


def test_a_kit_shipped_whole_still_counts_once() -> None:
    moves = [move(3, COMP_A, BL_A, 2, 2, "done", 1), move(4, COMP_B, BL_B, 1, 1, "done", 1)]
    assert shipped(moves) == [1]


def test_a_component_counted_in_dozens_by_its_bill_and_moved_in_units_is_converted() -> None:
    """One kit takes 2 A and 1 dozen B (the bill line's unit); the move of B is in Units (as 16 makes it): 6 units
    are half a dozen, so no kit is whole; 12 units are one."""
    first = [move(3, COMP_A, BL_A, 2, 2, "done", 1), move(4, COMP_B, BL_B, 12, 6, "done", 1, unit=UNITS)]
    assert shipped(first, b_unit=DOZENS) == []  # Odoo's qty_delivered: 0 (unconverted, 6 "dozens" made it 1)
    whole = [*first[:1], move(4, COMP_B, BL_B, 12, 12, "done", 1, unit=UNITS)]
    assert shipped(whole, b_unit=DOZENS) == [1]


def test_on_odoo_19_a_component_in_dozens_is_converted_with_its_turned_round_factor() -> None:
    """Odoo 19 turned ``uom.uom.factor`` round (Dozens 12, not 1/12; ``_compute_quantity`` multiplies by the source's
    factor).  Measured on a real 19: 2 A and 6 of the 12 units of B shipped, Odoo's qty_delivered 0; the 1/12-style
    conversion made 6 units 72 dozens and sent 1 kit as shipped.  Which style: ``relative_factor`` (19) in
    ``fields_get`` of ``uom.uom``, asked only when a move's unit is not its bill line's."""
    first = [move(3, COMP_A, BL_A, 2, 2, "done", 1), move(4, COMP_B, BL_B, 12, 6, "done", 1, unit=UNITS)]
    odoo = KitOdoo(first, 1, DOZENS, uom19=True)
    assert shipped(first, backend=odoo) == []
    assert odoo.calls_made.count(("uom.uom", "fields_get")) == 1
    whole = [*first[:1], move(4, COMP_B, BL_B, 12, 12, "done", 1, unit=UNITS)]
    assert shipped(whole, b_unit=DOZENS, uom19=True) == [1]


def test_units_are_not_asked_about_when_every_move_is_in_its_bill_lines_unit() -> None:
    moves = [move(3, COMP_A, BL_A, 2, 2, "done", 1), move(4, COMP_B, BL_B, 1, 1, "done", 1)]
    odoo = KitOdoo(moves)
    assert shipped(moves, backend=odoo) == [1]
    assert not [c for c in odoo.calls_made if c[0] == "uom.uom"]
