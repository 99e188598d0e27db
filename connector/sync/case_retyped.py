"""A SKU retyped in other letter case is not a new product (nor a new variant): it is held back, and its old listing
left as it is.

Excel's AutoCorrect ("capitalize first letter") turns ``TEAPOT-STEEL-1L`` into ``Teapot-steel-1L``.  Without
this, the next run would create a second listing under the new spelling with the same stock, and the missing
policy would set the old one (and its history) to 0 as "no longer in source": a duplicate, exit 0.

Called by ``safety.after_plan`` on the plan, before the missing policy.  A planned key that no payload kind has
confirmed on this account (it would be created) whose ``casefold()`` is the one of a key the state *has*
confirmed there that is no longer in the source (``missing.source_skus``) is held back: its operations, its
planned product and its record marks are taken out of the plan, each of its rows is skipped with the code
``sku_case_changed`` (attention, exit 1), and the missing policy takes the old key as still in the source.  Both
spellings in the source are two products: nothing is held.  ``--allow-sku-case-change`` (or the profile's
``guard: {allow_sku_case_change: true}``) creates it as before, the old listing going as no longer in source,
and a note says so.  Plans with no create op (most runs) are not looked at further.

The same for a variant of a listed product whose children the marketplace matches by their SKU (Elryan's
``variants`` and ``items``, upserted by ``sku``: a case-sensitive match there, a case-insensitive one in the
plan).  An update or stock op of a confirmed product whose payload has a child whose SKU is, case aside but not
exactly, a child SKU of the confirmed body of that kind, the old spelling no longer in the source, holds back the
whole product (every op of its key, all kinds): otherwise the marketplace creates a second variant beside the old
one, which keeps its last stock on sale (the plan and the missing policy see its SKU, case aside, still in the
source), the same units on sale twice, exit 0.  Which children carry SKUs is learnt from the probed shape
(``KindShape.sku_paths`` at the child's ``match_keys`` field), so an integrator's mapping is covered.  Allowed,
the new variant is created and the old one's stock goes as no longer in source (``missing.add_missing_ops``'
``retyped``: set to 0, a row of its own says so), unless the missing policy is ``keep``: then it is left as it is,
its last stock still on sale (a note says so).  A child matched by something else (an Elebne variant by its
label) is not concerned: a SKU retyped there only updates that variant's ``sku`` field, and is sent as any other
change.  Bodies are read through the run's
``ConfirmedBodies`` (the missing policy and the guard read the same ones), for ops of a kind with SKU-matched
children only, and a product compares its children's SKU sets first: only a difference is looked at further.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector.shown import first_few
from connector.sources.base import SourceResult
from connector.sync.confirmed import ConfirmedBodies
from connector.sync.missing import NO_LONGER_IN_SOURCE, source_skus
from connector.sync.payload_shape import KindShape
from connector.sync.plan import Plan

ALLOW_HINT = "--allow-sku-case-change"
# what the missing policy then does to the old listing
_OLD_LISTING = {"zero": "set to 0", "disable": "disabled", "keep": "left as it is"}
_CHILD_ACTIONS = ("update", "stock")  # ops that send a listed product's children (a refresh sends nothing)
# what becomes of the old variant when its SKU retyped is allowed, by the missing policy (``missing.py``: its stock
# goes as no longer in source, or, kept, the marketplace keeps it and its last stock on sale)
_OLD_VARIANT = {"keep": "the old variant stays as it is, its last stock still on sale"}
_OLD_VARIANT_GOES = f"the old variant's stock set to 0 as '{NO_LONGER_IN_SOURCE}'"


@dataclass
class CaseRetyped:
    held: dict[str, str] = field(default_factory=dict)  # new key -> the confirmed key it retypes (held back)
    # new variant SKU -> (its listed spelling, its product's key): that product is held back
    held_variants: dict[str, tuple[str, str]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # SKU -> reason, every SKU of a held product
    allowed: dict[str, str] = field(default_factory=dict)  # new key -> old key, created as asked
    allowed_variants: dict[str, tuple[str, str]] = field(default_factory=dict)  # as ``held_variants``, sent
    old_listing: str = "goes"  # what the missing policy does to the old listing ("set to 0")
    old_variant: str = _OLD_VARIANT_GOES  # what becomes of an old variant whose SKU retyped is allowed

    def old_variants(self) -> dict[str, set[str]]:
        """Product key -> the listed spellings of its variant SKUs retyped and allowed (``missing.add_missing_ops``:
        their stock goes)."""
        out: dict[str, set[str]] = {}
        for old, key in self.allowed_variants.values():
            out.setdefault(key, set()).add(old)
        return out

    def notes(self, dry_run: bool, title: str) -> list[str]:
        """The report's notes of what was held back, or created anyway."""
        would = "would be " if dry_run else ""
        out = []
        if self.held:
            out.append(_note(self.held, "SKU(s)", f"not created on {title}, their listing left as it is"))
        if self.held_variants:
            out.append(_note(self.held_variants, "variant SKU(s)",
                             f"held back with their product, not updated on {title}, the variant listed left as it "
                             f"is"))
        if self.allowed:
            out.append(_note(self.allowed, "SKU(s)",
                             f"{would}created on {title} as new products (SKU case change allowed), the old listing "
                             f"{self.old_listing} as {NO_LONGER_IN_SOURCE}", hint=False))
        if self.allowed_variants:
            out.append(_note(self.allowed_variants, "variant SKU(s)",
                             f"{would}created on {title} as new variants (SKU case change allowed), {self.old_variant}",
                             hint=False))
        return out


