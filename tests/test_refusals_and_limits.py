"""Issue 12 point 7, on every marketplace through the shared classification of answers: a refused key stops
the run at the first refusal (exit 4); a call still refused for rate or server reasons after the HTTP layer's
retries is deferred (exit 3), and every 429 is counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_UNREACHABLE
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
