"""A payload problem in the merchant's words: which SKU, which field as the merchant knows it, what value.

The shapes (``shapes.shape_problems``) say what is wrong with a *request* (``variants[2].price is too
large``); a merchant knows SKUs, columns and the values they typed.  ``explain`` turns one into the other for
the record a payload was made from: the SKU of the variant (found by the payload entry's ``sku`` or
``label``), the field under its template column name (``Price``, ``Images``, ``Attribute: Size``...), the
value as the source gave it (a price before it was turned into minor units), and where it came from (sheet
and row).  ``sibling_problems`` holds the rules every marketplace with variants shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connector.marketplaces.shapes import Problem
from connector.model import ABSENT, Money, Product, SourceRef, Variant

_STOCK = "Stock (the sum of its Quantity cells)"
# payload field -> the field as a merchant knows it (the template's column names; settings for what no
# column holds)
FIELD_WORDS: dict[str, str] = {
    "name": "Name", "description": "Description", "brand": "Brand", "category": "Category",
    "price": "Price", "retail_price": "Price", "currency": "Currency", "barcode": "Barcode", "gtin": "Barcode",
    "hs_code": "HS code", "weight": "Weight (kg)", "height": "Height", "width": "Width", "length": "Length",
    "images": "Images", "default_image_url": "Images", "extra_images": "Images", "status": "Active",
    "is_active": "Active", "quantity": _STOCK, "stock": _STOCK, "allocations": "stock allocations (settings)",
    "label": "Attribute columns", "attributes": "Attribute columns", "sku": "SKU", "externalId": "SKU",
    "spu": "Parent SKU", "translations": "translated Name", "tax": "tax (profile setting defaults.tax)",
    "guarantee": "guarantee (profile setting defaults.guarantee)",
    "fulfillment_day": "fulfilment days (profile setting defaults.fulfillment_day)",
    "supplier": "supplier (profile setting defaults.supplier)", "freight": "freight (profile setting defaults.freight)",
}
_PRICE_FIELDS = frozenset({"price", "retail_price"})
_STOCK_FIELDS = frozenset({"quantity", "stock"})


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One value a marketplace would refuse, located for the merchant."""

    sku: str | None
    field: str  # as the merchant knows it: "Price", "Attribute: Size", "Images"
    value: Any  # as the source gave it (None: nothing given)
    reason: str  # plain words: "must not be negative"
    ref: SourceRef | None = None  # where the record came from (sheet and row)
    product: str | None = None  # the product's key, when the problem is the product's, not one SKU's

    @property
    def shown_value(self) -> str:
        v = self.value
        if v is None or v is ABSENT:
            return ""
        if isinstance(v, Money):
            v = v.amount
        if isinstance(v, list | tuple):
            return ", ".join(str(x) for x in v)
        return str(v)

    def __str__(self) -> str:
        who = f"SKU {self.sku}" if self.sku else f"product {self.product}" if self.product else "product"
        what = f"{self.field} {self.shown_value!r}" if self.shown_value else self.field
        return f"{who}: {what} {self.reason}" if what else f"{who}: {self.reason}"


def describe(problems: Iterable[FieldProblem], limit: int = 5) -> str | None:
    """Several problems as one reason for a report row, or None."""
    items = list(dict.fromkeys(str(p) for p in problems))
    if not items:
        return None
    text = "; ".join(items[:limit])
    return text + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def explain(problems: Sequence[Problem], body: dict[str, Any], record: Any) -> list[FieldProblem]:
    """``problems`` of ``body`` (a payload made from ``record``) in the merchant's words."""
    if not problems:
        return []
    product = record if isinstance(record, Product) else None
    return [_explain_one(p, body, product) for p in problems]


