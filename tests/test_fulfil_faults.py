"""EcomLinx failing mid-run (503 and 429 with Retry-After, on and on) while ``connector fulfil``
sends: the run ends with a resumable or unreachable exit code, never a traceback, and the next run finishes it with
one PATCH per status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_OK
from tests import test_fulfilment_ecomlinx_e2e as e2e
from tests.test_fulfilment_ecomlinx_e2e import fulfil, mark, patches, remote

pytestmark = pytest.mark.sandbox
ecomlinx, keys, shop = e2e.ecomlinx, e2e.keys, e2e.shop  # the e2e test's sandbox, keys and shop


@pytest.mark.parametrize("fault", [
    {"kind": "status", "status": 503, "retry_after": 1, "count": 50},
    {"kind": "status", "status": 429, "retry_after": 1, "count": 50},
])
def test_a_marketplace_failing_mid_run_ends_resumable_and_the_next_run_finishes(
        shop: Path, ecomlinx: Any, fault: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    made = [ecomlinx.create_order({"items": [{"sku": "SOAP-01", "qty": 1}], "customer": {"name": f"C{i}"}})
            for i in range(2)]
    assert main(["orders", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    for order in made:
        mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", f"AWB-{order['id']}", "Delhivery Express",
             order_id=order["id"])
    ecomlinx.add_fault(method="PATCH", path=f"^/v1/orders/{made[1]['id']}$", **fault)  # the second order fails
    code, report = fulfil(shop)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert code == 3, report  # resumable: the marketplace asked to wait longer than the run does
    waiting = f"ecomlinx:{made[1]['channel_order_id']}"
    assert waiting in out.out.replace("\n", "") and waiting not in str(report["fulfilment"]["orders"])
    ecomlinx.faults.clear()
    code, report = fulfil(shop)
    assert code == EXIT_OK, report
    for order in made:
        mine = [r for r in patches(ecomlinx) if r["path"] == f"/v1/orders/{order['id']}" and r["status"] == 200]
        assert len(mine) == 3 and remote(ecomlinx, order["id"])["status"] == "shipped"
