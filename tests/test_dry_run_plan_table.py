"""`connector sync --dry-run` prints the plan as the marketplace's adapter will carry it out: the table counts
each operation under what the dry run foresees of it (EcomLinx has no create call: a SKU is matched by SKU,
or skipped as not on EcomLinx), not under the plan's action alone."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from connector.marketplaces.ecomlinx.adapter import MATCH_AT_PUSH, MATCHED, NOT_ON_ECOMLINX
from tests.conftest import SandboxHandle, running_ecomlinx
from tests.test_marketplace_rules import bad_workbook
from tests.test_sync_elebne_e2e import sync as elebne_sync
from tests.workbooks import CATALOGUE, write_workbook

pytestmark = pytest.mark.sandbox

ON_ECOMLINX = ("SOAP-01", "TEE-M-BL")
SKUS = [r["SKU"] for r in CATALOGUE]


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[Any]:
    with running_ecomlinx(tmp_path / "ecomlinx.sqlite", ON_ECOMLINX) as server:
        yield server


def plan_table(out: str) -> dict[str, int]:
    """The rows of the printed "Plan for ..." table: label -> count."""
    table = out[out.index("Plan for"):out.index("Dry run")]
    return {m.group(1).strip(): int(m.group(2)) for m in re.finditer(r"│ ([^│]+?)\s*│\s*(\d+) │", table)}


def dry_run(server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    wb = write_workbook(tmp_path / "products.xlsx")
    code = main(["sync", "--source", str(wb), "--target", "ecomlinx", "--base-url", server.api_url, "--state",
                 str(tmp_path / "state.sqlite"), "--report", str(tmp_path / "report.json"), "--no-progress",
                 "--dry-run", *extra])
    assert code == 0
    assert [r for r in server.requests_log() if r["method"] != "GET"] == []
    return capsys.readouterr().out


def test_ecomlinx_dry_run_without_credentials_plans_no_creates(
        ecomlinx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ECOMLINX_API_KEY", raising=False)
    monkeypatch.setenv("CONNECTOR_CREDENTIALS", str(tmp_path / "none.yaml"))
    out = dry_run(ecomlinx, tmp_path, capsys)
    table = plan_table(out)
    assert "create product" not in table and not re.search(r"^  create ", out, re.M)
    assert table[MATCH_AT_PUSH] == len(SKUS)
    assert table["stock update"] == len(SKUS)
    assert f"  push    {SKUS[0]}  (product: {MATCH_AT_PUSH})" in out


def test_ecomlinx_dry_run_with_credentials_says_what_is_matched_and_what_is_skipped(
        ecomlinx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ECOMLINX_API_KEY", ECOMLINX.sandbox_key)
    out = dry_run(ecomlinx, tmp_path, capsys)
    table = plan_table(out)
    assert "create product" not in table and not re.search(r"^  create ", out, re.M)
    assert table[MATCHED] == len(ON_ECOMLINX)
    assert table["stock update"] == len(ON_ECOMLINX)
    missing = len(SKUS) - len(ON_ECOMLINX)
    assert table[f"not sent: {NOT_ON_ECOMLINX}"] == 2 * missing  # its product fields and its stock
    assert f"  skip    TEA-500  (stock: {NOT_ON_ECOMLINX})" in out
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    soap = next(r for r in report["rows"] if r["sku"] == "SOAP-01" and r["sheet"] == "Products")
    assert soap["reason"] == f"dry run: {MATCHED}"
    assert report["summary"]["operations"]["create"] == len(ON_ECOMLINX)  # what the real run counts


def test_elebne_dry_run_counts_refused_and_blocked_operations_apart(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    wb = bad_workbook(tmp_path / "bad.xlsx")
    elebne_sync(elebne_sandbox, wb, tmp_path, "--dry-run", monkeypatch=monkeypatch)
    table = plan_table(capsys.readouterr().out)
    assert table == {
        "create product": 1,  # MUG
        "refused before sending (product)": 4,  # SOAP-01's price, TEA-500's image address, CAP's and HAT's variants
        "stock update": 1,  # MUG
        "refused before sending (stock)": 1,  # TEE: 3,000,000,000 units
        # TEE: created without its refused stock, Elebne would sell it uncounted
        "not created without its stock": 1,
        "not sent: the product could not be created": 2,  # SOAP-01's and TEA-500's stock
        "unchanged product": 0, "unchanged stock": 0, "mapping failed": 0}
