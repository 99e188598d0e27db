"""What a dry run accepts, the marketplace accepts (issue 12, point 4, the marketplace side).

``sync --dry-run`` and ``validate --target`` apply every rule of the adapter and of the marketplace's document
(integer ranges, lengths, http(s) image URLs, sibling variants...), report each problem per SKU, field and
value in plain words (never pydantic's or Python's own text), and plan what the real run does: the same row
statuses and operation counts, per marketplace, on a sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from connector.cli import main
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from connector.marketplaces.ecomlinx.adapter import MATCH_AT_PUSH, NOT_ON_ECOMLINX
from connector.marketplaces.ecomlinx.payloads import problems as ecomlinx_problems
from connector.marketplaces.elebne import PLUGIN as ELEBNE
from connector.marketplaces.elebne.payloads import problems as elebne_problems
from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.marketplaces.elryan.payloads import problems as elryan_problems
from connector.marketplaces.shapes import MAX_INT, join_problems
from connector.model import Money
from connector.sources.spreadsheet import read_spreadsheet
from connector.sync.report import FAILED, PUSHED, SKIPPED, RunReport, plain_mapping_reason
from connector.sync.runner import SyncOptions, run_sync
from tests.conftest import SandboxHandle, running_ecomlinx
from tests.workbooks import CATALOGUE, HEADERS, STOCK, write_workbook

pytestmark = pytest.mark.sandbox

# what must never reach a merchant: pydantic's, Jinja's and Python's own words
INTERNAL = ("Input should", "String should", "should be a valid", "should have at least", "InvalidOperation",
            "<class", "dict object", "Value error", "validation error")
DEFAULTS = {"tax": 0, "guarantee": 12, "fulfillment_day": 2,
            "supplier": {"name": "Souk Trading", "remote_id": "sup-souk"}, "brand": "House"}


def bad_workbook(path: Path) -> Path:
    """The sample catalogue with values every marketplace (or its document) refuses, and good rows around."""
    rows = [dict(r) for r in CATALOGUE]
    rows[0]["Price"] = 99_999_999  # 9,999,999,900 cents: beyond Elebne's integer range
    rows[4]["Images"] = "ftp://files.example/tea.png"  # not a web address
    rows += [  # siblings: one lacks the Color the other has; two with the same values (M and m)
        {"Parent SKU": "CAP", "SKU": "CAP-1", "Name": "Cap", "Price": 5, "Attribute: Size": "M"},
        {"Parent SKU": "CAP", "SKU": "CAP-2", "Name": "Cap", "Price": 5, "Attribute: Color": "Red"},
        {"Parent SKU": "HAT", "SKU": "HAT-1", "Name": "Hat", "Price": 5, "Attribute: Size": "M"},
        {"Parent SKU": "HAT", "SKU": "HAT-2", "Name": "Hat", "Price": 5, "Attribute: Size": "m"},
        {"SKU": "MUG", "Name": "Mug", "Price": 4, "Category": "Home > Kitchen", "Brand": "Clay",
         "Images": "https://img.example/mug.png"},
    ]
    # each cell is a valid quantity (the reader refuses a single cell beyond 2,147,483,647); their sum is not
    stock = {"Warehouse": {**STOCK["Warehouse"], "TEE-L-RD": 2_000_000_000, "MUG": 2},
             "Shop": {**STOCK["Shop"], "TEE-L-RD": 1_000_000_001}}
    return write_workbook(path, rows=rows, stock=stock, headers=[*HEADERS, "Images"])


def no_internal_text(report: RunReport | dict[str, Any]) -> None:
    text = json.dumps(report if isinstance(report, dict) else report.to_json(), ensure_ascii=False, default=str)
    for phrase in INTERNAL:
        assert phrase not in text, phrase


def rows_by_sku(report: RunReport) -> dict[tuple[str | None, str | None], Any]:
    return {(r.sku, r.sheet): r for r in report.rows}


def outcome(report: RunReport) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """What a dry run must foresee of the real run: operation counts and every row's status."""
    ops = {k: v for k, v in report.operations.items() if v}
    return ops, sorted((r.sheet, r.row, r.sku, r.status) for r in report.rows)


