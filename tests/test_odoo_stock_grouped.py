"""Differential test of the grouped stock reads (16, 18 and 19, 19 over JSON-RPC and over JSON-2): every stocked
variant's five quantities per warehouse and per location, and its company-wide on-hand, equal what Odoo itself
computes for the per-warehouse (``warehouse`` / ``warehouse_id``) and per-location (``location``) contexts.

Recorded on each server in one cassette: the reader's full read (grouped), then the truth read with one
context per target, as the reader sent it before.  The catalogue covers a reservation (the sale order), an
incoming receipt, negative stock, stock only in an unconfigured warehouse, and (``seed_data.setup_stock_diff``,
applied at record time) stock in two locations of one warehouse, a delivery reserving across both, a transfer
between warehouses and a fractional quantity in kg.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from connector.sources.base import SourceResult
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

DOMAIN = ["|", ["categ_id.complete_name", "=like", "Connector Test%"], ["categ_id.name", "=", seed_data.DIFF_CATEG]]
WAREHOUSES = list(seed_data.WAREHOUSES)  # WH, Shop and Depot
SHELF = f"WH/Stock/{seed_data.DIFF_SHELF}"
LOCATIONS = ["WH/Stock", SHELF]
CONTEXT_KEYS = {"warehouse", "warehouse_id", "location"}


@dataclass
class Diff:
    target: Target
    result: SourceResult
    source: OdooSource
    truth: dict[str, dict[int, dict[str, Any]]]  # target -> product id -> the five quantities, Odoo's own
    company: dict[int, dict[str, Any]]  # product id -> company-wide qty_available (no context)
    company_grouped: dict[int, float]  # product id -> the grouped reads' company-wide on hand
    calls: list[Call]  # what the reader's read sent
    truth_calls: list[Call]

    @property
    def version(self) -> int:
        return self.target.version


def grouped_settings(target: Target) -> OdooSettings:
    return OdooSettings(**settings_kwargs(target, warehouses=WAREHOUSES, locations=LOCATIONS, domain=DOMAIN))


@pytest.fixture(scope="module", params=TARGETS, ids=lambda t: t.id)
def diff(request: pytest.FixtureRequest) -> Iterator[Diff]:
    target = request.param
    version = target.version
    with odoo_test_env(target, seed_data.setup_stock_diff):
        settings = grouped_settings(target)
        with odoo_cassette(target, "stock_grouped") as cass:
            source = OdooSource(settings)
            result = source.read()
            sent = cass.play_count if not RECORDING else len(cass.requests)
            backend, grouped = source.backend, source.grouped_stock
            assert backend is not None and grouped is not None, f"{version} reads stock with grouped reads"
            ctx = {"lang": "en_US", "active_test": False, **({"tz": backend.user_context["tz"]}
                                                             if backend.user_context.get("tz") else {})}
            ids = sorted(int(v.ref.ident) for p in result.products for v in p.variants if v.stock_known)
            targets = source.stock_targets
            truth = read_quantities(backend, ids, targets, ctx)
            company = {r["id"]: r for r in backend.search_read("product.product", [("id", "in", ids)],
                                                               ["qty_available"], context=ctx)}
            rows = backend.search_read("product.product", [("id", "in", ids)], ["id", "uom_id"], context=ctx)
            _, company_grouped = grouped.read(backend, rows, ctx)
            requests = list(cass.requests)
        yield Diff(target, result, source, truth, company, company_grouped, recorded_calls(requests[:sent]),
                   recorded_calls(requests[sent:]))


def _by_id(diff: Diff) -> dict[int, tuple[str, dict[str, dict[str, Any]]]]:
    out = {}
    for p in diff.result.products:
        for v in p.variants:
            if v.stock_known:
                out[int(v.ref.ident)] = (v.sku, p.extra["stock_raw"][v.sku])
    return out


def test_the_five_quantities_equal_odoos_per_target_context_reads(diff: Diff) -> None:
    got = _by_id(diff)
    assert set(diff.truth) == set(WAREHOUSES) | set(LOCATIONS)
    assert len(got) > 60
    for target, by_id in diff.truth.items():
        assert set(by_id) == set(got), target
        for pid, truth in by_id.items():
            sku, raw = got[pid]
            assert {f: raw[target][f] for f in QTY_FIELDS} == {f: truth[f] for f in QTY_FIELDS}, (sku, target)


def test_company_wide_on_hand_equals_odoos_total(diff: Diff) -> None:
    assert diff.company_grouped.keys() <= diff.company.keys()
    for pid, row in diff.company.items():
        assert diff.company_grouped.get(pid, 0.0) == row["qty_available"], pid


def test_the_catalogue_exercises_what_a_sum_can_get_wrong(diff: Diff) -> None:
    """The cases are really there, in Odoo's own numbers (else the equality above proves little)."""
    sku_of = {pid: sku for pid, (sku, _) in _by_id(diff).items()}
    truth = {t: {sku_of[pid]: q for pid, q in by_id.items()} for t, by_id in diff.truth.items()}
    q = seed_data.DIFF_QTY
    d = truth["WH"][seed_data.DIFF_SKU]
    out = seed_data.DIFF_OUT_QTY + seed_data.DIFF_MOVE_QTY + _final_qty(diff)
    assert d["qty_available"] == q["WH"] + q["shelf"]  # two locations of one warehouse
    assert d["free_qty"] == q["WH"] + q["shelf"] - out  # reserved across both
    assert d["outgoing_qty"] == out  # on 18+ also the move to the shelf on its way to the customers
    assert truth["Shop"][seed_data.DIFF_SKU]["incoming_qty"] == seed_data.DIFF_MOVE_QTY  # between warehouses
    assert truth[SHELF][seed_data.DIFF_SKU]["qty_available"] == q["shelf"]  # a child location alone
    assert truth["WH/Stock"][seed_data.DIFF_SKU]["qty_available"] == q["WH"] + q["shelf"]  # its parent
    assert truth["WH"][seed_data.DIFF_KG_SKU]["qty_available"] == seed_data.DIFF_KG_QTY  # a fraction
    assert truth["WH"][seed_data.SO_SKU]["free_qty"] < truth["WH"][seed_data.SO_SKU]["qty_available"]
    assert truth["WH"][seed_data.RECEIPT_SKU]["incoming_qty"] == seed_data.RECEIPT_QTY
    assert truth["WH"]["CT-NEG"]["qty_available"] < 0


