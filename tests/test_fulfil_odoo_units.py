"""Odoo as the fulfilment source and marketplace cancellations into Odoo, without a server: paging, deliveries
of sale orders the connector did not import, what a cancellation does when Odoo refuses it, when the sale order
was cancelled already (a run killed after the cancel) or is gone.  The recorded behaviour on real 16 / 18 is in
tests/test_fulfil_odoo.py."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.fulfilment.odoo import OdooFulfilmentSource
from connector.fulfilment.source import ImportedOrder
from connector.orders.book import OrderBook
from connector.orders.model import Order, OrderLine, OrderStatus
from connector.orders.odoo import parse_settings
from connector.orders.outcome import OrderResult
from connector.sources.odoo.backend import OdooBackend, OdooRPCError
from connector.sync.state import StateStore
from tests.test_orders_odoo_units import CONNECTION, FakeOdoo, dest

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def order(n: int, status: OrderStatus = OrderStatus.NEW, lines: tuple[tuple[str, int], ...] = (("SKU-1", 2),)
          ) -> Order:
    return Order("elryan", "main", f"O{n}", status, status.value, datetime(2026, 12, 1, tzinfo=UTC), "IQD",
                 tuple(OrderLine(f"{n}-{k}", sku, q, Decimal("1500"), "IQD") for k, (sku, q) in enumerate(lines)))


@pytest.fixture
def book(tmp_path: Path) -> OrderBook:
    state = StateStore.open(tmp_path / "state.sqlite")
    yield OrderBook(state, "elryan", "main")
    state.close()


# -- marketplace cancellations into Odoo ------------------------------------------------------------------------
class CancellingOdoo(FakeOdoo):
    """FakeOdoo with deliveries and ``action_cancel`` (the context is kept to check it)."""

    def __init__(self) -> None:
        super().__init__()
        self.db["stock.picking"] = []
        self.contexts: list[Any] = []

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        if method == "action_cancel":
            self.calls += 1
            self.log.append((model, method, args[0]))
            self.contexts.append((kwargs or {}).get("context"))
            locked = [r for r in self.db["sale.order"] if r["id"] in args[0] and r["state"] == "done"]
            if locked:
                raise OdooRPCError("You cannot cancel a locked order. Please unlock it first.",
                                   name="odoo.exceptions.UserError")
            for r in self.db["sale.order"]:
                if r["id"] in args[0]:
                    r["state"] = "cancel"
            return True
        return super().call(model, method, args, kwargs)


def imported(book: OrderBook, fake: CancellingOdoo, *orders: Order) -> None:
    for n, o in enumerate(orders):
        sid = 500 + n
        fake.db["sale.order"].append({"id": sid, "name": f"S{sid}", "state": "sale", "client_order_ref": o.reference})
        book.mark_imported("odoo", o, str(sid), {"reference": o.reference, "confirmed": True})


def cancelled(o: Order) -> Order:
    return dataclasses.replace(o, status=OrderStatus.CANCELLED, raw_status="cancelled")


def test_cancellation_with_the_wizard_skipped_once_then_nothing(book: OrderBook) -> None:
    fake = CancellingOdoo()
    imported(book, fake, order(1), order(2))
    out = dest(fake).import_orders([cancelled(order(1)), order(2)], book, "r1")
    assert [o.result for o in out] == [OrderResult.UPDATED, OrderResult.UNCHANGED]
    assert fake.contexts == [{"disable_cancel_warning": True}]
    assert fake.db["sale.order"][0]["state"] == "cancel" and fake.db["sale.order"][1]["state"] == "sale"
    fake.log.clear()
    again = dest(fake).import_orders([cancelled(order(1))], book, "r2")
    assert again[0].result is OrderResult.UNCHANGED and fake.log == []  # recorded: no call at all


def test_killed_after_the_cancel_is_recorded_unchanged_without_a_second_cancel(book: OrderBook) -> None:
    fake = CancellingOdoo()
    imported(book, fake, order(1))
    fake.db["sale.order"][0]["state"] = "cancel"  # cancelled by a run that died before recording it
    out = dest(fake).import_orders([cancelled(order(1))], book, "r1")
    assert out[0].result is OrderResult.UNCHANGED and "already cancelled in Odoo" in out[0].reason
    assert "sale.order.action_cancel" not in fake.methods()
    assert book.imported_bodies("odoo", ["O1"])["O1"]["cancelled"] is True


def test_refused_cancellation_fails_with_odoos_message_and_is_tried_again(book: OrderBook) -> None:
    fake = CancellingOdoo()
    imported(book, fake, order(1), order(2))
    fake.db["sale.order"][0]["state"] = "done"  # locked (16)
    out = dest(fake).import_orders([cancelled(order(1)), cancelled(order(2))], book, "r1")
    assert out[0].result is OrderResult.FAILED and "You cannot cancel a locked order" in out[0].reason
    assert out[1].result is OrderResult.UPDATED  # the page refused: one by one, the other goes through
    assert "cancelled" not in book.imported_bodies("odoo", ["O1"])["O1"]
    fake.log.clear()
    dest(fake).import_orders([cancelled(order(1))], book, "r2")
    assert "sale.order.action_cancel" in fake.methods()


def test_sale_order_gone_or_shipped_needs_attention(book: OrderBook) -> None:
    fake = CancellingOdoo()
    imported(book, fake, order(1), order(2))
    del fake.db["sale.order"][0]
    fake.db["stock.picking"].append({"id": 9, "name": "WH/OUT/9", "sale_id": [501, "S501"],
                                     "picking_type_code": "outgoing", "state": "done"})
    out = dest(fake).import_orders([cancelled(order(1)), cancelled(order(2))], book, "r1")
    assert [o.result for o in out] == [OrderResult.ATTENTION] * 2
    assert "is no longer in Odoo" in out[0].reason
    assert out[1].reason == ("cancelled on the marketplace after it shipped: S501 has done deliveries WH/OUT/9; "
                             "not cancelled in Odoo")
    assert "sale.order.action_cancel" not in fake.methods()


# -- the fulfilment source ------------------------------------------------------------------------------------
class DeliveriesOdoo(OdooBackend):
    """Answers the source's calls from rows; domains are checked for what the source must ask."""

    def __init__(self, sales: list[dict[str, Any]], pickings: list[dict[str, Any]], moves: list[dict[str, Any]],
                 picked: bool = True) -> None:
        super().__init__()
        self.sales, self.pickings, self.moves, self.picked = sales, pickings, moves, picked
        self.log: list[tuple[str, str, dict[str, Any]]] = []

    def connect(self) -> None:
        self.calls += 3
        self.first_response_date = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        self.calls += 1
        self.log.append((model, method, kwargs))
        if self.first_response_date is None:
            self.first_response_date = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
        if method == "fields_get":
            return {"quantity": {}, "picked": {}} if self.picked else {"quantity_done": {}}
        domain = kwargs["domain"]
        since = next((t[2] for t in domain if isinstance(t, tuple) and "write_date" in t[0]), "")
        offset, limit = kwargs.get("offset", 0), kwargs.get("limit") or 10**9
        if model == "sale.order":
            rows = [s for s in self.sales if s["state"] == "cancel" and s["write_date"] >= since]
        elif model == "stock.picking":
            assert ("picking_type_code", "=", "outgoing") in domain and ("state", "=", "done") in domain
            extra = next((t[2] for t in domain if isinstance(t, tuple) and t[:2] == ("sale_id", "in")), [])
            touched = {p["sale_id"][0] for p in self.pickings if p["write_date"] >= since} | set(extra)
            rows = [p for p in self.pickings if p["sale_id"][0] in touched and p["type"] == "outgoing"
                    and p["state"] == "done"]
        elif model == "stock.move":
            ids = next(t[2] for t in domain if t[0] == "picking_id")
            rows = [m for m in self.moves if m["picking_id"] in ids]
        else:
            ids = next(t[2] for t in domain if t[0] == "id")
            rows = [{"id": i, "default_code": f"SKU-{i}"} for i in ids]
        return rows[offset:offset + limit]

    def methods(self) -> list[str]:
        return [f"{m}.{meth}" for m, meth, _ in self.log]


