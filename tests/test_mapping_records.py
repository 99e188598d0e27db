"""The mapping engine keyed by record type (issue 11, point 7): a file says which record it maps with
``record:`` (default ``product``), and an order is mapped by a YAML file the way a product is."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from connector.errors import MappingError
from connector.mapping import RecordMappingError, load_mapping, shipped_mapping
from connector.mapping.records import RecordType, record_type, register_record_type
from connector.model import Money, Product, Variant

ORDER_MAPPING = Path(__file__).resolve().parent / "fixtures" / "mappings" / "order_lines.yaml"


@dataclass
class Customer:
    name: str
    email: str


@dataclass
class Line:
    sku: str
    quantity: int
    unit_price: Money


@dataclass
class Order:
    number: str
    status: str
    total: Money
    customer: Customer
    lines: list[Line] = field(default_factory=list)


def an_order() -> Order:
    return Order(number="SO-7", status="paid", total=Money(Decimal("31.50"), "MRU"),
                 customer=Customer("Aicha", "aicha@example.com"),
                 lines=[Line("TEE-M", 2, Money(Decimal("10.25"), "MRU")), Line("CAP", 1, Money(Decimal("11"), "MRU"))])


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_an_order_is_mapped_by_a_yaml_file_like_a_product() -> None:
    mapping = load_mapping(ORDER_MAPPING)
    assert mapping.record == "order"
    out = mapping.apply(an_order(), {"channel": "web"})
    assert out == {"order": {
        "number": "SO-7", "status": "PAID", "total": 3150, "currency": "MRU",
        "customer": "Aicha <aicha@example.com>", "channel": "web",
        "lines": [{"sku": "TEE-M", "quantity": 2, "price": 1025, "order": "SO-7", "label": "TEE-M x2"},
                  {"sku": "CAP", "quantity": 1, "price": 1100, "order": "SO-7", "label": "CAP x1"}],
    }}
    assert mapping.payloads["order"].match_keys == {"lines": "sku"}


def test_a_mapping_maps_products_unless_it_says_otherwise() -> None:
    assert load_mapping(shipped_mapping("elebne")).record == "product"


def test_an_order_mapping_paths_start_with_order_not_product(tmp_path: Path) -> None:
    path = write(tmp_path, """
    version: 1
    record: order
    marketplace: test
    payloads:
      order:
        key: id
        fields:
          id: order.number
          name: product.name
    """)
    with pytest.raises(MappingError, match="must start with order or defaults") as exc:
        load_mapping(path)
    assert exc.value.path == "payloads.order.fields.name" and exc.value.line == 10


def test_an_unknown_record_type_names_the_known_ones_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nmarketplace: test\nrecord: invoice\npayloads: {}\n")
    with pytest.raises(MappingError, match=r"unknown record type 'invoice' \(known: .*order, .*product") as exc:
        load_mapping(path)
    assert exc.value.path == "record" and exc.value.line == 3


def test_a_missing_order_attribute_fails_that_record_only() -> None:
    @dataclass
    class Bare:
        number: str
        status: str = "paid"

    with pytest.raises(RecordMappingError, match=r"mapping field 'customer': .* has no attribute 'customer'"):
        load_mapping(ORDER_MAPPING).apply(Bare("SO-8"), {"channel": "web"})


def test_a_registered_record_type_with_a_class_checks_attributes_when_loading(tmp_path: Path) -> None:
    register_record_type(RecordType("typed_order", Order, {"lines": Line}))
    try:
        body = """
        version: 1
        record: typed_order
        marketplace: test
        payloads:
          order:
            key: id
            fields:
              id: typed_order.number
            children:
              lines:
                source: typed_order.lines
                as: line
                match_key: sku
                fields:
                  sku: line.skuu
        """
        with pytest.raises(MappingError, match="line has no field 'skuu'"):
            load_mapping(write(tmp_path, body))
        ok = load_mapping(write(tmp_path, body.replace("line.skuu", "line.sku"), "ok.yaml"))
        assert ok.apply(an_order())["order"] == {"id": "SO-7", "lines": [{"sku": "TEE-M"}, {"sku": "CAP"}]}
    finally:
        from connector.mapping import records

        records._REGISTRY.pop("typed_order", None)


def test_the_product_type_types_its_variants() -> None:
    product = record_type("product")
    assert product.roots == ("product", "defaults")
    assert product.child_class("product.variants") is Variant and product.cls is Product
    assert product.child_class("order.lines") is None
    assert record_type("order").roots == ("order", "defaults")
