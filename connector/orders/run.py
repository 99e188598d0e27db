"""The orders flow: marketplace orders -> order book -> destination, one marketplace account at a time.

For each marketplace the profile reads orders from, a ``TargetSession`` is opened (the HTTP client, call
budgets, run bookkeeping and report of a stock push), the marketplace's order reader pulls what is new or
changed (``pull_orders``: cursor, overlap, lookback, refresh of old open orders), and then:

1. the orders are remembered in the book first, so the oversell guard holds their quantities back even when
   the destination fails;
2. the orders whose version the destination already holds are ``unchanged`` without asking it; the others are
   handed to the destination, which says of each: imported, updated, needs attention (why) or failed (its
   message);
3. the cursor is saved only once the destination handled them (an unreachable destination, or an orders
   workbook that could not be written, keeps it, so the next run reads the same orders again).

Orders found by the lookback that an earlier pull should have seen are "missed" (expected 0) and reported.
A dry run reads, and says what the destination would do, but remembers, writes and saves nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.errors import (
    EXIT_OK,
    EXIT_UNREACHABLE,
    BudgetExhausted,
    ConfigError,
    ConnectorError,
    MarketplaceUnreachable,
    StateLockedError,
)
from connector.http.client import RateLimitedTooLong, TransportError
from connector.orders.book import OrderBook
from connector.orders.destination import OrderDestination
from connector.orders.model import Order, iso
from connector.orders.outcome import OrderOutcome, OrderResult
from connector.orders.reader import PullSettings, cursor_source, pull_orders
from connector.sync.answers import contradicted, unknown_outcome
from connector.sync.profile import KEEP_REPORTS, save_report, worst
from connector.sync.report import RunReport
from connector.sync.session import SyncOptions, TargetSession
from connector.sync.state import StateStore

log = logging.getLogger("connector.orders")

# errors a reader's marketplace client raises that are bugs, not answers: never turned into a report line
_BUGS = (TypeError, AttributeError, NameError, AssertionError, ImportError)


@dataclass
class MarketplaceOrders:
    """One marketplace account's part of an orders run."""

    target: str
    account: str
    report: RunReport  # ``report.orders`` holds every order's outcome
    orders: list[Order] = field(default_factory=list)  # as read this run
    outcomes: list[OrderOutcome] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # keys an earlier pull should have seen
    report_path: Path | None = None
    unread: str | None = None  # why this account's orders were not read to the end: its open orders are unknown


@dataclass
class OrdersOutcome:
    exit_code: int = EXIT_OK
    runs: list[MarketplaceOrders] = field(default_factory=list)

    @property
    def pulled(self) -> list[Order]:
        return [o for run in self.runs for o in run.orders]

    @property
    def unread(self) -> list[str]:
        """Why each account whose orders were not read to the end was not (the stock push then raises nothing:
        ``connector.sync.hold``)."""
        return [run.unread for run in self.runs if run.unread]


def run_orders(targets: Sequence[SyncOptions], destination: OrderDestination, state: StateStore, *,
               pull: PullSettings, label: str, report_to: Path | None = None, several_reports: bool = False,
               keep_reports: int = KEEP_REPORTS, now: Callable[[], datetime] | None = None,
               on_run: Callable[[MarketplaceOrders], None] | None = None) -> OrdersOutcome:
    """Pull each target's orders into ``destination`` (``label``: how reports name it); save each report
    (``orders-<target>`` in the default folder, or ``report_to``)."""
    result = OrdersOutcome()
    clock = now or (lambda: datetime.now(UTC))
    for opts in targets:
        with TargetSession.open(opts, state) as session:
            run = MarketplaceOrders(opts.target, session.account, session.report)
            _pull_and_import(session, run, destination, pull, label, clock())
        record_run(result, run, f"orders-{opts.target}", opts, several=several_reports or len(targets) > 1,
                   report_to=report_to, keep_reports=keep_reports, on_run=on_run)
    return result


