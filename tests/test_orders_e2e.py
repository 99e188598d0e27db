"""End to end on the sandboxes, as a merchant runs it: the last unit sold on EcomLinx (an order placed with the
sandbox's own control call) is listed as 0 on Elebne by the next `connector sync --profile`, and comes back when
the order is cancelled; the order lands in the orders workbook once, whatever the number of runs, and the
tracking number the merchant typed survives them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from openpyxl import load_workbook

from connector.cli import main
from connector.errors import EXIT_OK
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.conftest import running_ecomlinx as ecomlinx_sandbox
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox

CATALOGUE = [{"SKU": "TEA-500", "Name": "Thé vert 500 g", "Price": 8.9},
             {"SKU": "SOAP-01", "Name": "Savon d'Alep", "Price": 12.5}]
STOCK = {"Warehouse": {"TEA-500": 1, "SOAP-01": 5}}  # the last tea of the shop


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[Any]:
    with ecomlinx_sandbox(tmp_path / "ecomlinx.sqlite", listed=[r["SKU"] for r in CATALOGUE]) as server:
        yield server


def write_shop(tmp_path: Path, elebne: SandboxHandle, ecomlinx: Any, orders: str) -> Path:
    write_workbook(tmp_path / "products.xlsx", CATALOGUE, STOCK)
    profile = tmp_path / "shop.yaml"
    profile.write_text(
        "name: shop\nsource: {type: spreadsheet, path: products.xlsx, currency: MRU}\nstate: state.sqlite\n"
        "currency: {account: MRU}\n"
        "targets:\n"
        f"  elebne: {{account: shop, base_url: '{elebne.base_url}'}}\n"
        f"  ecomlinx: {{account: main, base_url: '{ecomlinx.api_url}'}}\n"
        f"orders: {orders}\n", encoding="utf-8")
    return profile


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    monkeypatch.setenv("ECOMLINX_API_KEY", ECOMLINX.sandbox_key)


@pytest.fixture
def shop(tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any, keys: None) -> Path:
    return write_shop(tmp_path, elebne_sandbox, ecomlinx, "{to: workbook, workbook: orders.xlsx, from: [ecomlinx]}")


def sync(profile: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = profile.parent / "report.json"
    code = main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report), *extra])
    return code, {p.stem.removeprefix("report-"): json.loads(p.read_text(encoding="utf-8"))
                  for p in profile.parent.glob("report-*.json")}


def ecomlinx_stock(server: Any) -> dict[str, int]:
    return {p["sku"]: p["stock"] for p in server.dump_state()["products"]}


def elebne_stock(sandbox: SandboxHandle) -> dict[str, int]:
    return {k: p["quantity"] for k, p in sandbox.products().items()}


def order_rows(path: Path) -> list[dict[str, Any]]:
    values = list(load_workbook(path)["Orders"].iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=False)) for row in values[1:]]


def type_tracking(path: Path, number: str) -> None:
    wb = load_workbook(path)
    ws = wb["Orders"]
    heads = [c.value for c in ws[1]]
    ws.cell(2, heads.index("Tracking number") + 1).value = number
    ws.cell(2, heads.index("Courier") + 1).value = "Aramex"
    wb.save(path)


def test_the_last_unit_sold_on_ecomlinx_is_sent_as_0_to_elebne_and_comes_back_on_cancel(
        shop: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, reports = sync(shop)
    assert code == EXIT_OK, reports
    assert elebne_stock(elebne_sandbox) == {"TEA-500": 1, "SOAP-01": 5}
    assert ecomlinx_stock(ecomlinx) == {"TEA-500": 1, "SOAP-01": 5}

    order = ecomlinx.create_order({"channel": "amazon_in", "items": [{"sku": "TEA-500", "qty": 1, "price": 8.9}],
                                   "customer": {"name": "Fatimetou", "city": "Nouakchott"}})
    assert ecomlinx_stock(ecomlinx)["TEA-500"] == 0  # the marketplace took its own unit

    code, reports = sync(shop, "--dry-run")  # says it, sends nothing
    assert code == EXIT_OK
    assert reports["elebne"]["reserved"] == {"TEA-500": {"reserved": 1, "listed": 0}}
    assert elebne_stock(elebne_sandbox)["TEA-500"] == 1 and not (shop.parent / "orders.xlsx").exists()

    code, reports = sync(shop)
    assert code == EXIT_OK, reports
    assert elebne_stock(elebne_sandbox) == {"TEA-500": 0, "SOAP-01": 5}  # never sold twice
    assert ecomlinx_stock(ecomlinx) == {"TEA-500": 0, "SOAP-01": 5}  # not put back on sale by the absolute push
    section = reports["orders-ecomlinx"]["orders"]
    assert [(o["order_id"], o["result"]) for o in section["orders"]] == [(order["id"], "imported")]
    assert section["missed"] == []
    rows = order_rows(shop.parent / "orders.xlsx")
    assert [(r["Marketplace"], r["Order ID"], r["SKU"], r["Quantity"], r["Marketplace status"], r["Customer"])
            for r in rows] == [("ecomlinx", order["id"], "TEA-500", 1, "new", "Fatimetou")]
    assert "TEA-500: reserved 1 for open orders, listed 0" in capsys.readouterr().out

    type_tracking(shop.parent / "orders.xlsx", "AWB-000123")  # the merchant ships it... and cancels after all
    ecomlinx.set_order_status(order["id"], "cancelled")
    assert ecomlinx_stock(ecomlinx)["TEA-500"] == 1

    # a run for Elebne alone does not read EcomLinx's orders: the order as last read still holds the unit
    assert sync(shop, "--target", "elebne")[0] == EXIT_OK
    assert elebne_stock(elebne_sandbox)["TEA-500"] == 0
    assert "orders of ecomlinx not read by this run" in " ".join(capsys.readouterr().out.split())

    code, reports = sync(shop)
    assert code == EXIT_OK, reports
    assert elebne_stock(elebne_sandbox) == {"TEA-500": 1, "SOAP-01": 5}  # back on sale everywhere
    assert reports["orders-ecomlinx"]["orders"]["counts"]["updated"] == 1
    rows = order_rows(shop.parent / "orders.xlsx")
    assert len(rows) == 1
    assert (rows[0]["Marketplace status"], rows[0]["Tracking number"], rows[0]["Courier"]) == (
        "cancelled", "AWB-000123", "Aramex")


def test_orders_land_in_the_workbook_once_however_often_it_runs(
        shop: Path, ecomlinx: Any, tmp_path: Path) -> None:
    assert sync(shop)[0] == EXIT_OK  # the stock goes up first
    placed = [ecomlinx.create_order({"items": [{"sku": "SOAP-01", "qty": 1}, {"sku": "TEA-500", "qty": 1}]}),
              ecomlinx.create_order({"items": [{"sku": "SOAP-01", "qty": 2}]})]
    for name in ("orders.xlsx", "orders.csv"):
        out = tmp_path / name
        args = ["orders", "--profile", str(shop), "--to", str(out), "--no-progress", "--state",
                str(tmp_path / f"{name}.sqlite")]
        assert main(args) == EXIT_OK
        first = out.read_bytes()
        assert main(args) == EXIT_OK
        assert out.read_bytes() == first  # nothing to change: the file is not even rewritten
        (tmp_path / f"{name}.sqlite").unlink()  # a lost state: the rows in the file still say what is there
        assert main(args) == EXIT_OK
        if name.endswith(".xlsx"):
            rows = order_rows(out)
            assert sorted((r["Order ID"], r["SKU"]) for r in rows) == sorted(
                [(placed[0]["id"], "SOAP-01"), (placed[0]["id"], "TEA-500"), (placed[1]["id"], "SOAP-01")])
        else:
            assert out.read_text(encoding="utf-8-sig").count("\n") == 1 + 3


def elebne_call(sandbox: SandboxHandle, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(sandbox.base_url + path, json=body, timeout=5,
                             headers={"Authorization": f"Bearer {ELEBNE_KEY}"})
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


def test_an_order_simulated_on_elebne_takes_the_unit_off_ecomlinx_too(
        tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any, keys: None) -> None:
    shop = write_shop(tmp_path, elebne_sandbox, ecomlinx, "{to: workbook, workbook: orders.csv}")  # every reader
    assert sync(shop)[0] == EXIT_OK
    order = elebne_call(elebne_sandbox, "/orders/simulate", {"items": [{"externalId": "TEA-500", "quantity": 1}],
                                                             "customer": {"name": "Mohamed", "city": "Atar"}})
    code, reports = sync(shop)
    assert code == EXIT_OK, reports
    assert ecomlinx_stock(ecomlinx) == {"TEA-500": 0, "SOAP-01": 5}
    assert elebne_stock(elebne_sandbox) == {"TEA-500": 0, "SOAP-01": 5}
    assert reports["orders-elebne"]["orders"]["counts"]["imported"] == 1
    assert reports["orders-ecomlinx"]["orders"]["read"] == 0
    text = (tmp_path / "orders.csv").read_text(encoding="utf-8-sig")
    assert text.count("\n") == 2 and "Mohamed" in text and "TEA-500" in text

    elebne_call(elebne_sandbox, f"/orders/{order['id']}/simulate", {"status": "CANCELLED"})
    assert sync(shop)[0] == EXIT_OK
    assert ecomlinx_stock(ecomlinx) == elebne_stock(elebne_sandbox) == {"TEA-500": 1, "SOAP-01": 5}
    assert "cancelled" in (tmp_path / "orders.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("body", ["<html>Bad gateway</html>", {"unexpected": True}, {"success": True, "data": {}}])
def test_a_page_of_orders_without_its_list_is_an_error_not_no_orders(
        tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any, keys: None, body: Any) -> None:
    """A marketplace (or a proxy before it) answering 200 with something that is not a page of orders: the run
    says so and exits 1, and the cursor stays where it was, instead of reading "no orders", exit 0."""
    from connector.orders.reader import cursor_source
    from connector.sync.state import StateStore

    shop = write_shop(tmp_path, elebne_sandbox, ecomlinx, "{to: workbook, workbook: orders.csv}")
    report = tmp_path / "orders.json"
    args = ["orders", "--profile", str(shop), "--no-progress", "--report", str(report)]
    assert main(args) == EXIT_OK
    with StateStore.open(tmp_path / "state.sqlite") as state:
        before = {m: state.get_cursor(cursor_source(m), a) for m, a in (("elebne", "shop"), ("ecomlinx", "main"))}
    for url in (elebne_sandbox.server.url, ecomlinx.url):
        response = requests.post(f"{url}/__sandbox/faults", json={"status": 200, "path": ".*orders", "body": body},
                                 timeout=5)
        assert response.status_code == 201, response.text
    assert main(args) in (1, 4)  # the marketplace's own error (1), or a listing that cannot be read (4)
    reports = {p.stem.rsplit("-", 1)[-1]: json.loads(p.read_text(encoding="utf-8"))
               for p in tmp_path.glob("orders-*.json")}
    for name in ("elebne", "ecomlinx"):
        section = reports[name]["orders"]
        assert section["read"] == 0 and section["cursor"]["saved"] is False, reports[name]
        assert reports[name]["exit_code"] != EXIT_OK
    with StateStore.open(tmp_path / "state.sqlite") as state:
        after = {m: state.get_cursor(cursor_source(m), a) for m, a in (("elebne", "shop"), ("ecomlinx", "main"))}
    assert after == before
