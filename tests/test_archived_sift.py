"""``ArchivedSift`` (connector/sync/archived.py) on its own: what it leaves out of a target's plan, and when it
cannot tell whether the marketplace has a variant (no variant SKU in the confirmed payloads) it sends as before."""

from __future__ import annotations

from typing import Any

import pytest

from connector.errors import ConfigError
from connector.model import Product, Variant
from connector.sync.archived import ARCHIVED_NOT_LISTED, ArchivedSift, create_archived, listed_skus_reader
from connector.sync.payload_shape import KindShape

REASON = ("archived in the source and never listed on Shop: not created", ARCHIVED_NOT_LISTED)


def tee(*archived: str) -> Product:
    return Product(key="TEE", variants=[Variant(sku=s, attributes={"Size": s[-1]}, active=s not in archived)
                                        for s in ("TEE-M", "TEE-L")])


class Bodies:
    """The confirmed bodies of a state (``StateStore.bodies``), and how often they were read."""

    def __init__(self, bodies: dict[str, dict[str, Any]]) -> None:
        self.by_kind, self.reads = bodies, 0

    def bodies(self, marketplace: str, account: str, kind: str, keys: list[str]) -> dict[str, Any]:
        self.reads += 1
        return {k: self.by_kind[kind][k] for k in keys if k in self.by_kind.get(kind, {})}


def shapes(sku_field: str | None) -> dict[str, KindShape]:
    shape = KindShape("product", "externalId", {"variants": "label"})
    shape.sku_paths = [("variants", "*", sku_field)] if sku_field else []
    return {"product": shape}


def test_an_archived_product_not_known_is_left_out_and_a_known_one_is_kept() -> None:
    sift = ArchivedSift("Shop", listed_skus=lambda key: pytest.fail("not read for a wholly archived product"))
    gone = Product(key="LAMP", active=False, variants=[Variant(sku="LAMP", active=False)])
    assert sift(gone, known=False) is None
    assert sift(gone, known=True) is gone
    assert sift.left_out == {"LAMP": REASON}
    assert ArchivedSift("Shop", listed_skus=lambda key: None, matches_listings=True)(gone, known=False) is gone


def test_archived_variants_the_marketplace_lacks_are_left_out_of_their_product() -> None:
    state = Bodies({"product": {"TEE": {"variants": [{"label": "M", "sku": "TEE-M"}]}}})
    sift = ArchivedSift("Shop", listed_skus_reader(state, "shop", "acct", lambda: shapes("sku")))
    new = sift(tee("TEE-L"), known=False)  # never listed: none of its variants is
    assert new is not None and [v.sku for v in new.variants] == ["TEE-M"] and state.reads == 0
    known = sift(tee("TEE-L"), known=True)  # listed with TEE-M only
    assert known is not None and [v.sku for v in known.variants] == ["TEE-M"]
    listed = tee("TEE-M")
    assert sift(listed, known=True) is listed  # TEE-M archived but listed: sent, to be taken off sale
    assert sift.left_out == {"TEE-L": REASON}


def test_without_variant_skus_in_the_confirmed_payloads_every_variant_is_taken_as_listed() -> None:
    state = Bodies({"product": {"TEE": {"variants": [{"label": "M"}]}}})
    sift = ArchivedSift("Shop", listed_skus_reader(state, "shop", "acct", lambda: shapes(None)))
    product = tee("TEE-L")
    assert sift(product, known=True) is product and sift.left_out == {}


def test_create_archived_is_true_or_false() -> None:
    assert create_archived({}) is False and create_archived({"defaults": {"create_archived": True}}) is True
    with pytest.raises(ConfigError, match=r"defaults\.create_archived must be true or false, not 1"):
        create_archived({"defaults": {"create_archived": 1}})