def _final_qty(diff: Diff) -> float:
    """18 and 19: the move inside WH whose ``location_final_id`` is the customers (see ``setup_stock_diff``)."""
    return seed_data.DIFF_FINAL_QTY if diff.version >= 18 else 0.0


def test_listed_levels_follow_the_grouped_numbers(diff: Diff) -> None:
    got = {v.sku: v for p in diff.result.products for v in p.variants}
    kg = got[seed_data.DIFF_KG_SKU].stock["WH"]
    assert (kg.on_hand, kg.available) == (2, 2)  # 2.5 kg rounded down
    d = got[seed_data.DIFF_SKU].stock
    reserved = 6 + int(_final_qty(diff))
    assert (d["WH"].on_hand, d["WH"].available, d["WH"].reserved) == (7, 7 - reserved, reserved)
    assert d["Shop"].incoming == 1 and d[SHELF].on_hand == 3


def test_grouped_reads_send_no_context_key_and_the_truth_reads_the_versions_key(diff: Diff) -> None:
    """A wrong key is silently ignored by Odoo (company totals come back): the grouped reads use none, and
    the context reads they are compared with use the key of the version (the reader's path on 17 and 19)."""
    assert diff.calls and diff.truth_calls
    for c in diff.calls:
        assert not CONTEXT_KEYS & set(c.kwargs.get("context", {})), (c.model, c.method)
    models = [c.model for c in diff.calls]
    assert models.count("stock.quant") == models.count("stock.move") == 1
    good = "warehouse" if diff.version == 16 else "warehouse_id"
    contexts = [c.kwargs["context"] for c in diff.truth_calls if "virtual_available" in c.kwargs.get("fields", [])]
    assert len(contexts) == len(WAREHOUSES) + len(LOCATIONS)
    assert sum(good in c for c in contexts) == len(WAREHOUSES)
    assert sum("location" in c for c in contexts) == len(LOCATIONS)
    assert not any(({"warehouse", "warehouse_id"} - {good}) & set(c) for c in contexts)
