"""EcomLinx's listings end on an empty page or a page shorter than ``meta.limit``; ``meta.total`` is checked, not
trusted to end them.  A listing whose pages contradict it (an empty page before the total was read, more items than
the total) used to end quietly: a sync took the SKUs it had not read for "not on EcomLinx" (and remembered them so
for an hour), an orders read moved its cursor past orders it never read.  Now the read fails as an
``invalid_response`` saying the listing contradicted itself: the sync defers its rows (exit 3, nothing written,
nothing remembered missing), the orders read exits 3 with its cursor and the workbook unchanged, and the next run
reads everything."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_OK, EXIT_PARTIAL
from connector.marketplaces.ecomlinx import SANDBOX_KEY
from tests.conftest import running_ecomlinx
from tests.fault_proxy import REWRITE, FaultProxy
from tests.orders_faults_support import misread_then_read
from tests.workbooks import CATALOGUE, STOCK, write_workbook

pytestmark = pytest.mark.sandbox
SKUS = [row["SKU"] for row in CATALOGUE]  # 5: pages of 2, 2 and 1
Rewrite = Callable[[Any], Any]


def _sync(tmp_path: Path, url: str) -> tuple[int, dict[str, Any]]:
    write_workbook(tmp_path / "products.xlsx", CATALOGUE, STOCK)
    profile = tmp_path / "shop.yaml"
    profile.write_text("name: shop\nsource: {type: spreadsheet, path: products.xlsx}\nstate: state.sqlite\n"
                       f"targets:\n  ecomlinx: {{account: main, base_url: '{url}', settings: {{page_limit: 2}}}}\n",
                       encoding="utf-8")
    report = tmp_path / "report.json"
    code = main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8"))


def _total(total: int) -> Rewrite:
    return lambda body: {**body, "meta": {**body["meta"], "total": total}}


LISTINGS: dict[str, tuple[str | None, Rewrite, str]] = {
    # (the page rewritten, None: every page; how; what the error says)
    "an empty page 2": ("page=2", lambda body: {**body, "data": []},
                        "2 products read, total said 5 (page 2 was empty before the total was read)"),
    "a total of 3 on every page": (None, _total(3), "4 products read, total said 3 (page 2 went past the total)"),
}


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_product_listing_that_contradicts_its_total_defers_the_sync(
        listing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page, rewrite, said = LISTINGS[listing]
    monkeypatch.setenv("ECOMLINX_API_KEY", SANDBOX_KEY)
    with running_ecomlinx(tmp_path / "sb.sqlite", listed=SKUS) as server:
        proxy = FaultProxy(server.api_url)
        try:
            proxy.fail(REWRITE, method="GET", path="/products$", query=page and rf"\b{page}\b", rewrite=rewrite,
                       count=1 if page else 100)
            code, report = _sync(tmp_path, proxy.url)
            assert proxy.faulted(), "the listing was not rewritten"
            assert code == EXIT_PARTIAL, report["rows"]
            reasons = [str(r["reason"]) for r in report["rows"]]
            assert reasons and all(
                r.startswith("deferred to the next run")
                and "reading the EcomLinx product listing (to match SKUs): invalid_response" in r
                and f"EcomLinx's listing of products contradicted itself: {said}" in r
                and "no readable answer" not in r for r in reasons), reasons
            assert not [r for r in server.requests_log() if r["method"] == "PATCH"]  # nothing written
            proxy.faults.clear()
            code, report = _sync(tmp_path, proxy.url)
        finally:
            proxy.close()
    assert code == EXIT_OK, report["rows"]  # no SKU remembered "not on EcomLinx" from the contradicted listing
    assert {r["status"] for r in report["rows"]} == {"pushed"}, report["rows"]


def test_a_product_listing_whose_total_changes_while_it_is_read_is_taken(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A product created while the listing is read raises the total of the later pages: the listing changed, it
    did not contradict itself, and the sync goes on (a busy account would otherwise be deferred on every run)."""
    monkeypatch.setenv("ECOMLINX_API_KEY", SANDBOX_KEY)
    with running_ecomlinx(tmp_path / "sb.sqlite", listed=SKUS) as server:
        proxy = FaultProxy(server.api_url)
        try:
            proxy.fail(REWRITE, method="GET", path="/products$", query=r"\bpage=3\b", rewrite=_total(7), count=1)
            code, report = _sync(tmp_path, proxy.url)
            assert proxy.faulted(), "the listing was not rewritten"
        finally:
            proxy.close()
    assert code == EXIT_OK, report["rows"]
    assert {r["status"] for r in report["rows"]} == {"pushed"}, report["rows"]


def test_an_orders_listing_with_an_empty_page_before_its_total_is_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, report = misread_then_read("ecomlinx", tmp_path, monkeypatch, lambda body: {**body, "data": []},
                                  expect=EXIT_PARTIAL)
    assert report["orders"]["read_error"] is None, report["orders"]
    notes = " ".join(report["notes"])
    assert "EcomLinx's listing of orders contradicted itself: 3 orders read, total said 10" in notes, notes
    assert "no readable answer" not in notes, notes
