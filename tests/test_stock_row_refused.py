"""A stock-sheet row refused for its quantity (blank, not a number, unlike the Products sheet's inline stock) makes
its variant's stock unknown: left as the marketplace has it, not summed without that location, which listed less
or 0 (a product on sale taken off it by a blank cell, exit 1 only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import EXIT_FAILED, EXIT_OK
from connector.model import ABSENT
from connector.sources.spreadsheet import read_spreadsheet
from connector.sync.stock_policy import StockPolicy
from tests.conftest import SandboxHandle
from tests.test_sync_safety_e2e import quantities, sync
from tests.workbooks import CATALOGUE, STOCK, write_workbook


def stock_with(location: str, sku: str, value: object) -> dict[str, dict[str, object]]:
    return {loc: {**qty, sku: value} if loc == location else dict(qty) for loc, qty in STOCK.items()}


@pytest.mark.parametrize("value", [None, "5 pcs", -3.5], ids=["blank", "text", "not-a-whole-number"])
def test_a_refused_quantity_leaves_the_variants_stock_unknown(tmp_path: Path, value: object) -> None:
    wb = write_workbook(tmp_path / "p.xlsx", CATALOGUE, stock_with("Warehouse", "TEE-L-RD", value))
    result = read_spreadsheet(wb, currency="MRU")
    StockPolicy().apply(result.products)
    variants = {v.sku: v for p in result.products for v in p.variants}
    assert variants["TEE-L-RD"].stock == {} and not variants["TEE-L-RD"].stock_known
    assert variants["TEE-L-RD"].qty is ABSENT  # nothing listed: left as the marketplace has it
    assert variants["TEE-M-BL"].qty == 5 and variants["SOAP-01"].qty == 12  # the others as before
    assert any(i.sheet == "Stock - Warehouse" and i.sku == "TEE-L-RD" for i in result.issues)
    warning = next(w for w in result.warnings if w.startswith("stock of 1 SKU(s) not sent"))
    assert "TEE-L-RD (Stock - Warehouse row 5)" in warning


def test_a_row_refused_for_its_sku_says_nothing_of_any_variant(tmp_path: Path) -> None:
    stock = {"Warehouse": {**STOCK["Warehouse"], "NOT-LISTED": 4}, "Shop": STOCK["Shop"]}
    wb = write_workbook(tmp_path / "p.xlsx", CATALOGUE, stock)
    result = read_spreadsheet(wb, currency="MRU")
    assert all(v.stock_known for p in result.products for v in p.variants)
    assert not any(w.startswith("stock of ") for w in result.warnings)


@pytest.mark.sandbox
def test_a_blank_quantity_never_takes_a_listed_product_off_sale(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """TEA-500 has stock in the Warehouse only: its Warehouse cell emptied by mistake listed 0 (exit 1)."""
    wb = write_workbook(tmp_path / "p.xlsx", CATALOGUE, STOCK)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    before = quantities(elebne_sandbox)
    assert before["TEA-500"] == 30
    write_workbook(wb, CATALOGUE, stock_with("Warehouse", "TEA-500", None))
    for dry in (["--dry-run"], []):
        code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, *dry)
        assert code == EXIT_FAILED
        assert quantities(elebne_sandbox) == before
        rows = {(r["sheet"], r["status"]) for r in report["rows"] if r["sku"] == "TEA-500"}
        assert ("Stock - Warehouse", "skipped") in rows
        assert any(w.startswith("stock of 1 SKU(s) not sent") for w in report["warnings"])
    write_workbook(wb, CATALOGUE, stock_with("Warehouse", "TEA-500", 12))  # fixed: sent
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert quantities(elebne_sandbox)["TEA-500"] == 12


def _with_stock_row(path: Path, sheet: str, sku: str, qty: object) -> Path:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb[sheet].append([sku, qty])
    wb.save(path)
    return path


def test_a_sku_given_twice_with_other_quantities_has_its_stock_unknown(tmp_path: Path) -> None:
    """TEE-M-BL given 4 then 0 (appended, say, when it sold out): which is right is not known, so neither is sent.
    Before, the first row won (4) and the product stayed on sale with its last units gone."""
    wb = _with_stock_row(write_workbook(tmp_path / "p.xlsx", CATALOGUE, STOCK), "Stock - Warehouse", "TEE-M-BL", 0)
    result = read_spreadsheet(wb, currency="MRU")
    StockPolicy().apply(result.products)
    variants = {v.sku: v for p in result.products for v in p.variants}
    assert variants["TEE-M-BL"].qty is ABSENT and not variants["TEE-M-BL"].stock_known
    assert variants["TEE-L-RD"].qty == 8  # the others as before
    issue = next(i for i in result.issues if i.sku == "TEE-M-BL")
    assert "duplicate SKU (first seen on row 3, with another quantity" in issue.reason
    assert any("TEE-M-BL (Stock - Warehouse row 7)" in w for w in result.warnings)


def test_a_sku_given_twice_with_the_same_quantity_keeps_it(tmp_path: Path) -> None:
    wb = _with_stock_row(write_workbook(tmp_path / "p.xlsx", CATALOGUE, STOCK), "Stock - Warehouse", "TEE-M-BL", 4)
    result = read_spreadsheet(wb, currency="MRU")
    StockPolicy().apply(result.products)
    assert next(v for p in result.products for v in p.variants if v.sku == "TEE-M-BL").qty == 5
    assert [i.reason for i in result.issues if i.sku == "TEE-M-BL"] == ["duplicate SKU (first seen on row 3)"]
