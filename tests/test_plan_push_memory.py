"""What a plan and its push hold on top of the records (issue 16), without changing what a run does: a new
payload's canonical text is encoded when its op is confirmed, not kept for the whole push, and a dry run whose
adapter's preview only validates checks each new op as it is planned, letting go of a valid one's payload."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.jsonutil import canonical_json, digest
from connector.mapping import load_mapping, shipped_mapping
from connector.marketplaces.elebne.adapter import ElebneAdapter
from connector.model import Product
from connector.sync.ops import RELEASED, ItemResult, PlannedOp, stored_text
from connector.sync.plan import build_plan
from connector.sync.state import StateStore
from tests.conftest import SandboxHandle
from tests.test_whole_run_costs import catalogue
from tests.workbooks import CATALOGUE, HEADERS, write_workbook


def _said(results: list[ItemResult]) -> list[tuple[Any, ...]]:
    return [(r.op.kind, r.op.key, r.op.action, r.ok, r.code, r.message, r.blocked, r.deferred) for r in results]


def test_a_confirmed_op_planned_without_its_text_stores_the_canonical_json_of_its_payload(tmp_path: Path) -> None:
    from connector.sync.ops import AdapterBase
    from connector.sync.plan import Plan
    from connector.sync.push import PushEngine

    payload = {"name": "Savon", "price": Decimal("12.50"), "variants": [{"label": "é"}]}
    text = canonical_json(payload)
    create = PlannedOp("create", "product", "A", payload, payload, "", digest(text), Product(key="A"))
    update = PlannedOp("update", "product", "B", {"name": "b"}, {"name": "b"}, '{"name":"b","old":1}', "h2",
                       Product(key="B"))
    assert stored_text(create) == text and stored_text(update) == '{"name":"b","old":1}'

    class Adapter(AdapterBase):
        roles = {"product": "catalogue"}  # noqa: RUF012

        def push(self, ops, sink):
            sink.done(sink.sending("create", ops), [ItemResult(op, ok=True) for op in ops])

    with StateStore.open(tmp_path / "state.sqlite") as state:
        PushEngine(Plan("elebne", "shop", ops=[create, update]), Adapter(), state, "run").run()
        assert state.hashes("elebne", "shop", "product") == {"A": digest(text), "B": "h2"}
        assert state.bodies("elebne", "shop", "product", ["A", "B"]) == {"A": json.loads(text),
                                                                          "B": {"name": "b", "old": 1}}
    rows = dict(sqlite3.connect(tmp_path / "state.sqlite").execute("SELECT key, body FROM payloads"))
    assert rows == {"A": text, "B": '{"name":"b","old":1}'}  # the very text, Decimal and accents included
    assert create.payload is RELEASED and create.canonical == ""


def _products_with_invalid_ones() -> list[Product]:
    products = catalogue(6)
    products[1].images = ["not a web address"]  # refused create: its stock is blocked
    products[4].images = ["ftp://files.example/4.png"]
    return products


def test_a_dry_runs_plan_checked_as_it_is_planned_previews_exactly_what_the_whole_plan_previews(
        tmp_path: Path) -> None:
    mapping = load_mapping(shipped_mapping("elebne"))
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    with StateStore.open(tmp_path / "state.sqlite") as state:
        # SKU-0 is confirmed (stock only): nothing of it is released, the missing policy and the guard may read it
        state.confirm("elebne", "shop", "stock", [("SKU-0", "old", '{"externalId":"SKU-0","quantity":1}', None)])
        whole = build_plan(_products_with_invalid_ones(), mapping, adapter, state, "elebne", "shop",
                           note_marks=False, keep_texts=False)
        checked = build_plan(_products_with_invalid_ones(), mapping, adapter, state, "elebne", "shop",
                             note_marks=False, keep_texts=False, check=adapter.validate)
    assert [(op.action, op.kind, op.key) for op in checked.ops] == [(op.action, op.kind, op.key) for op in whole.ops]
    kept = {(op.kind, op.key) for op in checked.ops if op.payload is not RELEASED}
    # the ops kept have their digests; a released one lets go of it too (a dry run confirms nothing)
    assert [op.digest if (op.kind, op.key) in kept else "" for op in whole.ops] == [op.digest for op in checked.ops]
    assert all(op.digest for op in whole.ops)
    # invalid, or of a record confirmed in some kind
    assert kept == {("product", "SKU-1"), ("product", "SKU-4"), ("product", "SKU-0"), ("stock", "SKU-0")}
    assert all(op.body is RELEASED for op in checked.ops if (op.kind, op.key) not in kept)
    expected = _said(adapter.preview([op for op in whole.ops if op.action != "refresh"], False))
    assert _said(adapter.preview([op for op in checked.ops if op.action != "refresh"], False)) == expected
    assert {(kind, key, blocked) for kind, key, _a, _ok, _c, _m, blocked, _d in expected} == {
        ("product", "SKU-1", False), ("stock", "SKU-1", True), ("product", "SKU-4", False),
        ("stock", "SKU-4", True)}
    # an invalid op's problems are still listed from its payload
    refused = next(op for op in checked.ops if op.key == "SKU-1" and op.kind == "product")
    assert adapter.problems(refused) and refused.payload["images"] == ["not a web address"]


def _workbook_with_invalid_rows(path: Path) -> Path:
    rows = [dict(r) for r in CATALOGUE]
    rows[0]["Images"] = "ftp://files.example/soap.png"  # SOAP-01: not a web address, its stock blocked
    rows[3]["Attribute: Color"] = "blue"  # TEE-L-RD: "L / blue" clashes with "L / Blue" (case-insensitive)
    return write_workbook(path, rows, headers=[*HEADERS, "Images"])


@pytest.mark.sandbox
def test_a_dry_run_checked_as_planned_reports_and_prints_what_it_did_before(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from tests.test_sync_elebne_e2e import sync

    wb = _workbook_with_invalid_rows(tmp_path / "products.xlsx")
    outputs = []
    for early in (True, False):
        monkeypatch.setattr(ElebneAdapter, "checks_when_planned", early)
        (tmp_path / "state.sqlite").unlink(missing_ok=True)
        code, report = sync(elebne_sandbox, wb, tmp_path, "--dry-run", monkeypatch=monkeypatch)
        for name in ("run_id", "started_at", "finished_at"):
            report.pop(name)
        outputs.append((code, report, capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    code, report, printed = outputs[0]
    failed = {r["sku"]: r["reason"] for r in report["rows"] if r["status"] == "failed"}
    assert set(failed) >= {"SOAP-01", "TEE-M-BL", "TEE-L-BL", "TEE-L-RD"} and "TEA-500" not in failed
    assert any("blocked" in reason for reason in failed.values())
    assert {i["sku"] for i in report["issues"] if i["severity"] == "error"} >= {"SOAP-01"}
    assert "refuse" in printed


@pytest.mark.sandbox
def test_a_real_sync_stores_for_every_confirmed_payload_the_text_its_hash_was_planned_from(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_sync_elebne_e2e import sync

    wb = write_workbook(tmp_path / "products.xlsx")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)[0] == 0
    rows = sqlite3.connect(tmp_path / "state.sqlite").execute("SELECT kind, key, hash, body FROM payloads").fetchall()
    assert {(kind, key) for kind, key, _h, _b in rows} == {(k, key) for k in ("product", "stock")
                                                          for key in ("SOAP-01", "TEE", "TEA-500")}
    assert all(digest(body) == h and canonical_json(json.loads(body, parse_float=Decimal)) ==
               body for _kind, _key, h, body in rows)


def test_record_marks_are_saved_per_payload_kind_that_the_record_mapped_to_and_where_its_hash_is_confirmed(
        tmp_path: Path) -> None:
    from connector.model import Variant
    from connector.sync.fingerprint import mapping_context, record_fingerprint
    from connector.sync.plan import save_record_marks

    mapping = load_mapping(shipped_mapping("elebne"))
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    context = mapping_context(mapping, adapter, {}, {})
    assert context is not None
    products = catalogue(4)
    products[2].variants = [Variant(sku="SKU-2", price=products[2].variants[0].price)]  # stock unknown: no stock
    with StateStore.open(tmp_path / "state.sqlite") as state:
        plan = build_plan(products, mapping, adapter, state, "elebne", "shop", context=context, keep_texts=False)
        assert plan.no_stock == {"SKU-2"} and plan.mark_kinds == ("product", "stock")
        confirmed = [op for op in plan.ops if op.key != "SKU-3"]  # SKU-3's ops were not confirmed
        for kind in ("product", "stock"):
            state.confirm("elebne", "shop", kind, [(op.key, op.digest, stored_text(op), None)
                                                   for op in confirmed if op.kind == kind])
        assert plan.new_marks
        save_record_marks(plan, state)
        assert plan.new_marks == {}  # saved once, let go of before the report is built
        marks = {kind: state.hashes_and_marks("elebne", "shop", kind)[1] for kind in ("product", "stock")}
    fingerprint = {p.key: record_fingerprint(p, context) for p in products}
    # SKU-2's mark says it has no stock payload (so that it skips mapping while unchanged)
    assert marks == {"product": {"SKU-0": fingerprint["SKU-0"], "SKU-1": fingerprint["SKU-1"],
                                 "SKU-2": fingerprint["SKU-2"] + '|["stock"]'},
                     "stock": {k: fingerprint[k] for k in ("SKU-0", "SKU-1")}}


def test_report_rows_sharing_one_outcome_are_set_one_by_one_and_compare_show_and_save_like_ten_fields() -> None:
    from connector.sync.report import FAILED, PUSHED, RowOutcome

    outcome = (PUSHED, ["create", "stock"], "dry run: would be sent", None, None, False, "Products")
    a = RowOutcome.sharing("A-1", "A", 2, outcome)
    b = RowOutcome.sharing("A-2", "A", 3, outcome)
    assert a == RowOutcome("A-1", "A", "Products", 2, PUSHED, ["create", "stock"], "dry run: would be sent")
    assert a != b and a != RowOutcome("A-1", "A", "Products", 2, PUSHED)
    assert repr(a) == ("RowOutcome(sku='A-1', product='A', sheet='Products', row=2, status='pushed', "
                       "actions=['create', 'stock'], reason='dry run: would be sent', marketplace_message=None, "
                       "code=None, attention=False)")
    a.status, a.reason, a.attention = FAILED, "refused", True  # (safety.account_safety does so)
    a.actions = []
    assert (b.status, b.actions, b.reason, b.attention) == (PUSHED, ["create", "stock"], "dry run: would be sent",
                                                            False)
    assert a.to_json() == {"sku": "A-1", "product": "A", "sheet": "Products", "row": 2, "status": FAILED,
                           "actions": [], "reason": "refused", "marketplace_message": None, "code": None,
                           "attention": True}
    assert RowOutcome(**a.to_json()) == a and RowOutcome("X", None, None, None, PUSHED).actions == []
    assert outcome == (PUSHED, ["create", "stock"], "dry run: would be sent", None, None, False, "Products")
    a.sheet = "Stock"
    assert (a.sheet, b.sheet, a.to_json()["sheet"]) == ("Stock", "Products", "Stock")


@pytest.mark.parametrize("piece", [1, 3, 7, 2_000])
def test_a_large_report_saved_with_its_rows_made_a_piece_at_a_time_is_the_text_of_one_dumps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    from connector.sync import report as report_module
    from connector.sync.report import RunReport
    from tests.test_after_plan_fast_paths import random_rows

    monkeypatch.setattr(report_module, "ROWS_IN_FULL", 20)
    monkeypatch.setattr(report_module, "JSON_PIECE", piece)  # objects and row lists cut anywhere, or not at all
    report = RunReport(run_id="r", source="s", target="elebne", dry_run=False, started_at="t")
    report.rows = random_rows(7, 500)
    report.save(tmp_path / "r.json")
    data = report.to_json()
    assert all(type(g["rows"]) is list for g in data["row_groups"])  # to_json itself: plain lists of tuples
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == json.dumps(data, ensure_ascii=False, default=str)


@pytest.mark.parametrize("piece", [3, 2_000])
def test_a_clean_runs_rows_compressed_a_piece_at_a_time_are_the_text_of_one_dumps(
        monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    import zlib

    from connector.sync import report as report_module
    from connector.sync.report import as_unchanged, write_json
    from connector.sync.unchanged import _Compressed
    from tests.test_after_plan_fast_paths import random_rows

    monkeypatch.setattr(report_module, "JSON_PIECE", piece)
    rows = random_rows(11, 5_000)
    counts, products, groups = as_unchanged(rows)
    lazy = as_unchanged(rows, lazy=True)
    assert (lazy[0], lazy[1]) == (counts, products)
    out = _Compressed()
    out.write('{"a":1}\n')
    write_json(lazy[2], out)
    text = '{"a":1}\n' + json.dumps(groups, ensure_ascii=False, default=str)
    packed = out.finish()
    assert zlib.decompress(packed).decode("utf-8") == text
    assert packed == zlib.compress(text.encode("utf-8"), 6)  # the very bytes a one-shot compression gives


def test_a_row_table_filled_at_its_full_size_holds_what_one_filled_row_by_row_does() -> None:
    from array import array

    from connector.sync.rows import RowTable

    skus, numbers = ["A", "B", None, "C"], array("q", [2, 3, 4, 5])
    outcomes = [("pushed", [], None, None, None, False, "Products"), ("skipped", [], "why", None, None, True, "S")]
    grown, sized = RowTable.over(skus, numbers), RowTable.over(skus, numbers)
    fill = sized.filler()
    for i, product in enumerate(["A", "B", None, "A"]):
        grown.fill(product, outcomes[i % 2])
        fill(product, outcomes[i % 2])
    assert sized == grown and sized.products() == grown.products() == ["A", "B", None, "A"]
    assert sized.outcome_counts() == grown.outcome_counts() and len(sized) == 4
