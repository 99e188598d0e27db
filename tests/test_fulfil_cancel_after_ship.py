"""A cancellation typed on an order whose shipment an earlier `connector fulfil` sent (or a shipment typed on an
order an earlier run cancelled) is held as needs attention, never sent.  The run compared it only with the order
as last read from the marketplace, which still said "new" until a `connector orders` read it again, and the
workbook drops the shipments of an order whose rows say cancelled: the cancellation went to the marketplace,
which EcomLinx and Elryan refuse, and a marketplace that took it would refund an order already on its way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from connector.fulfilment.model import FulfilResult
from connector.fulfilment.run import _one
from connector.fulfilment.writer import StepLog
from tests.test_elryan_fulfilment import Desk, couriers, desk, progress, shipment  # noqa: F401
from tests.test_fulfilment_ecomlinx_e2e import bring_in, ecomlinx, fulfil, keys, mark, patches, remote, shop  # noqa: F401

pytestmark = pytest.mark.sandbox


class Session:
    """What ``_one`` reads of a target session: an Elryan one, not a dry run."""

    class plugin:
        title = "Elryan"
        fulfilment_unsupported = None

    class opts:
        target, dry_run = "elryan", False


def test_ecomlinx_a_cancellation_after_the_shipment_was_sent_is_held(shop: Path, ecomlinx: Any) -> None:  # noqa: F811
    order = bring_in(shop, ecomlinx, {"sku": "TEA-500", "qty": 1})
    mark(shop.parent / "orders.xlsx", "TEA-500", "shipped", "1Z999AA10123456784", "Delhivery Express")
    assert fulfil(shop)[0] == EXIT_OK
    assert remote(ecomlinx, order["id"])["status"] == "shipped"
    sent = len(patches(ecomlinx))
    mark(shop.parent / "orders.xlsx", "TEA-500", "cancelled")  # no `connector orders` in between
    code, report = fulfil(shop)
    assert code == EXIT_FAILED
    line = report["fulfilment"]["orders"][0]
    assert line["result"] == "needs_attention" and "shipment was sent to EcomLinx already" in line["reason"]
    assert len(patches(ecomlinx)) == sent  # nothing sent to be refused
    assert remote(ecomlinx, order["id"])["status"] == "shipped"


def test_ecomlinx_a_shipment_after_the_cancellation_was_sent_is_held(shop: Path, ecomlinx: Any) -> None:  # noqa: F811
    order = bring_in(shop, ecomlinx, {"sku": "TEA-500", "qty": 1})
    mark(shop.parent / "orders.xlsx", "TEA-500", "cancelled")
    assert fulfil(shop)[0] == EXIT_OK
    assert remote(ecomlinx, order["id"])["status"] == "cancelled"
    sent = len(patches(ecomlinx))
    mark(shop.parent / "orders.xlsx", "TEA-500", "shipped", "1Z999AA10123456784", "Delhivery Express")
    code, report = fulfil(shop)
    assert code == EXIT_FAILED
    line = report["fulfilment"]["orders"][0]
    assert line["result"] == "needs_attention" and "an earlier run cancelled it" in line["reason"]
    assert len(patches(ecomlinx)) == sent


def test_elryan_a_cancellation_without_shipments_after_a_package_is_held(desk: Desk, tmp_path: Path) -> None:  # noqa: F811
    """As the orders workbook gives it: every row cancelled, so no shipments, and the order as last read before
    the package went."""
    from connector.config import FulfilmentSection
    from connector.sync.state import StateStore

    a = desk.shop.place(("EDP-50", 1))[0]
    number = a["Order Number"]
    stale = desk.order(number)
    assert desk.run(number, progress(number, shipment("workbook:TRK-1", (a, 1))),
                    couriers("workbook:TRK-1")).result is FulfilResult.SHIPPED
    before = desk.last_request()

    settings = FulfilmentSection(cancel_reasons={"elryan": {"default": "out_of_stock"}})
    with StateStore.open(desk.state_path) as state:
        outcome = _one(Session, desk.writer, stale, progress(number, cancelled=True),  # type: ignore[arg-type]
                       settings, StepLog(state, "elryan", "main", "run-x"))
    assert outcome.result is FulfilResult.ATTENTION and "package:workbook:TRK-1" in (outcome.reason or "")
    assert desk.calls(before) == []
    assert desk.line(a["POlineID"])["Status"] == "Shipped"


def test_an_emptied_orders_workbook_says_so_and_sends_nothing(shop: Path, ecomlinx: Any,  # noqa: F811
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A 0-byte orders.xlsx (emptied, or cut to nothing) is not "a file that is not an .xlsx": the run says it is
    empty and how it comes back (`connector orders` writes the orders in again), exit 2, nothing sent."""
    order = bring_in(shop, ecomlinx, {"sku": "TEA-500", "qty": 1})
    (shop.parent / "orders.xlsx").write_bytes(b"")
    sent = len(patches(ecomlinx))
    capsys.readouterr()
    code, _ = fulfil(shop)
    said = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_USAGE
    assert "orders.xlsx is empty (0 bytes)" in said and "`connector orders`" in said and "Traceback" not in said
    assert len(patches(ecomlinx)) == sent and remote(ecomlinx, order["id"])["status"] != "shipped"


def test_elryan_a_line_cancelled_by_an_earlier_run_holds_its_own_shipment_only(desk: Desk) -> None:  # noqa: F811
    """Elryan cancels line by line: with one line's cancellation confirmed (the other's refused, or the run
    stopped), a shipment of the other line still goes; one of the cancelled line is held."""
    from connector.config import FulfilmentSection
    from connector.sync.state import StateStore

    a, b = desk.shop.place(("EDP-50", 1), ("EDP-100", 1))
    number = a["Order Number"]

    with StateStore.open(desk.state_path) as state:
        StepLog(state, "elryan", "main", "run-1").confirm(number, f"cancel:{a['POlineID']}", {"status": "Canceled"})
        steps = StepLog(state, "elryan", "main", "run-2")
        other = _one(Session, desk.writer, desk.order(number),  # type: ignore[arg-type]
                     progress(number, shipment("workbook:TRK-B", (b, 1), tracking="TRK-B")), FulfilmentSection(),
                     steps)
        own = _one(Session, desk.writer, desk.order(number),  # type: ignore[arg-type]
                   progress(number, shipment("workbook:TRK-A", (a, 1), tracking="TRK-A")), FulfilmentSection(),
                   steps)
    assert "an earlier run cancelled it" not in (other.reason or ""), other
    assert own.result is FulfilResult.ATTENTION and f"cancel:{a['POlineID']}" in (own.reason or "")
