"""The check for a listed SKU retyped in other letter case (case_retyped.py), on plans built by hand: the sources
it never looks at (a plan with nothing to create), and a source that read part of the catalogue (Odoo's
incremental reads)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest

from connector.errors import ConfigError
from connector.model import Product, Variant
from connector.sources.base import SourceResult
from connector.sync import case_retyped
from connector.sync.case_retyped import hold_retyped, sku_children
from connector.sync.confirmed import ConfirmedBodies
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
    assert guard_settings({}, {"allow_sku_case_change"}).allow_sku_case_change
    with pytest.raises(ConfigError, match="allow_sku_case_change must be true or false"):
        guard_settings({"allow_sku_case_change": "yes"})


# -- a variant's SKU retyped, on a marketplace that matches variants by SKU (Elryan) -----------------------------
class Bodies:
    """What ``StateStore.bodies`` reads for ``ConfirmedBodies``, each read counted."""

    def __init__(self, bodies: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.data, self.read = bodies, []  # kind -> key -> body; (kind, key) of every body read

    def bodies(self, _marketplace: str, _account: str, kind: str, keys: Any) -> dict[str, dict[str, Any]]:
        keys = list(keys)
        self.read += [(kind, key) for key in keys]
        return {k: json.loads(json.dumps(self.data[kind][k])) for k in keys if k in self.data.get(kind, {})}


def elryan_shapes() -> dict[str, Any]:
    from tests.test_sync_safety_units import shapes_of

    return shapes_of("elryan")


def items(*skus: str) -> dict[str, Any]:
    return {"items": [{"sku": sku, "stock": 1} for sku in skus]}


def elryan_plan(payloads: dict[str, list[str]], listed: dict[str, list[str]],
                updated: Iterable[str] = ()) -> tuple[Plan, Bodies]:
    """A plan of stock ops (key -> the SKUs of its items; an update of its product kind too for ``updated``) of
    products whose confirmed bodies hold ``listed`` (key -> SKUs)."""
    plan = Plan("elryan", "shop", roles={"product": "catalogue", "price_stock": "stock"})
    plan.confirmed = {kind: dict.fromkeys(listed, "h") for kind in plan.roles}
    for key, skus in payloads.items():
        plan.products[key] = Product(key=key, variants=[Variant(sku=s) for s in skus])
        plan.ops.append(PlannedOp("stock", "price_stock", key, items(*skus), items(*skus), "", "", plan.products[key]))
        if key in updated:
            variants = {"variants": [{"sku": s} for s in skus]}
            plan.ops.append(PlannedOp("update", "product", key, variants, variants, "", "", plan.products[key]))
        plan.new_marks[key] = ("f", "h", "h")
    state = Bodies({"price_stock": {key: {"spu": key, **items(*skus)} for key, skus in listed.items()},
                    "product": {key: {"spu": key, "variants": [{"sku": s} for s in skus]}
                                for key, skus in listed.items()}})
    return plan, state


def hold(plan: Plan, state: Bodies, source: SourceResult | None = None, allow: bool = False) -> Any:
    shapes = elryan_shapes()
    return hold_retyped(plan, source or SourceResult(products=list(plan.products.values())), allow=allow,
                        title="Elryan", missing="zero", bodies=ConfirmedBodies(state, "elryan", "shop", shapes),  # type: ignore[arg-type]
                        shapes=shapes)


def test_children_matched_by_sku_are_learnt_from_the_probed_shape() -> None:
    """Elryan's variants and stock items are matched by SKU; Elebne's variants by their label (a SKU retyped there
    only updates the variant's ``sku`` field: not concerned); EcomLinx keys whole products by SKU (the key check)."""
    from tests.test_sync_safety_units import shapes_of

    assert {kind: sku_children(shape) for kind, shape in elryan_shapes().items()} == {
        "product": {"variants": "sku"}, "price_stock": {"items": "sku"}}
    for name in ("elebne", "ecomlinx"):
        assert {kind: sku_children(shape) for kind, shape in shapes_of(name).items()} == {"product": {}, "stock": {}}


def test_without_a_child_retyped_the_source_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Children the same, one added, one renamed altogether: the SKU sets tell, the source is not read; only the
    stock kind's bodies are read (the product kind has no op), each once."""
    def read(*_args: Any) -> set[str]:
        raise AssertionError("the source was read")

    monkeypatch.setattr(case_retyped, "source_skus", read)
    listed = {f"P-{i}": [f"P-{i}-S", f"P-{i}-M"] for i in range(500)}
    now = {**listed, "P-1": ["P-1-S", "P-1-M", "P-1-L"], "P-2": ["P-2-S", "P-2-XL"]}
    plan, state = elryan_plan(now, listed)
    out = hold(plan, state)
    assert not out.held_variants and not out.reasons and len(plan.ops) == 500
    assert sorted(state.read) == sorted(("price_stock", key) for key in listed)


def test_a_child_retyped_holds_its_whole_product_back() -> None:
    plan, state = elryan_plan({"TEE": ["Tee-m-bl", "TEE-L-BL"], "CAP": ["CAP-1"]},
                              {"TEE": ["TEE-M-BL", "TEE-L-BL"], "CAP": ["CAP-0"]}, updated=["TEE", "CAP"])
    plan.unchanged = {"product": set(), "price_stock": {"TEE"}}
    out = hold(plan, state)
    assert out.held_variants == {"Tee-m-bl": ("TEE-M-BL", "TEE")} and not out.held
    assert [(op.kind, op.key) for op in plan.ops] == [("price_stock", "CAP"), ("product", "CAP")]
    assert "TEE" not in plan.new_marks and "CAP" in plan.new_marks and plan.unchanged["price_stock"] == set()
    assert set(out.reasons) == {"TEE", "Tee-m-bl", "TEE-L-BL"}
    assert "product TEE not updated on Elryan" in out.reasons["TEE-L-BL"]
    assert out.notes(False, "Elryan") == [
        "1 variant SKU(s) retyped in other letter case held back with their product, not updated on Elryan, the "
        "variant listed left as it is (type them as before, or --allow-sku-case-change): 'Tee-m-bl' (listed as "
        "'TEE-M-BL' in TEE)"]


def test_a_child_retyped_whose_old_spelling_is_still_in_the_source_or_allowed_is_sent() -> None:
    # the old spelling moved to another product: both spellings are in the source
    plan, state = elryan_plan({"TEE": ["Tee-m-bl", "TEE-L-BL"], "OTHER": ["TEE-M-BL"]},
                              {"TEE": ["TEE-M-BL", "TEE-L-BL"]})
    assert not hold(plan, state).held_variants and len(plan.ops) == 2
    plan, state = elryan_plan({"TEE": ["Tee-m-bl", "TEE-L-BL"]}, {"TEE": ["TEE-M-BL", "TEE-L-BL"]})
    out = hold(plan, state, allow=True)
    assert out.allowed_variants == {"Tee-m-bl": ("TEE-M-BL", "TEE")} and len(plan.ops) == 1 and not out.reasons
    assert "would be created on Elryan as new variants" in out.notes(True, "Elryan")[0]


def test_a_held_retype_does_not_hold_the_incremental_cursor_back() -> None:
    """As a refused price: the source's data, read again by the next incremental run (``recheck``), not a reason to
    read every change since the cursor again on every run until the SKU is typed as before."""
    from connector.errors import EXIT_FAILED
    from connector.sync.report import PUSHED, SKIPPED, RowOutcome, RunReport

    source = SourceResult(cursors={("odoo", "products"): "2026-01-01"})
    report = RunReport(run_id="r", source="odoo", target="elebne", dry_run=False, started_at="now")
    report.rows = [RowOutcome(sku="Teapot-1L", product="Teapot-1L", sheet="product.product", row=None,
                              status=SKIPPED, reason="SKU 'Teapot-1L' is the listed ...", code="sku_case_changed",
                              attention=True),
                   RowOutcome(sku="B", product="B", sheet="product.product", row=None, status=PUSHED)]
    report.exit_code = report.compute_exit_code()
    assert report.exit_code == EXIT_FAILED and source.cursors_may_advance(report)
