"""The packed cursor value the Aleta snapshot and the Odoo catalogue index are stored as."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.sources.aleta.incremental import Snapshot
from connector.sources.odoo.catalogue_index import CatalogueIndex
from connector.sources.packed import pack, unpack


def test_a_document_round_trips_and_decimals_come_back_exact() -> None:
    value = pack({"weight": Decimal("0.10"), "name": "thé"}, default=str)
    assert value.startswith("z1:")
    assert unpack(value, parse_float=Decimal) == {"weight": "0.10", "name": "thé"}
    assert unpack(pack({"w": 1.25}), parse_float=Decimal) == {"w": Decimal("1.25")}


@pytest.mark.parametrize("value", [None, "", "plain text", "z1:not base64 at all!", "z1:" + "QUJD"])
def test_a_missing_foreign_or_broken_value_unpacks_to_none(value: str | None) -> None:
    assert unpack(value) is None
    assert Snapshot.decode(value) is None and CatalogueIndex.decode(value) is None


def test_snapshot_and_index_keep_their_forms() -> None:
    snap = Snapshot(filters={"status": "active"}, products={"1": {"id": 1, "title": "Tea", "secret": "dropped"}})
    back = Snapshot.decode(snap.encode())
    assert back is not None and back.products == {"1": {"id": 1, "title": "Tea"}} and back.filters == snap.filters
    index = CatalogueIndex("[]", skus={7: ("A1", True)}, skipped_ids={9})
    again = CatalogueIndex.decode(index.encode())
    assert again is not None and again.skus == {7: ("A1", True)} and again.skipped_ids == {9}
    assert CatalogueIndex.decode(pack(["not", "an", "index"])) is None
