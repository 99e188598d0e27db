"""Recorded Odoo (16, 18, 19) catalogue with an archived template (CT-ARCH) and an archived variant of an active
template (CT-TEE-01-L-BLU): neither is created on a marketplace that never listed it (connector/sync/archived.py);
the rows say why, nothing needs attention, and the next run sends nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.sync.archived import ARCHIVED_NOT_LISTED
from connector.sync.report import SKIPPED, RunReport
from connector.sync.runner import SyncOptions, run_sync
from connector.sync.stock_policy import StockPolicy
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.odoo_vcr import VERSIONS, seed_data
from tests.test_elryan_sync import DEFAULTS, WRITES, Elryan, elryan  # noqa: F401 - the fixture
from tests.test_odoo_to_elebne_e2e import read_recorded

pytestmark = pytest.mark.sandbox

ARCHIVED_TEMPLATE, ARCHIVED_VARIANT = "CT-ARCH", "CT-TEE-01-L-BLU"


def assert_left_out(report: RunReport, title: str) -> None:
    rows = {r.sku: r for r in report.rows}
    for sku in (ARCHIVED_TEMPLATE, ARCHIVED_VARIANT):
        row = rows[sku]
        assert (row.status, row.code, row.attention) == (SKIPPED, ARCHIVED_NOT_LISTED, False), row
        assert row.reason == f"archived in the source and never listed on {title}: not created"
        assert row.actions == []


def elebne_opts(version: int, sandbox: SandboxHandle, tmp_path: Path, **settings: object) -> SyncOptions:
    return SyncOptions(target="elebne", state_path=tmp_path / "state.sqlite", secret=ELEBNE_KEY,
                       base_url=sandbox.base_url, account="odoo-shop", source_label=f"odoo{version}",
                       stock_policy=StockPolicy(locations=tuple(seed_data.TEST_WAREHOUSES)), settings=dict(settings))


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_archived_odoo_products_are_not_created_on_elebne(version: int, fast_elebne_sandbox: SandboxHandle,
                                                          tmp_path: Path) -> None:
    source = read_recorded(version)
    opts = elebne_opts(version, fast_elebne_sandbox, tmp_path)
    report = run_sync(source, opts).report
    remote = fast_elebne_sandbox.products()
    assert ARCHIVED_TEMPLATE not in remote
    created = [r for r in fast_elebne_sandbox.writes() if r["method"] == "POST"]
    assert created and all(ARCHIVED_TEMPLATE not in str(r.get("body")) for r in created)
    tee = next(p for p in source.products if any(v.sku == ARCHIVED_VARIANT for v in p.variants))
    skus = {v["sku"] for v in remote[tee.key]["variants"]}
    assert ARCHIVED_VARIANT not in skus  # the product is created with its sellable variants only
    assert skus == {v.sku for v in tee.variants if v.active}
    assert_left_out(report, "Elebne")

    # the next run plans the same (the left-out variant is still not listed there): nothing is sent
    mark = fast_elebne_sandbox.last_id()
    again = run_sync(read_recorded(version), opts).report
    assert fast_elebne_sandbox.writes(since=mark) == []
    assert_left_out(again, "Elebne")


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_archived_odoo_products_are_not_created_on_elryan(version: int, elryan: Elryan) -> None:  # noqa: F811
    source = read_recorded(version)
    defaults = {**DEFAULTS, "brand": "Maison Test"}
    report = elryan.sync(source, defaults=defaults).report
    state = elryan.state()
    spus = {p["spu"] for p in state["products"]}
    listed = {v["sku"] for p in state["products"] for v in p["variants"]}
    assert ARCHIVED_TEMPLATE not in spus and ARCHIVED_TEMPLATE not in listed
    tee = next(p for p in source.products if any(v.sku == ARCHIVED_VARIANT for v in p.variants))
    assert tee.key in spus and ARCHIVED_VARIANT not in listed
    assert {v.sku for v in tee.variants if v.active} <= listed
    assert_left_out(report, "Elryan")

    mark = elryan.last()
    again = elryan.sync(read_recorded(version), defaults=defaults).report
    assert [r for r in elryan.log(mark) if r["method"] in WRITES] == []
    assert_left_out(again, "Elryan")
