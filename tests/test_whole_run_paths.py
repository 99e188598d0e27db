"""The whole run's faster paths give what the plain ones give (issue 16): a record's text for its fingerprint,
the confirmed hashes and record marks read in one pass."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.model import Money, Product, SourceRef, StockLevel, Variant
from connector.sync.state import StateStore


def test_records_print_as_dataclasses_print_them() -> None:
    """The plain generated repr (no recursion guard): the text the fingerprints of earlier runs were made of."""
    v = Variant(sku="A-1", attributes={"Size": "M"}, price=Money(Decimal("10.50"), "MRU"),
                stock={"Main": StockLevel("Main", 5)}, stock_known=True, ref=SourceRef("Products", 2), qty=5)
    p = Product(key="A", name="Tee", variants=[v], ref=SourceRef("Products", 2))
    assert repr(v.price) == "Money(amount=Decimal('10.50'), currency='MRU')"
    assert repr(p) == (
        "Product(key='A', name='Tee', description=ABSENT, brand=ABSENT, category_path=ABSENT, images=ABSENT, "
        "active=True, kind='stocked', translations={}, variants=[Variant(sku='A-1', attributes={'Size': 'M'}, "
        "barcode=ABSENT, price=Money(amount=Decimal('10.50'), currency='MRU'), cost=ABSENT, weight=ABSENT, "
        "hs_code=ABSENT, dimensions=ABSENT, images=ABSENT, active=True, stock={'Main': StockLevel(location='Main', "
        "available=5, on_hand=None, reserved=None, incoming=None)}, stock_known=True, translations={}, "
        "ref=SourceRef(origin='Products', row=2, ident=None), qty=5)], "
        "ref=SourceRef(origin='Products', row=2, ident=None), extra={})")


def test_hashes_and_marks_read_together_are_those_read_apart(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "state.sqlite") as state:
        state.confirm("elebne", "shop", "stock", [("A", "h1", '{"q":1}', None), ("B", "h2", '{"q":2}', None),
                                                  ("C", "h3", '{"q":3}', None)])
        state.confirm("elebne", "other", "stock", [("A", "x", '{"q":9}', None)])
        state.mark_records("elebne", "shop", "stock", [("A", "h1", "fp-a"), ("C", "h3", "fp-c")])
        both = state.hashes_and_marks("elebne", "shop", "stock")
        assert both == (state.hashes("elebne", "shop", "stock"), state.record_marks("elebne", "shop", "stock"))
        assert both == ({"A": "h1", "B": "h2", "C": "h3"}, {"A": "fp-a", "C": "fp-c"})
        assert state.hashes_and_marks("elebne", "shop", "product") == ({}, {})


def test_the_collector_is_paused_for_the_read_and_left_as_it_was() -> None:
    import gc

    from connector.sync.collector import RUN_THRESHOLD, source_kept

    before = gc.get_threshold()
    assert gc.isenabled()
    with source_kept() as read_done:
        assert not gc.isenabled()
        kept = [object() for _ in range(3)]
        read_done()
        assert gc.isenabled() and gc.get_freeze_count() > 0 and gc.get_threshold()[0] == RUN_THRESHOLD
    assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold() == before and kept
    with pytest.raises(RuntimeError), source_kept():
        raise RuntimeError("a read that failed")
    assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold() == before
    gc.disable()
    try:
        with source_kept() as read_done:
            read_done()
            assert not gc.isenabled()  # a caller's paused collector stays paused
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_every_row_has_its_outcome_whether_its_product_had_something_planned_or_not() -> None:
    """Rows of a product with nothing planned are unchanged without working out an outcome; the others as before:
    a stock sheet row ignores its product's catalogue op, a product refused before planning is still named."""
    from connector.sources.base import RowRef, SourceResult
    from connector.sync.ops import ItemResult, PlannedOp
    from connector.sync.plan import Plan
    from connector.sync.report import FAILED, PUSHED, SKIPPED, UNCHANGED, RunReport, account_rows

    def product(key: str) -> Product:
        return Product(key=key, name=key, variants=[Variant(sku=key, ref=SourceRef("Products", 2))],
                       ref=SourceRef("Products", 2))

    same, changed, refused, failing = product("SAME"), product("CHANGED"), product("REFUSED"), product("BAD")
    plan = Plan("elebne", "shop", products={"SAME": same, "CHANGED": changed, "BAD": failing},
                roles={"product": "catalogue", "stock": "stock"})
    update = PlannedOp("update", "product", "CHANGED", {"name": "x"}, {"name": "x"}, "{}", "h", changed)
    stock = PlannedOp("stock", "stock", "CHANGED", {"quantity": 1}, {"quantity": 1}, "{}", "h2", changed)
    bad = PlannedOp("create", "product", "BAD", {}, {}, "{}", "h3", failing)
    plan.ops = [update, stock, bad]
    results = {("product", "CHANGED"): ItemResult(update, ok=True), ("stock", "CHANGED"): ItemResult(stock, ok=True),
               ("product", "BAD"): ItemResult(bad, ok=False, message="refused")}
    source = SourceResult(products=[same, changed, refused, failing], rows=[
        RowRef("SAME", SourceRef("Products", 2)), RowRef("SAME", SourceRef("Stock - Main", 2)),
        RowRef("CHANGED", SourceRef("Products", 3)), RowRef("CHANGED", SourceRef("Stock - Main", 3)),
        RowRef("REFUSED", SourceRef("Products", 4)), RowRef(None, SourceRef("Products", 5), "SKU is empty"),
        RowRef("BAD", SourceRef("Products", 6))])
    report = RunReport("r", "s", "elebne", False, "now")
    account_rows(report, source, plan, results, catalogue_kind="product", dry_run=False)
    assert [(r.sku, r.product, r.sheet, r.row, r.status, list(r.actions), r.attention) for r in report.rows] == [
        ("SAME", "SAME", "Products", 2, UNCHANGED, [], False),
        ("SAME", "SAME", "Stock - Main", 2, UNCHANGED, [], False),
        ("CHANGED", "CHANGED", "Products", 3, PUSHED, ["update", "stock"], False),
        ("CHANGED", "CHANGED", "Stock - Main", 3, PUSHED, ["stock"], False),  # its catalogue op is not this row's
        ("REFUSED", "REFUSED", "Products", 4, SKIPPED, [], False),  # not planned, still counted as its product
        (None, None, "Products", 5, SKIPPED, [], True),
        ("BAD", "BAD", "Products", 6, FAILED, ["create"], True)]
    assert report.rows[4].reason == "not part of any product that was read"


