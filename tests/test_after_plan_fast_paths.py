"""The work of a run after its plan, done in bulk (issue 16), against the row-by-row way it was done before: the
report's counts and groups (and its rows, against an independent reference), the JSON text of a large report, the
dry-run plan table, the payload checks and the mass-change guard give the same results.  No timing is asserted
here: ``make bench`` measures."""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector import console
from connector.marketplaces.elebne.payloads import SHAPES as ELEBNE_SHAPES
from connector.marketplaces.elryan.payloads import SHAPES as ELRYAN_SHAPES
from connector.marketplaces.shapes import shape_problems
from connector.model import Product, SourceRef, Variant
from connector.sources.base import RowRef, SourceResult
from connector.sync import report as report_module
from connector.sync.ops import ItemResult, PlannedOp
from connector.sync.plan import Plan
from connector.sync.report import FAILED, PUSHED, SKIPPED, UNCHANGED, RowOutcome, RunReport, account_rows, group_rows

STATUSES = (PUSHED, UNCHANGED, SKIPPED, FAILED)


def random_rows(seed: int, n: int = 400) -> list[RowOutcome]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        sku = rnd.choice([f"S{rnd.randrange(60)}", None, ""])
        product = rnd.choice([sku, f"P{rnd.randrange(25)}", None, ""])
        rows.append(RowOutcome(sku, product, rnd.choice(["Products", "Stock - Main", None]), rnd.choice([i, None]),
                               rnd.choice(STATUSES), rnd.choice([[], ["create"], ["create", "stock"], ["stock"]]),
                               rnd.choice([None, "why", "dry run: would be sent"]), rnd.choice([None, "msg"]),
                               rnd.choice([None, "CODE"]), rnd.choice([False, True])))
    return rows


def slow_product_counts(rows: list[RowOutcome]) -> dict[str, dict[str, int]]:
    """The row-by-row count ``RunReport.product_counts`` replaces."""
    statuses = (UNCHANGED, PUSHED, SKIPPED, FAILED)
    rank = {status: i for i, status in enumerate(statuses)}
    products: dict[str, int] = {}
    skus: dict[str, int] = {}
    for row in rows:
        r = rank[row.status]
        if (key := row.product) and r >= products.get(key, 0):
            products[key] = r
        if (key := row.sku) and r >= skus.get(key, 0):
            skus[key] = r
    by_product, by_sku = Counter(products.values()), Counter(skus.values())
    return {status: {"products": by_product[rank[status]], "skus": by_sku[rank[status]]}
            for status in reversed(statuses)}


def slow_group_rows(rows: list[RowOutcome]) -> list[dict[str, Any]]:
    """The grouping ``group_rows`` replaces."""
    names = ("status", "actions", "reason", "marketplace_message", "code", "attention", "sheet")
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        key = (r.status, tuple(r.actions), r.reason, r.marketplace_message, r.code, r.attention, r.sheet)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {**dict(zip(names, key, strict=True)), "actions": list(r.actions),
                                   "count": 0, "rows": []}
        group["count"] += 1
        group["rows"].append([r.row, r.sku] if r.product == r.sku and r.sku is not None else [r.row, r.sku, r.product])
    return list(groups.values())


@pytest.mark.parametrize("seed", range(6))
def test_counts_and_groups_are_those_of_the_row_by_row_way(seed: int) -> None:
    report = RunReport(run_id="r", source="s", target="elebne", dry_run=True, started_at="t")
    report.rows = random_rows(seed)
    assert report.product_counts == slow_product_counts(report.rows)
    counts = report.status_counts
    assert counts == {s: sum(r.status == s for r in report.rows) for s in STATUSES} and list(counts) == list(STATUSES)
    grouped = group_rows(report.rows)
    # the same JSON text (a group's rows are tuples, written as arrays), key order included
    assert json.dumps(grouped) == json.dumps(slow_group_rows(report.rows))


