"""The whole run's faster paths give what the plain ones give (issue 16): a record's text for its fingerprint,
the confirmed hashes and record marks read in one pass."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

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

    import pytest

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
