"""A price far from the one the marketplace last confirmed is held back, not sent: a typo (3500000 for 600, 6 for
600) never reaches what customers see by a cron run that exits 0 (Amazon's "potential pricing error" rule).

Called by ``safety.after_plan`` once the plan is built and the mass-change guard let it go.  Only ops that update
something the state holds a confirmed body for are looked at (a create has no previous price), and only where the
mapping writes a price (``KindShape.price_paths``, probed: Elebne ``price`` and ``variants[].price`` in minor
units, Elryan ``variants[].price`` and ``items[].price``, EcomLinx ``price``, or wherever an integrator's mapping
puts it, markups and conversions included): the mapped number in the op against the one in the confirmed body, a
child (a variant) matched by its match key.  An update whose changed fields hold no price costs no read; a run
without price changes reads nothing more than the guard did.

A price more than ``guard: {max_price_change: N}`` times the old one (default 5), or less than its 1/N, holds back
every payload of that product that carries a price; its other payloads (Elebne's and EcomLinx's inventory) still
go, unless they name a variant the marketplace was never sent (it comes with the held update).  Its rows are
skipped with the SKU, both prices and how to send it anyway (code ``price_refused``, attention: exit 1), as a
refused price's are (``prices.py``, ``price_hold.py``): the held payload is not remembered as sent (nor its
record's fingerprint), so the next run plans it again; an incremental Odoo read reads it again.
``--allow-price-change`` or ``guard: {allow_price_change: true}`` sends it, and a note says so.  An old price of 0
or less, or none, leaves nothing to compare: the price goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connector.mapping import CompiledMapping
from connector.model import Money, Product
from connector.shown import first_few
from connector.sync.confirmed import ConfirmedBodies
from connector.sync.guard import GuardSettings
from connector.sync.ops import CATALOGUE, STOCK, PlannedOp
from connector.sync.payload_shape import KindShape, get_path, match_value, number
from connector.sync.plan import Plan
from connector.sync.price_hold import children_sent
from connector.sync.prices import PriceRefusals, price_issue

MOVE_HINT = ("if it is meant: --allow-price-change, or in the profile guard: {allow_price_change: true} or a higher "
             "guard: {max_price_change: N}")
_CHECKED = ("update", "stock")  # what changes a payload the marketplace shows (a create has no old price)


@dataclass
class PriceMoves:
    held: dict[str, dict[str, str]] = field(default_factory=dict)  # product key -> SKU -> what moved, held back
    sent: list[str] = field(default_factory=list)  # what moved and was sent anyway (allowed)

    def note(self, dry_run: bool) -> str | None:
        if not self.sent:
            return None
        shown = first_few(self.sent, sep="; ")
        return (f"price change(s) over the guard's limit {'would be ' if dry_run else ''}sent anyway (price change "
                f"allowed): {shown}")


def check_price_moves(plan: Plan, bodies: ConfirmedBodies, shapes: dict[str, KindShape], mapping: CompiledMapping,
                      settings: GuardSettings, refusals: PriceRefusals) -> PriceMoves:
    """Find the prices that move too far; unless allowed, take their payloads out of ``plan`` and note their rows'
    reasons in ``refusals`` (``held``: its stock still goes; ``reasons``: nothing of the product goes)."""
    moves = PriceMoves()
    found = _moves(plan, bodies, shapes, settings.max_price_change)
    if settings.allow_price_change:
        moves.sent = [said for by_sku in found.values() for said in by_sku.values()]
    elif found:
        moves.held = found
        _hold(plan, found, bodies, shapes, mapping, refusals)
    return moves


def _moves(plan: Plan, bodies: ConfirmedBodies, shapes: dict[str, KindShape], limit: Decimal
           ) -> dict[str, dict[str, str]]:
    priced = {kind: shape.price_paths for kind, shape in shapes.items() if shape.price_paths}
    candidates: dict[str, list[PlannedOp]] = {}
    for op in plan.ops:
        paths = priced.get(op.kind)
        if paths is None or op.action not in _CHECKED or op.key not in plan.confirmed.get(op.kind, ()) \
                or not isinstance(op.record, Product):
            continue
        if op.action == "update" and not any(path[0] in op.body for path in paths):
            continue  # its changed fields hold no price: nothing read
        candidates.setdefault(op.kind, []).append(op)
    found: dict[str, dict[str, str]] = {}
    for kind, ops in candidates.items():
        old = bodies.get(kind, [op.key for op in ops])
        for op in ops:
            before = old.get(op.key)
            for sku, was, now in _prices(op.body, before, shapes[kind], op.product) if before else ():
                said = _moved(number(was), number(now), limit, sku, op.product)
                if said:
                    found.setdefault(op.key, {}).setdefault(sku, said)
    return found


def _prices(new: dict[str, Any], old: dict[str, Any], shape: KindShape, product: Product
            ) -> Iterator[tuple[str, Any, Any]]:
    """(SKU, old value, new value) of every price ``new`` writes that ``old`` has too."""
    for path in shape.price_paths:
        if "*" not in path:  # a product-level price: its first variant's (``Product.price``)
            if product.variants and get_path(new, path) is not None:
                yield product.variants[0].sku, get_path(old, path), get_path(new, path)
            continue
        name, rest = path[0], path[2:]
        mk = shape.match_keys.get(name)
        if mk is None or path[1] != "*" or not rest or "*" in rest:
            continue  # (a price deeper in nested lists: no shipped mapping writes one)
        before = {match_value(c, mk): c for c in old.get(name) or [] if isinstance(c, dict)}
        sku_at = next((p[2:] for p in shape.sku_paths if p[:2] == (name, "*")), None)
        for child in new.get(name) or []:
            was = before.get(match_value(child, mk)) if isinstance(child, dict) else None
            if was is not None:
                sku = get_path(child, sku_at) if sku_at else child.get(mk)
                yield str(sku), get_path(was, rest), get_path(child, rest)


def _moved(old: Decimal | None, new: Decimal | None, limit: Decimal, sku: str, product: Product) -> str | None:
    """What is wrong with a move from ``old`` to ``new`` (mapped values), or None: within the limit, or nothing to
    compare.  Said in the source's prices (the old one scaled as the mapping scales the new one)."""
    if old is None or new is None or old <= 0 or new <= 0 or (new <= old * limit and old <= new * limit):
        return None
    variant = next((v for v in product.variants if v.sku == sku), None)
    if variant is not None and isinstance(variant.price, Money):
        now, currency = variant.price.amount, f" {variant.price.currency}"
        was = (now * old / new).quantize(Decimal("0.01")).normalize()
    else:  # (as the marketplace gets them)
        now, was, currency = new, old, ""
    factor = f"{limit.normalize():f}"
    how = f"more than {factor} times" if new > old else f"less than 1/{factor} of"
    return f"price {now:f}{currency} of SKU {sku} is {how} the {was:f}{currency} the marketplace last confirmed"


