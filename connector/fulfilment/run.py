"""The fulfilment flow: what shipped or was cancelled in the merchant's system goes back to each marketplace.

1. The orders the destination holds (``OrderBook.imported``), with each one as last read from its marketplace,
   are handed to the source, which is read **once** for every marketplace of the run.
2. Each order's progress is remembered in the state (kind ``fulfil.progress``, hash = its fingerprint) before
   anything is sent; only then is the source's cursor saved.  A marketplace that failed is tried again next run
   from what is remembered: the source is not read again for it.
3. Per marketplace account (a ``TargetSession`` each), every remembered progress whose fingerprint is not the one
   the marketplace confirmed (kind ``fulfil.confirmed``) is checked against the generic rules below, then handed to
   the marketplace's writer; an outcome that is not needs attention or failed is confirmed.

Generic rules (here, never in a writer): a progress with problems (a bad workbook cell) is needs attention; a
cancellation of an order the marketplace already cancelled is unchanged (no call: the loop Odoo cancel <-
marketplace cancel stops here); a cancellation of an order the marketplace shows shipped, or whose shipment an
earlier run sent (the writer's ``shipment_steps`` confirmed), a shipment of an order it cancelled, or that an
earlier run cancelled (``cancel_steps``), a shipment whose carrier the profile does not map for that
marketplace, a shipment without a tracking number where the writer needs one, a cancellation without a reason
code where the writer needs one are needs attention, never sent to be refused.  A marketplace without a writer
(Elebne) is unsupported, said once per change of an order.  A dry run asks each writer what it would send:
nothing sent, remembered or saved.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.config import FulfilmentSection, matching_name
from connector.errors import (
    EXIT_OK,
    UserError,
)
from connector.fulfilment.model import FulfilOutcome, FulfilResult, OrderProgress
from connector.fulfilment.source import FulfilmentSource, ImportedOrder, SourceRead
from connector.fulfilment.writer import CONFIRMED, PROGRESS, FulfilPlan, StepLog
from connector.marketplaces.base import MarketplacePlugin
from connector.marketplaces.registry import get_plugin
from connector.orders.book import OrderBook
from connector.orders.model import Order, OrderStatus, iso
from connector.orders.run import classify, record_run
from connector.sync.profile import KEEP_REPORTS
from connector.sync.report import RunReport
from connector.sync.session import SyncOptions, TargetSession, account_name
from connector.sync.state import StateStore

log = logging.getLogger("connector.fulfilment")

_BUGS = (TypeError, AttributeError, NameError, AssertionError, ImportError, KeyError)
_SHIPPED_ON_MARKETPLACE = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED)


@dataclass
class MarketplaceFulfilment:
    """One marketplace account's part of a fulfilment run."""

    target: str
    account: str
    report: RunReport  # ``report.fulfilment`` holds every order's outcome
    outcomes: list[FulfilOutcome] = field(default_factory=list)
    report_path: Path | None = None


@dataclass
class FulfilRunOutcome:
    exit_code: int = EXIT_OK
    runs: list[MarketplaceFulfilment] = field(default_factory=list)


@dataclass
class _Read:
    """The source's one read of this run, as every account's part sees it."""

    progress: dict[tuple[str, str], list[OrderProgress]] = field(default_factory=dict)  # (marketplace, account)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the source answered but could not be read: needs attention
    unreachable: str | None = None  # the source could not be reached: exit 4
    deferred: str | None = None


def cursor_name(source: FulfilmentSource) -> str:
    return f"fulfil:{source.name}"


def cursor_key(accounts: Iterable[tuple[str, str]]) -> str:
    """The cursor is saved per set of marketplace accounts read together: a ``--target`` run reads the source
    for one of them and leaves the others' cursor where it was."""
    return "+".join(sorted(f"{m}/{a}" for m, a in accounts))


