"""Products whose stock Odoo does not track (a service, a consumable, a combo on 18+), read from the recorded
catalogue of Odoo 16, 18 and 19 and pushed to the three marketplaces' sandboxes: no quantity is sent for them
(never 0), each of their rows says so (``STOCK_NOT_TRACKED``), and ``defaults.untracked_stock`` in the target's
settings lists that quantity for them instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from connector.marketplaces.ecomlinx.sandbox import create_sandbox
from connector.sync.report import RunReport
from connector.sync.runner import SyncOptions, run_sync
from connector.sync.stock_policy import StockPolicy
from connector.sync.untracked import STOCK_NOT_TRACKED
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.odoo_vcr import VERSIONS, seed_data
from tests.test_elryan_sync import DEFAULTS, Elryan, elryan  # noqa: F401 - the fixture
from tests.test_odoo_to_elebne_e2e import read_recorded

pytestmark = pytest.mark.sandbox

KINDS = {"CT-SVC": "service", "CT-CONSU": "consumable", "CT-COMBO": "combo"}
STOCKED = "CT-HOME-01"


def untracked(version: int) -> list[str]:
    return [sku for sku in KINDS if sku != "CT-COMBO" or version >= 18]


def assert_said(report: RunReport, skus: list[str], marketplace_words: str) -> None:
    """Every row of ``skus`` has the code and a reason naming the kind and what the marketplace shows; one note."""
    rows = {r.sku: r for r in report.rows if r.sku in skus}
    assert set(rows) == set(skus)
    for sku, row in rows.items():
        assert row.code == STOCK_NOT_TRACKED, (sku, row)
        assert f"stock not tracked in the source (a {KINDS[sku]}): no quantity sent" in row.reason, row.reason
        assert marketplace_words in row.reason, row.reason
        assert not row.attention
    note = next(n for n in report.notes if STOCK_NOT_TRACKED in n)
    assert "defaults.untracked_stock" in note and "never 0" in note


def assert_not_said(report: RunReport) -> None:
    assert not [r for r in report.rows if r.code == STOCK_NOT_TRACKED]
    assert not [n for n in report.notes if STOCK_NOT_TRACKED in n]


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_elebne_leaves_them_untracked_unless_a_quantity_is_set(version: int, fast_elebne_sandbox: SandboxHandle,
                                                              tmp_path: Path) -> None:
    def sync(**settings: Any) -> RunReport:
        opts = SyncOptions(target="elebne", state_path=tmp_path / "state.sqlite", secret=ELEBNE_KEY,
                           base_url=fast_elebne_sandbox.base_url, account="odoo-shop", source_label=f"odoo{version}",
                           stock_policy=StockPolicy(locations=tuple(seed_data.TEST_WAREHOUSES)), settings=settings)
        return run_sync(read_recorded(version), opts).report

    skus = untracked(version)
    report = sync()
    remote = fast_elebne_sandbox.products()
    assert [remote[sku]["quantity"] for sku in skus] == [None] * len(skus)  # Elebne: not tracked
    assert remote[STOCKED]["quantity"] is not None
    assert_said(report, skus, "Elebne tracks the stock of a product or variant only once it is given a quantity")

    report = sync(defaults={"untracked_stock": 7})
    remote = fast_elebne_sandbox.products()
    assert [remote[sku]["quantity"] for sku in skus] == [7] * len(skus)
    assert_not_said(report)

    report = sync()  # the setting removed: nothing sent, the quantities stay
    remote = fast_elebne_sandbox.products()
    assert [remote[sku]["quantity"] for sku in skus] == [7] * len(skus)
    assert_said(report, skus, "one given a quantity before keeps it")


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_elryan_gets_no_stock_for_them_unless_a_quantity_is_set(version: int, elryan: Elryan) -> None:  # noqa: F811
    defaults = {**DEFAULTS, "brand": "Maison Test"}
    skus = untracked(version)

    def stock() -> list[int]:
        by_sku = {v["sku"]: v["stock"] for p in elryan.state()["products"] for v in p["variants"]}
        return [by_sku[sku] for sku in skus]

    report = elryan.sync(read_recorded(version), defaults=defaults).report
    assert stock() == [0] * len(skus)  # Elryan's own start (inferred), which the rows say
    assert_said(report, skus, "a variant Elryan creates without stock lists 0 (inferred)")

    report = elryan.sync(read_recorded(version), defaults={**defaults, "untracked_stock": 25}).report
    assert stock() == [25] * len(skus)
    assert_not_said(report)

    report = elryan.sync(read_recorded(version), defaults=defaults).report  # the setting removed: left as it is
    assert stock() == [25] * len(skus)
    assert_said(report, skus, "one already listed keeps its stock")


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[Any]:
    server = create_sandbox(port=0, db_path=str(tmp_path / "ecomlinx.sqlite")).start()
    server.seed_products([{"sku": sku, "name": sku, "price": 1, "stock": 40, "status": "live"}
                          for sku in [*KINDS, STOCKED]])
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_ecomlinx_keeps_its_quantity_unless_one_is_set(version: int, ecomlinx: Any, tmp_path: Path) -> None:
    def sync(**settings: Any) -> RunReport:
        opts = SyncOptions(target="ecomlinx", state_path=tmp_path / "state.sqlite", secret=ECOMLINX.sandbox_key,
                           base_url=ecomlinx.api_url, account="odoo-shop", source_label=f"odoo{version}",
                           stock_policy=StockPolicy(locations=tuple(seed_data.TEST_WAREHOUSES)), settings=settings)
        return run_sync(read_recorded(version), opts).report

    def stock() -> dict[str, int]:
        return {p["sku"]: p["stock"] for p in ecomlinx.dump_state()["products"]}

    skus = untracked(version)
    report = sync()
    assert [stock()[sku] for sku in skus] == [40] * len(skus)  # never 0
    assert stock()[STOCKED] != 40  # the stocked product's quantity was sent
    assert_said(report, skus, "EcomLinx keeps the quantity it has for the SKU")

    report = sync(defaults={"untracked_stock": 3})
    assert [stock()[sku] for sku in skus] == [3] * len(skus)
    assert_not_said(report)

    report = sync()  # the setting removed: nothing sent, the quantities stay
    assert [stock()[sku] for sku in skus] == [3] * len(skus)
    assert_said(report, skus, "EcomLinx keeps the quantity it has for the SKU")
