"""Where a mapping puts the listed quantity and the active/status flag, learnt by probing it.

The guard and the missing-SKU policy work on payloads the marketplace confirmed (the state), not on canonical
records, and every mapping (shipped or an integrator's own) names its fields differently: Elebne ``quantity``
and ``variants[].quantity``, Elryan ``items[].stock`` and ``is_active``, EcomLinx ``quantity`` and ``status``.
So instead of a table per marketplace, one synthetic product is mapped a few times, changing only its
quantity, its active flag or its price, and the fields that change are the ones that express them (with the value
the mapping gives an inactive record, e.g. ``"INACTIVE"`` or ``false``; a price's numbers whatever the mapping makes
of it: minor units, a markup, a currency conversion).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.mapping import CompiledMapping, RecordMappingError
from connector.model import Money, Product, StockLevel, Variant

Path = tuple[str, ...]  # field names; "*" steps into every element of a child list
PROBE_KEY = "connector-probe-key"
PROBE_SKUS = ("connector-probe-sku-a", "connector-probe-sku-b")
_PROBE_QTY = 7
_PROBE_PRICE, _PROBE_OTHER_PRICE = Decimal("1.5"), Decimal("2.5")
# Values no source has and that shipped mappings require (Elryan): only so the probe maps; never sent.
FILLER_DEFAULTS = {"tax": 0, "guarantee": 0, "fulfillment_day": 1, "supplier": "probe", "brand": "probe",
                    "freight": 0}


@dataclass
class KindShape:
    """What a probe learnt about one payload kind."""

    kind: str
    key_field: str
    match_keys: dict[str, str]  # child list field -> its match key (from the mapping)
    quantity_paths: list[Path] = field(default_factory=list)
    zero_values: dict[Path, Any] = field(default_factory=dict)  # path -> value at quantity 0 (0, or 0 allocations)
    product_status: dict[Path, Any] = field(default_factory=dict)  # path -> value of an inactive product
    variant_status: dict[Path, Any] = field(default_factory=dict)  # path -> value of an inactive variant
    sku_paths: list[Path] = field(default_factory=list)  # where a variant's SKU is written
    decimal_paths: list[Path] = field(default_factory=list)  # Decimals, kept as text in the state's bodies
    # where a variant's price is written (Elebne ``price`` and ``variants[].price``, Elryan ``items[].price``...):
    # the numbers that change when only the prices do (``price_moves.py``)
    price_paths: list[Path] = field(default_factory=list)
    # path of a product-level quantity -> (child list field, quantity path in a child) when the mapping writes
    # the sum of the children's quantities there (Elebne ``quantity``: the sum of ``variants[].quantity``)
    total_paths: dict[Path, tuple[str, Path]] = field(default_factory=dict)

    @property
    def child_quantity_fields(self) -> set[str]:
        return {p[0] for p in self.quantity_paths if len(p) > 2 and p[1] == "*" and p[0] in self.match_keys}


def probe_product(*, qty: int = _PROBE_QTY, product_active: bool = True, variant_active: bool = True,
           currency: str = "XXX", split: bool = False, price: Decimal = _PROBE_PRICE) -> Product:
    """The synthetic product; ``split``: its two variants hold different quantities (``qty`` and 4 times it),
    so that a product-level sum of them is told apart from either."""
    variants = []
    for i, (sku, size) in enumerate(zip(PROBE_SKUS, ("S", "M"), strict=True)):
        own = qty * 4 if split and i else qty
        # every Decimal field filled, so that ``decimal_paths`` knows them all
        variants.append(Variant(sku=sku, attributes={"Size": size}, price=Money(price, currency),
                                cost=Money(Decimal("1.5"), currency), weight=Decimal("1.5"), hs_code="0101",
                                barcode="4006381333931", images=["https://probe.invalid/v.jpg"],
                                dimensions={"length": Decimal("1.5"), "width": Decimal("1.5"),
                                            "height": Decimal("1.5")},
                                active=variant_active, stock={"probe": StockLevel("probe", available=own)},
                                stock_known=True, qty=own))
    return Product(key=PROBE_KEY, name="Probe", description="probe", brand="probe", category_path=["Probe"],
                   images=["https://probe.invalid/a.jpg"], active=product_active, variants=variants)


def _leaves(obj: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, str(k)))
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        for item in obj:
            yield from _leaves(item, (*path, "*"))
    else:
        yield path, obj


def flat_leaves(payload: dict[str, Any] | None) -> dict[Path, Any]:
    out: dict[Path, Any] = {}
    for path, value in _leaves(payload or {}):
        out.setdefault(path, value)  # "*" paths: the first element's value
    return out


def changed_leaves(base: dict[Path, Any], other: dict[Path, Any]) -> dict[Path, Any]:
    return {p: other[p] for p in other if p in base and base[p] != other[p]}


def probe_shapes(mapping: CompiledMapping, adapter: Any, defaults: dict[str, Any] | None = None,
                 currency: str = "XXX") -> dict[str, KindShape]:
    """One ``KindShape`` per payload kind of ``mapping`` (kinds whose probe does not map are left out)."""
    ctx_defaults = {**FILLER_DEFAULTS, **(defaults or {})}
    probes = {"base": probe_product(currency=currency), "zero": probe_product(qty=0, currency=currency),
              "off": probe_product(product_active=False, currency=currency),
              "variant_off": probe_product(variant_active=False, currency=currency),
              "split": probe_product(currency=currency, split=True),
              "price": probe_product(currency=currency, price=_PROBE_OTHER_PRICE)}
    shapes: dict[str, KindShape] = {}
    for kind, compiled in mapping.payloads.items():
        flat: dict[str, dict[Path, Any]] = {}
        payloads: dict[str, Any] = {}
        try:
            for name, product in probes.items():
                payload = payloads[name] = adapter.normalize(kind, copy.deepcopy(compiled.build(product,
                                                                                                 ctx_defaults)))
                flat[name] = flat_leaves(payload)
        except (RecordMappingError, ValueError, TypeError, KeyError):
            continue
        shape = KindShape(kind, compiled.key_field, dict(compiled.match_keys))
        zero = changed_leaves(flat["base"], flat["zero"])
        shape.quantity_paths = list(zero)
        shape.zero_values = zero
        shape.product_status = {p: v for p, v in changed_leaves(flat["base"], flat["off"]).items() if p not in zero}
        shape.variant_status = {p: v for p, v in changed_leaves(flat["base"], flat["variant_off"]).items()
                                if p not in zero and p[:1] in {(k,) for k in shape.match_keys}}
        shape.sku_paths = [p for p, v in flat["base"].items() if v in PROBE_SKUS]
        shape.decimal_paths = [p for p, v in flat["base"].items() if isinstance(v, Decimal)]
        shape.price_paths = [p for p, v in changed_leaves(flat["base"], flat["price"]).items()
                             if number(v) is not None and number(flat["base"][p]) is not None]
        shape.total_paths = _total_paths(shape, payloads["base"], payloads["split"])
        shapes[kind] = shape
    return shapes


def _total_paths(shape: KindShape, base: Any, split: Any) -> dict[Path, tuple[str, Path]]:
    """The product-level quantity paths whose value is the sum of a child list's quantities, in both probes (the
    split one tells a sum apart from a copy of one child's quantity)."""
    out: dict[Path, tuple[str, Path]] = {}
    for path in shape.quantity_paths:
        if "*" in path:
            continue
        for child in shape.quantity_paths:
            if len(child) > 2 and child[1] == "*" and child[0] in shape.match_keys and all(
                    _child_sum(body, child[0], child[2:]) == get_path(body, path) for body in (base, split)):
                out[path] = (child[0], child[2:])
                break
    return out


