"""The request shapes are strict TypedDicts (shapes.py): every one of them, nested ones included, refuses a field
the marketplace does not take and a value of the wrong type, and a check of the whole body still runs."""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

import pytest

from connector.marketplaces.ecomlinx import payloads as ecomlinx
from connector.marketplaces.elebne import payloads as elebne
from connector.marketplaces.elryan import payloads as elryan
from connector.marketplaces.shapes import STRICT, Shape, shape_problems


def _typed_dicts(module: ModuleType) -> list[type]:
    return [obj for _name, obj in inspect.getmembers(module, inspect.isclass)
            if obj.__module__ == module.__name__ and hasattr(obj, "__total__")]


@pytest.mark.parametrize("module", [elebne, elryan, ecomlinx], ids=lambda m: m.__name__.split(".")[2])
def test_every_typed_dict_of_a_shape_is_strict(module: ModuleType) -> None:
    classes = _typed_dicts(module)
    assert len(classes) >= 2
    # set on each class: a TypedDict does not take its base's config
    assert [c.__name__ for c in classes if c.__dict__.get("__pydantic_config__") != STRICT] == []
    assert all(isinstance(shape, Shape) for shape in module.SHAPES.values())


def _reasons(shape: Shape, body: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    return {p.path: p.reason for p in shape_problems(shape, body)}


ELRYAN_VARIANT = {"sku": "S1", "name": "n", "retail_price": 10, "price": 9, "currency": "MRU", "is_active": True,
                  "supplier": {"name": "s", "remote_id": "r"}, "translations": [], "attributes": []}
ELRYAN_PRODUCT = {"name": "p", "spu": "s", "category": {"name": "c", "remote_id": "r"},
                  "brand": {"name": "b", "remote_id": "r"}, "tax": 0, "is_active": True, "translations": [],
                  "variants": [ELRYAN_VARIANT], "guarantee": 12, "fulfillment_day": 2}


@pytest.mark.parametrize(("shape", "body", "expected"), [
    (elebne.SHAPES["create"], {"externalId": "A", "name": "N", "price": 1, "variants": [{"label": "a", "x": 1}]},
     {("variants", 0, "x"): "is not a field this marketplace takes (check the mapping)"}),
    (elebne.SHAPES["create"], {"externalId": "A", "name": "N", "price": 1, "variants": [{"label": "a", "price": "7"}]},
     {("variants", 0, "price"): "must be a whole number"}),
    (elebne.SHAPES["stock"], {"externalId": "A", "mode": "set", "variants": [{"label": "a", "quantity": 1.0}]},
     {("variants", 0, "quantity"): "must be a whole number"}),
    (elebne.SHAPES["update"], {"externalId": "A", "variants": [{"label": "Silk"}, {"label": "silk"}]},
     {(): "variant labels must be unique (case-insensitive): silk"}),
    (elryan.SHAPES["product"], {**ELRYAN_PRODUCT, "variants": [{**ELRYAN_VARIANT, "supplier": {"name": "s",
                                                                                                "remote_id": "r",
                                                                                                "tax": 1}}]},
     {("variants", 0, "supplier", "tax"): "is not a field this marketplace takes (check the mapping)"}),
    (elryan.SHAPES["product"], {**ELRYAN_PRODUCT, "variants": [ELRYAN_VARIANT, ELRYAN_VARIANT]},
     {(): "SKU given twice: S1"}),
    (elryan.SHAPES["product"], {**ELRYAN_PRODUCT, "variants": [{**ELRYAN_VARIANT, "attributes": [
        {"name": "c", "value": v, "remote_attribute_id": "color", "remote_attribute_value_id": v} for v in "ab"]}]},
     {("variants", 0): "attribute given twice: color"}),
    (elryan.SHAPES["price_stock_item"], {"sku": "A", "stock": None},
     {(): "nothing to update (no stock, price nor retail_price)"}),
    (ecomlinx.SHAPES["stock"], {"sku": "A", "quantity": 2, "allocations": {"web": "1"}},
     {("allocations", "web"): "must be a whole number"}),
    (ecomlinx.SHAPES["stock"], {"sku": "A", "quantity": 2, "allocations": {"web": 2, "shop": 1}},
     {(): "allocations sum to 3, more than the quantity 2"}),
    (ecomlinx.SHAPES["update"], {"sku": "A", "price": "-1"}, {("price",): "must not be negative"}),
    (ecomlinx.SHAPES["update"], {"sku": "A", "price": 1.5}, {("price",): "must be a decimal amount, got float"}),
])
def test_shapes_refuse_what_the_marketplace_refuses(shape: Shape, body: dict[str, Any],
                                                    expected: dict[tuple[str | int, ...], str]) -> None:
    assert _reasons(shape, body) == expected


@pytest.mark.parametrize(("shape", "body"), [
    (elebne.SHAPES["create"], {"externalId": "A", "name": "N", "price": 1, "variants": [{"label": "a"}]}),
    (elryan.SHAPES["product"], ELRYAN_PRODUCT),
    (ecomlinx.SHAPES["stock"], {"sku": "A", "quantity": 2, "allocations": {"web": 2}}),
    (ecomlinx.SHAPES["update"], {"sku": "A", "price": None}),
])
def test_valid_bodies_have_no_problems(shape: Shape, body: dict[str, Any]) -> None:
    assert shape_problems(shape, body) == []
