"""`connector sync` through a fault-injecting proxy (tests/fault_proxy.py) to the Elebne sandbox: a connection
reset part way through a body, a gateway's 502 page, a 429 whose Retry-After is an HTTP date, a 200 whose body is
cut (re-framed by the close, or behind a length that says the half is whole).  Each run ends with every row
accounted for, the exit code saying what happened, and the marketplace holding the workbook: no product twice,
no quantity zeroed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from tests.conftest import SandboxHandle
from tests.fault_proxy import KINDS, FaultProxy, elebne_behind_proxy
from tests.workbooks import STOCK, write_workbook

pytestmark = pytest.mark.sandbox
ROWS = 5 + 8  # the workbook's product rows and stock rows
CALLS = {"create": ("POST", "/products$"), "bulk-stock": ("PATCH", "/inventory/bulk$")}


@pytest.fixture
def proxy(elebne_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    yield from elebne_behind_proxy(elebne_sandbox, monkeypatch)


def _sync(proxy: FaultProxy, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    workbook = tmp_path / "products.xlsx"
    if not workbook.exists():
        write_workbook(workbook)
    report = tmp_path / "report.json"
    code = main(["sync", "--source", str(workbook), "--target", "elebne", "--base-url", proxy.url,
                 "--state", str(tmp_path / "state.sqlite"), "--report", str(report), "--no-progress"])
    return code, json.loads(report.read_text(encoding="utf-8"))


def _expected_quantity(sku: str) -> int:
    return sum(loc.get(sku, 0) for loc in STOCK.values())


def _quantities(sandbox: SandboxHandle) -> dict[str, int | None]:
    """Each SKU's quantity on the marketplace, having checked that each product is there once."""
    stored = [p["externalId"] for p in sandbox.state()["products"]]
    assert sorted(stored) == ["SOAP-01", "TEA-500", "TEE"], stored  # none created twice
    remote = sandbox.products()
    out = {sku: remote[sku]["quantity"] for sku in ("SOAP-01", "TEA-500")}
    out.update({v["sku"]: v["quantity"] for v in remote["TEE"]["variants"]})
    return out


def _holds_the_workbook(sandbox: SandboxHandle) -> None:
    assert _quantities(sandbox) == {"SOAP-01": 12, "TEA-500": _expected_quantity("TEA-500"), "TEE-M-BL": 5,
                                    "TEE-L-BL": 0, "TEE-L-RD": 8}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("kind", KINDS)
def test_one_faulted_answer_is_retried_and_the_run_ends_whole(proxy: FaultProxy, elebne_sandbox: SandboxHandle,
                                                              tmp_path: Path, kind: str, call: str) -> None:
    """Every call of a first sync is safe to repeat (creates carry an idempotency key, stock is set, not added):
    the faulted answer is asked again and the run ends as if nothing had happened."""
    method, path = CALLS[call]
    proxy.fail(kind, method=method, path=path)
    code, report = _sync(proxy, tmp_path)
    assert [entry[2] for entry in proxy.faulted()] == [kind]
    assert code == 0, report["rows"]
    assert report["summary"]["rows"] == {"pushed": ROWS, "unchanged": 0, "skipped": 0, "failed": 0}
    _holds_the_workbook(elebne_sandbox)
    code, report = _sync(proxy, tmp_path)
    assert code == 0 and report["summary"]["rows"]["unchanged"] == ROWS  # nothing left over, nothing sent twice


@pytest.mark.parametrize("kind", ["html-502", "cut-framed", "reset-body"])
def test_a_stock_call_failing_every_time_defers_its_rows_and_zeroes_nothing(
        proxy: FaultProxy, elebne_sandbox: SandboxHandle, tmp_path: Path, kind: str) -> None:
    """The bulk stock call answered badly on every attempt: its rows are not sent (reported, with a non-zero exit
    code), the products created before keep the quantities they were created with, and the next run, through a
    proxy that behaves, sends what was left."""
    proxy.fail(kind, method="PATCH", path="/inventory/bulk$", count=100)
    code, report = _sync(proxy, tmp_path)
    # deferred, a 502 page as a body cut behind its length (exit 3); no answer at all: unreachable (exit 4); never
    # failed (exit 1: the marketplace refusing the rows)
    assert code == (4 if kind == "reset-body" else 3)
    summary = report["summary"]["rows"]
    assert sum(summary.values()) == ROWS and summary["pushed"] < ROWS and summary["failed"] == 0, summary
    reasons = [str(r.get("reason")) for r in report["rows"] if r["status"] != "pushed"]
    assert reasons and not any("<html" in r or "</" in r for r in reasons), reasons  # the page's words, not its markup
    zeroed = {sku: n for sku, n in _quantities(elebne_sandbox).items() if n == 0 and sku != "TEE-L-BL"}
    assert zeroed == {}  # (the quantities are not known yet, or those of the workbook)

    proxy.faults.clear()
    code, report = _sync(proxy, tmp_path)
    assert code == 0, report["rows"]
    _holds_the_workbook(elebne_sandbox)
