"""A service line (gift wrap, an installation) ships with the delivery that completes the goods.

Odoo makes no delivery for a service product.  Found on a real Odoo 18 with an EcomLinx order of a kit and a gift
wrap: the kit's delivery was done, but the order stayed "waiting for the rest of the order (1 of 2 lines
shipped)" for ever (EcomLinx is told an order shipped once every line shipped).  Now, once every line some
delivery holds has shipped, the lines left are looked up (one call) and those of services are added to the
latest shipment; a stocked line still to come (a backorder) keeps the order waiting, with no call more.
"""

from __future__ import annotations

from typing import Any

from connector.fulfilment.source import ImportedOrder
from tests.test_fulfil_odoo_units import NOW, DeliveriesOdoo, order, picking, source

SERVICES = {"SKU-9", " WRAP-1\t"}  # what Odoo holds as services (one Internal Reference typed with spaces)
STOCKED = {"SKU-1", "SKU-5", "SKU-12"}


class WithServices(DeliveriesOdoo):
    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        domain = (kwargs or {}).get("domain") or []
        terms = [t for t in domain if isinstance(t, list | tuple)]
        if model == "product.product" and any(t[0] == "default_code" for t in terms):
            self.calls += 1
            self.log.append((model, method, kwargs or {}))
            if any(t[1] == "ilike" for t in terms):  # Odoo's ilike: the reference contains the text, any case
                parts = [t[2].casefold() for t in terms if t[1] == "ilike"]
                return [{"id": 90, "default_code": c, "type": "service" if c in SERVICES else "consu"}
                        for c in sorted(SERVICES | STOCKED) if any(x in c.casefold() for x in parts)]
            assert ("type", "=", "service") in domain
            codes = next(t[2] for t in terms if t[0] == "default_code")
            return [{"id": 90, "default_code": c} for c in codes if c in SERVICES]
        return super().call(model, method, args, kwargs)


def test_a_service_line_ships_with_the_last_delivery_of_the_goods() -> None:
    fake = WithServices([], [picking(1, 7, "2026-12-02 08:00:00")], [{"picking_id": 1, "product_id": 1,
                                                                       "quantity": 2.0}])
    o = order(7, lines=(("SKU-1", 2), ("SKU-9", 1)))
    got = source(fake).read([ImportedOrder(o, "7")], None, NOW)
    [progress] = got.progress
    assert progress.shipped_quantities() == {"7-0": 2, "7-1": 1}
    assert progress.fully_shipped(o)
    assert [ln.sku for ln in progress.shipments[0].lines] == ["SKU-1", "SKU-9"]
    assert fake.methods().count("product.product.search_read") == 2  # the moves' SKUs, then the lines left


def test_a_stocked_line_still_to_deliver_keeps_the_order_waiting_without_a_call() -> None:
    fake = WithServices([], [picking(1, 7, "2026-12-02 08:00:00")], [{"picking_id": 1, "product_id": 1,
                                                                       "quantity": 1.0}])
    o = order(7, lines=(("SKU-1", 2), ("SKU-9", 1)))  # SKU-1: 1 of 2 delivered, the backorder to come
    [progress] = source(fake).read([ImportedOrder(o, "7")], None, NOW).progress
    assert progress.shipped_quantities() == {"7-0": 1} and not progress.fully_shipped(o)
    assert fake.methods().count("product.product.search_read") == 1  # the moves' SKUs only


def test_a_stocked_line_in_no_delivery_yet_is_not_shipped() -> None:
    fake = WithServices([], [picking(1, 7, "2026-12-02 08:00:00")], [{"picking_id": 1, "product_id": 1,
                                                                       "quantity": 2.0}])
    o = order(7, lines=(("SKU-1", 2), ("SKU-5", 1)))  # SKU-5 is stocked: its own delivery is still open
    [progress] = source(fake).read([ImportedOrder(o, "7")], None, NOW).progress
    assert progress.shipped_quantities() == {"7-0": 2} and not progress.fully_shipped(o)


def test_a_service_waits_while_a_stocked_line_is_in_no_done_delivery_yet() -> None:
    """SKU-5 is stocked and still in an open delivery (a backorder of another SKU than the one shipped): the
    service must not ship with the first delivery; it would move to the backorder's shipment once that is done,
    and Elryan would hold the order ('line already went to Elryan in a package') for ever."""
    fake = WithServices([], [picking(1, 7, "2026-12-02 08:00:00")], [{"picking_id": 1, "product_id": 1,
                                                                       "quantity": 2.0}])
    o = order(7, lines=(("SKU-1", 2), ("SKU-5", 1), ("SKU-9", 1)))
    [progress] = source(fake).read([ImportedOrder(o, "7")], None, NOW).progress
    assert progress.shipped_quantities() == {"7-0": 2} and not progress.fully_shipped(o)


def test_a_service_whose_internal_reference_has_spaces_ships_too() -> None:
    """Odoo holds the gift wrap as ' WRAP-1\t': the catalogue sent it as WRAP-1 and the orders step found it so
    (its second lookup); the services lookup asked for WRAP-1 exactly, found nothing, and the order waited "for
    the rest of the order" for ever.  A reference that only contains the SKU (SKU-12 for SKU-1) is no match."""
    fake = WithServices([], [picking(1, 7, "2026-12-02 08:00:00")], [{"picking_id": 1, "product_id": 1,
                                                                       "quantity": 2.0}])
    o = order(7, lines=(("SKU-1", 2), ("WRAP-1", 1)))
    [progress] = source(fake).read([ImportedOrder(o, "7")], None, NOW).progress
    assert progress.shipped_quantities() == {"7-0": 2, "7-1": 1} and progress.fully_shipped(o)
    waiting = order(8, lines=(("SKU-1", 2), ("SKU-12", 1)))  # SKU-12 is stocked, in no delivery yet
    fake = WithServices([], [picking(1, 8, "2026-12-02 08:00:00")], [{"picking_id": 1, "product_id": 1,
                                                                       "quantity": 2.0}])
    [progress] = source(fake).read([ImportedOrder(waiting, "8")], None, NOW).progress
    assert progress.shipped_quantities() == {"8-0": 2} and not progress.fully_shipped(waiting)
