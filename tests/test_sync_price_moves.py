"""A price typo on a product the marketplace already lists is held back, not sent with exit 0
(connector/sync/price_moves.py): a price more than ``guard: {max_price_change}`` (default 5) times the one the
marketplace last confirmed, or less than its fifth, holds back the payloads carrying it; the SKU's rows are skipped
with both prices and how to send it anyway (code price_refused, exit 1); its stock still goes where it travels
apart (Elebne's and EcomLinx's inventory), nothing of it where it travels with the price (Elryan's price & stock).
``--allow-price-change`` sends it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK, ConfigError
from connector.model import Money
from connector.sources.spreadsheet import read_spreadsheet
from connector.sync.guard import DEFAULT_MAX_PRICE_CHANGE, guard_settings
from connector.sync.report import PUSHED, SKIPPED
from tests.conftest import ELEBNE_KEY, SandboxHandle, running_ecomlinx
from tests.test_sync_prices import recorded
from tests.test_sync_safety_units import shapes_of
from tests.workbooks import CATALOGUE, set_cell, write_workbook


def sync(sandbox: SandboxHandle, workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         *extra: str) -> tuple[int, dict]:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    report = tmp_path / "report.json"
    code = main(["sync", "--source", str(workbook), "--target", "elebne", "--base-url", sandbox.base_url,
                 "--state", str(tmp_path / "state.sqlite"), "--report", str(report), "--no-progress", *extra])
    return code, json.loads(report.read_text(encoding="utf-8"))


def rows_of(report: dict, sku: str) -> dict[str, dict]:
    return {r["sheet"]: r for r in report["rows"] if r["sku"] == sku}


def soap_at(price: Any) -> list[dict[str, Any]]:
    return [{**row, "Price": price} if row["SKU"] == "SOAP-01" else row for row in CATALOGUE]


@pytest.mark.sandbox
def test_a_price_typo_on_a_listed_product_is_held_back_and_its_stock_still_goes(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """600 typed 3500000: not sent (a dry run says so too), every run until it is fixed or allowed; its stock
    goes; a change of exactly 5 times goes."""
    wb = write_workbook(tmp_path / "products.xlsx", soap_at(600))
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert elebne_sandbox.products()["SOAP-01"]["price"] == 60000
    set_cell(wb, "Products", "SOAP-01", "Price", 3500000)
    set_cell(wb, "Stock - Warehouse", "SOAP-01", "Quantity", 7)
    set_cell(wb, "Products", "TEA-500", "Price", 44.5)  # 8.9 x 5: within the limit
    mark = elebne_sandbox.last_id()

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--dry-run")
    assert code == EXIT_FAILED and elebne_sandbox.writes(since=mark) == []
    assert rows_of(report, "SOAP-01")["Products"]["status"] == SKIPPED

    for _again in range(2):  # held again by the next run: not remembered as sent
        code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
        assert code == EXIT_FAILED
        own = rows_of(report, "SOAP-01")["Products"]
        assert (own["status"], own["code"], own["attention"]) == (SKIPPED, "price_refused", True)
        assert "price 3500000 MRU of SKU SOAP-01 is more than 5 times the 600 MRU" in own["reason"]
        assert "--allow-price-change" in own["reason"]
        assert ("its stock was sent" if not _again else "its stock is unchanged") in own["reason"]
        listed = elebne_sandbox.products()
        assert (listed["SOAP-01"]["price"], listed["SOAP-01"]["quantity"]) == (60000, 9)  # 7 + 2 in the Shop
        assert listed["TEA-500"]["price"] == 4450
        assert rows_of(report, "TEA-500")["Products"]["status"] in (PUSHED, "unchanged")
    issue = next(i for i in report["issues"] if i.get("target") == "elebne" and i["sku"] == "SOAP-01")
    assert (issue["sheet"], issue["column"], issue["value"]) == ("Products", "Price", "3500000")

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--allow-price-change")
    assert code == EXIT_OK and elebne_sandbox.products()["SOAP-01"]["price"] == 350000000
    assert rows_of(report, "SOAP-01")["Products"]["status"] == PUSHED
    assert any("sent anyway" in n and "SOAP-01" in n for n in report["notes"])


@pytest.mark.sandbox
def test_a_moderate_price_change_goes_and_a_variant_price_cut_to_a_hundredth_is_held(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{**row, "Price": 600} if row["SKU"] in ("SOAP-01", "TEE-M-BL") else row for row in CATALOGUE]
    wb = write_workbook(tmp_path / "products.xlsx", rows)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    set_cell(wb, "Products", "SOAP-01", "Price", 900)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert elebne_sandbox.products()["SOAP-01"]["price"] == 90000

    set_cell(wb, "Products", "TEE-M-BL", "Price", 6)
    set_cell(wb, "Stock - Warehouse", "TEE-M-BL", "Quantity", 2)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)

    assert code == EXIT_FAILED
    tee = elebne_sandbox.products()["TEE"]
    assert [v["price"] for v in tee["variants"]] == [60000, 2600, 2600]
    assert next(v["quantity"] for v in tee["variants"] if v["sku"] == "TEE-M-BL") == 3  # 2 + 1 in the Shop
    own = rows_of(report, "TEE-L-RD")["Products"]  # the product's other rows say so too: its update is held
    assert (own["status"], own["code"]) == (SKIPPED, "price_refused")
    assert "price 6 MRU of SKU TEE-M-BL is less than 1/5 of the 600 MRU" in own["reason"]
    stock_row = rows_of(report, "TEE-M-BL")["Stock - Warehouse"]
    assert stock_row["status"] == PUSHED and "price held back" in stock_row["reason"]

    set_cell(wb, "Products", "TEE-M-BL", "Price", 600)  # fixed: nothing of the price left to send
    mark = elebne_sandbox.last_id()
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert not [w for w in elebne_sandbox.writes(since=mark) if w["path"].endswith("/products/TEE")]


@pytest.mark.sandbox
def test_elryan_price_and_stock_travel_together_so_nothing_of_the_product_goes(
        elryan_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.marketplaces.elryan.client import ElryanClient
    from tests.test_elryan_sync import Elryan, souk_workbook

    elryan = Elryan(elryan_sandbox, tmp_path)
    wb = souk_workbook(tmp_path / "souk.xlsx")
    assert elryan.sync(read_spreadsheet(wb, currency="IQD")).report.exit_code == EXIT_OK
    source = read_spreadsheet(wb, currency="IQD")
    tee, phone = source.products
    tee.variants[0].price = Money(Decimal("250"), "IQD")  # 25000 IQD typed without its zeros
    tee.variants[0].stock["Main"].available = 1
    phone.variants[0].stock["Main"].available = 2
    sent = recorded(monkeypatch, ElryanClient, "call")

    report = elryan.sync(source).report

    assert report.exit_code == EXIT_FAILED
    rows = {r.sku: r for r in report.rows}
    assert (rows["TEE-M-BL"].status, rows["TEE-M-BL"].code) == (SKIPPED, "price_refused")
    assert "price 250 IQD of SKU TEE-M-BL is less than 1/5 of the 25000 IQD" in (rows["TEE-M-BL"].reason or "")
    assert "product not sent" in (rows["TEE-M-BL"].reason or "") and rows["TEE-L-BL"].status == SKIPPED
    variants = {v["sku"]: v for p in elryan.state()["products"] for v in p["variants"]}
    assert (variants["TEE-M-BL"]["price"], variants["TEE-M-BL"]["stock"]) == (25000, 5)
    assert variants["PHONE-1"]["stock"] == 2 and rows["PHONE-1"].status == PUSHED
    bodies = json.dumps([args for _name, args in sent], default=str)
    assert "PHONE-1" in bodies and "TEE" not in bodies  # neither its product upsert nor its price & stock


@pytest.mark.sandbox
def test_ecomlinx_holds_one_variant_s_price_typo_and_sends_its_stock(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.marketplaces.ecomlinx import SANDBOX_KEY
    from connector.marketplaces.ecomlinx.client import EcomLinxClient

    monkeypatch.setenv("ECOMLINX_API_KEY", SANDBOX_KEY)
    sent = recorded(monkeypatch, EcomLinxClient, "update_product", "set_inventory")
    wb = write_workbook(tmp_path / "products.xlsx")
    profile = tmp_path / "shop.yaml"
    report_path = tmp_path / "report.json"

    def run(*extra: str) -> tuple[int, dict]:
        code = main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report_path), *extra])
        return code, json.loads(report_path.read_text(encoding="utf-8"))

    with running_ecomlinx(tmp_path / "sb.sqlite", listed=[row["SKU"] for row in CATALOGUE]) as server:
        profile.write_text(f"name: shop\nsource: {{type: spreadsheet, path: {wb}}}\nstate: {tmp_path / 's.sqlite'}\n"
                           f"targets:\n  ecomlinx: {{account: main, base_url: '{server.api_url}'}}\n", encoding="utf-8")
        assert run()[0] == EXIT_OK
        set_cell(wb, "Products", "TEE-L-RD", "Price", 2600)  # 26 typed with its cents
        set_cell(wb, "Products", "TEE-M-BL", "Price", 27)
        set_cell(wb, "Stock - Warehouse", "TEE-L-RD", "Quantity", 3)
        sent.clear()

        code, report = run()

        assert code == EXIT_FAILED
        listed = {d["sku"]: d for d in server.backend.products()}
        assert (listed["TEE-L-RD"]["price"], listed["TEE-L-RD"]["stock"]) == (26, 4)  # 3 + 1 in the Shop
        assert listed["TEE-M-BL"]["price"] == 27
        assert sorted(n for n, _args in sent) == ["set_inventory", "update_product"]
        assert sent[[n for n, _args in sent].index("set_inventory")][1][:2] == ["TEE-L-RD", 4]
        assert "2600" not in json.dumps(sent, default=str)
        own = rows_of(report, "TEE-L-RD")["Products"]
        assert (own["status"], own["code"]) == (SKIPPED, "price_refused") and "its stock was sent" in own["reason"]
        assert rows_of(report, "TEE-M-BL")["Products"]["status"] == PUSHED

        profile.write_text(profile.read_text(encoding="utf-8").replace(
            "account: main,", "account: main, guard: {max_price_change: 200},"), encoding="utf-8")
        assert run()[0] == EXIT_OK  # a higher limit in the profile sends it
        assert {d["sku"]: d for d in server.backend.products()}["TEE-L-RD"]["price"] == 2600


def test_the_probe_finds_where_each_shipped_mapping_writes_prices() -> None:
    elebne, elryan, ecomlinx = shapes_of("elebne"), shapes_of("elryan"), shapes_of("ecomlinx")
    assert elebne["product"].price_paths == [("price",), ("variants", "*", "price")]
    assert elebne["stock"].price_paths == []
    assert set(elryan["product"].price_paths) == {("variants", "*", "price"), ("variants", "*", "retail_price")}
    assert set(elryan["price_stock"].price_paths) == {("items", "*", "price"), ("items", "*", "retail_price")}
    assert (ecomlinx["product"].price_paths, ecomlinx["stock"].price_paths) == ([("price",)], [])


def test_the_price_change_limit_is_a_guard_setting() -> None:
    assert guard_settings(None).max_price_change == DEFAULT_MAX_PRICE_CHANGE == 5
    assert not guard_settings(None).allow_price_change
    assert guard_settings({"max_price_change": "10"}).max_price_change == 10
    assert guard_settings({"allow_price_change": True}).allow_price_change
    assert guard_settings({}, {"allow_price_change"}).allow_price_change
    for bad in (1, "0.5", "many", True):
        with pytest.raises(ConfigError, match="max_price_change must be a number above 1"):
            guard_settings({"max_price_change": bad})
    with pytest.raises(ConfigError, match="allow_price_change must be true or false"):
        guard_settings({"allow_price_change": "yes"})


class Bodies:
    """Confirmed bodies that count what is read (``ConfirmedBodies.get``)."""

    def __init__(self, bodies: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.bodies, self.read = bodies, []

    def get(self, kind: str, keys: Any) -> dict[str, dict[str, Any]]:
        keys = list(keys)
        self.read.append((kind, keys))
        return {k: self.bodies[kind][k] for k in keys if k in self.bodies.get(kind, {})}


def test_only_updates_that_change_a_price_read_a_confirmed_body() -> None:
    """A run of 100,000 stock changes and updates of other fields reads nothing; a price update reads its body."""
    from connector.mapping import load_mapping
    from connector.marketplaces.registry import get_plugin
    from connector.model import Product, Variant
    from connector.sync.ops import PlannedOp
    from connector.sync.plan import Plan
    from connector.sync.price_moves import check_price_moves
    from connector.sync.prices import PriceRefusals

    def product(key: str, price: str) -> Product:
        return Product(key=key, name=key, variants=[Variant(sku=key, price=Money(Decimal(price), "MRU"))])

    keys = [f"P{i}" for i in range(1000)]
    plan = Plan("elebne", "acct", roles={"product": "catalogue", "stock": "stock"},
                confirmed={"product": dict.fromkeys(keys, "h"), "stock": dict.fromkeys(keys, "h")})
    for key in keys:
        plan.ops.append(PlannedOp("stock", "stock", key, {"externalId": key, "quantity": 1}, {}, "", "", product(key,
                                                                                                              "6")))
        body = {"externalId": key, "name": "new name"}
        plan.ops.append(PlannedOp("update", "product", key, body, body, "", "", product(key, "6")))
    bodies = Bodies({"product": {"P7": {"externalId": "P7", "price": 60000}, "P8": {"externalId": "P8", "price": 0},
                                 "P9": {"externalId": "P9"}}})
    mapping = load_mapping(get_plugin("elebne").default_mapping)
    shapes = shapes_of("elebne")
    moves = check_price_moves(plan, bodies, shapes, mapping, guard_settings(None), PriceRefusals())  # type: ignore
    assert bodies.read == [] and moves.held == {} and len(plan.ops) == 2000

    plan.ops[15].body = {"externalId": "P7", "price": 600}  # 6 MRU where 600 was confirmed
    for i in (17, 19):  # an old price of 0, or none: nothing to compare, it goes
        plan.ops[i].body = {"externalId": plan.ops[i].key, "price": 600}
    refusals = PriceRefusals()
    moves = check_price_moves(plan, bodies, shapes, mapping, guard_settings(None), refusals)  # type: ignore
    assert bodies.read[0] == ("product", ["P7", "P8", "P9"])
    assert list(moves.held) == ["P7"] and "P7" in refusals.held and len(plan.ops) == 1999
    assert [op.kind for op in plan.ops if op.key == "P7"] == ["stock"]  # its stock still goes
