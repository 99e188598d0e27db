"""What leaves the source leaves the shop: SKUs the marketplace holds that the source no longer has.

Policy per target (``missing:`` in the profile): ``zero`` (default: stock 0, the listing stays), ``disable``
(the product's status field as the mapping expresses it, and stock 0), ``keep`` (left as they are).

- A product the state knows but a *full* read (a workbook, a ``--full`` Odoo or supplier read) did not return
  is missing, unless one of its SKUs is still somewhere in the source (a row skipped for a data problem, a
  product whose mapping failed): those are reported by their own rows, never zeroed.  A SKU a planned product
  of another key holds was moved there (a Parent SKU cleared or changed): its listing under the missing product
  goes (only the moved ones when others are on skipped rows), or the same units would be on sale twice.
- A variant the state knows under a product the source returned (any read returns a product whole) but that
  the product no longer has is missing, unless its SKU is still in the source and no planned product holds it
  (its row was skipped for a data problem, or its product's mapping failed: reported by that row, left as it
  is).  A variant matched by its label (Elebne) whose SKU a planned product still holds was renamed or moved:
  its old label goes.

The operations built here are ordinary plan operations: the stock payload the marketplace last confirmed with
every quantity set to 0 goes through the adapter's normal stock path, and ``disable`` through the product
payload's status field.  The mass-change guard (``guard.py``) counts them like any other change.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConfigError
from connector.jsonutil import canonical_json, digest
from connector.mapping import CompiledMapping, RecordMappingError
from connector.model import Product, Variant
from connector.sources.base import SourceResult
from connector.sources.lookalike import LOOK_ALIKE, plain_form
from connector.sync.confirmed import ConfirmedBodies
from connector.sync.payload_shape import KindShape, Path, get_path, match_value, set_path
from connector.sync.plan import CATALOGUE, STOCK, Plan, PlannedOp, diff_payload

MISSING_POLICIES = ("zero", "disable", "keep")
NO_LONGER_IN_SOURCE = "no longer in source"


def missing_policy(value: Any) -> str:
    policy = str(value if value is not None else "zero").strip().lower()
    if policy not in MISSING_POLICIES:
        raise ConfigError(f"missing: must be one of {', '.join(MISSING_POLICIES)}, not {value!r}")
    return policy


@dataclass
class MissingSku:
    """One SKU the marketplace holds that the source no longer has (a report row of its own)."""

    key: str  # the product key in the state
    sku: str
    kinds: list[str] = field(default_factory=list)  # payload kinds of the operations sent for it
    reason: str = NO_LONGER_IN_SOURCE  # what the report row says


@dataclass
class MissingResult:
    skus: list[MissingSku] = field(default_factory=list)
    # (product key, SKU) of what left the source but was left as it is: rows refused for their SKU cell
    # (``SourceResult.sku_unread_rows``, here ``unread``) may be theirs
    held: dict[tuple[str, str], None] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)



def source_skus(source: SourceResult, plan: Plan) -> set[str]:
    """Every SKU and product key the source mentions, valid or not, the keys it holds back included (a stock row
    for a product the source does not have excepted: the product's row was deleted; the spreadsheet reader does
    not count it as such while a Products row is refused for its SKU cell)."""
    out = {sku for sku in source.rows.skus() if sku and sku not in source.orphan_skus} | source.held_keys
    for product in [*source.products, *plan.products.values(), *(p for p, _ in plan.mapping_failures)]:
        out.add(product.key)
        out.update(v.sku for v in product.variants)
    # and the ordinary form of a SKU typed with look-alike characters (a no-break space, full-width letters: the
    # reader refuses its row): the listing synced under the ordinary form is that row's, reported there (only
    # those characters: 'TILE-M²' is a SKU of its own, its NFKC form 'TILE-M2' another product)
    out.update([folded for sku in out if sku and not sku.isascii() and LOOK_ALIKE.search(sku)
                for folded in (plain_form(sku),) if folded != sku])
    return out


def add_missing_ops(plan: Plan, source: SourceResult, bodies: ConfirmedBodies, mapping: CompiledMapping,
                    shapes: dict[str, KindShape], *, policy: str, full_read: bool,
                    defaults: dict[str, Any] | None = None, adapter: Any = None,
                    present: Iterable[str] = (), retyped: dict[str, set[str]] | None = None) -> MissingResult:
    """Add to ``plan`` the operations the ``policy`` asks for; return the SKUs concerned (for the report).
    ``present``: keys taken as still in the source (a listed SKU retyped in other letter case: ``case_retyped.py``).
    ``retyped``: product key -> the listed spellings of its variants' SKUs retyped in other letter case, the new
    spelling created as asked (``--allow-sku-case-change`` on a marketplace that matches variants by their exact
    SKU): each old variant's stock goes as no longer in source, though the plan matches it, case aside, to the
    new one (else both sell the same units)."""
    result = MissingResult(unread=list(source.sku_unread_rows))
    if policy == "keep" or not any(plan.confirmed.get(kind) for kind in shapes):
        return result  # (nothing confirmed on this account yet: nothing can have left it)
    in_source = source_skus(source, plan)
    in_source.update(present)
    if full_read:
        _missing_products(plan, bodies, mapping, shapes, policy, in_source, result)
    _missing_children(plan, bodies, mapping, shapes, in_source, result, defaults or {}, adapter, retyped or {})
    if policy == "disable":
        _disable_children(plan, bodies, mapping, shapes, in_source, result, defaults or {}, adapter)
    return result


def _kinds(plan: Plan, shapes: dict[str, KindShape], role: str) -> list[str]:
    return [k for k, r in plan.roles.items() if r == role and k in shapes]


def _skus_of(bodies: Iterable[dict[str, Any] | None], shapes: Iterable[KindShape]) -> list[str]:
    found: list[str] = []
    for body, shape in zip(bodies, shapes, strict=True):
        for path in shape.sku_paths:
            for value in _values(body, path):
                if isinstance(value, str) and value and value not in found:
                    found.append(value)
    return found


def _values(body: Any, path: tuple[str, ...]) -> list[Any]:
    if body is None:
        return []
    if not path:
        return [body]
    head, rest = path[0], path[1:]
    if head == "*":
        return [v for item in (body if isinstance(body, list) else []) for v in _values(item, rest)]
    return _values(body.get(head) if isinstance(body, dict) else None, rest)


def _missing_products(plan: Plan, bodies: ConfirmedBodies, mapping: CompiledMapping, shapes: dict[str, KindShape],
                      policy: str, in_source: set[str], result: MissingResult) -> None:
    kinds = [k for k in mapping.payloads if k in shapes]
    known = set().union(*(set(plan.confirmed.get(k, ())) for k in kinds)) if kinds else set()
    candidates = sorted(known - in_source)
    if not candidates:
        return
    confirmed = {k: bodies.get(k, candidates) for k in kinds}
    placed = _placed_skus(plan)
    catalogue = next((k for k in kinds if plan.roles.get(k) == CATALOGUE), None)
    for key in candidates:
        skus = _skus_of([confirmed[k].get(key) for k in kinds], [shapes[k] for k in kinds])
        # a SKU a planned product (of another key) holds now was moved there: its old listing must go, or the same
        # units are on sale twice; one still in the source otherwise is on a row skipped for a data problem (or in
        # a product whose mapping failed): reported there, left as it is
        still = [s for s in skus if s in in_source]
        moved = [s for s in still if s.casefold() in placed()]
        if (not skus or len(moved) < len(skus)) and (result.unread or still):
            if not still:  # a row refused for its SKU cell may be this product's
                result.held.update(dict.fromkeys((key, sku) for sku in skus or [key]))
            if moved:  # only the moved variants' old listing goes, the others are left as they are
                labels = _child_skus(confirmed[catalogue].get(key), shapes[catalogue]) if catalogue else {}
                _zero_moved_children(plan, key, kinds, confirmed, shapes, policy, mapping, moved, labels, result)
            continue
        sent: list[str] = []
        for kind in kinds:
            body = confirmed[kind].get(key)
            if body is None:
                continue
            op = _zeroed_op(kind, key, body, shapes[kind], policy, mapping, skus, plan.roles.get(kind))
            if op is not None:
                plan.ops.append(op)
                sent.append(kind)
        if sent:
            for sku in skus or [key]:
                result.skus.append(MissingSku(key, sku, sent, _moved_reason(key) if sku in moved else
                                              NO_LONGER_IN_SOURCE))


MOVED = "moved to another product"  # the start of the reason of a SKU a planned product of another key holds now
RENAMED = "variant renamed"  # the start of the reason of a child whose SKU lives on under a new label


def _moved_reason(key: str) -> str:
    return f"{MOVED}: its listing under {key}, no longer in source, was taken off sale"


def _zero_moved_children(plan: Plan, key: str, kinds: list[str], confirmed: dict[str, dict[str, Any]],
                         shapes: dict[str, KindShape], policy: str, mapping: CompiledMapping, moved: list[str],
                         labels: dict[str, str], result: MissingResult) -> None:
    """The stock payloads (and, under ``disable``, the variant status) of the product ``key``, no longer in the
    source, with only its ``moved`` variants set to 0 (off): its other variants stay as they are, each on a row
    skipped for a data problem.  ``labels``: a child's match value -> its SKU (a child matched by label)."""
    gone = {s.casefold() for s in moved}
    sent: list[str] = []
    for kind in kinds:
        body, shape, role = confirmed[kind].get(key), shapes[kind], plan.roles.get(kind)
        values = shape.zero_values if role == STOCK else shape.variant_status if policy == "disable" else {}
        if body is None or not values:
            continue
        new = copy.deepcopy(body)
        for name, mk in shape.match_keys.items():
            for child in new.get(name) or []:
                if not isinstance(child, dict):
                    continue
                sku = child.get("sku")
                sku = sku if isinstance(sku, str) else labels.get(match_value(child, mk), "")
                if sku.casefold() in gone:
                    for path, value in values.items():
                        if path[0] == name and len(path) > 2:
                            set_path(child, path[2:], value)
        for path, (name, child_path) in shape.total_paths.items():  # a product total: its children's sum
            quantities = [get_path(c, child_path) for c in new.get(name) or [] if isinstance(c, dict)]
            set_path(new, path, sum(q for q in quantities if isinstance(q, int) and not isinstance(q, bool) and q > 0))
        if new != body:
            plan.ops.append(_changed_op(kind, key, body, new, role, mapping, moved))
            sent.append(kind)
    if sent:
        result.skus += [MissingSku(key, sku, sent, _moved_reason(key)) for sku in moved]


