"""A product deleted on the marketplace: the push forgets every kind confirmed against it, so the next run
re-creates it *and* sends its stock again (bindings are per kind; the record's kinds go together)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.cli import main
from tests.conftest import ELEBNE_KEY, SandboxHandle, running_elebne
from tests.workbooks import set_cell, write_workbook

pytestmark = pytest.mark.sandbox


@pytest.fixture
def emptied_shop(tmp_path: Path) -> Iterator[SandboxHandle]:
    """A second, empty sandbox: the shop as it is after someone deleted every product by hand."""
    with running_elebne(tmp_path / "emptied.sqlite") as handle:
        yield handle


def sync(shop: SandboxHandle, workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         state: str | Path) -> tuple[int, dict]:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    report = tmp_path / "report.json"
    code = main(["sync", "--source", str(workbook), "--target", "elebne", "--base-url", shop.base_url,
                 "--account", "shop", "--state", str(state), "--report", str(report),
                 "--no-progress"])
    return code, json.loads(report.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("sheet", "header", "value", "sku"), [
    ("Products", "Price", 9.5, "TEA-500"),  # a product update answers PRODUCT_NOT_FOUND
    ("Stock - Warehouse", "Quantity", 3, "SOAP-01"),  # a bulk stock item answers PRODUCT_NOT_FOUND
])
def test_a_product_gone_from_the_marketplace_comes_back_whole(
        elebne_sandbox: SandboxHandle, emptied_shop: SandboxHandle, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, sheet: str, header: str, value: float, sku: str,
        state_location: str | Path) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch, state_location)[0] == 0
    before = elebne_sandbox.products()[sku]
    set_cell(wb, sheet, sku, header, value)
    code, _report = sync(emptied_shop, wb, tmp_path, monkeypatch, state_location)  # the change meets a deleted product
    assert code == 1
    code, report = sync(emptied_shop, wb, tmp_path, monkeypatch, state_location)
    assert code == 0, report["rows"]
    again = emptied_shop.products()[sku]
    expected_quantity = 5 if sku == "SOAP-01" else before["quantity"]
    expected_price = 950 if sku == "TEA-500" else before["price"]
    assert (again["price"], again["quantity"]) == (expected_price, expected_quantity)
