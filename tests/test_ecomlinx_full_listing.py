"""EcomLinx has no create call: a SKU it does not list is skipped "not on EcomLinx", and its product listing is
trusted for ``listing_max_age_minutes`` (60).  A merchant who has just created the products there runs the sync
with ``--full``: the listing is read again at once and the SKUs are matched and pushed (without it they wait for
the cached listing to age)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.marketplaces.ecomlinx import SANDBOX_KEY
from tests.conftest import running_ecomlinx
from tests.workbooks import CATALOGUE, STOCK, write_workbook

pytestmark = pytest.mark.sandbox
SKUS = [row["SKU"] for row in CATALOGUE]


def _sync(tmp_path: Path, url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    profile = tmp_path / "shop.yaml"
    profile.write_text("name: shop\nsource: {type: spreadsheet, path: products.xlsx}\nstate: state.sqlite\n"
                       f"targets:\n  ecomlinx: {{account: main, base_url: '{url}'}}\n", encoding="utf-8")
    report = tmp_path / "report.json"
    code = main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report), *extra])
    return code, json.loads(report.read_text(encoding="utf-8"))


def _not_there(report: dict[str, Any]) -> set[str]:
    return {r["sku"] for r in report["rows"] if "not on EcomLinx" in str(r["reason"])}


def test_full_reads_the_listing_again_and_matches_skus_created_since(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMLINX_API_KEY", SANDBOX_KEY)
    write_workbook(tmp_path / "products.xlsx", CATALOGUE, STOCK)
    late = SKUS[0]
    with running_ecomlinx(tmp_path / "sb.sqlite", listed=SKUS[1:]) as server:
        code, report = _sync(tmp_path, server.api_url)
        assert code == 0 and _not_there(report) == {late}
        assert any("or now with --full" in note for note in report["notes"]), report["notes"]
        server.seed_products([{"sku": late, "name": "made by hand", "price": 1, "stock": 0, "status": "live"}])
        code, report = _sync(tmp_path, server.api_url)  # the cached listing is trusted: still skipped
        assert code == 0 and _not_there(report) == {late}

        code, report = _sync(tmp_path, server.api_url, "--full")
        assert code == 0 and _not_there(report) == set(), report["rows"]
        assert any(r["sku"] == late and r["status"] == "pushed" for r in report["rows"])
