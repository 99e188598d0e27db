"""The orders destination on an Odoo database with two companies: the connection's ``company`` setting.

Found on a real Odoo 18 (a second company with a pricelist in the marketplace's currency, a SKU in each company):
with ``company`` set in the profile's Odoo source, the orders' calls still saw every company, the other
company's pricelist was taken and Odoo refused every sale order ("Incompatible companies"), and the SKU sold by
both companies needed attention as "on 2 variants".  A small in-memory Odoo with Odoo's company rules
(``allowed_company_ids`` in the context hides the records of other companies) stands in for the server here.
"""

from __future__ import annotations

from typing import Any

import pytest

from connector.errors import ConfigError
from connector.orders.book import OrderBook
from connector.orders.odoo import OdooOrderDestination, parse_settings
from connector.orders.outcome import OrderResult
from connector.sources.odoo.backend import OdooBackend, OdooRPCError
from tests.orders_odoo_fixtures import book_fixture
from tests.test_orders_odoo_units import CONNECTION, FakeOdoo, order

MAIN, OTHER = 1, 2

book = book_fixture


class TwoCompanies(FakeOdoo):
    """Records carry ``company_id`` (False: shared).  Without ``allowed_company_ids`` a call sees every company
    of the user and creates in its default company (MAIN), as Odoo does over RPC."""

    def __init__(self) -> None:
        super().__init__()
        self.db["res.company"] = [{"id": MAIN, "name": "Main Co"}, {"id": OTHER, "name": "Other Co"}]
        self.db["product.pricelist"] = [
            {"id": 7, "name": "Other IQD", "currency_id": [5, "IQD"], "sequence": 1, "company_id": OTHER},
            {"id": 1, "name": "Main IQD", "currency_id": [5, "IQD"], "sequence": 2, "company_id": MAIN}]
        self.db["product.product"] += [{"id": 50, "default_code": "SKU-1", "taxes_id": [], "company_id": OTHER}]
        self.contexts: list[dict[str, Any]] = []

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        return OdooBackend.call(self, model, method, args, kwargs)  # the real one: its default context, then send

    def send(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        context = (kwargs or {}).get("context") or {}
        self.contexts.append(context)
        allowed = context.get("allowed_company_ids") or [MAIN, OTHER]
        if model == "sale.order" and method == "create":
            company = allowed[0]
            for vals in (args or [[]])[0]:
                pricelist = next(p for p in self.db["product.pricelist"] if p["id"] == vals["pricelist_id"])
                products = {ln[2]["product_id"] for ln in vals["order_line"]}
                others = [r for r in self.db["product.product"] if r["id"] in products
                          and r.get("company_id") not in (False, None, company)]
                if pricelist["company_id"] not in (False, company) or others:
                    raise OdooRPCError("Odoo sale.order.create: Incompatible companies on records",
                                       name="odoo.exceptions.UserError")
        hidden = {m: [r for r in rows if r.get("company_id") not in (None, False, *allowed)]
                  for m, rows in self.db.items()}
        for m, rows in hidden.items():
            self.db[m] = [r for r in self.db[m] if r not in rows]
        try:
            return FakeOdoo.call(self, model, method, args, kwargs)
        finally:
            for m, rows in hidden.items():
                self.db[m].extend(rows)


def destination(fake: FakeOdoo, company: str | int | None) -> OdooOrderDestination:
    connection = {**CONNECTION, **({"company": company} if company is not None else {})}
    return OdooOrderDestination(parse_settings({"connection": connection}, None), backend=fake)


@pytest.mark.parametrize("company", ["Main Co", MAIN])
def test_the_connections_company_picks_its_pricelist_and_its_products(company: str | int, book: OrderBook
                                                                      ) -> None:
    fake = TwoCompanies()
    out = destination(fake, company).import_orders([order(1, sku="SKU-1")], book, "r")
    assert out[0].result is OrderResult.IMPORTED, out[0].reason
    so = fake.db["sale.order"][0]
    assert so["pricelist_id"] == 1 and so["order_line"][0][2]["product_id"] == 11  # Main IQD, Main's SKU-1
    assert all(c.get("allowed_company_ids") == [MAIN] for c in fake.contexts[1:])  # every call after the lookup


def test_the_company_is_looked_up_once_and_kept_for_the_next_runs(book: OrderBook) -> None:
    fake = TwoCompanies()
    destination(fake, "Main Co").import_orders([order(1)], book, "r1")
    again = TwoCompanies()
    destination(again, "Main Co").import_orders([order(2)], book, "r2")
    assert "res.company.search_read" in fake.methods() and "res.company.search_read" not in again.methods()
    assert again.db["sale.order"][0]["pricelist_id"] == 1


def test_an_unknown_company_is_a_config_error_naming_the_setting(book: OrderBook) -> None:
    with pytest.raises(ConfigError, match=r"odoo setting 'company'.*no company 'Nope'"):
        destination(TwoCompanies(), "Nope").import_orders([order(1)], book, "r")


def test_without_a_company_calls_carry_no_company_context(book: OrderBook) -> None:
    fake = TwoCompanies()
    out = destination(fake, None).import_orders([order(1, sku="SKU-2")], book, "r")
    assert "res.company.search_read" not in fake.methods()
    assert all("allowed_company_ids" not in c for c in fake.contexts)
    # every company seen, as before: the other company's pricelist comes first, and Odoo refuses the order
    assert out[0].result is OrderResult.FAILED and "Incompatible companies" in str(out[0].reason)
