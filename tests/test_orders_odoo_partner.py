"""A returning customer whose address changed, on a real Odoo 16 / 18 (recorded; replayed in CI).

- a partner the connector created: the second order (new address) writes the changed fields on the partner
  before its sale order, which ships there; the third order (same address) sends no ``write``;
- a partner a person made and linked by its Internal Reference (not ours): never written; the order with
  another address ships to a delivery contact of it, created once and found again by the next run.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.orders.book import OrderBook
from connector.orders.model import Customer, Order
from connector.orders.odoo import OdooOrderDestination, open_odoo_destination
from connector.orders.outcome import OrderResult
from connector.sync.state import StateStore
from tests.odoo_vcr import RECORDING, odoo_cassette, password, seed_data
from tests.orders_odoo_fixtures import (
    calls,
    make_order,
    reset_database,
    section,
    server,
    state_fixture,
    version_fixture,
)

HOME = Customer(remote_id="PA1", name="Partner Probe", phone="+964 770 1111", email="probe@example.com",
                street="1 Karrada St", city="Baghdad", zip="10001", country="IQ")
MOVED = Customer(remote_id="PA1", name="Partner Probe", phone=None, email="probe.new@example.com",
                 street="22 Corniche Rd", city="Basra", zip="61001", country="IQ")  # no phone: never erased
LINKED_EMAIL = "linked.person@example.com"
LINKED = Customer(email=LINKED_EMAIL.upper(), name="Linked Person", street="7 Palestine St", city="Erbil",
                  country="IQ")


state = state_fixture


version = version_fixture


def destination(version: int) -> OdooOrderDestination:
    return open_odoo_destination(section(version), None, Path("."))


def methods(cass: Any) -> Counter[str]:
    return Counter(f"{m}.{meth}" for m, meth, _ in calls(cass))


def order(tag: str, i: int, cust: Customer) -> Order:
    return make_order(tag, i, cust=cust, shipping=Decimal("0"))


def import_one(version: int, name: str, o: Order, book: OrderBook) -> tuple[Any, dict[str, Any], dict[str, Any],
                                                                             dict[str, Any], Any]:
    """Import ``o`` in cassette ``name``; then (in the cassette) read its sale order, its partner and the partner
    it ships to."""
    with odoo_cassette(version, name) as cass:
        dest = destination(version)
        [outcome] = dest.import_orders([o], book, name)
        assert outcome.result is OrderResult.IMPORTED, outcome.reason
        fields = ["id", "name", "street", "city", "zip", "phone", "email", "country_id", "type", "parent_id", "ref"]
        [sale] = dest.backend.search_read("sale.order", [("id", "=", int(outcome.remote_id))],
                                          ["partner_id", "partner_shipping_id"])
        ids = sorted({sale["partner_id"][0], sale["partner_shipping_id"][0]})
        rows = {r["id"]: r for r in dest.backend.search_read("res.partner", [("id", "in", ids)], fields)}
        dest.close()
    return cass, sale, rows[sale["partner_id"][0]], rows[sale["partner_shipping_id"][0]], outcome


def test_changed_address_updates_our_partner_once(version: int, state: StateStore) -> None:
    reset_database(version, password(version))
    book = OrderBook(state, "elryan", "main")

    cass, _, partner, ship, _ = import_one(version, "partner_1_first", order("PA", 0, HOME), book)
    assert partner["id"] == ship["id"] and partner["street"] == "1 Karrada St"
    assert methods(cass)["res.partner.create"] == 1 and methods(cass)["res.partner.write"] == 0

    cass, sale, partner, ship, outcome = import_one(version, "partner_2_moved", order("PA", 1, MOVED), book)
    assert outcome.reason == "the customer's new address written in Odoo (city, email, street, zip)"
    made = calls(cass)
    lookups = [arg for m, meth, arg in made if (m, meth) == ("res.partner", "search_read")]
    assert {"street", "city", "zip", "country_id", "phone", "email"} <= set(lookups[0]["fields"])  # one lookup
    writes = [arg for m, meth, arg in made if (m, meth) == ("res.partner", "write")]
    assert writes == [[partner["id"]]]  # one write, on our partner (first argument: the ids)
    assert _write_values(cass) == [{"street": "22 Corniche Rd", "city": "Basra", "zip": "61001",
                                    "email": "probe.new@example.com"}]  # only what changed; no phone
    order_index = next(i for i, (m, meth, _) in enumerate(made) if (m, meth) == ("sale.order", "create"))
    write_index = next(i for i, (m, meth, _) in enumerate(made) if (m, meth) == ("res.partner", "write"))
    assert write_index < order_index  # the partner holds the new address before the sale order is made
    assert methods(cass)["res.partner.create"] == 0
    assert sale["partner_shipping_id"][0] == partner["id"] == ship["id"]
    assert (ship["street"], ship["city"], ship["zip"], ship["email"]) == ("22 Corniche Rd", "Basra", "61001",
                                                                         "probe.new@example.com")
    assert ship["phone"] == "+964 770 1111"  # the order gave no phone: the old one is kept

    cass, sale, partner, ship, _ = import_one(version, "partner_3_same", order("PA", 2, MOVED), book)
    assert methods(cass)["res.partner.write"] == 0 and methods(cass)["res.partner.create"] == 0
    assert methods(cass)["res.partner.search_read"] == 2  # the lookup, and the test's own read
    assert ship["id"] == partner["id"] and ship["street"] == "22 Corniche Rd"


def _write_values(cass: Any) -> list[dict[str, Any]]:
    """The values of each recorded ``res.partner.write``."""
    out = []
    for r in cass.requests:
        args = json.loads(r.body).get("params", {}).get("args", [])
        if len(args) > 5 and args[3:5] == ["res.partner", "write"]:
            out.append(args[5][1])
    return out


def _linked_partner(version: int) -> None:
    """Recording only, outside the cassettes: the partner a person made, linked to the customer by typing the
    key into its Internal Reference (an older address), without delivery contacts."""
    if not RECORDING:
        return
    url, db = server(version)
    rpc = seed_data.Rpc(url, db, os.environ.get("ODOO_USER", "admin"), password(version))
    # the delivery contacts an earlier recording made (their parent went with the reset)
    old = rpc("res.partner", "search", [("name", "=", "Linked Person"), ("type", "=", "delivery")],
              context={"active_test": False})
    if old:
        rpc("res.partner", "unlink", old)
    rpc("res.partner", "create", {"name": "Linked Person", "ref": f"email:{LINKED_EMAIL}", "email": LINKED_EMAIL,
                                  "street": "3 Old Market", "city": "Mosul"})


def test_partner_not_ours_ships_to_a_delivery_contact_made_once(version: int, state: StateStore) -> None:
    reset_database(version, password(version))
    _linked_partner(version)
    book = OrderBook(state, "elryan", "main")

    cass, sale, partner, ship, outcome = import_one(version, "partner_linked_1", order("PL", 0, LINKED), book)
    assert outcome.reason.startswith("ships to a delivery contact of Linked Person")
    assert methods(cass)["res.partner.write"] == 0  # never written: a person made it
    assert (partner["street"], partner["city"]) == ("3 Old Market", "Mosul")
    assert ship["id"] != partner["id"] and ship["type"] == "delivery" and ship["parent_id"][0] == partner["id"]
    assert (ship["street"], ship["city"], ship["name"]) == ("7 Palestine St", "Erbil", "Linked Person")
    creates = [arg for m, meth, arg in calls(cass) if (m, meth) == ("res.partner", "create")]
    assert len(creates) == 1 and [c["type"] for c in creates[0]] == ["delivery"]
    contact = ship["id"]

    # the next run (a new destination, the same state): the contact is found again, nothing is created
    cass, sale, partner, ship, _ = import_one(version, "partner_linked_2", order("PL", 1, LINKED), book)
    assert methods(cass)["res.partner.create"] == 0 and methods(cass)["res.partner.write"] == 0
    assert ship["id"] == contact and sale["partner_id"][0] == partner["id"]