@pytest.mark.parametrize("seed", range(4))
def test_rows_as_unchanged_are_those_of_a_copy_of_each_row_made_unchanged(seed: int) -> None:
    rows = random_rows(seed)
    view = RunReport(run_id="r", source="s", target="elebne", dry_run=False, started_at="t")
    view.rows = [RowOutcome(r.sku, r.product, r.sheet, r.row, UNCHANGED) for r in rows]
    counts, products, groups = report_module.as_unchanged(rows)
    # the same JSON text, key order included (what the clean run stores and a later report writes)
    assert json.dumps(counts) == json.dumps(view.status_counts)
    assert json.dumps(products) == json.dumps(view.product_counts)
    assert json.dumps(groups) == json.dumps(group_rows(view.rows))
    assert len(groups) >= 2 and products[UNCHANGED]["products"] > 0


def test_counts_of_a_run_whose_rows_all_have_one_status() -> None:
    rows = [RowOutcome(f"S{i}", f"P{i // 3}", "Products", i, PUSHED) for i in range(30)]
    rows.append(RowOutcome(None, None, "Products", 99, PUSHED))
    report = RunReport(run_id="r", source="s", target="elebne", dry_run=True, started_at="t", rows=rows)
    assert report.product_counts == slow_product_counts(rows)
    assert report.product_counts[PUSHED] == {"products": 10, "skus": 30}
    assert RunReport(run_id="r", source="s", target="e", dry_run=True, started_at="t").product_counts == \
        slow_product_counts([])


@pytest.mark.parametrize("value", [
    {"a": list(range(23)), "b": {"c": [[i, f"S{i}"] for i in range(17)], "d": None}, "é": "ü"},
    [{"rows": [[1, "x", "y"]] * 11, "n": 1}, {"rows": [], "n": 0}, {}],
    {str(i): {"reserved": i, "listed": i + 1} for i in range(12)},
    {1: "int keys", "two": 2, None: "none key"},
    {"money": Decimal("1.50"), "path": Path("/x"), "tuple": tuple(range(9)), "empty": [], "nested": [[]] * 7,
     "floats": [1.5, float("inf")], "flags": [True, False, None] * 4},
    list(range(4)), "text", 7, None, [],
])
def test_a_report_written_in_pieces_is_the_text_of_one_dumps(value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_module, "JSON_PIECE", 3)  # long lists and objects with a few items
    file = io.StringIO()
    report_module.write_json(value, file)
    assert file.getvalue() == json.dumps(value, ensure_ascii=False, default=str)


def test_a_large_report_file_is_byte_for_byte_the_one_dumps_gives(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_module, "ROWS_IN_FULL", 20)
    monkeypatch.setattr(report_module, "JSON_PIECE", 7)
    report = RunReport(run_id="r", source="s", target="elebne", dry_run=True, started_at="t")
    report.rows = random_rows(1, 300)
    report.issues = [{"sheet": "Products", "row": i, "reason": "bad", "value": Decimal("2.5")} for i in range(40)]
    report.reserved = {f"S{i}": {"reserved": 1, "listed": i} for i in range(30)}
    report.save(tmp_path / "r.json")
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert text == json.dumps(report.to_json(), ensure_ascii=False, default=str)
    small = RunReport(run_id="r", source="s", target="elebne", dry_run=True, started_at="t", rows=random_rows(2, 5))
    small.save(tmp_path / "small.json")
    assert (tmp_path / "small.json").read_text(encoding="utf-8") == json.dumps(small.to_json(), indent=2,
                                                                              ensure_ascii=False, default=str)