def _hold(plan: Plan, found: dict[str, dict[str, str]], bodies: ConfirmedBodies, shapes: dict[str, KindShape],
          mapping: CompiledMapping, refusals: PriceRefusals) -> None:
    priced = {kind for kind, shape in shapes.items() if shape.price_paths}
    catalogue = [kind for kind, role in plan.roles.items() if role == CATALOGUE]
    apart = any(role == STOCK and kind not in priced for kind, role in plan.roles.items())  # stock without price
    ops_of: dict[str, list[PlannedOp]] = {}
    for op in plan.ops:
        if op.key in found:
            ops_of.setdefault(op.key, []).append(op)
    held: set[int] = set()
    for key, by_sku in found.items():
        ops = ops_of[key]
        stock = {op.kind: op.payload for op in ops if op.kind not in priced and plan.roles.get(op.kind) == STOCK}
        # its stock goes, unless it names a variant the held update brings
        goes = apart and (not stock or children_sent(key, stock, catalogue, mapping, {
            kind: bodies.get(kind, [key]) for kind in {*catalogue, *stock}}))
        held.update(id(op) for op in ops if op.kind in priced or not goes)
        product = plan.products.get(key) or ops[0].product  # (the planned one, not a missing SKU's placeholder)
        said = "; ".join(by_sku.values()) + f" ({MOVE_HINT})"
        if goes:
            refusals.hold(product, said)
        else:
            refusals.refuse(product, said)
        refusals.issues += [price_issue(v, by_sku[v.sku], plan.marketplace) for v in product.variants
                            if v.sku in by_sku and isinstance(v.price, Money)]
        plan.new_marks.pop(key, None)  # not mapped to what is confirmed: mapped again next run
    plan.ops = [op for op in plan.ops if id(op) not in held]