def run_fulfil(targets: Sequence[SyncOptions], source: FulfilmentSource, destination: str, state: StateStore, *,
               settings: FulfilmentSection, label: str, report_to: Path | None = None, several_reports: bool = False,
               keep_reports: int = KEEP_REPORTS, now: Callable[[], datetime] | None = None,
               on_run: Callable[[MarketplaceFulfilment], None] | None = None) -> FulfilRunOutcome:
    """Send each target's shipments and cancellations that ``source`` knows of (``destination``: the name the
    orders flow records imports under; ``label``: how reports name the source); save each report
    (``fulfil-<target>`` in the default folder, or ``report_to``)."""
    result = FulfilRunOutcome()
    if not targets:
        return result
    clock = now or (lambda: datetime.now(UTC))
    dry = any(o.dry_run for o in targets)
    accounts = [(opts, get_plugin(opts.target)) for opts in targets]
    names = [(plugin.name, account_name(opts, plugin)) for opts, plugin in accounts]
    read = _read_source(source, destination, state, names, dry=dry, now=clock())
    for (opts, plugin), (_, account) in zip(accounts, names, strict=True):
        with TargetSession.open(opts, state) as session:
            run = MarketplaceFulfilment(opts.target, session.account, session.report)
            _send(session, run, read.progress.get((plugin.name, account), []), read, settings, label)
        record_run(result, run, f"fulfil-{opts.target}", opts, several=several_reports or len(targets) > 1,
                   report_to=report_to, keep_reports=keep_reports, on_run=on_run)
    return result


def imported_orders(state: StateStore, destination: str, marketplace: str, account: str) -> list[ImportedOrder]:
    """The orders ``destination`` holds of one account, each as last read from the marketplace."""
    book = OrderBook(state, marketplace, account)
    ids = book.imported(destination)
    orders = book.load(ids)
    records = book.imported_bodies(destination, ids)
    return [ImportedOrder(orders[k], ids[k], records.get(k, {})) for k in ids if k in orders]


def _read_source(source: FulfilmentSource, destination: str, state: StateStore, accounts: list[tuple[str, str]], *,
                 dry: bool, now: datetime) -> _Read:
    imported = [o for m, a in accounts for o in imported_orders(state, destination, m, a)]
    name, key = cursor_name(source), cursor_key(accounts)
    previous = state.get_cursor(name, key)
    out = _Read()
    try:
        got: SourceRead = source.read(imported, previous, now)
    except (*_BUGS, UserError):
        raise
    except Exception as exc:  # each source raises its own errors: classified here
        kind, message = _classified(exc)
        message = f"the {source.name} source could not be read: {message}"
        setattr(out, {"unreachable": "unreachable", "deferred": "deferred"}.get(kind, "error"), message)
        log.debug("reading %s failed", source.name, exc_info=exc)
        return out
    wanted = set(accounts)
    for progress in got.progress:
        if (progress.marketplace, progress.account) in wanted:
            out.progress.setdefault((progress.marketplace, progress.account), []).append(progress)
    out.notes = list(got.notes)
    if not dry:
        with state.atomic():  # remembered before anything is handed on; the cursor only after
            for (marketplace, account), items in out.progress.items():
                state.confirm(marketplace, account, PROGRESS,
                              [(p.key, p.fingerprint(), _dump(p.to_json()), None) for p in items])
        if got.cursor is not None:
            state.set_cursor(name, key, got.cursor)
    return out


def _classified(exc: BaseException) -> tuple[str, str]:
    """``classify``, refused credentials counted as unreachable (exit 4) with what was refused said."""
    kind, message = classify(exc)
    return ("unreachable", f"the credentials were refused: {message}") if kind == "credentials" else (kind, message)


def plan_for(target: str, progress: OrderProgress, settings: FulfilmentSection) -> tuple[FulfilPlan, list[str]]:
    """The profile's part of one order's progress for ``target``: each shipment's courier on that marketplace,
    the cancellation's reason code, ``shipped_when``; and the shipments whose carrier it does not map."""
    carriers = settings.carriers.get(target, {})
    couriers: dict[str, str] = {}
    unmapped: list[str] = []
    for shipment in progress.shipments:
        courier = carriers.get(matching_name(shipment.carrier)) if shipment.carrier else None
        if courier is None:
            unmapped.append(shipment.carrier or "")
        else:
            couriers[shipment.shipment_id] = courier
    reasons = settings.cancel_reasons.get(target, {})
    reason = None
    if progress.cancelled:
        reason = reasons.get(matching_name(progress.cancel_reason or "")) or reasons.get("default")
    return FulfilPlan(couriers=couriers, cancel_reason=reason,
                      shipped_when=settings.shipped_when.get(target, "all_lines")), unmapped


