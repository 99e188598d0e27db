"""The Active column: what a source that lacks it leaves alone, and what a workbook that lost it does not create.

A workbook without an Active column reads every product as on sale (``Product.active``, ``Variant.active`` default
to True).  "A column you leave out is not touched": an update keeps the marketplace's value of what a mapping
copies from them (``untouched_fields``, ``plan.keep_values``).  A product never listed has no such value: it is
created on sale.  That is right for a workbook that never had the column, and wrong for one that lost it by
mistake: a product the merchant had marked No (so never created: ``archived.py``) would go on sale.

So each real run remembers, per target and account, whether its source gave the column (a state cursor,
``active_column:<marketplace>``), and a run whose source lacks the column the last one had creates no product: its
operations are taken out of the plan, its rows skipped with the code ``active_column_missing`` (attention, exit 1)
and a reason saying how to go on; updates of listed products go, their status kept.  Such a run remembers
nothing, so the next one holds them too, until the column is back or ``--allow-active-column-removal`` (or the
profile's ``guard: {allow_active_column_removal: true}``) creates them on sale; then the column is remembered as
gone.  A run with nothing to create remembers it as gone too (nothing was at stake).  Sources that always give it
(Odoo, Aleta) are never concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.sources.base import SourceResult
from connector.sync.plan import Plan
from connector.sync.state import StateStore

DEFAULTED = frozenset({"active"})
"""Record fields with a default (``Product.active``, ``Variant.active``: True) that a source may not provide."""
CURSOR = "active_column"  # state cursor ``active_column:<marketplace>``, the account -> "1" given, "0" not
CODE = "active_column_missing"
ALLOW_HINT = "--allow-active-column-removal"
_GIVEN, _NOT_GIVEN = "1", "0"


def untouched_fields(source: SourceResult) -> frozenset[str]:
    """The defaulted fields ``source`` did not provide (a workbook without an Active column): an update leaves
    the marketplace's value of what is copied from them as it is (``build_plan``'s ``untouched``), as it does for
    any column a workbook lacks; a source that says nothing of what it provides provides them all."""
    return DEFAULTED - source.provided_fields if source.provided_fields else frozenset()


@dataclass
class ActiveColumnGone:
    """What ``hold_new_listings`` found for one target."""

    held: dict[str, str] = field(default_factory=dict)  # SKU -> reason (every SKU of a product not created)
    products: list[str] = field(default_factory=list)  # keys of the products not created
    allowed: list[str] = field(default_factory=list)  # keys created although the column is gone (allowed)
    remember: str | None = None  # what a real run that was not refused remembers (None: nothing)

    def notes(self, dry_run: bool, title: str) -> list[str]:
        shown = ", ".join(self.products[:5]) + (f" and {len(self.products) - 5} more" if len(self.products) > 5 else "")
        if self.products:
            return [f"{len(self.products)} product(s) not created on {title}: the Active column of the last run is "
                    f"missing from this workbook, so whether they are on sale is not known; put the column back, or "
                    f"run once with {ALLOW_HINT} to create them on sale: {shown}"]
        if self.allowed:
            allowed = ", ".join(self.allowed[:5]) + (" ..." if len(self.allowed) > 5 else "")
            return [f"{len(self.allowed)} product(s) {'would be ' if dry_run else ''}created on sale although the "
                    f"Active column of the last run is missing ({ALLOW_HINT}): {allowed}"]
        return []


def hold_new_listings(plan: Plan, source: SourceResult, state: StateStore, *, allow: bool,
                      title: str) -> ActiveColumnGone:
    """Unless ``allow``, take out of ``plan`` the products no payload kind has confirmed (they would be created)
    when ``source`` lacks the Active column the last run's had."""
    out = ActiveColumnGone()
    given = "active" not in untouched_fields(source)
    before = state.get_cursor(f"{CURSOR}:{plan.marketplace}", plan.account)
    now = _GIVEN if given else _NOT_GIVEN
    if given or before != _GIVEN:
        out.remember = now if now != before else None
        return out
    confirmed = [hashes for hashes in plan.confirmed.values() if hashes]
    new = list(dict.fromkeys(op.key for op in plan.ops if op.action in ("create", "stock")
                             and not any(op.key in hashes for hashes in confirmed)))
    if allow or not new:
        out.allowed, out.remember = new, now
        return out
    reason = (f"not created on {title}: the Active column of the last run is missing from this workbook, so whether "
              f"it is on sale is not known; put the column back, or run once with {ALLOW_HINT} to create it on sale")
    plan.take_out(dict.fromkeys(new, reason), out.held)
    out.products = new
    return out


def remember(found: ActiveColumnGone, state: StateStore, plan: Plan) -> None:
    """Remember whether this real run's source gave the Active column (when it changed, and nothing was held)."""
    if found.remember is not None:
        state.set_cursor(f"{CURSOR}:{plan.marketplace}", plan.account, found.remember)