def _placeholder(key: str, skus: list[str]) -> Product:
    return Product(key=key, active=False, variants=[Variant(sku=s, active=False) for s in skus or [key]])


def _zeroed_op(kind: str, key: str, body: dict[str, Any], shape: KindShape, policy: str,
               mapping: CompiledMapping, skus: list[str], role: str | None) -> PlannedOp | None:
    new = copy.deepcopy(body)
    if role == STOCK:
        for path, value in shape.zero_values.items():
            set_path(new, path, value)
    elif role == CATALOGUE and policy == "disable":
        for path, value in {**shape.product_status, **shape.variant_status}.items():
            set_path(new, path, value)
    if new == body:
        return None  # already 0 / already disabled
    return _changed_op(kind, key, body, new, role, mapping, skus)


def _changed_op(kind: str, key: str, body: dict[str, Any], new: dict[str, Any], role: str | None,
                mapping: CompiledMapping, skus: list[str]) -> PlannedOp:
    """The op that turns the confirmed ``body`` into ``new``: a stock payload whole, else an update of the changed
    fields, for the placeholder of a product no longer in the source holding ``skus``."""
    text = canonical_json(new)
    h = digest(text)
    product = _placeholder(key, skus)
    if role == STOCK:
        return PlannedOp("stock", kind, key, new, new, text, h, product)
    compiled = mapping.payloads[kind]
    changes = diff_payload(body, new, compiled.create_only, compiled.match_keys)
    changes[compiled.key_field] = body.get(compiled.key_field, key)
    return PlannedOp("update", kind, key, changes, new, text, h, product)