def test_what_the_read_freed_is_released_once_when_it_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.sync import collector

    released: list[int] = []
    monkeypatch.setattr(collector, "release_freed_memory", lambda: released.append(1))
    with collector.source_kept() as read_done:
        assert released == []
        read_done()
        read_done()
    assert released == [1]
    monkeypatch.undo()
    collector.release_freed_memory()  # the real one runs anywhere (without glibc there is nothing to trim)


def test_a_dry_runs_rows_say_what_would_be_sent() -> None:
    from connector.sources.base import RowRef, SourceResult
    from connector.sync.ops import ItemResult, PlannedOp
    from connector.sync.plan import Plan
    from connector.sync.report import PUSHED, RunReport, account_rows

    products = [Product(key=k, name=k, variants=[Variant(sku=k, ref=SourceRef("Products", 2))],
                        ref=SourceRef("Products", 2)) for k in ("A", "B")]
    plan = Plan("ecomlinx", "shop", products={p.key: p for p in products}, roles={"product": "catalogue"})
    plan.ops = [PlannedOp("create", "product", p.key, {}, {}, "{}", "h", p) for p in products]
    matched = ItemResult(plan.ops[1], ok=True, message="would be matched by SKU at push time")
    source = SourceResult(products=products, rows=[RowRef(p.key, SourceRef("Products", i + 2))
                                                   for i, p in enumerate(products)])
    report = RunReport("r", "s", "ecomlinx", True, "now")
    account_rows(report, source, plan, {("product", "B"): matched}, catalogue_kind="product", dry_run=True)
    assert [(r.status, r.actions, r.reason) for r in report.rows] == [
        (PUSHED, ["create"], "dry run: would be sent"),
        (PUSHED, ["create"], "dry run: would be matched by SKU at push time")]
