"""The catalogue and stock flow: source -> canonical -> mapping -> plan -> (plan checks) -> push -> report.

``run_sync`` is the flow over one ``TargetSession`` (``session.py``: plugin, account, HTTP client, budget,
run bookkeeping); ``profile.run_profile`` runs it for every target of a profile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connector.errors import MappingError, MarketplaceUnreachable
from connector.mapping import CompiledMapping, load_mapping
from connector.memory import release_freed_memory
from connector.model import STOCK_KINDS, Product
from connector.sources.base import SourceResult
from connector.sync.active_column import column_state, hold_new_variants, untouched_fields
from connector.sync.active_column import remember as remember_active
from connector.sync.archived import listed_skus_reader, target_sift
from connector.sync.currency import DEFAULT_MINOR_UNITS
from connector.sync.fingerprint import mapping_context
from connector.sync.hold import account_held, hold_increases
from connector.sync.ops import RELEASED, AdapterBase, ItemResult, kept_ops, release
from connector.sync.payload_shape import probe_shapes
from connector.sync.plan import CATALOGUE, Plan, build_plan, save_record_marks
from connector.sync.price_unit import price_unit_problems
from connector.sync.push import PushEngine
from connector.sync.released_ops import sendable
from connector.sync.report import RunReport, account_rows, count_operations, record_payload_problems
from connector.sync.safety import SafetyOutcome, account_safety, after_plan, before_plan, stock_alone
from connector.sync.session import SyncOptions, TargetSession, merge_settings
from connector.sync.state import StateStore
from connector.sync.stock_policy import untracked_stock
from connector.sync.untracked import account_untracked
from connector.sync.vanished_locations import account_vanished, hold_vanished, remember

log = logging.getLogger("connector.sync")

__all__ = ["RELEASED", "PlanCheck", "SyncOptions", "SyncOutcome", "merge_settings", "run_sync"]

# A check of the plan before anything is sent (a mass-change guard, a "missing from source" policy, currency
# checks...): it may add notes to ``session.report``, or raise a ``UserError`` to send nothing (exit 2).  In a dry
# run, the create and stock ops of records no payload kind has confirmed may have let go of their payloads
# already (found valid as they were planned: ``build_plan``'s ``check``).
PlanCheck = Callable[[Plan, SourceResult, TargetSession], None]


@dataclass
class SyncOutcome:
    report: RunReport
    plan: Plan | None
    # (kind, key) -> what the push answered or, in a dry run, what the adapter's preview foresees (an op without
    # one would be sent as planned): what the printed plan says of each operation
    results: dict[tuple[str, str], ItemResult] = field(default_factory=dict)
    mapping_files: list[str] = field(default_factory=list)  # the mapping's files (``extends`` chain): unchanged.py


def run_sync(source: SourceResult, opts: SyncOptions,
             progress: Callable[[int], Callable[[int], None]] | None = None,
             state: StateStore | None = None, checks: Sequence[PlanCheck] = ()) -> SyncOutcome:
    """Plan and (unless dry-run) push one source result to one marketplace.

    ``state`` is an open state store (the caller holds its lock across targets); without one, the file at
    ``opts.state_path`` is opened and locked for this call.  ``checks`` run on the plan before anything is
    sent, dry runs included.
    """
    if state is None:
        with StateStore.open(opts.state_path) as own:
            return run_sync(source, opts, progress, own, checks)
    files: list[str] = []
    with TargetSession.open(opts, state) as session:
        plan, results = _plan_and_push(session, source, progress, checks, files)
    return SyncOutcome(report=session.report, plan=plan, results=results, mapping_files=files)


def partly_unknown_stock(products: list[Product]) -> dict[str, list[str]]:
    """Product key -> the SKUs of its variants on sale whose stock the source does not give (an empty Stock cell, no
    stock row), for the stocked products on sale of several variants (``AdapterBase.unknown_variants``)."""
    out = {}
    for product in products:
        if len(product.variants) > 1 and product.active and product.kind in STOCK_KINDS:
            unknown = [v.sku for v in product.variants if v.active and not v.stock_known]
            if unknown:
                out[product.key] = unknown
    return out


def _plan_and_push(session: TargetSession, source: SourceResult,
                   progress: Callable[[int], Callable[[int], None]] | None, checks: Sequence[PlanCheck],
                   mapping_files: list[str]) -> tuple[Plan, dict[tuple[str, str], ItemResult]]:
    opts, adapter, state, report = session.opts, session.adapter, session.state, session.report
    if not opts.dry_run:  # its clean run is saved again only if this one ends clean (unchanged.py)
        state.forget_clean_runs(opts.target, session.account)
    mapping = opts.loaded_mapping or target_mapping(opts.target, opts.mapping, session.plugin.default_mapping)
    mapping_files.extend(mapping.source_files)
    currency = opts.safety.currency
    for problem in price_unit_problems(mapping, adapter, session.settings.get("defaults") or {},
                                       currency.minor_units if currency else DEFAULT_MINOR_UNITS):
        raise problem  # every product would be listed at a hundredth of its price, or a hundred times it
    report.warnings = list(source.warnings)
    report.issues = [i.to_json() for i in source.issues]
    if isinstance(adapter, AdapterBase):  # a source giving no stock at all creates its products as ever
        adapter.source_gives_stock = "stock" in source.provided_fields
        if adapter.creates_need_stock and adapter.source_gives_stock:
            adapter.unknown_variants = partly_unknown_stock(source.products)
            # (an update adding one of those variants to a listed product is held as a create is)
            adapter.listed_variants = listed_skus_reader(
                state, opts.target, session.account,
                lambda: probe_shapes(mapping, adapter, session.settings.get("defaults") or {}))
    opts.stock_policy.apply(source.products, untracked_stock(session.settings))
    # a stock sheet (or CSV column) of the last run gone: no stock computed without it (vanished_locations.py)
    vanished = hold_vanished(source, opts.stock_policy, state, opts.target, session.account,
                             allow=opts.safety.allows("allow_location_removal"))
    report.reserved = opts.stock_policy.reservations(source.products)  # held back for open orders
    # Unattended runs never damage a live marketplace silently (safety.py): unknown stock locations are an
    # error, prices are converted to the account currency (a product whose price the marketplace would show wrongly
    # is left out: prices.py), SKUs no longer in the source follow the ``missing``
    # policy, and the mass-change guard may refuse the whole plan.
    safety = SafetyOutcome()
    safe_products = before_plan(source, opts.stock_policy, opts.safety, session.settings, opts.target,
                                session.plugin.title, safety)
    products = adapter.prepare(safe_products, state)
    defaults = session.settings.get("defaults") or {}
    # a product the marketplace has, refused for its price, still has its stock sent where that goes apart
    held_prices = stock_alone(safety, adapter, state, mapping, opts.target, session.account, defaults)
    if held_prices:
        products = [*products, *held_prices]
    stale: dict[str, list[str]] = {}  # a dry run's: the stock payloads a real run would mark stale (and send)
    if not opts.stock_policy.hold:  # (a hold caps what was last sent: the notes are kept for a later run)
        stale = resend_given_back(session, products, write=not opts.dry_run)
    hold = opts.stock_policy.hold  # some marketplace's orders are unknown: no quantity goes up (hold.py)
    held = hold_increases(products, source.products, mapping, adapter, state, opts.target, session.account,
                          defaults, hold) if hold else {}
    untouched = untouched_fields(source)
    context = mapping_context(mapping, adapter, defaults, session.settings, untouched)
    # no canonical text of a new payload is kept: the push encodes it when the op is confirmed (``stored_text``);
    # a dry run's preview that only validates is done as the ops are planned, valid ones let go of their payload
    early = adapter.validate if opts.dry_run and adapter.checks_when_planned else None
    # an archived product (or variant) the marketplace never listed is not created there (archived.py)
    # the Active column of the last run gone: no variant the marketplace lacks is added to a listed product
    safety.active = column_state(source, state, opts.target, session.account)
    products = hold_new_variants(safety.active, products, state, opts.target, session.account,
                                 lambda: probe_shapes(mapping, adapter, defaults),
                                 allow=opts.safety.allows("allow_active_column_removal"), title=session.plugin.title)
    sift = target_sift(session.settings, session.plugin.title, state, opts.target, session.account, adapter,
                       lambda: probe_shapes(mapping, adapter, defaults), dry_run=opts.dry_run)
    plan = build_plan(products, mapping, adapter, state, opts.target, session.account, defaults=defaults,
                      context=context, note_marks=not opts.dry_run, keep_texts=False, check=early,
                      pack=not opts.dry_run, stale=stale if opts.dry_run else None,
                      stock_only=frozenset(p.key for p in held_prices), sift=sift, untouched=untouched)
    after_plan(plan, source, state, mapping, adapter, opts.stock_policy, opts.safety, defaults, safety)
    for check in checks:
        check(plan, source, session)
    release_freed_memory()  # the mapping's and checks' freed C heap: the report's work takes it (connector/memory.py)
    results: dict = dict(safety.results)  # a refused plan: every operation "not sent"
    if not safety.blocked:
        session.estimate(plan.ops)
        results = _preview(session, plan) if opts.dry_run else _push(session, plan, progress)
        release_sent(plan, results, adapter.invalid_code)
    if not opts.dry_run:
        save_record_marks(plan, state)  # the next plan skips mapping the records that did not change
        if not safety.blocked and not report.unreachable:  # its stock was sent: its locations are the last run's
            remember(vanished, state, opts.target, session.account)
            remember_active(safety.active, state, plan)  # (and whether it had an Active column)
    release_freed_memory()  # (what the push or the preview freed: the rows' accounting takes it)
    catalogue_kind = next((k for k, role in adapter.roles.items() if role == CATALOGUE), None)
    account_rows(report, source, plan, results, catalogue_kind=catalogue_kind,
                 dry_run=opts.dry_run and not safety.blocked)
    release_freed_memory()  # (account_rows' lookup tables, freed)
    record_payload_problems(report, results, adapter)
    account_untracked(report, source.products, session.plugin.title, adapter.untracked_stock_left)
    account_safety(report, safety, results)  # rows of SKUs no longer in the source, refusals, guard notes
    account_vanished(report, vanished)
    if hold:
        account_held(report, held, hold.reason)
    report.operations = count_operations(plan, results)
    counts, notes = adapter.report_extras()
    report.operations.update(counts)
    report.notes.extend(notes)
    return plan, results


def target_mapping(target: str, mapping_file: str | None, default: str) -> CompiledMapping:
    """The mapping a target's run uses, loaded and checked to be that marketplace's: a mapping of another
    marketplace (``extends: elryan`` for an Elebne target) is refused, naming the file (its payloads are not the
    target's: every row would fail, or worse).  ``connector sync`` calls it for every target before it reads or
    sends anything and hands the result to the run (``SyncOptions.loaded_mapping``); other callers' runs call it
    as they plan."""
    mapping = load_mapping(mapping_file or default)
    if mapping.marketplace != target:  # another marketplace's payloads: every row would fail, or worse
        raise MappingError(f"this mapping is for {mapping.marketplace!r}, not for the target {target!r} "
                           f"(start from `extends: {target}`)", file=mapping.source_files[-1], path="marketplace")
    return mapping


def resend_given_back(session: TargetSession, products: Sequence[Any], write: bool = True) -> dict[str, list[str]]:
    """Units a cancellation gave back to this marketplace's stock by itself (``OrderBook``'s ``order.given_back``,
    noted when the orders read sees an open line cancelled): the stock it lists is no longer the one last sent,
    so the stock payloads of the products holding those SKUs are marked stale and sent again by this run, even
    when the quantity wanted did not change (0: the last unit sold on two marketplaces, one order cancelled:
    without this the marketplace lists the unit given back, which the shop does not have).

    Marked stale, not forgotten: their body (the quantity last sent) stays for the mass-change guard and for a
    later stock hold, should this push not confirm them.  A note is let go, in the same transaction, only when a
    product of this run holds its SKU; the others (a product an incremental read did not bring, a row skipped
    this run) wait for the run that plans them.  A run killed after it sends them on its next run, as for any
    stock not yet confirmed.

    Returns the stock payloads concerned (kind -> product keys), and notes them in the report.  ``write=False``
    (a dry run): the state is left as it is; the plan is handed them instead (``build_plan``'s ``stale``), so
    the dry run shows the stock a real run would send again."""
    from connector.orders.book import GIVEN_BACK
    from connector.sync.ops import STOCK

    state, marketplace, account = session.state, session.plugin.name, session.account
    given = state.hashes(marketplace, account, GIVEN_BACK)
    seen = session.opts.given_back if not write else frozenset()  # a dry run's orders read: noted by a real one
    if not given and not seen:
        return {}
    notes = state.bodies(marketplace, account, GIVEN_BACK, given) if given else {}
    planned = {v.sku for p in products for v in p.variants}
    done = [key for key, body in notes.items() if body.get("sku") in planned]
    skus = {notes[key].get("sku") for key in done} | (seen & planned)
    if not skus:
        return {}
    keys = [p.key for p in products if any(v.sku in skus for v in p.variants)]
    stale = {kind: keys for kind, role in session.adapter.roles.items() if role == STOCK}
    if write:
        with state.atomic():
            for kind, stale_keys in stale.items():
                state.mark_stale(session.opts.target, account, kind, stale_keys)
            for key in done:
                state.forget(marketplace, account, GIVEN_BACK, key)
    shown = ", ".join(sorted(keys)[:10]) + (", ..." if len(keys) > 10 else "")
    session.report.notes.append(
        f"cancelled orders gave units back to {session.plugin.title}'s own stock count: the stock of {len(keys)} "
        f"product(s) {'would be' if not write else 'is'} sent again, even where the quantity wanted did not "
        f"change: {shown}")
    return stale


def release_sent(plan: Plan, results: dict[tuple[str, str], ItemResult], invalid_code: str) -> None:
    """Let go of what the ops carried for sending once the push (or the dry run's preview) is over: their payloads
    and canonical texts, about 100 MB for 100,000 products, freed before the report is built (``ops.release``; the
    push lets go of each accepted op as soon as it is confirmed).  Kept is what the report and the printed plan
    still read: the body of an update (its changed fields are listed) and every op refused as invalid before
    sending (its problems are listed per value, from its payload)."""
    for op in kept_ops(plan.ops):  # (a dry run's plan holds most ops as released: ``released_ops``)
        r = results.get((op.kind, op.key))
        if r is not None and not r.ok and r.code == invalid_code:
            continue
        release(op)


def _preview(session: TargetSession, plan: Plan) -> dict:
    """What the push would answer, as far as it can be known without writing.  A read the marketplace refuses
    (its key, or no answer at all) ends the dry run as it would end the real one: unreachable (exit 4), nothing
    sent."""
    sent = sendable(plan.ops)  # (a dry run's: not a list of every op made, ``released_ops``)
    try:
        previewed = session.adapter.preview(sent, bool(session.opts.secret))  # type: ignore[arg-type]
    except MarketplaceUnreachable as exc:
        session.report.unreachable = str(exc)
        previewed = [ItemResult(op, ok=False, deferred=True, message=f"not sent: {exc}") for op in sent]
    return {(r.op.kind, r.op.key): r for r in previewed}


def _push(session: TargetSession, plan: Plan, progress: Callable[[int], Callable[[int], None]] | None) -> dict:
    session.start_run()
    on_progress = progress(len(plan.ops)) if progress else None
    engine = PushEngine(plan, session.adapter, session.state, session.run_id, on_progress)
    try:
        results = engine.run()
    except MarketplaceUnreachable as exc:
        results = engine.results
        session.report.unreachable = str(exc)
    if engine.stale_batches:
        session.report.notes.append(f"{engine.stale_batches} batch(es) of an interrupted run had no recorded "
                                    "outcome; they were planned again (creates reuse their idempotency keys)")
    return results
