"""Contract tests: the Elryan sandbox enforces the documented behaviour (raw HTTP, no client)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.marketplaces.elryan.sandbox import ElryanSandbox, create_sandbox

pytestmark = pytest.mark.sandbox


class Api:
    def __init__(self, server: ElryanSandbox) -> None:
        self.server = server
        self.base = server.api_url
        self.token = self.login(SANDBOX_EMAIL, SANDBOX_PASSWORD)["data"]["APIToken"]

    def login(self, email: str, password: str) -> dict[str, Any]:
        return requests.post(f"{self.base}/users/generate-token", json={"email": email, "password": password},
                             timeout=5).json()

    def call(self, method: str, path: str, body: Any = None, token: str | None = "default") -> requests.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {self.token if token == 'default' else token}"}
        return requests.request(method, self.base + path, json=body, headers=headers, timeout=5)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        resp = self.call(method, path, body)
        payload = resp.json()
        assert resp.status_code == 200 and payload["error_code"] == 0, payload
        return payload["data"]

    def refused(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        resp = self.call(method, path, body)
        payload = resp.json()
        assert resp.status_code == 200 and payload["error_code"] != 0, payload
        assert payload["data"] is None and payload["message"]
        return payload

    def seed_catalogue(self) -> None:
        self.ok("POST", "/categories/upsert/", {"name": "Electronics", "remote_id": "cat-e", "remote_parent_id": "null",
                                                "is_active": True})
        self.ok("POST", "/categories/upsert/", {"name": "Phones", "remote_id": "cat-e/p", "remote_parent_id": "cat-e",
                                                "is_active": True})
        self.ok("POST", "/brands/upsert", {"name": "Apple", "remote_id": "apple", "is_active": True})
        self.ok("POST", "/attributes/upsert", {"name": "Color", "remote_id": "color", "is_active": True})
        self.ok("POST", "/attribute-values/upsert", {"value": "Black", "remote_id": "color-black", "is_active": True,
                                                     "attribute": {"name": "Color", "remote_id": "color",
                                                                   "is_active": True}})


def product(**over: Any) -> dict[str, Any]:
    variant = {"sku": "PH-BLK", "name": "Phone black", "retail_price": 100, "price": 90, "currency": "IQD",
               "is_active": True, "supplier": {"name": "S", "remote_id": "s1"},
               "translations": [{"language": "ar", "name": "هاتف", "description": "وصف"}],
               "attributes": [{"name": "Color", "value": "Black", "remote_attribute_id": "color",
                               "remote_attribute_value_id": "color-black"}]}
    body = {"name": "Phone", "spu": "PH", "category": {"name": "Phones", "remote_id": "cat-e/p",
                                                       "parent_remote_id": "cat-e"},
            "brand": {"name": "Apple", "remote_id": "apple"}, "tax": 0, "is_active": True,
            "translations": [{"language": "ar", "name": "هاتف"}], "variants": [variant], "guarantee": 6,
            "fulfillment_day": 3}
    body.update(over)
    return body


@pytest.fixture
def api() -> Iterator[Api]:
    with create_sandbox() as server:
        yield Api(server)


def test_token_issuance_and_bearer_check(api: Api) -> None:
    assert requests.get(f"{api.base}/health-check", timeout=5).json() == {"data": {"status": "ok"}, "error_code": 0}
    bad = api.login(SANDBOX_EMAIL, "wrong")
    assert bad["error_code"] == 1403 and bad["data"] is None  # a 200 whose error_code says "no"
    for token in (None, "not-a-token"):
        resp = api.call("POST", "/brands/search", {"start": 0, "length": 5, "search": {}}, token=token)
        assert resp.status_code == 401 and resp.json()["error_code"] == 1401
    api.server.seed({"revoke_tokens": True})
    assert api.call("POST", "/brands/search", {"start": 0, "length": 5, "search": {}}).status_code == 401


def test_upserts_are_keyed_by_remote_id(api: Api) -> None:
    api.seed_catalogue()
    first = api.ok("POST", "/brands/upsert", {"name": "Apple", "remote_id": "apple", "is_active": True})
    renamed = api.ok("POST", "/brands/upsert", {"name": "Apple Inc", "remote_id": "apple", "is_active": False})
    assert renamed["id"] == first["id"] and renamed["name"] == "Apple Inc" and renamed["is_active"] is False
    assert len(api.ok("POST", "/brands/search", {"start": 0, "length": 10, "search": {}})) == 1
    child = api.ok("GET", "/categories/get/cat-e%2Fp")
    assert child["remote_parent_id"] == "cat-e" and child["parent_id"] == api.ok("GET", "/categories/get/cat-e")["id"]
    refused = api.refused("POST", "/categories/upsert/", {"name": "X", "remote_id": "x", "remote_parent_id": "nope",
                                                          "is_active": True})
    assert refused["error_code"] == 1002 and "nope" in refused["message"]
    assert api.refused("POST", "/attribute-values/upsert", {
        "value": "Red", "remote_id": "red", "is_active": True,
        "attribute": {"name": "Colour", "remote_id": "colour", "is_active": True}})["error_code"] == 1002


def test_strict_types_and_unknown_fields(api: Api) -> None:
    api.seed_catalogue()
    refused = api.refused("POST", "/brands/upsert", {"name": "A", "remote_id": "a", "is_active": "true"})
    assert refused["error_code"] == 1001 and refused["message"].startswith("is_active")
    assert "unknown field" in api.refused("POST", "/attributes/upsert", {"name": "A", "remote_id": "a",
                                                                        "is_active": True, "colour": 1})["message"]
    bad_price = product()
    bad_price["variants"][0]["price"] = "90"
    assert "variants[0].price" in api.refused("POST", "/products/upsert", bad_price)["message"]


def test_products_refuse_unknown_references(api: Api) -> None:
    api.seed_catalogue()
    for body, where in (
        (product(category={"name": "Tablets", "remote_id": "cat-e/t", "parent_remote_id": "cat-e"}), "category"),
        (product(brand={"name": "Samsung", "remote_id": "samsung"}), "brand"),
    ):
        refused = api.refused("POST", "/products/upsert", body)
        assert refused["error_code"] == 1002 and refused["message"].startswith(f"{where}.remote_id")
    unknown_value = product()
    unknown_value["variants"][0]["attributes"][0]["remote_attribute_value_id"] = "color-red"
    assert api.refused("POST", "/products/upsert", unknown_value)["error_code"] == 1002
    unknown_attr = product()
    unknown_attr["variants"][0]["attributes"][0]["remote_attribute_id"] = "size"
    assert api.refused("POST", "/products/upsert", unknown_attr)["error_code"] == 1002
    assert api.ok("POST", "/products/search", {"start": 0, "length": 10, "search": {}}) == []


def test_product_upsert_by_spu_and_variants_by_sku(api: Api) -> None:
    api.seed_catalogue()
    created = api.ok("POST", "/products/upsert", product())
    again = api.ok("POST", "/products/upsert", product(name="Phone 2"))
    assert again["id"] == created["id"] and again["name"] == "Phone 2" and len(again["variants"]) == 1
    assert again["variants"][0]["stock"] == 0  # stock comes with the price & stock update
    other = product(spu="OTHER")
    assert "belongs to product" in api.refused("POST", "/products/upsert", other)["message"]
    api.ok("GET", "/products/disable/PH")
    assert api.ok("GET", "/products/get/PH")["is_active"] is False
    assert api.refused("GET", "/products/get/NOPE")["error_code"] == 1004
    found = api.ok("POST", "/products/search", {"start": 0, "length": 5, "search": {"remote_brand_id": "apple"}})
    assert [p["spu"] for p in found] == ["PH"]


def test_price_and_stock_answer_found_and_not_found(api: Api) -> None:
    api.seed_catalogue()
    api.ok("POST", "/products/upsert", product())
    data = api.ok("POST", "/variants/price-stock", {"items": [{"sku": "PH-BLK", "stock": 4, "price": 80},
                                                              {"sku": "GHOST", "stock": 1}]})
    assert data["foundVariantsInDb"] == ["PH-BLK"] and data["notFoundVariantsInDb"] == ["GHOST"]
    assert data["updatedCount"] == 1
    variant = api.ok("GET", "/variants/get/PH-BLK")
    assert (variant["stock"], variant["price"], variant["retail_price"]) == (4, 80, 100)
    assert api.refused("POST", "/variants/price-stock", {"items": [{"sku": "PH-BLK", "stock": -1}]})[
        "error_code"] == 1001
