"""The oversell guard after shipping, end to end on the EcomLinx sandbox, as a merchant without an ERP runs it:
products.csv says 3 teas, a customer buys 2, the merchant ships them (in the orders workbook, `connector fulfil`,
or in EcomLinx's back office) but has not lowered products.csv yet.  The next `connector sync` reads the order
back shipped: its 2 units stay held back (only 1 is on the shelf) until the merchant saves products.csv, then the
file's count is listed as it is."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_OK
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from connector.orders.book import SHIPPED
from connector.sync.state import StateStore
from tests.conftest import running_ecomlinx as ecomlinx_sandbox
from tests.test_fulfilment_ecomlinx_e2e import fulfil, mark, remote

pytestmark = pytest.mark.sandbox

FULFILMENT = "fulfilment: {carriers: {ecomlinx: {Delhivery Express: Delhivery}}}"
HOUR = 3600


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[Any]:
    with ecomlinx_sandbox(tmp_path / "ecomlinx.sqlite", listed=["TEA-500", "SOAP-01"]) as server:
        yield server


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMLINX_API_KEY", ECOMLINX.sandbox_key)


def save_products(path: Path, tea: int, *, saved: float) -> None:
    """The merchant saves products.csv (``saved``: its modification time, as the clock said when saved)."""
    path.write_text(f"SKU,Name,Price,Stock: Warehouse\nTEA-500,Green tea 500 g,8.90,{tea}\n"
                    "SOAP-01,Aleppo soap,12.50,5\n", encoding="utf-8")
    os.utime(path, (saved, saved))


@pytest.fixture
def shop(tmp_path: Path, ecomlinx: Any) -> Path:
    save_products(tmp_path / "products.csv", 3, saved=time.time() - HOUR)  # saved an hour ago
    profile = tmp_path / "shop.yaml"
    profile.write_text(
        "name: shop\nsource: {type: spreadsheet, path: products.csv, currency: MRU}\nstate: state.sqlite\n"
        f"currency: {{account: MRU}}\ntargets:\n  ecomlinx: {{account: main, base_url: '{ecomlinx.api_url}'}}\n"
        f"orders: {{to: workbook, workbook: orders.xlsx, from: [ecomlinx], {FULFILMENT}}}\n", encoding="utf-8")
    return profile


def sync(profile: Path, *extra: str) -> dict[str, Any]:
    report = profile.parent / "sync.json"
    assert main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report), *extra]) == EXIT_OK
    return json.loads(report.read_text(encoding="utf-8"))


def tea(server: Any) -> int:
    return next(p["stock"] for p in server.dump_state()["products"] if p["sku"] == "TEA-500")


def shipped_holds(profile: Path) -> dict[str, str]:
    with StateStore.open(profile.parent / "state.sqlite") as state:
        return state.hashes("ecomlinx", "main", SHIPPED)


def sold_two(shop: Path, ecomlinx: Any) -> dict[str, Any]:
    sync(shop)
    assert tea(ecomlinx) == 3
    order = ecomlinx.create_order({"items": [{"sku": "TEA-500", "qty": 2}], "customer": {"name": "Fatimetou"}})
    assert sync(shop)["reserved"] == {"TEA-500": {"reserved": 2, "listed": 1}}  # held back while open
    assert tea(ecomlinx) == 1
    return order


def test_a_shipped_order_holds_its_units_until_the_merchant_saves_products_csv(
        shop: Path, ecomlinx: Any, capsys: pytest.CaptureFixture[str]) -> None:
    order = sold_two(shop, ecomlinx)
    mark(shop.parent / "orders.xlsx", "TEA-500", "shipped", "AWB-1", "Delhivery Express")
    assert fulfil(shop)[0] == EXIT_OK
    assert remote(ecomlinx, order["id"])["status"] == "shipped"

    capsys.readouterr()
    report = sync(shop)  # reads the order back shipped: products.csv still says 3, the shelf has 1
    assert report["reserved"] == {"TEA-500": {"reserved": 2, "listed": 1}}
    assert tea(ecomlinx) == 1
    text = " ".join(capsys.readouterr().out.split())
    assert "TEA-500: reserved 2 for orders shipped since products.csv was last saved" in text
    assert "orders shipped since products.csv was last saved: 1 hold back 2 unit(s) of 1 SKU(s)" in text
    assert len(shipped_holds(shop)) == 1

    assert sync(shop, "--dry-run")["reserved"] == {"TEA-500": {"reserved": 2, "listed": 1}}
    assert sync(shop)["reserved"] == {"TEA-500": {"reserved": 2, "listed": 1}}  # every run until it is saved
    assert tea(ecomlinx) == 1

    save_products(shop.parent / "products.csv", 1, saved=time.time() + 60)  # saved after the order shipped
    sync(shop, "--dry-run")
    assert len(shipped_holds(shop)) == 1  # a dry run forgets nothing
    assert sync(shop).get("reserved", {}) == {}
    assert tea(ecomlinx) == 1 and shipped_holds(shop) == {}

    save_products(shop.parent / "products.csv", 5, saved=time.time() + 120)  # restocked: released for good
    assert sync(shop).get("reserved", {}) == {}
    assert tea(ecomlinx) == 5


def test_shipped_in_the_back_office_holds_too_and_a_cancelled_order_is_released_at_once(
        shop: Path, ecomlinx: Any) -> None:
    order = sold_two(shop, ecomlinx)
    ecomlinx.set_order_status(order["id"], "shipped")
    dry = sync(shop, "--dry-run")  # read back shipped, not remembered: the dry run holds it all the same
    assert dry["reserved"] == {"TEA-500": {"reserved": 2, "listed": 1}} and shipped_holds(shop) == {}
    assert sync(shop)["reserved"] == {"TEA-500": {"reserved": 2, "listed": 1}}
    assert tea(ecomlinx) == 1

    other = ecomlinx.create_order({"items": [{"sku": "SOAP-01", "qty": 2}]})
    assert sync(shop)["reserved"]["SOAP-01"] == {"reserved": 2, "listed": 3}
    ecomlinx.set_order_status(other["id"], "cancelled")
    report = sync(shop)
    assert "SOAP-01" not in report["reserved"]  # cancelled: given back at once, as before
    assert {p["sku"]: p["stock"] for p in ecomlinx.dump_state()["products"]} == {"TEA-500": 1, "SOAP-01": 5}
