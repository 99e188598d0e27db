"""A mapping's key field (Elebne's ``externalId``, EcomLinx's ``sku``, Elryan's ``spu``) is the product's key.

The connector finds a listing, its state, its updates and its stock by the product's key.  An integrator's
mapping that maps the key field to something else (``'MR-' ~ product.key``, ``product.brand``) created listings
under that other identifier (on sale, their stock never set: stock goes by the key), then failed every update
and stock update of them; one mapping two products to one identifier made them one listing.  Now
``mapping check`` and the sync's load refuse a key field copying another path or a constant (exit 2, file, line
and field), and a key field computed by an expression is checked per product: one whose value is not its key is
not planned at all (a mapping failure naming the field), nothing of it is sent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_USAGE
from connector.sync.report import report_rows
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox


def _mapping(tmp_path: Path, external_id: str) -> Path:
    path = tmp_path / "my-elebne.yaml"
    path.write_text("extends: elebne\npayloads:\n  product:\n    fields:\n"
                    f"      externalId: {external_id}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("external_id", ["{expr: \"'MR-' ~ product.key\"}", "{expr: \"product.brand\"}"])
def test_a_key_field_computed_otherwise_sends_nothing_of_the_product(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], external_id: str) -> None:
    rows = [{"SKU": "TEAPOT-1L", "Name": "Teapot", "Brand": "Atlas Home", "Price": 12},
            {"SKU": "BOWL-L", "Name": "Bowl", "Brand": "Atlas Home", "Price": 4.5}]
    wb = write_workbook(tmp_path / "products.xlsx", rows, {"Warehouse": {"TEAPOT-1L": 3, "BOWL-L": 2}})
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    report = tmp_path / "r.json"
    mark = elebne_sandbox.last_id()
    code = main(["sync", "--source", str(wb), "--target", "elebne", "--base-url", elebne_sandbox.base_url,
                 "--mapping", str(_mapping(tmp_path, external_id)), "--state", str(tmp_path / "s.sqlite"),
                 "--report", str(report), "--no-progress"])
    assert code == EXIT_FAILED
    assert elebne_sandbox.writes(since=mark) == [] and elebne_sandbox.products() == {}
    got = {r["sku"]: (r["status"], r["reason"]) for r in report_rows(json.loads(report.read_text("utf-8")))}
    assert set(got) == {"TEAPOT-1L", "BOWL-L"}
    for sku, (status, reason) in got.items():
        assert status == "failed"
        assert "key field externalId gives" in reason and f"not the product's key '{sku}'" in reason, reason
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("external_id, said", [
    ("product.brand", "copies product.brand, not product.key"),
    ("{const: SHOP}", "the key field is a constant ('SHOP')")])
def test_mapping_check_refuses_a_key_field_copying_something_else(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], external_id: str, said: str) -> None:
    path = _mapping(tmp_path, external_id)
    assert main(["mapping", "check", str(path)]) == EXIT_USAGE
    err = " ".join(capsys.readouterr().err.split())
    assert f"{path.name}:5" in err and "payloads.product.fields.externalId" in err and said in err, err
    assert "Traceback" not in err


def test_the_shipped_mappings_and_a_stock_key_copying_product_key_still_load(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("extends: ecomlinx\npayloads:\n  stock:\n    fields:\n      sku: {copy: product.key}\n",
                    encoding="utf-8")
    assert main(["mapping", "check", str(path)]) == 0
    for name in ("elebne", "elryan", "ecomlinx"):
        shipped = tmp_path / f"{name}.yaml"
        shipped.write_text(f"extends: {name}\n", encoding="utf-8")
        assert main(["mapping", "check", str(shipped)]) == 0, capsys.readouterr()
