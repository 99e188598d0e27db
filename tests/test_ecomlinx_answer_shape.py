"""EcomLinx listings answered with valid JSON of the wrong shape (``data`` missing, null, an object, a list of
texts; the whole answer a list).  The product listing is what a sync matches SKUs against: such a page used to
read as "EcomLinx lists nothing", every SKU reported "not on EcomLinx: create it there first" (and remembered so
for an hour), or crashed on a text.  Now the read fails naming the call, every row says so, nothing is written
and nothing is remembered missing; the next run pushes everything.  An orders page so answered fails the read
(exit 1), its cursor and the workbook unchanged, and the next run reads every order once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_FAILED, EXIT_OK
from connector.marketplaces.ecomlinx import SANDBOX_KEY
from tests.conftest import running_ecomlinx
from tests.fault_proxy import REWRITE, FaultProxy
from tests.orders_faults_support import misread_then_read
from tests.test_ecomlinx_listing_failure import _sync
from tests.workbooks import CATALOGUE

pytestmark = pytest.mark.sandbox
SKUS = [row["SKU"] for row in CATALOGUE]
LISTINGS: dict[str, Callable[[Any], Any]] = {
    "data missing": lambda body: {"products": body["data"], "meta": body["meta"]},
    "data null": lambda body: {**body, "data": None},
    "data an object": lambda body: {**body, "data": {"items": body["data"]}},
    "data texts": lambda body: {**body, "data": [str(p.get("sku") or p["id"]) for p in body["data"]]},
    "the list alone": lambda body: body["data"],
}


@pytest.mark.parametrize("shape", LISTINGS)
def test_a_misshapen_product_listing_is_a_failed_read_not_an_empty_catalogue(
        shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMLINX_API_KEY", SANDBOX_KEY)
    with running_ecomlinx(tmp_path / "sb.sqlite", listed=SKUS) as server:
        proxy = FaultProxy(server.api_url)
        try:
            proxy.fail(REWRITE, method="GET", path="/products$", rewrite=LISTINGS[shape])
            code, report = _sync(tmp_path, proxy.url)
            assert proxy.faulted(), "the listing was not rewritten"
            assert code == EXIT_FAILED, report["rows"]
            reasons = [str(r["reason"]) for r in report["rows"]]
            assert all(r.startswith("blocked: reading the EcomLinx product listing (to match SKUs) failed: ")
                       and "EcomLinx answered GET /products" in r for r in reasons), reasons
            assert not [r for r in server.requests_log() if r["method"] == "PATCH"]  # nothing written
            code, report = _sync(tmp_path, proxy.url)
        finally:
            proxy.close()
    assert code == EXIT_OK, report["rows"]  # not "not on EcomLinx" remembered from the misread page
    assert {r["status"] for r in report["rows"]} == {"pushed"}, report["rows"]


@pytest.mark.parametrize("shape", [s for s in LISTINGS if s != "data missing"])
def test_a_misshapen_orders_page_is_a_failed_read_not_the_end_of_the_orders(
        shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    orders = misread_then_read("ecomlinx", tmp_path, monkeypatch, LISTINGS[shape])[1]["orders"]
    assert "EcomLinx answered GET /orders" in orders["read_error"], orders
