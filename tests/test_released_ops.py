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
