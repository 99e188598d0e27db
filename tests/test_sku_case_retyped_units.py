"""The check for a listed SKU retyped in other letter case (case_retyped.py), on plans built by hand: the sources
it never looks at (a plan with nothing to create), and a source that read part of the catalogue (Odoo's
incremental reads)."""

from __future__ import annotations

from typing import Any

import pytest

from connector.errors import ConfigError
from connector.model import Product, Variant
from connector.sources.base import SourceResult
from connector.sync import case_retyped
from connector.sync.case_retyped import hold_retyped
from connector.sync.guard import guard_settings
from connector.sync.ops import PlannedOp
from connector.sync.plan import Plan


def product(key: str) -> Product:
    return Product(key=key, variants=[Variant(sku=key)])


def planned(ops: dict[str, str], confirmed: list[str]) -> Plan:
    """A plan of ``ops`` (key -> action, one payload kind) where the marketplace confirmed ``confirmed``."""
    plan = Plan("elebne", "shop", roles={"product": "catalogue"})
    plan.confirmed = {"product": dict.fromkeys(confirmed, "h")}
    for key, action in ops.items():
        plan.products[key] = product(key)
        plan.ops.append(PlannedOp(action, "product", key, {}, {}, "", "", plan.products[key]))
        plan.new_marks[key] = ("f", "h")
    return plan


def test_a_plan_with_nothing_to_create_never_reads_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    def read(*_args: Any) -> set[str]:
        raise AssertionError("the source was read")

    monkeypatch.setattr(case_retyped, "source_skus", read)
    plan = planned({f"SKU-{i}": "update" for i in range(1000)}, [f"sku-{i}" for i in range(1000)])
    assert not hold_retyped(plan, SourceResult(), allow=False, title="Elebne", missing="zero").held
    # nor does a plan whose creates retype nothing listed
    plan = planned({"NEW-1": "create"}, ["OLD-1"])
    assert not hold_retyped(plan, SourceResult(), allow=False, title="Elebne", missing="zero").held


def test_an_incremental_read_that_returns_the_retyped_product_holds_it_back() -> None:
    """An Odoo incremental read returns the product whose code was retyped, not the others: the old code is not
    in that source, so the new one is held back (its record marks and ops go: the next read brings it again)."""
    source = SourceResult(products=[product("Teapot-1L")], full_read=False)
    plan = planned({"Teapot-1L": "create"}, ["TEAPOT-1L", "TEA-500"])
    out = hold_retyped(plan, source, allow=False, title="Elebne", missing="disable")
    assert out.held == {"Teapot-1L": "TEAPOT-1L"} and "disabled as 'no longer in source'" in out.reasons["Teapot-1L"]
    assert plan.ops == [] and plan.products == {} and plan.new_marks == {}
    # the old code read too (another product of that spelling): two products, nothing held
    source = SourceResult(products=[product("Teapot-1L"), product("TEAPOT-1L")], full_read=False)
    plan = planned({"Teapot-1L": "create"}, ["TEAPOT-1L"])
    assert not hold_retyped(plan, source, allow=False, title="Elebne", missing="zero").held and plan.ops


def test_the_guard_setting_is_true_or_false() -> None:
    assert guard_settings({"allow_sku_case_change": True}).allow_sku_case_change
    assert guard_settings({}, allow_case_flag=True).allow_sku_case_change
    with pytest.raises(ConfigError, match="allow_sku_case_change must be true or false"):
        guard_settings({"allow_sku_case_change": "yes"})
