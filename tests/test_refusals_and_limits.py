"""Issue 12 point 7, on every marketplace through the shared classification of answers: a refused key stops
the run at the first refusal (exit 4); a call still refused for rate or server reasons after the HTTP layer's
retries is deferred (exit 3), and every 429 is counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_PARTIAL, EXIT_UNREACHABLE
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from connector.marketplaces.ecomlinx import SANDBOX_PRO_KEY
from connector.sync.runner import SyncOptions, run_sync
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.test_ecomlinx_sync import ON_ECOMLINX, ecomlinx, sample, writes  # noqa: F401  (fixture)
from tests.test_sync_elebne_e2e import sync
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox


def deferred_everywhere(rows: list[dict[str, Any]]) -> bool:
    return bool(rows) and all(r["status"] == "skipped" and r["reason"].startswith("deferred") for r in rows)


@pytest.mark.parametrize(("key", "status", "code"), [("pk_test_demo0000connector", 403, "FORBIDDEN"),
                                                     ("not-a-key", 401, "UNAUTHORIZED")])
def test_elebne_stops_at_the_first_refusal_of_the_key(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, key: str, status: int,
                                                      code: str) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    exit_code, report = sync(elebne_sandbox, wb, tmp_path, key=key, monkeypatch=monkeypatch)
    assert exit_code == EXIT_UNREACHABLE
    assert [r["status"] for r in elebne_sandbox.writes()] == [status]  # one refusal, not one per product
    assert "refused the credentials" in report["unreachable"] and code in report["unreachable"]
    assert deferred_everywhere(report["rows"])
    assert report["http"]["budget_remaining_today"]["write"] == 499  # the day's writes are not spent on refusals


def test_elebne_stock_stops_at_the_first_refused_bulk_request(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.workbooks import set_cell

    wb = write_workbook(tmp_path / "products.xlsx")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)[0] == 0
    set_cell(wb, "Products", "TEA-500", "Price", 9.9)  # an update (write) behind the stock (bulk)
    for sku in ("SOAP-01", "TEA-500"):
        set_cell(wb, "Stock - Warehouse", sku, "Quantity", 40)
    mark = elebne_sandbox.last_id()
    exit_code, report = sync(elebne_sandbox, wb, tmp_path, key="pk_test_demo0000connector", monkeypatch=monkeypatch)
    assert exit_code == EXIT_UNREACHABLE
    assert [(r["path"].rsplit("/", 2)[-2:], r["status"]) for r in elebne_sandbox.writes(mark)] == [
        (["inventory", "bulk"], 403)]  # the update was never tried
    assert report["summary"]["operations"]["deferred"] >= 2 and report["summary"]["operations"]["failed"] == 0
    assert ELEBNE_KEY not in str(report)


def test_ecomlinx_stops_at_the_first_refused_write(ecomlinx: Any, tmp_path: Path) -> None:  # noqa: F811
    # a Pro key the profile calls a Scale key: EcomLinx answers 403 to the first write
    opts = SyncOptions(target="ecomlinx", state_path=tmp_path / "state.sqlite", secret=SANDBOX_PRO_KEY,
                       base_url=ecomlinx.api_url, account="test-shop", settings={"plan": "scale"})
    report = run_sync(sample(), opts).report
    assert report.exit_code == EXIT_UNREACHABLE and "forbidden" in (report.unreachable or "")
    assert [r["status"] for r in writes(ecomlinx)] == [403]
    assert {r.status for r in report.rows if r.sku in ON_ECOMLINX} == {"skipped"}
    assert report.operations["failed"] == 0 and ECOMLINX.sandbox_key not in str(report.to_json())


# -- still rate-limited or failing after the HTTP layer's retries: deferred (exit 3), every 429 counted ------------
@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connector.http.client.HttpClient.backoff", lambda self, attempt: 0.0)


def test_elebne_429s_after_the_retries_defer_the_writes_and_are_all_counted(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elebne_sandbox.fault(method="POST", path="/products", kind="status", status=429, retry_after=0, count=100)
    wb = write_workbook(tmp_path / "products.xlsx")
    exit_code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)
    answered_429 = [r for r in elebne_sandbox.requests() if r["status"] == 429]
    assert exit_code == EXIT_PARTIAL
    assert len(answered_429) == 1 + 5  # one create and its retries: the other creates wait for the next run
    assert report["http"]["throttled_429"] == len(answered_429)
    assert report["summary"]["operations"]["failed"] == 0 and deferred_everywhere(report["rows"])
    elebne_sandbox.server.faults.clear()
    exit_code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)
    assert exit_code == 0 and set(elebne_sandbox.products()) == {"SOAP-01", "TEE", "TEA-500"}


def test_elebne_5xx_after_the_retries_defers_the_stock(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, no_backoff: None) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)[0] == 0
    from tests.workbooks import set_cell

    set_cell(wb, "Stock - Warehouse", "SOAP-01", "Quantity", 40)
    set_cell(wb, "Products", "TEA-500", "Price", 9.9)
    elebne_sandbox.fault(method="PATCH", path="/inventory/bulk", kind="status", status=503, count=100)
    exit_code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)
    ops = report["summary"]["operations"]
    assert exit_code == EXIT_PARTIAL and (ops["deferred"], ops["failed"], ops["update"]) == (1, 0, 1)
    soap = [r for r in report["rows"] if r["sku"] == "SOAP-01" and r["sheet"] == "Stock - Warehouse"]
    assert soap[0]["status"] == "skipped" and "503" in soap[0]["reason"]  # the price update went on


def test_elryan_5xx_after_the_retries_is_deferred(tmp_path: Path, no_backoff: None) -> None:
    from connector.marketplaces.elryan import PLUGIN as ELRYAN
    from connector.sources.spreadsheet import read_spreadsheet
    from tests.test_elryan_sync import Elryan, souk_workbook

    server = ELRYAN.create_sandbox(port=0, db_path=str(tmp_path / "elryan.sqlite")).start()
    try:
        elryan = Elryan(server, tmp_path)
        elryan.fault(status=502, path=r"/products/upsert", count=100)
        source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
        report = elryan.sync(source).report
        assert report.exit_code == EXIT_PARTIAL and report.operations["failed"] == 0
        assert {r.status for r in report.rows} == {"skipped"} and report.operations["deferred"] >= 2
        server.faults.clear()
        assert elryan.sync(source).report.exit_code == 0
    finally:
        server.stop()


def test_ecomlinx_5xx_after_the_retries_is_deferred_and_429s_counted(ecomlinx: Any, tmp_path: Path,  # noqa: F811
                                                                     no_backoff: None) -> None:
    ecomlinx.add_fault("status", status=500, count=100, path="/v1/inventory/")
    report = sync_ecomlinx(ecomlinx, tmp_path)
    assert report.exit_code == EXIT_PARTIAL and report.operations["failed"] == 0
    assert report.operations["deferred"] == 2 * len(ON_ECOMLINX)
    ecomlinx.faults.clear()
    ecomlinx.add_fault("status", status=429, retry_after=0, count=100, path="/v1/inventory/")
    report = sync_ecomlinx(ecomlinx, tmp_path)
    answered_429 = [r for r in ecomlinx.requests_log() if r["status"] == 429]
    assert report.exit_code == EXIT_PARTIAL and report.http["throttled_429"] == len(answered_429) == 6


def sync_ecomlinx(server: Any, tmp_path: Path) -> Any:
    opts = SyncOptions(target="ecomlinx", state_path=tmp_path / "state.sqlite", secret=ECOMLINX.sandbox_key,
                       base_url=server.api_url, account="test-shop")
    return run_sync(sample(), opts).report
