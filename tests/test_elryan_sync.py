"""End to end: a workbook -> Elryan sandbox through ``run_sync``: dependency order, exact state, a second run
that sends nothing, 200-with-error_code failures per SKU, blocked products, batching and token renewal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from openpyxl import Workbook

from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.marketplaces.elryan.adapter import category_tree, slug
from connector.sources.base import SourceResult
from connector.sources.spreadsheet import read_spreadsheet
from connector.sync.runner import SyncOptions, SyncOutcome, run_sync
from connector.sync.stock_policy import StockPolicy

SAMPLE = Path(__file__).resolve().parents[1] / "templates" / "sample_catalogue.xlsx"
DEFAULTS = {"tax": 0, "guarantee": 12, "fulfillment_day": 2,
            "supplier": {"name": "Souk Trading", "remote_id": "sup-souk"}}
WRITES = ("POST", "PUT", "PATCH", "DELETE")

pytestmark = pytest.mark.sandbox


class Elryan:
    def __init__(self, server: Any, tmp: Path) -> None:
        self.server, self.tmp = server, tmp

    def state(self) -> dict[str, Any]:
        return requests.get(f"{self.server.url}/__sandbox/state", timeout=5).json()

    def log(self, since: int = 0) -> list[dict[str, Any]]:
        return self.server.requests_log(since)

    def last(self) -> int:
        return max((r["id"] for r in self.log()), default=0)

    def fault(self, **spec: Any) -> None:
        self.server.add_fault(**spec)

    def sync(self, source: SourceResult, **settings: Any) -> SyncOutcome:
        merged = {"email": SANDBOX_EMAIL, "defaults": DEFAULTS, **settings}
        opts = SyncOptions(target="elryan", state_path=self.tmp / "state.sqlite", secret=SANDBOX_PASSWORD,
                           base_url=self.server.api_url, settings=merged, source_label="test")
        return run_sync(source, opts)


@pytest.fixture
def elryan(elryan_sandbox: Any, tmp_path: Path) -> Elryan:
    return Elryan(elryan_sandbox, tmp_path)


def souk_workbook(path: Path) -> Path:
    """A small catalogue with a 3-level category tree, two brands, variants and Arabic/French translations."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Products"
    ws.append(["Parent SKU", "SKU", "Name", "Name (ar)", "Name (fr)", "Description", "Description (ar)", "Brand",
               "Category", "Price", "Currency", "Barcode", "Weight (kg)", "HS code", "Images", "Attribute: Size",
               "Attribute: Color", "Stock: Main"])
    ws.append(["TEE", "TEE-M-BL", "T-shirt", "قميص", "T-shirt coton", "Cotton tee", "قميص قطني", "Acme Wear",
               "Fashion > Men > T-shirts", 25000, "IQD", "4006381333931", 0.2, "6109",
               "https://img.example/tee.jpg https://img.example/tee-back.jpg", "M", "Blue", 5])
    ws.append(["TEE", "TEE-L-BL", "", "", "", "", "", "", "", 26000, "IQD", "", 0.2, "6109", "", "L", "Blue", 3])
    ws.append(["", "PHONE-1", "Phone X", "هاتف إكس", "Téléphone X", "A phone", "", "Dune Mobile",
               "Electronics > Phones", 500000.5, "IQD", "", 0.3, "8517", "https://img.example/p.jpg", "", "", 7])
    wb.save(path)
    return path


def expected_state(source: SourceResult) -> dict[str, Any]:
    """What the sandbox must hold after a sync of ``source`` with the shipped mapping, derived independently
    of the adapter: every category level, brand, attribute and value once, every SKU with its price, stock,
    attributes and translations.  What is archived is not there: a first sync does not create it."""
    policy = StockPolicy()
    categories, brands, attributes, values, products = {}, {}, {}, {}, {}
    for p in source.products:
        if not p.active or not any(v.active for v in p.variants):
            continue
        for node in category_tree(p.category_path, "cat-"):
            categories[node["remote_id"]] = (node["name"], node["remote_parent_id"])
        brands["brand-" + slug(p.brand)] = p.brand
        langs = {loc.split("_")[0]: tr.get("name", p.name) for loc, tr in p.translations.items()}
        variants = {}
        for v in [v for v in p.variants if v.active]:
            attrs = set()
            for name, value in v.attributes.items():
                aid = "attr-" + slug(name)
                attributes[aid] = name
                values[f"{aid}-{slug(value)}"] = (value, aid)
                attrs.add((name, value, aid, f"{aid}-{slug(value)}"))
            stock = policy.listed(v, p.kind)
            variants[v.sku] = {"price": v.price.amount, "currency": v.price.currency,
                               "stock": 0 if stock is None or not isinstance(stock, int) else stock,
                               "attributes": attrs, "languages": set(langs)}
        products[p.key] = {"name": p.name, "category": "cat-" + "/".join(slug(c) for c in p.category_path),
                           "brand": "brand-" + slug(p.brand), "translations": langs, "variants": variants}
    return {"categories": categories, "brands": brands, "attributes": attributes, "values": values,
            "products": products}


