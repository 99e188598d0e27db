"""A price the marketplace would show wrongly is never sent (connector/sync/prices.py): a price with more decimals
than the account currency has (12.345 for a 2-decimal currency), or at or below 0 (a typo, an empty Odoo list
price), refuses its product for that target: its rows are skipped with the SKU, the value and the limit (code
price_refused), the run needs attention (exit 1), nothing of the product's catalogue is sent (its stock neither,
unless the marketplace has the product and takes stock apart: price_hold.py), and an incremental source's cursor
still moves on (the product is read again)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK
from connector.model import Money, Product, Variant
from connector.sources.base import SourceResult
from connector.sources.spreadsheet import read_spreadsheet
from connector.sync.prices import refuse_prices
from connector.sync.report import PUSHED, SKIPPED, RowOutcome, RunReport
from connector.sync.runner import SyncOptions, run_sync
from tests.conftest import ELEBNE_KEY, SandboxHandle, running_ecomlinx
from tests.workbooks import CATALOGUE, STOCK, set_cell, write_workbook


def sync(sandbox: SandboxHandle, workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict]:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    report = tmp_path / "report.json"
    code = main(["sync", "--source", str(workbook), "--target", "elebne", "--base-url", sandbox.base_url,
                 "--state", str(tmp_path / "state.sqlite"), "--report", str(report), "--no-progress"])
    return code, json.loads(report.read_text(encoding="utf-8"))


@pytest.mark.sandbox
def test_a_price_with_more_decimals_than_the_currency_holds_back_the_price_and_the_stock_still_goes(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A product Elebne has: its refused price holds back its product update only; its stock goes in the bulk
    inventory (a unit sold elsewhere is not left on sale while nobody fixes the price), and the update goes once the
    price is fixed.  A product whose new variant comes with the refused price (a catalogue change Elebne needs before
    the stock naming it) still sends nothing."""
    rows = [*CATALOGUE, {"Parent SKU": "CAP", "SKU": "CAP-M", "Name": "Cap", "Price": 9, "Attribute: Size": "M"}]
    stock = {**STOCK, "Warehouse": {**STOCK["Warehouse"], "CAP-M": 3}}
    wb = write_workbook(tmp_path / "products.xlsx", rows, stock)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    before, mark = elebne_sandbox.products(), elebne_sandbox.last_id()
    from connector.marketplaces.elebne.client import ElebneClient

    sent = recorded(monkeypatch, ElebneClient, "update_product", "bulk_inventory", "create_product")
    rows = [*rows, {"Parent SKU": "CAP", "SKU": "CAP-L", "Name": "Cap", "Price": 9.995, "Attribute: Size": "L"}]
    stock["Warehouse"] = {**stock["Warehouse"], "TEE-M-BL": 9, "CAP-M": 1, "CAP-L": 2}
    write_workbook(wb, rows, stock)
    set_cell(wb, "Products", "TEE-L-RD", "Price", 26.125)  # MRU has 2 decimals: Elebne would get 2613 (26.13)
    set_cell(wb, "Products", "SOAP-01", "Price", 13.5)

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)

    assert code == EXIT_FAILED
    tee = [r for r in report["rows"] if r["sku"] in ("TEE-M-BL", "TEE-L-BL", "TEE-L-RD")]
    own = [r for r in tee if r["sheet"] == "Products"]
    assert len(own) == 3 and {(r["status"], r["code"], r["attention"]) for r in own} == {(SKIPPED, "price_refused",
                                                                                           True)}
    reason = own[0]["reason"]
    assert "price 26.125 MRU of SKU TEE-L-RD" in reason and "(at most 2" in reason and "price not sent" in reason
    assert "its stock was sent" in reason
    stock_rows = {(r["sku"], r["sheet"]): r for r in tee if r["sheet"] != "Products"}
    assert stock_rows[("TEE-M-BL", "Stock - Warehouse")]["status"] == PUSHED
    assert {r["status"] for r in stock_rows.values()} == {PUSHED} and all(  # (one stock payload: the product's)
        "price held back: price 26.125 MRU of SKU TEE-L-RD" in r["reason"] for r in stock_rows.values())
    after = elebne_sandbox.products()
    assert next(v["quantity"] for v in after["TEE"]["variants"] if v["sku"] == "TEE-M-BL") == 10  # 9 + 1 (Shop)
    assert [v["price"] for v in after["TEE"]["variants"]] == [v["price"] for v in before["TEE"]["variants"]]
    assert not [w for w in elebne_sandbox.writes(since=mark) if w["path"].endswith("/products/TEE")]
    assert "2613" not in json.dumps(sent) and "26.125" not in json.dumps(sent)  # not even in the stock's request
    assert after["CAP"] == before["CAP"] and "CAP" not in json.dumps(sent)  # CAP-L is new: nothing of CAP goes
    assert {r["status"] for r in report["rows"] if r["sku"] in ("CAP-M", "CAP-L")} == {SKIPPED}
    assert after["SOAP-01"]["price"] == 1350  # the others go on
    issue = next(i for i in report["issues"] if i.get("target") == "elebne" and i["sku"] == "TEE-L-RD")
    assert (issue["sheet"], issue["row"], issue["column"], issue["value"]) == ("Products", 5, "Price", "26.125")

    set_cell(wb, "Products", "TEE-L-RD", "Price", 26.13)  # fixed: the update held back goes, once
    sent.clear()
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_FAILED  # (CAP-L's price is still refused)
    assert [v["price"] for v in elebne_sandbox.products()["TEE"]["variants"]] == [2500, 2600, 2613]
    assert [name for name, args in sent if "TEE" in json.dumps(args)] == ["update_product"]
    sent.clear()
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_FAILED
    assert "TEE" not in json.dumps(sent)