def _explain_one(problem: Problem, body: dict[str, Any], product: Product | None) -> FieldProblem:
    path = problem.path
    entry, variant = body, None
    # the innermost list entry that names a variant (by sku or label) tells whose value it is
    node: Any = body
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict):
            entry = node
            found = _variant_of(product, node)
            variant = found or variant
    name = problem.field
    field = FIELD_WORDS.get(name, name)
    if name in ("value", "name") and "remote_attribute_id" in entry:
        field = f"Attribute: {entry.get('name')}"  # an attribute reference: its column
    elif name in ("name", "description") and isinstance(entry.get("language"), str):
        field = f"{field} ({entry['language']})"  # a translation: its column, e.g. "Name (fr)"
    elif name == "externalId" and product is not None and product.has_variants:
        field = "Parent SKU"
    if variant is None and product is not None and len(product.variants) == 1:
        variant = product.variants[0]
    value = _source_value(name, variant, product, problem)
    sku = variant.sku if variant is not None else None
    ref = (variant.ref if variant is not None else None) or (product.ref if product is not None else None)
    reason = problem.reason if not problem.wrong_type else \
        f"{problem.reason}, not {mapped_value(problem.value)} the mapping gives (check the mapping)"
    return FieldProblem(sku, field, value, reason, ref, product.key if product is not None else None)


def mapped_value(value: Any) -> str:
    """A value a mapping gave, with its kind: shown beside the source's own when the field takes another kind (the
    source's 350 is a whole number; the decimal 420 a markup made of it is not)."""
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, Decimal | float):
        return f"the decimal number {value:f}" if isinstance(value, Decimal) else f"the decimal number {value!r}"
    if isinstance(value, int):
        return f"the whole number {value}"
    if isinstance(value, str):
        return f"the text {value[:60]!r}"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a group of fields"
    return f"a {type(value).__name__}"


def _variant_of(product: Product | None, entry: dict[str, Any]) -> Variant | None:
    if product is None:
        return None
    sku, label = entry.get("sku"), entry.get("label")
    for v in product.variants:
        if (sku is not None and v.sku == sku) or (sku is None and label is not None and v.label == label):
            return v
    return None


def _source_value(name: str, variant: Variant | None, product: Product | None, problem: Problem) -> Any:
    """A price or stock as the source gave it (not in minor units, not after the stock policy's buffer)."""
    if not problem.given:
        return None
    if name in _PRICE_FIELDS:
        price = variant.price if variant is not None else (product.price if product is not None else ABSENT)
        if isinstance(price, Money):
            return price.amount
    if name in _STOCK_FIELDS:
        qty = variant.qty if variant is not None else (product.qty if product is not None else ABSENT)
        if isinstance(qty, int) and not isinstance(qty, bool):
            return qty
    value = problem.value
    return value if isinstance(value, str | int | Decimal | float | list) else None


def sibling_problems(product: Product) -> list[FieldProblem]:
    """What every marketplace with variants refuses: variants of one product that do not all have the same
    attribute columns filled, or two variants with the same values (the marketplace cannot tell them apart)."""
    if not product.has_variants:
        return []
    variants = product.variants
    names = variants[0].attributes.keys()
    if names and all(v.attributes.keys() == names for v in variants):
        # the usual product: every variant has the same attribute columns filled, so none lacks one and only
        # values alike can clash; none do when each variant's values (as compared below) are its own
        every = list(names)
        distinct = {tuple(str(v.attributes[n]).strip().casefold() for n in every) for v in variants}
        if len(distinct) == len(variants):
            return []
    return _sibling_problems_in_full(product)


def _sibling_problems_in_full(product: Product) -> list[FieldProblem]:
    """``sibling_problems`` of a product with variants, each rule checked variant by variant."""
    out: list[FieldProblem] = []
    names = [tuple(v.attributes) for v in product.variants]
    every = list(dict.fromkeys(n for ns in names for n in ns))
    for v in product.variants:
        lacking = [n for n in every if n not in v.attributes]
        if not v.attributes:
            out.append(FieldProblem(v.sku, "Attribute columns", None,
                                    f"are empty: every variant of product {product.key} needs its own values",
                                    v.ref))
        elif lacking:
            out.append(FieldProblem(v.sku, f"Attribute: {lacking[0]}", None,
                                    f"is empty while other variants of product {product.key} have one", v.ref))
    seen: dict[tuple[str, ...], Variant] = {}
    for v in product.variants:
        if not v.attributes:
            continue
        values = tuple(str(v.attributes.get(n, "")).strip().casefold() for n in every)
        first = seen.setdefault(values, v)
        if first is not v:
            out.append(FieldProblem(v.sku, "Attribute columns", v.label,
                                    f"are the same as SKU {first.sku}'s: variants of one product need different "
                                    "values", v.ref))
    return out
