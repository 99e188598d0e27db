"""With ``tax_included`` set, a sale order whose amount in Odoo is not what the marketplace charged is never
confirmed.

Found on a real Odoo 18: the product's tax was price-included (so the ``tax_included: true`` check passed) but a
fiscal position Odoo applied from the buyer's country mapped it to a 10% tax added on top: 27,950.00 MRU paid,
30,745.00 in the confirmed sale order, reported imported with exit code 0.  Odoo's amounts are read before the
confirmation; here an in-memory Odoo applies such a fiscal position to the customers of one country.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.orders.book import OrderBook, import_kind
from connector.orders.model import Customer
from connector.orders.odoo.destination import DRAFT
from connector.orders.outcome import OrderResult
from tests.orders_odoo_fixtures import book_fixture
from tests.test_orders_odoo_units import FakeOdoo, dest, order

book = book_fixture


class FiscalOdoo(FakeOdoo):
    """Orders of customers in MR get the fiscal position "Export MR", whose tax is added on top (+10%)."""

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        out = super().call(model, method, args, kwargs)
        if (model, method) == ("sale.order", "create"):
            partners = {p["id"]: p for p in self.db["res.partner"]}
            for rec in self.db["sale.order"]:
                if rec["id"] in out and partners.get(rec["partner_id"], {}).get("country_id") == 150:
                    rec.update(amount_total=round(rec["amount_total"] * 1.1, 2), fiscal_position_id=[1, "Export MR"])
        return out


def fiscal(tax: int = 2) -> FiscalOdoo:
    """The products' tax: 2 is price-included (``tax_included: true`` agrees), 1 is added on top."""
    odoo = FiscalOdoo()
    odoo.db["res.country"].append({"id": 150, "code": "MR", "name": "Mauritania"})
    for p in odoo.db["product.product"]:
        p["taxes_id"] = [tax]
    return odoo


def mauritanian(n: int) -> Any:
    return order(n, customer=Customer(remote_id=f"m{n}", name=f"M {n}", country="MR"))


def test_a_total_odoo_changed_is_not_confirmed_and_the_draft_waits(book: OrderBook) -> None:
    odoo = fiscal()
    out = dest(odoo, tax_included=True, marketplaces={}).import_orders([mauritanian(1), order(2)], book, "r")
    assert out[0].result is OrderResult.ATTENTION
    assert out[0].reason is not None and "Odoo's total of" in out[0].reason
    assert "is 3301.10 IQD, not the marketplace's 3001.00 (fiscal position 'Export MR')" in out[0].reason
    assert "the draft waits in Odoo" in out[0].reason
    assert out[1].result is OrderResult.IMPORTED
    assert {so["client_order_ref"]: so["state"] for so in odoo.db["sale.order"]} == {
        mauritanian(1).reference: "draft", order(2).reference: "sale"}
    assert list(book.imported(DRAFT)) == [mauritanian(1).key] and list(book.imported("odoo")) == [order(2).key]
    assert "sale.order.unlink" not in odoo.methods()


def test_every_run_checks_the_same_draft_until_a_person_corrects_it(book: OrderBook) -> None:
    odoo = fiscal()
    dest(odoo, tax_included=True, marketplaces={}).import_orders([mauritanian(1)], book, "r1")
    out = dest(odoo, tax_included=True, marketplaces={}).import_orders([mauritanian(1)], book, "r2")
    assert out[0].result is OrderResult.ATTENTION and len(odoo.db["sale.order"]) == 1  # no second draft
    [draft] = odoo.db["sale.order"]
    draft["amount_total"] = 3001.0  # the merchant set the draft's taxes right in Odoo
    out = dest(odoo, tax_included=True, marketplaces={}).import_orders([mauritanian(1)], book, "r3")
    assert out[0].result is OrderResult.IMPORTED and draft["state"] == "sale"
    assert "sale.order.unlink" not in odoo.methods()


def test_a_draft_found_by_its_reference_is_never_deleted(book: OrderBook) -> None:
    """A sale order with the order's reference that the book does not know (a quotation a person made, or a
    create whose answer was lost): its wrong total leaves it as it is."""
    odoo = fiscal()
    dest(odoo, tax_included=True, marketplaces={}).import_orders([mauritanian(1)], book, "r1")
    book.state.forget(book.marketplace, book.account, import_kind(DRAFT), mauritanian(1).key)
    assert book.imported(DRAFT) == {}
    out = dest(odoo, tax_included=True, marketplaces={}).import_orders([mauritanian(1)], book, "r2")
    assert out[0].result is OrderResult.ATTENTION
    assert [so["state"] for so in odoo.db["sale.order"]] == ["draft"] and "sale.order.unlink" not in odoo.methods()


@pytest.mark.parametrize("tax_included", [None, False])
def test_without_the_setting_nothing_is_read(tax_included: bool | None, book: OrderBook) -> None:
    odoo = fiscal(tax=1)
    extra = {} if tax_included is None else {"tax_included": tax_included}
    out = dest(odoo, marketplaces={}, **extra).import_orders([mauritanian(1)], book, "r")
    if tax_included is None:  # unset: no check, as documented (and no call more)
        assert out[0].result is OrderResult.IMPORTED
        assert [m for m in odoo.methods() if m == "sale.order.search_read"] == ["sale.order.search_read"]
    else:  # prices exclude tax: the untaxed amount is compared, which this fiscal position leaves alone
        assert out[0].result is OrderResult.IMPORTED


def test_prices_excluding_tax_compare_the_untaxed_amount(book: OrderBook) -> None:
    odoo = fiscal(tax=1)

    def untaxed_changed(model: str, method: str, args: Any = None, kwargs: Any = None) -> Any:
        out = FakeOdoo.call(odoo, model, method, args, kwargs)
        if (model, method) == ("sale.order", "create"):
            for rec in odoo.db["sale.order"]:
                rec["amount_untaxed"] = round(rec["amount_untaxed"] / 1.15, 2)
        return out

    odoo.call = untaxed_changed  # type: ignore[method-assign]
    out = dest(odoo, tax_included=False, marketplaces={}).import_orders([order(1)], book, "r")
    assert out[0].result is OrderResult.ATTENTION and "Odoo's untaxed amount of" in str(out[0].reason)
    assert Decimal("3001.00") == sum(ln.unit_price * ln.quantity for ln in order(1).lines)