def _missing_children(plan: Plan, bodies: ConfirmedBodies, mapping: CompiledMapping, shapes: dict[str, KindShape],
                      in_source: set[str], result: MissingResult, defaults: dict[str, Any], adapter: Any,
                      retyped: dict[str, set[str]]) -> None:
    """Children (variants) a confirmed stock body has that the product's new stock payload lacks (``retyped``: see
    ``add_missing_ops``)."""
    stock_kinds = set(_kinds(plan, shapes, STOCK))
    candidates = [op for op in plan.ops if op.kind in stock_kinds and op.action == "stock"
                  and op.key in plan.confirmed.get(op.kind, ()) and op.key in plan.products
                  and shapes[op.kind].child_quantity_fields]  # children only a confirmed body can hold
    if not candidates:
        return
    by_kind: dict[str, list[PlannedOp]] = {}
    for op in candidates:
        by_kind.setdefault(op.kind, []).append(op)
    catalogue = _kinds(plan, shapes, CATALOGUE)
    for kind, ops in by_kind.items():
        shape = shapes[kind]
        keys = [op.key for op in ops]
        old_bodies = bodies.get(kind, keys)
        cat_bodies = bodies.get(catalogue[0], keys) if catalogue else {}
        hashes = plan.confirmed.get(kind, {})
        in_source_folded = {s.casefold() for s in in_source}
        placed = _placed_skus(plan)
        drop: list[PlannedOp] = []
        for op in ops:
            old = old_bodies.get(op.key)
            if not old:
                continue
            sku_by_child = functools.cache(functools.partial(  # read only for a child that left (rare)
                _child_skus, cat_bodies.get(op.key), shapes.get(catalogue[0]) if catalogue else None))
            gone = _gone_children(plan.products[op.key], mapping, defaults, adapter, in_source_folded,
                                  placed, result, sku_by_child)
            added: list[tuple[str, dict[str, Any]]] = []
            for name in shape.child_quantity_fields:
                added += [(mv, child) for mv, child, _zeroed in
                          _carry_children(op, old, name, shape.match_keys[name], shape.zero_values, gone,
                                          retyped.get(op.key, frozenset()))]
            kept = _kept_children(op.payload, old, shape)
            stored = op.payload
            if kept:
                _count_kept_children(op.payload, kept, shape)
                stored = copy.copy(op.payload)
                for name, children in kept.items():
                    stored[name] = [*(stored.get(name) or []), *children]
            text = canonical_json(stored)
            op.digest = digest(text)
            if op.canonical or kept:  # (a plan without the texts of new payloads: encoded again when confirmed)
                op.canonical = text
            if op.digest == hashes.get(op.key):
                drop.append(op)
                continue
            for mv, child in added:
                sku = child.get("sku") if isinstance(child.get("sku"), str) else sku_by_child().get(mv, mv)
                missing = MissingSku(op.key, sku, [kind])
                if sku in retyped.get(op.key, ()):
                    missing.reason = f"{NO_LONGER_IN_SOURCE}: typed in other letter case, a new variant (allowed)"
                elif sku.casefold() in in_source_folded:  # the SKU lives on under a new label
                    label = next((child[k] for k in (shape.match_keys[n] for n in shape.child_quantity_fields)
                                  if isinstance(child.get(k), str)), mv)
                    missing.reason = f"{RENAMED}: its old label '{label}' is no longer in source"
                result.skus.append(missing)
        plan.drop_ops(drop)
        for op in drop:
            plan.unchanged.setdefault(op.kind, set()).add(op.key)


