"""The runner's hooks for issue 12: unattended runs never damage a live marketplace silently.

``run_sync`` calls, in this order (each a few clearly marked lines there):

1. ``before_plan``: unknown stock locations are an error; prices converted to the account currency; a product
   whose price the marketplace would show wrongly (0 or less, more decimals than the currency has) is left out
   (``prices.py``).  ``stock_alone``, once the target's adapter prepared the products: of those, a product the
   marketplace already has, whose stock goes apart from its price, still has its stock planned (``price_hold.py``).
2. ``after_plan``: a listed SKU retyped in other letter case is not created, nor a listed product updated whose
   variant's SKU was (``case_retyped.py``); operations for SKUs no longer in the source (``missing.py``), then the
   mass-change guard (``guard.py``) on the whole plan.  A refused plan is not pushed.  Then a price far from the
   one the marketplace last confirmed (a typo) holds back the payloads of its product that carry it
   (``price_moves.py``).
3. ``account_safety``: report rows for the missing SKUs and for products whose currency could not be
   converted, whose price was refused or whose SKU was retyped in other letter case; a refused run's rows say
   they were not sent, and its exit code is 2.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from connector.mapping import CompiledMapping
from connector.marketplaces.base import ItemResult
from connector.model import Product
from connector.shown import first_few
from connector.sources.base import SKU_CASE_CHANGED, SourceResult
from connector.sync.active_column import CODE as ACTIVE_COLUMN_MISSING
from connector.sync.active_column import ActiveColumnGone, hold_new_listings
from connector.sync.case_retyped import CaseRetyped, hold_retyped
from connector.sync.confirmed import ConfirmedBodies
from connector.sync.currency import DEFAULT_MINOR_UNITS, CurrencySettings, convert_products, unstated_warning
from connector.sync.guard import GuardSettings, GuardVerdict, check_mass_change, check_stock_locations, likely_causes
from connector.sync.missing import MOVED, NO_LONGER_IN_SOURCE, RENAMED, MissingResult, add_missing_ops
from connector.sync.ops import STOCK
from connector.sync.payload_shape import probe_shapes
from connector.sync.plan import Plan
from connector.sync.price_hold import hold_prices
from connector.sync.price_moves import PriceMoves, check_price_moves
from connector.sync.prices import PRICE_REFUSED, PriceRefusals, refuse_prices
from connector.sync.report import FAILED, PUSHED, SKIPPED, RowOutcome, RunReport
from connector.sync.state import StateStore
from connector.sync.stock_policy import StockPolicy

GUARD_REFUSED = "not sent: the mass-change guard refused this run"
GUARD_CODE = "mass_change_guard"
# a product the marketplace has, refused for its price, whose stock goes apart from it (``price_hold.py``)
PRICE_HELD = "price not sent, nor the product's other changes (fix the price in the source)"


@dataclass
class SafetyOptions:
    """Per-target settings (profile ``missing:``, ``guard:``, ``currency:``; ``--allow-mass-change``,
    ``--allow-price-change``, ``--allow-sku-case-change``)."""

    missing: str = "zero"
    guard: GuardSettings | None = field(default_factory=GuardSettings)  # None: no guard
    currency: CurrencySettings | None = None  # None: EcomLinx's settings.currency only, if given

    def allows(self, flag: str) -> bool:
        """Whether the guard's yes/no setting ``flag`` (``guard_flags.ALLOWS``) is on; no guard allows nothing."""
        return self.guard is not None and bool(getattr(self.guard, flag))


