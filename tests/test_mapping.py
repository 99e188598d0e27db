"""The mapping engine: loading and validation errors, copies and operations, children, extends, sandbox."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from connector.errors import MappingError
from connector.mapping import RecordMappingError, load_mapping, shipped_mapping
from connector.mapping.expressions import compile_expression
from connector.model import ABSENT, Money, Product, Variant


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def simple(**kw) -> Product:
    v = Variant(sku="S-1", price=Money(Decimal("12.50"), "MRU"), barcode="4006381333931", qty=4)
    return Product(key="S-1", name="Soap", variants=[v], **kw)


def tee() -> Product:
    return Product(key="TEE", name="Tee", variants=[
        Variant(sku="TEE-M-BL", attributes={"Size": "M", "Color": "Blue"}, price=Money(Decimal("9.99"), "MRU"), qty=2),
        Variant(sku="TEE-L-BL", attributes={"Size": "L", "Color": "Blue"}, price=Money(Decimal("10"), "MRU"), qty=0),
    ])


BASE = """
version: 1
marketplace: test
payloads:
  product:
    key: id
    fields:
      id: product.key
      name: product.name
"""


def test_shipped_elebne_mapping_simple_product() -> None:
    m = load_mapping(shipped_mapping("elebne"))
    out = m.apply(simple(description="Lavender", active=False, category_path=["Home", "Bath"]))
    assert out["product"] == {"externalId": "S-1", "name": "Soap", "description": "Lavender", "price": 1250,
                              "status": "INACTIVE", "category": "Home > Bath", "barcode": "4006381333931"}
    assert out["stock"] == {"externalId": "S-1", "mode": "set", "quantity": 4}


def test_shipped_elebne_mapping_variants_are_labelled_by_attribute_values() -> None:
    out = load_mapping(shipped_mapping("elebne")).apply(tee())
    assert [v["label"] for v in out["product"]["variants"]] == ["M / Blue", "L / Blue"]
    assert [v["price"] for v in out["product"]["variants"]] == [999, 1000]
    assert "barcode" not in out["product"]  # a product with variants has no product-level barcode
    assert out["stock"]["quantity"] == 2
    assert out["stock"]["variants"] == [{"label": "M / Blue", "quantity": 2}, {"label": "L / Blue", "quantity": 0}]


def test_absent_is_not_sent_but_explicit_empty_is() -> None:
    m = load_mapping(shipped_mapping("elebne"))
    absent = m.apply(simple())["product"]
    assert "description" not in absent and "brand" not in absent and "category" not in absent
    empty = m.apply(simple(description=None, brand=None))["product"]
    assert empty["description"] == "" and empty["brand"] == ""


def test_unknown_key_error_names_file_path_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "      price: {copy: product.price, opz: [upper]}\n")
    with pytest.raises(MappingError) as exc:
        load_mapping(path)
    err = exc.value
    assert err.file == str(path)
    assert err.path == "payloads.product.fields.price.opz"
    assert err.line == 10
    assert "unknown key" in str(err)


def test_unknown_operation_is_reported_with_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "      price:\n        copy: product.price\n        ops: [{minor_unit: 2}]\n")
    with pytest.raises(MappingError) as exc:
        load_mapping(path)
    assert "unknown operation 'minor_unit'" in str(exc.value)
    assert exc.value.path == "payloads.product.fields.price.ops[0]"
    assert exc.value.line == 12


def test_bad_path_root_and_yaml_syntax(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="must start with product"):
        load_mapping(write(tmp_path, BASE + "      x: variant.sku\n"))
    with pytest.raises(MappingError, match="not valid YAML") as exc:
        load_mapping(write(tmp_path, "version: 1\npayloads: [\n", "bad.yaml"))
    assert exc.value.line is not None


def test_field_needs_exactly_one_source(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="exactly one of copy, const, expr"):
        load_mapping(write(tmp_path, BASE + "      x: {copy: product.key, const: 1}\n"))


def test_operations(tmp_path: Path) -> None:
    path = write(tmp_path, """
    version: 1
    marketplace: test
    tables:
      colours: {blue: BL, red: RD}
    payloads:
      p:
        key: id
        fields:
          id: {copy: product.key, ops: [lower, {prefix: "x-"}]}
          name: {copy: product.name, ops: [upper, {truncate: 3}]}
          price: {copy: product.price, ops: [amount, {multiply: "1.2"}, {round: 2}]}
          currency: {copy: product.price, ops: [currency]}
          brand: {copy: product.brand, ops: [{default: "none"}]}
          colour: {copy: product.variants, ops: [first]}
          tag: {const: [a, b], ops: [{join: "|"}]}
          code: {const: Blue, ops: [{lookup: colours}]}
          missing: {const: green, ops: [{lookup: {table: colours, default: "??"}}]}
    """)
    out = load_mapping(path).apply(simple())["p"]
    assert out["id"] == "x-s-1"
    assert out["name"] == "SOA"
    assert out["price"] == Decimal("15.00") and isinstance(out["price"], Decimal)
    assert out["currency"] == "MRU"
    assert out["brand"] == "none"
    assert out["tag"] == "a|b"
    assert out["code"] == "BL" and out["missing"] == "??"


def test_record_error_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "      code: {copy: product.name, ops: [{lookup: {table: t}}]}\n"
                 "tables:\n  t: {a: b}\n")
    m = load_mapping(path)
    with pytest.raises(RecordMappingError) as exc:
        m.apply(simple())
    assert exc.value.field_path == "product.code" or "code" in str(exc.value)
    assert "'Soap' is not in table 't'" in str(exc.value)


def test_children_when_and_match_key(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + """
    children:
      variants:
        source: product.variants
        as: v
        when: product.has_variants
        match_key: sku
        fields:
          sku: v.sku
          size: v.attributes.Size
          parent: product.key
