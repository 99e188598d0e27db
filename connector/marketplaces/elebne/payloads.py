"""Elebne request shapes, checked strictly before anything is sent ("7" is not 7, a bool is not an int)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from connector.marketplaces.shapes import HTTP_URL, MAX_INT, Problem, not_blank, repeated, shape_problems

_STRICT = ConfigDict(strict=True, extra="forbid")


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


class VariantIn(BaseModel):
    model_config = _STRICT
    label: Label
    sku: str | None = None
    price: Price | None = None
    barcode: str | None = None
    quantity: Count | None = None


class _ProductFields(BaseModel):
    model_config = _STRICT
    description: str | None = None
    quantity: Count | None = None
    status: Literal["ACTIVE", "INACTIVE", "DRAFT"] | None = None
    category: str | None = None
    brand: str | None = None
    images: list[Url] | None = None
    barcode: str | None = None
    variants: list[VariantIn] | None = None

    @model_validator(mode="after")
    def _unique_labels(self) -> _ProductFields:
        labels = [v.label.casefold() for v in self.variants or []]
        dupes = repeated(labels)
        if dupes:
            raise ValueError(f"variant labels must be unique (case-insensitive): {', '.join(dupes)}")
        return self


class ProductCreate(_ProductFields):
    name: Label
    price: Price
    externalId: str = Field(min_length=1, max_length=100)


class ProductUpdate(_ProductFields):
    name: Label | None = None
    price: Price | None = None
    externalId: str = Field(min_length=1, max_length=100)


class StockVariant(BaseModel):
    model_config = _STRICT
    label: Label
    quantity: Count


class BulkItem(BaseModel):
    model_config = _STRICT
    externalId: str = Field(min_length=1)
    mode: Literal["set"]
    quantity: Count | None = None
    variants: list[StockVariant] | None = None


SHAPES: dict[str, type[BaseModel]] = {"create": ProductCreate, "update": ProductUpdate, "stock": BulkItem}


def required_text(action: str) -> str:
    """What a missing required field of an ``action`` request is told."""
    return "is required to create a product on Elebne" if action == "create" else "is required"


def problems(action: str, body: dict[str, Any]) -> list[Problem]:
    """Every reason Elebne would refuse ``body`` for ``action``, in plain words."""
    return shape_problems(SHAPES.get(action), body, missing=required_text(action))
