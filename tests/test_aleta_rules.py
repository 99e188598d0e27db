"""The supplier feed follows the workbook's rules (barcodes, SKUs with spaces), and a variant skipped for a data
problem neither freezes the incremental cursor nor disappears from the reports (issue 12, points 4 and 10)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.marketplaces.elebne import PLUGIN as ELEBNE
from connector.sources.aleta import read_profile_source
from connector.sources.aleta.incremental import CURSOR_NAME
from connector.sources.aleta.sandbox import AletaSandbox
from connector.sources.spreadsheet.cells import barcode_problem
from connector.sync.state import StateStore
from tests.conftest import running_aleta

pytestmark = pytest.mark.sandbox
MAIN = "gid://shopify/Location/1"


@pytest.fixture
def aleta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AletaSandbox]:
    with running_aleta(monkeypatch, tmp_path / "aleta.sqlite", variants=12, seed=5, locations=1) as server:
        yield server


def product(n: int, *variants: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"gid://shopify/Product/9{n:03d}", "title": f"Rule test {n}", "handle": f"rule-test-{n}",
            "vendor": "Rules", "product_type": "Tests", "status": "active", "updated_at": "2026-01-01T00:00:00Z",
            "variants": [{"id": f"gid://shopify/ProductVariant/9{n:03d}{i}", "title": "Default Title",
                          "retail_price": "20.00", "client_price": "10.00",
                          "inventory_item_id": f"gid://shopify/InventoryItem/9{n:03d}{i}", **v}
                         for i, v in enumerate(variants)]}


def load(server: AletaSandbox, *products: dict[str, Any], stock: dict[str, int] | None = None) -> None:
    rows = [{"sku": sku, "location_id": MAIN, "quantities": {"available": q, "on_hand": q}}
            for sku, q in (stock or {}).items()]
    server.load([], list(products), rows)


def cfg(server: AletaSandbox) -> dict[str, Any]:
    return {"type": "aleta", "base_url": server.url, "price_field": "client_price", "currency": "MRU"}


def test_a_barcode_the_workbook_refuses_is_refused_from_the_feed(aleta: AletaSandbox) -> None:
    bad, good = "3700123456789", "3700123456780"
    assert barcode_problem(bad) == "bad barcode check digit (expected 0)"
    load(aleta, product(1, {"sku": "RULE-BAD", "barcode": bad}), product(2, {"sku": "RULE-GOOD", "barcode": good}),
         stock={"RULE-BAD": 3, "RULE-GOOD": 4})
    result = read_profile_source(cfg(aleta), None, True)
    skus = {v.sku: v for p in result.products for v in p.variants}
    assert "RULE-BAD" not in skus and skus["RULE-GOOD"].barcode == good
    [issue] = [i for i in result.issues if i.sku == "RULE-BAD"]
    assert issue.severity == "error" and issue.reason == barcode_problem(bad) and issue.value == bad
    [row] = [r for r in result.rows if r.sku == "RULE-BAD"]
    assert row.skipped_reason and "check digit" in row.skipped_reason


def test_a_sku_with_spaces_is_trimmed_and_keeps_its_stock(aleta: AletaSandbox) -> None:
    load(aleta, product(3, {"sku": " RULE-PAD ", "barcode": None}), stock={" RULE-PAD ": 9})
    result = read_profile_source(cfg(aleta), None, True)
    variant = next(v for p in result.products for v in p.variants if v.sku == "RULE-PAD")
    assert variant.stock_known and sum(level.available for level in variant.stock.values()) == 9
    assert any(i.sku == "RULE-PAD" and i.severity == "warning" and "spaces" in i.reason for i in result.issues)
    assert not any("no stock row" in w and "RULE-PAD" in w for w in result.warnings)


def test_a_variant_without_sku_does_not_freeze_the_cursor(aleta: AletaSandbox, elebne_sandbox: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.cli import main

    load(aleta, product(4, {"sku": "", "title": "Default Title"}))
    monkeypatch.setenv("ALETA_BASE_URL", aleta.url)
    monkeypatch.setenv("ALETA_PRICE_FIELD", "client_price")
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE.sandbox_key)
    state_path, report_path = tmp_path / "state.sqlite", tmp_path / "report.json"
    argv = ["sync", "--source", "aleta", "--target", "elebne", "--base-url", elebne_sandbox.base_url,
            "--state", str(state_path), "--no-progress", "--report", str(report_path)]
    cursor_source = f"aleta:{aleta.url.split('//')[1]}"

    def skipped_rows() -> list[dict[str, Any]]:
        rows = json.loads(report_path.read_text(encoding="utf-8"))["rows"]
        return [r for r in rows if r["status"] == "skipped" and "has no SKU" in (r["reason"] or "")]

    assert main(argv) == 1  # one invalid row: the exit code says so...
    assert len(skipped_rows()) == 1
    with StateStore.open(state_path) as state:
        first = state.get_cursor(cursor_source, CURSOR_NAME)
    assert first  # ...but every valid row was confirmed, so the cursor advanced

    published = elebne_sandbox.products()
    handle = next(h for h in published if not h.startswith("rule-test"))
    pid = aleta.store.query("SELECT id FROM aleta_products WHERE json_extract(doc, '$.handle') = ?",
                            (handle,))[0]["id"]
    aleta.advance(60)
    aleta.update_product(pid, status="archived")
    mark = aleta.requests_log()[-1]["id"]
    # one product of three archived disables a third of the SKUs: more than the mass-change guard lets through
    assert main([*argv, "--allow-mass-change"]) == 1
    assert len(skipped_rows()) == 1  # still reported, until the supplier fixes it
    product_reads = [r for r in aleta.requests_log(mark) if r["path"] == "/api/v1/products"]
    assert product_reads and all("updated_since=" in r["query"] for r in product_reads)  # incremental, not full
    assert elebne_sandbox.products()[handle]["status"] == "INACTIVE"  # the archival reached the marketplace
    with StateStore.open(state_path) as state:
        assert state.get_cursor(cursor_source, CURSOR_NAME) >= first


def test_only_rows_the_source_skipped_let_the_cursors_advance() -> None:
    """The commit rule itself: a failed, deferred or unreachable push keeps the cursors; invalid rows do not."""
    from connector.model import SourceRef
    from connector.sources.base import RowRef, SourceResult
    from connector.sync.report import FAILED, PUSHED, SKIPPED, RowOutcome, RunReport

    source = SourceResult(rows=[RowRef("A", SourceRef("aleta")), RowRef(None, SourceRef("aleta"), "has no SKU")])

    def report(*rows: RowOutcome, **kw: Any) -> RunReport:
        r = RunReport("run", "aleta", "elebne", False, "2026-01-01T00:00:00Z", rows=list(rows), **kw)
        r.exit_code = r.compute_exit_code()
        return r

    ok = RowOutcome("A", "a", "aleta", None, PUSHED)
    invalid = RowOutcome(None, None, "aleta", None, SKIPPED, reason="has no SKU", attention=True)
    assert report(ok, invalid).exit_code == 1 and source.cursors_may_advance(report(ok, invalid))
    assert source.cursors_may_advance(report(ok))
    failed = RowOutcome("A", "a", "aleta", None, FAILED, reason="update failed: 500", attention=True)
    assert not source.cursors_may_advance(report(failed, invalid))
    assert not source.cursors_may_advance(report(ok, invalid, operations={"deferred": 1}))
    assert not source.cursors_may_advance(report(ok, unreachable="refused"))
    other = RowOutcome("B", "b", "aleta", None, SKIPPED, reason="has no SKU", attention=True)  # not ours
    assert not source.cursors_may_advance(report(ok, other))


def test_an_erp_barcode_that_is_no_gtin_is_withheld_not_the_product() -> None:
    """Odoo's barcode field also holds internal codes: the product is pushed, the barcode is not sent."""
    from connector.model import ABSENT, Product, Variant
    from connector.sources.checks import withhold_invalid_barcodes

    good = "4006381333931"
    products = [Product(key="P", variants=[Variant(sku="P-1", barcode="INT-0042"), Variant(sku="P-2", barcode=good),
                                           Variant(sku="P-3", barcode="4006381333932")])]
    issues: list = []
    withhold_invalid_barcodes(products, issues, "product.product")
    assert [v.sku for v in products[0].variants] == ["P-1", "P-2", "P-3"]  # nothing skipped
    assert [v.barcode for v in products[0].variants] == [ABSENT, good, ABSENT]  # never sent
    assert [(i.sku, i.severity) for i in issues] == [("P-1", "warning"), ("P-3", "warning")]
    assert "check digit" in issues[1].reason and "not sent" in issues[1].reason
