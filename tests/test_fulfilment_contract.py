"""The fulfilment contract: progress fingerprints, line assignment, and the step log's exactly-once marks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from connector.fulfilment.model import OrderProgress, Shipment, ShippedLine, assign_lines
from connector.fulfilment.writer import StepLog
from connector.orders.model import Order, OrderLine, OrderStatus
from connector.sync.state import StateStore


def _order() -> Order:
    lines = (OrderLine("L1", "TEA", 2, Decimal("3.50"), "USD"), OrderLine("L2", "SOAP", 1, Decimal("2"), "USD"),
             OrderLine("L3", "TEA", 1, Decimal("3.50"), "USD"))
    return Order("ecomlinx", "main", "ord_1", OrderStatus.READY, "ready", datetime(2026, 1, 1, tzinfo=UTC), "USD",
                 lines)


def test_assign_lines_fills_lines_in_order_and_reports_what_no_line_takes() -> None:
    lines, left = assign_lines(_order(), {"TEA": 4, "SOAP": 1})
    assert [(ln.line_id, ln.quantity) for ln in lines] == [("L1", 2), ("L3", 1), ("L2", 1)]
    assert left == {"TEA": 1}
    lines, left = assign_lines(_order(), {"TEA": 2}, already={"L1": 1})
    assert [(ln.line_id, ln.quantity) for ln in lines] == [("L1", 1), ("L3", 1)] and left == {}


def test_progress_round_trips_and_its_fingerprint_ignores_extra() -> None:
    ship = Shipment("odoo:picking:7", (ShippedLine("L1", "TEA", 2),), "TRK1", "DHL",
                    datetime(2026, 1, 2, tzinfo=UTC))
    progress = OrderProgress("ecomlinx", "main", "ord_1", "odoo", (ship,), extra={"sale_id": 4})
    again = OrderProgress.from_json(progress.to_json())
    assert again == progress and again.fingerprint() == progress.fingerprint()
    other = OrderProgress("ecomlinx", "main", "ord_1", "odoo", (ship,), extra={"sale_id": 5})
    assert other.fingerprint() == progress.fingerprint()
    moved = OrderProgress("ecomlinx", "main", "ord_1", "odoo", (ship,), cancelled=True)
    assert moved.fingerprint() != progress.fingerprint()
    assert progress.shipped_quantities() == {"L1": 2} and not progress.fully_shipped(_order())


def test_step_log_marks_a_step_sent_until_answered(tmp_path) -> None:
    with StateStore.open(tmp_path / "s.db") as state:
        log = StepLog(state, "elryan", "main", "run-1")
        assert log.done("o1", "package:s1") is None and not log.interrupted("o1", "package:s1")
        log.begin("o1", "package:s1")
    with StateStore.open(tmp_path / "s.db") as state:  # a run killed after sending: the mark survives
        log = StepLog(state, "elryan", "main", "run-2")
        assert log.interrupted("o1", "package:s1")
        log.confirm("o1", "package:s1", {"package_id": "P9"})
        assert log.done("o1", "package:s1") == {"package_id": "P9"} and not log.interrupted("o1", "package:s1")
        log.begin("o1", "cancel")
        log.refused("o1", "cancel", "no")
        assert not log.interrupted("o1", "cancel") and log.done("o1", "cancel") is None
        # only the killed run's entry is left open in the journal: this run's two calls were answered
        assert [e["run_id"] for e in state.journal_open("elryan", "main")] == ["run-1"]