# -- plain words ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("problems", "action", "body", "words"), [
    (elebne_problems, "create", {"externalId": "A", "name": "", "price": "7"}, ("name must not be empty",
                                                                              "price must be a whole number")),
    (elebne_problems, "create", {"externalId": "A", "price": 1}, ("name is required to create a product",)),
    (elebne_problems, "create", {"externalId": "A", "name": "n", "price": MAX_INT + 1},
     ("price is too large: Elebne takes prices in minor units",)),
    (elebne_problems, "stock", {"externalId": "A", "mode": "set", "quantity": -1}, ("quantity must not be negative",)),
    (elebne_problems, "update", {"externalId": "A", "images": ["file:///etc/passwd"]},
     ("images[1] must be a web address starting with http:// or https://",)),
    (elebne_problems, "update", {"externalId": "A", "variants": [{"label": "  "}]},
     ("variants[1].label must not be empty",)),
    (ecomlinx_problems, "stock", {"sku": "A", "quantity": MAX_INT + 1},
     ("quantity is too large: at most 2,147,483,647",)),
    (ecomlinx_problems, "update", {"sku": "A", "status": "suppressed", "price": "abc"},
     ("status must be one of", "price must be a decimal amount")),
    (elryan_problems, "price_stock_item", {"sku": "A", "stock": 1.5}, ("stock must be a whole number",)),
    (elryan_problems, "price_stock_item", {"sku": "A", "price": -1}, ("price must not be negative",)),
    (elryan_problems, "brand", {"name": " ", "remote_id": "b", "is_active": True}, ("name must not be empty",)),
])
def test_payload_problems_are_in_plain_words(problems: Any, action: str, body: dict[str, Any],
                                             words: tuple[str, ...]) -> None:
    text = join_problems(problems(action, body))
    assert text is not None
    for w in words:
        assert w in text, text
    for phrase in INTERNAL:
        assert phrase not in text


def test_mapping_failures_are_reported_in_plain_words() -> None:
    assert plain_mapping_reason("mapping field 'payloads.product.fields.price': [<class 'decimal.InvalidOperation'>]"
                                ) == "Price: the number is too large or not a number"
    assert plain_mapping_reason("mapping field 'variants[].supplier': required value is missing") == \
        "supplier (profile setting defaults.supplier): required value is missing"
    assert "'dict object'" not in plain_mapping_reason("mapping field 'brand': 'dict object' has no attribute 'brand'")


# -- Elebne -----------------------------------------------------------------------------------------------------
def elebne_sync(sandbox: SandboxHandle, workbook: Path, tmp_path: Path, *extra: str,
                monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, Any]]:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE.sandbox_key)
    report = tmp_path / "report.json"
    code = main(["sync", "--source", str(workbook), "--target", "elebne", "--base-url", sandbox.base_url,
                 "--state", str(tmp_path / "state.sqlite"), "--report", str(report), "--no-progress", *extra])
    return code, json.loads(report.read_text(encoding="utf-8"))


