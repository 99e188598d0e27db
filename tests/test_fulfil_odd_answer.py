"""EcomLinx answering a fulfilment PATCH with 200 and a JSON body that is not the order at the status sent (``[]``,
``"ok"``, ``{}``, the order wrapped in ``data``, the order at another status): the answer does not say the move
was made, so the order is deferred (exit 3) with a message naming the call, never a traceback and never counted
as shipped; the next run looks the step up and finishes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_OK, EXIT_PARTIAL
from tests import test_fulfilment_ecomlinx_e2e as e2e
from tests.test_fulfilment_ecomlinx_e2e import fulfil, mark, remote

pytestmark = pytest.mark.sandbox
ecomlinx, keys, shop = e2e.ecomlinx, e2e.keys, e2e.shop


@pytest.mark.parametrize("body", [[], "ok", 1, {}, {"data": {"status": "processing"}}, {"id": "x", "status": "new"}])
def test_a_patch_answered_with_json_that_is_not_the_order_moved_defers_the_order(
        shop: Path, ecomlinx: Any, body: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    order = ecomlinx.create_order({"items": [{"sku": "SOAP-01", "qty": 1}], "customer": {"name": "C"}})
    assert main(["orders", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", "AWB-1", "Delhivery Express")
    ecomlinx.add_fault(method="PATCH", path="^/v1/orders/", kind="status", status=200, body=body, count=1)
    code, report = fulfil(shop)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert code == EXIT_PARTIAL, report
    assert report["fulfilment"]["counts"]["shipped"] == 0 and report["fulfilment"]["counts"]["failed"] == 0, report
    assert any("EcomLinx answered PATCH /orders/" in note for note in report["notes"]), report["notes"]
    code, report = fulfil(shop)  # the next run looks the step up and finishes
    assert code == EXIT_OK, report
    assert (remote(ecomlinx, order["id"])["status"], remote(ecomlinx, order["id"])["awb"]) == ("shipped", "AWB-1")
