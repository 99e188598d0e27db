"""What the Odoo source says about negative stock and private images is true and said once (issue 12, point 10).

Replays the full-read cassettes of tests/test_odoo_catalogue.py (same settings, same RPC calls).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.sources.base import SourceResult
from connector.sources.odoo import OdooSource
from connector.sync.stock_policy import StockPolicy
from tests.odoo_vcr import RECORDING, VERSIONS, block_network, odoo_cassette, password
from tests.test_odoo_catalogue import catalogue_settings

pytestmark = pytest.mark.skipif(RECORDING, reason="replays the catalogue cassettes recorded by test_odoo_catalogue")


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"odoo{v}")
def result(request: pytest.FixtureRequest) -> Iterator[SourceResult]:
    version = request.param
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(f"CONNECTOR_TEST_ODOO{version}_PASSWORD", password(version))
        block_network(mp)
        with odoo_cassette(version, "catalogue_full"):
            yield OdooSource(catalogue_settings(version)).read()


def test_negative_stock_message_says_what_is_listed(result: SourceResult) -> None:
    """Rule (docs/odoo.md): a negative warehouse is netted against the others; the message gives the numbers."""
    [issue] = [i for i in result.issues if i.sku == "CT-NEG" and "negative stock" in i.reason]
    variant = next(v for p in result.products for v in p.variants if v.sku == "CT-NEG")
    listed = StockPolicy().listed(variant)
    net = sum(level.available for level in variant.stock.values())
    assert "netted" in issue.reason and f"{net} in all" in issue.reason
    assert f"so {listed} is listed" in issue.reason
    assert "listed as 0" not in issue.reason


def test_private_images_are_reported_once(result: SourceResult) -> None:
    with_images = [p for p in result.products if p.images or any(v.images for v in p.variants)]
    assert with_images  # the seed gives CT-TEE-01 a template image and a variant image
    [warning] = [w for w in result.warnings if "placeholder" in w]
    assert f"{len(with_images)} product(s) with images" in warning
    assert "https://shop.example.com/web/image/" in warning and "image_base_url" in warning
    assert not any("placeholder" in i.reason for i in result.issues)  # not once per variant
