"""EcomLinx request shapes, checked before anything is sent.

``product`` payloads become ``PATCH /products/{id}`` bodies (name, price, status); ``stock`` payloads become
``PATCH /inventory/{sku}`` bodies (absolute ``quantity``, optional ``allocations``).  The ``sku`` is the match
key and is never sent in a body.

Prices are Decimals in the mapping, and decimal *strings* once they went through the state (canonical JSON
writes Decimals as their exact text): both are accepted and sent as JSON numbers; floats and booleans are not.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, Field

from connector.marketplaces.shapes import MAX_INT, STRICT, Problem, Shape, TypedDict, shape_problems

SKU_FIELD = "sku"


def as_decimal(value: Any) -> Decimal:
    """A price from the mapping (Decimal, int) or from the state (decimal text); anything else is refused."""
    if isinstance(value, bool | float):
        raise ValueError(f"must be a decimal amount, got {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"must be a decimal amount, got {value!r}") from None
    else:
        raise ValueError(f"must be a decimal amount, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("must be a finite amount")
    return result


def _price(value: Any) -> Any:
    if value is None:
        return value
    amount = as_decimal(value)
    if amount < 0:
        raise ValueError("must not be negative")
    return amount


class ProductPatch(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    sku: Annotated[str, Field(min_length=1, max_length=200)]
    name: NotRequired[Annotated[str, Field(min_length=1, max_length=500)] | None]
    price: NotRequired[Annotated[Any, AfterValidator(_price)]]
    status: NotRequired[Literal["live", "draft", "inactive"] | None]
    currency: NotRequired[str | None]  # checked against settings.currency, never sent


class _InventoryPatch(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    sku: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Annotated[int, Field(ge=0, le=MAX_INT)]
    allocations: NotRequired[dict[str, int] | None]


def _fits(patch: dict[str, Any]) -> dict[str, Any]:
    """(of a patch whose fields are valid)"""
    allocations = patch.get("allocations")
    if not allocations:
        return patch
    for channel, units in allocations.items():
        if units < 0:
            raise ValueError(f"allocation for {channel} is negative ({units})")
    allocated = sum(allocations.values())
    if allocated > patch["quantity"]:
        raise ValueError(f"allocations sum to {allocated}, more than the quantity {patch['quantity']}")
    return patch


InventoryPatch = Annotated[_InventoryPatch, AfterValidator(_fits)]


SHAPES: dict[str, Shape] = {"create": Shape(ProductPatch), "update": Shape(ProductPatch),
                            "stock": Shape(InventoryPatch)}


def problems(action: str, body: dict[str, Any]) -> list[Problem]:
    """Every reason EcomLinx would refuse ``body`` for ``action``, in plain words."""
    return shape_problems(SHAPES.get(action), body)


def product_body(body: dict[str, Any]) -> dict[str, Any]:
    """The PATCH body: every field but the SKU (and the currency, only checked); prices as Decimals."""
    out = {k: v for k, v in body.items() if k not in (SKU_FIELD, "currency")}
    if out.get("price") is not None:
        out["price"] = as_decimal(out["price"])
    return out
