"""No listed quantity goes up while some marketplace's orders are unknown (``StockPolicy.hold``).

The oversell guard (``connector.orders.reservation``) holds back the open orders it knows.  When a marketplace's
orders could not be read this run (a refused key, no answer, an order that cannot be read, a read stopped half
way), an order placed there since the last good read is unknown, and raising a quantity anywhere may put its
unit back on sale: the last unit would be sold twice.  Lowering a quantity, or leaving it, cannot oversell; so
the run goes on, but each variant's listed quantity is capped at what the marketplace last confirmed for it.  A
variant it never confirmed a quantity for is sent with 0 when it is listed on a marketplace whose orders are
unknown (``Hold.listed``); otherwise it is sent as it is (nobody can have bought it there).  The next run that
reads every marketplace's orders sends the real quantities.

What a marketplace confirmed is a payload (Elebne ``variants[].quantity`` by label, Elryan ``items[].stock`` by
SKU, EcomLinx ``quantity``, an integrator's mapping anything else), not a number per SKU.  So which sellable
items of the payloads a variant feeds is learnt the way ``payload_shape`` learns the fields: by mapping the
product with that variant alone at 1.  An item's confirmed quantity is then shared among the variants that feed
it (a product-level sum), in their order.  Done only for products whose mapped quantities would go up: a run
that holds costs a mapping per product, one more per variant of those.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from connector.mapping import CompiledMapping, RecordMappingError
from connector.model import Product
from connector.sync.payload_shape import KindShape, probe_shapes, stock_items
from connector.sync.report import RunReport
from connector.sync.state import StateStore
from connector.sync.stock_policy import Hold

Item = tuple[str, str]  # (payload kind, item id in ``stock_items``)
SHOWN = 10


def listed_keys(state: StateStore, marketplace: str, account: str, mapping_path: str) -> frozenset[str] | None:
    """The keys (product keys, or SKUs where the marketplace keys by SKU) with a payload confirmed on this
    account, for ``Hold.listed``; None when its mapping cannot be loaded (then any SKU may be listed there)."""
    from connector.errors import ConnectorError
    from connector.mapping import load_mapping

    try:
        kinds = list(load_mapping(mapping_path).payloads)
    except (ConnectorError, OSError):
        return None
    return frozenset(key for kind in kinds for key in state.hashes(marketplace, account, kind))


def hold_increases(products: Sequence[Product], source: Sequence[Product], mapping: CompiledMapping, adapter: Any,
                   state: StateStore, marketplace: str, account: str, defaults: dict[str, Any],
                   hold: Hold) -> dict[str, dict[str, int]]:
    """Lower ``Variant.qty`` of ``products`` (as planned for ``marketplace``) wherever it would raise what the
    marketplace last confirmed; a variant it never confirmed is lowered to 0 when it is listed where the orders
    are unknown (``hold.listed``; ``source``: the canonical products, whose keys and SKUs those are).  Returns
    SKU -> ``{"wanted": n, "listed": m}`` of the variants lowered."""
    shapes = {k: s for k, s in probe_shapes(mapping, adapter, defaults).items() if s.quantity_paths}
    if not shapes:
        return {}
    exposed = None if hold.listed is None else {
        v.sku for p in source for v in p.variants if p.key in hold.listed or v.sku in hold.listed}
    keys = [p.key for p in products]
    confirmed = {kind: state.bodies(marketplace, account, kind, keys) for kind in shapes}
    held: dict[str, dict[str, int]] = {}
    for product in products:
        wanted = [_quantity(v.qty) for v in product.variants]
        if not any(wanted):
            continue  # nothing listed above 0: nothing can go up
        old = {(kind, item): qty for kind, shape in shapes.items()
               for item, qty in stock_items(confirmed[kind].get(product.key), shape).items()}
        risky = [exposed is None or v.sku in exposed for v in product.variants]
        caps = _caps(product, wanted, old, risky, mapping, adapter, shapes, defaults)
        for variant, want, cap in zip(product.variants, wanted, caps, strict=True):
            if cap < want:
                variant.qty = cap
                held[variant.sku] = {"wanted": want, "listed": cap}
    return held


def _caps(product: Product, wanted: list[int], old: dict[Item, int], risky: list[bool], mapping: CompiledMapping,
          adapter: Any, shapes: dict[str, KindShape], defaults: dict[str, Any]) -> list[int]:
    """Each variant's highest quantity that raises no item above its confirmed quantity; an item never
    confirmed is held at 0 when a variant feeding it is ``risky`` (listed where the orders are unknown)."""
    items = _items(product, wanted, mapping, adapter, shapes, defaults)
    if items is None:
        return wanted  # it does not map: the plan reports it and sends nothing
    if all(q <= old[item] if item in old else q == 0 or not any(risky) for item, q in items.items()):
        return wanted  # nothing goes up
    caps = list(wanted)
    feeds: dict[Item, list[int]] = {}  # item -> the variants whose quantity it holds, in their order
    for i, want in enumerate(wanted):
        if want:
            alone = [1 if j == i else 0 for j in range(len(wanted))]
            fed = _items(product, alone, mapping, adapter, shapes, defaults)
            # a product that maps only as it is: every item counts as fed by every variant
            for item, qty in (fed if fed is not None else items).items():
                if fed is None or qty > 0:
                    feeds.setdefault(item, []).append(i)
    for item, fed_by in feeds.items():
        if item in old:
            left = max(0, old[item])
        elif any(risky[i] for i in fed_by):
            left = 0
        else:
            continue  # never listed anywhere its orders are unknown: it cannot have been sold there
        for i in fed_by:
            share = min(wanted[i], left)
            caps[i] = min(caps[i], share)
            left -= share
    return caps


def _items(product: Product, quantities: list[int], mapping: CompiledMapping, adapter: Any,
           shapes: dict[str, KindShape], defaults: dict[str, Any]) -> dict[Item, int] | None:
    """The sellable items of ``product``'s payloads with its variants at ``quantities`` (None: it does not map)."""
    variants = [dataclasses.replace(v, qty=q) if _quantity(v.qty) else v
                for v, q in zip(product.variants, quantities, strict=True)]
    copy = dataclasses.replace(product, variants=variants)
    out: dict[Item, int] = {}
    try:
        for kind, shape in shapes.items():
            payload = adapter.normalize(kind, mapping.payloads[kind].build(copy, defaults))
            out.update({(kind, item): qty for item, qty in stock_items(payload, shape).items()})
    except (RecordMappingError, ValueError, TypeError, KeyError):
        return None
    return out