def _send(session: TargetSession, run: MarketplaceFulfilment, fresh: list[OrderProgress], read: _Read,
          settings: FulfilmentSection, label: str) -> None:
    plugin, state, report, dry = session.plugin, session.state, session.report, session.opts.dry_run
    report.source = label
    report.target = f"{plugin.name} fulfilment"
    section: dict[str, Any] = {
        "marketplace": plugin.name, "account": session.account, "source": label,
        "counts": {r.value: 0 for r in FulfilResult}, "attention": 0, "read_error": read.error,
        "unsupported": plugin.fulfilment_unsupported if plugin.make_fulfilment_writer is None else None,
        "orders": []}
    report.fulfilment = section
    report.notes.extend(read.notes)
    if read.unreachable:
        report.unreachable = read.unreachable
    if read.deferred:
        report.operations["deferred"] = report.operations.get("deferred", 0) + 1
        report.notes.append(f"{read.deferred}; the next run reads it again")
    pending = _pending(state, plugin.name, session.account, fresh if dry else [])
    book = OrderBook(state, plugin.name, session.account)
    orders = book.load(p.key for p in pending)
    writer = None
    if plugin.make_fulfilment_writer is not None:
        writer = plugin.make_fulfilment_writer(session.http, session.settings, session.account,
                                               session.opts.secret or "")
    if pending and writer is not None and not dry:
        session.start_run()
    steps = StepLog(state, plugin.name, session.account, session.run_id)
    ordered = sorted(pending, key=lambda p: (_created(orders.get(p.key)), p.key))
    for n, progress in enumerate(ordered):
        order = orders.get(progress.key)
        try:
            outcome = _one(session, writer, order, progress, settings, steps)
        except _Stop as stop:  # the marketplace cannot be reached, or its budget is spent: the rest waits
            waiting = [_name(orders.get(p.key), p) for p in ordered[n:]]
            report.notes.append(f"waiting for the next run: {', '.join(waiting[:10])}"
                                f"{', ...' if len(waiting) > 10 else ''}")
            report.notes.append(f"{len(waiting)} order(s) not sent this run ({stop}): the next run carries on, "
                                "looking up first what a call sent may have done")
            break
        if outcome.ok and not dry:
            with state.atomic():
                state.confirm(plugin.name, session.account, CONFIRMED,
                              [(progress.key, progress.fingerprint(),
                                _dump({"result": outcome.result.value, "sent": outcome.sent, "run": session.run_id}),
                                None)])
                if outcome.result is FulfilResult.CANCELLED and order is not None:
                    book.note_given_back(order)  # its units are back on the marketplace's stock: sent again
        run.outcomes.append(outcome)
        _account(section, outcome, order)
    section["attention"] = (section["counts"][FulfilResult.FAILED.value]
                            + section["counts"][FulfilResult.ATTENTION.value] + (1 if read.error else 0))


def _pending(state: StateStore, marketplace: str, account: str, fresh: list[OrderProgress]) -> list[OrderProgress]:
    """Every remembered progress (and, in a dry run, this read's) whose fingerprint the marketplace has not
    confirmed."""
    remembered = state.hashes(marketplace, account, PROGRESS)
    confirmed = state.hashes(marketplace, account, CONFIRMED)
    fresh_by_key = {p.key: p for p in fresh if confirmed.get(p.key) != p.fingerprint()}
    keys = [k for k, h in remembered.items() if confirmed.get(k) != h and k not in fresh_by_key]
    loaded = [OrderProgress.from_json(b) for b in state.bodies(marketplace, account, PROGRESS, keys).values()]
    return loaded + list(fresh_by_key.values())


def _created(order: Order | None) -> str:
    return iso(order.created_at) or "" if order is not None else ""