def _gone_children(product: Product, mapping: CompiledMapping, defaults: dict[str, Any], adapter: Any,
                   in_source_folded: set[str], placed: Callable[[], set[str]], result: MissingResult,
                   sku_by_child: Callable[[], dict[str, str]] = dict) -> Callable[[str, dict[str, Any]], bool]:
    """Whether a child (by its match value, and the child itself) left the source: neither mapped from
    ``product`` nor a SKU the source still has.  The product is mapped only when asked, for a product that lost
    a child (most runs never do), and once.

    A child matched by something else than its SKU (an Elebne variant by its label) whose SKU the source still
    has is gone only when a planned product holds that SKU (the variant was renamed, or moved to another
    product: the old label must go off sale).  Otherwise the SKU is on a row of its own that was skipped, or
    in a product whose mapping failed: that row says so, and the variant is left as the marketplace has it (a
    typo in a variant's row must not take it off sale).  A child whose SKU is nowhere in the source is left as
    it is too while rows refused for their SKU cell may be its own (``result.held``)."""
    present: set[str] | None = None

    def gone(mv: str, child: dict[str, Any]) -> bool:
        nonlocal present
        if present is None:
            present = _present_children(product, mapping, defaults, adapter)
        if mv in present or mv in in_source_folded:
            return False
        sku = child.get("sku")
        sku = sku if isinstance(sku, str) else sku_by_child().get(mv)
        if sku is not None and sku.casefold() in in_source_folded:
            return sku.casefold() in placed()
        if result.unread:
            result.held[(product.key, sku or mv)] = None
            return False
        return True

    return gone