@dataclass
class SafetyOutcome:
    refused_currency: dict[str, str] = field(default_factory=dict)  # SKU -> reason
    prices: PriceRefusals = field(default_factory=PriceRefusals)  # products left out for their price
    moves: PriceMoves = field(default_factory=PriceMoves)  # prices that moved too far (held back, or allowed)
    currency_warning: str | None = None  # the account currency was not stated (EcomLinx)
    missing: MissingResult = field(default_factory=MissingResult)
    verdict: GuardVerdict = field(default_factory=GuardVerdict)
    # a refused plan: every operation "skipped" (not sent), so rows and counts say so
    results: dict[tuple[str, str], ItemResult] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # payload kind -> CATALOGUE | STOCK (the plan's)
    retyped: CaseRetyped = field(default_factory=CaseRetyped)  # SKUs retyped in other letter case
    active: ActiveColumnGone = field(default_factory=ActiveColumnGone)  # products not created: Active column gone
    title: str = ""  # the marketplace's (``before_plan``)

    @property
    def blocked(self) -> bool:
        return self.verdict.blocked


def before_plan(source: SourceResult, policy: StockPolicy, options: SafetyOptions, settings: dict[str, Any],
                target: str, title: str, outcome: SafetyOutcome) -> list[Product]:
    """Check the stock locations, convert and check prices; returns the products to plan."""
    check_stock_locations(policy, source.products)
    outcome.title = title
    currency = options.currency
    if currency is None and settings.get("currency"):
        currency = CurrencySettings(account=str(settings["currency"]).strip().upper())
    products, outcome.refused_currency = convert_products(source.products, currency, title)
    outcome.currency_warning = unstated_warning(target, title, currency, products)
    products, outcome.prices = refuse_prices(products, currency.minor_units if currency else DEFAULT_MINOR_UNITS,
                                             target)
    return products


def stock_alone(outcome: SafetyOutcome, adapter: Any, state: StateStore, mapping: CompiledMapping,
                marketplace: str, account: str, defaults: dict[str, Any]) -> list[Product]:
    """The products refused for their price whose stock alone is planned (``build_plan``'s ``stock_only``),
    prepared by the adapter (none in most runs)."""
    refused = outcome.prices.products
    if not refused:
        return []
    prepared = adapter.prepare([p for p, _problem in refused], state)
    return hold_prices(prepared, outcome.prices, mapping, adapter, state, marketplace, account, defaults)


def after_plan(plan: Plan, source: SourceResult, state: StateStore, mapping: CompiledMapping, adapter: Any,
               policy: StockPolicy, options: SafetyOptions, defaults: dict[str, Any],
               outcome: SafetyOutcome) -> None:
    outcome.roles = dict(plan.roles)
    shapes = probe_shapes(mapping, adapter, defaults)
    bodies = ConfirmedBodies(state, plan.marketplace, plan.account, shapes)  # each body read once for all four
    allow_case = options.allows("allow_sku_case_change")
    outcome.retyped = hold_retyped(plan, source, allow=allow_case, title=outcome.title or plan.marketplace,
                                   missing=options.missing, bodies=bodies, shapes=shapes)
    hold_new_listings(plan, outcome.active, title=outcome.title or plan.marketplace,
                      allow=options.allows("allow_active_column_removal"))
    if options.missing == "keep" and options.guard is None:
        return
    outcome.missing = add_missing_ops(plan, source, bodies, mapping, shapes, policy=options.missing,
                                      full_read=source.full_read, defaults=defaults, adapter=adapter,
                                      present=outcome.retyped.held.values(), retyped=outcome.retyped.old_variants())
    if options.guard is not None:
        moved = sum(1 for m in outcome.missing.skus if m.reason.startswith(MOVED))
        renamed = sum(1 for m in outcome.missing.skus if m.reason.startswith(RENAMED))
        missing = len(outcome.missing.skus) - moved - renamed
        outcome.verdict = check_mass_change(plan, bodies, shapes, options.guard,
                                            lambda: likely_causes(source, policy, missing, options.missing,
                                                                  moved, renamed))
        if outcome.verdict.blocked:
            outcome.results = {(op.kind, op.key): ItemResult(op, ok=False, skipped=True, message=GUARD_REFUSED,
                                                             code=GUARD_CODE)
                               for op in plan.ops if op.action != "refresh"}
            return
        outcome.moves = check_price_moves(plan, bodies, shapes, mapping, options.guard, outcome.prices)


