"""Which fields customers see a plan would fill with *another listed product's* value on many products at once.

The classic spreadsheet accident: one column sorted on its own (Excel's "Continue with the current selection"), or
a cell pasted or inserted so that a column shifts by one row.  Every product then carries another product's name,
price, description or barcode, and each value on its own looks fine (a shuffled price is in the usual range: the
price-typo check, ``price_moves.py``, lets it through).  What gives it away is that the set of values is kept:
the values the marketplace shows are still there, only on other products.  A legitimate bulk edit (every price
+10%, new descriptions, a new naming scheme) brings new values instead, so it is never counted here.

So the mass-change guard (``guard.py``) also counts, per field of a catalogue payload that updates change (top-level
fields, and fields of the children of a matched list compared with the confirmed child of the same match value,
named ``variants[].price``: the walk of ``cleared.py``), the listed products whose new value is the confirmed value
of *another* listed product whose value in that field changes too.  The matching is of multisets: a confirmed
value counts once per occurrence (two products given the one old name of a third count once).  A product counts
only when its new value was not its own before (none of its children held it) and the value is rare among the
confirmed values of the changed products: held by at most ``MAX_HOLDERS`` (2) of them.  Values that legitimately
repeat across many products (a brand, a category, a status, a currency, a constant) never count, so a rebrand of
30% of the products from A to B is sent (B is not a value of the changed products, or one many of them hold); a
column of such values sorted on its own is not told from a bulk edit (it changes nothing unique).  Past the same
share of the listed products as the guard's other causes (``max_share``, more than one), the run is refused,
with examples ("SKU A would show 'X' (now on SKU B)"); ``--allow-mass-change`` lets it go.  Blank values are
``cleared.py``'s; quantities are not looked at (stock kinds, and quantity fields of a catalogue payload).
A uniform change of numbers (every price +10%, rounded, or +1) is a bulk edit however many of its new values
happen to be other products' old ones (+10% on a catalogue where nearly every price is held by one or two
products lands on other prices): when most of a field's changed numbers move by one ratio (within 2%) or one
difference, nothing is counted (``_uniform_change``), unless most products, in the source's order, take their
neighbour's old value (``_shifted``: a price column of a catalogue sorted by price, shifted by one row, is also
"+1" or one ratio).  A shuffled column's ratios and differences are spread.

Cost: only updates are looked at.  A first pass counts, per field, the updates that change it (no confirmed body
read); only a field changed on more than the limit is looked at further, with the confirmed bodies of the updates
that change it (``ConfirmedBodies``: read once for every check of the run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from connector.jsonutil import canonical_json
from connector.sync.cleared import blank, matched_tables
from connector.sync.confirmed import ConfirmedBodies
from connector.sync.ops import PlannedOp
from connector.sync.payload_shape import KindShape
from connector.sync.plan import CATALOGUE, Plan

MAX_HOLDERS = 2  # a value confirmed on more of the changed products is a shared one (a brand): never counted
EXAMPLES = 3
CAUSE = "a column sorted or shifted on its own (the other columns left in place)"


@dataclass(slots=True)
class MovedField:
    """A field the plan would fill with other listed products' values: how many products, and a few examples."""

    products: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Unit:
    """A product (or one of its children) whose value of a field the update changes."""

    key: str
    name: str  # as said in the examples: the product's key, with the child's label
    old: Hashable
    new: Hashable
    shown: Any  # the new value, as sent


def moved_fields(plan: Plan, bodies: ConfirmedBodies, shapes: dict[str, KindShape],
                 over: Callable[[int], bool]) -> dict[str, MovedField]:
    """Field name -> the listed products this plan's updates would give another listed product's value, for the
    fields where ``over`` (the guard's limit) says that is too many."""
    counts: dict[tuple[str, str], int] = {}  # (kind, field) -> updates that change it
    for op in plan.ops:
        if op.action == "update" and plan.roles.get(op.kind) == CATALOGUE:
            shape = shapes.get(op.kind)
            for name in _names(op.body, shape.match_keys if shape else {}):
                counts[op.kind, name] = counts.get((op.kind, name), 0) + 1
    suspects: dict[str, set[str]] = {}  # kind -> fields changed on too many products
    for (kind, name), n in counts.items():
        if over(n) and kind in shapes and name not in _quantities(shapes[kind]):
            suspects.setdefault(kind, set()).add(name)
    out: dict[str, MovedField] = {}
    for kind, names in suspects.items():
        for name, units in _units(plan, bodies, shapes[kind], kind, names).items():
            moved = _moved(units)
            if over(moved.products) and moved.products > out.get(name, MovedField()).products:
                out[name] = moved
    return dict(sorted(out.items()))


def _names(body: dict[str, Any], match_keys: dict[str, str]) -> set[str]:
    """The fields an update's changed fields ``body`` may change (every field of a changed child)."""
    names: set[str] = set()
    for name, value in body.items():
        mk = match_keys.get(name)
        if mk is None or not isinstance(value, list):
            names.add(name)
            continue
        keys: set[str] = set()
        for child in value:
            if isinstance(child, dict):
                keys.update(child)
        keys.discard(mk)
        names.update(f"{name}[].{k}" for k in keys)
    return names