def actual_state(state: dict[str, Any]) -> dict[str, Any]:
    products = {}
    for p in state["products"]:
        variants = {}
        for v in p["variants"]:
            variants[v["sku"]] = {
                "price": Decimal(str(v["price"])), "currency": v["currency"], "stock": v["stock"],
                "attributes": {(a["name"], a["value"], a["remote_attribute_id"], a["remote_attribute_value_id"])
                               for a in v["attributes"]},
                "languages": {t["language"] for t in v["translations"]}}
        products[p["spu"]] = {"name": p["name"], "category": p["category"]["remote_id"],
                              "brand": p["brand"]["remote_id"],
                              "translations": {t["language"]: t["name"] for t in p["translations"]},
                              "variants": variants}
    return {
        "categories": {c["remote_id"]: (c["name"], c["remote_parent_id"]) for c in state["categories"]},
        "brands": {b["remote_id"]: b["name"] for b in state["brands"]},
        "attributes": {a["remote_id"]: a["name"] for a in state["attributes"]},
        "values": {v["remote_id"]: (v["value"], v["attribute"]["remote_id"]) for v in state["attribute_values"]},
        "products": products,
    }


def write_paths(log: list[dict[str, Any]]) -> list[str]:
    return [r["path"].removeprefix("/api") for r in log if r["method"] in WRITES]


def test_souk_workbook_end_to_end(elryan: Elryan, tmp_path: Path) -> None:
    source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
    outcome = elryan.sync(source)
    report = outcome.report
    assert report.status_counts == {"pushed": 3, "unchanged": 0, "skipped": 0, "failed": 0}, report.to_json()
    assert report.exit_code == 0

    state = elryan.state()
    assert actual_state(state) == expected_state(source)
    # the literal values of the workbook, not only what the reader made of them
    cats = {c["remote_id"]: c for c in state["categories"]}
    assert set(cats) == {"cat-fashion", "cat-fashion/men", "cat-fashion/men/t-shirts", "cat-electronics",
                         "cat-electronics/phones"}
    assert cats["cat-fashion/men/t-shirts"]["parent_id"] == cats["cat-fashion/men"]["id"]
    tee = next(p for p in state["products"] if p["spu"] == "TEE")
    assert {t["language"]: t["name"] for t in tee["translations"]} == {"ar": "قميص", "fr": "T-shirt coton"}
    m = next(v for v in tee["variants"] if v["sku"] == "TEE-M-BL")
    assert (m["price"], m["currency"], m["stock"], m["barcode"], m["hs_code"]) == (25000, "IQD", 5, "4006381333931",
                                                                                  "6109")
    assert (m["default_image_url"], m["extra_images"]) == ("https://img.example/tee.jpg",
                                                           ["https://img.example/tee-back.jpg"])
    assert {t["language"]: t["name"] for t in m["translations"]} == {"ar": "قميص - M / Blue",
                                                                     "fr": "T-shirt coton - M / Blue"}
    assert m["supplier"] == DEFAULTS["supplier"] and tee["guarantee"] == 12 and tee["fulfillment_day"] == 2
    phone = next(p for p in state["products"] if p["spu"] == "PHONE-1")
    assert phone["variants"][0]["price"] == 500000.5 and phone["variants"][0]["stock"] == 7

    # dependency order: categories parents first, brands, attributes, values, products, then price & stock
    paths = write_paths(elryan.log())
    kinds = [p.split("/")[1] for p in paths if not p.startswith("/users")]
    order = ["categories", "brands", "attributes", "attribute-values", "products", "variants"]
    assert kinds == sorted(kinds, key=order.index), kinds
    assert kinds.count("categories") == 5 and kinds.count("brands") == 2
    assert kinds.count("attributes") == 2 and kinds.count("attribute-values") == 3
    assert kinds.count("products") == 2 and paths[-1] == "/variants/price-stock"
    assert sum(1 for p in paths if p == "/users/generate-token") == 1  # one login, token cached

    before = elryan.last()
    again = elryan.sync(source)
    assert write_paths(elryan.log(before)) == []  # nothing sent, not even a login
    assert elryan.log(before) == []
    assert again.report.status_counts["unchanged"] == 3


