"""Recorded Odoo (16, 18 and 19) -> Elebne sandbox, through the same plan, push, state and report as workbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.sources.odoo import OdooSource
from connector.sync.runner import SyncOptions, run_sync
from connector.sync.stock_policy import StockPolicy
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.odoo_vcr import VERSIONS, block_network, odoo_cassette, password, seed_data
from tests.test_odoo_catalogue import catalogue_settings

pytestmark = pytest.mark.sandbox


def read_recorded(version: int):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(f"CONNECTOR_TEST_ODOO{version}_PASSWORD", password(version))
        block_network(mp)
        with odoo_cassette(version, "catalogue_full"):
            return OdooSource(catalogue_settings(version)).read()


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_odoo_catalogue_lands_on_elebne(version: int, fast_elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    source = read_recorded(version)
    opts = SyncOptions(target="elebne", state_path=tmp_path / "state.sqlite", secret=ELEBNE_KEY,
                       base_url=fast_elebne_sandbox.base_url, account="odoo-shop", source_label=f"odoo{version}",
                       stock_policy=StockPolicy(locations=tuple(seed_data.TEST_WAREHOUSES)),
                       # archived products are created (inactive) only when asked: test_odoo_archived_not_created.py
                       settings={"defaults": {"create_archived": True}})
    report = run_sync(source, opts).report
    assert report.unreachable is None
    remote = fast_elebne_sandbox.products()
    by_sku = {}
    for product in remote.values():
        for v in product.get("variants") or []:
            by_sku[v["sku"]] = (product, v)
    for p in source.products:
        if not p.has_variants and p.variants:
            by_sku.setdefault(p.variants[0].sku, (remote.get(p.key), None))

    checked = 0
    for sku, (tmpl, spec) in seed_data.expected_variants(version).items():
        if sku == seed_data.INC_SKU or sku not in by_sku or by_sku[sku][0] is None:
            continue
        product, variant = by_sku[sku]
        qty = variant["quantity"] if variant is not None else product["quantity"]
        price = variant["price"] if variant is not None else product["price"]
        assert price == int(spec.price * 100), sku
        if tmpl.kind != "stocked":
            assert qty is None, f"{sku}: a {tmpl.kind} carries no stock"
        elif not (tmpl.active and spec.active):
            assert qty == 0, f"{sku}: archived, so listed at 0"
        else:
            want = sum(max(0, seed_data.expected_stock(spec, wh)["available"]) for wh in seed_data.TEST_WAREHOUSES)
            assert qty == want, sku
        checked += 1
    assert checked >= 30

    archived_template = next(p for p in source.products if not p.active)
    assert remote[archived_template.key]["status"] == "INACTIVE"
    tee = next(p for p in source.products if any(v.sku == "CT-TEE-01-L-BLU" for v in p.variants))
    assert remote[tee.key]["status"] == "ACTIVE"
    archived_variant = next(v for v in remote[tee.key]["variants"] if v["sku"] == "CT-TEE-01-L-BLU")
    assert archived_variant["quantity"] == 0  # the single archived variant is disabled

    mark = fast_elebne_sandbox.last_id()
    again = run_sync(read_recorded(version), opts).report
    assert fast_elebne_sandbox.writes(since=mark) == []
    assert again.operations["create"] == again.operations["update"] == again.operations["stock"] == 0