def picking(pid: int, sale: int, written: str, kind: str = "outgoing", state: str = "done") -> dict[str, Any]:
    return {"id": pid, "name": f"WH/OUT/{pid}", "sale_id": [sale, f"S{sale}"], "type": kind, "state": state,
            "carrier_tracking_ref": f"T{pid}", "carrier_id": [1, "DHL"], "date_done": written, "write_date": written}


def source(fake: OdooBackend, page_size: int = 500) -> OdooFulfilmentSource:
    return OdooFulfilmentSource(parse_settings({"connection": CONNECTION}, None), backend=fake, page_size=page_size)


def test_pages_deliveries_of_other_sale_orders_in_a_note_returns_never_read() -> None:
    early, late = "2026-12-02 08:00:00", "2026-12-02 09:30:00"
    pickings = [picking(1, 7, early), picking(2, 7, late), picking(3, 8, late), picking(4, 99, late),
                picking(5, 7, late, kind="incoming")]
    moves = [{"picking_id": 1, "product_id": 1, "quantity": 1.0}, {"picking_id": 2, "product_id": 1, "quantity": 1.0},
             {"picking_id": 3, "product_id": 2, "quantity": 3.0}]
    fake = DeliveriesOdoo([{"id": 8, "state": "cancel", "write_date": late}], pickings, moves)
    items = [ImportedOrder(order(7, lines=(("SKU-1", 2),)), "7"), ImportedOrder(order(8, lines=(("SKU-2", 3),)), "8"),
             ImportedOrder(order(9), "9")]
    got = source(fake, page_size=2).read(items, "2026-12-02T09:00:00Z", NOW)
    by_key = {p.order_key: p for p in got.progress}
    assert set(by_key) == {"O7", "O8"}  # O9: nothing in Odoo
    # O7's delivery of 08:00 is before the window, but comes with its new one: the progress is whole
    assert [s.shipment_id for s in by_key["O7"].shipments] == ["odoo:picking:1", "odoo:picking:2"]
    assert by_key["O7"].shipped_quantities() == {"7-0": 2}
    assert by_key["O8"].cancelled and by_key["O8"].shipments[0].carrier == "DHL"
    assert got.notes == ["1 done Odoo deliveries of 1 sale orders the connector did not import were ignored"]
    assert got.cursor == "2026-12-02T10:00:00Z"  # the server's clock at this read's first answer
    # 4 deliveries over pages of 2: 3 picking reads (the last one short), 2 move reads, fields once, SKUs once
    assert fake.methods().count("stock.picking.search_read") == 3
    assert fake.methods().count("stock.move.search_read") == 2
    assert fake.methods().count("stock.move.fields_get") == 1
    assert fake.methods().count("product.product.search_read") == 2  # the second page's product is new


