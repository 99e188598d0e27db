"""Odoo 19 read over JSON-2 and over JSON-RPC: the same reading.  Both backends were recorded on the same
database, one after the other (``cassettes/odoo19/<name>.yaml`` and ``<name>_json2.yaml``); whatever the wire,
the connector must make the same products, variants, values, stock, rows and issues of them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connector.sources.base import SourceResult
from connector.sources.odoo import OdooSettings, OdooSource
from tests.odoo_vcr import JSON2, RECORDING, TARGETS, Target, block_network, odoo_cassette, password, password_var
from tests.test_odoo_bulk import bulk_settings
from tests.test_odoo_catalogue import catalogue_settings
from tests.test_odoo_incremental import incremental_settings
from tests.test_odoo_incremental_edges import edge_settings
from tests.test_odoo_stock_grouped import grouped_settings
from tests.test_odoo_stock_kits import kits_settings

READS: dict[str, Callable[[Target], OdooSettings]] = {
    "catalogue_full": catalogue_settings, "bulk_1000": bulk_settings, "stock_grouped": grouped_settings,
    "stock_kits": kits_settings, "incremental_1_full": incremental_settings, "edge_1_full": edge_settings}
JSON2_VERSIONS = [t.version for t in TARGETS if t.json2]


def replayed_read(target: Target, name: str) -> SourceResult:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(password_var(target), password(target))
        block_network(mp)
        with odoo_cassette(target, name):
            return OdooSource(READS[name](target)).read()


@pytest.mark.skipif(RECORDING, reason="compares two recordings")
@pytest.mark.parametrize("version", JSON2_VERSIONS, ids=lambda v: f"odoo{v}")
@pytest.mark.parametrize("name", list(READS))
def test_json2_reads_what_jsonrpc_reads(name: str, version: int) -> None:
    rpc, json2 = replayed_read(Target(version), name), replayed_read(Target(version, JSON2), name)
    assert sum(len(p.variants) for p in json2.products) >= 4
    assert [p.key for p in json2.products] == [p.key for p in rpc.products]
    for a, b in zip(json2.products, rpc.products, strict=True):
        assert a == b, a.key
    assert json2.rows == rpc.rows
    assert [(i.sku, i.severity, i.reason) for i in json2.issues] == [(i.sku, i.severity, i.reason) for i in rpc.issues]
    assert json2.provided_fields == rpc.provided_fields
