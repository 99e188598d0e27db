"""A stocked product is never created on Elebne without its stock: Elebne sells a product created without a quantity
uncounted (docs/elebne.md), so its create would put it on sale in unlimited numbers.

Before, a new product whose Stock cell was left empty (stock unknown: none sent) was created all the same, on sale
with no quantity, exit 0 and a warning saying "the marketplace keeps listing what it has"; one whose stock row was
refused (an integrator's mapping keeping 10 units back from 3) was created, its stock refused after.  Now the
create is held with the reason (its rows failed: exit 1), in a dry run as in the real run, and the other products
go on.  A product whose source does not track its stock (a service) is still created without one, as documented."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED
from connector.sync.report import report_rows
from tests.conftest import ELEBNE_KEY, SandboxHandle

pytestmark = pytest.mark.sandbox


def _sync(sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, dict]:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    report = tmp_path / "r.json"
    report.unlink(missing_ok=True)
    code = main(["sync", "--source", str(tmp_path / "products.csv"), "--target", "elebne", "--base-url",
                 sandbox.base_url, "--state", str(tmp_path / "s.sqlite"), "--report", str(report), "--no-progress",
                 *extra])
    return code, {r["sku"]: r for r in report_rows(json.loads(report.read_text("utf-8")))}


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("quantity, buffer, why", [("", False, "its stock is not known"),
                                                   ("3", True, "its stock cannot be sent")])
def test_a_new_product_whose_stock_does_not_go_is_not_created(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quantity: str, buffer: bool,
        why: str, dry_run: bool) -> None:
    (tmp_path / "products.csv").write_text(f"SKU,Name,Price,Stock: Warehouse\nNEW-1,New one,5,{quantity}\n"
                                           "NEW-2,New two,6,40\n", encoding="utf-8")
    extra = ["--dry-run"] if dry_run else []
    if buffer:  # an integrator's mapping keeping 10 units back: 3 - 10 is refused (must not be negative)
        mapping = tmp_path / "my-elebne.yaml"
        mapping.write_text('extends: elebne\npayloads:\n  stock:\n    fields:\n'
                           '      quantity: {expr: "product.qty - 10"}\n', encoding="utf-8")
        extra.extend(["--mapping", str(mapping)])
    mark = elebne_sandbox.last_id()
    code, rows = _sync(elebne_sandbox, tmp_path, monkeypatch, *extra)
    assert code == EXIT_FAILED
    assert rows["NEW-1"]["status"] == "failed" and why in rows["NEW-1"]["reason"]
    assert "uncounted" in rows["NEW-1"]["reason"]
    assert rows["NEW-2"]["status"] == "pushed"
    if not dry_run:
        listed = elebne_sandbox.products()
        assert "NEW-1" not in listed and listed["NEW-2"]["quantity"] == (30 if buffer else 40)
        assert not [w for w in elebne_sandbox.writes(since=mark) if "NEW-1" in json.dumps(w)]


def test_once_given_a_quantity_it_is_created_with_it(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "products.csv").write_text("SKU,Name,Price,Stock: Warehouse\nNEW-1,New one,5,\n", encoding="utf-8")
    assert _sync(elebne_sandbox, tmp_path, monkeypatch)[0] == EXIT_FAILED
    (tmp_path / "products.csv").write_text("SKU,Name,Price,Stock: Warehouse\nNEW-1,New one,5,0\n", encoding="utf-8")
    code, rows = _sync(elebne_sandbox, tmp_path, monkeypatch)
    assert code == 0 and rows["NEW-1"]["status"] == "pushed"
    assert elebne_sandbox.products()["NEW-1"]["quantity"] == 0


def test_a_workbook_without_any_stock_column_still_creates_its_products(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalogue without stock (no Stock column, no stock sheet) says nothing on stock for every product: they are
    created as before, the stock left to whoever manages it on Elebne."""
    (tmp_path / "products.csv").write_text("SKU,Name,Price\nCAT-1,Catalogue only,5\n", encoding="utf-8")
    code, rows = _sync(elebne_sandbox, tmp_path, monkeypatch)
    assert code == 0 and rows["CAT-1"]["status"] == "pushed"
    assert "CAT-1" in elebne_sandbox.products()


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_new_product_one_of_whose_variants_has_no_quantity_is_not_created(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dry_run: bool) -> None:
    """Its stock op carries the variants with a quantity only: created, the size without one would be on sale
    uncounted.  The whole product waits (as one without any quantity does), naming that size; the others go on."""
    (tmp_path / "products.csv").write_text(
        "Parent SKU,SKU,Name,Price,Attribute: Size,Stock: Warehouse\n"
        "TEE,TEE-S,Tee,5,S,4\nTEE,TEE-M,Tee,5,M,\nTEE,TEE-L,Tee,5,L,2\n,MUG-1,Mug,6,,40\n", encoding="utf-8")
    mark = elebne_sandbox.last_id()
    code, rows = _sync(elebne_sandbox, tmp_path, monkeypatch, *(["--dry-run"] if dry_run else []))
    assert code == EXIT_FAILED
    for sku in ("TEE-S", "TEE-M", "TEE-L"):
        assert rows[sku]["status"] == "failed", rows[sku]
        assert "the stock of its variant(s) TEE-M is not known" in rows[sku]["reason"], rows[sku]
    assert rows["MUG-1"]["status"] == "pushed"
    if not dry_run:
        assert "TEE" not in elebne_sandbox.products()
        assert not [w for w in elebne_sandbox.writes(since=mark) if "TEE" in json.dumps(w)]


@pytest.mark.parametrize("gives_stock", [False, True])
def test_a_source_that_reads_no_stock_at_all_creates_its_products(
        elebne_sandbox: SandboxHandle, tmp_path: Path, gives_stock: bool) -> None:
    """Any source, not only a workbook: one that says it gives no stock (``provided_fields`` without "stock", e.g.
    an Odoo read without stock) creates its products as before; the same products from a source giving stock, with
    none known, wait."""
    from connector.model import Money, Product, SourceRef, Variant
    from connector.sources.base import SourceResult
    from connector.sync.runner import SyncOptions, run_sync

    products = [Product(key="ERP-1", name="From the ERP", ref=SourceRef("product.product", ident="7"),
                        variants=[Variant(sku="ERP-1", price=Money(Decimal("5"), "MRU"),
                                          ref=SourceRef("product.product", ident="7"))])]
    provided = {"sku", "name", "price", *(["stock"] if gives_stock else [])}
    opts = SyncOptions(target="elebne", state_path=tmp_path / "s.sqlite", secret=ELEBNE_KEY,
                       base_url=elebne_sandbox.base_url, account="shop", source_label="erp")
    run_sync(SourceResult(products=products, provided_fields=provided), opts)
    assert ("ERP-1" in elebne_sandbox.products()) is not gives_stock