def _quantities(shape: KindShape) -> set[str]:
    """The field names of the quantities a catalogue payload carries (never counted)."""
    return {p[0] if len(p) == 1 else f"{p[0]}[].{p[2]}" for p in shape.quantity_paths
            if len(p) == 1 or (len(p) == 3 and p[1] == "*")}


def _units(plan: Plan, bodies: ConfirmedBodies, shape: KindShape, kind: str,
           names: set[str]) -> dict[str, list[_Unit]]:
    """Field -> the products (and children) whose value of it the updates of ``kind`` change (neither value
    blank), with their confirmed and new values."""
    ops: list[PlannedOp] = [op for op in plan.ops if op.action == "update" and op.kind == kind
                            and not names.isdisjoint(_names(op.body, shape.match_keys))]
    old = bodies.get(kind, [op.key for op in ops])
    out: dict[str, list[_Unit]] = {}
    for op in ops:
        for prefix, label, table, before in matched_tables(op.body, old.get(op.key) or {}, shape.match_keys):
            before = before or {}
            for k, value in table.items():
                name = prefix + str(k)
                was = before.get(k)
                if name not in names or value == was or blank(value) or blank(was):
                    continue
                said = op.key if label is None else f"{op.key} ({label})"
                out.setdefault(name, []).append(_Unit(op.key, said, _token(was), _token(value), value))
    return out


def _moved(units: Iterable[_Unit]) -> MovedField:
    """The products of ``units`` given a rare confirmed value of another product (each occurrence used once)."""
    units = list(units)
    if _uniform_change(units) and not _shifted(units):
        return MovedField()  # every price +10% (or +1): values moved by one rule, not between products
    own: dict[str, set[Hashable]] = {}  # key -> its confirmed values (all its children's)
    holders: dict[Hashable, list[_Unit]] = {}  # confirmed value -> the units holding it
    for unit in units:
        own.setdefault(unit.key, set()).add(unit.old)
        holders.setdefault(unit.old, []).append(unit)
    left = Counter({value: len(held) for value, held in holders.items()
                    if len({h.key for h in held}) <= MAX_HOLDERS})  # the rare values, once per occurrence
    counted: set[str] = set()
    moved = MovedField()
    for unit in units:
        if left[unit.new] <= 0 or unit.new in own[unit.key]:
            continue
        held = holders[unit.new]
        left[unit.new] -= 1
        counted.add(unit.key)
        if len(moved.examples) < EXAMPLES:
            moved.examples.append(f"{unit.name} would show {_shown(unit.shown)} (now on {held[0].name})")
    moved.products = len(counted)
    return moved


UNIFORM_SHARE = 0.6  # of the changed numbers moved by one ratio (within UNIFORM_RATIO) or one difference
UNIFORM_RATIO = Decimal("0.02")  # rounding to whole units or cents moves a ratio a little: 105 * 1.1 = 115.5 -> 116


def _uniform_change(units: list[_Unit]) -> bool:
    """Whether most changed values are numbers moved by one rule: the same ratio (a rounded +10%) or the same
    difference (+1): a bulk edit, however many new values happen to be another product's old one (on a catalogue
    where nearly every price is held by one or two products, +10% lands on other products' prices).  A shuffled
    or shifted column's ratios and differences are spread."""
    pairs = [(old, new) for u in units
             if (old := _number(u.old)) is not None and (new := _number(u.new)) is not None and old != 0]
    if not pairs or len(pairs) < len(units) * UNIFORM_SHARE:
        return False
    need = len(pairs) * UNIFORM_SHARE
    ratios = sorted(new / old for old, new in pairs)
    median = ratios[len(ratios) // 2]
    if median > 0 and sum(1 for r in ratios if abs(r / median - 1) <= UNIFORM_RATIO) >= need:
        return True
    differences = Counter(new - old for old, new in pairs)
    return differences.most_common(1)[0][1] >= need


def _shifted(units: list[_Unit]) -> bool:
    """Whether most products, in the source's order, take the next one's (or the previous one's) old value: a
    column shifted by one row.  On a catalogue sorted by price, a shifted price column is also one difference or
    ratio (+1 on prices 1 apart): the order tells it from a bulk edit, which keeps each value on its own row."""
    if len(units) < 2:
        return False
    takes_next = sum(1 for a, b in pairwise(units) if a.new == b.old)
    takes_previous = sum(1 for a, b in pairwise(units) if b.new == a.old)
    return max(takes_next, takes_previous) >= (len(units) - 1) * UNIFORM_SHARE


def _number(value: Any) -> Decimal | None:
    """A number of a payload (an int, a float, or a number written as text, as some marketplaces take prices)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _token(value: Any) -> Hashable:
    """``value`` as compared: a table or list by its canonical JSON, a boolean apart from the numbers 0 and 1."""
    if isinstance(value, list | dict):
        return list, canonical_json(value)
    if isinstance(value, bool):
        return bool, value
    return value


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    return f"'{text[:60]}...'" if len(text) > 60 else f"'{text}'"