def record_run(result: Any, run: Any, name: str, opts: SyncOptions, *, several: bool, report_to: Path | None,
               keep_reports: int, on_run: Callable[[Any], None] | None) -> None:
    """One marketplace account's part of a run is over (orders in, or fulfilment): its report saved as ``name``
    (or to ``report_to``; ``several``: one of several reports of the run), the part added to ``result`` (its
    ``runs`` and worst ``exit_code``), then ``on_run`` told."""
    run.report_path = save_report(run.report, name, opts.state_path, requested=report_to, several=several,
                                  keep=keep_reports)
    result.runs.append(run)
    result.exit_code = worst([result.exit_code, run.report.exit_code])
    if on_run is not None:
        on_run(run)


def _pull_and_import(session: TargetSession, run: MarketplaceOrders, destination: OrderDestination,
                     pull: PullSettings, label: str, now: datetime) -> None:
    plugin, state, report, dry = session.plugin, session.state, session.report, session.opts.dry_run
    report.source = plugin.title
    report.target = f"{plugin.name} orders -> {label}"
    section: dict[str, Any] = {
        "marketplace": plugin.name, "account": session.account, "destination": label, "read": 0,
        "counts": {r.value: 0 for r in OrderResult}, "attention": 0, "missed": [], "read_error": None,
        "cursor": {"previous": None, "next": None, "saved": False}, "orders": []}
    report.orders = section
    if plugin.make_order_reader is None:  # the caller chose the targets; a plugin without a reader is a bug there
        raise ConnectorError(f"{plugin.title} reads no orders")
    reader = plugin.make_order_reader(session.http, session.settings, session.account, session.opts.secret or "")
    book = OrderBook(state, plugin.name, session.account)
    cursor_name = cursor_source(plugin.name)
    previous = section["cursor"]["previous"] = state.get_cursor(cursor_name, session.account)
    try:
        pulled = pull_orders(reader, previous_cursor=previous, known=dict.fromkeys(book.known()),
                             known_open=book.open_orders(), now=now, settings=pull)
    except _BUGS:
        raise
    except Exception as exc:  # each marketplace client raises its own errors: classified here
        run.unread = _read_failed(report, plugin.title, exc)
        return
    run.orders, run.missed = pulled.orders, pulled.missed
    section["read"], section["cursor"]["next"] = len(pulled.orders), pulled.cursor
    section["since"] = iso(pulled.since)
    by_key = {o.key: o for o in pulled.orders}
    section["missed"] = [by_key[k].reference for k in pulled.missed]
    if pulled.missed:
        report.notes.append(f"{len(pulled.missed)} order(s) an earlier run should have read were found by the "
                            f"lookback: {', '.join(section['missed'][:10])}")

    fresh, ids = _not_held(pulled.orders, destination, book)
    if not dry:
        session.start_run()
        book.remember(pulled.orders)
    handled, told = _hand(destination, fresh, book, session)
    report.notes.extend(destination.take_notes())
    outcomes = {o.order.key: o for o in told}
    run.outcomes = [outcomes.get(o.key) or OrderOutcome(o, OrderResult.UNCHANGED, remote_id=ids.get(o.key))
                    for o in pulled.orders]
    if handled and not dry and destination.not_taken is None:
        state.set_cursor(cursor_name, session.account, pulled.cursor)
        section["cursor"]["saved"] = True
    _account(section, run.outcomes)


def _not_held(orders: list[Order], destination: OrderDestination, book: OrderBook) -> tuple[list[Order], dict]:
    """(the orders to hand to the destination, the destination's ids of the others): an order whose very version
    the destination recorded, and finished (not ``"confirmed": false``), is not handed again, unless the
    destination's ``holds(body, order)`` says that record is not of it (the workbook: another file, or the
    order's rows deleted from it)."""
    hashes = book.imported_versions(destination.name)
    same = [o.key for o in orders if hashes.get(o.key) == o.fingerprint()]
    if not same:
        return orders, {}
    by_key = {o.key: o for o in orders}
    done = {k for k, body in book.imported_bodies(destination.name, same).items()
            if body.get("confirmed") is not False and destination.holds(body, by_key[k])}
    return [o for o in orders if o.key not in done], book.imported(destination.name)