def slow_account_rows(report: RunReport, source: SourceResult, plan: Plan,
                      results: dict[tuple[str, str], ItemResult], *, catalogue_kind: str | None,
                      dry_run: bool) -> None:
    """Every row given its outcome on its own, all lookups built up front: what ``account_rows`` must give."""
    sku_to_key = {v.sku: key for key, p in plan.products.items() for v in p.variants}
    mapping_failed = {}
    for product, message in plan.mapping_failures:
        for v in product.variants:
            mapping_failed[v.sku] = report_module.plain_mapping_reason(message)
            sku_to_key[v.sku] = product.key
    planned: dict[str, list[tuple[str, str]]] = {}
    for op in plan.ops:
        planned.setdefault(op.key, []).append((op.kind, op.action))
    read_keys = {v.sku: p.key for p in source.products for v in p.variants}
    for ref in source.rows:
        sku, sheet = ref.sku, ref.ref.origin
        key = sku_to_key.get(sku or "")
        out = RowOutcome(sku, key or read_keys.get(sku or ""), sheet, ref.ref.row, UNCHANGED)
        if ref.skipped_reason:
            out.status, out.reason, out.attention = SKIPPED, ref.skipped_reason, True
        elif sku in mapping_failed:
            out.status, out.reason, out.attention = FAILED, mapping_failed[sku], True
        elif key is None:
            out.status, out.reason = SKIPPED, "not part of any product that was read"
        elif ops := planned.get(key):
            product = plan.products.get(key)
            stock_row = product is not None and product.ref is not None and sheet != report_module.own_sheet(product)
            report_module._row_outcome(out, key, ops, results, catalogue_kind, stock_row, dry_run)
        report.rows.append(out)


def mixed_run(seed: int) -> tuple[SourceResult, Plan, dict[tuple[str, str], ItemResult]]:
    """Products of one to three variants, each with a row on the product sheet and on two stock sheets; ops and
    results of every kind (failed, skipped, deferred, blocked, accepted with words, none)."""
    rnd = random.Random(seed)
    plan = Plan("elebne", "shop")
    source = SourceResult()
    results: dict[tuple[str, str], ItemResult] = {}
    for i in range(60):
        key = f"P{i}"
        variants = [Variant(sku=f"{key}-{j}", ref=SourceRef("Products", 10 * i + j)) for j in range(rnd.randint(1, 3))]
        product = Product(key=key, name=key, variants=variants, ref=SourceRef("Products", 10 * i))
        source.products.append(product)
        for v in variants:
            source.rows.append(RowRef(v.sku, v.ref, rnd.choice([None] * 9 + ["duplicate SKU"])))
            for sheet in ("Stock - Main", "Stock - Shop"):
                source.rows.append(RowRef(v.sku, SourceRef(sheet, 10 * i + 1)))
        fate = rnd.randrange(6)
        if fate == 0:
            plan.mapping_failures.append((product, "mapping field 'price': [<class 'decimal.InvalidOperation'>]"))
            continue
        if fate == 1:
            continue  # left out of the plan: its rows are "not part of any product that was read"
        plan.products[key] = product
        for kind, action in rnd.sample([("product", "create"), ("product", "update"), ("stock", "stock"),
                                        ("product", "refresh")], rnd.randint(0, 2)):
            op = PlannedOp(action, kind, key, {}, {}, "{}", "d", product)
            plan.ops.append(op)
            result = rnd.choice([None, None, ItemResult(op, ok=True), ItemResult(op, ok=True, message="matched"),
                                 ItemResult(op, ok=False, message="refused", code="INVALID_PAYLOAD"),
                                 ItemResult(op, ok=False, skipped=True, message="not on it", code="skip"),
                                 ItemResult(op, ok=False, deferred=True, message="budget"),
                                 ItemResult(op, ok=False, blocked=True, message="not sent: no product")])
            if result is not None:
                results[(kind, key)] = result
    source.rows.append(RowRef("GHOST", SourceRef("Stock - Main", 999)))
    source.rows.append(RowRef(None, SourceRef("Products", 1000), "SKU is empty"))
    return source, plan, results


def fast_and_row_by_row(source: SourceResult, plan: Plan, results: dict[tuple[str, str], ItemResult],
                        dry_run: bool) -> RunReport:
    """The rows ``account_rows`` gives, checked against the row-by-row outcome of every row."""
    fast = RunReport(run_id="r", source="s", target="elebne", dry_run=dry_run, started_at="t")
    slow = RunReport(run_id="r", source="s", target="elebne", dry_run=dry_run, started_at="t")
    account_rows(fast, source, plan, results, catalogue_kind="product", dry_run=dry_run)
    slow_account_rows(slow, source, plan, results, catalogue_kind="product", dry_run=dry_run)
    assert [r.to_json() for r in fast.rows] == [r.to_json() for r in slow.rows]
    return fast


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dry_run", [True, False])
def test_every_row_gets_the_outcome_it_has_on_its_own(seed: int, dry_run: bool) -> None:
    source, plan, results = mixed_run(seed)
    fast = fast_and_row_by_row(source, plan, results, dry_run)
    assert len({r.status for r in fast.rows}) >= 3  # the run mixes outcomes
    # rows with the same actions share one list (memory of a large run)
    assert len({id(r.actions) for r in fast.rows}) == len({tuple(r.actions) for r in fast.rows})


