"""Odoo as the orders destination, without a server: settings, field choice by ``fields_get``, taxes, Odoo's
refusals, paging.  A small in-memory Odoo (``FakeOdoo``) answers the few RPC calls the destination makes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.errors import ConfigError
from connector.orders.book import OrderBook
from connector.orders.model import Customer, Order, OrderLine, OrderStatus
from connector.orders.odoo import OdooOrderDestination, open_odoo_destination, parse_settings
from connector.orders.odoo.partners import partner_key
from connector.orders.outcome import OrderResult
from connector.sources.odoo.backend import OdooBackend, OdooRPCError, OdooUnreachable
from tests.orders_odoo_fixtures import book_fixture

CONNECTION = {"url": "http://127.0.0.1:9", "db": "shop", "password_env": "FAKE_ODOO_PW"}
FIELDS_16 = {"tax_id": {}, "product_uom": {}, "is_delivery": {}}
FIELDS_19 = {"tax_ids": {}, "product_uom_id": {}, "is_delivery": {}}


def _match(rec: dict[str, Any], term: Any) -> bool:
    field, op, value = term
    have = rec.get(field)
    if isinstance(have, list) and len(have) == 2 and isinstance(have[0], int) and field.endswith("_id"):
        have = have[0] if not isinstance(value, str) and not (isinstance(value, list) and value
                                                              and isinstance(value[0], str)) else have[1]
    if op == "=":
        return have == value
    if op == "in":
        return have in value
    if op == "ilike":  # Odoo: case-insensitive containment
        return isinstance(have, str) and value.lower() in have.lower()
    raise AssertionError(f"operator {op} not faked")


def _evaluate(rec: dict[str, Any], domain: list[Any]) -> bool:
    """Polish-notation domains with '|' and implicit '&' (what the destination sends)."""
    def take(i: int) -> tuple[bool, int]:
        item = domain[i]
        if item == "|":
            a, j = take(i + 1)
            b, k = take(j)
            return a or b, k
        return _match(rec, item), i + 1

    i, ok = 0, True
    while i < len(domain):
        value, i = take(i)
        ok = ok and value
    return ok


class FakeOdoo(OdooBackend):
    def __init__(self, line_fields: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.line_fields = line_fields or FIELDS_16
        self.db: dict[str, list[dict[str, Any]]] = {
            "crm.team": [{"id": 1, "name": "Elryan"}],
            "crm.tag": [{"id": 1, "name": "Elryan"}],
            "stock.warehouse": [{"id": 1, "name": "My Company", "code": "WH"}],
            "product.pricelist": [{"id": 1, "name": "Elryan IQD", "currency_id": [5, "IQD"], "sequence": 1}],
            "account.tax": [{"id": 1, "name": "15%", "price_include": False, "type_tax_use": "sale"},
                            {"id": 2, "name": "VAT incl", "price_include": True, "type_tax_use": "sale"}],
            "res.partner": [{"id": 1, "name": "Walk-in", "ref": False}],
            "res.country": [{"id": 106, "code": "IQ", "name": "Iraq"}],
            "product.product": [{"id": 10 + n, "default_code": f"SKU-{n}", "taxes_id": [1]} for n in range(5)]
            + [{"id": 99, "default_code": "SHIP", "taxes_id": []}],
            "sale.order": [],
        }
        self.log: list[tuple[str, str, Any]] = []
        self.refuse: dict[tuple[str, str], Callable[[Any], str | None]] = {}

    def connect(self) -> None:
        self.calls += 1

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        args, kwargs = args or [], kwargs or {}
        self.calls += 1
        self.log.append((model, method, args[0] if args else kwargs))
        check = self.refuse.get((model, method))
        if check:
            for item in args[0]:
                why = check(item)
                if why:
                    raise OdooRPCError(f"Odoo {model}.{method}: {why}", name="odoo.exceptions.ValidationError")
        if method == "fields_get":
            return self.line_fields
        if method == "search_read":
            return [{f: r.get(f) for f in kwargs["fields"]} for r in self.db[model]
                    if _evaluate(r, kwargs["domain"])]
        if method == "search_count":
            return len([r for r in self.db[model] if _evaluate(r, kwargs["domain"])])
        if method == "create":
            ids = []
            for vals in args[0]:
                rec = {"id": 1000 + sum(len(v) for v in self.db.values()), **vals}
                if model == "sale.order":  # no tax modelled: Odoo's amounts are the lines' sum
                    amount = sum(ln[2]["product_uom_qty"] * ln[2]["price_unit"] for ln in vals.get("order_line", []))
                    rec.update(state="draft", name=f"S{rec['id']:05d}", amount_untaxed=amount, amount_total=amount,
                               fiscal_position_id=False)
                self.db[model].append(rec)
                ids.append(rec["id"])
            return ids
        if method == "unlink":
            self.db[model] = [r for r in self.db[model] if r["id"] not in args[0]]
            return True
        if method == "action_confirm":
            for r in self.db["sale.order"]:
                if r["id"] in args[0]:
                    r["state"] = "sale"
            return True
        raise AssertionError(f"{model}.{method} not faked")

    def methods(self) -> list[str]:
        return [f"{m}.{meth}" for m, meth, _ in self.log]


def order(n: int, *, sku: str = "SKU-1", currency: str = "IQD", marketplace: str = "elryan", fee: str = "0",
          customer: Customer | None = None, status: OrderStatus = OrderStatus.NEW) -> Order:
    return Order(marketplace, "main", f"O{n}", status, status.value, datetime(2026, 12, 1, tzinfo=UTC), currency,
                 (OrderLine("1", sku, 2, Decimal("1500.50"), currency),), shipping_fee=Decimal(fee),
                 customer=customer if customer is not None else Customer(remote_id=f"c{n}", name=f"C {n}",
                                                                         country="IQ"))


def settings(**extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"connection": CONNECTION, "delivery_product": "SHIP",
                           "marketplaces": {"elryan": {"team": "Elryan", "warehouse": "WH", "pricelist": "Elryan IQD",
                                                       "tags": "Elryan", "partner": "Walk-in"}}}
    out.update(extra)
    return out


book = book_fixture


def dest(fake: FakeOdoo, **extra: Any) -> OdooOrderDestination:
    return OdooOrderDestination(parse_settings(settings(**extra), None), backend=fake)


# -- settings ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("section", "message"), [
    ({"connection": CONNECTION, "delivery": "SHIP"}, "orders.odoo: unknown key(s) delivery"),
    ({"connection": CONNECTION, "taxes": "included"}, "orders.odoo.taxes: expected 'product'"),
    ({"connection": CONNECTION, "tax_included": "yes"}, "orders.odoo.tax_included: expected true or false"),
    ({"connection": CONNECTION, "page_size": 0}, "orders.odoo.page_size"),
    ({"connection": CONNECTION, "marketplaces": {"elryan": {"team": "A", "pricelists": "B"}}},
     "orders.odoo.marketplaces.elryan: unknown key(s) pricelists"),
    ({"connection": CONNECTION, "marketplaces": {"elryan": {"tags": [["x"]]}}},
     "orders.odoo.marketplaces.elryan.tags[0]"),
    ({"connection": {"url": "ftp://x", "db": "d"}}, "orders.odoo.connection: odoo setting 'url'"),
    ({"connection": CONNECTION, "marketplaces": {"elrayn": {}}}, "orders.odoo.marketplaces: unknown marketplace(s) "
                                                                  "elrayn; installed: ecomlinx, elebne, elryan"),
    ({}, "orders.odoo.connection is required"),
])
def test_settings_refused_with_the_setting_named(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        open_odoo_destination(section, {"type": "workbook"}, Path("."))


def test_connection_defaults_to_the_profile_odoo_source_and_marketplaces_inherit_defaults() -> None:
    source = {"type": "odoo", "url": "http://127.0.0.1:8069", "db": "shop", "user": "bot", "warehouses": ["WH"]}
    s = parse_settings({"team": "Sales", "tags": ["Web"], "marketplaces": {"elryan": {"tags": []}}}, source)
    assert (s.connection.url, s.connection.db, s.connection.user) == ("http://127.0.0.1:8069", "shop", "bot")
    assert s.routing("elryan").team == "Sales" and s.routing("elryan").tags == ()
    assert s.routing("ecomlinx").tags == ("Web",) and s.taxes == "product"


def test_partner_keys_are_stable_and_ordered_by_strength() -> None:
    base = order(1)
    assert partner_key(base) == "elryan:customer:c1"
    by_mail = Order(**{**{f: getattr(base, f) for f in Order.__slots__ if f != "customer"},
                       "customer": Customer(email=" Ali@Example.COM ", phone="+964 1")})
    assert partner_key(by_mail) == "email:ali@example.com"
    by_phone = Order(**{**{f: getattr(base, f) for f in Order.__slots__ if f != "customer"},
                        "customer": Customer(name="Ali", phone="+964 (770) 12-34")})
    assert partner_key(by_phone) == "phone:+9647701234"
    named_only = Order(**{**{f: getattr(base, f) for f in Order.__slots__ if f != "customer"},
                          "customer": Customer(name="Ali")})
    assert partner_key(named_only) is None  # a name is no key: the configured partner


# -- fields and taxes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fields", "tax_field"), [(FIELDS_16, "tax_id"), (FIELDS_19, "tax_ids")])
def test_explicit_taxes_go_in_the_field_fields_get_names(fields: dict[str, Any], tax_field: str,
                                                         book: OrderBook) -> None:
    fake = FakeOdoo(fields)
    out = dest(fake, taxes=["VAT incl"], tax_included=True).import_orders([order(1, fee="2000")], book, "r")
    assert out[0].result is OrderResult.IMPORTED
    so = fake.db["sale.order"][0]
    for _, _, line in so["order_line"]:
        assert line[tax_field] == [(6, 0, [2])]
        assert "product_uom" not in line and "product_uom_id" not in line  # Odoo takes the product's unit
    assert so["order_line"][0][2]["price_unit"] == 1500.5 and so["order_line"][1][2]["is_delivery"] is True
    assert (so["team_id"], so["warehouse_id"], so["tag_ids"], so["pricelist_id"]) == (1, 1, [(6, 0, [1])], 1)


def test_explicit_tax_that_contradicts_tax_included_is_a_config_error(book: OrderBook) -> None:
    with pytest.raises(ConfigError, match=r"tax_included is true .* '15%' is added on top"):
        dest(FakeOdoo(), taxes=["15%"], tax_included=True).import_orders([order(1)], book, "r")


def test_product_tax_that_contradicts_tax_included_needs_attention(book: OrderBook) -> None:
    fake = FakeOdoo()
    out = dest(fake, tax_included=True).import_orders([order(1)], book, "r")
    assert out[0].result is OrderResult.ATTENTION
    assert "SKU-1: orders.odoo.tax_included is true" in out[0].reason and "'15%'" in out[0].reason
    assert fake.db["sale.order"] == []


# -- what is not imported, and why ---------------------------------------------------------------------------
def test_attention_reasons(book: OrderBook) -> None:
    fake = FakeOdoo()
    fake.db["product.product"].append({"id": 50, "default_code": "SKU-1", "taxes_id": []})  # a duplicate SKU
    orders = [order(1, sku="SKU-2", fee="500"), order(2, sku="SKU-1"), order(3, sku="SKU-2", currency="USD"),
              order(4, sku="SKU-2", customer=Customer()), order(5, sku="SKU-2", marketplace="ecomlinx")]
    d = OdooOrderDestination(parse_settings({**settings(delivery_product=None)}, None), backend=fake)
    out = {o.order.key: o for o in d.import_orders(orders, book, "r")}
    assert "shipping fee 500 IQD and no orders.odoo.delivery_product" in out["O1"].reason
    assert "SKU SKU-1 is the Internal Reference of 2 Odoo variants" in out["O2"].reason
    assert "in USD but the configured pricelist 'Elryan IQD' is in IQD" in out["O3"].reason
    assert out["O4"].result is OrderResult.IMPORTED  # no customer data: the configured walk-in partner
    assert fake.db["sale.order"][0]["partner_id"] == 1
    assert "no pricelist in IQD" not in (out["O5"].reason or "") and out["O5"].result is OrderResult.IMPORTED
    assert all(out[k].result is OrderResult.ATTENTION for k in ("O1", "O2", "O3"))


def test_closed_orders_never_imported_and_nothing_sent(book: OrderBook) -> None:
    fake = FakeOdoo()
    out = dest(fake).import_orders([order(1, status=OrderStatus.CANCELLED)], book, "r")
    assert out[0].result is OrderResult.UNCHANGED and "cancelled on the marketplace" in out[0].reason
    assert fake.calls == 0


# -- Odoo's refusals -----------------------------------------------------------------------------------------
def test_refused_order_fails_with_odoos_message_the_rest_of_the_page_imports(book: OrderBook) -> None:
    fake = FakeOdoo()
    fake.refuse[("sale.order", "create")] = lambda vals: ("The warehouse is archived"
                                                          if vals["client_order_ref"] == "elryan:O2" else None)
    out = dest(fake).import_orders([order(1), order(2), order(3)], book, "r")
    assert [o.result for o in out] == [OrderResult.IMPORTED, OrderResult.FAILED, OrderResult.IMPORTED]
    assert out[1].reason == "Odoo refused the sale order: Odoo sale.order.create: The warehouse is archived"
    assert fake.methods().count("sale.order.create") == 4  # the page, then one by one
    assert [r["client_order_ref"] for r in fake.db["sale.order"]] == ["elryan:O1", "elryan:O3"]
    assert book.state.journal_open("elryan", "main") == []

    del fake.refuse[("sale.order", "create")]
    again = dest(fake).import_orders([order(1), order(2), order(3)], book, "r2")
    assert [o.result for o in again] == [OrderResult.UNCHANGED, OrderResult.IMPORTED, OrderResult.UNCHANGED]
    assert len(fake.db["sale.order"]) == 3


def test_refused_confirmation_is_tried_again_next_run_without_a_second_order(book: OrderBook) -> None:
    fake = FakeOdoo()
    fake.refuse[("sale.order", "action_confirm")] = lambda sid: "No route for product" if sid else None
    out = dest(fake).import_orders([order(1)], book, "r")
    assert out[0].result is OrderResult.FAILED
    assert "created but Odoo refused to confirm it (tried again next run)" in out[0].reason
    assert "No route for product" in out[0].reason
    assert book.imported("odoo") == {} and list(book.imported("odoo.draft")) == ["O1"]  # no reservation in Odoo
    del fake.refuse[("sale.order", "action_confirm")]
    fake.log.clear()
    again = dest(fake).import_orders([order(1)], book, "r2")
    assert again[0].result is OrderResult.IMPORTED and "sale.order.create" not in fake.methods()
    assert len(fake.db["sale.order"]) == 1 and fake.db["sale.order"][0]["state"] == "sale"
    assert list(book.imported("odoo")) == ["O1"] and book.imported("odoo.draft") == {}


def test_draft_of_an_order_cancelled_since_is_left_unconfirmed(book: OrderBook) -> None:
    fake = FakeOdoo()
    fake.refuse[("sale.order", "action_confirm")] = lambda sid: "No route for product"
    dest(fake).import_orders([order(1)], book, "r")
    del fake.refuse[("sale.order", "action_confirm")]
    fake.log.clear()
    out = dest(fake).import_orders([order(1, status=OrderStatus.CANCELLED)], book, "r2")
    assert out[0].result is OrderResult.UNCHANGED and "left unconfirmed in Odoo: cancelled" in out[0].reason
    assert fake.log == [] and fake.db["sale.order"][0]["state"] == "draft"


def test_pages_created_and_confirmed_per_page_lookups_once(book: OrderBook) -> None:
    fake = FakeOdoo()
    orders = [order(n, sku=f"SKU-{n % 5}") for n in range(5)]
    out = dest(fake, page_size=2).import_orders(orders, book, "r")
    assert all(o.result is OrderResult.IMPORTED for o in out)
    m = fake.methods()
    assert m.count("sale.order.create") == 3 and m.count("sale.order.action_confirm") == 3
    assert m.count("sale.order.search_read") == m.count("product.product.search_read") == 1
    assert m.count("res.partner.create") == 1 and m.count("res.country.search_read") == 1
    assert [len(arg) for model, meth, arg in fake.log if (model, meth) == ("sale.order", "create")] == [2, 2, 1]


# -- JSON-2 (19): create takes named arguments only -----------------------------------------------------------
class _Answer:
    status_code, headers = 200, {}

    def __init__(self, body: Any) -> None:
        self.body = body

    def json(self) -> Any:
        return self.body


class _Session:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.posted: list[tuple[str, Any]] = []

    def post(self, url: str, json: Any, **kw: Any) -> _Answer:
        self.posted.append((url.split("/json/2/")[1], json))
        return _Answer([41, 42] if url.endswith("/create") else True)


def test_json2_create_and_confirm_use_named_arguments() -> None:
    from connector.sources.odoo.json2_backend import Json2Backend
    from connector.sources.odoo.settings import OdooSettings

    session = _Session()
    backend = Json2Backend(OdooSettings(url="http://127.0.0.1:9", db="shop19", backend="json2"), "key",
                           session=session)  # type: ignore[arg-type]
    assert backend.create("sale.order", [{"client_order_ref": "a"}, {"client_order_ref": "b"}]) == [41, 42]
    backend.call_on("sale.order", "action_confirm", [41, 42])
    backend.write("res.partner", [7], {"city": "Basra"})  # a returning customer's new address
    assert session.posted == [("sale.order/create", {"vals_list": [{"client_order_ref": "a"},
                                                                   {"client_order_ref": "b"}]}),
                              ("sale.order/action_confirm", {"ids": [41, 42]}),
                              ("res.partner/write", {"ids": [7], "vals": {"city": "Basra"}})]


class LostConfirmation(FakeOdoo):
    """Odoo confirms as the real one does (a sale order not in draft refuses ``action_confirm``); while ``lose``,
    the answer to a confirmation is lost after Odoo applied it."""

    def __init__(self) -> None:
        super().__init__()
        self.lose = True

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        if (model, method) == ("sale.order", "action_confirm"):
            ids = (args or [[]])[0]
            if any(r["state"] != "draft" for r in self.db["sale.order"] if r["id"] in ids):
                self.log.append((model, method, ids))
                raise OdooRPCError("Odoo sale.order.action_confirm: Some orders are not in a state requiring "
                                   "confirmation.", name="odoo.exceptions.UserError")
            answer = super().call(model, method, args, kwargs)
            if self.lose:
                raise OdooUnreachable("cannot reach Odoo (test): the answer was lost")
            return answer
        return super().call(model, method, args, kwargs)


def test_a_confirmation_whose_answer_was_lost_is_recorded_as_imported_next_run(book: OrderBook) -> None:
    fake = LostConfirmation()
    with pytest.raises(OdooUnreachable):
        dest(fake).import_orders([order(1), order(2, sku="SKU-2")], book, "r")
    assert sorted(book.imported("odoo.draft")) == ["O1", "O2"]  # Odoo confirmed both; the run could not know
    assert {r["state"] for r in fake.db["sale.order"]} == {"sale"}
    fake.lose = False
    fake.log.clear()
    again = dest(fake).import_orders([order(1), order(2, sku="SKU-2")], book, "r2")
    assert [o.result for o in again] == [OrderResult.IMPORTED] * 2, [o.reason for o in again]
    assert all("confirmed in Odoo already" in (o.reason or "") for o in again)
    assert sorted(book.imported("odoo")) == ["O1", "O2"] and book.imported("odoo.draft") == {}
    assert "sale.order.create" not in fake.methods() and len(fake.db["sale.order"]) == 2
    third = dest(fake).import_orders([order(1), order(2, sku="SKU-2")], book, "r3")
    assert [o.result for o in third] == [OrderResult.UNCHANGED] * 2


def test_a_real_refusal_of_a_draft_is_still_a_failure_tried_next_run(book: OrderBook) -> None:
    fake = LostConfirmation()
    fake.lose = False
    fake.refuse[("sale.order", "action_confirm")] = lambda sid: "No route for product"
    out = dest(fake).import_orders([order(1)], book, "r")
    assert out[0].result is OrderResult.FAILED and "refused to confirm it" in out[0].reason
    assert list(book.imported("odoo.draft")) == ["O1"]


def test_orders_imported_before_odoo_stopped_answering_are_said_imported(book: OrderBook) -> None:
    """A page created and confirmed, then the next page's create lost: the first page's orders are imported (the
    state holds them), only the others failed (looked up by reference next run)."""
    from types import SimpleNamespace

    from connector.orders.run import _hand

    class LostSecondPage(FakeOdoo):
        def call(self, model: str, method: str, args: list[Any] | None = None,
                 kwargs: dict[str, Any] | None = None) -> Any:
            if (model, method) == ("sale.order", "create") and self.db["sale.order"]:
                raise OdooUnreachable("cannot reach Odoo (test)")
            return super().call(model, method, args, kwargs)

    orders = [order(n, sku=f"SKU-{n % 5}") for n in range(4)]
    session = SimpleNamespace(opts=SimpleNamespace(dry_run=False), report=SimpleNamespace(), run_id="r")
    handled, told = _hand(dest(LostSecondPage(), page_size=2), orders, book, session)  # type: ignore[arg-type]
    assert not handled
    assert [o.result for o in told] == [OrderResult.IMPORTED] * 2 + [OrderResult.FAILED] * 2
    assert "cannot reach Odoo" in (told[3].reason or "") and session.report.unreachable


def test_confirmations_sent_one_by_one_record_those_done_before_an_answer_is_lost(book: OrderBook) -> None:
    """Odoo refuses the page's confirmation, the orders are confirmed one by one, and the second one's answer is
    lost: the first is recorded imported there and then (else every run would start over and, one lost answer
    in each, never get through), and the next run settles the rest."""

    class OneByOne(LostConfirmation):
        def __init__(self) -> None:
            super().__init__()
            self.singles = 0

        def call(self, model: str, method: str, args: list[Any] | None = None,
                 kwargs: dict[str, Any] | None = None) -> Any:
            if (model, method) == ("sale.order", "action_confirm") and len((args or [[]])[0]) > 1 and self.lose:
                raise OdooRPCError("Odoo sale.order.action_confirm: a rule refuses the page (test)")
            if (model, method) == ("sale.order", "action_confirm"):
                self.singles += 1
                self_lose, self.lose = self.lose, self.lose and self.singles == 2  # lose the 2nd single answer
                try:
                    return super().call(model, method, args, kwargs)
                finally:
                    self.lose = self_lose
            return super().call(model, method, args, kwargs)

    fake = OneByOne()
    orders = [order(n, sku=f"SKU-{n}") for n in range(3)]
    with pytest.raises(OdooUnreachable) as lost:
        dest(fake).import_orders(orders, book, "r")
    assert list(book.imported("odoo")) == ["O0"] and sorted(book.imported("odoo.draft")) == ["O1", "O2"]
    assert lost.value.outcomes["O0"].result is OrderResult.IMPORTED  # type: ignore[attr-defined]
    fake.lose = False
    again = dest(fake).import_orders(orders, book, "r2")
    assert [o.result for o in again] == [OrderResult.UNCHANGED, OrderResult.IMPORTED, OrderResult.IMPORTED]
    assert sorted(book.imported("odoo")) == ["O0", "O1", "O2"] and book.imported("odoo.draft") == {}
    assert len(fake.db["sale.order"]) == 3 and {r["state"] for r in fake.db["sale.order"]} == {"sale"}