def _one(session: TargetSession, writer: Any, order: Order | None, progress: OrderProgress,
         settings: FulfilmentSection, steps: StepLog) -> FulfilOutcome:
    """One order: the generic rules, then the writer (``apply``, or ``preview`` in a dry run)."""
    plugin: MarketplacePlugin = session.plugin

    def held(reason: str) -> FulfilOutcome:
        return FulfilOutcome(progress, FulfilResult.ATTENTION, reason)

    if order is None:
        return held("the order is not in the state (read it with `connector orders` first)")
    if progress.problems:
        return held("; ".join(progress.problems))
    if progress.cancelled and order.status is OrderStatus.CANCELLED:
        return FulfilOutcome(progress, FulfilResult.UNCHANGED, "already cancelled on the marketplace")
    if writer is None:
        return FulfilOutcome(progress, FulfilResult.UNSUPPORTED,
                             plugin.fulfilment_unsupported or f"{plugin.title} takes no shipments or cancellations")
    plan, unmapped = plan_for(session.opts.target, progress, settings)
    if progress.cancelled:
        if order.status in _SHIPPED_ON_MARKETPLACE:
            return held(f"cancelled in the source, but {plugin.title} shows it {order.status.value}")
        shipped = steps.confirmed(order.key, getattr(writer, "shipment_steps", ()))
        if shipped:  # sent by an earlier run; the order as last read may not show it yet
            return held(f"cancelled in the source, but its shipment was sent to {plugin.title} already "
                        f"({', '.join(shipped)}): a shipped order is not cancelled; settle it in {plugin.title}'s "
                        "back office (or set its Status back to shipped)")
        if plan.cancel_reason is None and getattr(writer, "needs_cancel_reason", False):  # optional (writer.py)
            words = f"'{progress.cancel_reason}'" if progress.cancel_reason else "no reason given"
            return held(f"cancelled ({words}), but orders.fulfilment.cancel_reasons.{session.opts.target} maps no "
                        f"{plugin.title} reason code for it (and has no default)")
    elif progress.shipments:
        if order.status is OrderStatus.CANCELLED:
            return held(f"shipped in the source, but cancelled on {plugin.title}")
        cancelled = steps.confirmed(order.key, getattr(writer, "cancel_steps", ()))
        cancels_of = getattr(writer, "cancels_of", None)  # a writer that cancels line by line says which count
        if cancelled and cancels_of is not None:
            picked = cancels_of(progress.shipments, cancelled)
            cancelled = cancelled if picked is None else picked  # (None: the protocol's own body, not a writer's)
        if cancelled:
            return held(f"shipped in the source, but an earlier run cancelled it on {plugin.title} "
                        f"({', '.join(cancelled)})")
        if unmapped:
            return held(_unmapped_words(unmapped, progress, plugin.title, session.opts.target))
        untracked = [s.shipment_id for s in progress.shipments if not s.tracking_number]
        if untracked and writer.needs_tracking:
            return held(f"{plugin.title} needs a tracking number: shipment {', '.join(untracked)} has none")
    try:
        if session.opts.dry_run:
            return writer.preview(order, progress, plan, steps)
        return writer.apply(order, progress, plan, steps)
    except (*_BUGS, UserError):
        raise
    except Exception as exc:  # each marketplace client raises its own errors: classified here
        kind, message = _classified(exc)
        if kind == "failed":
            return FulfilOutcome(progress, FulfilResult.FAILED, message)
        if kind == "unreachable":
            session.report.unreachable = f"{plugin.title}: {message}"
        else:
            session.report.operations["deferred"] = session.report.operations.get("deferred", 0) + 1
        log.debug("sending to %s stopped", plugin.title, exc_info=exc)
        raise _Stop(message) from exc


def _unmapped_words(unmapped: list[str], progress: OrderProgress, title: str, target: str) -> str:
    """Why shipments wait for their courier: a carrier the profile does not map, or none at all (an Odoo delivery
    validated without one, or an Odoo without the delivery module), which no mapping can cure."""
    setting = f"orders.fulfilment.carriers.{target}"
    named = [c for c in dict.fromkeys(unmapped) if c]
    words = [f"carrier {', '.join(repr(c) for c in named)} is not mapped to a courier of {title}: add it under "
             f"{setting}"] if named else []
    if "" in unmapped:
        bare = ", ".join(s.shipment_id for s in progress.shipments if not s.carrier)
        words.append(f"shipment {bare} has no carrier: set the delivery's carrier in the source ({setting} maps a "
                     f"carrier's name to a courier of {title})")
    return "; ".join(words)


class _Stop(Exception):
    """The account's sending stops here (unreachable, credentials refused, budget spent, stop asked)."""


def _name(order: Order | None, progress: OrderProgress) -> str:
    return order.reference if order is not None else progress.key


def _account(section: dict[str, Any], outcome: FulfilOutcome, order: Order | None) -> None:
    section["counts"][outcome.result.value] += 1
    section["orders"].append({
        "reference": _name(order, outcome.progress),
        "order_id": outcome.progress.key, "result": outcome.result.value, "reason": outcome.reason,
        "sent": list(outcome.sent), "shipments": [s.shipment_id for s in outcome.progress.shipments],
        "cancelled": outcome.progress.cancelled})


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
