"""EcomLinx listings answered with valid JSON of the wrong shape (``data`` missing, null, an object, a list of
texts; the whole answer a list).  The product listing is what a sync matches SKUs against: such a page used to
read as "EcomLinx lists nothing", every SKU reported "not on EcomLinx: create it there first" (and remembered so
for an hour), or crashed on a text.  Now the read fails naming the call, every row says so, nothing is written
and nothing is remembered missing; the next run pushes everything.  An orders page so answered fails the read
(exit 1), its cursor and the workbook unchanged, and the next run reads every order once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK
from connector.marketplaces.ecomlinx import SANDBOX_KEY
from tests.conftest import running_ecomlinx
from tests.fault_proxy import REWRITE, FaultProxy
from tests.orders_faults_support import cursor, market, workbook_rows
from tests.workbooks import CATALOGUE, STOCK, write_workbook

pytestmark = pytest.mark.sandbox
SKUS = [row["SKU"] for row in CATALOGUE]
LISTINGS: dict[str, Callable[[Any], Any]] = {
    "data missing": lambda body: {"products": body["data"], "meta": body["meta"]},
    "data null": lambda body: {**body, "data": None},
    "data an object": lambda body: {**body, "data": {"items": body["data"]}},
    "data texts": lambda body: {**body, "data": [str(p.get("sku") or p["id"]) for p in body["data"]]},
    "the list alone": lambda body: body["data"],
}


def _sync(tmp_path: Path, url: str) -> tuple[int, dict]:
    if not (tmp_path / "products.xlsx").exists():
        write_workbook(tmp_path / "products.xlsx", CATALOGUE, STOCK)
    profile = tmp_path / "shop.yaml"
    profile.write_text("name: shop\nsource: {type: spreadsheet, path: products.xlsx}\nstate: state.sqlite\n"
                       f"targets:\n  ecomlinx: {{account: main, base_url: '{url}'}}\n", encoding="utf-8")
    report = tmp_path / "report.json"
    code = main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8"))


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
    with market("ecomlinx", tmp_path) as shop:
        for k, v in shop.env.items():
            monkeypatch.setenv(k, v)
        write_workbook(tmp_path / "products.xlsx")
        rows = shop.seed(0, 10)  # 4 pages of 3
        proxy = FaultProxy(shop.api)
        try:
            proxy.fail(REWRITE, method="GET", path=shop.listing, query=r"page=2\b", rewrite=LISTINGS[shape])
            profile = shop.profile(tmp_path, proxy.url)
            code, report = _orders(profile)
            assert proxy.faulted(), "the page was not rewritten"
            assert code == EXIT_FAILED, report["orders"]
            assert "EcomLinx answered GET /orders" in report["orders"]["read_error"], report["orders"]
            assert cursor(tmp_path / "state.sqlite", "ecomlinx", "main") is None
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