def test_idle_read_is_two_calls_and_16_reads_quantity_done() -> None:
    fake = DeliveriesOdoo([], [picking(1, 7, "2026-12-02 08:00:00")],
                          [{"picking_id": 1, "product_id": 1, "quantity_done": 2.0}], picked=False)
    items = [ImportedOrder(order(7), "7")]
    idle = source(fake).read(items, "2026-12-02T09:00:00Z", NOW)
    assert idle.progress == [] and fake.calls == 3 + 2
    full = source(DeliveriesOdoo([], fake.pickings, fake.moves, picked=False)).read(items, None, NOW)
    assert full.progress[0].shipped_quantities() == {"7-0": 2}


def test_dry_run_says_a_cancelled_order_would_cancel_its_sale_order(book: OrderBook) -> None:
    fake = CancellingOdoo()
    imported(book, fake, order(1), order(2))
    out = dest(fake).preview([cancelled(order(1)), order(2)], book)
    assert out[0].reason.startswith("dry run: cancelled on the marketplace: its sale order would be cancelled")
    assert out[1].reason == "dry run: would be updated" and fake.log == []


class SpacedCodes(DeliveriesOdoo):
    """Odoo holding the Internal Reference with spaces around it (Odoo does not trim it)."""

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        rows = super().call(model, method, args, kwargs)
        if model == "product.product":
            return [{**r, "default_code": f"  {r['default_code']}\u00a0"} for r in rows]
        return rows


def test_a_delivery_of_a_product_whose_reference_has_spaces_around_ships_its_line() -> None:
    """The catalogue read sends the SKU without them, so the marketplace's line carries it so."""
    fake = SpacedCodes([], [picking(1, 7, "2026-12-02 08:00:00")],
                       [{"picking_id": 1, "product_id": 1, "quantity": 2.0}])
    got = source(fake).read([ImportedOrder(order(7, lines=(("SKU-1", 2),)), "7")], None, NOW)
    assert got.progress[0].shipped_quantities() == {"7-0": 2} and got.notes == []
