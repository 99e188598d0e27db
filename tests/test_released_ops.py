"""What a run lets go of once its push (or dry-run preview) is over."""

from __future__ import annotations


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
