"""A returning customer's changed address, against the in-memory Odoo of tests/test_orders_odoo_units.py: the
rules (an empty field never overwrites, partners not ours are never written, one write per distinct change set,
nothing sent when nothing changed, a refused address fails the order)."""

from __future__ import annotations

from typing import Any

from connector.orders.book import OrderBook
from connector.orders.model import Customer
from connector.orders.odoo.addresses import change_sets, changes
from connector.orders.outcome import OrderResult
from connector.sources.odoo.backend import OdooRPCError
from connector.sources.odoo.json2_backend import Json2Backend
from tests.orders_odoo_fixtures import book_fixture
from tests.test_orders_odoo_units import FakeOdoo, dest, order

HOME = {"phone": "+964 1", "email": "a@example.com", "street": "1 Old St", "city": "Baghdad", "zip": "10001",
        "country": "IQ"}


class AddressOdoo(FakeOdoo):
    """The fake, plus ``write`` (refused for the ids in ``refuse_write``)."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_write: set[int] = set()

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        if method != "write":
            return super().call(model, method, args, kwargs)
        ids, vals = args or [[], {}]
        self.calls += 1
        self.log.append((model, method, (list(ids), dict(vals))))
        if self.refuse_write & set(ids):
            raise OdooRPCError(f"Odoo {model}.write: invalid address", name="odoo.exceptions.ValidationError")
        for r in self.db[model]:
            if r["id"] in ids:
                r.update(vals)
        return True

    def writes(self) -> list[tuple[list[int], dict[str, Any]]]:
        return [arg for m, meth, arg in self.log if (m, meth) == ("res.partner", "write")]

    def partner(self, ref: str) -> dict[str, Any]:
        return next(r for r in self.db["res.partner"] if r.get("ref") == ref)


book = book_fixture


def customer(n: int, **fields: Any) -> Customer:
    return Customer(remote_id=f"c{n}", name=f"C {n}", **{**HOME, **fields})


def run(fake: AddressOdoo, book: OrderBook, orders: list[Any]) -> list[Any]:
    fake.log.clear()
    return dest(fake).import_orders(orders, book, "r")


def test_rules_of_comparison() -> None:
    assert changes({"street": "1 Old St", "country_id": [106, "Iraq"], "phone": False},
                   {"street": "1 Old St", "country_id": 106}) == {}
    assert changes({"street": "1 Old St", "zip": False}, {"street": "2 New St", "zip": "1"}) == {"street": "2 New St",
                                                                                                 "zip": "1"}
    assert change_sets({3: {"city": "Basra"}, 1: {"city": "Basra"}, 2: {"street": "x"}}) == [
        ([1, 3], {"city": "Basra"}), ([2], {"street": "x"})]


def test_changed_addresses_written_batched_empty_never_overwrites_then_nothing(book: OrderBook) -> None:
    fake = AddressOdoo()
    first = run(fake, book, [order(1, customer=customer(1)), order(2, customer=customer(2)),
                             order(3, customer=customer(3))])
    assert [o.result for o in first] == [OrderResult.IMPORTED] * 3
    lookup = next(arg for m, meth, arg in fake.log if (m, meth) == ("res.partner", "search_read"))
    assert lookup["fields"] == ["id", "name", "ref"]  # new customers only: the lookup reads no more than before
    assert fake.writes() == []

    moved = [order(4, customer=customer(1, city="Basra", phone=None, email="")),  # empty phone/email: kept
             order(5, customer=customer(2, city="Basra")),
             order(6, customer=customer(3, street="9 New St"))]
    out = run(fake, book, moved)
    assert [o.result for o in out] == [OrderResult.IMPORTED] * 3
    assert [o.reason for o in out] == ["the customer's new address written in Odoo (city)"] * 2 + [
        "the customer's new address written in Odoo (street)"]
    ids = {n: fake.partner(f"elryan:customer:c{n}")["id"] for n in (1, 2, 3)}
    # one write per distinct change set, before the sale orders are created; only the changed fields
    assert fake.writes() == [([ids[1], ids[2]], {"city": "Basra"}), ([ids[3]], {"street": "9 New St"})]
    assert fake.methods().index("res.partner.write") < fake.methods().index("sale.order.create")
    lookup = next(arg for m, meth, arg in fake.log if (m, meth) == ("res.partner", "search_read"))
    assert {"street", "city", "zip", "country_id", "phone", "email"} <= set(lookup["fields"])
    assert fake.methods().count("res.partner.search_read") == 1  # the lookup read the fields: no extra read
    p1 = fake.partner("elryan:customer:c1")
    assert (p1["city"], p1["phone"], p1["email"]) == ("Basra", "+964 1", "a@example.com")
    assert all("partner_shipping_id" not in so for so in fake.db["sale.order"])  # ships to the partner itself

    again = run(fake, book, [order(7, customer=customer(1, city="Basra")), order(8, customer=customer(3,
                                                                                                  street="9 New St"))])
    assert [o.result for o in again] == [OrderResult.IMPORTED] * 2
    assert fake.writes() == [] and "res.partner.create" not in fake.methods()


def test_partners_not_ours_never_written_orders_ship_to_one_delivery_contact(book: OrderBook) -> None:
    fake = AddressOdoo()
    # a person made this partner and typed the customer key into its Internal Reference
    fake.db["res.partner"].append({"id": 50, "name": "C 9", "ref": "elryan:customer:c9", "street": "5 Hand St",
                                   "city": "Mosul", "country_id": [106, "Iraq"], "type": "contact"})
    same = run(fake, book, [order(1, customer=Customer(remote_id="c9", street="5 Hand St", city="Mosul",
                                                       country="IQ"))])
    assert same[0].result is OrderResult.IMPORTED
    assert fake.writes() == [] and "res.partner.create" not in fake.methods()  # its own address: nothing to do
    assert "partner_shipping_id" not in fake.db["sale.order"][0]

    moved = customer(9, street="8 Gift Rd", city="Erbil", phone=None)
    out = run(fake, book, [order(2, customer=moved), order(3, customer=moved)])
    assert [o.result for o in out] == [OrderResult.IMPORTED] * 2
    assert all(o.reason.startswith("ships to a delivery contact of C 9") for o in out)
    assert fake.writes() == []
    assert (fake.partner("elryan:customer:c9")["street"], fake.partner("elryan:customer:c9")["city"]) == (
        "5 Hand St", "Mosul")
    contacts = [r for r in fake.db["res.partner"] if r.get("parent_id") == 50]
    assert len(contacts) == 1 and contacts[0]["type"] == "delivery"
    assert (contacts[0]["street"], contacts[0]["city"], contacts[0]["name"]) == ("8 Gift Rd", "Erbil", "C 9")
    assert [so["partner_shipping_id"] for so in fake.db["sale.order"][1:]] == [contacts[0]["id"]] * 2
    assert all(so["partner_id"] == 50 for so in fake.db["sale.order"])

    run(fake, book, [order(4, customer=moved)])  # the next run finds the contact again
    assert "res.partner.create" not in fake.methods() and fake.writes() == []
    assert fake.db["sale.order"][-1]["partner_shipping_id"] == contacts[0]["id"]


def test_walk_in_partner_never_compared_nor_written(book: OrderBook) -> None:
    fake = AddressOdoo()
    out = run(fake, book, [order(1, customer=Customer(name="Ali")), order(2, customer=Customer(name="Ali"))])
    assert [o.result for o in out] == [OrderResult.IMPORTED] * 2
    assert fake.writes() == [] and fake.methods().count("res.partner.search_read") == 1
    assert {so["partner_id"] for so in fake.db["sale.order"]} == {1}


def test_refused_address_fails_the_order_and_is_tried_again(book: OrderBook) -> None:
    fake = AddressOdoo()
    run(fake, book, [order(1, customer=customer(1)), order(2, customer=customer(2))])
    bad = fake.partner("elryan:customer:c1")["id"]
    fake.refuse_write = {bad}
    moved = [order(3, customer=customer(1, city="Basra")), order(4, customer=customer(2, city="Basra"))]
    out = run(fake, book, moved)
    assert out[0].result is OrderResult.FAILED and "new address" in out[0].reason and "invalid" in out[0].reason
    assert out[1].result is OrderResult.IMPORTED  # the page's write refused: the partners one by one
    assert fake.partner("elryan:customer:c2")["city"] == "Basra"
    assert len(fake.db["sale.order"]) == 3  # never shipped to the old address

    fake.refuse_write = set()
    again = run(fake, book, moved)
    assert [o.result for o in again] == [OrderResult.IMPORTED, OrderResult.UNCHANGED]
    assert fake.writes() == [([bad], {"city": "Basra"})]


def test_customer_created_earlier_in_the_run_is_updated_by_a_later_page(book: OrderBook) -> None:
    fake = AddressOdoo()
    d = dest(fake)
    d.import_orders([order(1, customer=customer(1, zip=None))], book, "r")  # created without a zip
    assert fake.writes() == []
    d.import_orders([order(2, customer=customer(1, zip="61001"))], book, "r")
    pid = fake.partner("elryan:customer:c1")["id"]
    assert fake.writes() == [([pid], {"zip": "61001"})]
    assert fake.methods().count("res.partner.search_read") == 1  # known from the first page: not looked up again


class Json2AddressOdoo(AddressOdoo):
    """The fake shaped as JSON-2 (19) takes its calls: no positional argument but the ids, ``write``'s ``vals``
    named (``Json2Backend.write``)."""

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        if args and (len(args) != 1 or not isinstance(args[0], list)):  # as Json2Backend.send refuses them
            raise ValueError(f"JSON-2 {model}.{method}: positional arguments other than ids are not supported")
        if method == "write":
            return super().call(model, method, [args[0] if args else [], (kwargs or {})["vals"]])
        return super().call(model, method, args, kwargs)

    def write(self, model: str, ids: list[int], vals: dict[str, Any]) -> Any:
        return Json2Backend.write(self, model, ids, vals)  # type: ignore[arg-type]


def test_changed_address_is_written_over_json2(book: OrderBook) -> None:
    """On a real Odoo 19 over JSON-2, the write of a returning customer's new address was sent with ``[ids, vals]``
    positionally: ``ValueError`` from the backend, a traceback, and the run stopped at every try."""
    fake = Json2AddressOdoo()
    assert [o.result for o in run(fake, book, [order(1, customer=customer(1))])] == [OrderResult.IMPORTED]
    out = run(fake, book, [order(2, customer=customer(1, city="Basra"))])
    assert [(o.result, o.reason) for o in out] == [(OrderResult.IMPORTED,
                                                    "the customer's new address written in Odoo (city)")]
    assert fake.writes() == [([fake.partner("elryan:customer:c1")["id"]], {"city": "Basra"})]