def alike_run(seed: int) -> tuple[SourceResult, Plan, dict[tuple[str, str], ItemResult]]:
    """Many products with the same few planned ops, most results absent or plainly accepted (the rows that share a
    worked-out outcome), a few with words or failures, some products without a source reference (every row of
    theirs is on their own sheet), rows on the sheets in any order."""
    rnd = random.Random(seed)
    plan = Plan("elebne", "shop")
    source = SourceResult()
    results: dict[tuple[str, str], ItemResult] = {}
    patterns = [[("product", "create"), ("stock", "stock")], [("stock", "stock")], [("product", "update")],
                [("product", "refresh"), ("stock", "stock")], [("stock", "stock"), ("product", "create")]]
    for i in range(150):
        key = f"K{i}"
        variants = [Variant(sku=f"{key}-{j}", ref=SourceRef("Products", 10 * i + j)) for j in range(rnd.randint(1, 2))]
        product = Product(key=key, name=key, variants=variants,
                          ref=None if rnd.random() < 0.2 else SourceRef(rnd.choice(["Products", "Stock - Main"]), i))
        source.products.append(product)
        plan.products[key] = product
        for v in variants:
            for sheet in rnd.sample(["Products", "Stock - Main", "Stock - Shop"], 3):
                source.rows.append(RowRef(v.sku, SourceRef(sheet, 10 * i)))
        for kind, action in rnd.choice([*patterns, []]):
            op = PlannedOp(action, kind, key, {}, {}, "{}", "d", product)
            plan.ops.append(op)
            result = rnd.choice([None] * 4 + [ItemResult(op, ok=True)] * 4 + [
                ItemResult(op, ok=True, message="matched"), ItemResult(op, ok=True, code="match_at_push"),
                ItemResult(op, ok=False, message="refused", code="INVALID_PAYLOAD")])
            if result is not None:
                results[(kind, key)] = result
    return source, plan, results


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dry_run", [True, False])
def test_rows_of_products_alike_share_the_outcome_each_has_on_its_own(seed: int, dry_run: bool) -> None:
    source, plan, results = alike_run(seed)
    fast = fast_and_row_by_row(source, plan, results, dry_run)
    assert {r.status for r in fast.rows} >= {PUSHED, UNCHANGED, FAILED}
    # no results at all (a clean dry run): the same again
    fast_and_row_by_row(source, plan, {}, dry_run)


@pytest.mark.parametrize("seed", range(4))
def test_groups_of_rows_sharing_their_outcomes_objects_are_those_of_the_row_by_row_way(seed: int) -> None:
    source, plan, results = alike_run(seed)
    report = RunReport(run_id="r", source="s", target="elebne", dry_run=bool(seed % 2), started_at="t")
    account_rows(report, source, plan, results, catalogue_kind="product", dry_run=report.dry_run)
    rows = report.rows
    # and rows alike whose fields are equal objects, not the same ones, between and after them
    rows[5:5] = [RowOutcome(r.sku, r.product, r.sheet, r.row, str(r.status), list(r.actions),
                            None if r.reason is None else f"{r.reason}", r.marketplace_message, r.code, r.attention)
                 for r in rows[:12]]
    rows.append(RowOutcome("S", "S", "Products", 1, PUSHED, ["stock"]))
    rows.append(RowOutcome("S", "S", "Products", 2, PUSHED, ["create"]))
    assert json.dumps(group_rows(rows)) == json.dumps(slow_group_rows(rows))


