"""The Elryan client against recorded traffic (cassettes/elryan), replayed with record mode ``none``.

Re-record against a local sandbox (no ``make`` needed)::

    CONNECTOR_RECORD=1 .venv/bin/pytest -p no:cacheprovider tests/test_elryan_client_cassettes.py

The fixture starts the sandbox itself and seeds orders and transactions in-process.  Against Elryan's staging
account instead, add ``ELRYAN_RECORD_URL=https://merchantstaging.elryan.com/api ELRYAN_EMAIL=...
ELRYAN_PASSWORD=...`` (the order/package tests then need such records to exist).  Cassettes never hold the
password (replaced by ``***`` in the token request, which replay sends as is), the token nor the
Authorization header.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from connector.http import HttpClient
from connector.marketplaces.elryan import PLUGIN, SANDBOX_EMAIL
from connector.marketplaces.elryan.client import ElryanClient
from connector.marketplaces.elryan.errors import ElryanError
from tests.vcr_support import RECORDING, make_vcr

CANONICAL_BASE = "https://merchantstaging.elryan.com/api"
SCRUBBED = "***"


def _scrub_body(request: Any) -> Any:
    body = request.body
    if body and b"password" in (body if isinstance(body, bytes) else body.encode()):
        data = json.loads(body)
        data["password"] = SCRUBBED
        request.body = json.dumps(data).encode()
    return request


def _scrub_token(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {}).get("string")
    if body and b"APIToken" in (body if isinstance(body, bytes) else body.encode()):
        data = json.loads(body)
        data["data"]["APIToken"] = SCRUBBED
        response["body"]["string"] = json.dumps(data, ensure_ascii=False).encode()
    return response


class Recorder:
    def __init__(self, client: ElryanClient, vcr: Any, server: Any) -> None:
        self.client, self.vcr, self.server = client, vcr, server

    def seed(self, payload: dict[str, Any]) -> None:
        """Sandbox-side set-up while recording (not part of the traffic); nothing to do on replay."""
        if RECORDING and self.server is not None:
            self.server.seed(payload)


@pytest.fixture
def elryan() -> Iterator[Recorder]:
    server = None
    base, email, password = CANONICAL_BASE, SANDBOX_EMAIL, SCRUBBED
    if RECORDING:
        base = os.environ.get("ELRYAN_RECORD_URL", "")
        email = os.environ.get("ELRYAN_EMAIL", SANDBOX_EMAIL)
        password = os.environ.get("ELRYAN_PASSWORD", PLUGIN.sandbox_key)
        if not base:
            server = PLUGIN.create_sandbox(port=0).start()
            base = server.api_url
    http = HttpClient(base, max_retries=0)
    v = make_vcr("elryan", rewrite_base=(base, CANONICAL_BASE))
    scrub_request, scrub_response = v.before_record_request, v.before_record_response
    v.before_record_request = lambda r: _scrub_body(scrub_request(r))
    v.before_record_response = lambda r: _scrub_token(scrub_response(r))
    try:
        yield Recorder(ElryanClient(http, email=email, password=password, page_length=2), v, server)
    finally:
        http.close()
        if server is not None:
            server.stop()


PHONE = {
    "name": "Phone", "spu": "PH-1", "category": {"name": "Phones", "remote_id": "cat-e/p", "parent_remote_id": "cat-e"},
    "brand": {"name": "Apple", "remote_id": "apple"}, "tax": 0, "is_active": True, "guarantee": 6,
    "fulfillment_day": 3, "translations": [{"language": "ar", "name": "هاتف"}, {"language": "fr", "name": "Téléphone"}],
    "variants": [{"sku": "PH-1-BLK", "name": "Phone black", "retail_price": 100, "price": 90, "currency": "IQD",
                  "is_active": True, "supplier": {"name": "S", "remote_id": "s1"},
                  "translations": [{"language": "ar", "name": "هاتف أسود", "description": "وصف"}],
                  "attributes": [{"name": "Color", "value": "Black", "remote_attribute_id": "color",
                                  "remote_attribute_value_id": "color-black"}]}],
}


def test_catalogue_and_stock_operations(elryan: Recorder) -> None:
    c = elryan.client
    with elryan.vcr.use_cassette("catalogue.yaml") as cassette:
        health = c.health_check()
        root = c.upsert_category({"name": "Electronics", "remote_id": "cat-e", "remote_parent_id": "null",
                                  "is_active": True})
        child = c.upsert_category({"name": "Phones", "remote_id": "cat-e/p", "remote_parent_id": "cat-e",
                                   "is_active": True})
        child_info = c.category_info("cat-e/p")
        categories = list(c.iter_search("search_categories"))
        brand = c.upsert_brand({"name": "Apple", "remote_id": "apple", "is_active": True})
        brand_again = c.upsert_brand({"name": "Apple", "remote_id": "apple", "is_active": True})
        c.upsert_attribute({"name": "Color", "remote_id": "color", "is_active": True})
        attribute = c.attribute_info("color")
        value = c.upsert_attribute_value({"value": "Black", "remote_id": "color-black", "is_active": True,
                                          "attribute": {"name": "Color", "remote_id": "color", "is_active": True}})
        values = c.search_attribute_values({"remote_attribute_id": "color"})
        product = c.upsert_product(PHONE)
        variant = c.upsert_variant({**PHONE["variants"][0], "spu": "PH-1", "sku": "PH-1-WHT", "name": "Phone white",
                                    "attributes": []})
        found = c.search_products({"remote_category_id": "cat-e/p"})
        info = c.product_info("PH-1")
        c.disable_variant("PH-1-WHT")
        variants = {v["sku"]: v for v in c.search_variants({"is_active": False})}
        c.disable_product("PH-1")
        c.enable_product("PH-1")
        stock = c.update_price_stock([{"sku": "PH-1-BLK", "stock": 7, "price": 85, "retail_price": 100},
                                      {"sku": "GHOST", "stock": 1}])
        after = c.variant_info("PH-1-BLK")
        c.enable_variant("PH-1-WHT")
    assert health == {"status": "ok"}
    assert child["parent_id"] == root["id"] and child_info["id"] == child["id"]
    assert [x["remote_id"] for x in categories] == ["cat-e", "cat-e/p"]
    assert brand_again["id"] == brand["id"] and attribute["name"] == "Color"
    assert value["attribute"]["remote_id"] == "color" and [v["remote_id"] for v in values] == ["color-black"]
    assert product["spu"] == "PH-1" and variant["spu"] == "PH-1"
    assert [p["spu"] for p in found] == ["PH-1"] and len(info["variants"]) == 2
    assert list(variants) == ["PH-1-WHT"]
    assert (stock.updated_count, stock.found, stock.not_found) == (1, ["PH-1-BLK"], ["GHOST"])
    assert (after["stock"], after["price"]) == (7, 85)
    assert c.logins == 1  # one token for the whole session
    paths = [r.path for r in cassette.requests]
    assert paths.count("/api/users/generate-token") == 1 and paths[0] == "/api/health-check"
    assert all(r.headers.get("Authorization") is None for r in cassette.requests)  # scrubbed on record
    assert RECORDING or cassette.all_played


def test_a_200_with_error_code_is_an_error(elryan: Recorder) -> None:
    c = elryan.client
    with elryan.vcr.use_cassette("error_code.yaml") as cassette:
        with pytest.raises(ElryanError) as unknown_brand:
            c.upsert_product({**PHONE, "brand": {"name": "Nokia", "remote_id": "nokia"}})
        with pytest.raises(ElryanError) as missing:
            c.variant_info("NOPE")
    assert unknown_brand.value.status == 200 and unknown_brand.value.error_code == 1002
    assert "category" in unknown_brand.value.message or "brand" in unknown_brand.value.message
    assert missing.value.status == 200 and missing.value.not_found
    assert cassette.responses[-1]["status"]["code"] == 200


def test_token_is_renewed_once_when_rejected(elryan: Recorder) -> None:
    c = elryan.client
    with elryan.vcr.use_cassette("token_renewal.yaml") as cassette:
        first = c.search_brands()
        elryan.seed({"revoke_tokens": True})  # Elryan forgets the token (expiry)
        second = c.search_brands()
    assert first == second == []
    assert c.logins == 2
    statuses = [r["status"]["code"] for r in cassette.responses]
    assert statuses == [200, 200, 401, 200, 200]
    body = json.loads(cassette.requests[0].body)
    assert body == {"email": SANDBOX_EMAIL, "password": SCRUBBED}


ORDERS = [
    {"POlineID": "77231331", "Status": "Pending Confirmation", "Quantity": "1", "Item": "3392865241177",
     "Description": "Night Bloom - Eau de Parfum, 100ml", "Description (AR)": "نايت بلوم", "Selling Price": "25"},
    {"POlineID": "77231332", "Status": "Pending Confirmation", "Quantity": "2", "Item": "3392865191175",
     "Description": "Jacomo For Her, 100ml", "Selling Price": "25"},
    {"POlineID": "77231333", "Status": "Delivered", "Quantity": "1", "Item": "3392865191176"},
]
TRANSACTIONS = [{"id": "3364306", "Amount": "46.00", "recordType": "vendorbill", "Type": "Sales"}]


def test_orders_packages_and_fulfilment(elryan: Recorder) -> None:
    c = elryan.client
    elryan.seed({"orders": ORDERS, "transactions": TRANSACTIONS})
    with elryan.vcr.use_cassette("orders_packages.yaml"):
        reasons = c.cancellation_reasons()
        unfulfilled = c.unfulfilled_orders()
        prepared = c.prepare_order_items("77231331")
        cancelled = c.cancel_order("77231332", "out_of_stock")
        with pytest.raises(ElryanError) as not_cancellable:
            c.cancel_order("77231333", "out_of_stock")
        delivered = c.search_orders({"Status": "Delivered"})
        detail = c.order_details("77231331")
        bills = c.search_transactions({"recordType": "vendorbill"})
        bill = c.transaction_info("3364306")
        package = c.create_package({"order_id": 7723133, "remote_id": "pkg-1", "total_deci": 3, "status": "new",
                                    "items": [{"order_item_id": 77231331, "quantity": 1, "total_deci": 3}]})
        fulfilled = c.fulfill_package(package["id"], {"tracking_link": "https://track.example/1",
                                                      "tracking_barcode": "TRK1", "provider": "pts"})
        online = c.create_package({"order_id": 7723133, "remote_id": "pkg-2",
                                   "items": [{"order_item_id": 77231331, "quantity": 1}]})
        online_done = c.fulfill_online_package(online["id"], "pts")
        spare = c.create_package({"order_id": 7723133, "remote_id": "pkg-3",
                                  "items": [{"order_item_id": 77231331, "quantity": 1}]})
        spare_cancelled = c.cancel_package(spare["id"])
        with pytest.raises(ElryanError) as cannot_fulfill:
            c.fulfill_online_package(spare["id"], "pts")
        info = c.package_info(package["id"])
        packages = c.search_packages({"status": "fulfilled"})
    assert reasons == ["out_of_stock", "incorrect_pricing", "sourcing_delay"]
    assert [o["POlineID"] for o in unfulfilled] == ["77231331", "77231332"]
    assert prepared["Status"] == "Ready to Ship" and detail["Status"] == "Ready to Ship"
    assert cancelled["Status"] == "Cancelled" and cancelled["cancelReason"] == "out_of_stock"
    assert not_cancellable.value.status == 200 and not_cancellable.value.error_code == 1001
    assert [o["POlineID"] for o in delivered] == ["77231333"]
    assert bill["Amount"] == "46.00" and [b["id"] for b in bills] == ["3364306"]
    assert fulfilled["status"] == "fulfilled" and fulfilled["tracking"]["tracking_barcode"] == "TRK1"
    assert online_done["tracking"]["provider"] == "pts" and spare_cancelled["status"] == "cancelled"
    assert cannot_fulfill.value.error_code == 1001
    assert info["remote_id"] == "pkg-1" and {p["remote_id"] for p in packages} == {"pkg-1", "pkg-2"}