def _note(pairs: dict[str, str] | dict[str, tuple[str, str]], what: str, done: str, *, hint: bool = True) -> str:
    shown = [f"'{new}' (listed as '{old}')" if isinstance(old, str) else f"'{new}' (listed as '{old[0]}' in {old[1]})"
             for new, old in pairs.items()]
    return (f"{len(pairs)} {what} retyped in other letter case {done}"
            + (f" (type them as before, or {ALLOW_HINT})" if hint else "") + ": "
            + first_few(shown))


def _reason(new: str, old: str, done: str, instead: str) -> str:
    return (f"SKU '{new}' is the listed '{old}' typed in other letter case: {done}; type it as before, or, "
            f"{instead}, run with {ALLOW_HINT}")


def hold_retyped(plan: Plan, source: SourceResult, *, allow: bool, title: str, missing: str,
                 bodies: ConfirmedBodies | None = None, shapes: dict[str, KindShape] | None = None) -> CaseRetyped:
    """Find the keys of ``plan`` that retype a listed key in other letter case, and (with ``bodies`` and ``shapes``)
    the listed products whose SKU-matched children retype a listed child; unless ``allow``, take them out of the
    plan.  ``missing``: the missing policy, what the reason says becomes of the old listing if allowed."""
    out = CaseRetyped(old_listing=_OLD_LISTING.get(missing, "goes"),
                      old_variant=_OLD_VARIANT.get(missing, _OLD_VARIANT_GOES))
    confirmed = [hashes for hashes in plan.confirmed.values() if hashes]
    if not confirmed:  # a first run: nothing listed to compare with
        return out
    # (a pass over the source: only for a SKU that retypes a listed one, and before anything is held)
    in_source = functools.cache(lambda: source_skus(source, plan))
    retyped = _retyped_keys(plan, confirmed, in_source)
    children = _retyped_children(plan, bodies, shapes, in_source) if bodies is not None and shapes else {}
    if allow:
        out.allowed, out.allowed_variants = retyped, children
        return out
    held: dict[str, str] = {}  # key -> the reason of its rows
    for key, old in retyped.items():
        held[key] = _reason(key, old, f"not created on {title}, and that listing is left as it is",
                            f"to list it as a new product (the old listing then {out.old_listing} as "
                            f"'{NO_LONGER_IN_SOURCE}')")
    for new, (old, key) in children.items():
        reason = _reason(new, old, f"product {key} not updated on {title} (none of its changes sent), and that "
                                   f"variant is left as it is",
                         f"to list it as a new variant of {key} ({out.old_variant})")
        out.reasons[new] = reason
        held.setdefault(key, reason)
    plan.take_out(held, out.reasons)  # nothing of them is planned
    out.held, out.held_variants = retyped, children
    return out


def _retyped_keys(plan: Plan, confirmed: list[dict[str, str]], in_source: Callable[[], set[str]]) -> dict[str, str]:
    """New key -> the confirmed key, no longer in the source, that it retypes."""
    # the keys no payload kind confirmed that would be created, by their case-folded form (most runs: none)
    new = {op.key.casefold(): op.key for op in plan.ops
           if op.action == "create" and not any(op.key in hashes for hashes in confirmed)}
    if not new:
        return {}
    retyped: dict[str, str] = {}
    for hashes in confirmed:
        for key in hashes:
            folded = key.casefold()
            if folded in new and key != new[folded] and key not in in_source():
                retyped.setdefault(new[folded], key)
    return retyped


def sku_children(shape: KindShape) -> dict[str, str]:
    """Child list field -> its match key, of the children the mapping matches by their SKU: where the probe found a
    variant's SKU at the match key (Elryan ``variants`` and ``items`` by ``sku``; not Elebne's, matched by label)."""
    return {path[0]: path[2] for path in shape.sku_paths
            if len(path) == 3 and path[1] == "*" and shape.match_keys.get(path[0]) == path[2]}


def _retyped_children(plan: Plan, bodies: ConfirmedBodies, shapes: dict[str, KindShape],
                      in_source: Callable[[], set[str]]) -> dict[str, tuple[str, str]]:
    """New child SKU -> (the confirmed child SKU, no longer in the source, that it retypes; the product's key), of
    the update and stock ops of listed products whose kind has SKU-matched children."""
    found: dict[str, tuple[str, str]] = {}
    for kind, shape in shapes.items():
        fields = sku_children(shape)
        hashes = plan.confirmed.get(kind)
        if not fields or not hashes:
            continue
        ops = [op for op in plan.ops if op.kind == kind and op.action in _CHILD_ACTIONS and op.key in hashes]
        if not ops:
            continue
        old_bodies = bodies.get(kind, [op.key for op in ops])
        for op in ops:
            old = old_bodies.get(op.key)
            if old is None:
                continue
            for name, match_key in fields.items():
                new_children, old_children = op.payload.get(name), old.get(name)
                if _same_skus(new_children, old_children, match_key):  # (most products: no set built)
                    continue
                now, before = _skus(new_children, match_key), _skus(old_children, match_key)
                if now <= before:  # nothing spelled anew
                    continue
                listed = {sku.casefold(): sku for sku in before - now}  # spellings no longer sent
                for sku in now - before if listed else ():
                    was = listed.get(sku.casefold())
                    if was is not None and was not in in_source():
                        found.setdefault(sku, (was, op.key))
    return found


def _same_skus(new: Any, old: Any, match_key: str) -> bool:
    """Whether two child lists hold the same SKUs in the same order (the usual case), told without a set."""
    if type(new) is not list or type(old) is not list or len(new) != len(old):
        return False
    try:
        return [child.get(match_key) for child in new] == [child.get(match_key) for child in old]
    except AttributeError:  # (a child that is not a dict: the sets tell)
        return False


def _skus(children: Any, match_key: str) -> set[str]:
    if not isinstance(children, list):
        return set()
    return {sku for child in children if isinstance(child, dict) and isinstance(sku := child.get(match_key), str)}

