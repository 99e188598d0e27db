"""A variant's SKU retyped in other letter case on Elryan, which matches a product's variants (and its stock items)
by SKU: the product is held back, not updated with a second variant beside the old one (case_retyped.py).

Before, TEE-M-BL retyped Tee-m-bl created a new variant Tee-m-bl with its 5 units while the old TEE-M-BL kept its
5 on sale: the plan and the missing policy match children case aside, Elryan by their exact SKU; exit 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK
from connector.marketplaces.elryan import PASSWORD_ENV, SANDBOX_EMAIL, SANDBOX_PASSWORD
from tests.test_elryan_sync import DEFAULTS, WRITES, souk_workbook
from tests.test_sync_safety_e2e import elryan_variants

pytestmark = pytest.mark.sandbox

SKU_CASE_CHANGED = "sku_case_changed"  # the rows' code (sources.base.SKU_CASE_CHANGED)


def sync(server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, dict[str, Any]]:
    monkeypatch.setenv(PASSWORD_ENV, SANDBOX_PASSWORD)
    profile = tmp_path / "shop.yaml"
    profile.write_text(json.dumps({"source": str(tmp_path / "souk.xlsx"), "state": str(tmp_path / "state.sqlite"),
                                   "currency": "IQD", "targets": {"elryan": {
                                       "base_url": server.api_url,
                                       "settings": {"email": SANDBOX_EMAIL, "defaults": DEFAULTS}}}}),
                       encoding="utf-8")
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    code = main(["sync", "--profile", str(profile), "--report", str(report), "--no-progress", *extra])
    return code, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}


def retype(workbook: Path, old: str, new: str) -> None:
    book = load_workbook(workbook)
    for row in book["Products"].iter_rows():
        for cell in row:
            if cell.value == old:
                cell.value = new
    book.save(workbook)


def writes(server: Any, since: int) -> list[dict[str, Any]]:
    return [r for r in server.requests_log(since) if r["method"] in WRITES and "login" not in r["path"]]


def last(server: Any) -> int:
    return max((r["id"] for r in server.requests_log()), default=0)


def stock(server: Any) -> dict[str, int]:
    return {sku: v["stock"] for sku, v in elryan_variants(server).items()}


@pytest.fixture
def synced(elryan_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    souk_workbook(tmp_path / "souk.xlsx")
    assert sync(elryan_sandbox, tmp_path, monkeypatch)[0] == EXIT_OK
    assert stock(elryan_sandbox) == {"TEE-M-BL": 5, "TEE-L-BL": 3, "PHONE-1": 7}
    retype(tmp_path / "souk.xlsx", "TEE-M-BL", "Tee-m-bl")  # Excel's AutoCorrect
    return elryan_sandbox


def test_a_variant_sku_retyped_in_other_letter_case_holds_its_product_back(
        synced: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mark = last(synced)
    for dry in (["--dry-run"], []):  # a dry run says what the run does
        code, report = sync(synced, tmp_path, monkeypatch, *dry)
        assert code == EXIT_FAILED
        rows = [r for r in report["rows"] if r["sku"] in {"Tee-m-bl", "TEE-L-BL"}]
        assert {(r["sku"], r["status"], r["code"]) for r in rows} == {
            ("Tee-m-bl", "skipped", SKU_CASE_CHANGED), ("TEE-L-BL", "skipped", SKU_CASE_CHANGED)}
        reason = rows[0]["reason"]
        assert "SKU 'Tee-m-bl' is the listed 'TEE-M-BL' typed in other letter case" in reason
        assert "product TEE not updated on Elryan" in reason and "--allow-sku-case-change" in reason
        assert [r["status"] for r in report["rows"] if r["sku"] == "PHONE-1"] == ["unchanged"]
        assert any("'Tee-m-bl' (listed as 'TEE-M-BL' in TEE)" in n for n in report["notes"])
        assert not [r for r in report["rows"] if r["sku"] == "TEE-M-BL"]  # nothing said gone
        # no new variant, and the old one keeps its stock
        assert writes(synced, mark) == []
        assert stock(synced) == {"TEE-M-BL": 5, "TEE-L-BL": 3, "PHONE-1": 7}

    # held, it is mapped again next run (its record marks were not saved): still held
    assert sync(synced, tmp_path, monkeypatch)[0] == EXIT_FAILED
    # typed as before: nothing left to do
    retype(tmp_path / "souk.xlsx", "Tee-m-bl", "TEE-M-BL")
    code, report = sync(synced, tmp_path, monkeypatch)
    assert code == EXIT_OK and writes(synced, mark) == []


def test_allowed_a_new_variant_is_created_and_the_old_one_goes_to_zero(
        synced: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As asked: Elryan upserts variants by SKU, so the new spelling is a second variant; the old one, which the plan
    matches (case aside) to the new, goes as no longer in source (its stock 0), or the same 5 units would be on sale
    twice.  Before, it kept its 5 with exit 0."""
    code, report = sync(synced, tmp_path, monkeypatch, "--allow-sku-case-change")
    assert code == EXIT_OK, report
    assert stock(synced) == {"TEE-M-BL": 0, "Tee-m-bl": 5, "TEE-L-BL": 3, "PHONE-1": 7}
    assert any("created on Elryan as new variants (SKU case change allowed), the old variant's stock set to 0 as "
               "'no longer in source': 'Tee-m-bl' (listed as 'TEE-M-BL' in TEE)" in n for n in report["notes"])
    assert {r["status"] for r in report["rows"] if r["sku"] in {"Tee-m-bl", "TEE-L-BL"}} == {"pushed"}
    old = [r for r in report["rows"] if r["sku"] == "TEE-M-BL"]
    assert [(r["status"], r["reason"]) for r in old] == [
        ("pushed", "no longer in source: typed in other letter case, a new variant (allowed)")]
    mark = last(synced)  # the next runs: nothing more to do
    for _ in range(2):
        code, report = sync(synced, tmp_path, monkeypatch)
        assert code == EXIT_OK, report
    assert stock(synced) == {"TEE-M-BL": 0, "Tee-m-bl": 5, "TEE-L-BL": 3, "PHONE-1": 7}
    assert not [w for w in writes(synced, mark) if "/products" in w["path"] and w["method"] == "POST"]


def test_allowed_with_missing_keep_the_old_variant_keeps_its_stock(
        synced: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, report = sync(synced, tmp_path, monkeypatch, "--allow-sku-case-change", "--missing", "keep")
    assert code == EXIT_OK, report
    assert stock(synced) == {"TEE-M-BL": 5, "Tee-m-bl": 5, "TEE-L-BL": 3, "PHONE-1": 7}
    assert any("the old variant stays as it is, its last stock still on sale: 'Tee-m-bl'" in n
               for n in report["notes"])
