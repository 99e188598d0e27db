"""The operations a level's generated copy function writes inline (ops._inline) give exactly what the operation
closures give: every value is mapped through both and the results, or the errors, compared."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from connector.mapping import RecordMappingError, load_mapping
from connector.mapping.compiler import _slow_copy
from connector.mapping.ops import compile_op
from connector.model import ABSENT, Money, Product

VALUES = [ABSENT, None, "", [], {}, " Ab c ", "abcdef", "true", "FALSE", 12, 0, -3, 3.5, float("nan"),
          Decimal("1.005"), Decimal("-2.5"), Decimal("NaN"), Money(Decimal("2.345"), "MRU"),
          Money(Decimal("1E+30"), "MRU"), True, False, ["a", "b"], ["a", 1, None, ABSENT], ("x", "y"),
          {"Size": "M", "Color": "Blue"}, {"a": 1}, "x" * 300, object()]

SPECS = [["strip"], ["upper"], ["lower"], ["title"], [{"truncate": 3}], [{"if_empty": "-"}],
         [{"default": "d"}], [{"minor_units": 2}], [{"minor_units": 0}], [{"join": " > "}], ["values"],
         [{"lookup": "status"}], [{"lookup": {"table": "status", "default": "?"}}],
         ["values", {"join": " / "}], [{"join": ", "}, {"if_empty": ""}], ["strip", {"truncate": 2}]]


def _outcome(fn, record):
    try:
        return "ok", fn(record)
    except RecordMappingError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("ops", SPECS, ids=lambda ops: yaml.safe_dump(ops, default_flow_style=True).strip())
def test_inline_operations_match_the_closures(tmp_path: Path, ops: list) -> None:
    assert_inline_matches_closures(tmp_path, ops, {"status": {"true": "ACTIVE", "false": "INACTIVE"}}, VALUES)


def assert_inline_matches_closures(tmp_path: Path, ops: list, tables: dict, values: list) -> None:
    """The generated code of one copy field with ``ops`` gives, for each value, what the operation closures give
    (the value, or the same error)."""
    doc = {"version": 1, "marketplace": "test", "tables": tables,
           "payloads": {"product": {"key": "id", "fields": {
               "id": "product.key", "out": {"copy": "product.extra.value", "ops": ops}}}}}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    mapping = load_mapping(path)
    slow_copy = _slow_copy(mapping.payloads["product"].level.plain)
    for value in values:
        record = Product(key="K", extra={"value": value})
        fast = _outcome(mapping.apply, record)
        expected = _outcome(lambda r: {"product": {**slow_copy((r, {}))}}, record)
        assert fast == expected, (ops, value, fast, expected)


def test_every_inline_form_is_used_by_the_shipped_operations() -> None:
    tables = {"status": {"true": "A"}}
    for spec in ("strip", "upper", {"truncate": 3}, {"if_empty": ""}, {"default": 1}, {"minor_units": 2},
                 {"join": ","}, "values", {"lookup": "status"}):
        assert getattr(compile_op(spec, tables)[1], "inline", None) is not None, spec


@pytest.mark.parametrize("key", [None, "", ABSENT])
def test_a_payload_without_its_key_fails_naming_the_key_field(tmp_path: Path, key) -> None:
    doc = {"version": 1, "marketplace": "test",
           "payloads": {"product": {"key": "id", "fields": {"id": "product.key", "name": "product.name"}}}}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    mapping = load_mapping(path)
    with pytest.raises(RecordMappingError) as exc:
        mapping.apply(Product(key=key, name="Tea"))
    assert exc.value.field_path == "product.id"
    assert mapping.apply(Product(key=0, name="Tea"))["product"] == {"id": 0, "name": "Tea"}
