"""Replayed full reads of the seeded catalogue on Odoo 16, 18 and 19 (19 over JSON-RPC and over JSON-2): values
equal what the seed fixture set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from connector.model import Money, Product, Variant
from connector.sources.base import SourceResult
from connector.sources.odoo import OdooSettings, OdooSource
from tests.odoo_vcr import (
    PLACEHOLDER,
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

LANGS = ["fr_FR", "ar_001"]
CATALOGUE_DOMAIN = [["categ_id.complete_name", "=like", "Connector Test%"]]


@dataclass
class Read:
    target: Target
    result: SourceResult
    source: OdooSource
    requests: list[Any]
    play_count: int

    @property
    def version(self) -> int:
        return self.target.version

    def variants(self) -> dict[str, tuple[Product, Variant]]:
        return {v.sku: (p, v) for p in self.result.products for v in p.variants}


def catalogue_settings(target: Target) -> OdooSettings:
    return OdooSettings(**settings_kwargs(target, languages=LANGS, warehouses=seed_data.TEST_WAREHOUSES,
                                          image_base_url="https://shop.example.com", domain=CATALOGUE_DOMAIN))


@pytest.fixture(scope="module", params=TARGETS, ids=lambda t: t.id)
def catalogue(request: pytest.FixtureRequest) -> Iterator[Read]:
    target = request.param
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(password_var(target), password(target))
        block_network(mp)
        with odoo_cassette(target, "catalogue_full") as cass:
            source = OdooSource(catalogue_settings(target))
            result = source.read()
            yield Read(target, result, source, list(cass.requests), cass.play_count if not RECORDING else
                       len(cass.requests))


def test_skus_are_exactly_the_seeded_ones(catalogue: Read) -> None:
    expected = {sku for sku in seed_data.expected_variants(catalogue.version) if sku != seed_data.INC_SKU}
    assert set(catalogue.variants()) == expected


def test_prices_costs_barcodes_weights_attributes(catalogue: Read) -> None:
    got = catalogue.variants()
    for sku, (tmpl, spec) in seed_data.expected_variants(catalogue.version).items():
        if sku == seed_data.INC_SKU:
            continue
        product, v = got[sku]
        assert v.price == Money(spec.price, seed_data.CURRENCY), sku
        assert isinstance(v.price.amount, Decimal)
        assert v.cost == Money(spec.cost, seed_data.CURRENCY), sku
        assert v.barcode == spec.barcode, sku
        assert v.weight == spec.weight, sku
        assert v.attributes == spec.attrs, sku
        assert v.hs_code == tmpl.hs_code, sku
        assert product.category_path == tmpl.categ, sku
        assert product.kind == tmpl.kind, sku
        assert product.name == tmpl.name, sku


def test_lst_price_includes_the_attribute_extra(catalogue: Read) -> None:
    got = catalogue.variants()
    assert got["CT-TEE-03-L-RED"][1].price.amount == Decimal("24.40")  # 22.90 + 1.50 for size L
    assert got["CT-TEE-03-M-RED"][1].price.amount == Decimal("22.90")


def test_translations_and_missing_ones(catalogue: Read) -> None:
    got = catalogue.variants()
    for _sku, (tmpl, spec) in seed_data.expected_variants(catalogue.version).items():
        if spec.sku == seed_data.INC_SKU:
            continue
        product = got[spec.sku][0]
        want = {lang: {k: v for k, v in tr.items()} for lang, tr in tmpl.translations.items()}
        assert product.translations == want, spec.sku
    missing = {(i.value, i.reason.split(" translation")[0].split()[-1]) for i in catalogue.result.issues
               if "translation" in i.reason}
    assert ("Home item 20", "fr_FR") in missing and ("Home item 20", "ar_001") in missing
    assert (seed_data.LONG_NAME, "fr_FR") in missing


def test_missing_translation_warnings_say_language_field_and_what_is_sent(catalogue: Read) -> None:
    said = [i for i in catalogue.result.issues if "translation" in i.reason]
    home = [i.reason for i in said if i.value == "Home item 20" and i.column == "name"]
    assert sorted(home) == [
        f"product 'CT-HOME-20': its {lang} name reads the same as its en_US one, as Odoo answers (with the en_US "
        f"text) where no {lang} translation was written: taken as missing, it is not sent as {lang}; the product "
        f"has no other {lang} text, so nothing of it is sent in {lang}" for lang in ("ar_001", "fr_FR")]
    assert all(i.severity == "warning" and i.sheet == "product.template" for i in said)


def test_a_missing_translation_beside_a_sent_one_says_what_goes_in_its_place() -> None:
    from connector.sources.odoo.reader import _untranslated

    assert _untranslated("tmpl-7", "name", "fr_FR", "en_US", {"description": "Doux"}) == (
        "product 'tmpl-7': its fr_FR name reads the same as its en_US one, as Odoo answers (with the en_US text) "
        "where no fr_FR translation was written: taken as missing, it is not sent as fr_FR; its fr_FR sales "
        "description is sent, and with it the default mappings send its en_US name as the fr_FR one (Elryan)")


def test_long_emoji_rtl_name_round_trips(catalogue: Read) -> None:
    product = catalogue.variants()["CT-LONG"][0]
    assert product.name == seed_data.LONG_NAME and len(product.name) == 300


def test_per_warehouse_quantities(catalogue: Read) -> None:
    got = catalogue.variants()
    for sku, (tmpl, spec) in seed_data.expected_variants(catalogue.version).items():
        if sku == seed_data.INC_SKU:
            continue
        v = got[sku][1]
        if tmpl.kind != "stocked":
            assert v.stock == {} and v.stock_known is False, sku
            continue
        assert v.stock_known is True
        assert set(v.stock) == set(seed_data.TEST_WAREHOUSES)
        for wh in seed_data.TEST_WAREHOUSES:
            level = v.stock[wh]
            want = seed_data.expected_stock(spec, wh)
            assert (level.on_hand, level.available, level.reserved, level.incoming) == (
                want["on_hand"], want["available"], want["reserved"], want["incoming"]), (sku, wh)
    # the sale order reserves 2 in WH, the receipt brings 10 into WH
    assert got[seed_data.SO_SKU][1].stock["WH"].reserved == seed_data.SO_QTY
    assert got[seed_data.RECEIPT_SKU][1].stock["WH"].incoming == seed_data.RECEIPT_QTY


def test_archived_variant_and_archived_template(catalogue: Read) -> None:
    got = catalogue.variants()
    product, variant = got["CT-TEE-01-L-BLU"]
    assert variant.active is False and product.active is True
    assert all(v.active for v in product.variants if v.sku != "CT-TEE-01-L-BLU")
    arch, arch_v = got["CT-ARCH"]
    assert arch.active is False and arch_v.active is False


def test_kinds_services_combos_consumables_carry_no_stock(catalogue: Read) -> None:
    got = catalogue.variants()
    assert got["CT-SVC"][0].kind == "service"
    assert got["CT-CONSU"][0].kind == "consumable"
    if catalogue.version >= 18:
        assert got["CT-COMBO"][0].kind == "combo"
    else:
        assert "CT-COMBO" not in got
    for sku in ("CT-SVC", "CT-CONSU", "CT-COMBO"):
        if sku in got:
            assert got[sku][1].stock == {} and not got[sku][1].stock_known


def test_product_keys_and_grouping(catalogue: Read) -> None:
    got = catalogue.variants()
    tee = got["CT-TEE-01-S-RED"][0]
    assert tee.key.startswith("tmpl-") and len(tee.variants) == 6  # archived variant included, disabled
    assert got["CT-HOME-01"][0].key == "CT-HOME-01"
    tee2 = got["CT-TEE-02-S-RED"][0]
    assert len(tee2.variants) == 5  # the variant without SKU is skipped


def test_images_are_urls_only_where_odoo_has_an_image(catalogue: Read) -> None:
    got = catalogue.variants()
    tee, v = got["CT-TEE-01-M-BLU"]
    assert tee.images == [f"https://shop.example.com/web/image/product.template/{tee.extra['odoo_template_id']}"
                          "/image_1920"]
    assert v.images == [f"https://shop.example.com/web/image/product.product/{v.ref.ident}/image_1920"]
    assert got["CT-TEE-01-S-RED"][1].images  # falls back to the template image
    assert got["CT-HOME-01"][0].images == [] and got["CT-HOME-01"][1].images == []


def test_data_problems_are_issues(catalogue: Read) -> None:
    issues = catalogue.result.issues
    reasons = [i.reason for i in issues]
    dup = [i for i in issues if i.sku == "CT-DUP"]
    assert dup and dup[0].severity == "error" and "duplicate SKU" in dup[0].reason
    assert "CT-DUP" not in catalogue.variants()
    no_sku = [r for r in catalogue.result.rows if r.sku is None]
    assert len(no_sku) == 1 and "no Internal Reference" in (no_sku[0].skipped_reason or "")
    assert any("negative stock for CT-NEG in WH" in r for r in reasons)
    assert catalogue.variants()["CT-NEG"][1].stock["WH"].on_hand == -3
    assert any("CT-DEPOT" in r and "outside the configured warehouses" in r for r in reasons)
    skipped = {r.skipped_reason is not None for r in catalogue.result.rows}
    assert skipped == {True, False}


def _bodies(read: Read) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in read.requests if r.body]


def test_stock_context_key_matches_the_version(catalogue: Read) -> None:
    """A wrong key is silently ignored by Odoo (company totals come back): assert what was sent.  16, 18
    and 19 read every warehouse's stock with two grouped reads that need no context key at all (summed per
    warehouse in ``stock.py``; the key each version honours is asserted where it is still sent, in the differential test
    ``tests/test_odoo_stock_grouped.py`` that holds the grouped numbers against the context reads)."""
    calls = recorded_calls(catalogue.requests)
    assert calls
    assert not any({"warehouse", "warehouse_id", "location"} & set(c.kwargs.get("context", {})) for c in calls)
    stock_reads = [c.model for c in calls if c.model in ("stock.quant", "stock.move")]
    assert sorted(stock_reads) == ["stock.move", "stock.quant"]  # one page: one of each, for both warehouses
    assert not any(c.model == "product.product" and "virtual_available" in c.kwargs.get("fields", []) for c in calls)


def test_per_warehouse_values_differ_from_company_totals(catalogue: Read) -> None:
    raw = catalogue.variants()
    product = raw[seed_data.SO_SKU][0]
    per_wh = product.extra["stock_raw"][seed_data.SO_SKU]
    spec = seed_data.expected_variants(catalogue.version)[seed_data.SO_SKU][1]
    assert per_wh["WH"]["qty_available"] == spec.stock["WH"]
    assert per_wh["Shop"]["qty_available"] == spec.stock["Shop"]
    assert spec.stock["WH"] != spec.stock["WH"] + spec.stock["Shop"]  # the fixture makes them differ


def test_reading_is_o_pages(catalogue: Read) -> None:
    assert catalogue.play_count == catalogue.source.backend.calls == len(catalogue.requests)
    assert catalogue.play_count <= 15


def test_no_password_in_requests(catalogue: Read) -> None:
    for r in catalogue.requests:
        assert not {h.lower() for h in r.headers} & {"authorization", "cookie"}  # JSON-2's bearer key
    for b in _bodies(catalogue):
        params = b.get("params", {})
        if params.get("service") == "object":
            assert params["args"][2] == PLACEHOLDER

