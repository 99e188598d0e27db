"""Unit tests of what every sandbox shares: checks, the record store, idempotency keys, paging, the status
machine, the rate limiter's windows per key, and the server turning a ``Rejected`` into the sandbox's envelope."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connector.sandbox import Request, Response, SandboxServer
from connector.sandbox.paging import decode_cursor, encode_cursor, has_more, offset_slice, page_params, page_slice
from connector.sandbox.ratelimit import Limit, RateLimiter, Window
from connector.sandbox.records import Collection, IdempotencyKeys, KeyReusedError, RecordStore
from connector.sandbox.states import StatusMachine
from connector.sandbox.store import SandboxStore
from connector.sandbox.validation import (
    MAX_INT,
    Problems,
    Rejected,
    check_boolean,
    check_integer,
    check_number,
    check_object,
    check_string,
    json_type,
    object_items,
)

pytestmark = pytest.mark.sandbox

ITEMS = Collection("things", columns={"sku": "sku", "shelf": ""}, unique=("sku",), indexes=("shelf",))


# -- checks -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "message"), [
    ("7", "must be an integer, got string"),
    (7.0, "must be an integer, got number"),
    (True, "must be an integer, got boolean"),
    (-1, f"must be between 0 and {MAX_INT}"),
    (MAX_INT + 1, f"must be between 0 and {MAX_INT}"),
])
def test_integer_checks_are_strict(value: Any, message: str) -> None:
    problems = Problems()
    check_integer(problems, "price", value)
    assert problems.details == [{"field": "price", "message": message}]


def test_problems_collect_every_field_then_raise_one_rejection() -> None:
    problems = Problems("VALIDATION_ERROR")
    check_integer(problems, "quantity", None)  # None is fine unless if_none says otherwise
    check_integer(problems, "price", None, if_none="must not be null")
    check_string(problems, "name", "  ", non_empty=True)
    check_boolean(problems, "active", "yes")
    check_number(problems, "weight", -0.5)
    with pytest.raises(Rejected) as refused:
        problems.raise_if_any()
    assert refused.value.code == "VALIDATION_ERROR" and refused.value.message is None
    assert [d["field"] for d in refused.value.details] == ["price", "name", "active", "weight"]
    assert refused.value.first() == "price: must not be null"
    assert refused.value.first(" ") == "price must not be null"
    assert [d["message"] for d in refused.value.details[1:]] == [
        "must not be empty", "must be a boolean, got string", "must not be negative"]
    Problems().raise_if_any()  # nothing wrong: nothing raised


def test_string_lengths_and_message_override() -> None:
    problems = Problems()
    check_string(problems, "awb", "", min_length=1, message="must be a non-empty string")
    check_string(problems, "awb", " ", min_length=1, message="must be a non-empty string")  # a blank is a character
    check_string(problems, "key", "x" * 4, max_length=3)
    check_number(problems, "price", float("inf"), finite=True)
    assert problems.details == [{"field": "awb", "message": "must be a non-empty string"},
                                {"field": "key", "message": "must be at most 3 characters"},
                                {"field": "price", "message": "must be a number, got number"}]


def test_objects_and_arrays_of_objects() -> None:
    problems = Problems(1001, integers="number")
    assert json_type(3, integers="number") == "number" and json_type(3) == "integer"
    body = check_object(problems, "", {"name": "a", "colour": 1}, ("name",))
    assert body == {"name": "a", "colour": 1} and problems.details == [{"field": "colour", "message": "unknown field"}]
    with pytest.raises(Rejected) as refused:
        check_object(problems, "supplier.", [1], ("name",))  # cannot look inside: stops at once
    assert refused.value.code == 1001 and refused.value.details[-1] == {
        "field": "supplier", "message": "must be an object, got array"}
    problems = Problems()
    assert object_items(problems, "variants", [{"a": 1}, 2]) == [("variants[0]", {"a": 1})]
    assert problems.details == [{"field": "variants[1]", "message": "must be an object, got integer"}]


# -- record store -----------------------------------------------------------------------------------------


@pytest.fixture
def records() -> RecordStore:
    return RecordStore(SandboxStore(), ITEMS)


def test_records_keep_insertion_order_and_their_place_on_update(records: RecordStore) -> None:
    for i in range(5):
        records.insert(ITEMS, {"id": f"id-{i}", "sku": f"SKU-{i}"}, shelf=i % 2)
    records.put(ITEMS, {"id": "id-1", "sku": "SKU-1", "name": "renamed"})
    assert [d["id"] for d in records.find(ITEMS)] == [f"id-{i}" for i in range(5)]
    assert records.get(ITEMS, "id-1") == {"id": "id-1", "sku": "SKU-1", "name": "renamed"}
    assert [d["id"] for d in records.find(ITEMS, "shelf = ?", (1,))] == ["id-1", "id-3"]  # column kept by put
    assert records.first(ITEMS, "sku = ?", ("SKU-4",)) == {"id": "id-4", "sku": "SKU-4"}
    assert records.count(ITEMS) == 5 and records.exists(ITEMS, "sku = ?", ("SKU-2",))
    assert records.find_rows(ITEMS, "shelf = 0", columns=("sku",), with_doc=False) == [
        ("SKU-0",), ("SKU-2",), ("SKU-4",)]
    assert records.delete(ITEMS, "id-2") and not records.delete(ITEMS, "id-2")
    with pytest.raises(Exception, match="UNIQUE"):
        records.insert(ITEMS, {"id": "other", "sku": "SKU-0"})


def test_record_pages_and_keyset(records: RecordStore) -> None:
    for i in range(5):
        records.insert(ITEMS, {"id": f"id-{i}", "sku": f"SKU-{i}"})
    docs, total = records.page(ITEMS, 2, 2)
    assert [d["id"] for d in docs] == ["id-2", "id-3"] and total == 5
    first, more = records.after(ITEMS, 0, 3)
    assert [d["id"] for _seq, d in first] == ["id-0", "id-1", "id-2"] and more is True
    rest, more = records.after(ITEMS, first[-1][0], 3)
    assert [d["id"] for _seq, d in rest] == ["id-3", "id-4"] and more is False


def test_a_transaction_is_all_or_nothing(records: RecordStore) -> None:
    with pytest.raises(RuntimeError), records.transaction():
        records.insert(ITEMS, {"id": "a", "sku": "A"})
        raise RuntimeError("refused half-way")
    assert records.count(ITEMS) == 0


def test_records_survive_in_a_file_and_reset_empties_them(tmp_path) -> None:
    path = str(tmp_path / "state.sqlite")
    store = SandboxStore(path)
    RecordStore(store, ITEMS).insert(ITEMS, {"id": "a", "sku": "A"})
    store.close()
    store = SandboxStore(path)
    records = RecordStore(store, ITEMS)
    assert records.get(ITEMS, "a") == {"id": "a", "sku": "A"}
    store.reset()
    assert records.count(ITEMS) == 0


def test_idempotency_keys_replay_the_same_body_and_refuse_another() -> None:
    keys = IdempotencyKeys(SandboxStore())
    assert keys.replay("sk_1", "k", {"a": 1, "b": 2}) is None
    keys.remember("sk_1", "k", {"a": 1, "b": 2}, 201, b'{"ok":true}')
    replay = keys.replay("sk_1", "k", {"b": 2, "a": 1})  # same JSON value, other key order
    assert replay is not None and (replay.status, replay.body) == (201, b'{"ok":true}')
    with pytest.raises(KeyReusedError):
        keys.replay("sk_1", "k", {"a": 2})
    assert keys.replay("sk_2", "k", {"a": 2}) is None  # scoped per API key
    assert [k["key"] for k in keys.listing()] == ["k"]
    assert "sk_1" not in repr(keys.store.query("SELECT * FROM sandbox_idempotency")[0].keys())


# -- paging -----------------------------------------------------------------------------------------------


def test_page_params_defaults_and_refusals() -> None:
    query = {"page": "2"}.get
    assert page_params(query, Problems(), default_limit=20, max_limit=100) == (2, 20)
    with pytest.raises(Rejected) as refused:
        page_params({"page": "0", "limit": "101"}.get, Problems("bad_request"), default_limit=20, max_limit=100)
    assert [d["field"] for d in refused.value.details] == ["page", "limit"]
    assert refused.value.first(" ") == f"page must be an integer between 1 and {MAX_INT}"


def test_slices_and_cursors() -> None:
    items = list(range(7))
    assert list(page_slice(items, 3, 3)) == [6] and has_more(2, 3, 3, 7) and not has_more(3, 3, 1, 7)
    assert list(offset_slice(items, 5, 0)) == [5, 6] and list(offset_slice(items, 1, 2)) == [1, 2]
    cursor = encode_cursor({"last_id": 41, "q": "abc"})
    assert "=" not in cursor and decode_cursor(cursor) == {"last_id": 41, "q": "abc"}
    for garbage in ("garbage!", encode_cursor([1, 2]).rstrip("="), "%%%"):  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            decode_cursor(garbage)


# -- status machine ---------------------------------------------------------------------------------------


def test_status_machine_allows_the_documented_moves_and_refuses_the_rest() -> None:
    orders = StatusMachine({"ready": ["shipped", "cancelled"], "shipped": ["delivered"]}, code="conflict")
    assert orders.states == {"ready", "shipped", "cancelled", "delivered"}
    assert orders.targets("ready") == {"shipped", "cancelled"} and orders.is_final("delivered")
    order = {"id": "ord_1", "status": "ready"}
    assert orders.move(order, "shipped", subject="Order ord_1") is True and order["status"] == "shipped"
    assert orders.move(order, "shipped") is False  # a retried request changes nothing
    with pytest.raises(Rejected) as refused:
        orders.move(order, "cancelled", subject="Order ord_1")
    assert (refused.value.code, refused.value.message) == (
        "conflict", "Order ord_1 is shipped: it cannot become cancelled")
    assert order["status"] == "shipped"
    assert not orders.allows("ready", "teleported") and not orders.allows(None, "ready")  # type: ignore[arg-type]
    strict = StatusMachine({"Pending": ["Ready"]}, code=1001, refusal="line {subject} is {current}",
                           same_state_ok=False)
    with pytest.raises(Rejected) as again:
        strict.check("Ready", "Ready", "7")
    assert (again.value.code, again.value.first()) == (1001, "line 7 is Ready")


# -- rate limiter: windows per key ------------------------------------------------------------------------


def test_windows_per_key_of_two_lengths() -> None:
    clock = [100.0]
    limiter = RateLimiter({"scale": Limit(None, None, (Window(2, 1.0), Window(3, 60.0)))},
                          windows_per="key", clock=lambda: clock[0])
    assert [limiter.acquire("scale", "ip-a", "k1") for _ in range(2)] == [None, None]
    refusal = limiter.acquire("scale", "ip-b", "k1")  # another IP, same key: still refused
    assert refusal is not None and (refusal.scope, refusal.limit, refusal.retry_after) == ("window", 2, 1)
    assert limiter.acquire("scale", "ip-a", "k2") is None  # another key has its own windows
    clock[0] += 1.0
    assert limiter.acquire("scale", "ip-a", "k1") is None
    minute = limiter.acquire("scale", "ip-a", "k1")  # 3 in the minute now: refused until the first leaves it
    assert minute is not None and (minute.limit, minute.retry_after) == (3, 59)
    assert limiter.refused == 2
    assert limiter.acquire("pro", "ip-a", "k1") is None  # no limit for that class
    limiter.reset()
    assert limiter.refused == 0 and limiter.acquire("scale", "ip-a", "k1") is None


# -- the server turns a refusal into the sandbox's envelope -------------------------------------------------


class TinySandbox(SandboxServer):
    name = "tiny"

    def register_routes(self) -> None:
        self.add_route("GET", "/things", self.refuse)

    def refuse(self, request: Request) -> Response:
        problems = Problems("BAD")
        check_integer(problems, "limit", request.query_value("limit"))
        problems.raise_if_any()
        return Response(200, {"ok": True})


class TeapotSandbox(TinySandbox):
    def rejected_response(self, rejected: Rejected) -> Response:
        return Response(418, {"teapot": rejected.first(" "), "errors": rejected.details})


def test_a_rejection_becomes_each_sandboxs_own_error() -> None:
    with TinySandbox() as plain, TeapotSandbox() as teapot:
        default = requests.get(plain.url + "/things?limit=x", timeout=5)
        assert (default.status_code, default.json()) == (
            400, {"error": {"code": "BAD", "message": "limit: must be an integer, got string"}})
        own = requests.get(teapot.url + "/things?limit=x", timeout=5)
        assert own.status_code == 418 and own.json()["teapot"] == "limit must be an integer, got string"
        assert requests.get(plain.url + "/things", timeout=5).json() == {"ok": True}
