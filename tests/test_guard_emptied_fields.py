"""The mass-change guard also holds a run that would empty a field customers see on many listed products at once
(a column emptied by mistake, a sheet of another template): ``connector/sync/cleared.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_OK, EXIT_USAGE
from connector.sync.cleared import blank, cleared_fields
from connector.sync.ops import PlannedOp
from connector.sync.payload_shape import KindShape
from connector.sync.plan import CATALOGUE as CATALOGUE_ROLE
from connector.sync.plan import STOCK as STOCK_ROLE
from connector.sync.plan import Plan
from tests.conftest import SandboxHandle
from tests.test_sync_safety_e2e import guard_profile, listed, sync
from tests.workbooks import CATALOGUE as ROWS_BASE
from tests.workbooks import STOCK as STOCK_BASE
from tests.workbooks import write_workbook

# eleven products, each with a description and a brand
# (the variants of a parent inherit its first row's: the T-shirt's own rows are left as they are)
SPICES = [{"SKU": f"SPICE-{i}", "Name": f"Spice {i}", "Price": 3 + i, "Description": f"Spice number {i}",
           "Brand": "Souk"} for i in range(8)]
ROWS = [{**r, "Description": r.get("Description") or f"About {r['SKU']}", "Brand": r.get("Brand") or "House"}
        if not r.get("Parent SKU") else r for r in ROWS_BASE] + SPICES
STOCK = {"Warehouse": {**STOCK_BASE["Warehouse"], **{f"SPICE-{i}": 5 for i in range(8)}}, "Shop": STOCK_BASE["Shop"]}


def descriptions(sandbox: SandboxHandle) -> dict[str, Any]:
    return {key: p.get("description") for key, p in sandbox.products().items()}


def emptied(skus: set[str], *fields: str) -> list[dict[str, Any]]:
    """The rows, the cells of ``fields`` emptied in the rows of ``skus``."""
    return [{**r, **dict.fromkeys(fields)} if r["SKU"] in skus else r for r in ROWS]


@pytest.mark.sandbox
def test_a_column_emptied_on_every_row_sends_nothing_until_allowed(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, STOCK)
    before, mark = descriptions(elebne_sandbox), elebne_sandbox.last_id()
    assert before["SOAP-01"] == "Olive & laurel"
    write_workbook(wb, emptied({r["SKU"] for r in ROWS}, "Description"), STOCK)
    capsys.readouterr()

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--dry-run")
    assert code == EXIT_USAGE  # the dry run says what the guard would say
    assert report["guard"]["emptied"] == {"description": 10}

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_USAGE
    err = " ".join(capsys.readouterr().err.split())
    assert "empty description on 10 of the 11 products listed" in err and "--allow-mass-change" in err
    assert "not sent: not sent" not in err
    assert elebne_sandbox.writes(since=mark) == [] and descriptions(elebne_sandbox) == before
    # the rows of the products sheet say it was not sent (their stock rows: unchanged, as their stock is)
    assert {r["status"] for r in report["rows"] if r["sku"] == "SOAP-01" and r["sheet"] == "Products"} == {"skipped"}

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--allow-mass-change")
    assert code == EXIT_OK and report["guard"]["allowed"] is True
    assert not any(descriptions(elebne_sandbox).values())


@pytest.mark.sandbox
def test_a_few_products_emptied_are_meant_and_sent(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, STOCK)
    # 2 of 11 products (18%): under the default 20%
    write_workbook(wb, emptied({"SPICE-0", "SPICE-1"}, "Description"), STOCK)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK and "emptied" not in report["guard"]
    assert not descriptions(elebne_sandbox)["SPICE-0"] and descriptions(elebne_sandbox)["SPICE-2"]
    # a third one, and the brand of three: 3 of 11 (27%) is over it, and a field that was empty already never counts
    write_workbook(wb, emptied({"SPICE-0", "SPICE-1", "SPICE-2"}, "Description", "Brand"), STOCK)
    mark = elebne_sandbox.last_id()
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_USAGE and elebne_sandbox.writes(since=mark) == []
    assert report["guard"]["emptied"] == {"brand": 3}  # the description of only one more is emptied


@pytest.mark.sandbox
def test_a_profile_share_applies_to_emptied_fields(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    wb = write_workbook(tmp_path / "products.xlsx", ROWS, STOCK)
    args = guard_profile(elebne_sandbox, wb, tmp_path, monkeypatch, "0.5")
    assert main(args) == EXIT_OK
    write_workbook(wb, emptied({f"SPICE-{i}" for i in range(4)}, "Description"), STOCK)  # 36%: under 50%
    assert main(args) == EXIT_OK
    assert not descriptions(elebne_sandbox)["SPICE-3"]


class _Bodies:
    """What ``ConfirmedBodies.get`` hands out, from a table (and which keys were asked for)."""

    def __init__(self, bodies: dict[str, dict[str, Any]]) -> None:
        self.bodies, self.asked = bodies, []  # type: list[str]

    def get(self, kind: str, keys: Any) -> dict[str, dict[str, Any]]:
        keys = list(keys)
        self.asked += keys
        return {k: self.bodies[k] for k in keys if k in self.bodies}


def _plan(*ops: PlannedOp) -> Plan:
    return Plan("elebne", "a", ops=list(ops), roles={"product": CATALOGUE_ROLE, "stock": STOCK_ROLE})


def _update(key: str, body: dict[str, Any]) -> PlannedOp:
    return PlannedOp("update", "product", key, body, body, "", "", None)


SHAPES = {"product": KindShape("product", "externalId", {"variants": "label"})}


def test_children_are_matched_and_only_what_was_shown_counts() -> None:
    old = {"A": {"description": "x", "images": ["a.jpg"], "seo": {"title": "t", "text": ""},
                 "variants": [{"label": "S", "barcode": "1"}, {"label": "M", "barcode": ""}]}}
    plan = _plan(_update("A", {"description": " ", "images": [], "seo": {"title": None, "text": None},
                               "variants": [{"label": "s", "barcode": None}, {"label": "M", "barcode": None},
                                            {"label": "L", "barcode": None}]}))
    assert cleared_fields(plan, _Bodies(old), SHAPES) == {
        "description": {"A"}, "images": {"A"}, "seo.title": {"A"}, "variants[].barcode": {"A"}}


def test_nothing_emptied_reads_no_confirmed_body() -> None:
    bodies = _Bodies({"A": {"description": "x"}})
    stock = PlannedOp("stock", "stock", "A", {"quantity": 0}, {"quantity": 0}, "", "", None)
    plan = _plan(_update("A", {"description": "y", "price": 0, "active": False}), stock,
                 PlannedOp("create", "product", "B", {"description": ""}, {"description": ""}, "", "", None))
    assert cleared_fields(plan, bodies, SHAPES) == {} and bodies.asked == []


@pytest.mark.parametrize(("value", "empty"), [(None, True), ("", True), ("  \n", True), ([], True), ({}, True),
                                              (0, False), (False, False), ("0", False), ([""], False)])
def test_blank(value: Any, empty: bool) -> None:
    assert blank(value) is empty


@pytest.mark.sandbox
def test_elryan_descriptions_emptied_in_every_variant_are_refused(elryan_sandbox: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from connector.sources.spreadsheet import read_spreadsheet
    from connector.sync.safety import SafetyOptions
    from tests.test_elryan_sync import souk_workbook
    from tests.test_sync_safety_e2e import elryan_run, elryan_variants

    wb = souk_workbook(tmp_path / "souk.xlsx")
    assert elryan_run(elryan_sandbox, tmp_path, read_spreadsheet(wb, currency="IQD"), SafetyOptions()).exit_code \
        == EXIT_OK
    book = load_workbook(wb)
    sheet = book["Products"]
    column = [c.value for c in sheet[1]].index("Description") + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, column).value = None
    book.save(wb)
    report = elryan_run(elryan_sandbox, tmp_path, read_spreadsheet(wb, currency="IQD"), SafetyOptions())
    assert report.exit_code == EXIT_USAGE and report.guard["emptied"] == {"variants[].description": 2}
    assert elryan_variants(elryan_sandbox)["PHONE-1"]["description"] == "A phone"
