"""Contract tests of the Aleta sandbox (docs/aleta.md): auth, pagination, filters, stock, cache meta."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connector.sources.aleta.sandbox import SANDBOX_KEY, AletaSandbox, create_sandbox
from connector.sources.aleta.sandbox_catalogue import generate

pytestmark = pytest.mark.sandbox
AUTH = {"Authorization": f"Bearer {SANDBOX_KEY}"}


@pytest.fixture
def sandbox() -> Iterator[AletaSandbox]:
    with create_sandbox(variants=400, seed=11, locations=3, cache_ttl={"products": 60, "stock": 30}) as server:
        server.cache_ttl.update({"products": 0, "stock": 0})  # caching is switched on per test
        yield server


def get(server: AletaSandbox, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
        ) -> requests.Response:
    return requests.get(server.api_url + path, params=params, headers=AUTH if headers is None else headers, timeout=5)


def all_pages(server: AletaSandbox, **params: Any) -> list[dict[str, Any]]:
    out, cursor = [], None
    while True:
        body = get(server, "/products", {**params, **({"cursor": cursor} if cursor else {})}).json()
        out += body["data"]
        if not body["pagination"]["has_next_page"]:
            return out
        cursor = body["pagination"]["cursor"]


def test_auth_header_or_query_401_without_key(sandbox) -> None:
    assert get(sandbox, "/products", {"limit": 1}).status_code == 200
    by_query = get(sandbox, "/products", {"limit": 1, "api_key": SANDBOX_KEY}, headers={})
    assert by_query.status_code == 200 and by_query.json()["meta"]["client_id"].startswith("client_")
    for path in ("/products", "/products/X", "/stock", "/stock/X", "/locations"):
        missing = get(sandbox, path, headers={})
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "UNAUTHORIZED", path
    assert get(sandbox, "/locations", headers={"Authorization": "Bearer b2b_"}).status_code == 401
    assert get(sandbox, "/locations", {"api_key": "nope"}, headers={}).status_code == 401
    health = get(sandbox, "/health", headers={}).json()  # auth optional
    assert health["status"] == "ok" and health["version"] == "1.0.0" and health["client_id"] is None
    assert get(sandbox, "/health").json()["client_id"] == AletaSandbox.client_id_for(SANDBOX_KEY)


def test_only_listed_keys_when_keys_given() -> None:
    with create_sandbox(keys={"b2b_reseller_0001": "client_flurin"}) as server:
        assert get(server, "/locations", headers={"Authorization": "Bearer b2b_reseller_0001"}).status_code == 200
        assert get(server, "/locations").status_code == 401  # well-formed but not listed
        assert get(server, "/health", headers={"Authorization": "Bearer b2b_reseller_0001"}).json()[
            "client_id"] == "client_flurin"


def test_limit_default_max_and_cursor_pagination(sandbox) -> None:
    first = get(sandbox, "/products").json()
    assert len(first["data"]) == 50 and first["pagination"]["has_next_page"] is True
    assert first["pagination"]["total_fetched"] == 50
    assert get(sandbox, "/products", {"limit": 251}).status_code == 400
    assert get(sandbox, "/products", {"limit": 0}).status_code == 400
    assert get(sandbox, "/products", {"status": "deleted"}).status_code == 400
    assert get(sandbox, "/products", {"cursor": "garbage!"}).json()["error"]["code"] == "INVALID_CURSOR"
    other_filter = get(sandbox, "/products", {"cursor": first["pagination"]["cursor"], "status": "draft"})
    assert other_filter.status_code == 400  # a cursor belongs to its query
    everything = all_pages(sandbox, limit=250)
    active = sandbox.store.query("SELECT count(*) AS n FROM aleta_products WHERE status = 'active'")[0]["n"]
    assert len(everything) == active and len({p["id"] for p in everything}) == active
    assert all(p["status"] == "active" for p in everything)


def test_pagination_is_stable_while_pages_are_read(sandbox) -> None:
    ids_before = [p["id"] for p in all_pages(sandbox, limit=20)]
    page = get(sandbox, "/products", {"limit": 20}).json()
    seen = [p["id"] for p in page["data"]]
    # Meanwhile: products already read and not yet read are edited (updated_at moves), one is added.
    sandbox.update_product(seen[0], title="Renamed")
    sandbox.update_product(ids_before[-1], title="Renamed too")
    _locs, products, _stock = generate(1, seed=99)
    products[0].update(id="gid://shopify/Product/99999", handle="new-one")
    products[0]["variants"][0].update(sku="NEW-1", inventory_item_id="gid://shopify/InventoryItem/99999")
    sandbox.load([], products, [])
    cursor = page["pagination"]["cursor"]
    while cursor:
        body = get(sandbox, "/products", {"limit": 20, "cursor": cursor}).json()
        seen += [p["id"] for p in body["data"]]
        cursor = body["pagination"]["cursor"] if body["pagination"]["has_next_page"] else None
    assert seen[:len(ids_before)] == ids_before  # each original product exactly once, in the same order
    assert len(seen) == len(set(seen))


def test_filters_vendor_sku_updated_since(sandbox) -> None:
    everything = all_pages(sandbox, limit=250)
    vendor = everything[0]["vendor"]
    by_vendor = all_pages(sandbox, limit=250, vendor=vendor.upper())
    assert by_vendor and {p["vendor"] for p in by_vendor} == {vendor}
    sku = everything[3]["variants"][0]["sku"]
    by_sku = all_pages(sandbox, sku=sku.lower())
    assert [v["sku"] for p in by_sku for v in p["variants"]] == [sku]
    cut = sorted(p["updated_at"] for p in everything)[-5]
    recent = all_pages(sandbox, updated_since=cut)
    assert len(recent) == 5 and all(p["updated_at"] >= cut for p in recent)
    assert get(sandbox, "/products", {"updated_since": "yesterday"}).status_code == 400
    sandbox.update_variant(everything[0]["variants"][0]["sku"], client_price="1.00")
    changed = all_pages(sandbox, updated_since="2099-01-01T00:00:00Z")
    assert changed == []
    now_changed = [p["id"] for p in all_pages(sandbox, updated_since=cut) if p["id"] == everything[0]["id"]]
    assert now_changed == [everything[0]["id"]]


def test_single_sku_stock_batch_locations_low_stock(sandbox) -> None:
    product = get(sandbox, "/products", {"limit": 5}).json()["data"][2]
    sku = product["variants"][0]["sku"]
    single = get(sandbox, f"/products/{sku}").json()["data"]
    assert single["id"] == product["id"] and [v["sku"] for v in single["variants"]] == [sku]
    assert isinstance(single["variants"][0]["client_price"], str)
    assert get(sandbox, "/products/NOPE-404").status_code == 404
    assert get(sandbox, "/stock/NOPE-404").status_code == 404
    locations = get(sandbox, "/locations").json()["data"]
    assert len(locations) == 3 and all(loc["is_active"] for loc in locations)
    skus = [v["sku"] for p in get(sandbox, "/products", {"limit": 10}).json()["data"] for v in p["variants"]]
    rows = get(sandbox, "/stock", {"sku": ",".join([*skus, "UNKNOWN"])}).json()["data"]
    assert [r["sku"] for r in rows] == skus  # unknown SKUs are left out
    assert all(len(r["locations"]) == 3 for r in rows)
    one = get(sandbox, f"/stock/{sku}").json()["data"]
    assert one == next(r for r in rows if r["sku"] == sku)
    loc = locations[1]["id"]
    at_loc = get(sandbox, "/stock", {"sku": sku, "location_id": loc}).json()["data"][0]["locations"]
    assert [x["location_id"] for x in at_loc] == [loc]
    sandbox.set_stock(sku, loc, available=0)
    low = get(sandbox, "/stock", {"sku": ",".join(skus), "low_stock": 0}).json()["data"]
    assert sku in {r["sku"] for r in low}
    assert all(x["quantities"]["available"] <= 0 for r in low for x in r["locations"])
    long = get(sandbox, "/stock", {"sku": ",".join(["X" * 50] * 200)})
    assert long.status_code == 414


def test_cached_meta_and_cache_age(sandbox) -> None:
    sandbox.cache_ttl["stock"] = 30
    product = get(sandbox, "/products", {"limit": 1}).json()["data"][0]
    sku = product["variants"][0]["sku"]
    fresh = get(sandbox, "/stock", {"sku": sku}).json()
    assert fresh["meta"]["cached"] is False and fresh["meta"]["cache_age_seconds"] == 0
    sandbox.set_stock(sku, available=999)
    sandbox.advance(12)
    stale = get(sandbox, "/stock", {"sku": sku}).json()
    assert stale["meta"]["cached"] is True and stale["meta"]["cache_age_seconds"] == 12
    assert stale["data"] == fresh["data"]  # still the cached copy
    sandbox.advance(30)
    renewed = get(sandbox, "/stock", {"sku": sku}).json()
    assert renewed["meta"]["cached"] is False
    assert 999 in [x["quantities"]["available"] for x in renewed["data"][0]["locations"]]
    meta = get(sandbox, "/products", {"limit": 1}).json()["meta"]
    assert set(meta) == {"client_id", "generated_at", "cached", "cache_age_seconds"}


def test_generated_catalogue_is_deterministic_and_valid() -> None:
    a, b = generate(500, seed=5), generate(500, seed=5)
    assert a == b and generate(500, seed=6) != a
    _locs, products, stock = a
    variants = [v for p in products for v in p["variants"]]
    assert len(variants) == 500 and len({v["sku"] for v in variants}) == 500
    assert len(stock) == 500 * 2
    for v in variants:
        digits = [int(d) for d in v["barcode"]]
        assert len(digits) == 13 and (sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) == 0


def test_seed_endpoint_changes_state_over_http(sandbox) -> None:
    sku = get(sandbox, "/products", {"limit": 1}).json()["data"][0]["variants"][0]["sku"]
    resp = requests.post(sandbox.url + "/__sandbox/seed", json={"set_stock": [{"sku": sku, "available": 5}]},
                         timeout=5)
    assert resp.status_code == 201 and resp.json()["variants"] == 400
    first = get(sandbox, f"/stock/{sku}").json()["data"]["locations"][0]
    assert first["quantities"]["available"] == 5
