"""A product a marketplace skipped (EcomLinx: "not on EcomLinx: create it there first") is read from Odoo again
by the next incremental run, so that it is sent once the merchant created it there.

Found by running the README's Odoo flow: the run that skipped OR-003 and OR-004 ended with exit 0, so the
incremental cursor advanced; the merchant created OR-003 on EcomLinx as told; every later run read only what
changed in Odoo, so OR-003's stock never reached EcomLinx (it kept the 0 typed there) until someone touched the
product in Odoo or ran ``--full``.  Now the variants a target skipped are remembered in the catalogue index next
to the cursor (``CatalogueIndex.recheck_ids``) and read again, with their whole template, on every incremental
run until no target skips them.

Recorded on the Odoo 19 orders database (tests/orders_odoo_fixtures.py; ``ODOO_RECORD=1 ODOO19_ORDERS=1
ODOO_PASSWORD=...``); the EcomLinx sandbox runs live on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_OK
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from tests.conftest import running_ecomlinx
from tests.odoo_vcr import RECORDING, password, recorded_calls
from tests.orders_odoo_fixtures import ORDERS_VERSIONS, orders_seed, password_env, reset_database, server
from tests.test_orders_odoo_flow import ecomlinx_stock, odoo_only, run

pytestmark = pytest.mark.sandbox

VERSION = 19
SKUS = orders_seed.SKUS[:4]  # OR-001..OR-004 in Odoo, 1000 each in WH
LISTED = SKUS[:2]  # what EcomLinx lists at first


@pytest.fixture
def ecomlinx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv(password_env(VERSION), password(VERSION))
    monkeypatch.setenv("ECOMLINX_API_KEY", ECOMLINX.sandbox_key)
    with running_ecomlinx(tmp_path / "ecomlinx.sqlite", listed=LISTED) as sandbox:
        yield sandbox


def write_profile(tmp_path: Path, ecomlinx: Any) -> Path:
    url, db = server(VERSION)
    profile = tmp_path / "shop.yaml"
    profile.write_text(
        "name: shop\n"
        f"source: {{type: odoo, url: '{url}', db: {db}, user: admin, password_env: {password_env(VERSION)}, "
        f"warehouses: [WH], overlap_seconds: 0, domain: [[default_code, in, [{', '.join(SKUS)}]]]}}\n"
        "state: state.sqlite\n"
        "currency: {account: USD}\n"
        "targets:\n"
        f"  ecomlinx: {{account: main, base_url: '{ecomlinx.api_url}', settings: {{order_currency: USD, "
        "listing_max_age_minutes: 0}}\n",
        encoding="utf-8")
    return profile


def again_read(cass: Any) -> int:
    """How many variants the incremental read asked for by id (those skipped last time), besides the changed
    templates (none here)."""
    ids = [term[2] for c in recorded_calls(cass.requests) if (c.model, c.method) == ("product.product", "search_read")
           for term in c.kwargs.get("domain") or [] if isinstance(term, list) and term[:2] == ["id", "in"]]
    assert len(ids) == 1, ids
    return len(ids[0])


@pytest.mark.skipif(VERSION not in ORDERS_VERSIONS, reason="Odoo 19 is recorded only with ODOO19_ORDERS=1")
def test_a_product_a_marketplace_skipped_is_read_again_until_it_is_sent(tmp_path: Path, ecomlinx: Any) -> None:
    reset_database(VERSION, password(VERSION))
    if RECORDING:
        time.sleep(2)  # the reset's writes fall before the first run's cursor (no overlap window here)
    shop = write_profile(tmp_path, ecomlinx)
    with odoo_only(VERSION, "recheck_1_full"):
        code, reports = run("sync", shop)
    assert code == EXIT_OK, reports
    skipped = {r["sku"]: r["reason"] for r in reports["report"]["rows"] if r["status"] == "skipped"}
    assert set(skipped) == {"OR-003", "OR-004"} and "not on EcomLinx" in skipped["OR-003"]
    assert ecomlinx_stock(ecomlinx) == dict.fromkeys(LISTED, orders_seed.STOCK)

    # the merchant creates OR-003 on EcomLinx, as the report said; nothing changes in Odoo
    ecomlinx.seed_products([{"sku": "OR-003", "name": "made by hand", "price": 9, "stock": 0, "status": "live"}])
    with odoo_only(VERSION, "recheck_2_changes") as cass:
        code, reports = run("sync", shop)
    assert code == EXIT_OK, reports
    assert ecomlinx_stock(ecomlinx)["OR-003"] == orders_seed.STOCK
    skipped = {r["sku"] for r in reports["report"]["rows"] if r["status"] == "skipped"}
    assert skipped == {"OR-004"}
    assert again_read(cass) == 2  # OR-003 and OR-004, by id (then the rest of their templates: nothing)

    # OR-003 is sent: only OR-004 is read again
    with odoo_only(VERSION, "recheck_3_again") as cass:
        code, reports = run("sync", shop)
    assert code == EXIT_OK, reports
    assert again_read(cass) == 1
    assert {r["sku"] for r in reports["report"]["rows"] if r["status"] == "skipped"} == {"OR-004"}
