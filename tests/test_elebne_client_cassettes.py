"""The Elebne client against recorded traffic (cassettes/elebne), replayed with record mode ``none``.

Re-record against the sandbox with ``make record-elebne``; against a real test account with
``CONNECTOR_RECORD=1 ELEBNE_RECORD_URL=https://api.elebne.ai/api/v1/dev/store ELEBNE_API_KEY=sk_test_...``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from connector.http import HttpClient
from connector.marketplaces.elebne import PLUGIN
from connector.marketplaces.elebne.client import ElebneClient, ElebneError
from tests.vcr_support import RECORDING, make_vcr

CANONICAL_BASE = "https://api.elebne.ai/api/v1/dev/store"


@pytest.fixture
def elebne() -> Iterator[tuple[ElebneClient, object]]:
    server = None
    base = CANONICAL_BASE
    key = "sk_test_replayonly0000"
    if RECORDING:
        base = os.environ.get("ELEBNE_RECORD_URL", "")
        key = os.environ.get("ELEBNE_API_KEY", PLUGIN.sandbox_key)
        if not base:
            server = PLUGIN.create_sandbox(port=0).start()
            base = server.url + PLUGIN.sandbox_base_path
    http = HttpClient(base, auth=lambda: {"Authorization": f"Bearer {key}"}, max_retries=0)
    v = make_vcr("elebne", rewrite_base=(base, CANONICAL_BASE))
    try:
        yield ElebneClient(http), v
    finally:
        http.close()
        if server is not None:
            server.stop()


PRODUCT = {"externalId": "TEE-01", "name": "T-shirt", "price": 2500, "status": "ACTIVE",
           "variants": [{"label": "M / Blue", "sku": "TEE-01-M-BL", "price": 2500},
                        {"label": "L / Blue", "sku": "TEE-01-L-BL", "price": 2600}]}


def test_create_get_update_product(elebne) -> None:
    client, v = elebne
    with v.use_cassette("create_get_update.yaml") as cassette:
        created = client.create_product(PRODUCT, "create-tee-01")
        again = client.create_product(PRODUCT, "create-tee-01")  # same key, same body: replayed, not duplicated
        got = client.get_product("TEE-01")
        updated = client.update_product("TEE-01", {"price": 2700, "variants": [{"label": "m / blue", "price": 2700}]})
    assert created["externalId"] == "TEE-01" and len(created["id"]) == 24
    assert again["id"] == created["id"]
    assert got["name"] == "T-shirt" and len(got["variants"]) == 2
    assert updated["price"] == 2700
    assert {v["label"].casefold(): v["price"] for v in updated["variants"]} == {"m / blue": 2700, "l / blue": 2600}
    assert len(updated["variants"]) == 2  # matched by label case-insensitively, not added
    posts = [r for r in cassette.requests if r.method == "POST"]
    assert len(posts) == 2 and all(r.headers["X-Idempotency-Key"] == "create-tee-01" for r in posts)
    assert cassette.responses[1]["headers"].get("Idempotent-Replayed") in (["true"], "true")
    assert RECORDING or cassette.all_played


def test_stock_single_and_bulk_with_partial_failure(elebne) -> None:
    client, v = elebne
    with v.use_cassette("stock.yaml") as cassette:
        client.create_product(PRODUCT, "create-tee-01-stock")
        single = client.update_stock("TEE-01", quantity=5, variants=[{"label": "M / Blue", "quantity": 5}])
        result = client.bulk_inventory([
            {"externalId": "TEE-01", "mode": "set", "quantity": 7,
             "variants": [{"label": "M / Blue", "quantity": 3}, {"label": "L / Blue", "quantity": 4}]},
            {"externalId": "NOPE-404", "mode": "set", "quantity": 1},
        ])
        with pytest.raises(ElebneError) as exc:
            client.update_stock("TEE-01", variants=[{"label": "XL / Red", "quantity": 1}])
    assert single["quantity"] == 5
    assert (result.updated, result.failed) == (1, 1)
    assert result.errors[0]["externalId"] == "NOPE-404" and "not found" in result.errors[0]["error"].lower()
    assert exc.value.code == "VARIANT_NOT_FOUND" and exc.value.status == 400
    assert [r.method for r in cassette.requests] == ["POST", "PATCH", "PATCH", "PATCH"]


def test_errors_and_inventory_pagination(elebne) -> None:
    client, v = elebne
    with v.use_cassette("errors_and_pages.yaml"):
        with pytest.raises(ElebneError) as missing:
            client.get_product("MISSING-1")
        with pytest.raises(ElebneError) as too_many:
            client.bulk_inventory([{"externalId": f"X{i}", "mode": "set", "quantity": 1} for i in range(201)])
        for i in range(3):
            client.create_product({"externalId": f"P-{i}", "name": f"P {i}", "price": 100, "quantity": i + 1},
                                  f"create-p-{i}")
        client.page_limit = 2
        items = list(client.iter_inventory())
    assert (missing.value.status, missing.value.code) == (404, "PRODUCT_NOT_FOUND")
    assert (too_many.value.status, too_many.value.code) == (400, "TOO_MANY_ITEMS")
    assert sorted(i["externalId"] for i in items) == ["P-0", "P-1", "P-2"]
