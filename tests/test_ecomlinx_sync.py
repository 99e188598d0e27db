"""End to end: the bundled sample workbook synced to an EcomLinx sandbox that has part of the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.cli import SAMPLE_WORKBOOK, main
from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE
from connector.marketplaces.ecomlinx import PLUGIN
from connector.marketplaces.ecomlinx.adapter import NOT_ON_ECOMLINX
from connector.marketplaces.ecomlinx.sandbox import create_sandbox
from connector.sources.spreadsheet import read_spreadsheet
from connector.sync.report import FAILED, PUSHED, SKIPPED, UNCHANGED, RunReport
from connector.sync.runner import SyncOptions, run_sync
from connector.sync.stock_policy import StockPolicy

pytestmark = pytest.mark.sandbox

# Part of the sample catalogue, as EcomLinx has it before the first sync (other prices, stock and statuses).
ON_ECOMLINX = {
    "TEA-MINT-500": {"price": 1, "stock": 999, "status": "draft"},
    "BASKET-PALM": {"price": 1, "stock": 0, "status": "live"},  # archived in the workbook
    "CHARGER-USBC-20W": {"price": 5, "stock": 3, "status": "live", "allocations": {"amazon_in": 3}},
    "TSHIRT-COTTON-M-BLUE": {"price": 9, "stock": 1, "status": "inactive"},
    "TSHIRT-COTTON-L-WHITE": {"price": 9, "stock": 1, "status": "live"},
    "SNEAKER-RUN-42-BLACK": {"price": 9, "stock": 7, "status": "live"},
}


def sample() -> Any:
    return read_spreadsheet(SAMPLE_WORKBOOK, currency="INR")


def expected_by_sku() -> dict[str, dict[str, Any]]:
    """What each SKU of the workbook should look like on EcomLinx: price, status, listed quantity."""
    out = {}
    policy = StockPolicy()
    for product in sample().products:
        for v in product.variants:
            out[v.sku] = {"price": v.price.amount, "status": "live" if product.active and v.active else "inactive",
                          "stock": policy.listed(v, product.kind)}
    return out


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[Any]:
    server = create_sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite")).start()
    server.seed_products([{"sku": sku, "name": f"old name of {sku}", **fields} for sku, fields in ON_ECOMLINX.items()])
    try:
        yield server
    finally:
        server.stop()


def sync(server: Any, state: Path, **settings: Any) -> RunReport:
    opts = SyncOptions(target="ecomlinx", state_path=state, secret=PLUGIN.sandbox_key, base_url=server.api_url,
                       account="test-shop", source_label="sample_catalogue.xlsx", settings=settings)
    return run_sync(sample(), opts).report


def products(server: Any) -> dict[str, dict[str, Any]]:
    return {p["sku"]: p for p in server.dump_state()["products"]}


def writes(server: Any, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in server.requests_log(since) if r["method"] != "GET"]


def test_first_sync_updates_what_ecomlinx_has_and_reports_the_rest(ecomlinx, tmp_path: Path) -> None:
    report = sync(ecomlinx, tmp_path / "state.sqlite", defaults={"allocations": {"amazon_in": "50%", "flipkart": 5}})
    expected = expected_by_sku()
    assert report.exit_code == EXIT_OK
    remote = products(ecomlinx)
    for sku in ON_ECOMLINX:
        want, got = expected[sku], remote[sku]
        assert Decimal(str(got["price"])) == want["price"], sku
        assert got["status"] == want["status"], sku
        assert got["stock"] == want["stock"], sku
        assert got["allocations"] == {"amazon_in": want["stock"] // 2,
                                      "flipkart": min(5, want["stock"] - want["stock"] // 2)}, sku
    assert remote["TSHIRT-COTTON-M-BLUE"]["name"] == "Cotton T-shirt – M / Blue"
    assert remote["BASKET-PALM"]["status"] == "inactive"
    # every row is accounted for; SKUs EcomLinx lacks are skipped (not failed) with the reason
    missing = set(expected) - set(ON_ECOMLINX)
    for row in report.rows:
        if row.sku in ON_ECOMLINX:
            assert row.status == PUSHED, row
        else:
            assert row.sku in missing and row.status == SKIPPED and row.reason == NOT_ON_ECOMLINX, row
            assert not row.attention
    assert report.operations["not_on_ecomlinx"] == len(missing)
    assert any(f"{len(missing)} SKU(s) are not on EcomLinx" in note for note in report.notes)
    # one listing page, then one stock PATCH and one product PATCH per SKU EcomLinx has; nothing for the others
    log = ecomlinx.requests_log()
    assert [r["path"] for r in log if r["method"] == "GET"] == ["/v1/products"]
    assert sorted(r["path"] for r in writes(ecomlinx) if r["path"].startswith("/v1/inventory/")) == sorted(
        f"/v1/inventory/{sku}" for sku in ON_ECOMLINX)
    assert len([r for r in writes(ecomlinx) if r["path"].startswith("/v1/products/")]) == len(ON_ECOMLINX)
    assert all(r["status"] == 200 for r in log)


def test_second_run_sends_nothing(ecomlinx, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = sync(ecomlinx, state)
    mark = max(r["id"] for r in ecomlinx.requests_log())
    second = sync(ecomlinx, state)
    assert ecomlinx.requests_log(mark) == []  # not even the listing: the SKU map is cached in the state
    assert second.http["total_requests"] == 0
    assert second.exit_code == EXIT_OK
    assert {r.status for r in second.rows if r.sku in ON_ECOMLINX} == {UNCHANGED}
    assert second.status_counts[SKIPPED] == first.status_counts[SKIPPED] > 0
    assert second.operations["not_on_ecomlinx"] == first.operations["not_on_ecomlinx"]


def test_missing_skus_are_rechecked_only_when_the_listing_is_refreshed(ecomlinx, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    sync(ecomlinx, state)
    ecomlinx.seed_products([{"sku": "WALLET-CAMEL", "price": 1, "stock": 0}])  # the merchant creates it there
    mark = max(r["id"] for r in ecomlinx.requests_log())
    cached = sync(ecomlinx, state)
    assert ecomlinx.requests_log(mark) == []  # a fresh listing: not asked again
    assert {r.status for r in cached.rows if r.sku == "WALLET-CAMEL"} == {SKIPPED}
    refreshed = sync(ecomlinx, state, listing_max_age_minutes=0)
    assert {r.status for r in refreshed.rows if r.sku == "WALLET-CAMEL"} == {PUSHED}
    wallet = products(ecomlinx)["WALLET-CAMEL"]
    assert Decimal(str(wallet["price"])) == expected_by_sku()["WALLET-CAMEL"]["price"]
    assert refreshed.operations["not_on_ecomlinx"] == cached.operations["not_on_ecomlinx"] - 1


def test_a_404_refreshes_the_sku_map(ecomlinx, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    sync(ecomlinx, state)
    # EcomLinx re-created the tea under a new id, and the charger is gone
    with ecomlinx.store.transaction() as conn:
        conn.execute("UPDATE ecl_products SET id = 'prod_NEWTEA', doc = json_set(doc, '$.id', 'prod_NEWTEA') "
                     "WHERE sku = 'TEA-MINT-500'")
        conn.execute("DELETE FROM ecl_products WHERE sku = 'CHARGER-USBC-20W'")
    source = sample()
    for product in source.products:
        for v in product.variants:
            if v.sku in ("TEA-MINT-500", "CHARGER-USBC-20W"):
                v.price = type(v.price)(v.price.amount + 1, v.price.currency)
    opts = SyncOptions(target="ecomlinx", state_path=state, secret=PLUGIN.sandbox_key, base_url=ecomlinx.api_url,
                       account="test-shop")
    report = run_sync(source, opts).report
    tea = products(ecomlinx)["TEA-MINT-500"]
    assert tea["id"] == "prod_NEWTEA" and Decimal(str(tea["price"])) == expected_by_sku()["TEA-MINT-500"]["price"] + 1
    rows = {r.sku: r for r in report.rows if r.sheet == "Products"}
    assert rows["TEA-MINT-500"].status == PUSHED
    assert rows["CHARGER-USBC-20W"].status == SKIPPED and rows["CHARGER-USBC-20W"].reason == NOT_ON_ECOMLINX
    listings = [r for r in ecomlinx.requests_log() if r["method"] == "GET" and r["path"] == "/v1/products"]
    assert len(listings) == 2  # the first run's, and one after the 404s (not one per 404)
    assert report.exit_code == EXIT_OK


def test_429s_during_a_sync_still_end_with_every_sku_right(tmp_path: Path) -> None:
    # 5 requests per 1-second "minute": a sync of ~13 requests is throttled several times
    with create_sandbox(plan_limits={"scale": (None, 5)}, minute_seconds=1.0) as server:
        server.seed_products([{"sku": sku, **fields} for sku, fields in ON_ECOMLINX.items()])
        report = sync(server, tmp_path / "state.sqlite")
        refusals = server.dump_state()["rate_limit_refusals"]
        remote = products(server)
    expected = expected_by_sku()
    assert report.exit_code == EXIT_OK
    for sku in ON_ECOMLINX:
        assert remote[sku]["stock"] == expected[sku]["stock"] and remote[sku]["status"] == expected[sku]["status"]
        assert Decimal(str(remote[sku]["price"])) == expected[sku]["price"]
    assert refusals > 0
    assert report.http["throttled_429"] == refusals  # every 429 the sandbox sent was seen and waited out
    assert report.http["waited_seconds"] >= refusals * 1.0  # Retry-After: 1 each time
    assert report.http["retries"] >= refusals
    assert {r.status for r in report.rows if r.sku in ON_ECOMLINX} == {PUSHED}


def test_pro_plan_keys_are_refused_before_anything_is_written(ecomlinx, tmp_path: Path) -> None:
    report = sync(ecomlinx, tmp_path / "state.sqlite", plan="pro")
    assert report.exit_code == EXIT_UNREACHABLE and "read-only" in (report.unreachable or "")
    assert writes(ecomlinx) == []
    assert {r.status for r in report.rows if r.sku in ON_ECOMLINX} == {SKIPPED}


def test_cli_sync_to_the_sandbox(ecomlinx, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ECOMLINX_API_KEY", PLUGIN.sandbox_key)
    args = ["sync", "--source", str(SAMPLE_WORKBOOK), "--target", "ecomlinx", "--base-url", ecomlinx.api_url,
            "--state", str(tmp_path / "state.sqlite"), "--report", str(tmp_path / "report.json"), "--no-progress"]
    assert main(args) == EXIT_OK
    out = capsys.readouterr().out
    assert "not on EcomLinx: create it there first" in out and "SKU(s) are not on EcomLinx" in out
    assert ecomlinx.dump_state()["products"][0]["status"] == "live"


def test_persistent_429s_defer_the_rest_to_the_next_run(ecomlinx, tmp_path: Path) -> None:
    ecomlinx.add_fault("status", status=429, retry_after=0, count=50, path="/v1/inventory/")
    state = tmp_path / "state.sqlite"
    report = sync(ecomlinx, state)
    assert report.exit_code == EXIT_PARTIAL
    assert report.operations["deferred"] == 2 * len(ON_ECOMLINX)  # stock and catalogue of every SKU
    assert report.operations["not_on_ecomlinx"] == len(expected_by_sku()) - len(ON_ECOMLINX)  # still reported
    assert writes(ecomlinx) and all(r["status"] == 429 for r in writes(ecomlinx))
    ecomlinx.faults.clear()
    resumed = sync(ecomlinx, state)
    assert resumed.exit_code == EXIT_OK
    assert {r.status for r in resumed.rows if r.sku in ON_ECOMLINX} == {PUSHED}


def test_duplicate_skus_and_currency_mismatch_fail_with_a_reason(ecomlinx, tmp_path: Path) -> None:
    ecomlinx.seed_products([{"sku": "TEA-MINT-500", "name": "a second tea"}])
    report = sync(ecomlinx, tmp_path / "state.sqlite")
    rows = {r.sku: r for r in report.rows if r.sheet == "Products"}
    assert rows["TEA-MINT-500"].status == FAILED and rows["TEA-MINT-500"].code == "duplicate_sku"
    assert "2 EcomLinx products have SKU TEA-MINT-500" in (rows["TEA-MINT-500"].reason or "")
    assert rows["CHARGER-USBC-20W"].status == PUSHED
    assert report.exit_code == EXIT_FAILED
    mark = max(r["id"] for r in ecomlinx.requests_log())
    report = sync(ecomlinx, tmp_path / "other.sqlite", currency="INR")  # the workbook's prices are in MRU
    rows = {r.sku: r for r in report.rows if r.sheet == "Products"}
    charger = rows["CHARGER-USBC-20W"]
    assert charger.status == FAILED and "price is in MRU but the EcomLinx account sells in INR" in charger.reason
    charger_id = products(ecomlinx)["CHARGER-USBC-20W"]["id"]
    assert [r for r in writes(ecomlinx, mark) if r["path"] == f"/v1/products/{charger_id}"] == []  # not sent
    assert report.exit_code == EXIT_FAILED
