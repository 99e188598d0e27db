"""A variant's attribute value renamed in the source (Silk -> Satin): Elebne matches variants by label, so the
stock of that product must follow the update that renames its variant (the rest keeps "stock first")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SandboxHandle
from tests.test_sync_elebne_e2e import sync
from tests.workbooks import set_cell, write_workbook

pytestmark = pytest.mark.sandbox


def test_a_renamed_variant_gets_its_stock_in_the_same_run(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)[0] == 0
    set_cell(wb, "Products", "TEE-L-RD", "Attribute: Color", "Crimson")  # "L / Red" becomes "L / Crimson"
    set_cell(wb, "Stock - Warehouse", "TEE-L-RD", "Quantity", 9)
    set_cell(wb, "Stock - Warehouse", "SOAP-01", "Quantity", 3)  # another product's stock: still sent first
    mark = elebne_sandbox.last_id()

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)

    assert code == 0, [r for r in report["rows"] if r["status"] != "pushed"]
    assert report["summary"]["rows"]["failed"] == 0
    tee = elebne_sandbox.products()["TEE"]
    quantities = {v["label"]: v["quantity"] for v in tee["variants"]}
    assert quantities["L / Crimson"] == 9 + 1
    assert quantities["L / Red"] == 0  # the old label stays on Elebne (updates only add variants): off sale
    renamed = [r["reason"] for r in report["rows"] if r["sku"] == "TEE-L-RD" and r["sheet"] is None]
    assert renamed == ["variant renamed: its old label 'L / Red' is no longer in source"]  # not "SKU gone"
    assert elebne_sandbox.products()["SOAP-01"]["quantity"] == 3 + 2
    writes = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in elebne_sandbox.writes(since=mark)]
    assert writes == [("PATCH", "bulk"), ("PATCH", "TEE"), ("PATCH", "bulk")]

    mark = elebne_sandbox.last_id()
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)
    assert code == 0 and elebne_sandbox.writes(since=mark) == []


def test_a_variant_whose_row_is_skipped_keeps_its_stock_on_the_marketplace(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The variant's row is refused (a typo in its price): its SKU is still in the source, on a row of its own
    that says so; its label is not in the product's payloads any more, but it was not renamed: the variant is
    left as the marketplace has it, not taken off sale (found killing and re-running syncs of a workbook with
    such a typo: the run zeroed it as a "renamed variant")."""
    wb = write_workbook(tmp_path / "products.xlsx")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)[0] == 0
    before = {v["label"]: v["quantity"] for v in elebne_sandbox.products()["TEE"]["variants"]}
    assert before["L / Red"] == 7 + 1
    set_cell(wb, "Products", "TEE-L-RD", "Price", "26,00 abc")
    set_cell(wb, "Stock - Warehouse", "TEE-M-BL", "Quantity", 6)  # another variant of the product changes
    mark = elebne_sandbox.last_id()

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)

    assert code == 1  # a row was skipped
    rows = [r for r in report["rows"] if r["sku"] == "TEE-L-RD"]
    assert rows and all(r["status"] == "skipped" and r["sheet"] is not None for r in rows), rows
    assert "renamed" not in " ".join(report["notes"])
    after = {v["label"]: v["quantity"] for v in elebne_sandbox.products()["TEE"]["variants"]}
    assert after == {**before, "M / Blue": 6 + 1}
    assert elebne_sandbox.writes(since=mark)  # (the other variant's stock was sent)


def test_a_variant_moved_to_another_product_goes_off_sale_under_the_old_one(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same SKU under another Parent SKU: it is listed there now, so the old product's variant must stop
    selling the same units (its quantity 0), as for a renamed variant."""
    wb = write_workbook(tmp_path / "products.xlsx")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)[0] == 0
    set_cell(wb, "Products", "TEE-L-RD", "Parent SKU", "TEE-RED")

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)

    assert code == 0, [r for r in report["rows"] if r["status"] != "pushed"]
    products = elebne_sandbox.products()
    assert {v["label"]: v["quantity"] for v in products["TEE"]["variants"]}["L / Red"] == 0
    assert products["TEE-RED"]["quantity"] == 7 + 1


def test_the_estimate_counts_the_stock_sent_after_a_variant_update_as_its_own_bulk_request() -> None:
    from connector.marketplaces.elebne.adapter import ElebneAdapter
    from connector.sync.ops import PlannedOp

    def op(action: str, kind: str, key: str, body: dict) -> PlannedOp:
        return PlannedOp(action, kind, key, body, body, "", "", None)

    adapter = ElebneAdapter(None, account="shop")  # type: ignore[arg-type]  # never sends here
    ops = [op("stock", "stock", "A", {"externalId": "A", "quantity": 1}),
           op("update", "product", "B", {"externalId": "B", "variants": [{"label": "Satin"}]}),
           op("stock", "stock", "B", {"externalId": "B", "variants": [{"label": "Satin", "quantity": 2}]})]
    assert adapter.calls_needed(ops) == {"bulk": 2, "write": 1}
    price_only = op("update", "product", "B", {"externalId": "B", "price": 5})
    assert adapter.calls_needed([ops[0], price_only, ops[2]]) == {"bulk": 1, "write": 1}


def test_attribute_columns_reordered_are_named_as_the_cause_when_the_guard_refuses(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Color before Size renames every variant ("M / Blue" -> "Blue / M"): the guard refuses it as a mass change,
    and says why: renamed variants, not SKUs "no longer in the source" (they are all there); nothing said went."""
    wb = write_workbook(tmp_path / "products.xlsx")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)[0] == 0
    headers = ["Parent SKU", "SKU", "Name", "Description", "Brand", "Category", "Price", "Barcode",
               "Attribute: Color", "Attribute: Size"]
    write_workbook(wb, headers=headers)
    mark = elebne_sandbox.last_id()
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch=monkeypatch)
    assert code == 2 and elebne_sandbox.writes(since=mark) == []
    refused = report["refused"] if isinstance(report["refused"], str) else json.dumps(report["refused"])
    assert "2 variant(s) renamed" in refused and "order of the Attribute columns" in refused
    assert "no longer in the source" not in refused
    note = next(n for n in report["notes"] if "renamed variant(s)" in n)
    assert "would go off sale" in note and "TEE-M-BL" in note
