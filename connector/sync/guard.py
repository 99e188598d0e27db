"""The mass-change guard: a run that would empty a shop sends nothing and says why (exit 2).

Before pushing, the plan is compared with what the marketplace last confirmed (the state: stock payloads hold
the quantities).  A run that would set to 0 or disable more than ``max_share`` of the SKUs listed with stock
(default 20%; a single SKU never counts as a mass change), or *all* of them when more than 5 are listed, is
refused unless ``--allow-mass-change`` or the profile's ``guard: {allow_mass_change: true}`` says it is meant;
so is one that would empty a field customers see on more than that share of the listed products (``cleared.py``),
or give them another listed product's value (a column sorted or shifted on its own: ``moved_values.py``).
A stock location named by the command line or the profile that the source does not have is an error of its
own, never "stock 0".  The same ``guard:`` table holds the per-SKU price-move limit (``price_moves.py``) and
whether a listed SKU retyped in other letter case is created (``case_retyped.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.errors import ConfigError
from connector.model import STOCK_KINDS, Product
from connector.sources.base import SourceResult
from connector.sync.cleared import cleared_fields
from connector.sync.confirmed import ConfirmedBodies
from connector.sync.guard_flags import ALLOWS
from connector.sync.moved_values import CAUSE as MOVED_CAUSE
from connector.sync.moved_values import MovedField, moved_fields
from connector.sync.payload_shape import KindShape, get_path, match_value, stock_items
from connector.sync.plan import CATALOGUE, STOCK, Plan
from connector.sync.stock_policy import StockPolicy

DEFAULT_MAX_SHARE = Decimal("0.2")
# a price more than this many times the one the marketplace last confirmed, or less than its 1/this, is held back
DEFAULT_MAX_PRICE_CHANGE = Decimal(5)
ALL_RULE_ABOVE = 5  # with more listed SKUs than this, a run never takes every one of them off sale
OVERRIDE_HINT = ("to send it anyway: --allow-mass-change, or in the profile guard: {allow_mass_change: true} "
                 "(or a higher guard: {max_share: ...})")


@dataclass(frozen=True, slots=True)
class GuardSettings:
    max_share: Decimal = DEFAULT_MAX_SHARE
    allow_mass_change: bool = False
    max_price_change: Decimal = DEFAULT_MAX_PRICE_CHANGE  # (``price_moves.py``)
    allow_price_change: bool = False
    allow_sku_case_change: bool = False  # a listed SKU retyped in other letter case is created (``case_retyped.py``)
    # the stock is sent without a location the last run had (``vanished_locations.py``)
    allow_location_removal: bool = False
    # products never listed are created although the last run's Active column is gone (``active_column.py``)
    allow_active_column_removal: bool = False


_KNOWN = ("max_share", "max_price_change", *ALLOWS)


def guard_settings(data: Any, allowed: Collection[str] = ()) -> GuardSettings:
    """From the profile's ``guard:`` table (global or per target) and the ``ALLOWS`` given on the command line
    (``allowed``: their names)."""
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError("guard: must be a table, e.g. guard: {max_share: 0.2, allow_mass_change: false}")
    unknown = set(data) - set(_KNOWN)
    if unknown:
        raise ConfigError(f"unknown guard setting(s): {', '.join(sorted(unknown))} (known: {', '.join(_KNOWN)})")
    try:
        share = Decimal(str(data.get("max_share", DEFAULT_MAX_SHARE)))
    except InvalidOperation:
        raise ConfigError(f"guard max_share must be a number between 0 and 1, not {data['max_share']!r}") from None
    if not Decimal(0) <= share <= Decimal(1):
        raise ConfigError(f"guard max_share must be between 0 and 1 (0.2 = 20%), not {data['max_share']!r}")
    allows = {}
    for name in ALLOWS:
        value = data.get(name, False)
        if not isinstance(value, bool):
            raise ConfigError(f"guard {name} must be true or false, not {value!r}")
        allows[name] = value or name in allowed
    factor = _price_factor(data.get("max_price_change", DEFAULT_MAX_PRICE_CHANGE))
    return GuardSettings(max_share=share, max_price_change=factor, **allows)


def _price_factor(value: Any) -> Decimal:
    try:
        factor = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        factor = None
    if factor is None or not factor.is_finite() or factor <= 1:
        raise ConfigError(f"guard max_price_change must be a number above 1 (5: a price may be at most 5 times, or "
                          f"a fifth of, the one last sent), not {value!r}")
    return factor


@dataclass
class GuardVerdict:
    listed: int = 0  # SKUs the marketplace was last confirmed to hold with stock (or active)
    affected: int = 0  # of those, the ones this run would set to 0 or disable
    blocked: bool = False
    allowed: bool = False  # over the limit, but the user said it is meant
    cleared: dict[str, int] = field(default_factory=dict)  # field -> listed products it would empty (over the limit)
    products: int = 0  # products listed (confirmed), what ``cleared`` and ``moved`` are counted against
    # field -> listed products it would give another listed product's value (over the limit; ``moved_values.py``)
    moved: dict[str, MovedField] = field(default_factory=dict)
    causes: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def share(self) -> Decimal:
        return Decimal(self.affected) / Decimal(self.listed) if self.listed else Decimal(0)


def check_stock_locations(policy: StockPolicy, products: Iterable[Product]) -> None:
    """A location the stock policy names but the source does not have is a mistake, not "stock 0"."""
    if not policy.locations:
        return
    known: set[str] = set()
    any_stock = False
    for product in products:
        for v in product.variants:
            if v.stock_known:
                any_stock = True
                known.update(v.stock)
    if not any_stock:
        return  # the source says nothing about stock: nothing would be set to 0
    unknown = [loc for loc in policy.locations if loc not in known]
    if unknown:
        names = ", ".join(repr(x) for x in unknown)
        raise ConfigError(f"stock location(s) {names} (from --stock-locations or the profile's stock.locations) "
                          f"are not in the source, whose locations are: {', '.join(sorted(known)) or 'none'}; "
                          "nothing was sent (check the spelling, or a renamed stock sheet / warehouse)")


def check_mass_change(plan: Plan, bodies: ConfirmedBodies, shapes: dict[str, KindShape], settings: GuardSettings,
                      causes: list[str] | Callable[[], list[str]] | None = None) -> GuardVerdict:
    """How many listed SKUs the plan would take off sale, which fields it would empty on many listed products
    (``cleared.py``), and whether that is too much.  ``causes``, or what gives them (``likely_causes``, a pass over
    the whole source): asked for only when the plan is over the limit."""
    verdict = GuardVerdict()
    _count_off_sale(plan, bodies, shapes, verdict)
    verdict.cleared, verdict.products = _cleared_over_limit(plan, bodies, shapes, settings)
    if verdict.products:
        verdict.moved = moved_fields(plan, bodies, shapes, lambda n: _over_limit(n, verdict.products, settings))
    over_share = verdict.affected > 1 and verdict.share > settings.max_share
    takes_all = verdict.listed > ALL_RULE_ABOVE and verdict.affected == verdict.listed
    if over_share or takes_all or verdict.cleared or verdict.moved:
        verdict.causes = list((causes() if callable(causes) else causes) or []) if over_share or takes_all else []
        if verdict.cleared:
            verdict.causes.append("a column emptied or left blank, a sheet of another template, or a source that "
                                  "no longer fills these fields")
        if verdict.moved:
            verdict.causes.append(MOVED_CAUSE)
        if settings.allow_mass_change:
            verdict.allowed = True
        else:
            verdict.blocked = True
        verdict.message = _message(plan, verdict, settings, takes_all, over_share or takes_all)
    return verdict


def _cleared_over_limit(plan: Plan, bodies: ConfirmedBodies, shapes: dict[str, KindShape],
                        settings: GuardSettings) -> tuple[dict[str, int], int]:
    """The fields the plan would empty on more than ``max_share`` of the listed products (more than one), or on all
    of them when more than ``ALL_RULE_ABOVE`` are listed: field -> products; and how many products are listed."""
    listed = max((len(plan.confirmed.get(kind) or ()) for kind, role in plan.roles.items() if role == CATALOGUE),
                 default=0)
    if not listed:
        return {}, 0
    over = {name: len(keys) for name, keys in cleared_fields(plan, bodies, shapes).items()
            if _over_limit(len(keys), listed, settings)}
    return dict(sorted(over.items())), listed


def _over_limit(count: int, listed: int, settings: GuardSettings) -> bool:
    """Whether ``count`` of the ``listed`` products is too many for one run: more than one and more than
    ``max_share`` of them, or all of them when more than ``ALL_RULE_ABOVE`` are listed."""
    return count > 1 and (Decimal(count) / Decimal(listed) > settings.max_share
                          or (listed > ALL_RULE_ABOVE and count == listed))


def _count_off_sale(plan: Plan, bodies: ConfirmedBodies, shapes: dict[str, KindShape], verdict: GuardVerdict) -> None:
    """``verdict.listed``: the SKUs listed with stock; ``verdict.affected``: those the plan would set to 0 or
    disable."""
    stock_kinds = [k for k, r in plan.roles.items() if r == STOCK and k in shapes]
    if not stock_kinds:
        return
    listed: dict[str, set[str]] = {}  # key -> item ids listed with stock
    for kind in stock_kinds:
        for key, body in bodies.get(kind, plan.confirmed.get(kind, ())).items():
            on_sale = {i for i, q in stock_items(body, shapes[kind]).items() if q > 0}
            if on_sale:
                listed.setdefault(key, set()).update(on_sale)
    if not listed:  # nothing listed with stock (a first run): nothing to take off sale
        return
    affected: set[tuple[str, str]] = set()
    catalogue_ops = []
    for op in plan.ops:
        if op.kind in stock_kinds and op.action == "stock":
            if op.key not in listed:
                continue  # nothing of it is listed with stock: nothing to take off sale
            new = stock_items(op.payload, shapes[op.kind])
            for item, qty in new.items():
                if qty == 0 and item in listed.get(op.key, ()):
                    affected.add((op.key, item))
        elif plan.roles.get(op.kind) == CATALOGUE and op.kind in shapes and op.key in listed:
            catalogue_ops.append(op)
    if catalogue_ops:
        _disabled(bodies, shapes, catalogue_ops, listed, affected)
    verdict.listed = sum(len(v) for v in listed.values())
    verdict.affected = len(affected)


def _disabled(bodies: ConfirmedBodies, shapes: dict[str, KindShape], ops: list, listed: dict[str, set[str]],
              affected: set[tuple[str, str]]) -> None:
    """Listed items of products (or variants) whose status the plan turns to the mapping's inactive value."""
    by_kind: dict[str, list] = {}
    for op in ops:
        by_kind.setdefault(op.kind, []).append(op)
    for kind, kind_ops in by_kind.items():
        shape = shapes[kind]
        old = bodies.get(kind, [op.key for op in kind_ops])
        for op in kind_ops:
            before = old.get(op.key) or {}
            for path, off in shape.product_status.items():
                if "*" not in path and get_path(op.payload, path) == off and get_path(before, path) != off:
                    affected.update((op.key, item) for item in listed[op.key])
            for path, off in shape.variant_status.items():
                name, rest = path[0], path[2:]
                mk = shape.match_keys.get(name)
                if mk is None or len(path) < 3:
                    continue
                was = {match_value(c, mk): get_path(c, rest) for c in before.get(name) or [] if isinstance(c, dict)}
                for child in op.payload.get(name) or []:
                    if isinstance(child, dict) and get_path(child, rest) == off:
                        mv = match_value(child, mk)
                        if was.get(mv) != off and mv in listed[op.key]:
                            affected.add((op.key, mv))