def recorded(monkeypatch: pytest.MonkeyPatch, client: type, *names: str) -> list[tuple[str, list[Any]]]:
    """What ``client``'s methods ``names`` are asked to send, as (method, [arguments..., keyword arguments])."""
    sent: list[tuple[str, list[Any]]] = []
    for name in names:
        real = getattr(client, name)

        def record(self: Any, *args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            sent.append((_name, [*args, kw]))
            return _real(self, *args, **kw)

        monkeypatch.setattr(client, name, record)
    return sent


@pytest.mark.sandbox
def test_a_price_of_zero_from_a_source_is_never_sent(elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    """An Odoo product whose list price was emptied reads as 0.00: the product is not put on sale for nothing."""
    source = read_spreadsheet(write_workbook(tmp_path / "products.xlsx"), currency="MRU")
    tea = next(p for p in source.products if p.key == "TEA-500")
    tea.variants[0].price = Money(Decimal("0.00"), "MRU")
    opts = SyncOptions(target="elebne", state_path=tmp_path / "state.sqlite", secret=ELEBNE_KEY,
                       base_url=elebne_sandbox.base_url, source_label="odoo")
    report = run_sync(source, opts).report
    rows = {r.sku: r for r in report.rows if r.sheet == "Products"}
    assert rows["TEA-500"].status == SKIPPED and rows["TEA-500"].code == "price_refused"
    assert "price 0.00 MRU of SKU TEA-500 is not above 0" in (rows["TEA-500"].reason or "")
    assert rows["SOAP-01"].status == PUSHED and report.exit_code == EXIT_FAILED
    assert "TEA-500" not in elebne_sandbox.products()


def product(sku: str, price: str, *, active: bool = True, currency: str = "MRU") -> Product:
    return Product(key=sku, name=sku, variants=[Variant(sku=sku, price=Money(Decimal(price), currency),
                                                        active=active)])


def test_the_limit_is_the_account_currency_minor_units_and_a_withdrawn_variant_still_goes() -> None:
    """A product being taken off sale is not held on sale for its price (shown nowhere)."""
    products = [product("A", "12.345"), product("B", "-1"), product("C", "12.340"), product("D", "0", active=False)]
    kept, refused = refuse_prices(products, 2, "elebne")
    assert [p.key for p in kept] == ["C", "D"] and set(refused.reasons) == {"A", "B"}
    assert "price 12.345 MRU of SKU A has more decimals than MRU allows (at most 2" in refused.reasons["A"]
    assert [p.key for p in refuse_prices(products[:1], 3, "ecomlinx")[0]] == ["A"]  # a 3-decimal currency (KWD)
    assert [p.key for p in refuse_prices([product("E", "12.5")], 0, "x")[0]] == []  # none (JPY): 12.5 is refused


def test_a_refused_price_does_not_hold_the_incremental_cursor_back() -> None:
    """The Odoo product is read again by the next incremental run (recheck): holding the cursor would read the
    whole catalogue again on every run until someone fixed the price."""
    source = SourceResult(cursors={("odoo", "products"): "2026-01-01"})
    report = RunReport(run_id="r", source="odoo", target="elebne", dry_run=False, started_at="now")
    report.rows = [RowOutcome(sku="A", product="A", sheet="product.product", row=None, status=SKIPPED,
                              reason="price ...", code="price_refused", attention=True),
                   RowOutcome(sku="B", product="B", sheet="product.product", row=None, status=PUSHED)]
    report.exit_code = report.compute_exit_code()
    assert report.exit_code == EXIT_FAILED and source.cursors_may_advance(report)
    report.rows[0].code = None  # any other row needing attention still holds it
    assert not source.cursors_may_advance(report)


def test_a_conversion_rounded_to_the_minor_units_passes() -> None:
    from connector.sync.currency import CurrencySettings, convert_products

    converted, _ = convert_products([product("A", "12.345", currency="EUR")],
                                    CurrencySettings(account="MRU", rates={"EUR": Decimal("43.2")}), "Elebne")
    assert converted[0].variants[0].price == Money(Decimal("533.30"), "MRU")
    assert refuse_prices(converted, 2, "elebne")[0] == converted


# -- connector validate ------------------------------------------------------------------------------------------
def test_validate_flags_a_price_of_zero_as_a_cell_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    set_cell(wb, "Products", "TEA-500", "Price", 0)
    assert main(["validate", str(wb), "--json"]) == EXIT_FAILED
    issue = next(i for i in json.loads(capsys.readouterr().out)["issues"] if i["sku"] == "TEA-500" or i["row"] == 6)
    assert (issue["sheet"], issue["row"], issue["column"], issue["value"]) == ("Products", 6, "Price", "0")
    assert "never put on sale for nothing" in issue["reason"]
    products = read_spreadsheet(wb, currency="MRU").products
    assert "TEA-500" not in {p.key for p in products}  # the row is skipped by a sync as well


def test_validate_against_a_target_flags_a_price_with_more_decimals_than_its_currency(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    set_cell(wb, "Products", "TEA-500", "Price", 8.925)
    assert main(["validate", str(wb)]) == EXIT_OK  # the workbook itself does not know the shop's currency
    capsys.readouterr()
    assert main(["validate", str(wb), "--target", "elebne", "--json"]) == EXIT_FAILED
    issue = next(i for i in json.loads(capsys.readouterr().out)["issues"] if i["sku"] == "TEA-500")
    assert (issue["sheet"], issue["row"], issue["column"], issue["value"]) == ("Products", 6, "Price", "8.925")
    assert issue["reason"].startswith("Elebne: price has more decimals than MRU allows (at most 2")
    profile = tmp_path / "shop.yaml"  # a shop whose currency has 3 decimals says so in its profile
    profile.write_text(f"name: shop\nsource: {{type: spreadsheet, path: {wb}}}\nstate: {tmp_path / 's.sqlite'}\n"
                       "targets:\n  ecomlinx:\n    currency: {account: KWD, minor_units: 3}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(wb), "--profile", str(profile), "--currency", "KWD", "--json"]) == EXIT_OK
    assert not [i for i in json.loads(capsys.readouterr().out)["issues"] if i["sku"] == "TEA-500"]


@pytest.mark.parametrize("minor_units", [-1, 2.5, "two", True, 7])
def test_minor_units_must_be_a_number_of_decimals_a_currency_can_have(minor_units) -> None:
    """The limit every price is checked against: -1 made a step of 10, 2.5 was taken for 2."""
    from connector.errors import ConfigError
    from connector.sync.currency import currency_settings

    with pytest.raises(ConfigError, match="minor_units must be a whole number from 0 to 6"):
        currency_settings("elebne", {"account": "MRU", "minor_units": minor_units})
    assert currency_settings("ecomlinx", {"account": "KWD", "minor_units": "3"}).minor_units == 3


@pytest.mark.sandbox
def test_ecomlinx_gets_the_stock_of_a_product_whose_price_is_held_back_and_its_update_once_fixed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EcomLinx takes stock apart from the product PATCH: a SKU it has sends its new quantity while its price
    is refused; the price goes once fixed, once."""
    from connector.marketplaces.ecomlinx import SANDBOX_KEY
    from connector.marketplaces.ecomlinx.client import EcomLinxClient

    monkeypatch.setenv("ECOMLINX_API_KEY", SANDBOX_KEY)
    sent = recorded(monkeypatch, EcomLinxClient, "update_product", "set_inventory")
    wb = write_workbook(tmp_path / "products.xlsx")
    profile = tmp_path / "shop.yaml"
    report_path = tmp_path / "report.json"

    def run() -> tuple[int, dict]:
        code = main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report_path)])
        return code, json.loads(report_path.read_text(encoding="utf-8"))

    with running_ecomlinx(tmp_path / "sb.sqlite", listed=[row["SKU"] for row in CATALOGUE]) as server:
        profile.write_text(f"name: shop\nsource: {{type: spreadsheet, path: {wb}}}\nstate: {tmp_path / 's.sqlite'}\n"
                           f"targets:\n  ecomlinx: {{account: main, base_url: '{server.api_url}'}}\n", encoding="utf-8")
        assert run()[0] == EXIT_OK
        set_cell(wb, "Products", "TEE-L-RD", "Price", 26.125)  # a typo: 2 decimals at most (the default)
        set_cell(wb, "Stock - Warehouse", "TEE-M-BL", "Quantity", 9)
        sent.clear()

        code, report = run()

        assert code == EXIT_FAILED
        listed = {d["sku"]: d for d in server.backend.products()}
        assert listed["TEE-M-BL"]["stock"] == 10 and listed["TEE-L-RD"]["price"] == 26  # 9 + 1 in the Shop
        assert [(n, args[0], args[1]) for n, args in sent] == [("set_inventory", "TEE-M-BL", 10)]
        rows = {(r["sku"], r["sheet"]): r for r in report["rows"]}
        own = rows[("TEE-M-BL", "Products")]
        assert (own["status"], own["code"], own["attention"]) == (SKIPPED, "price_refused", True)
        assert "price 26.125 MRU of SKU TEE-L-RD has more decimals" in own["reason"]
        assert "its stock was sent" in own["reason"]
        moved = rows[("TEE-M-BL", "Stock - Warehouse")]
        assert moved["status"] == PUSHED and "price held back: price 26.125" in moved["reason"]
        assert rows[("TEE-L-RD", "Stock - Warehouse")]["status"] == "unchanged"
        assert "price held back" in rows[("TEE-L-RD", "Stock - Warehouse")]["reason"]

        set_cell(wb, "Products", "TEE-L-RD", "Price", 27)
        sent.clear()
        assert run()[0] == EXIT_OK
        assert [n for n, _ in sent] == ["update_product"] and list(sent[0][1][1]) == ["price"]
        assert {d["sku"]: d for d in server.backend.products()}["TEE-L-RD"]["price"] == 27
        sent.clear()
        assert run()[0] == EXIT_OK and sent == []
