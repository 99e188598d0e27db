"""The SKUs of EcomLinx's product listing (what a sync matches the source's rows against) as JSON values of another
type.  A whole number used to be skipped (its product looked missing, its row "not on EcomLinx"): it is matched as
its text ("1234").  A fraction, null, true/false or an object used to be skipped the same way: it now fails the
read naming the product, and nothing is cached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.http import HttpClient
from connector.marketplaces.ecomlinx import SANDBOX_KEY
from connector.marketplaces.ecomlinx.client import EcomLinxClient
from connector.marketplaces.ecomlinx.errors import EcomLinxError
from connector.marketplaces.ecomlinx.matching import SkuIndex
from connector.sync.state import StateStore
from tests.conftest import running_ecomlinx
from tests.fault_proxy import REWRITE, FaultProxy

pytestmark = pytest.mark.sandbox
LISTED = ["1234", "TEA-500"]


@pytest.fixture
def index_with_sku(tmp_path: Path) -> Iterator[Any]:
    """``with_sku(value)``: a fresh SKU index whose listing answers ``value`` as the first product's SKU, and that
    product's id."""
    with running_ecomlinx(tmp_path / "sb.sqlite", listed=LISTED) as server:
        proxy = FaultProxy(server.api_url)
        http = HttpClient(proxy.url, auth=lambda: {"Authorization": f"Bearer {SANDBOX_KEY}"}, max_retries=0)
        first = EcomLinxClient(http).list_products()["data"][0]
        state = StateStore.open(tmp_path / "state.sqlite")

        def with_sku(value: Any) -> tuple[SkuIndex, str]:
            proxy.fail(REWRITE, method="GET", path="/products$", rewrite=lambda body: {
                **body, "data": [{**p, "sku": value} if p["id"] == first["id"] else p for p in body["data"]]})
            return SkuIndex(EcomLinxClient(http), state, "main"), first["id"]

        try:
            yield with_sku
        finally:
            state.close()
            http.close()
            proxy.close()


def test_a_whole_number_sku_is_matched_as_its_text(index_with_sku: Any) -> None:
    index, product_id = index_with_sku(1234)
    match = index.lookup("1234")
    assert match.found and match.product_id == product_id
    assert index.lookup("TEA-500").found


@pytest.mark.parametrize("value", [1234.5, None, True, {"code": "1234"}, ""])
def test_a_sku_of_another_type_fails_the_read_naming_the_product(index_with_sku: Any, value: Any) -> None:
    index, product_id = index_with_sku(value)
    with pytest.raises(EcomLinxError) as caught:
        index.lookup("TEA-500")
    assert caught.value.code == "invalid_response" and not getattr(caught.value, "contradicted", False)
    assert f"product {product_id} whose sku is {value!r}, not a text or a whole number" in str(caught.value)
    assert index.listing_time() is None  # nothing cached from the misread listing