def _message(plan: Plan, verdict: GuardVerdict, settings: GuardSettings, takes_all: bool, off_sale: bool) -> str:
    pct = (verdict.share * 100).quantize(Decimal(1))
    limit = (settings.max_share * 100).normalize()
    said = []
    if off_sale:
        why = (f"every one of the {verdict.listed} SKUs listed with stock" if takes_all
               else f"{verdict.affected} of the {verdict.listed} SKUs listed with stock ({pct}%, more than the "
                    f"{limit:f}% allowed)")
        said.append(f"set to 0 or disable {why}")
    if verdict.cleared:
        fields = ", ".join(f"{name} on {n}" for name, n in verdict.cleared.items())
        said.append(f"empty {fields} of the {verdict.products} products listed (more than the {limit:f}% allowed)")
    for name, moved in verdict.moved.items():
        said.append(f"show another listed product's {name} on {moved.products} of the {verdict.products} products "
                    f"listed (more than the {limit:f}% allowed; e.g. {'; '.join(moved.examples)})")
    text = f"this run would {' and '.join(said)} on {plan.marketplace}"
    if verdict.causes:
        text += "; likely cause: " + "; ".join(verdict.causes)
    if settings.allow_mass_change:
        return text + " (sent anyway: mass change allowed)"
    return text + f"; nothing was sent. {OVERRIDE_HINT[0].upper()}{OVERRIDE_HINT[1:]}"


