"""Elebne request shapes, checked strictly before anything is sent ("7" is not 7, a bool is not an int)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connector.marketplaces.shapes import repeated, shape_problem

_STRICT = ConfigDict(strict=True, extra="forbid")
Name = str
Price = int


class VariantIn(BaseModel):
    model_config = _STRICT
    label: str = Field(min_length=1, max_length=200)
    sku: str | None = None
    price: int | None = Field(default=None, ge=0)
    barcode: str | None = None
    quantity: int | None = Field(default=None, ge=0)


class _ProductFields(BaseModel):
    model_config = _STRICT
    description: str | None = None
    quantity: int | None = Field(default=None, ge=0)
    status: Literal["ACTIVE", "INACTIVE", "DRAFT"] | None = None
    category: str | None = None
    brand: str | None = None
    images: list[str] | None = None
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
    name: str = Field(min_length=1, max_length=200)
    price: int = Field(ge=0)
    externalId: str = Field(min_length=1, max_length=100)


class ProductUpdate(_ProductFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    price: int | None = Field(default=None, ge=0)
    externalId: str = Field(min_length=1, max_length=100)


class StockVariant(BaseModel):
    model_config = _STRICT
    label: str = Field(min_length=1)
    quantity: int = Field(ge=0)


class BulkItem(BaseModel):
    model_config = _STRICT
    externalId: str = Field(min_length=1)
    mode: Literal["set"]
    quantity: int | None = Field(default=None, ge=0)
    variants: list[StockVariant] | None = None


SHAPES: dict[str, type[BaseModel]] = {"create": ProductCreate, "update": ProductUpdate, "stock": BulkItem}


def check(action: str, body: dict) -> str | None:
    """None when ``body`` is a valid request for ``action``, else a readable reason naming the fields."""
    missing = "is required to create a product on Elebne" if action == "create" else "is required"
    return shape_problem(SHAPES.get(action), body, missing=missing)