def test_the_plan_table_counts_every_op_under_what_foreseen_says() -> None:
    _source, plan, results = mixed_run(3)
    with console.out.capture() as captured:
        console.print_plan(plan, results)
    text = captured.get()
    sendable = [op for op in plan.ops if op.action != "refresh"]
    expected = Counter(console.foreseen(op, results.get((op.kind, op.key)))[0] for op in sendable)
    assert len(expected) >= 3
    for label, n in expected.items():
        line = next(line for line in text.splitlines() if f" {label} " in line or f"│ {label}" in line)
        assert f" {n} " in line, (label, n, line)
    first = sendable[0]
    verb = console.foreseen(first, results.get((first.kind, first.key)))[1]
    assert f"  {verb:<7} {first.key}" in text
    assert f"... and {len(sendable) - console.PLAN_LINES} more" in text


@pytest.mark.parametrize(("shapes", "action", "body"), [
    (ELEBNE_SHAPES, "create", {"externalId": "A", "name": "N", "price": 100}),
    (ELEBNE_SHAPES, "create", {"externalId": "A", "name": " ", "price": -1, "images": ["ftp://x"]}),
    (ELEBNE_SHAPES, "create", {"externalId": "A", "name": "N", "price": "7", "extra": 1}),
    (ELEBNE_SHAPES, "stock", {"externalId": "A", "mode": "set", "quantity": True}),
    (ELEBNE_SHAPES, "update", {"externalId": "A", "variants": [{"label": "x"}, {"label": "X"}]}),
    (ELRYAN_SHAPES, "price_stock_item", {"sku": "A"}),
])
def test_shape_problems_are_those_the_validator_finds(shapes: dict[str, Any], action: str,
                                                       body: dict[str, Any]) -> None:
    from pydantic import ValidationError

    shape = shapes[action]
    found = shape_problems(shape, body)
    try:
        shape.validate(body)
    except ValidationError as exc:
        assert found and len(found) <= len(exc.errors())
    else:
        assert found == []


class Bodies:
    """What ``ConfirmedBodies`` gives the guard: key -> confirmed body of a kind."""

    def __init__(self, bodies: dict[str, dict[str, Any]]) -> None:
        self.bodies = bodies

    def get(self, kind: str, keys: Any) -> dict[str, Any]:
        return {k: self.bodies[k] for k in keys if k in self.bodies} if kind == "stock" else {}


def test_the_guard_asks_for_its_likely_causes_only_when_a_plan_is_over_the_limit() -> None:
    from connector.sync.guard import GuardSettings, check_mass_change
    from tests.test_sync_safety_units import shapes_of

    shapes = shapes_of("elebne")
    keys = [f"K{i}" for i in range(10)]
    plan = Plan("elebne", "shop", roles={"product": "catalogue", "stock": "stock"},
                confirmed={"stock": dict.fromkeys(keys, "h")})
    bodies = Bodies({k: {"externalId": k, "mode": "set", "quantity": 5} for k in keys})
    asked: list[int] = []

    def causes() -> list[str]:
        asked.append(1)
        return ["a renamed stock sheet"]

    plan.ops = [PlannedOp("stock", "stock", k, {}, {"externalId": k, "mode": "set", "quantity": 0 if k == "K0" else 5},
                          "", "", None) for k in keys]
    verdict = check_mass_change(plan, bodies, shapes, GuardSettings(), causes)  # one SKU: not a mass change
    assert (verdict.listed, verdict.affected, verdict.blocked) == (10, 1, False) and asked == []
    for op in plan.ops:
        op.payload = {**op.payload, "quantity": 0}
    verdict = check_mass_change(plan, bodies, shapes, GuardSettings(), causes)
    assert verdict.blocked and asked == [1] and "likely cause: a renamed stock sheet" in verdict.message
    given = check_mass_change(plan, bodies, shapes, GuardSettings(), ["a renamed stock sheet"])  # a list, as before
    assert given.message == verdict.message and given.causes == verdict.causes == ["a renamed stock sheet"]
    nothing_listed = check_mass_change(plan, Bodies({}), shapes, GuardSettings(), causes)
    assert (nothing_listed.listed, nothing_listed.affected, nothing_listed.blocked) == (0, 0, False)
    assert asked == [1]
