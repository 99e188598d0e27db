"""A success status whose body is not JSON (a gateway's maintenance page, a captive portal, an empty answer; found
by a fault-proxy campaign between the connector and the three sandboxes): asked again like a 502; still odd after
the retries, the row is deferred like a 502's (exit 3), saying the answer was not JSON with the page's type and
first words, instead of passing the page off as the marketplace's own message (Elebne: ``create failed: OK`` or
``create failed: <html>...``; Elryan: ``error_code None without a message``).  The next run, with the marketplace
answering again, pushes the row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.marketplaces.ecomlinx import SANDBOX_KEY as ECOMLINX_KEY
from connector.marketplaces.elryan import PLUGIN as ELRYAN
from connector.marketplaces.elryan import SANDBOX_PASSWORD
from tests.conftest import ELEBNE_KEY, running_ecomlinx, running_elebne
from tests.workbooks import CATALOGUE, STOCK, write_workbook

pytestmark = pytest.mark.sandbox
ROWS = [row for row in CATALOGUE if row["SKU"] != "TEA-500"]  # (no brand: Elryan refuses it on every run)
HELD = {where: {sku: n for sku, n in counts.items() if sku != "TEA-500"} for where, counts in STOCK.items()}
PAGE = b"<html><body><h1>Down for maintenance</h1></body></html>"
ELRYAN_SETTINGS = ("{email: merchant@example.com, defaults: {tax: 0, guarantee: 12, fulfillment_day: 2, "
                   "supplier: {name: Souk, remote_id: sup-souk}}}")


@pytest.fixture(params=["elebne", "elryan", "ecomlinx"])
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[str, Any, str]]:
    """(marketplace, its sandbox server, the path of its product create) with its secret in the environment."""
    name = request.param
    if name == "elebne":
        monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
        with running_elebne(tmp_path / "sb.sqlite") as handle:
            yield name, handle.server, "/products$"
    elif name == "elryan":
        monkeypatch.setenv("ELRYAN_PASSWORD", SANDBOX_PASSWORD)
        with ELRYAN.create_sandbox(port=0, db_path=str(tmp_path / "sb.sqlite")) as server:
            yield name, server, "/products/upsert$"
    else:
        monkeypatch.setenv("ECOMLINX_API_KEY", ECOMLINX_KEY)
        skus = [row["SKU"] for row in ROWS]
        with running_ecomlinx(tmp_path / "sb.sqlite", listed=skus) as server:
            yield name, server, "/products/[^/]+$"


def _shop(tmp_path: Path, name: str, server: Any) -> Path:
    write_workbook(tmp_path / "products.xlsx", ROWS, HELD)
    settings = f", settings: {ELRYAN_SETTINGS}" if name == "elryan" else ""
    profile = tmp_path / "shop.yaml"
    profile.write_text("name: shop\nsource: {type: spreadsheet, path: products.xlsx, currency: MRU}\n"
                       "state: state.sqlite\ncurrency: {account: MRU}\ntargets:\n"
                       f"  {name}: {{account: main, base_url: '{server.api_url}'{settings}}}\n", encoding="utf-8")
    return profile


def _reasons(report: Path) -> list[str]:
    rows = json.loads(report.read_text(encoding="utf-8"))["rows"]
    return [f"{r.get('reason') or ''} {r.get('marketplace_message') or ''}" for r in rows
            if r.get("status") == "failed"]


@pytest.mark.parametrize("body", [PAGE, b""], ids=["html-page", "empty"])
def test_a_success_status_with_a_body_that_is_not_json_is_asked_again(
        tmp_path: Path, target: tuple[str, Any, str], body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each marketplace's create (or update) is safe to repeat (an idempotency key, an upsert, an absolute PATCH):
    the odd answer is retried like a 502 and the row goes in the same run, sent once more, not failed."""
    monkeypatch.setattr("connector.http.client.backoff_seconds", lambda *_args: 0.0)
    name, server, create = target
    profile = _shop(tmp_path, name, server)
    method = "PATCH" if name == "ecomlinx" else "POST"
    server.add_fault(kind="status", status=200, body=body, method=method, path=create, count=1)
    report = tmp_path / "report.json"
    assert main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report)]) == 0
    assert _reasons(report) == []
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]["rows"]
    assert summary["failed"] == 0 and summary["pushed"] > 0, summary


def _deferred(report: Path) -> list[str]:
    rows = json.loads(report.read_text(encoding="utf-8"))["rows"]
    return [str(r.get("reason")) for r in rows if str(r.get("reason") or "").startswith("deferred to the next run")]


@pytest.mark.parametrize("body", [PAGE, b""], ids=["html-page", "empty"])
def test_a_success_status_with_a_body_that_is_not_json_every_time_defers_like_a_502(
        tmp_path: Path, target: tuple[str, Any, str], body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Odd every time it is asked (the retries spent): like a gateway's 502 after its retries, the rows are
    deferred (exit 3), not failed (exit 1: the marketplace refusing them), each saying what came back; the next
    run, with the marketplace answering again, pushes them."""
    monkeypatch.setattr("connector.http.client.backoff_seconds", lambda *_args: 0.0)
    name, server, create = target
    profile = _shop(tmp_path, name, server)
    server.add_fault(kind="status", status=200, body=body, method="PATCH" if name == "ecomlinx" else "POST",
                     path=create, count=6)  # the first attempt and the HTTP layer's 5 retries
    report = tmp_path / "report.json"
    args = ["sync", "--profile", str(profile), "--no-progress", "--report", str(report)]
    assert main(args) == 3
    assert _reasons(report) == []  # nothing failed
    said = [r for r in _deferred(report) if "no readable answer after retries" in r]
    assert said, _deferred(report)
    assert all("the answer is not JSON: HTTP 200" in r for r in said), said
    assert all(("Down for maintenance" in r) if body else ("an empty body" in r) for r in said), said
    assert main(args) == 0  # the marketplace answers again: the rows go
