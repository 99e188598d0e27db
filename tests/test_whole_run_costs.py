"""What keeps a 100,000-row run in seconds and megabytes (issue 16, the whole-run rows), without changing what a
run does: unchanged records skip mapping, the report groups the rows of a large run (every row still in it),
the report is saved once and the workbook's headers are read once per command.  No timing is asserted here:
``make bench`` measures (bench/whole_run.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import connector.cli as cli
from connector.cli import main
from connector.mapping import load_mapping, shipped_mapping
from connector.marketplaces.elebne.adapter import ElebneAdapter
from connector.model import MAX_INT, Money, Product, SourceRef, StockLevel, Variant
from connector.sync import report as report_module
from connector.sync.fingerprint import mapping_context, record_fingerprint
from connector.sync.plan import build_plan, save_record_marks
from connector.sync.report import PUSHED, SKIPPED, UNCHANGED, RowOutcome, RunReport, report_rows
from connector.sync.state import StateStore
from connector.sync.stock_policy import StockPolicy
from tests.workbooks import write_workbook


def catalogue(n: int = 4) -> list[Product]:
    from decimal import Decimal

    products = []
    for i in range(n):
        sku = f"SKU-{i}"
        v = Variant(sku=sku, price=Money(Decimal(f"{10 + i}.50"), "MRU"), stock={"Main": StockLevel("Main", 5 + i)},
                    stock_known=True, ref=SourceRef("Products", i + 2))
        products.append(Product(key=sku, name=f"Product {i}", variants=[v], ref=SourceRef("Products", i + 2)))
    StockPolicy().apply(products)
    return products


def confirm_all(plan: Any, state: StateStore) -> None:
    """What a push that the marketplace accepted whole leaves in the state, marks included."""
    for kind in {op.kind for op in plan.ops}:
        state.confirm("elebne", "shop", kind, [(op.key, op.digest, op.canonical, None)
                                               for op in plan.ops if op.kind == kind])
    save_record_marks(plan, state)


def test_an_unchanged_record_is_not_mapped_again_and_a_changed_listed_quantity_is(tmp_path: Path,
                                                                                 mapped: list[str]) -> None:
    mapping = load_mapping(shipped_mapping("elebne"))
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    context = mapping_context(mapping, adapter, {}, {})
    assert context is not None
    products = catalogue()
    with StateStore.open(tmp_path / "state.sqlite") as state:
        first = build_plan(products, mapping, adapter, state, "elebne", "shop", context=context)
        assert len(first.ops) == 8 and len(mapped) == 4
        confirm_all(first, state)
        mapped.clear()
        again = build_plan(products, mapping, adapter, state, "elebne", "shop", context=context)
        assert mapped == [] and again.ops == []
        assert again.unchanged == {"product": {p.key for p in products}, "stock": {p.key for p in products}}
        assert set(again.products) == {p.key for p in products}  # still known to the report and the checks
        # a reservation (or a stock policy) that lowers the listed quantity after the policy ran: re-mapped
        products[1].variants[0].qty -= 2
        third = build_plan(products, mapping, adapter, state, "elebne", "shop", context=context)
        assert mapped == ["SKU-1"]
        assert [(op.action, op.key, op.payload.get("quantity")) for op in third.ops] == [("stock", "SKU-1", 4)]


def test_a_record_with_no_payload_of_a_kind_still_skips_mapping_when_unchanged(tmp_path: Path,
                                                                               mapped: list[str]) -> None:
    """A catalogue without stock (a workbook with no stock sheet, an Odoo service) has no stock payload: its marks
    say so, and an unchanged record is not mapped again; its plan is the one mapping every record gives."""
    mapping = load_mapping(shipped_mapping("elebne"))
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    context = mapping_context(mapping, adapter, {}, {})
    products = catalogue()
    for p in products[:2]:  # two products the source says nothing of the stock of
        p.variants[0].stock, p.variants[0].stock_known = {}, False
    StockPolicy().apply(products)
    with StateStore.open(tmp_path / "state.sqlite") as state:
        first = build_plan(products, mapping, adapter, state, "elebne", "shop", context=context)
        assert sorted((op.kind, op.key) for op in first.ops if op.kind == "stock") == [("stock", "SKU-2"),
                                                                                       ("stock", "SKU-3")]
        confirm_all(first, state)
        mapped.clear()
        again = build_plan(products, mapping, adapter, state, "elebne", "shop", context=context)
        assert mapped == [] and again.ops == []
        every = build_plan(products, mapping, adapter, state, "elebne", "shop")  # mapping every record
        assert again.unchanged == every.unchanged == {"product": {p.key for p in products},
                                                      "stock": {"SKU-2", "SKU-3"}}
        # the source now gives its stock: mapped again, and its stock planned
        mapped.clear()
        products[0].variants[0].stock = {"Main": StockLevel("Main", 4)}
        products[0].variants[0].stock_known = True
        StockPolicy().apply(products[:1])
        third = build_plan(products, mapping, adapter, state, "elebne", "shop", context=context)
        assert mapped == ["SKU-0"] and [(op.action, op.key) for op in third.ops] == [("stock", "SKU-0")]


def test_a_record_whose_stock_alone_was_mapped_is_mapped_again(tmp_path: Path, mapped: list[str]) -> None:
    """A product whose price was held back has its stock payloads alone mapped (``stock_only``): nothing is known
    of its other kinds, which are not noted as having no payload; the next plan maps it again."""
    mapping = load_mapping(shipped_mapping("elebne"))
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    context = mapping_context(mapping, adapter, {}, {})
    products = catalogue(2)
    with StateStore.open(tmp_path / "state.sqlite") as state:
        confirm_all(build_plan(products, mapping, adapter, state, "elebne", "shop", context=context), state)
        products[0].variants[0].price = Money(products[0].variants[0].price.amount * 100, "MRU")  # (held back)
        products[0].variants[0].qty = 1
        held = build_plan(products, mapping, adapter, state, "elebne", "shop", context=context,
                          stock_only={"SKU-0"})
        assert [(op.action, op.key) for op in held.ops] == [("stock", "SKU-0")]
        confirm_all(held, state)
        mapped.clear()
        build_plan(products, mapping, adapter, state, "elebne", "shop", context=context)
        assert mapped == ["SKU-0"]


def test_a_changed_mapping_or_setting_maps_every_record_again(tmp_path: Path, mapped: list[str]) -> None:
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: elebne\n", encoding="utf-8")
    mapping = load_mapping(mine)
    products = catalogue()
    with StateStore.open(tmp_path / "state.sqlite") as state:
        context = mapping_context(mapping, adapter, {}, {})
        confirm_all(build_plan(products, mapping, adapter, state, "elebne", "shop", context=context), state)
        mapped.clear()
        assert mapping_context(mapping, adapter, {}, {"bulk_max_items": 50}) != context
        assert mapping_context(mapping, adapter, {"tax": 1}, {}) != context
        mine.write_text("extends: elebne\npayloads:\n  product:\n    fields:\n      brand: null\n", encoding="utf-8")
        changed = load_mapping(mine)
        plan = build_plan(products, changed, adapter, state, "elebne", "shop",
                          context=mapping_context(changed, adapter, {}, {}))
        assert sorted(mapped) == sorted(p.key for p in products)
        assert plan.ops == []  # the shipped mapping sends no brand for these: same payloads, mapped to know it


def test_a_mark_holds_only_for_the_body_it_was_made_for(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "state.sqlite") as state:
        state.confirm("elebne", "shop", "stock", [("A", "h1", '{"q":1}', None), ("B", "h1", '{"q":1}', None)])
        state.mark_records("elebne", "shop", "stock", [("A", "h1", "fp-a"), ("B", "other-hash", "fp-b")])
        assert state.record_marks("elebne", "shop", "stock") == {"A": "fp-a"}  # B's body is not that hash
        state.confirm("elebne", "shop", "stock", [("A", "h2", '{"q":2}', None)])  # a new body (e.g. zeroed)
        assert state.record_marks("elebne", "shop", "stock") == {}


def test_the_fingerprint_covers_every_field_of_the_record() -> None:
    base = catalogue(1)[0]
    fingerprint = record_fingerprint(base, "ctx")
    assert record_fingerprint(catalogue(1)[0], "ctx") == fingerprint
    assert record_fingerprint(base, "other") != fingerprint
    for change in (lambda p: setattr(p, "name", "Other"), lambda p: p.extra.update(x=1),
                   lambda p: setattr(p.variants[0].stock["Main"], "on_hand", 3),
                   lambda p: setattr(p.variants[0], "price", Money(p.variants[0].price.amount + 1, "MRU")),
                   lambda p: setattr(p.variants[0], "qty", 0)):
        p = catalogue(1)[0]
        change(p)
        assert record_fingerprint(p, "ctx") != fingerprint


def test_a_dry_run_leaves_no_marks_and_a_real_run_marks_what_it_confirmed(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.marketplaces.elebne import PLUGIN as ELEBNE

    wb = write_workbook(tmp_path / "p.xlsx")
    state = tmp_path / "state.sqlite"
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE.sandbox_key)
    with ELEBNE.create_sandbox(port=0) as server:
        argv = ["sync", "--source", str(wb), "--target", "elebne", "--state", str(state), "--no-progress",
                "--base-url", server.url + ELEBNE.sandbox_base_path, "--account", "shop"]
        assert main([*argv, "--dry-run", "--report", str(tmp_path / "dry.json")]) == 0
        with StateStore.open(state) as s:
            assert s.record_marks("elebne", "shop", "product") == {}
        assert main([*argv, "--report", str(tmp_path / "first.json")]) == 0
        with StateStore.open(state) as s:
            marked = s.record_marks("elebne", "shop", "product")
            assert marked and set(marked) == set(s.hashes("elebne", "shop", "product"))
        assert main([*argv, "--report", str(tmp_path / "again.json")]) == 0
    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert again["summary"]["rows"]["pushed"] == 0 and again["summary"]["rows"]["unchanged"] > 0


def test_a_large_report_groups_its_rows_and_every_row_can_be_read_back(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    report = RunReport(run_id="r", source="s", target="elebne", dry_run=False, started_at="t")
    report.rows = [RowOutcome(f"S{i}", f"S{i}", "Products", i + 2, PUSHED, ["create", "stock"]) for i in range(5)]
    report.rows += [RowOutcome("V-M", "V", "Products", 9, UNCHANGED),
                    RowOutcome("V-L", "V", "Stock - Main", 3, UNCHANGED),
                    RowOutcome(None, None, "Products", 12, SKIPPED, reason="SKU is empty", attention=True),
                    RowOutcome("OLD", "OLD", None, None, PUSHED, ["stock"], reason="no longer in source")]
    small = tmp_path / "small.json"
    report.save(small)
    full = json.loads(small.read_text(encoding="utf-8"))
    assert "row_groups" not in full and len(full["rows"]) == 9
    monkeypatch.setattr(report_module, "ROWS_IN_FULL", 3)
    large = tmp_path / "large.json"
    report.save(large)
    grouped = json.loads(large.read_text(encoding="utf-8"))
    assert "rows" not in grouped and len(grouped["row_groups"]) == 5
    assert grouped["row_groups"][0]["count"] == 5 and grouped["row_groups"][0]["rows"][0] == [2, "S0"]
    key = lambda r: (str(r["sheet"]), r["row"] or 0)  # noqa: E731
    assert sorted(report_rows(grouped), key=key) == sorted(full["rows"], key=key) == sorted(report_rows(full), key=key)
    assert grouped["summary"] == full["summary"]


def test_the_report_is_saved_once_with_the_merchants_column_names(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    wb = write_workbook(tmp_path / "produits.xlsx", stock={}, headers=["SKU*", "Nom*", "Prix*"],
                        rows=[{"SKU*": "A-1", "Nom*": "Savon", "Prix*": 99_999_999}])
    saved: list[Path] = []
    headers_read: list[tuple[Path, str | None]] = []
    real_save, real_headers = RunReport.save, cli._column_headers

    def save(self: RunReport, path: Path) -> None:
        saved.append(path)
        real_save(self, path)

    def headers(path: Path, sheet: str | None) -> dict[str, str]:
        headers_read.append((path, sheet))
        return real_headers(path, sheet)

    monkeypatch.setattr(RunReport, "save", save)
    monkeypatch.setattr(cli, "_column_headers", headers)
    monkeypatch.delenv("ELEBNE_API_KEY", raising=False)
    monkeypatch.delenv("ELRYAN_EMAIL", raising=False)
    report = tmp_path / "report.json"
    assert main(["sync", "--source", str(wb), "--target", "elebne", "--dry-run", "--state",
                 str(tmp_path / "s.sqlite"), "--report", str(report), "--no-progress"]) == 1
    assert saved == [report]
    issues = [i for i in json.loads(report.read_text(encoding="utf-8"))["issues"] if i.get("target")]
    assert [i["column"] for i in issues] == ["Prix*"]
    headers_read.clear()
    assert main(["validate", str(wb), "--target", "elebne", "--target", "ecomlinx", "--json"]) == 1
    assert headers_read == [(wb, "Products")]  # two targets with problems in that sheet: read once


def test_validate_reads_its_profile_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import connector.config as config

    wb = write_workbook(tmp_path / "p.xlsx")
    profile = tmp_path / "shop.yaml"
    profile.write_text(f"name: shop\nsource: {{type: spreadsheet, path: {wb}}}\nstate: {tmp_path / 's.sqlite'}\n"
                       "targets:\n  elebne: {account: shop}\n", encoding="utf-8")
    loaded: list[Path] = []
    real = config.load_profile

    def load(path: Path) -> Any:
        loaded.append(path)
        return real(path)

    monkeypatch.setattr(config, "load_profile", load)
    assert main(["validate", str(wb), "--profile", str(profile), "--json"]) == 0
    assert loaded == [profile]


def test_one_integer_bound_everywhere() -> None:
    from connector.marketplaces.shapes import MAX_INT as marketplaces_bound
    from connector.sandbox.validation import MAX_INT as sandbox_bound
    from connector.sources.spreadsheet.cells import MAX_QUANTITY

    assert MAX_INT == marketplaces_bound == sandbox_bound == MAX_QUANTITY == 2**31 - 1
