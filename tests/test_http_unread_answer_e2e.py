"""A success status whose body is not JSON, still so after the retries, means what a gateway's 502 means: the
request may or may not have been done.  Through a fault proxy (tests/fault_proxy.py) between ``connector sync`` and
the Elebne sandbox, both are classified alike: a stock call safe to repeat is deferred (exit 3) once its retries
are spent, never failed (exit 1); a create that is not safe to repeat (an account whose gateway takes no
idempotency key) is sent once and deferred as "outcome unknown", and the next run adopts the product the first
one made instead of making it twice.  No quantity is zeroed, and the next run completes the work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from tests.conftest import SandboxHandle
from tests.fault_proxy import FaultProxy, elebne_behind_proxy
from tests.workbooks import STOCK, write_workbook

pytestmark = pytest.mark.sandbox
ROWS = 5 + 8  # the workbook's product rows and stock rows
GATEWAY = "html-502"
UNREAD = ("html-200", "cut-framed", "html-200-after")  # not passed on / passed on, its answer cut / replaced


@pytest.fixture
def proxy(elebne_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    yield from elebne_behind_proxy(elebne_sandbox, monkeypatch)


def _sync(proxy: FaultProxy, tmp_path: Path, settings: str = "{}") -> tuple[int, dict[str, Any]]:
    workbook = tmp_path / "products.xlsx"
    if not workbook.exists():
        write_workbook(workbook)
    profile = tmp_path / "shop.yaml"
    profile.write_text("name: shop\nsource: {type: spreadsheet, path: products.xlsx}\nstate: state.sqlite\n"
                       f"targets:\n  elebne: {{account: main, base_url: '{proxy.url}', settings: {settings}}}\n",
                       encoding="utf-8")
    report = tmp_path / "report.json"
    code = main(["sync", "--profile", str(profile), "--report", str(report), "--no-progress"])
    return code, json.loads(report.read_text(encoding="utf-8"))


def _quantities(sandbox: SandboxHandle) -> dict[str, int | None]:
    """Each SKU's quantity on the marketplace, having checked that no product is there twice."""
    stored = [p["externalId"] for p in sandbox.state()["products"]]
    assert len(stored) == len(set(stored)), stored  # none created twice
    remote = sandbox.products()
    out = {sku: remote[sku]["quantity"] for sku in ("SOAP-01", "TEA-500") if sku in remote}
    out.update({v["sku"]: v["quantity"] for v in remote.get("TEE", {}).get("variants", [])})
    return out


def _holds_the_workbook(sandbox: SandboxHandle) -> None:
    tea = sum(loc.get("TEA-500", 0) for loc in STOCK.values())
    assert sorted(p["externalId"] for p in sandbox.state()["products"]) == ["SOAP-01", "TEA-500", "TEE"]
    assert _quantities(sandbox) == {"SOAP-01": 12, "TEA-500": tea, "TEE-M-BL": 5, "TEE-L-BL": 0, "TEE-L-RD": 8}


def _zeroed(sandbox: SandboxHandle) -> dict[str, int | None]:
    return {sku: n for sku, n in _quantities(sandbox).items() if n == 0 and sku != "TEE-L-BL"}


def _deferred(report: dict[str, Any]) -> list[str]:
    return [str(r["reason"]) for r in report["rows"] if str(r.get("reason") or "").startswith("deferred")]


@pytest.mark.parametrize("kind", [GATEWAY, *UNREAD])
def test_a_stock_call_answered_unreadably_every_time_is_deferred_like_a_502(
        proxy: FaultProxy, elebne_sandbox: SandboxHandle, tmp_path: Path, kind: str) -> None:
    """The bulk stock call (an absolute set: safe to repeat) answered badly on every attempt: whether a 502 page
    or a 200 that is not JSON, its rows are deferred (exit 3, nothing failed), saying in plain words what came
    back; nothing is zeroed; the next run sends them."""
    proxy.fail(kind, method="PATCH", path="/inventory/bulk$", count=100)
    code, report = _sync(proxy, tmp_path)
    assert code == 3, report["rows"]
    summary = report["summary"]["rows"]
    assert summary["failed"] == 0 and summary["pushed"] < ROWS and sum(summary.values()) == ROWS, summary
    reasons = _deferred(report)
    assert reasons, report["rows"]
    assert not any("<html" in r or "</" in r for r in reasons), reasons  # the page's words, not its markup
    if kind == GATEWAY:
        assert all("still refused after retries" in r and "502 Bad Gateway" in r for r in reasons), reasons
    else:
        assert all("no readable answer after retries" in r and "the answer is not JSON: HTTP 200" in r
                   for r in reasons), reasons
    assert len([e for e in proxy.seen if e[0] == "PATCH" and e[1].endswith("/inventory/bulk")]) == 6  # 1 + 5 retries
    assert _zeroed(elebne_sandbox) == {}

    proxy.faults.clear()
    code, report = _sync(proxy, tmp_path)
    assert code == 0, report["rows"]
    _holds_the_workbook(elebne_sandbox)


@pytest.mark.parametrize("kind", [GATEWAY, *UNREAD])
def test_a_create_not_safe_to_repeat_answered_unreadably_is_sent_once_and_deferred_as_unknown(
        proxy: FaultProxy, elebne_sandbox: SandboxHandle, tmp_path: Path, kind: str) -> None:
    """An account whose gateway takes no idempotency key (``idempotency_header: null``): a create is not safe to
    repeat.  Its answer a 502 page or a 200 that is not JSON (the product made or not: ``cut-framed`` and
    ``html-200-after`` pass it on), it is sent once, not again in this run, and its rows are deferred as "outcome
    unknown" (exit 3), not failed; the next run creates it, or adopts the one the first run made: never twice."""
    settings = "{idempotency_header: null}"
    proxy.fail(kind, method="POST", path="/products$", count=1)  # the first create: SOAP-01's
    code, report = _sync(proxy, tmp_path, settings)
    assert code == 3, report["rows"]
    summary = report["summary"]["rows"]
    assert summary["failed"] == 0 and sum(summary.values()) == ROWS, summary
    creates = [e for e in proxy.seen if e[0] == "POST" and e[1].endswith("/products")]
    # sent once, not again; like a 502's, the deferral holds back the creates after it (their lane) to the next run
    assert [e[2] for e in creates] == [kind], creates
    reasons = _deferred(report)
    assert reasons, report["rows"]
    unknown = [r for r in reasons if "outcome unknown: sent once, it may have been applied" in r]
    assert unknown, reasons
    said = "502 Bad Gateway" if kind == GATEWAY else "the answer is not JSON: HTTP 20"
    assert all(said in r for r in unknown), unknown
    # the create sent says so (not "not sent: ... sent once"); the ones held back behind it name it
    sent = [r for r in unknown if r.startswith("deferred to the next run: outcome unknown")]
    held = [r for r in unknown if r.startswith("deferred to the next run: not sent: held back behind SOAP-01's "
                                               "create: outcome unknown")]
    assert sent and len(sent) + len(held) == len(unknown), unknown
    assert _zeroed(elebne_sandbox) == {}

    proxy.faults.clear()
    code, report = _sync(proxy, tmp_path, settings)
    assert code == 0, report["rows"]
    _holds_the_workbook(elebne_sandbox)
    code, report = _sync(proxy, tmp_path, settings)
    assert code == 0 and report["summary"]["rows"]["unchanged"] == ROWS  # nothing left over
