"""Kits (mrp's bills of materials of type kit) on real Odoo 16, 18 and 19: their stock is their components'.

A kit has no quants or moves of its own; Odoo computes its five quantities from its components' (mrp overrides
``_compute_quantities_dict``).  The grouped reads sum quants and moves, so they would list every kit at 0: the
page read asks for ``is_kits`` (mrp's own test) and a page's kits are read with Odoo's context reads.

Recorded on 16, 18 and 19 (19 over JSON-RPC and over JSON-2) with mrp installed (``seed_data.setup_kits``,
applied at record time): CT-KIT = 2 x CT-KIT-A + 1 x CT-KIT-B, CT-KIT2 = 1 x CT-KIT + 1 x CT-KIT-A (a kit of a
kit), stock in the components only, and one CT-KIT sold from WH.  One cassette: the reader's read, then Odoo's
own numbers per target.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from connector.model import Product
from connector.sources.odoo import OdooSettings, OdooSource
from connector.sources.odoo.stock import QTY_FIELDS, read_quantities
from tests.odoo_vcr import (
    RECORDING,
    TARGETS,
    Call,
    Target,
    odoo_cassette,
    odoo_test_env,
    recorded_calls,
    seed_data,
    settings_kwargs,
)

WAREHOUSES = ["WH", "Shop"]
LOCATIONS = ["WH/Stock"]
KITS = (seed_data.KIT_SKU, seed_data.KIT2_SKU)


@dataclass
class Kits:
    products: list[Product]
    truth: dict[str, dict[str, dict[str, Any]]]  # target -> SKU -> Odoo's five quantities
    company: dict[str, float]  # SKU -> Odoo's company-wide on hand
    company_grouped: dict[str, float]  # SKU -> the grouped reads' company-wide on hand
    calls: list[Call]  # what the reader sent


def kits_settings(target: Target) -> OdooSettings:
    return OdooSettings(**settings_kwargs(target, warehouses=WAREHOUSES, locations=LOCATIONS,
                                          domain=[["categ_id.name", "=", seed_data.KIT_CATEG]]))


@pytest.fixture(scope="module", params=TARGETS, ids=lambda t: t.id)
def kits(request: pytest.FixtureRequest) -> Iterator[Kits]:
    VERSION = request.param
    with odoo_test_env(VERSION, seed_data.setup_kits):
        settings = kits_settings(VERSION)
        with odoo_cassette(VERSION, "stock_kits") as cass:
            source = OdooSource(settings)
            result = source.read()
            assert source.grouped_stock is not None and source.backend is not None, f"{VERSION} reads stock grouped"
            sent = cass.play_count if not RECORDING else len(cass.requests)
            backend = source.backend
            ctx = {"lang": "en_US", "active_test": False, **({"tz": backend.user_context["tz"]}
                                                             if backend.user_context.get("tz") else {})}
            sku_of = {int(v.ref.ident): v.sku for p in result.products for v in p.variants}
            truth = read_quantities(backend, sorted(sku_of), source.stock_targets, ctx)
            company = backend.search_read("product.product", [("id", "in", sorted(sku_of))], ["qty_available"],
                                          context=ctx)
            rows = backend.search_read("product.product", [("id", "in", sorted(sku_of))], ["id", "uom_id", "is_kits"],
                                       context=ctx)
            _, company_grouped = source.grouped_stock.read(backend, rows, ctx)
            calls = recorded_calls(list(cass.requests)[:sent])
        yield Kits(result.products,
                   {t: {sku_of[pid]: row for pid, row in by_id.items()} for t, by_id in truth.items()},
                   {sku_of[r["id"]]: r["qty_available"] for r in company},
                   {sku_of[pid]: q for pid, q in company_grouped.items()}, calls)


def _raw(kits: Kits) -> dict[str, dict[str, dict[str, Any]]]:
    return {sku: by_target for p in kits.products for sku, by_target in p.extra["stock_raw"].items()}


def test_every_quantity_equals_odoos_kits_included(kits: Kits) -> None:
    raw = _raw(kits)
    assert set(raw) == {*KITS, seed_data.KIT_A, seed_data.KIT_B}
    for target, by_sku in kits.truth.items():
        for sku, truth in by_sku.items():
            assert {f: raw[sku][target][f] for f in QTY_FIELDS} == {f: truth[f] for f in QTY_FIELDS}, (sku, target)


def test_the_kits_have_their_components_stock(kits: Kits) -> None:
    """The numbers are kits' (else the equality above proves little): on hand in WH min(10 / 2, 3 / 1) = 3, one
    sold (its components reserved): 2 free; in Shop min(4 / 2, 7 / 1) = 2; the kit of a kit follows its kit."""
    wh, shop = kits.truth["WH"][seed_data.KIT_SKU], kits.truth["Shop"][seed_data.KIT_SKU]
    assert (wh["qty_available"], wh["free_qty"], wh["outgoing_qty"]) == (3, 2, 1)
    assert shop["qty_available"] == shop["free_qty"] == 2
    assert kits.truth["WH"][seed_data.KIT2_SKU]["free_qty"] == 2
    levels = {v.sku: v.stock for p in kits.products for v in p.variants}
    assert (levels[seed_data.KIT_SKU]["WH"].on_hand, levels[seed_data.KIT_SKU]["WH"].available) == (3, 2)
    assert levels[seed_data.KIT_SKU]["Shop"].available == 2 and levels[seed_data.KIT2_SKU]["WH"].available == 2


def test_the_company_wide_on_hand_of_a_kit_is_odoos(kits: Kits) -> None:
    """What the "stock only outside the configured warehouses" warning compares with."""
    assert kits.company[seed_data.KIT_SKU] == 7  # of the components' totals: min((10 + 4) / 2, (3 + 7) / 1)
    for sku, qty in kits.company.items():
        assert kits.company_grouped.get(sku, 0.0) == qty, sku


def test_only_a_page_with_kits_costs_context_reads(kits: Kits) -> None:
    calls = [(c.model, c.method, c.kwargs) for c in kits.calls]
    page = [kw for (model, method, kw) in calls if (model, method) == ("product.product", "search_read")
            and "lst_price" in kw.get("fields", [])]
    assert page and all("is_kits" in kw["fields"] for kw in page)
    context_reads = [kw for (model, method, kw) in calls if (model, method) == ("product.product", "search_read")
                     and "virtual_available" in kw.get("fields", [])]
    assert len(context_reads) == len(WAREHOUSES) + len(LOCATIONS)  # one per target, for the page's kits only
    kit_ids = {tuple(kw["domain"][0][2]) for kw in context_reads}
    assert len(kit_ids) == 1 and len(next(iter(kit_ids))) == len(KITS)
