"""Elebne answers that are valid JSON of the wrong shape (an object where a list is, a list of texts, ``hasMore`` as
a text or missing, ``data`` missing, counts that are no numbers), through a proxy that rewrites the sandbox's
real answer (tests/fault_proxy.py ``json-after``).  None is read as "no more orders" or "applied": an orders read
fails naming the call, its cursor and the workbook unchanged (exit 1), and the next run reads every order once; a
create or a bulk stock answer that says nothing readable defers its rows (exit 3), never a traceback, never a
row counted as pushed, and the next run sends them, no product twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_OK, EXIT_PARTIAL
from tests.conftest import SandboxHandle
from tests.fault_proxy import REWRITE, FaultProxy
from tests.orders_faults_support import misread_then_read
from tests.test_http_fault_proxy_e2e import _sync, proxy

pytestmark = pytest.mark.sandbox
Rewrite = Callable[[Any], Any]
__all__ = ["proxy"]  # the fixture: the Elebne sandbox behind the fault proxy


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
    orders = misread_then_read("elebne", tmp_path, monkeypatch, PAGES[shape])[1]["orders"]
    assert "Elebne answered GET /orders" in orders["read_error"], orders


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
