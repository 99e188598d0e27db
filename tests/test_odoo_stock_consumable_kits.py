"""Consumable kits on a real Odoo 18: stocked when Odoo counts a storable component, untracked otherwise.

Odoo's documentation advises setting a kit up as a consumable; Odoo still computes its quantities from its
storable components' (a kit with none reads 0).  Before, the reader took every consumable kit as untracked:
no quantity was sent (Elebne then sold it uncounted; Elryan listed a new one at 0).

Recorded on Odoo 18 (``seed_data.setup_consumable_kits``, applied at record time; mrp installed): CT-CKIT =
2 x CT-CK-S (storable) + 1 x CT-CK-C (consumable), CT-CKIT-NONE (consumables only), CT-CKIT2 and CT-CKIT2-NONE
(kits of each), a storable kit CT-CKIT-ST, stock in CT-CK-S only and one CT-CKIT sold from WH.  Two cassettes:
a full read, then Odoo's own numbers per target; (recording only: ``seed_data.change_consumable_kits``, an
inventory adjustment of CT-CK-S in WH) an incremental read, then Odoo's numbers again.  A third one reads
the consumable kits alone (a page without stocked products).  16 and 19 are not recorded (docs/odoo.md).

A database of its own (installing mrp changes every later page read): http://127.0.0.1:8069, db
``odoo18_ckits``, or ``ODOO18_CKITS_URL`` / ``ODOO18_CKITS_DB``; a fresh one with ``stock`` and
``sale_management`` (mrp is installed by the seed); record with ``ODOO_RECORD=1 ODOO_PASSWORD=...``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connector.model import Product
from connector.sources.base import SourceResult
from connector.sources.odoo import OdooSettings, OdooSource
from connector.sources.odoo.stock import QTY_FIELDS, read_quantities
from connector.sync.runner import SyncOptions, run_sync
from connector.sync.state import StateStore
from connector.sync.stock_policy import StockPolicy
from connector.sync.untracked import STOCK_NOT_TRACKED, untracked_skus
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.odoo_vcr import (
    RECORDING,
    Call,
    Target,
    odoo_cassette,
    odoo_test_env,
    password,
    recorded_calls,
    seed_data,
    settings_kwargs,
)

TARGET = Target(18)
WAREHOUSES = ["WH", "Shop"]
LOCATIONS = ["WH/Stock"]
TRACKED = (*seed_data.CKITS_TRACKED, seed_data.CKIT_STORED)  # the kits Odoo counts stock for
KITS = (*TRACKED, *seed_data.CKITS_UNTRACKED)
URL = os.environ.get("ODOO18_CKITS_URL", "http://127.0.0.1:8069")
DB = os.environ.get("ODOO18_CKITS_DB", "odoo18_ckits")


@dataclass
class Read:
    result: SourceResult
    truth: dict[str, dict[str, dict[str, Any]]]  # target -> SKU -> Odoo's five quantities
    calls: list[Call]  # what the reader sent


def _settings() -> OdooSettings:
    return OdooSettings(**settings_kwargs(TARGET, url=URL, db=DB, warehouses=WAREHOUSES, locations=LOCATIONS,
                                          overlap_seconds=1,
                                          domain=[["categ_id.name", "=", seed_data.CONSU_KIT_CATEG]]))


def _seed_rpc() -> Any:
    return seed_data.Rpc(URL, DB, os.environ.get("ODOO_USER", "admin"), password(TARGET))


def _read(state: StateStore, name: str, full: bool, ids: dict[int, str]) -> Read:
    """The reader's read, then Odoo's own numbers of ``ids`` (product id -> SKU) per target, in one cassette."""
    with odoo_cassette(TARGET, name) as cass:
        source = OdooSource(_settings())
        result = source.read(state=state, full=full)
        sent = cass.play_count if not RECORDING else len(cass.requests)
        ids = ids or {int(v.ref.ident): v.sku for p in result.products for v in p.variants}
        assert source.backend is not None
        truth = read_quantities(source.backend, sorted(ids), source.stock_targets,
                                {"lang": "en_US", "active_test": False})
        calls = recorded_calls(list(cass.requests)[:sent])
    return Read(result, {t: {ids[pid]: row for pid, row in by_id.items()} for t, by_id in truth.items()}, calls)


@pytest.fixture(scope="module")
def reads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Read, Read]]:
    with odoo_test_env(TARGET):
        if RECORDING:
            seed_data.setup_consumable_kits(_seed_rpc())
            time.sleep(3)  # leave the set-up writes outside the (1 s) overlap window
        state = StateStore.open(tmp_path_factory.mktemp("ckits") / "state.sqlite")
        full = _read(state, "consu_kits_1_full", True, {})
        if RECORDING:
            time.sleep(2)
            seed_data.change_consumable_kits(_seed_rpc())
        ids = {int(v.ref.ident): v.sku for p in full.result.products for v in p.variants}
        inc = _read(state, "consu_kits_2_changes", False, ids)
        state.close()
    yield full, inc


def _variants(result: SourceResult) -> dict[str, tuple[Product, Any]]:
    return {v.sku: (p, v) for p in result.products for v in p.variants}


def _assert_odoos_numbers(read: Read, skus: tuple[str, ...]) -> None:
    raw = {sku: by_target for p in read.result.products for sku, by_target in p.extra.get("stock_raw", {}).items()}
    for target, by_sku in read.truth.items():
        for sku in skus:
            assert {f: raw[sku][target][f] for f in QTY_FIELDS} == {f: by_sku[sku][f] for f in QTY_FIELDS}, \
                (sku, target)


def test_a_consumable_kit_with_a_storable_component_has_odoos_quantities(reads: tuple[Read, Read]) -> None:
    full, _ = reads
    _assert_odoos_numbers(full, (*TRACKED, seed_data.CK_STORABLE))
    variants = _variants(full.result)
    for sku in TRACKED:
        product, v = variants[sku]
        assert product.kind == "stocked" and v.stock_known, sku
    # the numbers are the kit's (else the equality proves little): in WH 9 // 2 = 4 on hand, one sold: 3 free;
    # in Shop 4 // 2 = 2; the kit of a kit (its storable component only inside its kit) follows its kit
    wh, shop = full.truth["WH"][seed_data.CKIT], full.truth["Shop"][seed_data.CKIT]
    assert (wh["qty_available"], wh["free_qty"], wh["outgoing_qty"], shop["free_qty"]) == (4, 3, 1, 2)
    for sku in seed_data.CKITS_TRACKED:
        stock = variants[sku][1].stock
        assert (stock["WH"].on_hand, stock["WH"].available, stock["Shop"].available) == (4, 3, 2), sku
    assert not [i for i in full.result.issues if i.sku in KITS]  # no "stock only outside the warehouses"


def test_a_consumable_kit_without_storable_component_stays_untracked(reads: tuple[Read, Read]) -> None:
    full, _ = reads
    variants = _variants(full.result)
    for sku in seed_data.CKITS_UNTRACKED:
        assert {f: full.truth[t][sku][f] for t in full.truth for f in QTY_FIELDS} == \
            {f: 0.0 for f in QTY_FIELDS}, sku  # what Odoo itself reads for it
        product, v = variants[sku]
        assert product.kind == "consumable" and not v.stock_known and not v.stock, sku
        assert sku not in product.extra.get("stock_raw", {})
    said = untracked_skus(full.result.products)
    assert {sku: said[sku] for sku in seed_data.CKITS_UNTRACKED} == \
        dict.fromkeys(seed_data.CKITS_UNTRACKED, "consumable kit with no storable component")
    assert said[seed_data.CK_CONSU] == "consumable"  # a consumable that is no kit: as before


def test_the_storable_test_costs_no_call_of_its_own(reads: tuple[Read, Read]) -> None:
    """The page's consumable kits go in the kits' context reads (one per target, one company-wide), whose
    domain keeps those with a storable component: no other call, and the count of docs/odoo.md."""
    full, _ = reads
    page = [c for c in full.calls if c.model == "product.product" and "lst_price" in c.kwargs.get("fields", [])]
    assert len(page) == 1 and "is_kits" in page[0].kwargs["fields"]
    kit_reads = [c for c in full.calls if c.model == "product.product" and c.method == "search_read"
                 and c.kwargs.get("fields") in (QTY_FIELDS, ["qty_available"])]
    assert len(kit_reads) == len(WAREHOUSES) + len(LOCATIONS) + 1
    ids = {int(v.ref.ident) for p in full.result.products for v in p.variants if v.sku in KITS}
    for c in kit_reads:
        assert c.kwargs["domain"][0] == ["id", "in", sorted(ids)] and "variant_bom_ids" in str(c.kwargs["domain"])
    assert {c.model for c in full.calls} <= {"product.product", "stock.warehouse", "stock.location", "stock.quant",
                                             "stock.move"}
    # 7 before the pages + one page (no attribute values: 4 - 1) + the kits' reads; recorded_calls leaves the
    # version, the login and the user context out
    assert len(full.calls) + 3 == 7 + 3 + len(kit_reads)


def test_an_incremental_read_rereads_them_when_a_component_changes(reads: tuple[Read, Read]) -> None:
    _, inc = reads
    read = set(_variants(inc.result))
    assert {*TRACKED, seed_data.CK_STORABLE} <= read
    assert not read & {*seed_data.CKITS_UNTRACKED, seed_data.CK_CONSU2}  # none of their components changed
    _assert_odoos_numbers(inc, (*TRACKED, seed_data.CK_STORABLE))
    ckit = _variants(inc.result)[seed_data.CKIT][1].stock["WH"]
    assert (ckit.on_hand, ckit.available) == (seed_data.CK_STOCK_CHANGED // 2, (seed_data.CK_STOCK_CHANGED - 2) // 2)


def test_elebne_counts_them_or_says_why_not(reads: tuple[Read, Read], fast_elebne_sandbox: SandboxHandle,
                                            tmp_path: Path) -> None:
    full, _ = reads
    opts = SyncOptions(target="elebne", state_path=tmp_path / "state.sqlite", secret=ELEBNE_KEY,
                       base_url=fast_elebne_sandbox.base_url, account="odoo-shop", source_label="odoo18",
                       stock_policy=StockPolicy(locations=tuple(WAREHOUSES)))
    report = run_sync(full.result, opts).report
    remote = fast_elebne_sandbox.products()
    for sku in TRACKED:  # sold counted: Odoo's free quantity in the two warehouses
        assert remote[sku]["quantity"] == sum(int(full.truth[wh][sku]["free_qty"]) for wh in WAREHOUSES), sku
    rows = {r.sku: r for r in report.rows}
    for sku in seed_data.CKITS_UNTRACKED:
        assert remote[sku]["quantity"] is None, sku
        assert rows[sku].code == STOCK_NOT_TRACKED
        assert "stock not tracked in the source (a consumable kit with no storable component)" in rows[sku].reason
    assert all(rows[sku].code is None for sku in TRACKED)


@pytest.mark.usefixtures("reads")  # seeded at record time
def test_a_page_of_consumable_kits_alone_sends_only_the_kits_reads() -> None:
    """No stocked product on the page: no quant or move read, and the kits' reads keep the counted kits."""
    settings = _settings()
    settings.domain = [*settings.domain, ["default_code", "in", [*seed_data.CKITS_TRACKED,
                                                                 *seed_data.CKITS_UNTRACKED]]]
    with odoo_test_env(TARGET), odoo_cassette(TARGET, "consu_kits_alone") as cass:
        result = OdooSource(settings).read()
        calls = recorded_calls(list(cass.requests)[:cass.play_count if not RECORDING else len(cass.requests)])
    variants = _variants(result)
    assert {sku for sku, (p, v) in variants.items() if v.stock_known} == set(seed_data.CKITS_TRACKED)
    assert variants[seed_data.CKIT][1].stock["Shop"].available == 2
    assert not {"stock.quant", "stock.move"} & {c.model for c in calls}
    kit_reads = [c for c in calls if c.model == "product.product" and c.kwargs.get("fields") in
                 (QTY_FIELDS, ["qty_available"])]
    assert len(kit_reads) == len(WAREHOUSES) + len(LOCATIONS) + 1
    assert all(c.kwargs["domain"][1] == "|" and "variant_bom_ids" in str(c.kwargs["domain"][2]) for c in kit_reads)
