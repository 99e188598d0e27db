"""A product refused by the marketplace is a failed row when it comes from Odoo too (recorded Odoo 18 catalogue ->
Elebne sandbox).  Odoo's rows are its variants (``product.product``) and its products templates
(``product.template``): the report took every Odoo row for a row of a workbook's stock sheet, whose status is
its stock update's alone.  A refused price or name update was then an "unchanged" row, and a service's (no
stock update at all) too: nothing said it failed, and a run with nothing else wrong ended with exit 0 (found on
a real Odoo 18: a service's new price refused by Elebne)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.model import Money
from connector.sync.report import FAILED, UNCHANGED
from connector.sync.runner import SyncOptions, run_sync
from connector.sync.stock_policy import StockPolicy
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.odoo_vcr import seed_data
from tests.test_odoo_to_elebne_e2e import read_recorded

pytestmark = pytest.mark.sandbox


def statuses(report, skus: set[str]) -> dict[str, tuple[str, str | None]]:
    return {r.sku: (r.status, r.reason) for r in report.rows if r.sku in skus}


def test_a_refused_update_of_an_odoo_product_is_a_failed_row(fast_elebne_sandbox: SandboxHandle,
                                                            tmp_path: Path) -> None:
    opts = SyncOptions(target="elebne", state_path=tmp_path / "state.sqlite", secret=ELEBNE_KEY,
                       base_url=fast_elebne_sandbox.base_url, account="odoo-shop", source_label="odoo18",
                       stock_policy=StockPolicy(locations=tuple(seed_data.TEST_WAREHOUSES)))
    first = run_sync(read_recorded(18), opts).report
    assert first.unreachable is None
    assert statuses(first, {"CT-SVC"})["CT-SVC"][0] == "pushed"  # created (a service: no stock update)

    source = read_recorded(18)
    changed = {"CT-SVC", "CT-HOME-01"}  # a service, and a stocked product whose stock did not change
    for p in source.products:
        for v in p.variants:
            if v.sku in changed:
                v.price = Money(v.price.amount + Decimal("1.00"), v.price.currency)
    fast_elebne_sandbox.fault(method="PATCH", path=r".*/products/.*", kind="status", status=422, count=10,
                              body={"error": {"code": "VALIDATION_ERROR", "message": "price refused here"}})
    again = run_sync(source, opts).report
    got = statuses(again, changed)
    assert {sku: status for sku, (status, _) in got.items()} == {"CT-SVC": FAILED, "CT-HOME-01": FAILED}
    assert all("price refused here" in (reason or "") for _, reason in got.values())
    assert again.status_counts[FAILED] == 2 and again.exit_code == 1
    assert statuses(again, {"CT-HOME-02"})["CT-HOME-02"][0] == UNCHANGED  # the others stay unchanged
