"""End to end: Aleta sandbox -> canonical -> Elebne sandbox, as a reseller runs it (run_sync + cursor commit)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.marketplaces.elebne import PLUGIN as ELEBNE
from connector.sources.aleta import read_profile_source
from connector.sources.aleta.pricing import PriceRule
from connector.sources.aleta.sandbox import SANDBOX_KEY, AletaSandbox
from connector.sources.base import SourceResult
from connector.sync.runner import SyncOptions, run_sync
from connector.sync.state import StateStore
from tests.conftest import running_aleta

pytestmark = pytest.mark.sandbox
RULE = PriceRule(field="client_price", percent=Decimal(30), ending=Decimal("0.90"))


@pytest.fixture
def aleta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AletaSandbox]:
    with running_aleta(monkeypatch, tmp_path / "aleta.sqlite", variants=40, seed=3, locations=2) as server:
        yield server


def config(server: AletaSandbox) -> dict[str, Any]:
    return {"type": "aleta", "base_url": server.url, "price_field": "client_price",
            "markup": {"percent": 30, "ending": "0.90"}, "currency": "MRU"}


def sync_once(server: AletaSandbox, elebne: Any, state_path: Path, *, full: bool = False) -> tuple[Any, SourceResult]:
    """What `connector sync --profile` does: read, push, then store the cursors if every target succeeded."""
    with StateStore.open(state_path) as state:
        source = read_profile_source(config(server), state, full)
        opts = SyncOptions(target="elebne", state_path=state_path, secret=ELEBNE.sandbox_key,
                           base_url=elebne.base_url, account="reseller")
        report = run_sync(source, opts, state=state).report
        if report.exit_code == 0:
            for (src, name), value in source.cursors.items():
                state.set_cursor(src, name, value)
    return report, source


def active_catalogue(server: AletaSandbox) -> dict[str, list[dict[str, Any]]]:
    """Active products of the sandbox by handle, with their variants, straight from its database."""
    import json

    out: dict[str, list[dict[str, Any]]] = {}
    rows = server.store.query("SELECT p.doc AS pdoc, v.doc AS vdoc FROM aleta_products p JOIN aleta_variants v "
                              "ON v.product_id = p.id WHERE p.status = 'active' ORDER BY p.seq, v.position")
    for row in rows:
        out.setdefault(json.loads(row["pdoc"])["handle"], []).append(json.loads(row["vdoc"]))
    return out


def stock_sum(server: AletaSandbox, sku: str) -> int:
    rows = server.store.query("SELECT sum(s.available) AS n FROM aleta_stock s JOIN aleta_variants v "
                              "ON v.inventory_item_id = s.inventory_item_id WHERE v.sku = ?", (sku,))
    return int(rows[0]["n"])


def minor(amount: str) -> int:
    return int(RULE.apply(Decimal(amount)) * 100)


def test_every_active_variant_published_with_price_rule_and_summed_stock(aleta, elebne_sandbox, tmp_path) -> None:
    state_path = tmp_path / "state.sqlite"
    report, _source = sync_once(aleta, elebne_sandbox, state_path)
    assert report.exit_code == 0, report.to_json()
    expected = active_catalogue(aleta)
    published = elebne_sandbox.products()
    assert set(published) == set(expected)  # drafts and archived products are not published
    statuses = {row["status"] for row in aleta.store.query("SELECT status FROM aleta_products")}
    assert {"draft", "archived"} & statuses, "the generated catalogue must hold non-active products"
    for handle, variants in expected.items():
        item = published[handle]
        assert item["status"] == "ACTIVE"
        if len(variants) == 1 and variants[0]["title"] == "Default Title":
            assert item["price"] == minor(variants[0]["client_price"])
            assert item["quantity"] == stock_sum(aleta, variants[0]["sku"])
            continue
        by_sku = {v["sku"]: v for v in item["variants"]}
        assert set(by_sku) == {v["sku"] for v in variants}
        for v in variants:
            assert by_sku[v["sku"]]["price"] == minor(v["client_price"])
            assert by_sku[v["sku"]]["quantity"] == stock_sum(aleta, v["sku"])
            assert by_sku[v["sku"]]["label"] == v["title"]
        assert item["quantity"] == sum(stock_sum(aleta, v["sku"]) for v in variants)
    assert report.status_counts["pushed"] == sum(len(v) for v in expected.values())


def test_second_run_sends_nothing_then_a_stock_change_is_pushed(aleta, elebne_sandbox, tmp_path) -> None:
    state_path = tmp_path / "state.sqlite"
    assert sync_once(aleta, elebne_sandbox, state_path)[0].exit_code == 0
    mark = elebne_sandbox.last_id()
    aleta_mark = max(r["id"] for r in aleta.requests_log())

    report, _ = sync_once(aleta, elebne_sandbox, state_path)
    assert report.exit_code == 0
    assert elebne_sandbox.writes(mark) == []
    assert report.status_counts["pushed"] == 0 and report.status_counts["unchanged"] > 0
    second = [r for r in aleta.requests_log(aleta_mark) if r["path"] == "/api/v1/products"]
    assert second and all("updated_since=" in r["query"] for r in second)  # incremental product read
    assert any(r["path"] == "/api/v1/stock" for r in aleta.requests_log(aleta_mark))  # stock re-read anyway

    handle, variants = next(iter(active_catalogue(aleta).items()))
    sku = variants[-1]["sku"]
    aleta.set_stock(sku, "gid://shopify/Location/2", available=77)  # does not move updated_at
    mark = elebne_sandbox.last_id()
    report, _ = sync_once(aleta, elebne_sandbox, state_path)
    assert report.exit_code == 0
    writes = elebne_sandbox.writes(mark)
    assert [(w["method"], w["path"]) for w in writes] == [("PATCH", "/api/v1/dev/store/inventory/bulk")]
    item = elebne_sandbox.products()[handle]
    listed = item["quantity"] if not item["variants"] else {v["sku"]: v["quantity"] for v in item["variants"]}[sku]
    assert listed == stock_sum(aleta, sku) and stock_sum(aleta, sku) >= 77


def test_price_change_and_withdrawal_reach_elebne_incrementally(aleta, elebne_sandbox, tmp_path) -> None:
    state_path = tmp_path / "state.sqlite"
    assert sync_once(aleta, elebne_sandbox, state_path)[0].exit_code == 0
    catalogue = list(active_catalogue(aleta).items())
    (h1, v1), (h2, _v2) = catalogue[0], catalogue[1]
    new_price = str(Decimal(v1[0]["client_price"]) * 2)  # (within the price-move limit: price_moves.py)
    aleta.update_variant(v1[0]["sku"], client_price=new_price)
    pid = aleta.store.query("SELECT id FROM aleta_products WHERE json_extract(doc, '$.handle') = ?", (h2,))[0]["id"]
    aleta.update_product(pid, status="archived")
    mark = elebne_sandbox.last_id()
    report, _source = sync_once(aleta, elebne_sandbox, state_path)
    assert report.exit_code == 0, report.to_json()
    patched = {w["path"].rsplit("/", 1)[-1] for w in elebne_sandbox.writes(mark) if "/products/" in w["path"]}
    assert patched == {h1, h2}
    published = elebne_sandbox.products()
    prices = {v["sku"]: v["price"] for v in published[h1]["variants"]} or {v1[0]["sku"]: published[h1]["price"]}
    assert prices[v1[0]["sku"]] == minor(new_price) != minor(v1[0]["client_price"])
    assert published[h2]["status"] == "INACTIVE" and published[h2]["quantity"] == 0


def test_cli_sync_source_aleta_commits_cursors_and_reruns_quietly(aleta, elebne_sandbox, tmp_path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.cli import main

    monkeypatch.setenv("ALETA_BASE_URL", aleta.url)
    monkeypatch.setenv("ALETA_PRICE_FIELD", "client_price")
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE.sandbox_key)
    state_path = tmp_path / "state.sqlite"
    argv = ["sync", "--source", "aleta", "--target", "elebne", "--base-url", elebne_sandbox.base_url,
            "--state", str(state_path), "--no-progress", "--report", str(tmp_path / "report.json")]
    assert main(argv) == 0
    with StateStore.open(state_path) as state:
        assert state.get_cursor(f"aleta:{aleta.url.split('//')[1]}", "updated_since")
    report_text = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert SANDBOX_KEY not in report_text
    mark = elebne_sandbox.last_id()
    assert main(argv) == 0
    assert elebne_sandbox.writes(mark) == []
