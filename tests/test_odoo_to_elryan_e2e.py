"""Recorded Odoo (16, 18 and 19) -> Elryan sandbox: dependency ordering, translations and stock from a real ERP."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.sync.stock_policy import StockPolicy
from tests.odoo_vcr import VERSIONS, seed_data
from tests.test_elryan_sync import DEFAULTS, WRITES, Elryan, elryan  # noqa: F401 - the fixture
from tests.test_odoo_to_elebne_e2e import read_recorded

pytestmark = pytest.mark.sandbox


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_odoo_catalogue_lands_on_elryan(version: int, elryan: Elryan, tmp_path: Path) -> None:  # noqa: F811
    source = read_recorded(version)
    outcome = elryan.sync(source, defaults={**DEFAULTS, "brand": "Maison Test"})
    report = outcome.report
    state = elryan.state()
    by_sku = {v["sku"]: (p, v) for p in state["products"] for v in p["variants"]}
    policy = StockPolicy(locations=tuple(seed_data.TEST_WAREHOUSES))
    checked = translated = 0
    for product in source.products:
        if not product.active:
            continue
        for variant in product.variants:
            if variant.sku not in by_sku or not variant.active:
                continue
            remote_product, remote_variant = by_sku[variant.sku]
            assert Decimal(str(remote_variant["price"])) == variant.price.amount, variant.sku
            languages = {t["language"]: t["name"] for t in remote_product["translations"]}
            want_langs = {loc.split("_")[0]: tr["name"] for loc, tr in product.translations.items() if tr.get("name")}
            assert languages == want_langs, f"{variant.sku}: translations reach Elryan"
            translated += bool(want_langs)
            if product.kind == "stocked":
                want = policy.listed(variant, product.kind)
                assert remote_variant["stock"] == want, variant.sku
            checked += 1
    assert checked >= 25, report.to_json()["rows"][:5]
    assert translated >= 5  # Arabic and French names from Odoo reached Elryan
    # every category level exists once, parents before children
    ids = [c["remote_id"] for c in state["categories"]]
    assert len(ids) == len(set(ids))
    failed = [r for r in report.rows if r.status == "failed"]
    assert all(r.reason for r in failed)
    assert {p["brand"]["remote_id"] for p in state["products"]} <= {"brand-maison-test"}

    mark = elryan.last()
    elryan.sync(read_recorded(version), defaults={**DEFAULTS, "brand": "Maison Test"})
    assert [r for r in elryan.log(mark) if r["method"] in WRITES] == []
