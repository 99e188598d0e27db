"""Elebne request shapes, checked strictly before anything is sent ("7" is not 7, a bool is not an int)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, Field

from connector.marketplaces.shapes import (
    HTTP_URL,
    MAX_INT,
    STRICT,
    Problem,
    Shape,
    TypedDict,
    no_repeats,
    not_blank,
    shape_problems,
)


def _fits_minor_units(value: int) -> int:
    if value > MAX_INT:
        raise ValueError(f"is too large: Elebne takes prices in minor units (cents), at most {MAX_INT:,} "
                         f"(i.e. {MAX_INT / 100:,.2f})")
    return value


# "integer" in the document: the sandbox (and the API) take 0..2,147,483,647
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Price = Annotated[int, Field(ge=0), AfterValidator(_fits_minor_units)]
Url = Annotated[str, Field(pattern=HTTP_URL)]
Label = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(not_blank)]
ExternalId = Annotated[str, Field(min_length=1, max_length=100)]


class VariantIn(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    label: Label
    sku: NotRequired[str | None]
    price: NotRequired[Price | None]
    barcode: NotRequired[str | None]
    quantity: NotRequired[Count | None]


class _ProductFields(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    description: NotRequired[str | None]
    quantity: NotRequired[Count | None]
    status: NotRequired[Literal["ACTIVE", "INACTIVE", "DRAFT"] | None]
    category: NotRequired[str | None]
    brand: NotRequired[str | None]
    images: NotRequired[list[Url] | None]
    barcode: NotRequired[str | None]
    variants: NotRequired[list[VariantIn] | None]


# (Elebne finds a variant by its label, whatever its case)
UNIQUE_LABELS = no_repeats("variants", "label", "variant labels must be unique (case-insensitive)", str.casefold)


class _ProductCreate(_ProductFields):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Label
    price: Price
    externalId: ExternalId


class _ProductUpdate(_ProductFields):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: NotRequired[Label | None]
    price: NotRequired[Price | None]
    externalId: ExternalId


ProductCreate = Annotated[_ProductCreate, UNIQUE_LABELS]
ProductUpdate = Annotated[_ProductUpdate, UNIQUE_LABELS]


class StockVariant(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    label: Label
    quantity: Count


class BulkItem(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    externalId: Annotated[str, Field(min_length=1)]
    mode: Literal["set"]
    quantity: NotRequired[Count | None]
    variants: NotRequired[list[StockVariant] | None]


SHAPES: dict[str, Shape] = {"create": Shape(ProductCreate), "update": Shape(ProductUpdate), "stock": Shape(BulkItem)}


def required_text(action: str) -> str:
    """What a missing required field of an ``action`` request is told."""
    return "is required to create a product on Elebne" if action == "create" else "is required"


def problems(action: str, body: dict[str, Any]) -> list[Problem]:
    """Every reason Elebne would refuse ``body`` for ``action``, in plain words."""
    return shape_problems(SHAPES.get(action), body, missing=required_text(action))
