"""What a run lets go of once its push (or dry-run preview) is over."""

from __future__ import annotations

from pathlib import Path


def test_once_sent_an_op_lets_go_of_its_payload_but_not_of_what_the_report_and_printed_plan_read() -> None:
    from connector.model import Product
    from connector.sync.ops import INVALID_PAYLOAD, ItemResult, PlannedOp
    from connector.sync.plan import Plan
    from connector.sync.runner import RELEASED, release_sent

    record = Product(key="A")
    create = PlannedOp("create", "product", "A", {"name": "a"}, {"name": "a"}, '{"name":"a"}', "h1", record)
    update = PlannedOp("update", "product", "B", {"name": "b"}, {"name": "b", "x": 1}, "{}", "h2", record)
    stock = PlannedOp("stock", "stock", "A", {"quantity": 1}, {"quantity": 1}, "{}", "h3", record)
    invalid = PlannedOp("create", "product", "C", {"name": ""}, {"name": ""}, '{"name":""}', "h4", record)
    plan = Plan("elebne", "shop", ops=[create, update, stock, invalid])
    results = {("product", "A"): ItemResult(create, ok=True), ("stock", "A"): ItemResult(stock, ok=False),
               ("product", "C"): ItemResult(invalid, ok=False, code=INVALID_PAYLOAD, message="no name")}
    release_sent(plan, results, INVALID_PAYLOAD)
    assert create.payload is RELEASED and create.body is RELEASED and create.canonical == ""
    assert stock.payload is RELEASED and stock.body is RELEASED
    assert update.body == {"name": "b"} and update.payload is RELEASED  # its changed fields are printed
    assert invalid.payload == {"name": ""} and invalid.canonical == '{"name":""}'  # its problems are reported
    assert [op.digest for op in plan.ops] == ["h1", "h2", "h3", "h4"] and RELEASED == {}


def test_the_push_lets_go_of_an_op_once_it_is_confirmed_and_keeps_the_others(tmp_path: Path) -> None:
    from connector.model import Product
    from connector.sync.ops import INVALID_PAYLOAD, RELEASED, AdapterBase, ItemResult, PlannedOp
    from connector.sync.plan import Plan
    from connector.sync.push import PushEngine
    from connector.sync.state import StateStore

    record = Product(key="A")
    first = PlannedOp("create", "product", "A", {"name": "a"}, {"name": "a"}, '{"name":"a"}', "h1", record)
    update = PlannedOp("update", "product", "B", {"name": "b"}, {"name": "b", "x": 1}, '{"name":"b","x":1}', "h2",
                       record)
    refused = PlannedOp("create", "product", "C", {"name": ""}, {"name": ""}, '{"name":""}', "h3", record)
    later = PlannedOp("stock", "stock", "A", {"quantity": 1}, {"quantity": 1}, '{"quantity":1}', "h4", record)
    seen: list[tuple] = []

    class Adapter(AdapterBase):
        def __init__(self) -> None:
            self.roles = {"product": "catalogue", "stock": "stock"}

        def push(self, ops, sink):
            journal = sink.sending("create", [first, update])
            sink.done(journal, [ItemResult(first, ok=True, remote_id="1"), ItemResult(update, ok=True)])
            sink.done(0, [ItemResult(refused, ok=False, code=INVALID_PAYLOAD, message="no name")])
            seen.append((later.payload, later.body, later.canonical))  # not sent yet: all there
            sink.done(sink.sending("stock", [later]), [ItemResult(later, ok=True)])

    plan = Plan("elebne", "shop", ops=[first, update, refused, later])
    with StateStore.open(tmp_path / "state.sqlite") as state:
        results = PushEngine(plan, Adapter(), state, "run").run()
        assert state.bodies("elebne", "shop", "product", ["A", "B"]) == {"A": {"name": "a"},
                                                                          "B": {"name": "b", "x": 1}}
        assert state.hashes("elebne", "shop", "stock") == {"A": "h4"}
    assert seen == [({"quantity": 1}, {"quantity": 1}, '{"quantity":1}')]
    assert first.payload is RELEASED and first.body is RELEASED and first.canonical == ""
    assert update.payload is RELEASED and update.body == {"name": "b"}  # its changed fields are printed
    assert refused.payload == {"name": ""} and refused.canonical == '{"name":""}'  # its problems are reported
    assert later.payload is RELEASED and results[("stock", "A")].ok


def test_a_dry_runs_plan_holds_no_canonical_text_of_new_payloads_and_is_the_same_plan_otherwise(
        tmp_path: Path) -> None:
    from connector.jsonutil import canonical_json, digest
    from connector.mapping import load_mapping, shipped_mapping
    from connector.marketplaces.elebne.adapter import ElebneAdapter
    from connector.sync.plan import build_plan
    from connector.sync.state import StateStore
    from tests.test_whole_run_costs import catalogue

    mapping = load_mapping(shipped_mapping("elebne"))
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    products = catalogue(5)
    with StateStore.open(tmp_path / "state.sqlite") as state:
        real = build_plan(products, mapping, adapter, state, "elebne", "shop")
        dry = build_plan(products, mapping, adapter, state, "elebne", "shop", note_marks=False, keep_texts=False)
    assert {op.action for op in real.ops} == {"create", "stock"}
    assert [(op.action, op.kind, op.key, op.body, op.payload, op.digest) for op in dry.ops] == \
        [(op.action, op.kind, op.key, op.body, op.payload, op.digest) for op in real.ops]
    assert all(op.canonical == canonical_json(op.payload) and op.digest == digest(op.canonical) for op in real.ops)
    assert all(op.canonical == "" for op in dry.ops)