@pytest.mark.skipif(not SAMPLE.exists(), reason="templates/sample_catalogue.xlsx is not generated yet")
def test_sample_workbook_end_to_end(elryan: Elryan) -> None:
    source = read_spreadsheet(SAMPLE)
    outcome = elryan.sync(source)
    counts = outcome.report.status_counts
    assert counts["failed"] == 0 and counts["pushed"] == len(source.rows) - counts["skipped"], outcome.report.to_json()
    state = elryan.state()
    assert actual_state(state) == expected_state(source)
    assert any(t["language"] == "ar" for p in state["products"] for t in p["translations"])
    assert any(t["language"] == "fr" for p in state["products"] for t in p["translations"])
    before = elryan.last()
    elryan.sync(source)
    assert write_paths(elryan.log(before)) == []


def test_error_code_in_a_200_fails_that_product_only(elryan: Elryan, tmp_path: Path) -> None:
    source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
    elryan.fault(status=200, path=r"/products/upsert", count=1,
                 body={"data": None, "error_code": 1777, "message": "product rejected by moderation"})
    report = elryan.sync(source).report
    rows = {r.sku: r for r in report.rows}
    for sku in ("TEE-M-BL", "TEE-L-BL"):  # the first product upserted
        assert rows[sku].status == "failed"
        assert rows[sku].code == "1777" and "moderation" in (rows[sku].reason or "")
    assert rows["PHONE-1"].status == "pushed"
    assert report.exit_code == 1
    assert {p["spu"] for p in elryan.state()["products"]} == {"PHONE-1"}
    # its price & stock was not sent: only PHONE-1's SKU reached the price & stock update
    assert report.operations["failed"] == 2  # the product and its price & stock
    # the next run sends the failed product again, and only what it needs
    before = elryan.last()
    report2 = elryan.sync(source).report
    assert report2.status_counts == {"pushed": 2, "unchanged": 1, "skipped": 0, "failed": 0}
    assert write_paths(elryan.log(before)) == ["/users/generate-token", "/products/upsert", "/variants/price-stock"]


def test_failed_dependency_blocks_its_products(elryan: Elryan, tmp_path: Path) -> None:
    source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
    elryan.fault(status=200, path=r"/categories/upsert", count=1,  # the root of the first product's tree
                 body={"data": None, "error_code": 1001, "message": "name: too long"})
    report = elryan.sync(source).report
    rows = {r.sku: r for r in report.rows}
    assert rows["TEE-M-BL"].status == "failed" and rows["TEE-M-BL"].reason.startswith("blocked: ")
    assert "cat-fashion" in rows["TEE-M-BL"].reason
    assert rows["PHONE-1"].status == "pushed"
    state = elryan.state()
    assert {c["remote_id"] for c in state["categories"]} == {"cat-electronics", "cat-electronics/phones"}
    assert [p["spu"] for p in state["products"]] == ["PHONE-1"]
    before = elryan.last()
    elryan.sync(source)
    sent = write_paths(elryan.log(before))
    # only the failed tree is sent again; the brands, attributes and values the first run created (even those
    # of the blocked product) and the Electronics tree are known from the state file
    assert sent == ["/users/generate-token"] + ["/categories/upsert/"] * 3 + ["/products/upsert",
                                                                             "/variants/price-stock"]
    assert actual_state(elryan.state()) == expected_state(source)


def test_price_stock_batches_and_stock_only_change(elryan: Elryan, tmp_path: Path) -> None:
    source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
    elryan.sync(source, price_stock_batch_size=2)
    stock_calls = [r for r in elryan.log() if r["path"].endswith("/variants/price-stock")]
    assert len(stock_calls) == 2  # TEE's 2 SKUs, then PHONE-1's one: whole products per batch of 2 SKUs
    source2 = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
    source2.products[1].variants[0].stock["Main"].available = 2  # PHONE-1: stock only
    before = elryan.last()
    report = elryan.sync(source2).report
    assert write_paths(elryan.log(before)) == ["/users/generate-token", "/variants/price-stock"]
    assert report.operations["stock"] == 1 and report.operations["update"] == 0
    phone = next(p for p in elryan.state()["products"] if p["spu"] == "PHONE-1")
    assert phone["variants"][0]["stock"] == 2


def test_missing_defaults_are_reported_not_invented(elryan: Elryan, tmp_path: Path) -> None:
    source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
    report = elryan.sync(source, defaults={"tax": 0, "fulfillment_day": 2,
                                           "supplier": DEFAULTS["supplier"]}).report
    assert report.status_counts["failed"] == 3
    assert all("guarantee" in (r.reason or "") for r in report.rows)
    assert write_paths(elryan.log()) == []