def _hand(destination: OrderDestination, orders: list[Order], book: OrderBook,
          session: TargetSession) -> tuple[bool, list[OrderOutcome]]:
    """(whether the destination handled the orders, one outcome per order handed)."""
    if not orders:
        return True, []
    try:
        if session.opts.dry_run:
            told = list(destination.preview(orders, book))
        else:
            told = list(destination.import_orders(orders, book, session.run_id))
    except StateLockedError:
        raise
    except (ConnectorError, OSError) as exc:
        message = str(exc)
        if isinstance(exc, ConfigError):  # a setting the destination could only check now (a name Odoo lacks)
            session.report.refused = message  # exit 2, as for every configuration mistake
        elif getattr(exc, "exit_code", None) == EXIT_UNREACHABLE:
            session.report.unreachable = message
        done: dict[str, OrderOutcome] = getattr(exc, "outcomes", None) or {}  # what it did before it stopped
        return False, [done.get(o.key) or OrderOutcome(o, OrderResult.FAILED, f"not imported: {message}")
                       for o in orders]
    answered = {o.order.key for o in told}
    told += [OrderOutcome(o, OrderResult.FAILED, "the destination gave no outcome for this order")
             for o in orders if o.key not in answered]
    return True, told


def _account(section: dict[str, Any], outcomes: list[OrderOutcome]) -> None:
    for o in sorted(outcomes, key=lambda o: (o.order.created_at, o.order.key)):
        section["counts"][o.result.value] += 1
        order = o.order
        section["orders"].append({
            "reference": order.reference, "order_id": order.remote_id, "order_number": order.channel_order_id,
            "status": order.status.value, "raw_status": order.raw_status, "created_at": iso(order.created_at),
            "lines": len(order.lines), "result": o.result.value, "reason": o.reason, "destination_id": o.remote_id})
    section["attention"] = (section["counts"][OrderResult.FAILED.value] + section["counts"][OrderResult.ATTENTION.value]
                            + (1 if section["read_error"] else 0))


def classify(exc: BaseException) -> tuple[str, str]:
    """("unreachable" | "credentials" | "deferred" | "failed", message) of an error a marketplace client or a
    source raised: the one reading of such errors the orders and fulfilment flows share."""
    status = getattr(exc, "status", None)
    if isinstance(exc, MarketplaceUnreachable | TransportError) or getattr(exc, "exit_code", None) == EXIT_UNREACHABLE:
        return "unreachable", str(exc)
    if status in (401, 403) or getattr(exc, "auth_rejected", False):
        return "credentials", str(exc)
    unknown = unknown_outcome(exc)  # a page or a cut body for a 2xx, a 5xx to a call sent once: not a refusal
    if unknown is not None:
        return "deferred", unknown
    if isinstance(exc, BudgetExhausted | RateLimitedTooLong) or getattr(exc, "retryable", False) or contradicted(exc):
        return "deferred", str(exc)  # (a listing that contradicted itself may have changed while it was read)
    return "failed", str(exc)


def _read_failed(report: RunReport, title: str, exc: Exception) -> str:
    """A read that did not finish: nothing is handed on, the cursor stays.  Unreachable or credentials refused:
    exit 4; a spent budget, a stop, a marketplace still busy after the retries or a listing that contradicted
    itself: exit 3 (the next run carries on); anything else the marketplace answered: exit 1 with its message.
    Returns why, for the stock push."""
    section = report.orders or {}
    kind, _ = classify(exc)
    why = f"{title} orders could not be read ({exc})"
    if kind == "unreachable":
        report.unreachable = f"{title}: {exc}"
    elif kind == "credentials":
        report.unreachable = f"{title} refused the credentials while reading orders: {exc}"
    elif kind == "deferred":
        report.operations["deferred"] = report.operations.get("deferred", 0) + 1
        report.notes.append(f"orders not read to the end ({exc}); the next run reads them again")
        why = f"{title} orders were not read to the end ({exc})"
    else:
        section["read_error"] = f"{title} orders could not be read: {exc}"
        section["attention"] = 1
    log.debug("reading %s orders failed", title, exc_info=exc)
    return why