def _child_sum(body: Any, name: str, path: Path) -> int | None:
    children = body.get(name) if isinstance(body, dict) else None
    if not isinstance(children, list) or not children:
        return None
    values = [get_path(c, path) for c in children]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    return sum(values)


# -- reading and writing confirmed bodies by path ------------------------------------------------------------
def get_path(body: Any, path: Path) -> Any:
    for step in path:
        if not isinstance(body, dict):
            return None
        body = body.get(step)
    return body


def set_path(body: dict[str, Any], path: Path, value: Any) -> None:
    """Set ``path`` in ``body`` (every element of a ``*`` list); a missing field is not created."""
    head, rest = path[0], path[1:]
    if head not in body:
        return
    if not rest:
        body[head] = copy.deepcopy(value)
    elif rest[0] == "*":
        for item in body.get(head) or []:
            if isinstance(item, dict):
                if len(rest) == 1:
                    continue
                set_path(item, rest[1:], value)
    elif isinstance(body[head], dict):
        set_path(body[head], rest, value)


def revive(body: dict[str, Any], shape: KindShape) -> dict[str, Any]:
    """A confirmed body as the mapping produced it: canonical JSON keeps Decimals as text (``"25000.5"``), an
    adapter validating a payload wants them back as Decimals before the body is sent again."""
    for path in shape.decimal_paths:
        _revive(body, path)
    return body


def _revive(obj: Any, path: Path) -> None:
    if not isinstance(obj, dict) or path[0] not in obj:
        return
    head, rest = path[0], path[1:]
    if not rest:
        if isinstance(obj[head], str):
            with contextlib.suppress(InvalidOperation):
                obj[head] = Decimal(obj[head])
    elif rest[0] == "*":
        for item in obj[head] or []:
            if len(rest) > 1:
                _revive(item, rest[1:])
    else:
        _revive(obj[head], rest)


def match_value(item: dict[str, Any], match_key: str) -> str:
    value = item.get(match_key)
    return value.casefold() if isinstance(value, str) else str(value)


def stock_items(body: dict[str, Any] | None, shape: KindShape) -> dict[str, int]:
    """The sellable units of a stock body and their quantities: one per child (``variants`` of Elebne,
    ``items`` of Elryan) when it has children with a quantity, else the body itself (id ``""``)."""
    if not body:
        return {}
    items: dict[str, int] = {}
    for name in shape.child_quantity_fields:
        mk = shape.match_keys[name]
        qty_fields = [p[2:] for p in shape.quantity_paths if p[0] == name and len(p) > 2]
        for child in body.get(name) or []:
            if isinstance(child, dict):
                items[match_value(child, mk)] = _quantity(child, qty_fields)
    if items:
        return items
    top = [p for p in shape.quantity_paths if "*" not in p]
    if top:
        return {"": _quantity(body, top)}
    return {}


def number(value: Any) -> Decimal | None:
    """A number of a payload (an int, a Decimal, a float, or text such as ``"12.50"``) as a finite Decimal; None
    for anything else (``True`` included)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        out = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return None
    return out if out.is_finite() else None


def _quantity(body: dict[str, Any], paths: list[Path]) -> int:
    for p in paths:
        value = get_path(body, p)
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return int(value)
    return 0
