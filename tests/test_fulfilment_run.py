"""The fulfilment core's generic rules, with a source and a writer of the test's own: what is held back, what is
sent, what is confirmed and when the source's cursor is saved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.config import FulfilmentSection
from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, MarketplaceUnreachable
from connector.fulfilment.model import FulfilOutcome, FulfilResult, OrderProgress, Shipment, ShippedLine
from connector.fulfilment.run import cursor_key, run_fulfil
from connector.fulfilment.source import ImportedOrder, SourceRead
from connector.fulfilment.writer import CONFIRMED, PROGRESS, FulfilPlan, StepLog
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from connector.orders.book import OrderBook
from connector.orders.model import Order, OrderLine, OrderStatus
from connector.sync.session import SyncOptions
from connector.sync.state import StateStore

ACCOUNT = "main"


def order(key: str, status: OrderStatus = OrderStatus.NEW) -> Order:
    return Order("ecomlinx", ACCOUNT, key, status, status.value, datetime(2026, 5, 1, tzinfo=UTC), "INR",
                 (OrderLine(f"{key}-1", "TEA", 2, Decimal("5"), "INR"),), channel_order_id=f"C-{key}")


def shipped(key: str, carrier: str | None = "DHL", tracking: str | None = "T1") -> OrderProgress:
    return OrderProgress("ecomlinx", ACCOUNT, key, "fake",
                         (Shipment(f"fake:{key}", (ShippedLine(f"{key}-1", "TEA", 2),), tracking, carrier),))


def cancelled(key: str, reason: str | None = None) -> OrderProgress:
    return OrderProgress("ecomlinx", ACCOUNT, key, "fake", cancelled=True, cancel_reason=reason)


@dataclass
class FakeSource:
    progress: list[OrderProgress]
    cursor: str | None = None
    name: str = "fake"
    seen: list[tuple[list[str], str | None]] = field(default_factory=list)
    fail: Exception | None = None

    def read(self, imported: Sequence[ImportedOrder], cursor: str | None, now: datetime) -> SourceRead:
        self.seen.append((sorted(o.order.key for o in imported), cursor))
        if self.fail is not None:
            raise self.fail
        return SourceRead(list(self.progress), self.cursor, ["a note from the source"])

    def close(self) -> None:
        pass


@dataclass
class FakeWriter:
    marketplace: str = "ecomlinx"
    needs_tracking: bool = True
    needs_cancel_reason: bool = False
    refuse: str | None = None
    calls: list[tuple[str, FulfilPlan]] = field(default_factory=list)

    def apply(self, order: Order, progress: OrderProgress, plan: FulfilPlan, steps: StepLog) -> FulfilOutcome:
        self.calls.append((order.key, plan))
        if self.refuse:
            return FulfilOutcome(progress, FulfilResult.FAILED, self.refuse)
        steps.begin(order.key, "status:x")
        steps.confirm(order.key, "status:x")
        result = FulfilResult.CANCELLED if progress.cancelled else FulfilResult.SHIPPED
        return FulfilOutcome(progress, result, sent=["status:x"])

    def preview(self, order: Order, progress: OrderProgress, plan: FulfilPlan, steps: StepLog) -> FulfilOutcome:
        return FulfilOutcome(progress, FulfilResult.SHIPPED, "dry run")


@pytest.fixture
def writer(monkeypatch: pytest.MonkeyPatch) -> FakeWriter:
    fake = FakeWriter()
    monkeypatch.setattr(ECOMLINX, "make_fulfilment_writer", lambda *args: fake)
    return fake


@pytest.fixture
def state(tmp_path: Path) -> Any:
    with StateStore.open(tmp_path / "state.sqlite") as store:
        yield store


def imported(state: StateStore, *orders: Order) -> None:
    book = OrderBook(state, "ecomlinx", ACCOUNT)
    book.remember(orders)
    for o in orders:
        book.mark_imported("workbook", o, "row 2", {"workbook": "/nowhere/orders.xlsx"})


def run(state: StateStore, tmp_path: Path, source: FakeSource, settings: FulfilmentSection | None = None,
        dry_run: bool = False) -> Any:
    opts = SyncOptions(target="ecomlinx", state_path=tmp_path / "state.sqlite", secret=ECOMLINX.sandbox_key,
                       base_url="http://127.0.0.1:9/v1", account=ACCOUNT, dry_run=dry_run)
    settings = settings or FulfilmentSection(carriers={"ecomlinx": {"dhl": "Delhivery"}},
                                             cancel_reasons={"ecomlinx": {"out of stock": "OOS"}})
    return run_fulfil([opts], source, "workbook", state, settings=settings, label="fake")


def rows(result: Any) -> list[tuple[str, str, str | None]]:
    return [(r["order_id"], r["result"], r["reason"]) for r in result.runs[0].report.fulfilment["orders"]]


def test_what_is_held_back_is_never_handed_to_the_writer(state: Any, tmp_path: Path, writer: FakeWriter) -> None:
    imported(state, order("A"), order("B"), order("C", OrderStatus.CANCELLED), order("D", OrderStatus.CANCELLED),
             order("E", OrderStatus.SHIPPED), order("F"), order("G"))
    problem = OrderProgress("ecomlinx", ACCOUNT, "G", "fake", problems=("sheet Orders, row 4: bad",))
    source = FakeSource([shipped("A", carrier=" dhl "), shipped("B", carrier="Aramex"), cancelled("C"),
                         shipped("D"), cancelled("E"), shipped("F", tracking=None), problem])
    result = run(state, tmp_path, source)
    assert result.exit_code == EXIT_FAILED
    assert sorted(rows(result)) == [
        ("A", "shipped", None),
        ("B", "needs_attention", "carrier 'Aramex' is not mapped to a courier of EcomLinx: add it under "
                                 "orders.fulfilment.carriers.ecomlinx"),
        ("C", "unchanged", "already cancelled on the marketplace"),
        ("D", "needs_attention", "shipped in the source, but cancelled on EcomLinx"),
        ("E", "needs_attention", "cancelled in the source, but EcomLinx shows it shipped"),
        ("F", "needs_attention", "EcomLinx needs a tracking number: shipment fake:F has none"),
        ("G", "needs_attention", "sheet Orders, row 4: bad")]
    assert [(key, plan.couriers) for key, plan in writer.calls] == [("A", {"fake:A": "Delhivery"})]
    assert result.runs[0].report.notes == ["a note from the source"]
    assert state.hashes("ecomlinx", ACCOUNT, CONFIRMED).keys() == {"A", "C"}

    writer.calls.clear()
    again = run(state, tmp_path, source)  # the held ones are held again, the confirmed ones not handed at all
    assert sorted(r[0] for r in rows(again)) == ["B", "D", "E", "F", "G"] and writer.calls == []


def test_a_cancellation_needs_a_reason_code_where_the_writer_asks_for_one(
        state: Any, tmp_path: Path, writer: FakeWriter) -> None:
    writer.needs_cancel_reason = True
    imported(state, order("A"), order("B"), order("C"))
    source = FakeSource([cancelled("A", " Out of  STOCK"), cancelled("B", "customer changed mind"), cancelled("C")])
    result = run(state, tmp_path, source)
    assert sorted(rows(result))[1:] == [
        ("B", "needs_attention", "cancelled ('customer changed mind'), but "
                                 "orders.fulfilment.cancel_reasons.ecomlinx maps no EcomLinx reason code for it (and "
                                 "has no default)"),
        ("C", "needs_attention", "cancelled (no reason given), but orders.fulfilment.cancel_reasons.ecomlinx maps no "
                                 "EcomLinx reason code for it (and has no default)")]
    assert [(k, p.cancel_reason) for k, p in writer.calls] == [("A", "OOS")]
    settings = FulfilmentSection(cancel_reasons={"ecomlinx": {"default": "OTHER"}})
    writer.calls.clear()
    assert run(state, tmp_path, source, settings).exit_code == EXIT_OK
    assert sorted((k, p.cancel_reason) for k, p in writer.calls) == [("B", "OTHER"), ("C", "OTHER")]


def test_progress_is_remembered_before_sending_and_a_failure_is_retried_without_reading_again(
        state: Any, tmp_path: Path, writer: FakeWriter) -> None:
    imported(state, order("A"))
    writer.refuse = "conflict (409): Order A is shipped: it cannot become processing"
    source = FakeSource([shipped("A")], cursor="c1")
    result = run(state, tmp_path, source)
    assert result.exit_code == EXIT_FAILED
    assert rows(result) == [("A", "failed", "conflict (409): Order A is shipped: it cannot become processing")]
    assert state.hashes("ecomlinx", ACCOUNT, PROGRESS) == {"A": shipped("A").fingerprint()}
    assert state.hashes("ecomlinx", ACCOUNT, CONFIRMED) == {}
    key = cursor_key([("ecomlinx", ACCOUNT)])
    assert state.get_cursor("fulfil:fake", key) == "c1" and source.seen == [(["A"], None)]

    writer.refuse = None
    source.progress, source.cursor = [], "c2"  # the source says nothing new: the remembered progress is sent
    result = run(state, tmp_path, source)
    assert result.exit_code == EXIT_OK and rows(result) == [("A", "shipped", None)]
    assert source.seen[-1] == (["A"], "c1") and state.get_cursor("fulfil:fake", key) == "c2"


def test_a_dry_run_remembers_and_saves_nothing(state: Any, tmp_path: Path, writer: FakeWriter) -> None:
    imported(state, order("A"))
    source = FakeSource([shipped("A")], cursor="c1")
    result = run(state, tmp_path, source, dry_run=True)
    assert result.exit_code == EXIT_OK and rows(result) == [("A", "shipped", "dry run")]
    assert writer.calls == []
    assert state.hashes("ecomlinx", ACCOUNT, PROGRESS) == {} and state.hashes("ecomlinx", ACCOUNT, CONFIRMED) == {}
    assert state.get_cursor("fulfil:fake", cursor_key([("ecomlinx", ACCOUNT)])) is None


def test_an_unreachable_source_still_sends_what_is_remembered(state: Any, tmp_path: Path, writer: FakeWriter) -> None:
    imported(state, order("A"))
    source = FakeSource([shipped("A")], cursor="c1")
    writer.refuse = "no"
    run(state, tmp_path, source)
    writer.refuse = None
    source.fail = MarketplaceUnreachable("Odoo at 127.0.0.1:8069 did not answer")
    result = run(state, tmp_path, source)
    assert result.exit_code == EXIT_UNREACHABLE
    assert result.runs[0].report.unreachable == ("the fake source could not be read: Odoo at 127.0.0.1:8069 did not "
                                                 "answer")
    assert rows(result) == [("A", "shipped", None)]
    assert state.get_cursor("fulfil:fake", cursor_key([("ecomlinx", ACCOUNT)])) == "c1"


def test_a_marketplace_that_cannot_be_reached_stops_its_account_and_keeps_the_rest_for_next_run(
        state: Any, tmp_path: Path, writer: FakeWriter, monkeypatch: pytest.MonkeyPatch) -> None:
    imported(state, order("A"), order("B"))

    def down(*args: Any) -> FulfilOutcome:
        raise MarketplaceUnreachable("EcomLinx did not answer")

    monkeypatch.setattr(writer, "apply", down)
    result = run(state, tmp_path, FakeSource([shipped("A"), shipped("B")]))
    report = result.runs[0].report
    assert result.exit_code == EXIT_UNREACHABLE and rows(result) == []
    assert report.unreachable == "EcomLinx: EcomLinx did not answer"
    assert report.notes[-1] == ("2 order(s) not sent this run (EcomLinx did not answer): the next run carries on, "
                                "looking up first what a call sent may have done")
    assert state.hashes("ecomlinx", ACCOUNT, CONFIRMED) == {}


def test_a_spent_budget_defers_the_rest_with_exit_3(
        state: Any, tmp_path: Path, writer: FakeWriter, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.errors import EXIT_PARTIAL, BudgetExhausted

    imported(state, order("A"))

    def spent(*args: Any) -> FulfilOutcome:
        raise BudgetExhausted("api", 1000)

    monkeypatch.setattr(writer, "apply", spent)
    result = run(state, tmp_path, FakeSource([shipped("A")]))
    assert result.exit_code == EXIT_PARTIAL and rows(result) == []
    assert "1 order(s) not sent this run" in result.runs[0].report.notes[-1]
    monkeypatch.undo()
    monkeypatch.setattr(ECOMLINX, "make_fulfilment_writer", lambda *args: writer)
    assert rows(run(state, tmp_path, FakeSource([]))) == [("A", "shipped", None)]  # carried on from the state


def test_a_marketplace_without_a_writer_is_unsupported_once_per_change(
        state: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ECOMLINX, "make_fulfilment_writer", None)
    monkeypatch.setattr(ECOMLINX, "fulfilment_unsupported", "no documented call")
    imported(state, order("A"), order("B", OrderStatus.CANCELLED))
    source = FakeSource([shipped("A", carrier="Unmapped"), cancelled("B")])
    result = run(state, tmp_path, source)
    assert result.exit_code == EXIT_OK
    assert sorted(rows(result)) == [("A", "unsupported", "no documented call"),
                                    ("B", "unchanged", "already cancelled on the marketplace")]
    assert result.runs[0].report.fulfilment["unsupported"] == "no documented call"
    assert rows(run(state, tmp_path, source)) == []


def test_a_shipment_without_a_carrier_says_to_set_one_in_the_source(state: Any, tmp_path: Path,
                                                                     writer: FakeWriter) -> None:
    """No carrier at all (an Odoo delivery validated without one, or an Odoo without the delivery module: found on a
    real Odoo 18) cannot be mapped: the message said "carrier none given is not mapped ...: add it under
    orders.fulfilment.carriers", which no setting can do."""
    imported(state, order("A"), order("B"))
    source = FakeSource([shipped("A", carrier=None), shipped("B", carrier="Aramex")])
    result = run(state, tmp_path, source)
    assert result.exit_code == EXIT_FAILED and writer.calls == []
    reasons = dict((key, reason) for key, _, reason in rows(result))
    assert reasons["A"] == ("shipment fake:A has no carrier: set the delivery's carrier in the source "
                            "(orders.fulfilment.carriers.ecomlinx maps a carrier's name to a courier of EcomLinx)")
    assert reasons["B"] == ("carrier 'Aramex' is not mapped to a courier of EcomLinx: add it under "
                            "orders.fulfilment.carriers.ecomlinx")