def _quantity(qty: Any) -> int:
    return qty if isinstance(qty, int) and not isinstance(qty, bool) and qty > 0 else 0


def account_held(report: RunReport, held: dict[str, dict[str, int]], reason: str) -> None:
    """The report's part of a held run: every row of a held SKU says why, a note, ``not_raised`` in the JSON,
    and the quantities the oversell guard reports are the ones listed."""
    report.not_raised = {"reason": reason, "skus": held}
    report.notes.insert(0, f"no listed quantity was raised this run: {reason}"
                           + (f" ({len(held)} SKU(s) kept at their listed quantity)" if held else ""))
    for row in report.rows:
        h = held.get(row.sku or "")
        if h is None:
            continue
        said = f"not raised ({h['wanted']} wanted, {h['listed']} listed): {reason}"
        row.reason = f"{row.reason}; {said}" if row.reason else said
    for sku, h in held.items():
        if sku in report.reserved:
            report.reserved[sku]["listed"] = h["listed"]


def held_lines(report: RunReport) -> list[str]:
    """The summary's lines for a held run (the report has every SKU)."""
    if not report.not_raised:
        return []
    held = report.not_raised["skus"]
    lines = [f"not raised: {report.not_raised['reason']}"
             + (f"; {len(held)} SKU(s) kept at their listed quantity" if held else "; no quantity would have gone up")]
    for sku, h in sorted(held.items())[:SHOWN]:
        lines.append(f"  {sku}: {h['wanted']} wanted, {h['listed']} listed")
    if len(held) > SHOWN:
        lines.append(f"  ... and {len(held) - SHOWN} more (see the JSON report)")
    return lines
