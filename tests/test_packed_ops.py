"""A real run's create and stock ops hold their payload packed (``ops.PackedOp``) until something reads it: read
back, it is the planned payload exactly, and letting go of it never unpacks it."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.model import Product
from connector.sync.ops import RELEASED, PackedOp, PlannedOp, packed, release, released


def _op(payload: Any, action: str = "create") -> PlannedOp:
    return PlannedOp(action, "product", "A", payload, payload, "", "h", Product(key="A"))


def _shape(value: Any) -> Any:
    """The value with the type of every part of it spelled out (``==`` says 1 == 1.0 == True, -0.0 == 0.0)."""
    if isinstance(value, dict):
        return ("dict", [(_shape(k), _shape(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_shape(v) for v in value])
    if isinstance(value, float):
        return ("float", value.hex() if not math.isnan(value) else "nan")
    return (type(value).__name__, repr(value))


def _random_payload(rng: random.Random, depth: int = 0) -> Any:
    scalars = [0, 1, -1, True, False, None, 0.0, -0.0, 1.5, float("nan"), float("inf"), 2**70, -(2**65), "",
               "é", "a\x00b", "Boîte <b>", "١٢٣", "x" * rng.randint(0, 600)]
    if depth > 3 or rng.random() < 0.4:
        return rng.choice(scalars)
    kind = rng.choice(["dict", "list", "tuple"])
    items = [_random_payload(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    if kind == "dict":
        keys = [rng.choice(["b", "a", "name", "price", "é", "variants", 3, 7, 0.5, None, True]) for _ in items]
        return dict(zip(keys, items, strict=True))
    return items if kind == "list" else tuple(items)


def test_a_packed_payload_reads_back_as_the_planned_one_exactly_types_order_and_sharing() -> None:
    rng = random.Random(16)
    for _ in range(3000):
        payload = {"externalId": "A", "x": _random_payload(rng)}
        op = packed(_op(payload))
        assert type(op) is PackedOp
        got = op.payload
        assert _shape(got) == _shape(payload) and list(got) == list(payload)
        assert op.body is got  # body and payload are one dict, as planned
    shared = [1, 2]
    op = packed(_op({"a": shared, "b": shared}))
    assert op.body["a"] is op.body["b"]


@pytest.mark.parametrize("value", [Decimal("1.0"), {"a"}, frozenset({"a"}), bytearray(b"x"), b"x",
                                   type("Text", (str,), {})("x"), type("Count", (int,), {})(1), object()])
def test_a_payload_marshal_would_not_give_back_exactly_stays_a_plain_op(value: Any) -> None:
    op = _op({"a": [{"b": value}]})
    assert packed(op) is op


def test_letting_go_of_a_packed_op_never_unpacks_it_and_a_change_to_its_payload_stays() -> None:
    op = packed(_op({"name": "a", "variants": []}))
    slot = PlannedOp.__dict__["payload"]
    assert not released(op) and type(slot.__get__(op)) is bytes  # told without unpacking
    release(op)
    assert released(op) and op.payload is RELEASED and op.body is RELEASED

    op = packed(_op({"name": "a", "variants": []}, action="stock"))
    op.payload.setdefault("variants", []).append({"sku": "B"})  # the missing policy adds children in place
    assert op.body == {"name": "a", "variants": [{"sku": "B"}]} and op.body is op.payload
    op.body = {"quantity": 1}
    assert op.body == {"quantity": 1} and op.payload["variants"] == [{"sku": "B"}]


def test_a_real_plan_packs_its_creates_and_stock_and_is_the_same_plan_read_back(tmp_path: Path) -> None:
    from connector.mapping import load_mapping, shipped_mapping
    from connector.marketplaces.elebne.adapter import ElebneAdapter
    from connector.sync.plan import build_plan
    from connector.sync.state import StateStore
    from tests.test_whole_run_costs import catalogue

    mapping = load_mapping(shipped_mapping("elebne"))
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    products = catalogue(40)
    with StateStore.open(tmp_path / "state.sqlite") as state:
        plain = build_plan(products, mapping, adapter, state, "elebne", "shop", keep_texts=False)
        packed_plan = build_plan(products, mapping, adapter, state, "elebne", "shop", keep_texts=False, pack=True)
    assert {op.action for op in packed_plan.ops} == {"create", "stock"}
    assert all(type(op) is PackedOp for op in packed_plan.ops)
    assert [(op.action, op.kind, op.key, _shape(op.body), _shape(op.payload), op.digest, op.record)
            for op in packed_plan.ops] == \
        [(op.action, op.kind, op.key, _shape(op.body), _shape(op.payload), op.digest, op.record)
         for op in plain.ops]


def test_elebne_checks_stock_ops_as_their_batch_fills_and_sends_the_same_batches(tmp_path: Path) -> None:
    """Each bulk request holds ``bulk_max_items`` valid ops, in order, invalid ones failed on the way; an op's packed
    payload is still packed when the batches before it go."""
    from connector.marketplaces.elebne.adapter import ElebneAdapter
    from connector.marketplaces.elebne.client import BulkResult
    from connector.sync.plan import Plan
    from connector.sync.push import PushEngine
    from connector.sync.state import StateStore

    quantities = [1, 2, -1, 3, 4, "x", 5]
    ops = [packed(PlannedOp("stock", "stock", f"K{i}", body, body, "", f"h{i}", Product(key=f"K{i}")))
           for i, q in enumerate(quantities) for body in [{"externalId": f"K{i}", "mode": "set", "quantity": q}]]
    slot = PlannedOp.__dict__["payload"]
    sent: list[tuple[list[str], list[str]]] = []  # (the batch's keys, the keys still packed then)

    class Client:
        def bulk_inventory(self, items: list[dict[str, Any]]) -> BulkResult:
            sent.append(([i["externalId"] for i in items],
                         [op.key for op in ops if type(slot.__get__(op)) is bytes]))
            return BulkResult(updated=len(items), failed=0)

    adapter = ElebneAdapter(client=Client(), account="shop", bulk_max_items=2)  # type: ignore[arg-type]
    with StateStore.open(tmp_path / "state.sqlite") as state:
        results = PushEngine(Plan("elebne", "shop", ops=ops), adapter, state, "run").run()
    assert [keys for keys, _packed in sent] == [["K0", "K1"], ["K3", "K4"], ["K6"]]
    assert sent[0][1] == ["K2", "K3", "K4", "K5", "K6"]  # read only as their batch fills
    assert {key for (_kind, key), r in results.items() if not r.ok} == {"K2", "K5"}
    assert all(r.ok for (_kind, key), r in results.items() if key not in ("K2", "K5"))


def test_the_push_gives_freed_memory_back_every_so_many_confirmed_ops(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import connector.sync.push as push
    from connector.sync.ops import AdapterBase, ItemResult
    from connector.sync.plan import Plan
    from connector.sync.state import StateStore

    calls: list[int] = []
    monkeypatch.setattr(push, "GIVE_BACK_EVERY", 3)
    monkeypatch.setattr(push, "release_freed_memory", lambda: calls.append(len(calls)))
    ops = [packed(_op({"name": f"n{i}"})) for i in range(7)]

    class Adapter(AdapterBase):
        def __init__(self) -> None:
            self.roles = {"product": "catalogue"}

        def push(self, ops: list[PlannedOp], sink: Any) -> None:
            for op in ops:  # one op a request; the fourth refused (not let go of: not counted)
                sink.done(sink.sending("create", [op]), [ItemResult(op, ok=op is not ops[3], message="no")])

    with StateStore.open(tmp_path / "state.sqlite") as state:
        push.PushEngine(Plan("elebne", "shop", ops=ops), Adapter(), state, "run").run()
    assert len(calls) == 2  # after the 3rd and the 6th op let go of
    assert not released(ops[3]) and all(released(op) for op in ops if op is not ops[3])


def test_the_check_of_creates_without_their_stock_reads_packed_stock_ops_without_unpacking_them() -> None:
    """Elebne holds a create whose stock op would be refused (``AdapterBase.held_without_stock``): it validates every
    stock op of a product being created before the push begins.  Read in place, a packed op would keep its payload
    unpacked until sent (38 MB more at the peak of a first sync of 100,000 products); read once, it stays packed,
    and a refused one is still found."""
    from connector.marketplaces.elebne.adapter import ElebneAdapter

    adapter = ElebneAdapter(None, account="shop")  # type: ignore[arg-type]  # never sends here
    product = Product(key="A")
    create = PlannedOp("create", "product", "A", {"externalId": "A"}, {"externalId": "A"}, "", "h", product)
    good = packed(PlannedOp("stock", "stock", "A", {"externalId": "A", "mode": "set", "quantity": 3},
                            {"externalId": "A", "mode": "set", "quantity": 3}, "", "h", product))
    assert adapter.held_without_stock([create, good]) == {}
    assert type(good) is PackedOp and type(PlannedOp.__dict__["payload"].__get__(good)) is bytes  # still packed
    bad = packed(PlannedOp("stock", "stock", "A", {"externalId": "A", "mode": "set", "quantity": -7},
                           {"externalId": "A", "mode": "set", "quantity": -7}, "", "h", product))
    assert "its stock cannot be sent" in adapter.held_without_stock([create, bad])["A"].message
    assert type(PlannedOp.__dict__["payload"].__get__(bad)) is bytes