def likely_causes(source: SourceResult, policy: StockPolicy, missing_count: int = 0,
                  missing_policy: str = "zero", moved_count: int = 0, renamed_count: int = 0) -> list[str]:
    """What the guard can see that explains a mass change, in the merchant's words."""
    causes: list[str] = []
    totals: dict[str, int] = {}
    stocked = any_positive = 0
    inactive = 0
    only_elsewhere: set[str] = set()  # locations holding the stock of SKUs the policy lists as 0
    sold_out = 0  # SKUs listed as 0 because open marketplace orders hold back their last units
    for product in source.products:
        if not product.active:
            inactive += 1
        if product.kind not in STOCK_KINDS:
            continue
        for v in product.variants:
            if not v.stock_known:
                continue
            stocked += 1
            for name, level in v.stock.items():
                q = level.available if level.available is not None else level.on_hand
                totals[name] = totals.get(name, 0) + max(0, q or 0)
            if isinstance(v.qty, int) and v.qty > 0:
                any_positive += 1
            elif policy.reserved.get(v.sku):
                sold_out += 1
            elif policy.locations is not None:
                only_elsewhere.update(name for name, level in v.stock.items() if name not in policy.locations
                                      and max(0, (level.available if level.available is not None
                                                  else level.on_hand) or 0) > 0)
    chosen = policy.locations if policy.locations is not None else tuple(totals)
    empty = [loc for loc in chosen if loc in totals and totals[loc] == 0]
    for loc in empty:
        causes.append(f"stock location / warehouse '{loc}' holds no stock at all in the source")
    if only_elsewhere and policy.locations is not None:
        causes.append(f"the stock policy counts only {', '.join(repr(x) for x in policy.locations)} "
                      "(--stock-locations or stock.locations), while SKUs it lists as 0 have stock in "
                      f"{', '.join(repr(x) for x in sorted(only_elsewhere))}")
    if stocked and not any_positive and not empty:
        causes.append("every stocked SKU of the source lists 0 (a stock sheet renamed or emptied, a warehouse "
                      "with no stock, or a stock policy buffer/percent that leaves nothing?)")
    if sold_out:
        causes.append(f"{sold_out} SKU(s) are sold out by open marketplace orders (orders.reserve_open_orders holds "
                      "back what is sold until it ships or is cancelled)")
    if missing_count:
        causes.append(f"{missing_count} SKU(s) are no longer in the source (missing: {missing_policy}); a renamed "
                      "or truncated product sheet, or a supplier/ERP filter that changed?")
    if moved_count:
        causes.append(f"{moved_count} SKU(s) moved to another product (their old listing goes off sale, the new one "
                      "is created: a Parent SKU cleared or changed?)")
    if renamed_count:
        causes.append(f"{renamed_count} variant(s) renamed: their SKUs are in the source under new labels, and a "
                      "variant's label is its attribute values in the order of the Attribute columns (columns "
                      "reordered, or attribute values retyped?); the old labels go off sale")
    if inactive:
        causes.append(f"{inactive} product(s) are archived / inactive in the source")
    sheet_notes = [w for w in source.warnings if "sheet" in w.lower()]
    causes.extend(f"{w} (a renamed stock sheet?)" for w in sheet_notes[:2])
    return causes
