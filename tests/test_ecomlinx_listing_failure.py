"""EcomLinx matches SKUs by reading its product listing before the first write.  When that read fails, each row
used to read "create failed: ..." (or "stock failed: ..."), as if EcomLinx had refused the row's own call, and the
listing was read again, every page and every retry, for each row.  The row now names the read that failed, and
the listing is read once."""

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


def _sync(tmp_path: Path, url: str) -> tuple[int, dict]:
    write_workbook(tmp_path / "products.xlsx", CATALOGUE, STOCK)
    profile = tmp_path / "shop.yaml"
    profile.write_text("name: shop\nsource: {type: spreadsheet, path: products.xlsx}\nstate: state.sqlite\n"
                       f"targets:\n  ecomlinx: {{account: main, base_url: '{url}'}}\n", encoding="utf-8")
    report = tmp_path / "report.json"
    code = main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8"))


def _listing_reads(server: Any) -> int:
    return sum(1 for r in server.requests_log() if r["method"] == "GET" and r["path"].endswith("/products"))


@pytest.mark.parametrize(("status", "verdict"), [(400, "failed"), (502, "deferred")])
def test_a_listing_read_that_fails_is_named_by_each_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        status: int, verdict: str) -> None:
    monkeypatch.setenv("ECOMLINX_API_KEY", SANDBOX_KEY)
    monkeypatch.setattr("connector.http.client.backoff_seconds", lambda *_args: 0.0)
    with running_ecomlinx(tmp_path / "sb.sqlite", listed=SKUS) as server:
        body = {"error": {"code": "bad_request", "message": "page size not accepted", "status": 400}} \
            if status == 400 else None
        server.add_fault(kind="status", status=status, body=body, method="GET", path="/products$", count=100)
        code, report = _sync(tmp_path, server.api_url)
        assert code == (1 if verdict == "failed" else 3), report["rows"]
        reasons = [str(r["reason"]) for r in report["rows"] if r["status"] != "pushed"]
        assert reasons and len(reasons) == len(report["rows"]), reasons
        assert all("reading the EcomLinx product listing (to match SKUs)" in r for r in reasons), reasons
        assert not any(r.startswith(("create failed", "stock failed", "update failed")) for r in reasons), reasons
        if verdict == "failed":
            assert all(r.startswith("blocked: ") and "page size not accepted" in r for r in reasons), reasons
            assert _listing_reads(server) == 1  # not once per row
        else:
            assert all(r.startswith("deferred to the next run") for r in reasons), reasons
            assert _listing_reads(server) == 6  # the first attempt and the HTTP layer's 5 retries, once
        assert not [r for r in server.requests_log() if r["method"] == "PATCH"]  # nothing written unmatched
