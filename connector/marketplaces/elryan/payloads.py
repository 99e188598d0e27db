"""Elryan request shapes, checked strictly before anything is sent ("7" is not 7, a bool is not a number).

The document marks nearly every field "required"; its own request samples leave out images, and a source
rarely has every descriptive field.  So the shapes below require what identifies a record and what it refers
to (spu/sku, names, category, brand, supplier, prices, currency, tax, guarantee, fulfilment days, attribute
references) and accept the descriptive fields (barcode, GTIN, HS code, images, description, weight and
dimensions, freight) when the source has them; docs/elryan.md says so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from connector.marketplaces.shapes import HTTP_URL, MAX_INT, Problem, not_blank, repeated, shape_problems

_STRICT = ConfigDict(strict=True, extra="forbid")
Text = Annotated[str, Field(min_length=1), AfterValidator(not_blank)]
Number = Annotated[int | Decimal | float, Field(ge=0)]
Url = Annotated[str, Field(pattern=HTTP_URL)]
Stock = Annotated[int, Field(ge=0, le=MAX_INT)]  # a stock "number": whole units, in the 32-bit integer range


class CategoryUpsert(BaseModel):
    model_config = _STRICT
    name: Text
    remote_id: Text
    remote_parent_id: str | None = None
    parent_id: str | None = None
    is_active: bool


class BrandUpsert(BaseModel):
    model_config = _STRICT
    name: Text
    remote_id: Text
    remote_image_url: str | None = None
    is_active: bool


class AttributeUpsert(BaseModel):
    model_config = _STRICT
    name: Text
    remote_id: Text
    is_active: bool


class AttributeValueUpsert(BaseModel):
    model_config = _STRICT
    value: Text
    remote_id: Text
    is_active: bool
    attribute: AttributeUpsert


class CategoryRef(BaseModel):
    model_config = _STRICT
    name: Text
    remote_id: Text
    parent_remote_id: str | None = None


class BrandRef(BaseModel):
    model_config = _STRICT
    name: Text
    remote_id: Text


class Supplier(BaseModel):
    model_config = _STRICT
    name: Text
    remote_id: Text


class ProductTranslation(BaseModel):
    model_config = _STRICT
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
    name: Text


class VariantTranslation(ProductTranslation):
    description: str | None = None


class AttributeRef(BaseModel):
    model_config = _STRICT
    name: Text
    value: Text
    remote_attribute_id: Text
    remote_attribute_value_id: Text


class VariantIn(BaseModel):
    model_config = _STRICT
    sku: Text
    name: Text
    retail_price: Number
    price: Number
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    stock: Stock | None = None
    barcode: str | None = None
    hs_code: str | None = None
    gtin: str | None = None
    default_image_url: Url | None = None
    extra_images: list[Url] | None = None
    description: str | None = None
    weight: Number | None = None
    height: Number | None = None
    width: Number | None = None
    length: Number | None = None
    freight: Number | None = None
    is_active: bool
    supplier: Supplier
    translations: list[VariantTranslation]
    attributes: list[AttributeRef]

    @model_validator(mode="after")
    def _one_value_per_attribute(self) -> VariantIn:
        ids = [a.remote_attribute_id for a in self.attributes]
        dupes = repeated(ids)
        if dupes:
            raise ValueError(f"attribute given twice: {', '.join(dupes)}")
        return self


class ProductUpsert(BaseModel):
    model_config = _STRICT
    name: Text
    spu: Text
    category: CategoryRef
    brand: BrandRef
    default_image_url: Url | None = None
    tax: Number
    is_active: bool
    translations: list[ProductTranslation]
    variants: Annotated[list[VariantIn], Field(min_length=1)]
    guarantee: Number
    fulfillment_day: Number

    @model_validator(mode="after")
    def _unique_skus(self) -> ProductUpsert:
        skus = [v.sku for v in self.variants]
        dupes = repeated(skus)
        if dupes:
            raise ValueError(f"SKU given twice: {', '.join(dupes)}")
        return self


class PriceStockItem(BaseModel):
    model_config = _STRICT
    sku: Text
    stock: Stock | None = None
    price: Number | None = None
    retail_price: Number | None = None

    @model_validator(mode="after")
    def _something_to_update(self) -> PriceStockItem:
        if self.stock is None and self.price is None and self.retail_price is None:
            raise ValueError("nothing to update (no stock, price nor retail_price)")
        return self


SHAPES: dict[str, type[BaseModel]] = {
    "category": CategoryUpsert, "brand": BrandUpsert, "attribute": AttributeUpsert,
    "attribute_value": AttributeValueUpsert, "product": ProductUpsert, "price_stock_item": PriceStockItem,
}


def problems(kind: str, body: dict[str, Any]) -> list[Problem]:
    """Every reason Elryan would refuse ``body`` as a ``kind`` request, in plain words."""
    return shape_problems(SHAPES[kind], body, missing="is required by Elryan")
