"""Contract tests for the Elebne sandbox: a real server on an ephemeral port, driven with plain requests."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from connector.marketplaces.elebne.sandbox import ElebneSandbox, create_sandbox
from connector.sandbox import RateLimiter

pytestmark = pytest.mark.sandbox

SECRET = "sk_test_secret0001"
OTHER_SECRET = "sk_test_secret0002"
PUBLISHABLE = "pk_test_public0001"
GENEROUS = {name: (100_000, 100_000) for name in ("read", "write", "stock", "bulk")}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


class Api:
    """A thin requests wrapper: base URL, bearer key, JSON."""

    def __init__(self, sandbox: ElebneSandbox, key: str = SECRET) -> None:
        self.sandbox = sandbox
        self.base = sandbox.api_url
        self.session = requests.Session()
        self.key = key

    def call(self, method: str, path: str, *, key: str | None = None, timeout: float = 5,
             **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {key or self.key}", **kwargs.pop("headers", {})}
        return self.session.request(method, self.base + path, headers=headers, timeout=timeout, **kwargs)

    def create(self, body: dict[str, Any], **kwargs: Any) -> requests.Response:
        return self.call("POST", "/products", json=body, **kwargs)

    def created(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.create(body)
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def product(self, ref: str) -> dict[str, Any]:
        response = self.call("GET", f"/products/{ref}")
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def bulk(self, items: list[Any]) -> requests.Response:
        return self.call("PATCH", "/inventory/bulk", json={"items": items})

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.sandbox.url}/__sandbox{path}", timeout=5, **kwargs)

    def log(self, since: int = 0) -> list[dict[str, Any]]:
        return self.admin("GET", "/requests", params={"since": since}).json()["requests"]


@pytest.fixture
def sandbox() -> Iterator[ElebneSandbox]:
    with create_sandbox(rate_limits=GENEROUS) as server:
        yield server


@pytest.fixture
def api(sandbox: ElebneSandbox) -> Api:
    return Api(sandbox)


def product(external_id: str = "THIEB-001", **fields: Any) -> dict[str, Any]:
    return {"name": "Thiéboudienne Royale", "price": 50000, "externalId": external_id, **fields}


def with_variants(external_id: str = "THIEB-001", **fields: Any) -> dict[str, Any]:
    variants = [{"label": "Normal", "quantity": 35}, {"label": "Grand", "quantity": 15}]
    return product(external_id, quantity=50, variants=variants, **fields)


def error_code(response: requests.Response) -> str:
    body = response.json()
    assert body["success"] is False
    return str(body["error"]["code"])


def variant_quantities(doc: dict[str, Any]) -> dict[str, int | None]:
    return {v["label"]: v["quantity"] for v in doc["variants"]}


# -- create ---------------------------------------------------------------------------------------------


def test_create_returns_201_and_the_product_in_the_envelope(api: Api) -> None:
    response = api.create(with_variants(description="Le plat national", status="ACTIVE"))
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert re.fullmatch(r"[0-9a-f]{24}", data["id"])
    assert ISO_UTC.fullmatch(data["createdAt"]) and ISO_UTC.fullmatch(data["updatedAt"])
    assert (data["name"], data["price"], data["externalId"]) == ("Thiéboudienne Royale", 50000, "THIEB-001")
    assert data["description"] == "Le plat national"
    assert data["quantity"] == 50
    assert all(re.fullmatch(r"[0-9a-f]{24}", v["variantId"]) for v in data["variants"])
    assert variant_quantities(data) == {"Normal": 35, "Grand": 15}
    assert "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize(("body", "field"), [
    ({"price": 100}, "name"),
    ({"name": "x"}, "price"),
    ({"name": "x", "price": "7"}, "price"),
    ({"name": "x", "price": 7.0}, "price"),
    ({"name": "x", "price": True}, "price"),
    ({"name": "x", "price": -1}, "price"),
    ({"name": "", "price": 1}, "name"),
    ({"name": 12, "price": 1}, "name"),
    ({"name": "x", "price": 1, "quantity": "3"}, "quantity"),
    ({"name": "x", "price": 1, "quantity": False}, "quantity"),
    ({"name": "x", "price": 1, "status": "active"}, "status"),
    ({"name": "x", "price": 1, "externalId": 42}, "externalId"),
    ({"name": "x", "price": 1, "images": ["not a url"]}, "images[0]"),
    ({"name": "x", "price": 1, "sku": "A"}, "sku"),
    ({"name": "x", "price": 1, "variants": [{"quantity": 1}]}, "variants[0].label"),
    ({"name": "x", "price": 1, "variants": [{"label": "M", "price": "10"}]}, "variants[0].price"),
    ({"name": "x", "price": 1, "variants": [{"label": "M"}, {"label": "m"}]}, "variants[1].label"),
])
def test_create_validates_strictly(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.create(body)
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert field in [d["field"] for d in response.json()["error"]["details"]]
    assert api.call("GET", "/products").json()["data"]["total"] == 0


def test_create_reports_every_bad_field(api: Api) -> None:
    response = api.create({"name": 1, "price": "1", "status": "GONE"})
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"name", "price", "status"}


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2", b'{"name": NaN}'])
def test_malformed_json_is_a_validation_error(api: Api, raw: bytes) -> None:
    response = api.call("POST", "/products", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_non_object_body_is_refused(api: Api) -> None:
    response = api.create([product()])  # type: ignore[arg-type]
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_duplicate_external_id_is_409(api: Api) -> None:
    api.created(product("SKU-1"))
    response = api.create(product("SKU-1", name="Other"))
    assert response.status_code == 409
    assert error_code(response) == "DUPLICATE_EXTERNAL_ID"
    assert api.call("GET", "/products").json()["data"]["total"] == 1


# -- idempotency ----------------------------------------------------------------------------------------


def test_same_idempotency_key_and_body_replays_the_first_response(api: Api) -> None:
    headers = {"X-Idempotency-Key": "create-thieb-001"}
    first = api.create(product(), headers=headers)
    # Same JSON value with keys in another order: the same request.
    second = api.create(dict(reversed(list(product().items()))), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.call("GET", "/products").json()["data"]["total"] == 1


def test_same_idempotency_key_with_another_body_is_409(api: Api) -> None:
    headers = {"X-Idempotency-Key": "k-1"}
    api.create(product(), headers=headers)
    response = api.create(product(price=1), headers=headers)
    assert response.status_code == 409
    assert error_code(response) == "IDEMPOTENCY_KEY_REUSED"
    assert api.product("THIEB-001")["price"] == 50000


def test_idempotent_replay_also_replays_a_failed_create(api: Api) -> None:
    api.created(product("SKU-1"))
    headers = {"X-Idempotency-Key": "k-dup"}
    first = api.create(product("SKU-1"), headers=headers)
    second = api.create(product("SKU-1"), headers=headers)
    assert first.status_code == second.status_code == 409
    assert second.headers["Idempotent-Replayed"] == "true"


def test_idempotency_keys_are_scoped_per_api_key(api: Api) -> None:
    headers = {"X-Idempotency-Key": "shared"}
    api.create(product("SKU-1"), headers=headers)
    response = api.create(product("SKU-2"), headers=headers, key=OTHER_SECRET)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


# -- auth -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer", "Basic sk_test_secret0001", "Bearer sk_test_short",
                                           "Bearer xk_test_secret0001", "Bearer sk_prod_secret0001"])
def test_missing_or_malformed_key_is_401(sandbox: ElebneSandbox, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = requests.get(sandbox.api_url + "/products", headers=headers, timeout=5)
    assert response.status_code == 401
    assert error_code(response) == "UNAUTHORIZED"


def test_a_key_list_accepts_only_those_keys() -> None:
    with create_sandbox(keys=[SECRET]) as sandbox:
        api = Api(sandbox)
        assert api.call("GET", "/products").status_code == 200
        response = api.call("GET", "/products", key=OTHER_SECRET)
        assert response.status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/products", product("NEW")),
    ("PATCH", "/products/THIEB-001", {"price": 1}),
    ("PATCH", "/products/THIEB-001/stock", {"quantity": 1}),
    ("PATCH", "/inventory/bulk", {"items": [{"externalId": "THIEB-001", "mode": "set", "quantity": 1}]}),
])
def test_publishable_key_cannot_write(api: Api, method: str, path: str, body: dict[str, Any]) -> None:
    api.created(product(quantity=9))
    response = api.call(method, path, json=body, key=PUBLISHABLE)
    assert response.status_code == 403
    assert error_code(response) == "FORBIDDEN"
    state = api.admin("GET", "/state").json()["products"]
    assert [(p["externalId"], p["price"], p["quantity"]) for p in state] == [("THIEB-001", 50000, 9)]


def test_publishable_key_can_read(api: Api) -> None:
    api.created(product(quantity=3))
    assert api.call("GET", "/products/THIEB-001", key=PUBLISHABLE).status_code == 200
    assert api.call("GET", "/inventory", key=PUBLISHABLE, params={"lowStock": "true"}).status_code == 200


# -- read -----------------------------------------------------------------------------------------------


def test_get_by_id_or_external_id(api: Api) -> None:
    created = api.created(product("THIEB 001/x"))
    assert api.product(created["id"]) == created
    assert api.product("THIEB%20001%2Fx") == created


def test_unknown_product_is_404(api: Api) -> None:
    for method, path, body in [("GET", "/products/NOPE", None), ("PATCH", "/products/NOPE", {"price": 1}),
                               ("PATCH", "/products/NOPE/stock", {"quantity": 1})]:
        response = api.call(method, path, json=body)
        assert response.status_code == 404, path
        assert error_code(response) == "PRODUCT_NOT_FOUND"


def test_unknown_route_and_wrong_method(api: Api) -> None:
    assert api.call("GET", "/orders/x").status_code == 404
    response = api.call("DELETE", "/inventory/bulk")
    assert response.status_code == 405
    assert error_code(response) == "METHOD_NOT_ALLOWED"


def test_list_products_pages(api: Api) -> None:
    for i in range(5):
        api.created(product(f"SKU-{i}"))
    first = api.call("GET", "/products", params={"limit": 2}).json()["data"]
    assert [p["externalId"] for p in first["items"]] == ["SKU-0", "SKU-1"]
    assert (first["total"], first["page"], first["hasMore"]) == (5, 1, True)
    last = api.call("GET", "/products", params={"limit": 2, "page": 3}).json()["data"]
    assert [p["externalId"] for p in last["items"]] == ["SKU-4"]
    assert last["hasMore"] is False
    beyond = api.call("GET", "/products", params={"limit": 2, "page": 4}).json()["data"]
    assert (beyond["items"], beyond["hasMore"]) == ([], False)


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"page": 0}, {"page": "x"}, {"limit": "-1"}])
def test_bad_paging_is_400(api: Api, params: dict[str, Any]) -> None:
    for path in ("/products", "/inventory"):
        response = api.call("GET", path, params=params)
        assert response.status_code == 400
        assert error_code(response) == "VALIDATION_ERROR"


# -- update ---------------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api: Api) -> None:
    created = api.created(with_variants(description="d"))
    time.sleep(0.002)
    response = api.call("PATCH", "/products/THIEB-001", json={"price": 45000, "description": None})
    assert response.status_code == 200
    updated = response.json()["data"]
    assert (updated["price"], updated["description"], updated["name"]) == (45000, None, created["name"])
    assert updated["variants"] == created["variants"]
    assert updated["updatedAt"] > created["updatedAt"]
    assert updated["createdAt"] == created["createdAt"]


def test_patch_merges_variants_by_label_case_insensitively(api: Api) -> None:
    created = api.created(with_variants())
    body = {"variants": [{"label": "GRAND", "price": 60000, "quantity": 4}, {"label": "Famille", "quantity": 2}]}
    updated = api.call("PATCH", "/products/THIEB-001", json=body).json()["data"]
    by_id = {v["variantId"]: v for v in updated["variants"]}
    grand = next(v for v in created["variants"] if v["label"] == "Grand")
    assert by_id[grand["variantId"]]["price"] == 60000
    assert by_id[grand["variantId"]]["quantity"] == 4
    assert len(updated["variants"]) == 3
    assert variant_quantities(updated)["Normal"] == 35
    assert variant_quantities(updated)["Famille"] == 2
    assert updated["quantity"] == 50  # the product-level quantity is the client's, never recomputed


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"price": "1"}, 400, "VALIDATION_ERROR"),
    ({"name": None}, 400, "VALIDATION_ERROR"),
    ({"status": None}, 400, "VALIDATION_ERROR"),
    ({"variants": [{"label": "a"}, {"label": "A"}]}, 400, "VALIDATION_ERROR"),
    ({"externalId": "OTHER"}, 409, "DUPLICATE_EXTERNAL_ID"),
])
def test_patch_refusals_change_nothing(api: Api, body: dict[str, Any], status: int, code: str) -> None:
    api.created(product("OTHER"))
    before = api.created(with_variants())
    response = api.call("PATCH", "/products/THIEB-001", json=body)
    assert (response.status_code, error_code(response)) == (status, code)
    assert api.product(before["id"]) == before


def test_patch_with_unchanged_values_keeps_updated_at(api: Api) -> None:
    created = api.created(product())
    updated = api.call("PATCH", "/products/THIEB-001", json={"price": 50000}).json()["data"]
    assert updated["updatedAt"] == created["updatedAt"]


# -- single stock ---------------------------------------------------------------------------------------


def test_stock_update_sets_product_and_variant_quantities(api: Api) -> None:
    api.created(with_variants())
    body = {"quantity": 7, "variants": [{"label": "normal", "quantity": 5}, {"label": "GRAND", "quantity": 0}]}
    response = api.call("PATCH", "/products/THIEB-001/stock", json=body)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["quantity"] == 7
    assert variant_quantities(data) == {"Normal": 5, "Grand": 0}
    assert api.product("THIEB-001") == data


def test_stock_update_with_unknown_variant_applies_nothing(api: Api) -> None:
    before = api.created(with_variants())
    body = {"quantity": 1, "variants": [{"label": "Normal", "quantity": 1}, {"label": "Moyen", "quantity": 1}]}
    response = api.call("PATCH", "/products/THIEB-001/stock", json=body)
    assert response.status_code == 400
    assert error_code(response) == "VARIANT_NOT_FOUND"
    assert api.product("THIEB-001") == before


def seed_ambiguous(api: Api) -> dict[str, Any]:
    """A product whose variant labels differ only by case (the API refuses to create one)."""
    body = product("AMB", quantity=3, variants=[{"label": "Normal", "quantity": 1}, {"label": "NORMAL", "quantity": 2},
                                                {"label": "Grand", "quantity": 3}])
    response = api.admin("POST", "/seed", json={"products": [body]})
    assert response.status_code == 201, response.text
    return dict(response.json()["products"][0])


def test_ambiguous_variant_label_is_refused(api: Api) -> None:
    seeded = seed_ambiguous(api)
    for label in ("Normal", "normal", "NORMAL"):
        response = api.call("PATCH", "/products/AMB/stock", json={"variants": [{"label": label, "quantity": 9}]})
        assert response.status_code == 400
        assert error_code(response) == "VARIANT_LABEL_AMBIGUOUS"
    assert api.product("AMB") == seeded
    response = api.call("PATCH", "/products/AMB/stock", json={"variants": [{"label": "grand", "quantity": 9}]})
    assert response.status_code == 200
    assert variant_quantities(response.json()["data"]) == {"Normal": 1, "NORMAL": 2, "Grand": 9}


def test_ambiguous_label_also_refused_by_product_patch_and_bulk(api: Api) -> None:
    seed_ambiguous(api)
    response = api.call("PATCH", "/products/AMB", json={"variants": [{"label": "normal", "price": 1}]})
    assert (response.status_code, error_code(response)) == (400, "VARIANT_LABEL_AMBIGUOUS")
    data = api.bulk([{"externalId": "AMB", "mode": "set", "variants": [{"label": "normal", "quantity": 1}]}])
    assert data.json()["data"]["errors"][0]["code"] == "VARIANT_LABEL_AMBIGUOUS"


@pytest.mark.parametrize("body", [
    {},
    {"quantity": "7"},
    {"quantity": -1},
    {"quantity": 1.5},
    {"variants": [{"label": "Normal"}]},
    {"variants": [{"quantity": 1}]},
    {"variants": [{"label": "Normal", "quantity": 1}, {"label": "normal", "quantity": 2}]},
    {"quantity": 1, "mode": "set"},
])
def test_stock_update_validation(api: Api, body: dict[str, Any]) -> None:
    api.created(with_variants())
    response = api.call("PATCH", "/products/THIEB-001/stock", json=body)
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


# -- bulk inventory -------------------------------------------------------------------------------------


def test_bulk_set_and_adjust_with_the_documented_response(api: Api) -> None:
    api.created(with_variants("THIEB-001"))
    api.created(product("YASSA-002", quantity=3))
    api.created(product("MAFE-003", quantity=1))
    response = api.bulk([
        {"externalId": "THIEB-001", "mode": "set", "quantity": 50,
         "variants": [{"label": "Normal", "quantity": 35}, {"label": "Grand", "quantity": 15}]},
        {"externalId": "YASSA-002", "mode": "adjust", "quantityDelta": -5},
        {"externalId": "MAFE-003", "quantityDelta": 20},  # mode defaults to adjust
    ])
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"updated": 3, "failed": 0, "errors": []}}
    assert api.product("YASSA-002")["quantity"] == 0  # clamped, not -2
    assert api.product("MAFE-003")["quantity"] == 21
    assert variant_quantities(api.product("THIEB-001")) == {"Normal": 35, "Grand": 15}


def test_bulk_partial_success_applies_the_good_items(api: Api) -> None:
    api.created(with_variants("THIEB-001"))
    api.created(product("YASSA-002", quantity=3))
    response = api.bulk([
        {"externalId": "YASSA-002", "mode": "set", "quantity": 8},
        {"externalId": "UNKNOWN-SKU", "mode": "set", "quantity": 1},
        {"externalId": "THIEB-001", "mode": "set", "quantity": 9,
         "variants": [{"label": "Normal", "quantity": 1}, {"label": "Moyen", "quantity": 1}]},
        {"externalId": "YASSA-002", "mode": "set", "quantity": -1},
        {"externalId": "YASSA-002", "mode": "set", "quantity": "4"},
        {"externalId": "YASSA-002", "mode": "set", "quantityDelta": 4},
        {"externalId": "YASSA-002", "mode": "replace", "quantity": 4},
        {"mode": "set", "quantity": 4},
        {"externalId": "YASSA-002"},
        "YASSA-002",
    ])
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["updated"], data["failed"]) == (1, 9)
    assert data["errors"][0] == {"index": 1, "externalId": "UNKNOWN-SKU", "error": "Product not found",
                                 "code": "PRODUCT_NOT_FOUND"}
    assert [e["code"] for e in data["errors"][1:]] == ["VARIANT_NOT_FOUND"] + ["VALIDATION_ERROR"] * 7
    assert [e["index"] for e in data["errors"]] == list(range(1, 10))
    assert api.product("YASSA-002")["quantity"] == 8
    thieb = api.product("THIEB-001")  # the failed item changed nothing, not even its valid variant
    assert (thieb["quantity"], variant_quantities(thieb)) == (50, {"Normal": 35, "Grand": 15})


def test_bulk_variant_mode_overrides_item_mode_and_clamps(api: Api) -> None:
    api.created(with_variants())
    response = api.bulk([{"externalId": "THIEB-001", "mode": "set", "quantity": 12, "variants": [
        {"label": "normal", "mode": "adjust", "quantityDelta": -100},
        {"label": "grand", "quantity": 12},
    ]}])
    assert response.json()["data"]["updated"] == 1
    doc = api.product("THIEB-001")
    assert (doc["quantity"], variant_quantities(doc)) == (12, {"Normal": 0, "Grand": 12})


def test_bulk_takes_200_items_and_refuses_201(api: Api) -> None:
    api.created(product("SKU-0", quantity=1))
    items = [{"externalId": f"SKU-{i}", "mode": "set", "quantity": 5} for i in range(201)]
    response = api.bulk(items)
    assert response.status_code == 400
    assert error_code(response) == "TOO_MANY_ITEMS"
    assert api.product("SKU-0")["quantity"] == 1  # nothing applied
    response = api.bulk(items[:200])
    assert response.status_code == 200
    assert (response.json()["data"]["updated"], response.json()["data"]["failed"]) == (1, 199)
    assert api.product("SKU-0")["quantity"] == 5


@pytest.mark.parametrize("body", [{}, {"items": {}}, {"items": "x"}, {"items": [], "mode": "set"}])
def test_bulk_body_must_carry_an_items_array(api: Api, body: dict[str, Any]) -> None:
    response = api.call("PATCH", "/inventory/bulk", json=body)
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


# -- inventory listing ----------------------------------------------------------------------------------


def test_inventory_lists_tracked_products_and_flags_low_stock(api: Api) -> None:
    api.created(product("UNTRACKED"))
    api.created(with_variants("THIEB-001"))
    api.created(product("LOW", quantity=4))
    api.created(product("AT-THRESHOLD", quantity=5))
    api.created(product("CUSTOM", quantity=8, lowStockThreshold=10))
    data = api.call("GET", "/inventory").json()["data"]
    assert [i["externalId"] for i in data["items"]] == ["THIEB-001", "LOW", "AT-THRESHOLD", "CUSTOM"]
    assert data["total"] == 4
    low = {i["externalId"]: i["isLowStock"] for i in data["items"]}
    assert low == {"THIEB-001": False, "LOW": True, "AT-THRESHOLD": False, "CUSTOM": True}
    thieb = data["items"][0]
    assert set(thieb) == {"productId", "externalId", "name", "quantity", "lowStockThreshold", "isLowStock",
                          "variants"}
    assert [set(v) for v in thieb["variants"]] == [{"variantId", "label", "quantity"}] * 2
    only_low = api.call("GET", "/inventory", params={"lowStock": "true"}).json()["data"]
    assert [i["externalId"] for i in only_low["items"]] == ["LOW", "CUSTOM"]
    assert (only_low["total"], only_low["hasMore"]) == (2, False)
    assert api.call("GET", "/inventory", params={"lowStock": "yes"}).status_code == 400


def test_inventory_pages(api: Api) -> None:
    for i in range(4):
        api.created(product(f"SKU-{i}", quantity=i))
    page = api.call("GET", "/inventory", params={"limit": 2, "page": 1}).json()["data"]
    assert (len(page["items"]), page["total"], page["hasMore"]) == (2, 4, True)
    page = api.call("GET", "/inventory", params={"limit": 2, "page": 2}).json()["data"]
    assert [i["externalId"] for i in page["items"]] == ["SKU-2", "SKU-3"]
    assert page["hasMore"] is False  # a full last page has no more


# -- rate limits ----------------------------------------------------------------------------------------


def test_per_ip_window_gives_429_with_retry_after_then_frees() -> None:
    with create_sandbox(rate_limits={"read": (2, 1000)}, window_seconds=0.5) as sandbox:
        api = Api(sandbox)
        assert [api.call("GET", "/products").status_code for _ in range(2)] == [200, 200]
        refused = api.call("GET", "/products", key=OTHER_SECRET)  # per IP: another key does not help
        assert refused.status_code == 429
        assert error_code(refused) == "RATE_LIMITED"
        assert refused.headers["Retry-After"] == "1"  # integer seconds, at least 1
        assert api.create(product()).status_code == 201  # other classes have their own budget
        time.sleep(0.55)
        assert api.call("GET", "/products").status_code == 200


def test_per_key_daily_budget() -> None:
    with create_sandbox(rate_limits={"write": (1000, 3)}) as sandbox:
        api = Api(sandbox)
        assert [api.create(product(f"SKU-{i}")).status_code for i in range(3)] == [201] * 3
        refused = api.create(product("SKU-3"))
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 86_400
        assert api.call("PATCH", "/products/SKU-0", json={"price": 1}).status_code == 429  # updates share it
        assert api.create(product("SKU-3"), key=OTHER_SECRET).status_code == 201  # per key
        assert api.call("GET", "/products").json()["data"]["total"] == 4


class FakeClock:
    def __init__(self) -> None:
        self.seconds = 1000.0
        self.day = datetime(2024, 4, 7, 23, 59, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return self.day


def test_rate_limiter_window_slides_and_refusals_are_not_counted() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"read": (2, 1000)}, window_seconds=60, clock=clock.monotonic, now=clock.now)
    assert limiter.acquire("read", "ip", "k") is None
    clock.seconds += 30
    assert limiter.acquire("read", "ip", "k") is None
    clock.seconds += 10
    refusals = [limiter.acquire("read", "ip", "k") for _ in range(5)]
    assert [(r.scope, r.retry_after) for r in refusals if r] == [("window", 20)] * 5  # first one leaves at 60
    assert limiter.acquire("read", "other-ip", "k") is None
    assert limiter.acquire("write", "ip", "k") is None  # no limit configured for the class
    clock.seconds += 20.5
    assert limiter.acquire("read", "ip", "k") is None  # refusals took no slot
    refusal = limiter.acquire("read", "ip", "k")
    assert refusal is not None and refusal.retry_after == 30  # ceil(1030 + 60 - 1060.5)


def test_rate_limiter_day_budget_resets_at_utc_midnight() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"write": (100, 2)}, clock=clock.monotonic, now=clock.now)
    assert [limiter.acquire("write", "ip", "k") for _ in range(2)] == [None, None]
    refusal = limiter.acquire("write", "ip2", "k")
    assert refusal is not None and (refusal.scope, refusal.retry_after) == ("day", 60)
    assert limiter.acquire("write", "ip", "other-key") is None
    clock.day += timedelta(minutes=1)
    assert limiter.acquire("write", "ip", "k") is None


# -- faults ---------------------------------------------------------------------------------------------


def test_status_fault_answers_without_touching_state(api: Api) -> None:
    api.created(product(quantity=1))
    fault = {"method": "PATCH", "path": r"/stock$", "kind": "status", "status": 503, "retry_after": 2,
             "count": 2}
    assert api.admin("POST", "/faults", json=fault).status_code == 201
    assert api.call("GET", "/products/THIEB-001").status_code == 200  # GET does not match
    for _ in range(2):
        response = api.call("PATCH", "/products/THIEB-001/stock", json={"quantity": 9})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert error_code(response) == "SERVICE_UNAVAILABLE"
    assert api.product("THIEB-001")["quantity"] == 1
    assert api.call("PATCH", "/products/THIEB-001/stock", json={"quantity": 9}).status_code == 200
    assert api.product("THIEB-001")["quantity"] == 9


def test_status_fault_with_a_custom_body(api: Api) -> None:
    body = {"success": False, "error": {"code": "RATE_LIMITED", "message": "slow down"}}
    api.admin("POST", "/faults", json={"path": "/products", "status": 429, "body": body})
    response = api.create(product())
    assert (response.status_code, response.json()) == (429, body)
    assert "Retry-After" not in response.headers
    assert api.create(product()).status_code == 201


def test_drop_fault_closes_the_connection(api: Api) -> None:
    api.admin("POST", "/faults", json={"method": "POST", "path": "/products$", "kind": "drop"})
    with pytest.raises(requests.ConnectionError):
        requests.post(api.base + "/products", json=product(), headers={"Authorization": f"Bearer {SECRET}"},
                      timeout=5)
    assert api.call("GET", "/products").json()["data"]["total"] == 0
    entry = api.log()[0]
    assert (entry["method"], entry["status"], entry["fault"]) == ("POST", None, "drop")
    assert api.create(product()).status_code == 201


def test_delay_fault_times_the_client_out_but_the_create_still_happens(api: Api) -> None:
    api.admin("POST", "/faults", json={"path": "/products$", "kind": "delay", "delay": 0.5})
    headers = {"X-Idempotency-Key": "slow-create"}
    with pytest.raises(requests.Timeout):
        api.create(product(), headers=headers, timeout=0.15)
    time.sleep(0.5)
    retry = api.create(product(), headers=headers)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert api.call("GET", "/products").json()["data"]["total"] == 1


@pytest.mark.parametrize("fault", [{"kind": "explode"}, {"kind": "status"}, {"kind": "status", "status": 99},
                                   {"kind": "drop", "count": 0}, {"kind": "delay", "delay": -1},
                                   {"kind": "drop", "path": "("}, {"kind": "drop", "colour": "red"}])
def test_invalid_fault_specs_are_refused(api: Api, fault: dict[str, Any]) -> None:
    assert api.admin("POST", "/faults", json=fault).status_code == 400
    assert api.admin("GET", "/faults").json()["faults"] == []


def test_faults_can_be_listed_and_cleared(api: Api) -> None:
    api.admin("POST", "/faults", json=[{"kind": "drop"}, {"kind": "status", "status": 500, "count": 3}])
    pending = api.admin("GET", "/faults").json()["faults"]
    assert [(f["kind"], f["count"]) for f in pending] == [("drop", 1), ("status", 3)]
    api.admin("DELETE", "/faults")
    assert api.call("GET", "/products").status_code == 200


# -- admin: log, state, reset ---------------------------------------------------------------------------


def test_request_log_counts_what_the_client_sent(api: Api) -> None:
    api.create(product("A"), headers={"X-Idempotency-Key": "key-a"})
    api.create(product("B"))
    api.call("GET", "/products")
    api.call("PATCH", "/products/A/stock", json={"quantity": 1})
    api.admin("GET", "/state")  # admin calls are not logged
    log = api.log()
    assert [(e["method"], e["status"], e["op_class"]) for e in log] == [
        ("POST", 201, "write"), ("POST", 201, "write"), ("GET", 200, "read"), ("PATCH", 200, "stock")]
    assert log[0]["idempotency_key"] == "key-a" and log[1]["idempotency_key"] is None
    assert log[0]["path"] == "/api/v1/dev/store/products"
    assert log[0]["body_size"] > 0 and log[2]["body_size"] == 0
    assert ISO_UTC.fullmatch(log[0]["timestamp"])
    assert [e["method"] for e in api.log(since=log[1]["id"])] == ["GET", "PATCH"]
    assert api.admin("GET", "/requests", params={"since": "x"}).status_code == 400


def test_refusals_are_logged_too(api: Api) -> None:
    api.create(product(), key=PUBLISHABLE)
    api.create({"name": "x"})
    assert [e["status"] for e in api.log()] == [403, 400]


def test_state_dump_and_reset(api: Api) -> None:
    api.created(product("A"))
    api.create(product("B"), headers={"X-Idempotency-Key": "k"})
    api.admin("POST", "/faults", json={"kind": "drop"})
    state = api.admin("GET", "/state").json()
    assert [p["externalId"] for p in state["products"]] == ["A", "B"]
    assert [k["key"] for k in state["idempotencyKeys"]] == ["k"]
    assert state["rate_limit_usage"]["write"] == {"sk_test_se…": 2}
    assert api.admin("POST", "/reset").json() == {"reset": True}
    state = api.admin("GET", "/state").json()
    assert (state["products"], state["idempotencyKeys"], state["rate_limit_usage"]) == ([], [], {})
    assert api.log() == []
    assert api.admin("GET", "/faults").json()["faults"] == []
    # The idempotency key is forgotten: the same key now creates again.
    response = api.create(product("B"), headers={"X-Idempotency-Key": "k"})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers


def test_state_survives_a_restart_with_a_db_file(tmp_path: Any) -> None:
    db = str(tmp_path / "elebne.sqlite")
    with create_sandbox(db_path=db) as sandbox:
        Api(sandbox).created(product())
    with create_sandbox(db_path=db) as sandbox:
        assert Api(sandbox).product("THIEB-001")["price"] == 50000


def test_many_requests_over_one_connection(api: Api) -> None:
    """300 requests on one keep-alive connection all succeed and the last write wins (speed is measured by
    ``make bench``, never asserted here)."""
    api.created(product(quantity=1))
    for i in range(300):
        assert api.call("PATCH", "/products/THIEB-001/stock", json={"quantity": i}).status_code == 200
    assert api.product("THIEB-001")["quantity"] == 299