def test_token_rejected_mid_run_is_renewed(elryan: Elryan, tmp_path: Path) -> None:
    source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
    elryan.fault(status=401, path=r"/brands/upsert", count=1,
                 body={"data": None, "error_code": 1401, "message": "token expired"})
    report = elryan.sync(source).report
    assert report.status_counts["pushed"] == 3
    assert write_paths(elryan.log()).count("/users/generate-token") == 2


def test_wrong_password_stops_the_run_cleanly(elryan: Elryan, tmp_path: Path) -> None:
    source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
    opts = SyncOptions(target="elryan", state_path=tmp_path / "state.sqlite", secret="not-the-password",
                       base_url=elryan.server.api_url, settings={"email": SANDBOX_EMAIL, "defaults": DEFAULTS})
    report = run_sync(source, opts).report
    assert report.exit_code == 4 and "refused the credentials" in (report.unreachable or "")
    assert "not-the-password" not in str(report.to_json())
    assert elryan.state()["categories"] == []
    assert all(r.status == "skipped" and "deferred" in (r.reason or "") for r in report.rows)


def test_cli_sync_with_a_profile_target(elryan: Elryan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.cli import main

    profile = tmp_path / "shop.yaml"
    profile.write_text(
        f"source: {SAMPLE if SAMPLE.exists() else souk_workbook(tmp_path / 'souk.xlsx')}\n"
        f"state: {tmp_path / 'cli-state.sqlite'}\n"
        "targets:\n"
        "  elryan:\n"
        f"    base_url: {elryan.server.api_url}\n"
        "    settings:\n"
        f"      email: {SANDBOX_EMAIL}\n"
        "      price_stock_batch_size: 50\n"
        "      defaults:\n"
        "        tax: 0\n        guarantee: 12\n        fulfillment_day: 2\n"
        "        supplier: {name: Souk Trading, remote_id: sup-souk}\n", encoding="utf-8")
    monkeypatch.setenv("ELRYAN_PASSWORD", SANDBOX_PASSWORD)
    monkeypatch.setenv("CONNECTOR_CREDENTIALS", str(tmp_path / "none.yaml"))
    assert main(["sync", "--profile", str(profile), "--no-progress"]) == 0
    assert elryan.state()["products"]
    before = elryan.last()
    assert main(["sync", "--profile", str(profile), "--no-progress"]) == 0
    assert write_paths(elryan.log(before)) == []


def test_a_profile_without_a_default_brand_is_reported_in_plain_words(elryan: Elryan, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile's tables reach the mapping as plain dicts: no internal type name in the report."""
    import json

    from connector.cli import main

    src = tmp_path / "p.csv"
    src.write_text("SKU,Name,Price,Category\nA-1,Soap,12,Beauty\n", encoding="utf-8")
    profile = tmp_path / "shop.yaml"
    profile.write_text(
        f"source: {src}\nstate: {tmp_path / 's.sqlite'}\ntargets:\n  elryan:\n"
        f"    base_url: {elryan.server.api_url}\n    settings:\n      email: {SANDBOX_EMAIL}\n      defaults:\n"
        "        tax: 0\n        guarantee: 12\n        fulfillment_day: 2\n"
        "        supplier: {name: Souk Trading, remote_id: sup-souk}\n", encoding="utf-8")
    monkeypatch.setenv("ELRYAN_PASSWORD", SANDBOX_PASSWORD)
    report = tmp_path / "r.json"
    assert main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report)]) == 1
    reason = json.loads(report.read_text(encoding="utf-8"))["rows"][0]["reason"]
    assert "'brand' is neither in the source nor in the profile's defaults" in reason
    assert "object" not in reason and "LineDict" not in reason


def test_progress_counts_the_planned_operations_only(elryan: Elryan, tmp_path: Path) -> None:
    """The categories, brands and attributes sent before the products are no planned operations: counted in the
    progress, a first Odoo catalogue said "progress: 40/28 operation(s) done" (found on a real Odoo 18)."""
    source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"))
    totals: list[int] = []
    done: list[int] = []

    def progress(total: int) -> Any:
        totals.append(total)
        return done.append

    opts = SyncOptions(target="elryan", state_path=tmp_path / "state.sqlite", secret=SANDBOX_PASSWORD,
                       base_url=elryan.server.api_url, settings={"email": SANDBOX_EMAIL, "defaults": DEFAULTS},
                       source_label="test")
    outcome = run_sync(source, opts, progress)
    assert outcome.report.status_counts["failed"] == 0
    assert len(elryan.state()["categories"]) > 0  # dependencies were sent
    assert totals and sum(done) == totals[0]