def test_elebne_dry_run_reports_what_elebne_refuses_per_sku_field_and_value(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = bad_workbook(tmp_path / "bad.xlsx")
    code, report = elebne_sync(elebne_sandbox, wb, tmp_path, "--dry-run", monkeypatch=monkeypatch)
    assert code == 1 and elebne_sandbox.requests() == []
    rows = {(r["sku"], r["sheet"]): r for r in report["rows"]}
    assert rows[("SOAP-01", "Products")]["status"] == FAILED
    assert "SKU SOAP-01: Price '99999999' is too large" in rows[("SOAP-01", "Products")]["reason"]
    assert "Images 'ftp://files.example/tea.png' must be a web address" in rows[("TEA-500", "Products")]["reason"]
    assert "Attribute: Color is empty while other variants of product CAP" in rows[("CAP-1", "Products")]["reason"]
    assert "are the same as SKU HAT-1's" in rows[("HAT-2", "Products")]["reason"]
    assert "SKU TEE-L-RD: Stock (the sum of its Quantity cells) '3000000001' is too large" in \
        rows[("TEE-L-RD", "Stock - Warehouse")]["reason"]
    assert rows[("MUG", "Products")]["status"] == PUSHED
    # per cell, in the report's issues: sheet, row, column, value and reason
    cells = {(i["sku"], i["column"]): i for i in report["issues"] if i.get("target") == "elebne"}
    assert cells[("SOAP-01", "Price")] | {} == {
        "sheet": "Products", "row": 2, "column": "Price", "value": "99999999", "sku": "SOAP-01",
        "reason": "is too large: Elebne takes prices in minor units (cents), at most 2,147,483,647 "
                  "(i.e. 21,474,836.47)", "severity": "error", "target": "elebne"}
    assert cells[("TEA-500", "Images")]["value"] == "ftp://files.example/tea.png"
    assert (cells[("CAP-2", "Attribute: Size")]["sheet"], cells[("CAP-2", "Attribute: Size")]["row"]) == (
        "Products", 8)
    no_internal_text(report)


def test_elebne_dry_run_plans_what_the_real_run_does(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    wb = bad_workbook(tmp_path / "bad.xlsx")
    source = read_spreadsheet(wb, currency="MRU")
    opts = SyncOptions(target="elebne", state_path=tmp_path / "state.sqlite", secret=ELEBNE.sandbox_key,
                       base_url=elebne_sandbox.base_url, account="shop", dry_run=True)
    dry = run_sync(source, opts).report
    assert elebne_sandbox.requests() == []
    opts.dry_run = False
    real = run_sync(read_spreadsheet(wb, currency="MRU"), opts).report
    assert outcome(dry) == outcome(real)
    assert dry.status_counts[FAILED] > 0 and dry.status_counts[PUSHED] > 0
    # nothing the dry run let through was refused by the sandbox: every failure was foreseen before sending
    refused = [r for r in elebne_sandbox.requests() if r["status"] >= 400]
    assert refused == []
    no_internal_text(dry)
    no_internal_text(real)


# -- EcomLinx ---------------------------------------------------------------------------------------------------
ON_ECOMLINX = ("SOAP-01", "TEE-M-BL", "TEE-L-RD", "MUG", "HAT-2")


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[Any]:
    with running_ecomlinx(tmp_path / "ecomlinx.sqlite", ON_ECOMLINX) as server:
        yield server


def ecomlinx_opts(server: Any, tmp_path: Path, *, secret: str | None, dry_run: bool) -> SyncOptions:
    return SyncOptions(target="ecomlinx", state_path=tmp_path / "state.sqlite", secret=secret,
                       base_url=server.api_url, account="shop", dry_run=dry_run)


def test_ecomlinx_dry_run_without_credentials_does_not_promise_creates(ecomlinx, tmp_path: Path) -> None:
    source = read_spreadsheet(write_workbook(tmp_path / "ok.xlsx"), currency="INR")
    report = run_sync(source, ecomlinx_opts(ecomlinx, tmp_path, secret=None, dry_run=True)).report
    skus = {v.sku for p in source.products for v in p.variants}
    assert report.operations["create"] == 0  # EcomLinx has no create call
    assert report.operations["match_at_push"] == len(skus)
    products = [r for r in report.rows if r.sheet == "Products"]
    assert products and all(r.reason == f"dry run: {MATCH_AT_PUSH}" for r in products)
    assert any(f"{len(skus)} SKU(s) would be matched by SKU at push time" in n for n in report.notes)
    assert ecomlinx.requests_log() == []


def test_ecomlinx_dry_run_with_credentials_reads_the_listing_and_plans_what_the_real_run_does(
        ecomlinx, tmp_path: Path) -> None:
    wb = bad_workbook(tmp_path / "bad.xlsx")
    dry = run_sync(read_spreadsheet(wb, currency="INR"),
                   ecomlinx_opts(ecomlinx, tmp_path, secret=ECOMLINX.sandbox_key, dry_run=True)).report
    assert [r["method"] for r in ecomlinx.requests_log()] == ["GET"]  # the listing, nothing written
    rows = rows_by_sku(dry)
    assert rows[("TEA-500", "Products")].status == SKIPPED
    assert rows[("TEA-500", "Products")].reason == NOT_ON_ECOMLINX
    assert dry.operations["not_on_ecomlinx"] > 0 and "match_at_push" not in dry.operations
    assert rows[("TEE-L-RD", "Stock - Warehouse")].status == FAILED  # 3,000,000,000 units
    real = run_sync(read_spreadsheet(wb, currency="INR"),
                    ecomlinx_opts(ecomlinx, tmp_path, secret=ECOMLINX.sandbox_key, dry_run=False)).report
    assert outcome(dry) == outcome(real)
    assert [r for r in ecomlinx.requests_log() if r["status"] >= 400] == []
    no_internal_text(dry)


# -- Elryan -----------------------------------------------------------------------------------------------------
@pytest.fixture
def elryan(elryan_sandbox: Any) -> Any:
    return elryan_sandbox


def test_elryan_dry_run_plans_what_the_real_run_does(elryan, tmp_path: Path) -> None:
    wb = bad_workbook(tmp_path / "bad.xlsx")
    opts = SyncOptions(target="elryan", state_path=tmp_path / "state.sqlite", secret=SANDBOX_PASSWORD,
                       base_url=elryan.api_url, account="shop", dry_run=True,
                       settings={"email": SANDBOX_EMAIL, "defaults": DEFAULTS})
    dry = run_sync(read_spreadsheet(wb, currency="IQD"), opts).report
    assert elryan.requests_log() == []
    rows = rows_by_sku(dry)
    assert "must be a web address" in rows[("TEA-500", "Products")].reason
    assert "Attribute: Color is empty" in rows[("CAP-1", "Products")].reason
    assert rows[("TEE-L-RD", "Stock - Warehouse")].status == FAILED
    assert rows[("MUG", "Products")].status == PUSHED
    opts.dry_run = False
    real = run_sync(read_spreadsheet(wb, currency="IQD"), opts).report
    assert outcome(dry) == outcome(real)
    no_internal_text(dry)
    no_internal_text(real)


# -- connector validate --target --------------------------------------------------------------------------------
def test_validate_against_a_target_lists_each_refused_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = bad_workbook(tmp_path / "bad.xlsx")
    assert main(["validate", str(wb)]) == 0  # the workbook itself is fine...
    capsys.readouterr()
    copy = tmp_path / "errors.xlsx"
    code = main(["validate", str(wb), "--target", "elebne", "--json", "--errors-copy", str(copy)])
    assert code == 1  # ...but Elebne would refuse some of it
    listed = json.loads(capsys.readouterr().out.split("\nerror copy")[0])
    issues = {(i["sku"], i["column"]): i for i in listed["issues"]}
    price = issues[("SOAP-01", "Price")]
    assert (price["sheet"], price["row"], price["value"]) == ("Products", 2, "99999999")
    assert price["reason"].startswith("Elebne: is too large")
    assert issues[("TEA-500", "Images")]["reason"] == "Elebne: must be a web address starting with http:// or https://"
    assert ("MUG", "Images") not in issues
    no_internal_text(listed)
    marked = load_workbook(copy)["Products"]
    assert "is too large" in marked["G2"].comment.text  # the Price cell of SOAP-01


def test_validate_target_with_a_profile_uses_its_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = write_workbook(tmp_path / "ok.xlsx")
    profile = tmp_path / "shop.yaml"
    profile.write_text(f"name: shop\nsource: {{type: spreadsheet, path: {wb}}}\nstate: {tmp_path / 's.sqlite'}\n"
                       "targets:\n  elryan:\n    settings:\n      defaults: {tax: 0, guarantee: 12, "
                       "fulfillment_day: 2, brand: House, supplier: {name: Souk, remote_id: sup-souk}}\n",
                       encoding="utf-8")
    assert main(["validate", str(wb), "--target", "elryan", "--currency", "IQD"]) == 1  # no defaults: refused
    assert "supplier" in capsys.readouterr().out
    assert main(["validate", str(wb), "--target", "elryan", "--profile", str(profile), "--currency", "IQD"]) == 0
    assert main(["validate", str(wb), "--profile", str(profile), "--currency", "IQD", "--json"]) == 0
    capsys.readouterr()
    bad = bad_workbook(tmp_path / "bad.xlsx")
    assert main(["validate", str(bad), "--profile", str(profile), "--currency", "IQD", "--json"]) == 1
    assert any(i["reason"].startswith("Elryan: ") for i in json.loads(capsys.readouterr().out)["issues"])


def test_prices_keep_their_decimals_in_the_words() -> None:
    # a Decimal price is shown as the merchant typed it, not as minor units
    from connector.marketplaces.wording import FieldProblem

    assert str(FieldProblem("A", "Price", Decimal("12.50"), "is too large")) == "SKU A: Price '12.50' is too large"


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_validate_target_names_the_column_as_the_merchant_wrote_it(tmp_path: Path, suffix: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    if suffix == ".csv":
        wb = tmp_path / "produits.csv"
        wb.write_text("SKU;Nom;Prix;Images\nA-1;Savon;99999999;ftp://x/y.png\n", encoding="utf-8")
    else:
        wb = write_workbook(tmp_path / "produits.xlsx", stock={}, headers=["SKU*", "Nom*", "Prix*", "Images"],
                            rows=[{"SKU*": "A-1", "Nom*": "Savon", "Prix*": 99_999_999, "Images": "ftp://x/y.png"}])
    assert main(["validate", str(wb), "--target", "elebne", "--json"]) == 1
    issues = {i["column"]: i for i in json.loads(capsys.readouterr().out)["issues"]}
    assert set(issues) == {"Prix*" if suffix == ".xlsx" else "Prix", "Images"}
    if suffix == ".xlsx":  # the error copy marks the merchant's own Prix cell
        assert main(["validate", str(wb), "--target", "elebne", "--errors-copy", str(tmp_path / "e.xlsx")]) == 1
        assert "is too large" in load_workbook(tmp_path / "e.xlsx")["Products"]["C2"].comment.text


def test_dry_run_report_names_the_column_as_the_merchant_wrote_it(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    wb = write_workbook(tmp_path / "produits.xlsx", stock={}, headers=["SKU*", "Nom*", "Prix*"],
                        rows=[{"SKU*": "A-1", "Nom*": "Savon", "Prix*": 99_999_999}])
    report = tmp_path / "report.json"
    monkeypatch.delenv("ELEBNE_API_KEY", raising=False)
    code = main(["sync", "--source", str(wb), "--target", "elebne", "--dry-run", "--state", str(tmp_path / "s.sqlite"),
                 "--report", str(report), "--no-progress"])
    assert code == 1
    issues = [i for i in json.loads(report.read_text(encoding="utf-8"))["issues"] if i.get("target")]
    assert [(i["sku"], i["column"], i["value"]) for i in issues] == [("A-1", "Prix*", "99999999")]


def test_a_price_no_marketplace_can_take_is_reported_in_plain_words(tmp_path: Path) -> None:
    """A workbook refuses such a price per cell; a feed (Odoo, the supplier) can still carry one to the mapping."""
    wb = write_workbook(tmp_path / "big.xlsx", rows=[{"SKU": "A", "Name": "n", "Price": 1}], stock={})
    for target in ("elebne", "ecomlinx"):
        opts = SyncOptions(target=target, state_path=tmp_path / f"{target}.sqlite", secret=None, dry_run=True)
        source = read_spreadsheet(wb, currency="MRU")
        variant = source.products[0].variants[0]
        variant.price = Money(Decimal("1e30"), variant.price.currency)
        report = run_sync(source, opts).report
        assert [(r.sku, r.status, r.reason) for r in report.rows] == [
            ("A", FAILED, "Price: the number is too large or not a number")]
        no_internal_text(report)


def test_ecomlinx_dry_run_with_a_read_only_key_says_nothing_would_be_sent(ecomlinx, tmp_path: Path) -> None:
    opts = ecomlinx_opts(ecomlinx, tmp_path, secret=ECOMLINX.sandbox_key, dry_run=True)
    opts.settings = {"plan": "pro"}
    report = run_sync(read_spreadsheet(write_workbook(tmp_path / "ok.xlsx"), currency="INR"), opts).report
    assert report.status_counts[PUSHED] == 0 and report.operations["create"] == 0
    assert all(r.status == SKIPPED and "read-only" in (r.reason or "") for r in report.rows)


def test_problems_name_the_column_a_value_came_from() -> None:
    from connector.marketplaces.wording import explain
    from connector.model import Money, Product, SourceRef, Variant

    tee = Product(key="T" * 101, name="Tee", ref=SourceRef("Products", 2), variants=[
        Variant("TEE-M", {"Size": "M"}, price=Money(Decimal("25"), "MRU"), ref=SourceRef("Products", 2)),
        Variant("TEE-L", {"Size": "L"}, price=Money(Decimal("-1"), "MRU"), ref=SourceRef("Products", 3))])
    body = {"externalId": tee.key, "variants": [{"label": "M", "sku": "TEE-M", "price": 2500},
                                                {"label": "L", "sku": "TEE-L", "price": -100}]}
    found = {(p.sku, p.field): p for p in explain(elebne_problems("update", body), body, tee)}
    assert found[(None, "Parent SKU")].reason == "is too long: at most 100 characters"
    price = found[("TEE-L", "Price")]
    assert (price.value, price.reason, price.ref) == (Decimal("-1"), "must not be negative", SourceRef("Products", 3))
    body = {"spu": "T", "translations": [{"language": "fr", "name": ""}]}
    words = [str(p) for p in explain(elryan_problems("product", body), body, None) if "(fr)" in str(p)]
    assert words == ["product: Name (fr) must not be empty"]


def test_elryan_names_every_missing_value_of_an_incomplete_product() -> None:
    from connector.marketplaces.elryan.adapter import ElryanAdapter
    from connector.model import Product, Variant
    from connector.sync.ops import PlannedOp

    class Client:
        email = "merchant@example.com"

    product = Product("P", variants=[Variant("P")])
    body = {"spu": "P", "brand": None, "category": None}
    op = PlannedOp("create", "product", "P", body, body, "", "", product)
    found = {p.field: p.reason for p in ElryanAdapter(Client(), account="a").problems(op)}  # type: ignore[arg-type]
    assert found["Brand"] == found["Category"] == "is required by Elryan"
    assert found["tax (profile setting defaults.tax)"] == "is required by Elryan"


def test_a_missing_attribute_of_any_object_type_is_worded_plainly() -> None:
    """A qualified type name (``connector.mapping.yaml_lines.LineDict object``) is translated like ``dict object``."""
    said = plain_mapping_reason("mapping field 'payloads.product.fields.brand': "
                                "'connector.mapping.yaml_lines.LineDict object' has no attribute 'brand'")
    assert said == "Brand: has no value: 'brand' is neither in the source nor in the profile's defaults"
