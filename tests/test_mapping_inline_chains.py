"""Chains of operations the generated code writes under one presence check (compiler._ops_lines), each in the
form its input allows, give exactly what the operation closures give, value by value, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.test_mapping_inline_ops import VALUES, assert_inline_matches_closures

TABLES = {"status": {"true": "ACTIVE", "false": "INACTIVE"}, "yes": {"true": " Yes "},
          "nulls": {"true": None, "false": "", "x": "ex"}}

CHAINS = [["strip", "upper", {"truncate": 3}], [{"truncate": 4}, "strip", "title"],
          [{"join": " > "}, "strip", {"truncate": 4}], [{"minor_units": 2}, {"truncate": 2}],
          ["values", {"join": ", "}, "lower"], [{"lookup": "status"}, "strip", {"truncate": 3}],
          [{"lookup": "yes"}, "strip"], [{"lookup": {"table": "yes", "default": None}}, "strip", "upper"],
          [{"lookup": "nulls"}, {"truncate": 1}], [{"lookup": {"table": "nulls", "default": 5}}, "upper"],
          ["strip", {"if_empty": "-"}, "upper"], ["values", {"minor_units": 2}], [{"join": ""}, {"join": "-"}],
          ["strip", {"default": "d"}, {"truncate": 1}], ["amount", "strip"], ["upper", "count"]]


@pytest.mark.parametrize("ops", CHAINS, ids=lambda ops: yaml.safe_dump(ops, default_flow_style=True).strip())
def test_chained_inline_operations_match_the_closures(tmp_path: Path, ops: list) -> None:
    assert_inline_matches_closures(tmp_path, ops, TABLES,
                                   [*VALUES, " \u00a0", "ab" * 200, ["  x ", " y"], {"k": " V "}, "x"])
