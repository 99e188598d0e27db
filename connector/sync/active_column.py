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

The same goes for a variant the merchant had marked No on a product that is listed (the product created with its
other variants): before the plan, the variants of listed products that the marketplace does not have (read from the
confirmed payloads whose variants carry their SKU, as ``archived.py`` does) are left out of their product
(``hold_new_variants``), their rows skipped with the same code, while the product's listed variants get their
changes and stock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from connector.model import Product
from connector.shown import first_few
from connector.sources.base import SourceResult
from connector.sync.archived import child_skus, variant_sku_paths
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
    """Whether a target's source lost the Active column its last run had, and what that run therefore holds
    (``hold_new_variants`` before the plan, ``hold_new_listings`` after it)."""

    lost: bool = False  # the source lacks the column the last run's had
    now: str = _GIVEN  # what a real run remembers of this source: the column given or not
    held: dict[str, str] = field(default_factory=dict)  # SKU -> reason (every SKU not created or not added)
    products: list[str] = field(default_factory=list)  # keys of the products not created
    variants: list[str] = field(default_factory=list)  # SKUs of the variants not added to listed products
    allowed: list[str] = field(default_factory=list)  # keys created although the column is gone (allowed)
    allowed_variants: list[str] = field(default_factory=list)  # SKUs added although the column is gone (allowed)
    remember: str | None = None  # what a real run that was not refused remembers (None: nothing)

    def notes(self, dry_run: bool, title: str) -> list[str]:
        out = []
        if self.products:
            out.append(f"{len(self.products)} product(s) not created on {title}: the Active column of the last run "
                       f"is missing from this workbook, so whether they are on sale is not known; put the column "
                       f"back, or run once with {ALLOW_HINT} to create them on sale: {first_few(self.products)}")
        if self.variants:
            out.append(f"{len(self.variants)} variant(s) not added on {title} to the products listed there: the "
                       f"Active column of the last run is missing from this workbook, so whether they are on sale is "
                       f"not known; put the column back, or run once with {ALLOW_HINT} to add them on sale: "
                       f"{first_few(self.variants)}")
        would = "would be " if dry_run else ""
        if self.allowed:
            out.append(f"{len(self.allowed)} product(s) {would}created on sale although the Active column of the "
                       f"last run is missing ({ALLOW_HINT}): {first_few(self.allowed)}")
        if self.allowed_variants:
            out.append(f"{len(self.allowed_variants)} variant(s) {would}added on sale although the Active column "
                       f"of the last run is missing ({ALLOW_HINT}): {first_few(self.allowed_variants)}")
        return out


def column_state(source: SourceResult, state: StateStore, marketplace: str, account: str) -> ActiveColumnGone:
    """Whether ``source`` lost the Active column the last real run to ``marketplace`` and ``account`` had."""
    given = "active" not in untouched_fields(source)
    before = state.get_cursor(f"{CURSOR}:{marketplace}", account)
    now = _GIVEN if given else _NOT_GIVEN
    if given or before != _GIVEN:
        return ActiveColumnGone(now=now, remember=now if now != before else None)
    return ActiveColumnGone(lost=True, now=now)


def _reason(title: str, what: str, verb: str) -> str:
    return (f"{what} on {title}: the Active column of the last run is missing from this workbook, so whether it is "
            f"on sale is not known; put the column back, or run once with {ALLOW_HINT} to {verb} it on sale")


def hold_new_variants(found: ActiveColumnGone, products: Sequence[Product], state: StateStore, marketplace: str,
                      account: str, shapes: Callable[[], dict[str, Any]], *, allow: bool, title: str
                      ) -> Sequence[Product]:
    """``products`` without the variants the marketplace does not have of the products it lists, when the source
    lost the Active column (each would be added on sale, a variant marked No included; unless ``allow``).  What
    the marketplace has is read from the confirmed payloads whose variants carry their SKU (``archived.py``); a
    product they say nothing of (not listed, or a mapping that sends no variant SKU) is left as it is: a product
    not listed is ``hold_new_listings``'."""
    if not found.lost:
        return products
    paths = variant_sku_paths(shapes())
    keys = [p.key for p in products if p.has_variants]
    if not paths or not keys:
        return products
    bodies = {kind: state.bodies(marketplace, account, kind, keys) for kind in dict.fromkeys(k for k, _ in paths)}
    out: list[Product] = []
    for product in products:
        listed: set[str] = set()
        for kind, path in paths if product.has_variants else ():
            listed |= child_skus(bodies[kind].get(product.key), path)
        new = [v.sku for v in product.variants if v.sku not in listed] if listed else []
        if not new:
            out.append(product)
        elif allow:
            found.allowed_variants += new
            out.append(product)
        else:
            found.variants += new
            found.held.update(dict.fromkeys(new, _reason(title, "not added to its product", "add")))
            kept = [v for v in product.variants if v.sku in listed]
            if kept:  # (none left, every SKU new: the whole product is held, nothing of it sent)
                out.append(replace(product, variants=kept))
    return out


def hold_new_listings(plan: Plan, found: ActiveColumnGone, *, allow: bool, title: str) -> None:
    """Unless ``allow``, take out of ``plan`` the products no payload kind has confirmed (they would be created)
    when the source lost the Active column (``found.lost``); the column's loss is remembered only by a run that
    held nothing."""
    if not found.lost:
        return
    confirmed = [hashes for hashes in plan.confirmed.values() if hashes]
    new = list(dict.fromkeys(op.key for op in plan.ops if op.action in ("create", "stock")
                             and not any(op.key in hashes for hashes in confirmed)))
    if allow:
        found.allowed = new
    elif new:
        plan.take_out(dict.fromkeys(new, _reason(title, "not created", "create")), found.held)
        found.products = new
    if not found.held:
        found.remember = found.now


def remember(found: ActiveColumnGone, state: StateStore, plan: Plan) -> None:
    """Remember whether this real run's source gave the Active column (when it changed, and nothing was held)."""
    if found.remember is not None:
        state.set_cursor(f"{CURSOR}:{plan.marketplace}", plan.account, found.remember)