""")
    m = load_mapping(path)
    assert "variants" not in m.apply(simple())["product"]
    variants = m.apply(tee())["product"]["variants"]
    assert variants[0] == {"sku": "TEE-M-BL", "size": "M", "parent": "TEE"}
    assert m.payloads["product"].match_keys == {"variants": "sku"}


def test_extends_overrides_some_fields_and_deletes_one(tmp_path: Path) -> None:
    path = write(tmp_path, """
    extends: elebne
    payloads:
      product:
        fields:
          name: {copy: product.name, ops: [upper]}
          brand: null
    """)
    m = load_mapping(path)
    out = m.apply(simple(brand="Acme"))["product"]
    assert out["name"] == "SOAP"
    assert "brand" not in out
    assert out["price"] == 1250  # inherited
    assert m.source_files[0].endswith("elebne.yaml") and m.source_files[-1] == str(path)


def test_computed_fields_batched_and_failure_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + """
      title: {expr: "product.name ~ ' (' ~ product.key ~ ')'"}
      n: {expr: "product.variants | length"}
      desc: {expr: "product.description | default('-')"}
      bad: {expr: "product.brand | upper"}
""")  # simple() has no brand: this record fails (a misspelt field fails every record: a load error)
    m = load_mapping(path)
    with pytest.raises(RecordMappingError) as exc:
        m.apply(simple())
    assert "bad" in exc.value.field_path
    ok = load_mapping(write(tmp_path, BASE + """
      title: {expr: "product.name ~ ' (' ~ product.key ~ ')'"}
      n: {expr: "product.variants | length"}
      desc: {expr: "product.description | default('-')"}
      brand: {expr: "product.brand"}
""", "ok.yaml"))
    out = ok.apply(simple())["product"]
    assert out["title"] == "Soap (S-1)" and out["n"] == 1 and out["desc"] == "-"
    assert "brand" not in out  # absent stays absent through an expression


@pytest.mark.parametrize("source", [
    "2 ** 100000",
    "'x' * 100000000",
    "[1] * 10000000",
    "'%999999999d' % 1",
    "'x'.ljust(1000000000)",
    "'{:>99999999}'.format(1)",
    "range(10000000) | list",
    "product.__class__",
    "product.__class__.__mro__",
    "cycler",
    "lipsum(1000000)",
])
def test_sandbox_refuses_dangerous_expressions(source: str) -> None:
    fn = compile_expression(source)
    with pytest.raises(Exception) as exc:
        value = fn(product=simple())
        if value is ABSENT:
            raise LookupError("undefined")
    assert exc.type.__name__ in ("SecurityError", "UndefinedError", "LookupError", "TypeError")


def test_expression_length_is_capped() -> None:
    with pytest.raises(ValueError, match="limit"):
        compile_expression("1 + " * 1000 + "1")


def test_yaml_python_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nmarketplace: !!python/object/apply:os.system ['true']\npayloads: {}\n")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(path)


def test_a_level_with_only_computed_fields(tmp_path: Path) -> None:
    path = write(tmp_path, """
    version: 1
    marketplace: test
    payloads:
      p:
        key: id
        fields:
          id: {expr: "product.key"}
          n: {expr: "product.variants | length"}
    """)
    assert load_mapping(path).apply(simple())["p"] == {"id": "S-1", "n": 1}


def test_extends_replaces_a_copied_field_by_an_expression_as_the_readme_shows(tmp_path: Path) -> None:
    """The README's own example: a shipped ``copy`` field overridden by an ``expr`` (or a ``const``) takes the new
    source instead of being refused as a field holding two sources."""
    path = write(tmp_path, """
    extends: elebne
    payloads:
      product:
        fields:
          name: {copy: product.name, ops: [strip, upper, {truncate: 80}]}
          description: {expr: "product.description | default(product.name)"}
          brand: {const: House brand}
    """)
    out = load_mapping(path).apply(simple(brand="Acme"))["product"]
    assert out["name"] == "SOAP"
    assert out["description"] == "Soap"
    assert out["brand"] == "House brand"


def test_a_schema_error_is_worded_without_pydantic_text(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + """
      title: {copy: product.name, expr: "product.name"}
""")
    with pytest.raises(MappingError) as exc:
        load_mapping(path)
    assert "exactly one of copy, const, expr" in str(exc.value)
    assert "Value error" not in str(exc.value)
