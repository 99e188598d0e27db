"""A SKU retyped in other letter case is not a new product: it is held back, and its old listing left as it is.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.sources.base import SourceResult
from connector.sync.missing import NO_LONGER_IN_SOURCE, source_skus
from connector.sync.plan import Plan

SKU_CASE_CHANGED = "sku_case_changed"
ALLOW_HINT = "--allow-sku-case-change"
# what the missing policy then does to the old listing
_OLD_LISTING = {"zero": "set to 0", "disable": "disabled", "keep": "left as it is"}


@dataclass
class CaseRetyped:
    held: dict[str, str] = field(default_factory=dict)  # new key -> the confirmed key it retypes (held back)
    reasons: dict[str, str] = field(default_factory=dict)  # SKU -> reason, every SKU of a held product
    allowed: dict[str, str] = field(default_factory=dict)  # new key -> old key, created as asked
    old_listing: str = "goes"  # what the missing policy does to the old listing ("set to 0")

    def note(self, dry_run: bool, title: str) -> str | None:
        """The report's note of what was held back, or created anyway."""
        if self.held:
            return (f"{len(self.held)} SKU(s) retyped in other letter case not created on {title}, their listing "
                    f"left as it is (type them as before, or {ALLOW_HINT}): " + _pairs(self.held))
        if self.allowed:
            return (f"{len(self.allowed)} SKU(s) retyped in other letter case {'would be ' if dry_run else ''}"
                    f"created on {title} as new products (SKU case change allowed), the old listing {self.old_listing} "
                    f"as {NO_LONGER_IN_SOURCE}: " + _pairs(self.allowed))
        return None


def _pairs(pairs: dict[str, str]) -> str:
    shown = [f"'{new}' (listed as '{old}')" for new, old in list(pairs.items())[:5]]
    return ", ".join(shown) + (f" and {len(pairs) - 5} more" if len(pairs) > 5 else "")


def hold_retyped(plan: Plan, source: SourceResult, *, allow: bool, title: str, missing: str) -> CaseRetyped:
    """Find the keys of ``plan`` that retype a listed key in other letter case; unless ``allow``, take them out
    of the plan.  ``missing``: the missing policy, what the reason says becomes of the old listing if allowed."""
    out = CaseRetyped(old_listing=_OLD_LISTING.get(missing, "goes"))
    confirmed = [hashes for hashes in plan.confirmed.values() if hashes]
    if not confirmed:  # a first run: nothing listed to compare with
        return out
    # the keys no payload kind confirmed that would be created, by their case-folded form (most runs: none)
    new = {op.key.casefold(): op.key for op in plan.ops
           if op.action == "create" and not any(op.key in hashes for hashes in confirmed)}
    if not new:
        return out
    found = [(new[folded], key) for hashes in confirmed for key in hashes
             if (folded := key.casefold()) in new and key != new[folded]]
    if not found:
        return out
    in_source = source_skus(source, plan)  # (a pass over the source: only for a key that retypes a listed one)
    retyped: dict[str, str] = {}
    for key, old in found:
        if old not in in_source:
            retyped.setdefault(key, old)
    if allow:
        out.allowed = retyped
        return out
    for key, old in retyped.items():
        reason = (f"SKU '{key}' is the listed '{old}' typed in other letter case: not created on {title}, and "
                  f"that listing is left as it is; type it as before, or, to list it as a new product (the old "
                  f"listing then {out.old_listing} as '{NO_LONGER_IN_SOURCE}'), run with "
                  f"{ALLOW_HINT}")
        product = plan.products.pop(key, None)
        out.reasons.update(dict.fromkeys([key, *(v.sku for v in product.variants if v.sku)] if product else [key],
                                         reason))
        plan.new_marks.pop(key, None)
        plan.no_stock.discard(key)
    out.held = retyped
    plan.ops[:] = [op for op in plan.ops if op.key not in retyped]  # nothing of them is planned
    return out
