"""Elryan request shapes, checked strictly before anything is sent ("7" is not 7, a bool is not a number).

The document marks nearly every field "required"; its own request samples leave out images, and a source
rarely has every descriptive field.  So the shapes below require what identifies a record and what it refers
to (spu/sku, names, category, brand, supplier, prices, currency, tax, guarantee, fulfilment days, attribute
references) and accept the descriptive fields (barcode, GTIN, HS code, images, description, weight and
dimensions, freight) when the source has them; docs/elryan.md says so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, NotRequired

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

Text = Annotated[str, Field(min_length=1), AfterValidator(not_blank)]
Number = Annotated[int | Decimal | float, Field(ge=0)]
Url = Annotated[str, Field(pattern=HTTP_URL)]
Stock = Annotated[int, Field(ge=0, le=MAX_INT)]  # a stock "number": whole units, in the 32-bit integer range


class CategoryUpsert(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Text
    remote_id: Text
    remote_parent_id: NotRequired[str | None]
    parent_id: NotRequired[str | None]
    is_active: bool


class BrandUpsert(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Text
    remote_id: Text
    remote_image_url: NotRequired[str | None]
    is_active: bool


class AttributeUpsert(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Text
    remote_id: Text
    is_active: bool


class AttributeValueUpsert(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    value: Text
    remote_id: Text
    is_active: bool
    attribute: AttributeUpsert


class CategoryRef(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Text
    remote_id: Text
    parent_remote_id: NotRequired[str | None]


class BrandRef(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Text
    remote_id: Text


class Supplier(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Text
    remote_id: Text


class ProductTranslation(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
    name: Text


class VariantTranslation(ProductTranslation):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    description: NotRequired[str | None]


class AttributeRef(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Text
    value: Text
    remote_attribute_id: Text
    remote_attribute_value_id: Text


class _VariantIn(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    sku: Text
    name: Text
    retail_price: Number
    price: Number
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    stock: NotRequired[Stock | None]
    barcode: NotRequired[str | None]
    hs_code: NotRequired[str | None]
    gtin: NotRequired[str | None]
    default_image_url: NotRequired[Url | None]
    extra_images: NotRequired[list[Url] | None]
    description: NotRequired[str | None]
    weight: NotRequired[Number | None]
    height: NotRequired[Number | None]
    width: NotRequired[Number | None]
    length: NotRequired[Number | None]
    freight: NotRequired[Number | None]
    is_active: bool
    supplier: Supplier
    translations: list[VariantTranslation]
    attributes: list[AttributeRef]


VariantIn = Annotated[_VariantIn, no_repeats("attributes", "remote_attribute_id", "attribute given twice")]


class _ProductUpsert(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    name: Text
    spu: Text
    category: CategoryRef
    brand: BrandRef
    default_image_url: NotRequired[Url | None]
    tax: Number
    is_active: bool
    translations: list[ProductTranslation]
    variants: Annotated[list[VariantIn], Field(min_length=1)]
    guarantee: Number
    fulfillment_day: Number


ProductUpsert = Annotated[_ProductUpsert, no_repeats("variants", "sku", "SKU given twice")]


class _PriceStockItem(TypedDict):
    __pydantic_config__ = STRICT  # type: ignore[misc]
    sku: Text
    stock: NotRequired[Stock | None]
    price: NotRequired[Number | None]
    retail_price: NotRequired[Number | None]


def _something_to_update(item: dict[str, Any]) -> dict[str, Any]:
    if item.get("stock") is None and item.get("price") is None and item.get("retail_price") is None:
        raise ValueError("nothing to update (no stock, price nor retail_price)")
    return item


PriceStockItem = Annotated[_PriceStockItem, AfterValidator(_something_to_update)]


SHAPES: dict[str, Shape] = {
    "category": Shape(CategoryUpsert), "brand": Shape(BrandUpsert), "attribute": Shape(AttributeUpsert),
    "attribute_value": Shape(AttributeValueUpsert), "product": Shape(ProductUpsert),
    "price_stock_item": Shape(PriceStockItem),
}


def problems(kind: str, body: dict[str, Any]) -> list[Problem]:
    """Every reason Elryan would refuse ``body`` as a ``kind`` request, in plain words."""
    return shape_problems(SHAPES[kind], body, missing="is required by Elryan")
