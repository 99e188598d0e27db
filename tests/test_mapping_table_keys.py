"""A lookup table's keys are read as written, whatever YAML would make of them unquoted.

An integrator copying the shipped status table without its quotes (``true: ACTIVE``), or writing a size table
(``{38: M, 40: L}``) or a country one (``{NO: Norway, SE: Sweden}``: YAML 1.1 reads ``NO`` as false), had the
mapping refused with ``tables.status.1.[key]: Input should be a valid string``, which names neither the key nor
what to do.  A mapping file's keys are names: a plain key YAML would read as a boolean or a number is kept as the
text written, and the lookup matches it as ``"true"``, ``"38"`` or ``"NO"`` would match."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.mapping import load_mapping
from connector.model import Product, Variant


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my-elebne.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unquoted_yes_no_table_loads_and_maps_the_active_flag(tmp_path: Path) -> None:
    path = _write(tmp_path, "extends: elebne\ntables:\n  status:\n    true: ACTIVE\n    false: DRAFT\n")
    assert main(["mapping", "check", str(path)]) == 0
    mapping = load_mapping(path)
    assert mapping.apply(Product(key="A", name="a", active=True))["product"]["status"] == "ACTIVE"
    assert mapping.apply(Product(key="B", name="b", active=False))["product"]["status"] == "DRAFT"


@pytest.mark.parametrize("typed", ["38", 38])
def test_number_keys_match_a_size_typed_as_text_or_as_a_number(tmp_path: Path, typed: object) -> None:
    path = _write(tmp_path, "extends: elebne\ntables:\n  sizes: {38: M, 40: L}\npayloads:\n  product:\n"
                            "    children:\n      variants:\n        fields:\n"
                            "          label: {copy: variant.attributes.Size, ops: [{lookup: sizes}]}\n")
    product = Product(key="TEE", name="Tee", variants=[Variant(sku="TEE-38", attributes={"Size": typed})])
    assert [v["label"] for v in load_mapping(path).apply(product)["product"]["variants"]] == ["M"]


def test_a_key_yaml_would_read_as_false_is_the_text_written(tmp_path: Path) -> None:
    path = _write(tmp_path, "extends: elebne\ntables:\n  origin: {NO: Norway, SE: Sweden}\npayloads:\n  product:\n"
                            "    fields:\n      brand: {copy: product.brand, ops: [{lookup: origin}]}\n")
    mapping = load_mapping(path)
    assert mapping.apply(Product(key="A", name="a", brand="NO"))["product"]["brand"] == "Norway"
    assert mapping.apply(Product(key="B", name="b", brand="SE"))["product"]["brand"] == "Sweden"