def account_safety(report: RunReport, outcome: SafetyOutcome, results: dict[tuple[str, str], ItemResult]) -> None:
    """Rows of their own for missing SKUs; currency and price refusals; a refused run's rows and notes."""
    for refused, status, code in ((outcome.refused_currency, FAILED, None),
                                  (outcome.prices.reasons, SKIPPED, PRICE_REFUSED),
                                  (outcome.retyped.reasons, SKIPPED, SKU_CASE_CHANGED),
                                  (outcome.active.held, SKIPPED, ACTIVE_COLUMN_MISSING)):
        for row in report.rows if refused else ():
            if row.sku in refused and not row.attention:
                row.status, row.reason, row.attention, row.code = status, refused[row.sku], True, code
                row.actions = []
    if outcome.prices.held:
        _account_held_prices(report, outcome.prices.held)
    report.issues += outcome.prices.issues
    for m in outcome.missing.skus:
        row = RowOutcome(sku=m.sku, product=m.key, sheet=None, row=None, status=PUSHED,
                         actions=["stock" if outcome.roles.get(k) == STOCK else "update" for k in m.kinds],
                         reason=m.reason)
        if outcome.blocked:
            row.status, row.reason, row.code = SKIPPED, f"{m.reason}; {GUARD_REFUSED}", GUARD_CODE
        elif not report.dry_run:
            _missing_outcome(row, [results.get((k, m.key)) for k in m.kinds])
        else:
            row.reason = f"{m.reason} (dry run: would be sent)"
        report.rows.append(row)
    held = outcome.missing.held
    if held:
        unread = outcome.missing.unread
        rows = first_few(unread, 3)
        reason = f"{NO_LONGER_IN_SOURCE}, left as it is: {rows}, refused for its SKU, may be its row (fix it)"
        report.rows += [RowOutcome(sku=sku, product=key, sheet=None, row=None, status=SKIPPED, reason=reason)
                        for key, sku in held]
        report.notes.append(f"{len(held)} SKU(s) no longer in source left as they are on the marketplace while "
                            f"{rows} {'is' if len(unread) == 1 else 'are'} refused for the SKU cell: "
                            + ", ".join(sku for _key, sku in list(held)[:5]) + (" ..." if len(held) > 5 else ""))
    if outcome.currency_warning:
        report.warnings.append(outcome.currency_warning)
    note = outcome.moves.note(report.dry_run)
    if note is not None:
        report.notes.append(note)
    report.notes += outcome.retyped.notes(report.dry_run, outcome.title)
    report.notes += outcome.active.notes(report.dry_run, outcome.title)
    gone = [m.sku for m in outcome.missing.skus if m.reason == NO_LONGER_IN_SOURCE]
    if gone:
        report.notes.append(f"{len(gone)} SKU(s) no longer in source: " + ", ".join(gone[:5])
                            + (" ..." if len(gone) > 5 else ""))
    moved = [m.sku for m in outcome.missing.skus if m.reason.startswith(MOVED)]
    if moved:
        report.notes.append(f"{len(moved)} SKU(s) moved to another product: their listing under the product no longer "
                            "in the source was taken off sale (the same units are never on sale twice): "
                            + ", ".join(moved[:5]) + (" ..." if len(moved) > 5 else ""))
    renamed = [m.sku for m in outcome.missing.skus if m.reason.startswith(RENAMED)]
    if renamed:
        went = "would go" if report.dry_run or outcome.blocked else "went"
        report.notes.append(f"{len(renamed)} renamed variant(s): a new label of the same SKU is listed and the old "
                            f"label {went} off sale on the marketplace (a variant's label is its attribute values in "
                            "the order of the Attribute columns): " + ", ".join(renamed[:5])
                            + (" ..." if len(renamed) > 5 else ""))
    if outcome.blocked:  # the reason is the run's error: report.refused, printed last by the CLI
        report.notes.insert(0, "the mass-change guard refused this run: nothing was sent (why: the error below, and "
                               "'refused' in the JSON report)")
    elif outcome.verdict.message:
        report.notes.insert(0, "mass-change guard (allowed): " + outcome.verdict.message)
    report.guard = {"listed": outcome.verdict.listed, "affected": outcome.verdict.affected,
                    "refused": outcome.blocked, "allowed": outcome.verdict.allowed}
    if outcome.verdict.cleared:  # fields emptied on many listed products (cleared.py)
        report.guard["emptied"] = dict(outcome.verdict.cleared)
    if outcome.verdict.moved:  # fields given other listed products' values (moved_values.py)
        report.guard["moved"] = {name: {"products": m.products, "examples": list(m.examples)}
                                 for name, m in outcome.verdict.moved.items()}
    if outcome.blocked:
        report.refused = outcome.verdict.message