def _placed_skus(plan: Plan) -> Callable[[], set[str]]:
    """The SKUs (case-folded) of every planned product's variants, computed once when first asked (only for a
    confirmed variant whose match value left the source while its SKU did not: rare)."""
    return functools.cache(lambda: {v.sku.casefold() for p in plan.products.values() for v in p.variants
                                    if isinstance(v.sku, str)})


def _carry_children(op: PlannedOp, old: dict[str, Any], name: str, match_key: str, values: dict[Path, Any],
                    gone: Callable[[str, dict[str, Any]], bool], retyped: Container[str] = frozenset()
                    ) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The children under ``name`` of the confirmed body ``old`` that the new payload lacks and that left the
    source: appended to ``op.payload`` with ``values`` (paths under ``name``: quantity 0, or inactive) set.
    Children are matched case aside, except the match values of ``retyped`` (listed spellings of SKUs retyped in
    other letter case, allowed): such a child is gone unless the payload has its exact spelling.  Returns (match
    value, confirmed child, appended child) of those the values changed."""
    children = [c for c in op.payload.get(name) or [] if isinstance(c, dict)]
    have = {match_value(c, match_key) for c in children}
    exact = {c.get(match_key) for c in children} if retyped else set()
    changed = []
    for child in old.get(name) or []:
        if not isinstance(child, dict):
            continue
        mv = match_value(child, match_key)
        value = child.get(match_key)
        if isinstance(value, str) and value in retyped and value not in exact:
            pass  # the old spelling of a variant retyped in other letter case (allowed): it goes
        elif mv in have or not gone(mv, child):
            continue
        carried = copy.deepcopy(child)
        for path, value in values.items():
            if path[0] == name and len(path) > 2:
                set_path(carried, path[2:], value)
        op.payload.setdefault(name, []).append(carried)
        if carried != child:
            changed.append((mv, child, carried))
    return changed


def _kept_children(payload: dict[str, Any], old: dict[str, Any], shape: KindShape) -> dict[str, list[Any]]:
    """Child list field -> the children of the confirmed body ``old`` that ``payload`` (gone children already
    carried into it) leaves out: the marketplace keeps them as they are (a variant whose row was skipped, or whose
    stock the source does not know).  They stay in the body the state stores, though not sent: it is what the
    marketplace holds, so that a later run still counts them, and still finds them when they leave the source."""
    out: dict[str, list[Any]] = {}
    for name in sorted(shape.child_quantity_fields):
        match_key = shape.match_keys[name]
        have = {match_value(c, match_key) for c in payload.get(name) or [] if isinstance(c, dict)}
        left = [c for c in old.get(name) or [] if isinstance(c, dict) and match_value(c, match_key) not in have]
        if left:
            out[name] = left
    return out


def _count_kept_children(payload: dict[str, Any], kept: dict[str, list[Any]], shape: KindShape) -> None:
    """A product-level quantity that is the sum of its children's (``KindShape.total_paths``) also counts the
    children kept as they are (``_kept_children``), at their quantity as last confirmed.  Without it, a product
    whose other variants are sold out shows 0 while a variant left as it is still has stock."""
    for path, (name, child_path) in shape.total_paths.items():
        total = get_path(payload, path)
        if not isinstance(total, int) or isinstance(total, bool):
            continue
        for child in kept.get(name, ()):
            quantity = get_path(child, child_path)
            if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0:
                total += quantity
        set_path(payload, path, total)


def _present_children(product: Product, mapping: CompiledMapping, defaults: dict[str, Any],
                      adapter: Any) -> set[str]:
    """Match values (labels, SKUs) of every child the product's new payloads have, in any kind: a variant
    whose stock is unknown is left out of the stock payload but is still in the source."""
    out: set[str] = set()
    for kind, compiled in mapping.payloads.items():
        try:
            payload = compiled.build(product, defaults)
        except RecordMappingError:
            continue
        if adapter is not None:
            payload = adapter.normalize(kind, copy.deepcopy(payload)) or {}
        for name, mk in compiled.match_keys.items():
            for child in payload.get(name) or []:
                if isinstance(child, dict):
                    out.add(match_value(child, mk))
    return out


def _child_skus(body: dict[str, Any] | None, shape: KindShape | None) -> dict[str, str]:
    """match value -> SKU of the children of a confirmed catalogue body (Elebne variants: label -> sku)."""
    out: dict[str, str] = {}
    if not body or shape is None:
        return out
    for path in shape.sku_paths:
        if len(path) == 3 and path[1] == "*" and path[0] in shape.match_keys:
            for child in body.get(path[0]) or []:
                if isinstance(child, dict) and isinstance(get_path(child, path[2:]), str):
                    out[match_value(child, shape.match_keys[path[0]])] = get_path(child, path[2:])
    return out


def _disable_children(plan: Plan, bodies: ConfirmedBodies, mapping: CompiledMapping, shapes: dict[str, KindShape],
                      in_source: set[str], result: MissingResult, defaults: dict[str, Any], adapter: Any) -> None:
    """``disable`` for a variant dropped from a product: the catalogue payload's variant status field (Elryan
    ``variants[].is_active``), where the mapping has one; elsewhere its stock 0 is what disables it."""
    in_source_folded = {s.casefold() for s in in_source}
    placed = _placed_skus(plan)
    for kind in _kinds(plan, shapes, CATALOGUE):
        shape = shapes[kind]
        fields = {p[0] for p in shape.variant_status if len(p) > 2 and p[0] in shape.match_keys}
        ops = [op for op in plan.ops if op.kind == kind and op.action in ("update", "refresh")
               and op.key in plan.products]
        if not fields or not ops:
            continue
        compiled = mapping.payloads[kind]
        old_bodies = bodies.get(kind, [op.key for op in ops])
        hashes = plan.confirmed.get(kind, {})
        dropped: list[PlannedOp] = []
        for op in ops:
            old = old_bodies.get(op.key)
            if not old:
                continue
            gone = _gone_children(plan.products[op.key], mapping, defaults, adapter, in_source_folded, placed,
                                  result)
            changed: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
            for name in fields:
                changed += [(name, child, off) for _mv, child, off in
                            _carry_children(op, old, name, shape.match_keys[name], shape.variant_status, gone)]
            op.digest = digest(canonical_json(op.payload))
            if not changed:
                if op.digest == hashes.get(op.key) and op.action == "refresh":
                    dropped.append(op)
                    plan.unchanged.setdefault(kind, set()).add(op.key)
                continue
            body = dict(op.body) if op.action == "update" else {compiled.key_field: op.payload[compiled.key_field]}
            for name, _child, off in changed:
                body.setdefault(name, []).append(off)
            op.action, op.body = "update", body
            merged = json.loads(op.canonical) if op.canonical else dict(old)
            for name, child, off in changed:
                mk = shape.match_keys[name]
                merged[name] = [off if isinstance(c, dict) and match_value(c, mk) == match_value(child, mk) else c
                                for c in merged.get(name) or []]
            op.canonical = canonical_json(merged)
            for name, child, _off in changed:
                sku = child.get("sku")
                sku = sku if isinstance(sku, str) else match_value(child, shape.match_keys[name])
                entry = next((m for m in result.skus if m.key == op.key and m.sku == sku), None)
                if entry is None:
                    result.skus.append(MissingSku(op.key, sku, [kind]))
                elif kind not in entry.kinds:
                    entry.kinds.append(kind)
        plan.drop_ops(dropped)
