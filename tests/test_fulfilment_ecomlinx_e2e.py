"""Fulfilment back, end to end on the EcomLinx sandbox, as a merchant without an ERP runs it: an order comes in to
the orders workbook, the merchant types shipped, the tracking number and the courier on its rows, and
`connector fulfil` sets the order shipped on EcomLinx with its airway bill, once, whatever the number of runs."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.conftest import running_ecomlinx as ecomlinx_sandbox
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox

CATALOGUE = [{"SKU": "TEA-500", "Name": "Green tea 500 g", "Price": 8.9},
             {"SKU": "SOAP-01", "Name": "Aleppo soap", "Price": 12.5}]
STOCK = {"Warehouse": {"TEA-500": 10, "SOAP-01": 10}}
FULFILMENT = "fulfilment: {carriers: {ecomlinx: {' delhivery  express ': Delhivery}}}"


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[Any]:
    with ecomlinx_sandbox(tmp_path / "ecomlinx.sqlite", listed=[r["SKU"] for r in CATALOGUE]) as server:
        yield server


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    monkeypatch.setenv("ECOMLINX_API_KEY", ECOMLINX.sandbox_key)


def write_shop(tmp_path: Path, ecomlinx: Any, orders: str, elebne: SandboxHandle | None = None) -> Path:
    write_workbook(tmp_path / "products.xlsx", CATALOGUE, STOCK)
    profile = tmp_path / "shop.yaml"
    elebne_line = f"  elebne: {{account: shop, base_url: '{elebne.base_url}'}}\n" if elebne else ""
    profile.write_text(
        "name: shop\nsource: {type: spreadsheet, path: products.xlsx, currency: MRU}\nstate: state.sqlite\n"
        "currency: {account: MRU}\ntargets:\n"
        f"  ecomlinx: {{account: main, base_url: '{ecomlinx.api_url}'}}\n{elebne_line}"
        f"orders: {orders}\n", encoding="utf-8")
    return profile


@pytest.fixture
def shop(tmp_path: Path, ecomlinx: Any) -> Path:
    return write_shop(tmp_path, ecomlinx, "{to: workbook, workbook: orders.xlsx, from: [ecomlinx], "
                                          f"{FULFILMENT}}}")


def fulfil(profile: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = profile.parent / "fulfil.json"
    report.unlink(missing_ok=True)
    code = main(["fulfil", "--profile", str(profile), "--no-progress", "--report", str(report), *extra])
    return code, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}


def mark(path: Path, sku: str, status: str | None, tracking: str | None = None, courier: str | None = None,
         order_id: str | None = None) -> None:
    """The merchant types in the orders workbook: Status, Tracking number, Courier on the row of ``sku``."""
    wb = load_workbook(path)
    ws = wb["Orders"]
    heads = [c.value for c in ws[1]]
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, heads.index("SKU") + 1).value == sku and (
                order_id is None or ws.cell(row, heads.index("Order ID") + 1).value == order_id):
            ws.cell(row, heads.index("Status") + 1).value = status
            ws.cell(row, heads.index("Tracking number") + 1).value = tracking
            ws.cell(row, heads.index("Courier") + 1).value = courier
    wb.save(path)


def patches(server: Any, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in server.requests_log(since) if r["method"] == "PATCH" and r["path"].startswith("/v1/orders/")]


def remote(server: Any, order_id: str) -> dict[str, Any]:
    return next(o for o in server.dump_state()["orders"] if o["id"] == order_id)


def bring_in(shop: Path, server: Any, *items: dict[str, Any]) -> dict[str, Any]:
    assert main(["sync", "--profile", str(shop), "--no-progress"]) == EXIT_OK  # the stock goes up first
    order = server.create_order({"items": list(items), "customer": {"name": "Fatimetou"}})
    assert main(["orders", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    return order


def test_shipped_in_the_workbook_is_shipped_on_ecomlinx_with_its_awb_once(
        shop: Path, ecomlinx: Any, capsys: pytest.CaptureFixture[str]) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "TEA-500", "qty": 2}, {"sku": "SOAP-01", "qty": 1})
    book = shop.parent / "orders.xlsx"

    mark(book, "TEA-500", "Shipped", "AWB-1", "Delhivery Express")  # one line of two: not yet
    code, report = fulfil(shop)
    assert code == EXIT_OK, report
    [row] = report["fulfilment"]["orders"]
    assert (row["result"], row["reason"]) == ("unchanged", "waiting for the rest of the order (1 of 2 lines shipped)")
    assert patches(ecomlinx) == [] and remote(ecomlinx, order["id"])["status"] == "new"

    mark(book, "SOAP-01", "shipped", "AWB-1", "delhivery express")
    code, report = fulfil(shop)
    assert code == EXIT_OK, report
    [row] = report["fulfilment"]["orders"]
    assert (row["reference"], row["result"], row["sent"]) == (
        f"ecomlinx:{order['channel_order_id']}", "shipped", ["status:processing", "status:ready", "status:shipped"])
    shipped = remote(ecomlinx, order["id"])
    assert (shipped["status"], shipped["awb"], shipped["courier"]) == ("shipped", "AWB-1", "Delhivery")
    assert len(patches(ecomlinx)) == 3  # new -> processing -> ready -> shipped
    assert "│ shipped" in capsys.readouterr().out

    seen = len(ecomlinx.requests_log())
    code, report = fulfil(shop)  # nothing new: not a single request
    assert code == EXIT_OK and report["fulfilment"]["orders"] == []
    assert ecomlinx.requests_log(seen) == []

    mark(book, "TEA-500", "delivered", "AWB-1", "Delhivery Express")
    mark(book, "SOAP-01", "delivered", "AWB-1", "Delhivery Express")
    code, report = fulfil(shop)
    assert code == EXIT_OK
    assert [(r["result"], r["sent"]) for r in report["fulfilment"]["orders"]] == [("delivered", ["status:delivered"])]
    assert remote(ecomlinx, order["id"])["status"] == "delivered"


def test_an_unmapped_courier_or_a_missing_tracking_number_is_held_and_never_sent(
        shop: Path, ecomlinx: Any, capsys: pytest.CaptureFixture[str]) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "TEA-500", "qty": 1})
    book = shop.parent / "orders.xlsx"
    mark(book, "TEA-500", "shipped", "AWB-9", "Aramex")
    code, report = fulfil(shop)
    assert code == EXIT_FAILED
    [row] = report["fulfilment"]["orders"]
    assert row["result"] == "needs_attention"
    assert row["reason"] == ("carrier 'Aramex' is not mapped to a courier of EcomLinx: add it under "
                             "orders.fulfilment.carriers.ecomlinx")
    assert "needs attention" in capsys.readouterr().out
    assert patches(ecomlinx) == []

    mark(book, "TEA-500", "shipped", None, "Delhivery Express")
    code, report = fulfil(shop)
    assert code == EXIT_FAILED
    assert report["fulfilment"]["orders"][0]["reason"] == (
        "EcomLinx needs a tracking number: shipment workbook:untracked has none")
    assert patches(ecomlinx) == []

    mark(book, "TEA-500", "sent off", None, None)
    code, report = fulfil(shop)
    assert code == EXIT_FAILED
    assert report["fulfilment"]["orders"][0]["reason"] == (
        "sheet Orders, row 2, column Status: 'sent off' is not a status (write shipped, delivered, cancelled, or "
        "leave it empty)")
    assert patches(ecomlinx) == [] and remote(ecomlinx, order["id"])["status"] == "new"


def test_cancelled_in_the_workbook_is_cancelled_on_ecomlinx_and_released_at_the_next_sync(
        shop: Path, ecomlinx: Any) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "TEA-500", "qty": 3})
    assert ecomlinx.dump_state()["products"][0]["stock"] == 7  # the marketplace took its units
    report = shop.parent / "sync.json"
    assert main(["sync", "--profile", str(shop), "--no-progress", "--report", str(report)]) == EXIT_OK
    held = json.loads((shop.parent / "sync.json").read_text(encoding="utf-8"))
    assert held["reserved"] == {"TEA-500": {"reserved": 3, "listed": 7}}

    mark(shop.parent / "orders.xlsx", "TEA-500", "CANCELLED")
    code, result = fulfil(shop)
    assert code == EXIT_OK, result
    assert [(r["result"], r["sent"]) for r in result["fulfilment"]["orders"]] == [("cancelled", ["status:cancelled"])]
    assert remote(ecomlinx, order["id"])["status"] == "cancelled"

    assert main(["sync", "--profile", str(shop), "--no-progress", "--report", str(report)]) == EXIT_OK
    pushed = json.loads((shop.parent / "sync.json").read_text(encoding="utf-8"))
    assert pushed.get("reserved", {}) == {}  # the order read back cancelled holds nothing back any more
    assert {p["sku"]: p["stock"] for p in ecomlinx.dump_state()["products"]} == {"TEA-500": 10, "SOAP-01": 10}
    fulfilled = json.loads((shop.parent / "sync-fulfil-ecomlinx.json").read_text(encoding="utf-8"))
    assert fulfilled["fulfilment"]["orders"] == []  # cancelled and confirmed: nothing sent again
    assert fulfil(shop)[1]["fulfilment"]["orders"] == []


def test_a_run_killed_after_the_patch_never_sends_it_twice(
        shop: Path, ecomlinx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.marketplaces.ecomlinx.client import EcomLinxClient

    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1})
    mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", "AWB-7", "Delhivery Express")
    real = EcomLinxClient.update_order

    def killed_after_shipped(self: Any, order_id: str, status: str, **kw: Any) -> Any:
        answer = real(self, order_id, status, **kw)
        if status == "shipped":
            raise KeyboardInterrupt  # the process dies after EcomLinx took the PATCH, before it is recorded
        return answer

    monkeypatch.setattr(EcomLinxClient, "update_order", killed_after_shipped)
    assert fulfil(shop)[0] == 130
    assert remote(ecomlinx, order["id"])["status"] == "shipped"
    monkeypatch.setattr(EcomLinxClient, "update_order", real)
    seen = len(ecomlinx.requests_log())
    code, report = fulfil(shop)
    assert code == EXIT_OK, report
    [row] = report["fulfilment"]["orders"]
    assert (row["result"], row["sent"]) == ("shipped", ["status:shipped"])  # looked up, found shipped
    assert row["reason"] == "found shipped on EcomLinx already (an earlier call had gone through): not sent again"
    after = ecomlinx.requests_log(seen)
    assert [(r["method"], r["path"]) for r in after] == [("GET", f"/v1/orders/{order['id']}")]
    assert len(patches(ecomlinx)) == 3  # processing, ready, shipped: each once


def test_a_dry_run_sends_and_remembers_nothing(shop: Path, ecomlinx: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from connector.fulfilment.writer import PROGRESS
    from connector.sync.state import StateStore

    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1})
    mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", "AWB-3", "Delhivery Express")
    code, report = fulfil(shop, "--dry-run")
    assert code == EXIT_OK
    [row] = report["fulfilment"]["orders"]
    assert row["result"] == "shipped" and row["sent"] == []
    assert row["reason"] == ("dry run: would set processing, then ready, then shipped (awb AWB-3, courier "
                             "Delhivery)")
    assert "to ship" in capsys.readouterr().out
    assert patches(ecomlinx) == [] and remote(ecomlinx, order["id"])["status"] == "new"
    with StateStore.open(shop.parent / "state.sqlite") as state:
        assert state.hashes("ecomlinx", "main", PROGRESS) == {}
    assert fulfil(shop)[1]["fulfilment"]["counts"]["shipped"] == 1  # the real run still has it to send


def test_elebne_orders_are_reported_unsupported_and_the_run_exits_0(
        tmp_path: Path, ecomlinx: Any, elebne_sandbox: SandboxHandle) -> None:
    import requests

    shop = write_shop(tmp_path, ecomlinx, "{to: workbook, workbook: orders.csv, from: [elebne]}", elebne_sandbox)
    assert main(["sync", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    answer = requests.post(elebne_sandbox.base_url + "/orders/simulate", timeout=5,
                           json={"items": [{"externalId": "TEA-500", "quantity": 1}]},
                           headers={"Authorization": f"Bearer {ELEBNE_KEY}"})
    assert answer.status_code in (200, 201), answer.text
    assert main(["orders", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    path = tmp_path / "orders.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        heads, cells = list(csv.reader(fh))
    cells[heads.index("Status")], cells[heads.index("Tracking number")] = "shipped", "TRK-1"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([heads, cells])
    code, report = fulfil(shop)
    assert code == EXIT_OK, report
    [row] = report["fulfilment"]["orders"]
    assert row["result"] == "unsupported" and "Elebne's documents give no call" in row["reason"]
    assert report["http"]["total_requests"] == 0


def test_sync_sends_the_shipments_after_the_orders_in_and_folds_their_exit_code(
        shop: Path, ecomlinx: Any, capsys: pytest.CaptureFixture[str]) -> None:
    first = bring_in(shop, ecomlinx, {"sku": "TEA-500", "qty": 1})
    second = ecomlinx.create_order({"items": [{"sku": "SOAP-01", "qty": 1}]})
    assert main(["orders", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    book = shop.parent / "orders.xlsx"
    mark(book, "TEA-500", "shipped", "AWB-5", "Delhivery Express")
    mark(book, "SOAP-01", "shipped", "AWB-6", "Aramex")  # not mapped: held, and the run says so
    capsys.readouterr()
    code = main(["sync", "--profile", str(shop), "--no-progress"])
    assert code == EXIT_FAILED
    text = " ".join(capsys.readouterr().out.split())
    assert text.index("Orders EcomLinx") < text.index("Fulfilment") < text.index("Sync")
    assert "needs attention ecomlinx:" in text and "carrier 'Aramex' is not mapped" in text
    assert remote(ecomlinx, first["id"])["status"] == "shipped"
    assert remote(ecomlinx, second["id"])["status"] == "new"


def test_fulfil_needs_an_orders_section_and_a_target_it_reads(tmp_path: Path, ecomlinx: Any,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    write_workbook(tmp_path / "products.xlsx", CATALOGUE, STOCK)
    bare = tmp_path / "bare.yaml"
    bare.write_text(f"source: products.xlsx\ntargets: {{ecomlinx: {{base_url: '{ecomlinx.api_url}'}}}}\n",
                    encoding="utf-8")
    assert main(["fulfil", "--profile", str(bare)]) == EXIT_USAGE
    assert "has no 'orders:' section" in " ".join(capsys.readouterr().err.split())
    shop = write_shop(tmp_path, ecomlinx, "{to: workbook, workbook: orders.xlsx, from: [ecomlinx]}")
    assert main(["fulfil", "--profile", str(shop), "--target", "elryan"]) == EXIT_USAGE
    assert "has no target 'elryan'" in " ".join(capsys.readouterr().err.split())
    off = write_shop(tmp_path, ecomlinx, "{to: workbook, workbook: orders.xlsx, fulfilment: {enabled: false}}")
    assert main(["fulfil", "--profile", str(off)]) == EXIT_USAGE
    assert main(["sync", "--profile", str(off), "--no-progress"]) == EXIT_OK
    assert "Fulfilment" not in capsys.readouterr().out


def test_the_service_brings_the_order_in_and_its_tracking_number_out(
        tmp_path: Path, ecomlinx: Any, pg_url: str) -> None:
    """The same round trip run by the service: the state in PostgreSQL, an `orders` job and then a `fulfilment`
    job taken by `connector worker`; the marketplace ends shipped with the awb, and a second fulfilment job
    sends nothing."""
    from tests.service_support import migrated, runs

    url = migrated(pg_url)
    shop = write_shop(tmp_path, ecomlinx, "{to: workbook, workbook: orders.xlsx, from: [ecomlinx], "
                                          f"{FULFILMENT}}}")
    shop.write_text(shop.read_text(encoding="utf-8").replace("state: state.sqlite", f"state: '{pg_url}'"),
                    encoding="utf-8")
    assert main(["sync", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    order = ecomlinx.create_order({"items": [{"sku": "TEA-500", "qty": 1}], "customer": {"name": "Aicha"}})

    def job(kind: str) -> None:
        assert main(["service", "enqueue", "--db", url, "--profile", str(shop), "--kind", kind,
                     "--target", "ecomlinx"]) == 0
        assert main(["worker", "--db", url, "--once"]) == 0

    job("orders")
    mark(shop.parent / "orders.xlsx", "TEA-500", "shipped", "AWB-77", "Delhivery Express")
    job("fulfilment")
    shipped = remote(ecomlinx, order["id"])
    assert (shipped["status"], shipped["awb"], shipped["courier"]) == ("shipped", "AWB-77", "Delhivery")
    seen = len(patches(ecomlinx))
    job("fulfilment")
    assert len(patches(ecomlinx)) == seen  # confirmed in PostgreSQL: nothing sent twice
    assert [(r[2], r[5]) for r in runs(url)][-3:] == [("orders", 0), ("fulfilment", 0), ("fulfilment", 0)]
