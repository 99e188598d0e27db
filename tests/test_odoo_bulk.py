"""1,000 variants with stock in two warehouses and two languages: O(pages) RPC calls, asserted on the
recorded requests."""

from __future__ import annotations

from collections import Counter

import pytest

from connector.sources.odoo import OdooSettings, OdooSource
from tests.odoo_vcr import (
    RECORDING,
    TARGETS,
    Target,
    block_network,
    odoo_cassette,
    password,
    password_var,
    recorded_calls,
    seed_data,
    settings_kwargs,
)

MAX_CALLS = 15
BULK_DOMAIN = [["categ_id.name", "=", seed_data.BULK_CATEG]]


def bulk_settings(version: int | Target) -> OdooSettings:
    return OdooSettings(**settings_kwargs(version, languages=["fr_FR", "ar_001"],
                                          warehouses=seed_data.TEST_WAREHOUSES,
                                          image_base_url="https://shop.example.com", domain=BULK_DOMAIN))


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_thousand_variants_in_at_most_15_calls(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    version = target.version
    monkeypatch.setenv(password_var(target), password(target))
    block_network(monkeypatch)
    with odoo_cassette(target, "bulk_1000") as cass:
        source = OdooSource(bulk_settings(target))
        result = source.read()
        requests = list(cass.requests)
        played = cass.play_count if not RECORDING else len(requests)
    variants = {v.sku: (p, v) for p in result.products for v in p.variants}
    assert len(variants) == 1000 and len(result.products) == 40
    assert played == len(requests) == source.backend.calls
    assert played <= MAX_CALLS, f"{played} RPC calls for 1,000 variants"
    # what the calls were: login/version/context, fields_get, languages, warehouses, then per page
    methods = Counter(f"{c.model}.{c.method}" for c in recorded_calls(requests))
    assert methods["product.product.fields_get"] == 1
    assert methods["product.template.attribute.value.search_read"] == 1
    # values are the seeded ones
    for sku, (tmpl, spec) in seed_data.expected_variants(version, bulk=True).items():
        product, v = variants[sku]
        assert v.price.amount == spec.price and v.barcode == spec.barcode and v.attributes == spec.attrs
        assert {wh: v.stock[wh].on_hand for wh in seed_data.TEST_WAREHOUSES} == spec.stock
        assert product.translations["fr_FR"]["name"] == tmpl.translations["fr_FR"]["name"]
    assert not result.issues
