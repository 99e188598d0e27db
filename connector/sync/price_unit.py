"""Does a mapping give prices in the unit the marketplace reads them in?

Elebne reads a price as an integer of minor units (``35000`` is 350.00; docs/elebne.md), and the shipped mapping
converts with the ``minor_units`` op.  An integrator's mapping whose price ops leave it out (``[amount, {multiply:
"1.1"}, {round: 0}, int]``, a markup) gives ``385`` for 350.00: every product would be listed at a hundredth of its
price, and nothing else would notice (the price guard compares a price with the one last sent; a new product has
none).  So a synthetic product is mapped at two prices, and each number of the payload that moves with the price is
compared with the price in the marketplace's unit (the account currency's minor units: 2 unless the profile says
``currency: {minor_units: N}``; ``mapping check --minor-units N``): more than ``FACTOR`` times apart either way is not
a markup nor a discount but another unit, and the run is refused before anything is planned or sent (exit 2), as
``mapping check`` refuses the file.  Only marketplaces whose adapter says ``prices_in_minor_units`` are checked
(Elebne).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from connector.errors import MappingError
from connector.mapping import CompiledMapping, RecordMappingError
from connector.sync.payload_shape import FILLER_DEFAULTS, changed_leaves, flat_leaves, number, probe_product

FACTOR = 20  # a markup, a discount or a rounding stays well within this; another unit (100, 1,000) does not
_PRICES = (Decimal("1000"), Decimal("3000"))


def price_unit_problems(mapping: CompiledMapping, adapter: Any, defaults: dict[str, Any] | None = None,
                        digits: int = 2) -> list[MappingError]:
    """One error per payload field whose price is not in minor units of ``digits`` (the account currency's) where
    the marketplace reads them so; none for another marketplace, or when the probe does not map."""
    if not getattr(adapter, "prices_in_minor_units", False):
        return []
    title = getattr(adapter, "title", "the marketplace")
    context = {**FILLER_DEFAULTS, **(defaults or {})}
    scale = Decimal(10) ** digits
    wanted = _PRICES[0] * scale  # the first probe's price as the marketplace reads it
    out = []
    for kind, compiled in mapping.payloads.items():
        try:
            low, high = (flat_leaves(adapter.normalize(kind, copy.deepcopy(compiled.build(
                probe_product(price=price), context)))) for price in _PRICES)
        except (RecordMappingError, ValueError, TypeError, KeyError):
            continue
        for path in changed_leaves(low, high):
            value = number(low[path])
            if value is None or (wanted / FACTOR <= value <= wanted * FACTOR):
                continue
            shown = (value / scale).quantize(Decimal(1) / scale) if value else value
            out.append(MappingError(
                f"gives {value} for a price of {_PRICES[0]:.2f}, which {title} reads as {shown}: it takes prices "
                f"as whole numbers of minor units ({_PRICES[0]:.2f} is {wanted:.0f}), so every product would be "
                f"listed at {_ratio(value, wanted)} its price; convert the price with "
                f"the minor_units op ({{minor_units: {digits}}}) after any markup",
                file=mapping.source_files[-1] if mapping.source_files else None,
                path=_mapping_path(kind, path)))
    return out


def _mapping_path(kind: str, path: tuple[str, ...]) -> str:
    """Where the mapping writes a payload path: ``payloads.product.fields.price``, or for a child list's field
    ``payloads.product.children.variants.fields.price``."""
    if len(path) > 2 and path[1] == "*":
        return f"payloads.{kind}.children.{path[0]}.fields.{'.'.join(p for p in path[2:] if p != '*')}"
    return f"payloads.{kind}.fields.{'.'.join(p for p in path if p != '*')}"


def _ratio(value: Decimal, wanted: Decimal) -> str:
    """``about 1/91 of`` or ``about 100 times``: how far the mapped price is from the price."""
    if value <= 0:
        return "nothing of"
    if value < wanted:
        return f"about 1/{wanted / value:.0f} of"
    return f"about {value / wanted:.0f} times"
