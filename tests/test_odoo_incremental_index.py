"""Incremental reads walk the catalogue index once (issue 16: duplicate detection ran twice on reads that
re-read skipped variants), and still decide duplicates against the whole catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.sources.odoo import OdooSettings, OdooSource
from connector.sources.odoo.catalogue_index import INDEX_NAME, CatalogueIndex, domain_key
from connector.sync.state import StateStore
from tests.test_odoo_errors import NO_STOCK_FIELDS, FakeBackend


def _row(pid: int, sku: str | None, tmpl: int, active: bool = True) -> dict[str, Any]:
    return {"id": pid, "default_code": sku or False, "name": f"P{pid}", "product_tmpl_id": [tmpl, f"T{tmpl}"],
            "lst_price": 1.0, "standard_price": 0.5, "weight": 0.0, "categ_id": False, "active": active,
            "product_template_attribute_value_ids": [], "type": "consu", "currency_id": [1, "USD"],
            "barcode": False, "description_sale": False, "write_date": "2026-01-01 00:00:00"}


# the catalogue: 500 indexed variants; 10 (template 10) changed; 20 (template 20) was skipped last time because
# it had no SKU and now has one that nobody else holds; 30 (template 30) was skipped as a duplicate of 31's SKU
CHANGED, FIXED, DUP, DUP_OTHER = _row(10, "A-10", 10), _row(20, "B-20", 20), _row(30, "C-31", 30), 31
FIXED_SIBLING = _row(21, "B-21", 20)


def _answers(kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    domain = kwargs["domain"]
    if kwargs["fields"] == ["product_tmpl_id"]:  # which templates changed
        return [{"id": 10, "product_tmpl_id": [10, "T10"]}]
    if domain[-1][0] == "id" and domain[-1][1] == ">" and domain[-1][2] > 0:
        return []  # the page after the last one
    if ("product_tmpl_id", "in", [20]) in domain:  # the fixed variant's whole template
        return [FIXED_SIBLING]
    return [CHANGED, FIXED, DUP]


@pytest.fixture
def state(tmp_path: Path) -> StateStore:
    store = StateStore.open(tmp_path / "state.sqlite")
    index = CatalogueIndex(domain_key([]))
    index.skus = {pid: (f"X-{pid}", True) for pid in range(100, 600)}
    index.skus.update({10: ("A-10", True), 21: ("B-21", True), 30: ("C-31", True), DUP_OTHER: ("C-31", True)})
    index.skipped_ids = {20, 30}
    store.set_cursor("odoo:shop", "products", "2026-01-01T00:00:00Z")
    store.set_cursor("odoo:shop", INDEX_NAME, index.encode())
    return store


def test_the_index_is_walked_once_and_duplicates_stay_decided(state: StateStore,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    walks = []
    original = CatalogueIndex.others

    def counting(self: CatalogueIndex, read_ids: Any) -> Any:
        walks.append(1)
        return original(self, read_ids)

    monkeypatch.setattr(CatalogueIndex, "others", counting)
    backend = FakeBackend((17, 0), {("product.product", "fields_get"): NO_STOCK_FIELDS,
                                    ("product.product", "search_read"): _answers})
    source = OdooSource(OdooSettings(url="http://odoo.example", db="shop", read_stock=False), backend=backend)
    result = source.read(state=state, full=False)
    assert len(walks) == 1
    sent = {v.sku for p in result.products for v in p.variants}
    assert sent == {"A-10", "B-20", "B-21"}  # the fixed variant comes with its whole template
    dup = [r for r in result.rows if r.sku == "C-31"]
    assert dup and all("duplicate SKU" in (r.skipped_reason or "") for r in dup)  # 31 still holds C-31


def test_the_variants_a_target_skipped_travel_with_the_index() -> None:
    """``recheck`` keeps the ids of the SKUs a target skipped this run (and only those); an index saved before
    it existed reads as one without any."""
    index = CatalogueIndex(domain_key([]), skus={1: ("A", True), 2: ("B", True), 3: ("B", False), 4: ("C", True)})
    index.recheck({"B", "GONE"})
    again = CatalogueIndex.decode(index.encode())
    assert again is not None and again.recheck_ids == {2, 3} and again.skus == index.skus
    again.recheck(set())
    assert CatalogueIndex.decode(again.encode()).recheck_ids == set()  # type: ignore[union-attr]
    older = CatalogueIndex(domain_key([]), skus={1: ("A", True)})
    assert CatalogueIndex.decode(older.encode()).recheck_ids == set()  # type: ignore[union-attr]
