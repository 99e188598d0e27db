"""A variant added to a product Elebne lists is never sent without its stock: Elebne sells a variant it holds without
a quantity uncounted (docs/elebne.md), as it does a product created without one.

Before, a new size row whose stock was not known (no stock row, or its stock row refused) went out in the product's
update (``PATCH /products/{id}`` adds variants by label) with no quantity, exit 0: the sandbox then took an order of
1000 of it.  Now that update is held, as the create of a product with a size of unknown stock is
(``AdapterBase.held_without_stock``, code ``created_without_stock_held``): its rows failed naming the size (exit 1), the
product's stock still sent for the sizes Elebne has, in a dry run as in the real run.  Once the size has a quantity it
is added with it.  A size Elebne already has, whose stock is unknown this run, keeps its quantity: its update goes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK
from connector.sync.ops import CREATE_HELD
from connector.sync.report import report_rows
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox

SIZES = ("S", "M", "L")


def _rows(sizes: tuple[str, ...], price: float = 5) -> list[dict[str, Any]]:
    return [{"Parent SKU": "TEE", "SKU": f"TEE-{s}", "Name": "Tee", "Price": price, "Attribute: Size": s}
            for s in sizes] + [{"SKU": "MUG-1", "Name": "Mug", "Price": 6}]


def _sync(sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]],
          stock: dict[str, Any], *extra: str) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
    """The exit code, and the report's rows by (sheet, SKU): a SKU has a row on Products and one on its stock
    sheet."""
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    workbook = write_workbook(tmp_path / "products.xlsx", rows, {"Warehouse": stock})
    report = tmp_path / "r.json"
    report.unlink(missing_ok=True)
    code = main(["sync", "--source", str(workbook), "--target", "elebne", "--base-url", sandbox.base_url,
                 "--state", str(tmp_path / "s.sqlite"), "--report", str(report), "--no-progress", *extra])
    return code, {(r["sheet"], r["sku"]): r for r in report_rows(json.loads(report.read_text("utf-8")))}


def _variants(sandbox: SandboxHandle) -> dict[str, Any]:
    return {v["label"]: v for v in sandbox.products()["TEE"]["variants"]}


def _order(sandbox: SandboxHandle, label: str, quantity: int) -> int:
    return requests.post(sandbox.base_url + "/orders/simulate", timeout=5, headers={
        "Authorization": f"Bearer {ELEBNE_KEY}"}, json={"items": [{"externalId": "TEE", "variantLabel": label,
                                                                    "quantity": quantity}]}).status_code


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("l_stock", [{}, {"TEE-L": -3}], ids=["no-stock-row", "stock-row-refused"])
def test_a_new_size_of_unknown_stock_is_not_added_to_a_listed_product(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, l_stock: dict[str, int],
        dry_run: bool) -> None:
    stock = {"TEE-S": 4, "TEE-M": 3, "MUG-1": 10}
    code, _ = _sync(elebne_sandbox, tmp_path, monkeypatch, _rows(SIZES[:2]), stock)
    assert code == EXIT_OK and set(_variants(elebne_sandbox)) == {"S", "M"}
    mark = elebne_sandbox.last_id()
    # size L added, its stock unknown; S sold down to 2 (its stock must still go) and the mug's stock changes
    stock = {**stock, "TEE-S": 2, "MUG-1": 9, **l_stock}
    code, rows = _sync(elebne_sandbox, tmp_path, monkeypatch, _rows(SIZES), stock,
                       *(["--dry-run"] if dry_run else []))
    assert code == EXIT_FAILED
    for sku in ("TEE-S", "TEE-M", "TEE-L"):  # the product's update waits: every row of it says why
        row = rows["Products", sku]
        assert row["status"] == "failed", row
        assert "variant(s) TEE-L" in row["reason"] and "uncounted" in row["reason"], row
        assert row["code"] == CREATE_HELD, row
    assert rows["Stock - Warehouse", "TEE-S"]["status"] == "pushed"  # S's stock goes
    assert rows["Products", "MUG-1"]["status"] == "pushed"
    if not dry_run:
        variants = _variants(elebne_sandbox)
        assert set(variants) == {"S", "M"}  # L not on sale
        assert variants["S"]["quantity"] == 2 and variants["M"]["quantity"] == 3  # the stock of S and M went
        assert elebne_sandbox.products()["MUG-1"]["quantity"] == 9
        assert not [w for w in elebne_sandbox.writes(since=mark) if "TEE-L" in json.dumps(w)]
        assert _order(elebne_sandbox, "L", 1000) == 400  # no such variant to sell


def test_once_the_new_size_has_a_quantity_it_is_added_with_it(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stock = {"TEE-S": 4, "TEE-M": 3, "MUG-1": 10}
    assert _sync(elebne_sandbox, tmp_path, monkeypatch, _rows(SIZES[:2]), stock)[0] == EXIT_OK
    assert _sync(elebne_sandbox, tmp_path, monkeypatch, _rows(SIZES), stock)[0] == EXIT_FAILED
    code, rows = _sync(elebne_sandbox, tmp_path, monkeypatch, _rows(SIZES), stock)  # the same file again: held again
    assert code == EXIT_FAILED and "variant(s) TEE-L" in rows["Products", "TEE-L"]["reason"], rows
    code, rows = _sync(elebne_sandbox, tmp_path, monkeypatch, _rows(SIZES), {**stock, "TEE-L": 0})
    assert code == EXIT_OK, rows
    assert all(rows["Products", f"TEE-{s}"]["status"] == "pushed" for s in SIZES), rows
    assert _variants(elebne_sandbox)["L"]["quantity"] == 0
    assert _order(elebne_sandbox, "L", 1) == 409  # counted: sold out


def test_a_listed_size_whose_stock_is_unknown_keeps_its_quantity_and_its_update_goes(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No size is added: Elebne keeps counting M at the quantity last sent, so the new price goes (exit 0, as
    before: the stock warning says M's stock was not given)."""
    stock = {"TEE-S": 4, "TEE-M": 3, "MUG-1": 10}
    assert _sync(elebne_sandbox, tmp_path, monkeypatch, _rows(SIZES[:2]), stock)[0] == EXIT_OK
    code, rows = _sync(elebne_sandbox, tmp_path, monkeypatch, _rows(SIZES[:2], price=7),
                       {"TEE-S": 4, "MUG-1": 10})
    assert code == EXIT_OK, rows
    assert rows["Products", "TEE-M"]["status"] == "pushed", rows
    variants = _variants(elebne_sandbox)
    assert variants["M"]["price"] == 700 and variants["M"]["quantity"] == 3
