"""The generated code reads a property of a record's class through its getter only for a record of exactly
that class; any other record (a subclass, a stand-in object) is read through ordinary attribute access and
gives what the per-field getters give."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from connector.mapping import load_mapping, shipped_mapping
from connector.model import ABSENT, Money, Product, Variant
from tests.test_mapping_payloads_pinned import DEFAULTS, odd_products


@dataclasses.dataclass(slots=True)
class SubProduct(Product):
    """A product of another class that changes nothing."""


@dataclasses.dataclass(slots=True)
class DiscountedProduct(Product):
    @property
    def price(self) -> Any:
        return Money(Decimal("1.25"), "MRU")


@dataclasses.dataclass(slots=True)
class NamedVariant(Variant):
    @property
    def label(self) -> str:
        return f"label of {self.sku}"


def as_class(product: Product, cls: type) -> Product:
    return cls(**{f.name: getattr(product, f.name) for f in dataclasses.fields(Product)})


def test_a_record_of_another_class_maps_like_the_record_itself() -> None:
    for name in ("elebne", "elryan", "ecomlinx"):
        mapping = load_mapping(shipped_mapping(name))
        for product in odd_products():
            for defaults in (None, DEFAULTS):
                try:
                    expected: Any = mapping.apply(product, defaults)
                except ValueError as exc:
                    expected = str(exc)
                try:
                    got: Any = mapping.apply(as_class(product, SubProduct), defaults)
                except ValueError as exc:
                    got = str(exc)
                assert got == expected, (name, product.key)


def test_a_subclass_property_is_the_one_read() -> None:
    mapping = load_mapping(shipped_mapping("elebne"))
    product = Product(key="P", name="Tea", variants=[Variant(sku="P", price=Money(Decimal("9"), "MRU"))])
    assert mapping.apply(product)["product"]["price"] == 900
    assert mapping.apply(as_class(product, DiscountedProduct))["product"]["price"] == 125


def test_a_child_level_reads_the_elements_own_property(tmp_path: Path) -> None:
    doc = {"version": 1, "marketplace": "test", "payloads": {"product": {"key": "id", "fields": {"id": "product.key"},
           "children": {"variants": {"source": "product.variants", "as": "variant", "match_key": "sku",
                                     "fields": {"sku": "variant.sku", "label": "variant.label",
                                                "height": "variant.dimensions.height"}}}}}}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    mapping = load_mapping(path)
    variants = [Variant(sku="A", attributes={"Size": "M"}, dimensions={"height": Decimal("2")}),
                NamedVariant(sku="B", dimensions=None), Variant(sku="C", attributes={"Size": "L"})]
    assert mapping.apply(Product(key="P", variants=variants))["product"]["variants"] == [
        {"sku": "A", "label": "M", "height": Decimal("2")}, {"sku": "B", "label": "label of B", "height": None},
        {"sku": "C", "label": "L"}]
    assert variants[2].dimensions is ABSENT
