"""Elebne answers that are valid JSON of the wrong shape (an object where a list is, a list of texts, ``hasMore`` as
a text or missing, ``data`` missing, counts that are no numbers), through a proxy that rewrites the sandbox's
real answer (tests/fault_proxy.py ``json-after``).  None is read as "no more orders" or "applied": an orders read
fails naming the call, its cursor and the workbook unchanged (exit 1), and the next run reads every order once; a
create or a bulk stock answer that says nothing readable defers its rows (exit 3), never a traceback, never a
row counted as pushed, and the next run sends them, no product twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from tests.conftest import SandboxHandle
from tests.fault_proxy import REWRITE, FaultProxy, elebne_behind_proxy
from tests.orders_faults_support import cursor, market, workbook_rows
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox
Rewrite = Callable[[Any], Any]


def _data(**changes: Any) -> Rewrite:
    """The answer with its ``data`` object's fields changed (``None``: removed)."""
    def rewrite(body: Any) -> Any:
        data = {**body["data"], **changes}
        return {**body, "data": {k: v for k, v in data.items() if v is not None}}
    return rewrite


PAGES: dict[str, Rewrite] = {
    "hasMore a text": _data(hasMore="true"),
    "hasMore missing": _data(hasMore=None),
    "items texts": lambda body: {**body, "data": {**body["data"], "items": [o["id"] for o in body["data"]["items"]]}},
    "items an object": lambda body: {**body, "data": {**body["data"], "items": {"0": body["data"]["items"][0]}}},
    "data the list": lambda body: {**body, "data": body["data"]["items"]},
    "data missing": lambda body: {"success": True},
}


@pytest.mark.parametrize("shape", PAGES)
def test_a_misshapen_orders_page_is_a_failed_read_not_the_end_of_the_orders(
        shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with market("elebne", tmp_path) as shop:
        for k, v in shop.env.items():
            monkeypatch.setenv(k, v)
        write_workbook(tmp_path / "products.xlsx")
        rows = shop.seed(0, 10)  # 4 pages of 3
        proxy = FaultProxy(shop.api)
        try:
            proxy.fail(REWRITE, method="GET", path=shop.listing, query=r"page=2\b", rewrite=PAGES[shape])
            profile = shop.profile(tmp_path, proxy.url)
            code, report = _orders(profile)
            assert proxy.faulted(), "the page was not rewritten"
            assert code == EXIT_FAILED, report["orders"]
            error = report["orders"]["read_error"]
            assert "Elebne" in error and "GET" in error and "/orders" in error, error
            assert cursor(tmp_path / "state.sqlite", "elebne", "shop") is None  # not moved past page 2
            assert workbook_rows(tmp_path / "orders.xlsx") == []
            code, report = _orders(profile)
        finally:
            proxy.close()
    assert code == EXIT_OK, report["orders"]
    assert sorted(workbook_rows(tmp_path / "orders.xlsx")) == sorted(rows)


def _orders(profile: Path) -> tuple[int, dict[str, Any]]:
    report = profile.parent / "orders-report.json"
    code = main(["orders", "--profile", str(profile), "--no-progress", "--report", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8"))


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


WRITES: dict[str, tuple[str, str, Rewrite]] = {
    "bulk data empty": ("PATCH", "/inventory/bulk$", lambda body: {"success": True, "data": {}}),
    "bulk data a list": ("PATCH", "/inventory/bulk$", lambda body: {"success": True, "data": []}),
    "bulk errors an object": ("PATCH", "/inventory/bulk$", _data(errors={"TEA-500": "Product not found"})),
    "bulk errors texts": ("PATCH", "/inventory/bulk$", _data(errors=["TEA-500"], updated=0, failed=1)),
    "bulk updated a word": ("PATCH", "/inventory/bulk$", _data(updated="all")),
    "bulk counts short": ("PATCH", "/inventory/bulk$", _data(updated=1)),
    "create data a list": ("POST", "/products$", lambda body: {"success": True, "data": [body["data"]]}),
    "create data a text": ("POST", "/products$", lambda body: {"success": True, "data": "created"}),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_misshapen_write_answer_defers_its_rows_and_the_next_run_sends_them(
        write: str, proxy: FaultProxy, elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    method, path, rewrite = WRITES[write]
    proxy.fail(REWRITE, method=method, path=path, rewrite=rewrite, count=100)
    code, report = _sync(proxy, tmp_path)
    assert proxy.faulted(), "no answer was rewritten"
    assert code == EXIT_PARTIAL, report["rows"]
    said = f"Elebne answered {method} /"
    misread = [r for r in report["rows"] if said in str(r["reason"])]
    assert misread and all(r["status"] == "skipped" and r["reason"].startswith("deferred to the next run")
                           for r in misread), report["rows"]
    if method == "PATCH":  # every row has stock in the bulk: none is counted as pushed
        assert len(misread) == len(report["rows"]), report["rows"]
    proxy.faults.clear()
    code, report = _sync(proxy, tmp_path)
    assert code == EXIT_OK, report["rows"]
    stored = sorted(p["externalId"] for p in elebne_sandbox.state()["products"])
    assert stored == ["SOAP-01", "TEA-500", "TEE"]  # none created twice
