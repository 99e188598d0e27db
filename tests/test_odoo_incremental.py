"""Incremental runs: an inventory adjustment (no write on the product) is picked up by the next run.

Recorded as a sequence: full read -> (recording only: an inventory adjustment on CT-INC, done by the seed
fixture over RPC, outside the cassettes) -> incremental read.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from connector.sources.odoo import OdooSettings, OdooSource
from connector.sync.state import StateStore
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
    seed_rpc,
    settings_kwargs,
)

DOMAIN = ["|", ["categ_id.complete_name", "=like", "Connector Test%"], ["categ_id.name", "=", "Connector Inc"]]


def incremental_settings(version: int | Target) -> OdooSettings:
    return OdooSettings(**settings_kwargs(version, warehouses=seed_data.TEST_WAREHOUSES, domain=DOMAIN,
                                          overlap_seconds=1))


@pytest.mark.parametrize("version", TARGETS, ids=lambda t: t.id)
def test_inventory_adjustment_is_picked_up(version: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(password_var(version), password(version))
    if RECORDING:
        rpc = seed_rpc(version)
        seed_data.set_inc_quantity(rpc, seed_data.INC_BEFORE)
        time.sleep(3)  # leave the set-up adjustment outside the (1 s) overlap window
    else:
        block_network(monkeypatch)
    state = StateStore.open(tmp_path / "state.sqlite")
    source_key = f"odoo:{incremental_settings(version).db}"
    with odoo_cassette(version, "incremental_1_full") as cass:
        full = OdooSource(incremental_settings(version)).read(state=state, full=True)
        full_calls = len(cass.requests)
    cursor = state.get_cursor(source_key, "products")
    assert cursor and cursor.endswith("Z")
    before = {v.sku: v for p in full.products for v in p.variants}
    assert before[seed_data.INC_SKU].stock["WH"].on_hand == seed_data.INC_BEFORE
    assert len(before) > 60  # the whole catalogue

    if RECORDING:
        time.sleep(2)
        seed_data.set_inc_quantity(rpc, seed_data.INC_AFTER)  # stock.quant + done stock.move; no product write

    with odoo_cassette(version, "incremental_2_changes") as cass:
        source = OdooSource(incremental_settings(version))
        inc = source.read(state=state, full=False)
        requests = list(cass.requests)
    after = {v.sku: v for p in inc.products for v in p.variants}
    assert set(after) == {seed_data.INC_SKU}  # only the product whose stock changed
    assert after[seed_data.INC_SKU].stock["WH"].on_hand == seed_data.INC_AFTER
    assert after[seed_data.INC_SKU].stock["WH"].available == seed_data.INC_AFTER
    # the change query watches product, template, stock moves and quants since cursor - overlap
    change_query = [c for c in recorded_calls(requests) if c.kwargs.get("fields") == ["product_tmpl_id"]]
    assert len(change_query) == 1
    domain = json.dumps(change_query[0].kwargs["domain"])
    for probe in ('"write_date"', '"product_tmpl_id.write_date"', '"stock_move_ids.write_date"',
                  '"stock_quant_ids.write_date"'):
        assert probe in domain
    assert len(requests) <= full_calls + 1
    assert state.get_cursor(source_key, "products") >= cursor
    state.close()


@pytest.mark.parametrize("version", TARGETS, ids=lambda t: t.id)
def test_incremental_without_cursor_is_a_full_read(version: Target, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """First run of a cron job: no cursor yet, so everything is read (replays the full-read cassette)."""
    if RECORDING:
        pytest.skip("replay only: shares the full-read cassette recorded above")
    monkeypatch.setenv(password_var(version), password(version))
    block_network(monkeypatch)
    state = StateStore.open(tmp_path / "state.sqlite")
    with odoo_cassette(version, "incremental_1_full"):
        result = OdooSource(incremental_settings(version)).read(state=state, full=False)
    assert len({v.sku for p in result.products for v in p.variants}) > 60
    state.close()
