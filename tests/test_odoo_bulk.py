"""1,000 variants with stock in two warehouses and two languages: O(pages) RPC calls, asserted on the
recorded requests."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from connector.sources.odoo import OdooSettings, OdooSource
from tests.odoo_vcr import RECORDING, VERSIONS, block_network, odoo_cassette, password, seed_data, settings_kwargs

MAX_CALLS = 15
BULK_DOMAIN = [["categ_id.name", "=", seed_data.BULK_CATEG]]


def bulk_settings(version: int) -> OdooSettings:
    return OdooSettings(**settings_kwargs(version, languages=["fr_FR", "ar_001"],
                                          warehouses=seed_data.TEST_WAREHOUSES,
                                          image_base_url="https://shop.example.com", domain=BULK_DOMAIN))


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_thousand_variants_in_at_most_15_calls(version: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"CONNECTOR_TEST_ODOO{version}_PASSWORD", password(version))
    block_network(monkeypatch)
    with odoo_cassette(version, "bulk_1000") as cass:
        source = OdooSource(bulk_settings(version))
        result = source.read()
        requests = list(cass.requests)
        played = cass.play_count if not RECORDING else len(requests)
    variants = {v.sku: (p, v) for p in result.products for v in p.variants}
    assert len(variants) == 1000 and len(result.products) == 40
    assert played == len(requests) == source.backend.calls
    assert played <= MAX_CALLS, f"{played} RPC calls for 1,000 variants"
    # what the calls were: login/version/context, fields_get, languages, warehouses, then per page
    methods = Counter()
    for r in requests:
        params = json.loads(r.body)["params"]
        if params.get("method") == "execute_kw":
            methods[f"{params['args'][3]}.{params['args'][4]}"] += 1
        else:
            methods[r.path] += 1
    assert methods["product.product.fields_get"] == 1
    assert methods["product.template.attribute.value.search_read"] == 1
    # values are the seeded ones
    for sku, (tmpl, spec) in seed_data.expected_variants(version, bulk=True).items():
        product, v = variants[sku]
        assert v.price.amount == spec.price and v.barcode == spec.barcode and v.attributes == spec.attrs
        assert {wh: v.stock[wh].on_hand for wh in seed_data.TEST_WAREHOUSES} == spec.stock
        assert product.translations["fr_FR"]["name"] == tmpl.translations["fr_FR"]["name"]
    assert not result.issues
