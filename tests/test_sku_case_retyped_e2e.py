"""A listed SKU retyped in other letter case (Excel's AutoCorrect: TEAPOT-1L -> Teapot-1L) is not a new product:
nothing is created, the old listing is left as it is, and the run needs attention (case_retyped.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK
from connector.sync.missing import NO_LONGER_IN_SOURCE
from connector.sync.report import PUSHED, SKIPPED
from tests.conftest import SandboxHandle
from tests.test_sync_safety_e2e import listed, quantities, sync
from tests.workbooks import CATALOGUE, STOCK, write_workbook

pytestmark = pytest.mark.sandbox

SKU_CASE_CHANGED = "sku_case_changed"  # the rows' code (sources.base.SKU_CASE_CHANGED)

TEAPOT = {"SKU": "TEAPOT-1L", "Name": "Teapot 1 l", "Price": 15}
ROWS = [*CATALOGUE, TEAPOT]
WITH_TEAPOT = {"Warehouse": {**STOCK["Warehouse"], "TEAPOT-1L": 6}, "Shop": {**STOCK["Shop"], "TEAPOT-1L": 1}}


def retyped(old: str, new: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The workbook's rows and stock with the SKU (or Parent SKU) ``old`` typed ``new`` wherever it is."""
    rows = [{k: new if v == old else v for k, v in row.items()} for row in ROWS]
    return rows, {loc: {new if sku == old else sku: q for sku, q in qty.items()} for loc, qty in WITH_TEAPOT.items()}


def held_rows(report: dict[str, Any], skus: set[str]) -> list[dict[str, Any]]:
    rows = [r for r in report["rows"] if r["sku"] in skus]
    assert rows and {(r["status"], r["code"]) for r in rows} == {(SKIPPED, SKU_CASE_CHANGED)}
    return rows


@pytest.mark.parametrize(("old", "new", "skus"), [
    ("TEAPOT-1L", "Teapot-1L", {"Teapot-1L"}),  # a simple product's SKU
    ("TEE", "Tee", {"TEE-M-BL", "TEE-L-BL", "TEE-L-RD"}),  # a product's Parent SKU: every variant's rows
])
def test_a_sku_retyped_in_other_letter_case_is_not_created_and_its_listing_is_left_as_it_is(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        old: str, new: str, skus: set[str]) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, WITH_TEAPOT)
    before, mark = quantities(elebne_sandbox), elebne_sandbox.last_id()
    write_workbook(wb, *retyped(old, new))

    for dry in (["--dry-run"], []):  # a dry run says what the run does
        code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, *dry)
        assert code == EXIT_FAILED
        rows = held_rows(report, skus)
        assert {r["sheet"] for r in rows} == {"Products", "Stock - Warehouse", "Stock - Shop"}
        reason = rows[0]["reason"]
        assert f"'{new}' is the listed '{old}' typed in other letter case" in reason
        assert "not created on Elebne" in reason and "--allow-sku-case-change" in reason
        assert not [r for r in report["rows"] if (r["reason"] or "").startswith(NO_LONGER_IN_SOURCE)]
        assert report["guard"]["affected"] == 0
        assert any(f"'{new}' (listed as '{old}')" in n for n in report["notes"])
        assert elebne_sandbox.writes(since=mark) == [] and quantities(elebne_sandbox) == before
    assert new not in elebne_sandbox.products()

    # typed as before: nothing left to do
    write_workbook(wb, ROWS, WITH_TEAPOT)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK and elebne_sandbox.writes(since=mark) == []


def test_both_spellings_in_the_source_are_two_products(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, WITH_TEAPOT)
    write_workbook(wb, *retyped("TEAPOT-1L", "Teapot-1L"))
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_FAILED  # held back
    # then the old spelling comes back beside the new one: two products, both synced
    rows, stock = retyped("TEAPOT-1L", "Teapot-1L")
    stock["Warehouse"]["TEAPOT-1L"] = 4
    write_workbook(wb, [*rows, TEAPOT], stock)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK
    assert {r["status"] for r in report["rows"] if r["sku"] in ("Teapot-1L", "TEAPOT-1L")} <= {PUSHED, "unchanged"}
    shown = quantities(elebne_sandbox)
    assert shown["Teapot-1L"] == 7 and shown["TEAPOT-1L"] == 4


