"""Chains of operations the generated code writes under one presence check (compiler._ops_lines), each in the
form its input allows, give exactly what the operation closures give, value by value, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from connector.mapping import RecordMappingError, load_mapping
from connector.mapping.compiler import _slow_copy
from connector.model import Product
from tests.test_mapping_inline_ops import VALUES

TABLES = {"status": {"true": "ACTIVE", "false": "INACTIVE"}, "yes": {"true": " Yes "},
          "nulls": {"true": None, "false": "", "x": "ex"}}

CHAINS = [["strip", "upper", {"truncate": 3}], [{"truncate": 4}, "strip", "title"],
          [{"join": " > "}, "strip", {"truncate": 4}], [{"minor_units": 2}, {"truncate": 2}],
          ["values", {"join": ", "}, "lower"], [{"lookup": "status"}, "strip", {"truncate": 3}],
          [{"lookup": "yes"}, "strip"], [{"lookup": {"table": "yes", "default": None}}, "strip", "upper"],
          [{"lookup": "nulls"}, {"truncate": 1}], [{"lookup": {"table": "nulls", "default": 5}}, "upper"],
          ["strip", {"if_empty": "-"}, "upper"], ["values", {"minor_units": 2}], [{"join": ""}, {"join": "-"}],
          ["strip", {"default": "d"}, {"truncate": 1}], ["amount", "strip"], ["upper", "count"]]


def _outcome(fn, record):
    try:
        return "ok", fn(record)
    except RecordMappingError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("ops", CHAINS, ids=lambda ops: yaml.safe_dump(ops, default_flow_style=True).strip())
def test_chained_inline_operations_match_the_closures(tmp_path: Path, ops: list) -> None:
    doc = {"version": 1, "marketplace": "test", "tables": TABLES,
           "payloads": {"product": {"key": "id", "fields": {
               "id": "product.key", "out": {"copy": "product.extra.value", "ops": ops}}}}}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    mapping = load_mapping(path)
    slow_copy = _slow_copy(mapping.payloads["product"].level.plain)
    for value in [*VALUES, " \u00a0", "ab" * 200, ["  x ", " y"], {"k": " V "}, "x"]:
        record = Product(key="K", extra={"value": value})
        fast = _outcome(mapping.apply, record)
        expected = _outcome(lambda r: {"product": {**slow_copy((r, {}))}}, record)
        assert fast == expected, (ops, value, fast, expected)
