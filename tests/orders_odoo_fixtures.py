"""Shared set-up of the recorded Odoo orders tests: the orders database of their own, the settings, the orders.

Recorded against databases seeded by tests/fixtures/odoo_orders_seed.py (never the shared odoo16 / odoo18):
``ODOO_RECORD=1 ODOO_PASSWORD=... .venv/bin/pytest tests/test_orders_odoo.py``; the servers default to
http://127.0.0.1:8017 (db odoo16_orders) and http://127.0.0.1:8070 (db odoo18_orders), or
``ODOO16_ORDERS_URL`` / ``ODOO16_ORDERS_DB`` (18 alike).  Odoo 19 (http://127.0.0.1:8069, db odoo19_orders;
``ODOO19_ORDERS_URL`` / ``ODOO19_ORDERS_DB``) is recorded only with ``ODOO19_ORDERS=1``; its cassettes
(cassettes/odoo19) always replay.  Before
each recorded test the seed cancels and deletes the orders and customers the tests made, so each recording
starts from the same database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.orders.book import OrderBook
from connector.orders.model import Customer, Order, OrderLine, OrderStatus
from connector.sync.state import StateStore
from tests.odoo_vcr import (
    BASE_VERSIONS,
    JSON2,
    JSON2_VERSIONS,
    RECORDING,
    Target,
    block_network,
    load_fixture_module,
    password,
    password_var,
    seed_data,
)

ORDERS_SERVERS = {16: ("http://127.0.0.1:8017", "odoo16_orders"), 18: ("http://127.0.0.1:8070", "odoo18_orders"),
                  19: ("http://127.0.0.1:8069", "odoo19_orders")}
# Odoo 19's cassettes (cassettes/odoo19) always replay; they are recorded on request only (ODOO19_ORDERS=1 beside
# ODOO_RECORD=1), so that 16 and 18 can be recorded without a 19 server
ORDERS_VERSIONS = (*BASE_VERSIONS, 19) if not RECORDING or os.environ.get("ODOO19_ORDERS") == "1" else BASE_VERSIONS
CREATED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

orders_seed = load_fixture_module("odoo_orders_seed")


def server(version: int) -> tuple[str, str]:
    url, db = ORDERS_SERVERS[version]
    return os.environ.get(f"ODOO{version}_ORDERS_URL", url), os.environ.get(f"ODOO{version}_ORDERS_DB", db)


def password_env(version: int) -> str:
    return f"CONNECTOR_TEST_ODOO{version}_PASSWORD"


def odoo_version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """What a test's ``version`` fixture does: the Odoo version it runs on, that Odoo's password where the
    settings read it, and (in replay) the network blocked."""
    v = int(request.param)
    monkeypatch.setenv(password_env(v), password(v))
    block_network(monkeypatch)
    return v


@pytest.fixture
def state_fixture(tmp_path: Path) -> Iterator[StateStore]:
    """A state file of the test's own (a test module takes it as ``state = state_fixture``)."""
    st = StateStore.open(tmp_path / "state.sqlite")
    yield st
    st.close()


@pytest.fixture
def book_fixture(tmp_path: Path) -> Iterator[OrderBook]:
    """Elryan's orders of the account "main" in a state file of the test's own (``book = book_fixture``)."""
    state = StateStore.open(tmp_path / "state.sqlite")
    yield OrderBook(state, "elryan", "main")
    state.close()


@pytest.fixture(params=ORDERS_VERSIONS, ids=lambda v: f"odoo{v}")
def version_fixture(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Each recorded Odoo version in turn (a test module takes it as ``version = version_fixture``)."""
    return odoo_version(request, monkeypatch)


def section(version: int, **extra: Any) -> dict[str, Any]:
    """The profile's ``orders.odoo`` table the recordings use."""
    url, db = server(version)
    out: dict[str, Any] = {
        "connection": {"url": url, "db": db, "user": os.environ.get("ODOO_USER", "admin"),
                       "password_env": password_env(version)},
        "delivery_product": orders_seed.SHIP,
        "marketplaces": {"elryan": {"team": orders_seed.TEAM, "warehouse": "WH", "pricelist": "Elryan IQD",
                                    "tags": [orders_seed.TAG], "partner": orders_seed.WALK_IN}},
    }
    out.update(extra)
    return out


def reset_database(version: int, password: str) -> None:
    """Recording only: the orders database as the seed leaves it (no test orders, full stock)."""
    if not RECORDING:
        return
    url, db = server(version)
    rpc = seed_data.Rpc(url, db, os.environ.get("ODOO_USER", "admin"), password)
    orders_seed.reset_orders(rpc)


def customer(i: int) -> Customer | None:
    """Every 10th order has no customer data (walk-in), every 10th has an email only, the rest a customer id
    (150 customers, so some buy twice)."""
    if i % 10 == 9:
        return None
    if i % 10 == 8:
        return Customer(name=f"Email buyer {i % 20}", email=f"Buyer{i % 20}@Example.com")
    n = i % 150
    return Customer(remote_id=f"C{n:03d}", name=f"Customer {n:03d}", phone=f"+964 770 {n:04d}",
                    street=f"{n} Karrada St", city="Baghdad", country="IQ")


def make_order(tag: str, i: int, *, marketplace: str = "elryan", currency: str = "IQD",
               skus: tuple[str, ...] | None = None, shipping: Decimal | None = None,
               cust: Customer | bool | None = True) -> Order:
    all_skus = orders_seed.SKUS
    picked = skus or ((all_skus[i % 30], all_skus[(i * 7 + 3) % 30]) if i % 4 == 0 else (all_skus[i % 30],))
    lines = tuple(OrderLine(f"{tag}-{i}-{k}", sku, 1 + (i + k) % 3, Decimal(15000 + 250 * ((i + k) % 4)), currency)
                  for k, sku in enumerate(picked))
    fee = shipping if shipping is not None else (Decimal("5000") if i % 2 else Decimal("0"))
    return Order(marketplace=marketplace, account="main", remote_id=f"{tag}-{i:04d}", status=OrderStatus.NEW,
                 raw_status="pending", created_at=CREATED + timedelta(minutes=i), currency=currency, lines=lines,
                 channel_order_id=f"{tag}-{i:04d}", shipping_fee=fee,
                 customer=customer(i) if cust is True else (cust or None),
                 sla_deadline=CREATED + timedelta(days=2))


def ordered_quantities(orders: list[Order]) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in orders:
        for sku, qty in o.open_quantities().items():
            out[sku] = out.get(sku, 0) + qty
    return out


def calls(cass: Any) -> list[tuple[str, str, Any]]:
    """(model, method, first argument) of each recorded execute_kw; the path for the other requests."""
    out = []
    for r in cass.requests:
        params = json.loads(r.body).get("params", {})
        if params.get("method") == "execute_kw":
            args = params["args"]
            out.append((args[3], args[4], args[5][0] if args[5] else args[6]))
        else:
            out.append((r.path, params.get("method", ""), None))
    return out


@pytest.fixture(params=[Target(v, JSON2) for v in JSON2_VERSIONS], ids=lambda t: t.id)
def json2_target_fixture(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    """Odoo 19 over JSON-2 (a test module takes it as ``target = json2_target_fixture``): its API key where the
    settings read it, and (in replay) the network blocked."""
    t = request.param
    monkeypatch.setenv(password_var(t), password(t))
    block_network(monkeypatch)
    yield t