def _checked_and_whole_plans(tmp_path: Path):  # type: ignore[no-untyped-def]
    from connector.mapping import load_mapping, shipped_mapping
    from connector.marketplaces.elebne.adapter import ElebneAdapter
    from connector.sync.plan import build_plan
    from connector.sync.state import StateStore
    from tests.test_plan_push_memory import _products_with_invalid_ones

    mapping = load_mapping(shipped_mapping("elebne"))
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    with StateStore.open(tmp_path / "state.sqlite") as state:
        state.confirm("elebne", "shop", "stock", [("SKU-0", "old", '{"externalId":"SKU-0","quantity":1}', None)])
        plans = [build_plan(_products_with_invalid_ones(), mapping, adapter, state, "elebne", "shop",
                            note_marks=False, keep_texts=False, check=check) for check in (adapter.validate, None)]
    return adapter, *plans


def test_a_dry_runs_plan_holds_the_ops_it_released_as_keys_and_gives_them_back_equal(tmp_path: Path) -> None:
    from connector.sync.ops import RELEASED, PlannedOp
    from connector.sync.released_ops import ReleasedOps, op_fields, sendable

    adapter, checked, whole = _checked_and_whole_plans(tmp_path)
    ops = checked.ops
    assert type(ops) is ReleasedOps
    # held as they are: the invalid creates, and what the state confirmed of SKU-0 (the missing policy reads them)
    assert [(op.kind, op.key) for op in ops.kept()] == [("product", "SKU-0"), ("stock", "SKU-0"),
                                                         ("product", "SKU-1"), ("product", "SKU-4")]
    assert all(type(op) is PlannedOp for op in ops.kept())
    # the others are made again as the plan had them once released: equal, with the very key and record
    expected = [op if (op.kind, op.key) in {(o.kind, o.key) for o in ops.kept()} else
                PlannedOp(op.action, op.kind, op.key, RELEASED, RELEASED, "", "", op.record) for op in whole.ops]
    assert list(ops) == expected and ops == expected and len(ops) == len(expected) == 12
    assert ops[2] == expected[2] and ops[2].record is checked.products[ops[2].key] and ops[-1] == expected[-1]
    assert ops[3:5] == expected[3:5]
    assert list(op_fields(ops)) == [(op.action, op.kind, op.key) for op in expected]
    # previewed, estimated and counted as the list of the same ops
    said = [(r.op, r.ok, r.code, r.message, r.blocked) for r in adapter.preview(sendable(ops), False)]
    assert said == [(r.op, r.ok, r.code, r.message, r.blocked) for r in adapter.preview(expected, False)]
    assert [(op.kind, op.key, blocked) for op, _ok, _code, _m, blocked in said] == [
        ("product", "SKU-1", False), ("product", "SKU-4", False), ("stock", "SKU-1", True), ("stock", "SKU-4", True)]
    assert adapter.calls_needed(ops) == adapter.calls_needed(expected)
    assert checked.counts() == whole.counts()
    # changed in place as a list is (a plan's products taken out, a missing SKU's op)
    checked.take_out({"SKU-2": "held"}, {})
    expected = [op for op in expected if op.key != "SKU-2"]
    assert list(checked.ops) == expected and type(checked.ops) is ReleasedOps
    checked.ops.remove(expected[0])
    checked.ops.append(expected[0])
    assert list(checked.ops) == [*expected[1:], expected[0]]


def test_a_dry_runs_plan_held_as_released_prints_as_the_list_of_its_ops(tmp_path: Path, capsys) -> None:
    from connector.console import print_plan
    from connector.sync.plan import Plan

    adapter, checked, _whole = _checked_and_whole_plans(tmp_path)
    results = {(r.op.kind, r.op.key): r for r in adapter.preview(list(checked.ops), False)}
    print_plan(checked, results)
    held = capsys.readouterr().out
    as_list = Plan(checked.marketplace, checked.account, ops=list(checked.ops), roles=checked.roles)
    print_plan(as_list, results)
    assert held == capsys.readouterr().out and "refuse" in held and "SKU-3" in held



def test_ops_taken_out_of_a_plan_in_one_pass_whatever_holds_them() -> None:
    """The missing policy drops the stock ops that turn out unchanged: one pass over the plan, whether it holds a
    list or a dry run's ``ReleasedOps`` (where a ``remove`` per op made every op again, once per op)."""
    from connector.model import Product
    from connector.sync.ops import RELEASED, PlannedOp
    from connector.sync.plan import Plan
    from connector.sync.released_ops import ReleasedOps

    record = Product(key="A")
    kept = [PlannedOp("stock", "stock", k, {"q": 1}, {"q": 1}, "{}", "h", record) for k in ("K1", "K2", "K3")]
    for holder in (list, ReleasedOps):
        ops = holder()
        ops.append(kept[0])
        for key in ("N1", "N2"):
            ops.append(PlannedOp("create", "product", key, RELEASED, RELEASED, "", "", record))  # (held compactly)
        ops.extend(kept[1:])
        plan = Plan("elebne", "shop", ops=ops)
        plan.drop_ops([kept[0], kept[2]])
        assert [(op.action, op.key) for op in plan.ops] == [("create", "N1"), ("create", "N2"), ("stock", "K2")]
        assert plan.ops[2] is kept[1]  # (the ops kept whole are the same objects)
        plan.drop_ops([])
        assert len(plan.ops) == 3