def test_allowed_the_retyped_sku_is_created_and_the_old_listing_goes(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, WITH_TEAPOT)
    write_workbook(wb, *retyped("TEAPOT-1L", "Teapot-1L"))
    # the profile's guard setting (a dry run: nothing sent), then the flag
    profile = tmp_path / "shop.yaml"
    profile.write_text(f"source: {wb}\nstate: {tmp_path / 'state.sqlite'}\nguard: {{allow_sku_case_change: true}}\n"
                       f"targets:\n  elebne:\n    base_url: {elebne_sandbox.base_url}\n", encoding="utf-8")
    mark = elebne_sandbox.last_id()
    assert main(["sync", "--profile", str(profile), "--no-progress", "--dry-run",
                 "--report", str(tmp_path / "r.json")]) == EXIT_OK
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert any("would be created on Elebne as new products (SKU case change allowed)" in n for n in report["notes"])
    assert elebne_sandbox.writes(since=mark) == []

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--allow-sku-case-change")
    assert code == EXIT_OK
    shown = quantities(elebne_sandbox)
    assert shown["Teapot-1L"] == 7 and shown["TEAPOT-1L"] == 0
    assert [r["sku"] for r in report["rows"] if r["reason"] == NO_LONGER_IN_SOURCE] == ["TEAPOT-1L"]
    assert any("'Teapot-1L' (listed as 'TEAPOT-1L')" in n and "set to 0" in n for n in report["notes"])


def test_ecomlinx_a_variant_sku_retyped_is_held_and_its_listing_left_as_it_is(tmp_path: Path) -> None:
    """EcomLinx plans one key per SKU: a variant's SKU retyped is a key of its own, held back the same way."""
    from connector.marketplaces.ecomlinx import PLUGIN
    from connector.sources.spreadsheet import read_spreadsheet
    from connector.sync.runner import SyncOptions, run_sync
    from tests.conftest import running_ecomlinx

    with running_ecomlinx(tmp_path / "ecomlinx.sqlite", [r["SKU"] for r in CATALOGUE]) as server:
        def sync_ecomlinx(rows: list[dict[str, Any]], stock: dict[str, dict[str, Any]]) -> Any:
            wb = write_workbook(tmp_path / "products.xlsx", rows, stock)
            opts = SyncOptions(target="ecomlinx", state_path=tmp_path / "state.sqlite", secret=PLUGIN.sandbox_key,
                               base_url=server.api_url, account="test-shop", source_label="products.xlsx")
            return run_sync(read_spreadsheet(wb, currency="INR"), opts).report

        def ecomlinx_stock() -> dict[str, int]:
            return {p["sku"]: p["stock"] for p in server.dump_state()["products"]}

        assert sync_ecomlinx(CATALOGUE, STOCK).exit_code == EXIT_OK
        before = ecomlinx_stock()
        rows = [{k: "Tee-M-BL" if v == "TEE-M-BL" else v for k, v in row.items()} for row in CATALOGUE]
        stock = {loc: {"Tee-M-BL" if s == "TEE-M-BL" else s: q for s, q in qty.items()} for loc, qty in STOCK.items()}
        report = sync_ecomlinx(rows, stock)
        assert report.exit_code == EXIT_FAILED
        held = [r for r in report.rows if r.sku == "Tee-M-BL"]
        assert len(held) == 3 and {(r.status, r.code) for r in held} == {(SKIPPED, SKU_CASE_CHANGED)}
        assert "not created on EcomLinx" in held[0].reason
        assert not [r for r in report.rows if r.sku == "TEE-M-BL"]
        assert ecomlinx_stock() == before and before["TEE-M-BL"] == 5