def _account_held_prices(report: RunReport, held: dict[str, tuple[str, Any]]) -> None:
    """Rows of products whose price alone was held back: a row of the product's own sheet (its catalogue row, or
    an Odoo variant's only row) is skipped with the reason (code ``price_refused``, attention) unless its stock
    failed; a stock sheet's row keeps its stock's outcome and says the price was held back."""
    for row in report.rows:
        found = held.get(row.sku or "")
        if found is None:
            continue
        said, own = found
        if own is not None and row.sheet != own:  # a stock sheet's row: its stock's outcome
            note = f"price held back: {said} (fix the price in the source)"
            row.reason = f"{row.reason}; {note}" if row.reason else note
            continue
        reason = f"{said}: {PRICE_HELD}"
        if row.attention:  # its stock failed: said first
            row.reason = f"{row.reason}; {reason}"
            continue
        stock = {PUSHED: "its stock would be sent" if report.dry_run else "its stock was sent",
                 SKIPPED: f"its stock: {row.reason}"}.get(row.status, "its stock is unchanged")
        row.status, row.reason, row.attention, row.code = SKIPPED, f"{reason}; {stock}", True, PRICE_REFUSED


def _missing_outcome(row: RowOutcome, results: Sequence[ItemResult | None]) -> None:
    for r in results:
        if r is None or r.ok:
            continue
        if r.skipped or r.deferred:
            row.status = SKIPPED
            row.reason = f"{row.reason}; " + ("deferred to the next run: " if r.deferred else "") \
                + (r.message or "")
        else:
            row.status, row.attention = FAILED, True
            row.reason = f"{row.reason}; {r.op.action} failed: {r.message or ''}"
            row.marketplace_message, row.code = r.message, r.code
        return


def safety_options(target: str, profile_data: dict[str, Any] | None, target_data: dict[str, Any] | None,
                   settings: dict[str, Any], *, missing: str | None = None,
                   allowed: Collection[str] = ()) -> SafetyOptions:
    """A target's options from the profile (``missing:``, ``guard:``, ``currency:``, global then per target)
    and the command line (``--missing``; ``allowed``: the guard's ``--allow-...`` flags given, ``guard.ALLOWS``)."""
    from connector.sync.currency import currency_settings
    from connector.sync.guard import guard_settings
    from connector.sync.missing import missing_policy

    glob, own = profile_data or {}, target_data or {}
    guard = {**(glob.get("guard") or {}), **(own.get("guard") or {})} if (
        isinstance(glob.get("guard") or {}, dict) and isinstance(own.get("guard") or {}, dict)) else own.get("guard")
    return SafetyOptions(
        missing=missing_policy(missing or own.get("missing") or glob.get("missing")),
        guard=guard_settings(guard, allowed),
        currency=currency_settings(target, glob.get("currency"), own.get("currency"), settings))
