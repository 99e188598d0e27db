"""Issue 12 end to end against the sandboxes: the mass-change guard, SKUs no longer in the source, currencies."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from connector.sources.base import SourceResult
from connector.sources.spreadsheet import read_spreadsheet
from connector.sync.report import PUSHED
from connector.sync.safety import SafetyOptions
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.workbooks import CATALOGUE, STOCK, write_workbook

pytestmark = pytest.mark.sandbox

# the shared test catalogue plus eight simple products: 12 SKUs listed with stock
EXTRA = [{"SKU": f"SPICE-{i}", "Name": f"Spice {i}", "Price": 3 + i} for i in range(8)]
ROWS = CATALOGUE + EXTRA
BIG_STOCK = {"Warehouse": {**STOCK["Warehouse"], **{r["SKU"]: 5 for r in EXTRA}}, "Shop": STOCK["Shop"]}


def sync(sandbox: SandboxHandle, workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         *extra: str) -> tuple[int, dict[str, Any]]:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    code = main(["sync", "--source", str(workbook), "--target", "elebne", "--base-url", sandbox.base_url,
                 "--state", str(tmp_path / "state.sqlite"), "--report", str(report), "--no-progress", *extra])
    return code, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}


def listed(sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]],
           stock: dict[str, dict[str, Any]]) -> Path:
    """The workbook ``tmp_path / "products.xlsx"`` of ``rows`` and ``stock``, synced once (exit 0): what the
    marketplace lists before a test changes the file."""
    wb = write_workbook(tmp_path / "products.xlsx", rows, stock)
    assert sync(sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    return wb


def quantities(sandbox: SandboxHandle) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, p in sandbox.products().items():
        out[key] = p["quantity"]
        for v in p.get("variants") or []:
            out[f"{key}/{v['label']}"] = v["quantity"]
    return out


def guard_profile(sandbox: SandboxHandle, workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  max_share: str) -> list[str]:
    """The arguments of a sync of ``workbook`` to ``sandbox`` by a profile (``tmp_path / "shop.yaml"``) whose guard
    allows ``max_share``; its report goes to ``tmp_path / "r.json"``."""
    profile = tmp_path / "shop.yaml"
    profile.write_text(f"source: {workbook}\nstate: {tmp_path / 'p.sqlite'}\nguard: {{max_share: {max_share}}}\n"
                       f"targets:\n  elebne:\n    base_url: {sandbox.base_url}\n", encoding="utf-8")
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    return ["sync", "--profile", str(profile), "--no-progress", "--report", str(tmp_path / "r.json")]


# -- 1. the mass-change guard ---------------------------------------------------------------------------------
def test_a_typo_in_a_stock_location_is_an_error_not_stock_zero(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    before, mark = quantities(elebne_sandbox), elebne_sandbox.last_id()
    capsys.readouterr()
    code, _ = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--stock-locations", "Warehose")
    assert code == EXIT_USAGE
    err = capsys.readouterr().err.replace("\n", "")
    assert "'Warehose'" in err and "Shop, Warehouse" in err and "Traceback" not in err
    assert elebne_sandbox.writes(since=mark) == [] and quantities(elebne_sandbox) == before


def test_a_run_that_would_empty_the_shop_sends_nothing_until_allowed(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    before, mark = quantities(elebne_sandbox), elebne_sandbox.last_id()
    # the Warehouse sheet was emptied (every quantity 0): only the Shop's few units are left
    emptied = {"Warehouse": {sku: 0 for sku in BIG_STOCK["Warehouse"]}, "Shop": STOCK["Shop"]}
    write_workbook(wb, ROWS, emptied)
    capsys.readouterr()

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--dry-run")
    assert code == EXIT_USAGE  # a dry run says what the guard would say
    assert report["refused"] and "'Warehouse' holds no stock at all" in report["refused"]
    assert report["guard"]["affected"] == 9 and report["guard"]["listed"] == 12

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_USAGE
    err = capsys.readouterr().err.replace("\n", "")
    assert "9 of the 12 SKUs" in err and "--allow-mass-change" in err and "nothing was sent" in err
    assert elebne_sandbox.writes(since=mark) == [] and quantities(elebne_sandbox) == before
    assert {r["status"] for r in report["rows"] if r["sku"] == "TEA-500"} == {"skipped"}

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--allow-mass-change")
    assert code == EXIT_OK
    assert quantities(elebne_sandbox)["TEA-500"] == 0 and quantities(elebne_sandbox)["SOAP-01"] == 2
    assert report["guard"]["allowed"] is True


def test_a_profile_sets_the_guard_share(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    wb = write_workbook(tmp_path / "products.xlsx", ROWS, BIG_STOCK)
    args = guard_profile(elebne_sandbox, wb, tmp_path, monkeypatch, "0.5")
    profile = tmp_path / "shop.yaml"
    assert main(args) == EXIT_OK
    stock = {"Warehouse": {**BIG_STOCK["Warehouse"], **{r["SKU"]: 0 for r in EXTRA[:4]}}, "Shop": STOCK["Shop"]}
    write_workbook(wb, ROWS, stock)  # 4 of 12 (33%): over the default 20%, under the profile's 50%
    assert main(args) == EXIT_OK
    assert quantities(elebne_sandbox)["SPICE-0"] == 0
    # even a profile that allows any share never lets a run take every listed SKU off sale (more than 5 listed)
    profile.write_text(profile.read_text(encoding="utf-8").replace("0.5", "1"), encoding="utf-8")
    write_workbook(wb, ROWS, {loc: {sku: 0 for sku in qty} for loc, qty in BIG_STOCK.items()})
    mark = elebne_sandbox.last_id()
    assert main(args) == EXIT_USAGE and elebne_sandbox.writes(since=mark) == []
    assert "every one of the 8 SKUs listed with stock" in json.loads((tmp_path / "r.json").read_text())["refused"]
    profile.write_text(profile.read_text(encoding="utf-8").replace("max_share: 1", "max_share: 1.5"),
                       encoding="utf-8")
    assert main(args) == EXIT_USAGE  # a bad setting is an error before anything is read


# -- 2. what leaves the source leaves the shop -----------------------------------------------------------------
def _deleted(skus: set[str]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The workbook's rows and stock sheets with the rows of ``skus`` deleted."""
    return ([r for r in ROWS if r["SKU"] not in skus],
            {loc: {s: q for s, q in qty.items() if s not in skus} for loc, qty in BIG_STOCK.items()})


def test_a_deleted_row_and_a_dropped_variant_go_to_zero_and_stay_listed(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    assert quantities(elebne_sandbox)["TEE/L / Red"] == 8 and quantities(elebne_sandbox)["SPICE-7"] == 5
    write_workbook(wb, *_deleted({"TEE-L-RD", "SPICE-7"}))
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK, report["rows"]
    remote = elebne_sandbox.products()
    assert remote["SPICE-7"]["quantity"] == 0 and remote["SPICE-7"]["status"] == "ACTIVE"  # listing kept
    assert {v["label"]: v["quantity"] for v in remote["TEE"]["variants"]}["L / Red"] == 0
    gone = {r["sku"]: r for r in report["rows"] if r["reason"] == "no longer in source"}
    assert set(gone) == {"SPICE-7", "TEE-L-RD"} and {r["status"] for r in gone.values()} == {PUSHED}
    mark = elebne_sandbox.last_id()
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK and elebne_sandbox.writes(since=mark) == []  # said once, then nothing to send


@pytest.mark.parametrize("refused", ["", "SPICE-1", "SPICE\u200b-7"], ids=["empty", "repeated", "invisible"])
def test_while_a_row_is_refused_for_its_sku_cell_nothing_is_taken_for_gone(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: str) -> None:
    """SPICE-7's and TEE-L-RD's SKU cells emptied, repeated or mistyped (and their stock rows gone with them): the
    SKU each row was meant to carry is unknown, so the product and the variant that left the source may be theirs.
    Both used to be zeroed; they are left as they are, said per SKU and in a note, until the rows are fixed."""
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    rows, stock = _deleted({"TEE-L-RD", "SPICE-7"})
    typo = {"SPICE-7": refused, "TEE-L-RD": refused.replace("SPICE-7", "TEE-L-BL").replace("SPICE-1", "TEE-L-BL")}
    write_workbook(wb, [*rows, *(dict(r, SKU=typo[r["SKU"]] or None) for r in ROWS if r["SKU"] in typo)], stock)
    before = quantities(elebne_sandbox)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED
    after = quantities(elebne_sandbox)
    assert after["SPICE-7"] == 5 and after["TEE/L / Red"] == 8
    # every variant as it was, and TEE's total still counts the variant left as it is
    assert after == before
    held = {r["sku"]: r for r in report["rows"] if (r["reason"] or "").startswith("no longer in source, left")}
    assert set(held) == {"SPICE-7", "TEE-L-RD"} and {r["status"] for r in held.values()} == {"skipped"}
    assert "refused for its SKU" in held["SPICE-7"]["reason"]
    assert any("2 SKU(s) no longer in source left as they are" in note for note in report["notes"])
    write_workbook(wb, rows, stock)  # the rows deleted for good: now they are gone
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK and quantities(elebne_sandbox)["SPICE-7"] == 0


def test_a_valid_sku_that_nfkc_folds_onto_a_deleted_one_does_not_keep_it_on_sale(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'TILE-M\u00b2' (a superscript two, no look-alike character: a valid SKU, read as it is) and 'TILE-M2' are two
    products.  Deleting the row of TILE-M2 must zero it; the look-alike protection folded every non-ASCII SKU of
    the source (NFKC: '\u00b2' -> '2'), so TILE-M2 was taken for still in the source and stayed on sale, unsaid."""
    rows = [*ROWS, {"SKU": "TILE-M2", "Name": "Tile", "Price": 7},
            {"SKU": "TILE-M\u00b2", "Name": "Tile m2", "Price": 9}]
    stock = {**BIG_STOCK, "Warehouse": {**BIG_STOCK["Warehouse"], "TILE-M2": 4, "TILE-M\u00b2": 3}}
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, rows, stock)
    assert elebne_sandbox.products()["TILE-M2"]["quantity"] == 4
    write_workbook(wb, [r for r in rows if r["SKU"] != "TILE-M2"],
                   {loc: {k: q for k, q in levels.items() if k != "TILE-M2"} for loc, levels in stock.items()})
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK, report["rows"]
    assert elebne_sandbox.products()["TILE-M2"]["quantity"] == 0
    assert elebne_sandbox.products()["TILE-M\u00b2"]["quantity"] == 3
    assert {r["sku"] for r in report["rows"] if r["reason"] == "no longer in source"} == {"TILE-M2"}


def test_missing_disable_and_keep(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    write_workbook(wb, *_deleted({"SPICE-6"}))
    mark = elebne_sandbox.last_id()
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--missing", "keep")[0] == EXIT_OK
    assert elebne_sandbox.writes(since=mark) == []
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--missing", "disable")[0] == EXIT_OK
    spice = elebne_sandbox.products()["SPICE-6"]
    assert (spice["status"], spice["quantity"]) == ("INACTIVE", 0)


def test_a_row_skipped_for_bad_data_is_not_taken_off_sale(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    bad = [dict(r, Price="twelve") if r["SKU"] == "SPICE-5" else r for r in ROWS]
    write_workbook(wb, bad, BIG_STOCK)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED
    assert elebne_sandbox.products()["SPICE-5"]["quantity"] == 5
    assert not [r for r in report["rows"] if r["reason"] == "no longer in source"]


def test_a_variant_left_as_it_is_still_counts_in_its_products_total(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Elebne's product ``quantity`` is the sum of its variants.  A variant row skipped for bad data keeps its
    listing and its quantity; its product's total must still count it.  Before, the total became the sum of the
    other rows: with TEE-M-BL and TEE-L-BL sold out, TEE showed 0 (out of stock) while TEE-L-RD held 8."""
    stock = {"Warehouse": {**BIG_STOCK["Warehouse"], "TEE-M-BL": 0}, "Shop": {**BIG_STOCK["Shop"], "TEE-M-BL": 0}}
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, stock)
    before = quantities(elebne_sandbox)
    assert (before["TEE"], before["TEE/L / Red"]) == (8, 8)
    bad = [dict(r, Price="twenty") if r["SKU"] == "TEE-L-RD" else r for r in ROWS]
    write_workbook(wb, bad, stock)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_FAILED
    assert quantities(elebne_sandbox) == before
    # a stock change of another variant moves the total by that change only
    write_workbook(wb, bad, {**stock, "Warehouse": {**stock["Warehouse"], "TEE-M-BL": 3}})
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_FAILED
    after = quantities(elebne_sandbox)
    assert (after["TEE"], after["TEE/M / Blue"], after["TEE/L / Red"]) == (11, 3, 8)
    write_workbook(wb, ROWS, stock)  # the row fixed: its own quantity again, and the total from the source
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert quantities(elebne_sandbox) == before


def test_a_variant_skipped_then_deleted_is_taken_off_sale(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A variant row skipped for bad data in one run, then deleted: it left the source and goes to 0.  Before, the
    skipped run's stock body was stored without it, so the run that deleted it found nothing to zero: TEE-L-RD
    stayed on sale with 8 for good."""
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    write_workbook(wb, [dict(r, Price="twenty") if r["SKU"] == "TEE-L-RD" else r for r in ROWS], BIG_STOCK)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_FAILED
    assert quantities(elebne_sandbox)["TEE/L / Red"] == 8
    write_workbook(wb, *_deleted({"TEE-L-RD"}))
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK, report["rows"]
    after = quantities(elebne_sandbox)
    assert (after["TEE/L / Red"], after["TEE"]) == (0, after["TEE/M / Blue"] + after["TEE/L / Blue"])
    assert {r["sku"] for r in report["rows"] if r["reason"] == "no longer in source"} == {"TEE-L-RD"}


def test_a_synced_sku_retyped_with_look_alike_characters_is_refused_and_its_listing_kept(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Full-width letters or a no-break space look like the SKU synced before: the row is refused (not a new
    product beside the listing), and the listing under the ordinary SKU is not taken for one gone."""
    rows = [*ROWS, {"SKU": "SPICE 9", "Name": "Spice 9", "Price": 12}]
    stock = {**BIG_STOCK, "Warehouse": {**BIG_STOCK["Warehouse"], "SPICE 9": 6}}
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, rows, stock)
    retyped = {"SPICE-5": "\uff33\uff30\uff29\uff23\uff25-5", "SPICE 9": "SPICE\u00a09"}
    write_workbook(wb, [dict(r, SKU=retyped.get(r["SKU"], r["SKU"])) for r in rows],
                   {loc: {retyped.get(k, k): q for k, q in levels.items()} for loc, levels in stock.items()})
    mark = elebne_sandbox.last_id()
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED
    products = elebne_sandbox.products()
    assert set(products) == {r["SKU"] for r in rows if "Parent SKU" not in r} | {"TEE"}
    assert products["SPICE-5"]["quantity"] == 5 and products["SPICE 9"]["quantity"] == 6
    assert not [r for r in report["rows"] if r["reason"] == "no longer in source"]
    refused = {r["sku"] for r in report["rows"] if "look-alike character" in (r["reason"] or "")}
    assert refused == set(retyped.values())
    assert elebne_sandbox.writes(since=mark) == []


def _without(source: SourceResult, skus: set[str]) -> SourceResult:
    """The same read with some SKUs gone (rows and variants), as a supplier feed that dropped them."""
    for product in source.products:
        product.variants = [v for v in product.variants if v.sku not in skus]
    source.products = [p for p in source.products if p.variants]
    source.rows = [r for r in source.rows if r.sku not in skus]
    return source


def elryan_run(server: Any, tmp_path: Path, source: SourceResult, safety: SafetyOptions) -> Any:
    from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
    from connector.sync.runner import SyncOptions, run_sync
    from tests.test_elryan_sync import DEFAULTS

    opts = SyncOptions(target="elryan", state_path=tmp_path / "state.sqlite", secret=SANDBOX_PASSWORD,
                       base_url=server.api_url, settings={"email": SANDBOX_EMAIL, "defaults": DEFAULTS},
                       source_label="test", safety=safety)
    return run_sync(source, opts).report


@pytest.fixture
def elryan_server(elryan_sandbox: Any) -> Any:
    return elryan_sandbox


def elryan_variants(server: Any) -> dict[str, dict[str, Any]]:
    import requests

    state = requests.get(f"{server.url}/__sandbox/state", timeout=5).json()
    return {v["sku"]: v for p in state["products"] for v in p["variants"]}


def test_elryan_missing_variant_goes_to_zero(elryan_server: Any, tmp_path: Path) -> None:
    from connector.sync.guard import GuardSettings
    from tests.test_elryan_sync import souk_workbook

    wb = souk_workbook(tmp_path / "souk.xlsx")
    safety = SafetyOptions(guard=GuardSettings(max_share=Decimal(1)))  # 1 of 3 is over 20% of a tiny catalogue
    assert elryan_run(elryan_server, tmp_path, read_spreadsheet(wb, currency="IQD"), safety).exit_code == EXIT_OK
    assert elryan_variants(elryan_server)["TEE-M-BL"]["stock"] == 5
    source = _without(read_spreadsheet(wb, currency="IQD"), {"TEE-M-BL"})
    report = elryan_run(elryan_server, tmp_path, source, safety)
    assert report.exit_code == EXIT_OK, report.to_json()
    variants = elryan_variants(elryan_server)
    assert variants["TEE-M-BL"]["stock"] == 0 and variants["TEE-L-BL"]["stock"] == 3
    assert [(r.sku, r.status) for r in report.rows if r.reason == "no longer in source"] == [("TEE-M-BL", PUSHED)]
    # with the default guard, a feed that lost everything is refused: nothing is sent
    source = _without(read_spreadsheet(wb, currency="IQD"), {"TEE-M-BL", "TEE-L-BL", "PHONE-1"})
    report = elryan_run(elryan_server, tmp_path, source, SafetyOptions())
    assert report.exit_code == EXIT_USAGE and report.guard == {"listed": 2, "affected": 2, "refused": True,
                                                               "allowed": False}
    assert elryan_variants(elryan_server)["TEE-L-BL"]["stock"] == 3


def test_ecomlinx_missing_sku_goes_to_zero(tmp_path: Path) -> None:
    from connector.marketplaces.ecomlinx import PLUGIN
    from connector.marketplaces.ecomlinx.sandbox import create_sandbox
    from connector.sync.guard import GuardSettings
    from connector.sync.runner import SyncOptions, run_sync
    from tests.test_ecomlinx_sync import ON_ECOMLINX, products, sample

    server = create_sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite")).start()
    server.seed_products([{"sku": sku, "name": f"old name of {sku}", **f} for sku, f in ON_ECOMLINX.items()])
    try:
        def run(source: SourceResult, missing: str = "zero") -> Any:
            opts = SyncOptions(target="ecomlinx", state_path=tmp_path / "state.sqlite", secret=PLUGIN.sandbox_key,
                               base_url=server.api_url, account="test-shop", source_label="sample",
                               safety=SafetyOptions(missing=missing, guard=GuardSettings(max_share=Decimal(1))))
            return run_sync(source, opts).report

        assert run(sample()).exit_code == EXIT_OK
        assert products(server)["TEA-MINT-500"]["stock"] > 0
        report = run(_without(sample(), {"TEA-MINT-500"}), "disable")
        assert report.exit_code == EXIT_OK
        tea = products(server)["TEA-MINT-500"]
        assert (tea["stock"], tea["status"]) == (0, "inactive")
        assert ("TEA-MINT-500", PUSHED) in [(r.sku, r.status) for r in report.rows if r.reason == "no longer in source"]
    finally:
        server.stop()


# -- 3. currencies ---------------------------------------------------------------------------------------------
def test_euro_prices_are_converted_for_an_ouguiya_shop_or_not_sent(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--currency", "EUR")
    assert code == EXIT_FAILED and elebne_sandbox.products() == {}  # 10 EUR never goes out as 10 MRU
    reasons = {r["reason"] for r in report["rows"] if r["sheet"] == "Products"}
    assert len(reasons) == 1 and "price is in EUR but the Elebne account sells in MRU" in reasons.pop()

    profile = tmp_path / "shop.yaml"
    profile.write_text(f"source: {{type: spreadsheet, path: {wb}, currency: EUR}}\nstate: {tmp_path / 'p.sqlite'}\n"
                       "currency: {rates: {EUR: \"43.2\"}}\n"
                       f"targets:\n  elebne:\n    base_url: {elebne_sandbox.base_url}\n", encoding="utf-8")
    assert main(["sync", "--profile", str(profile), "--no-progress", "--report", str(tmp_path / "r.json")]) == 0
    remote = elebne_sandbox.products()
    assert remote["SOAP-01"]["price"] == 54000  # 12.50 EUR x 43.2 = 540.00 MRU, in minor units
    assert remote["TEA-500"]["price"] == 38448  # 8.90 x 43.2 = 384.48


def test_elryan_account_currency_converts_the_variant_price_and_its_code(elryan_server: Any,
                                                                         tmp_path: Path) -> None:
    from connector.sync.currency import currency_settings
    from tests.test_elryan_sync import souk_workbook

    source = read_spreadsheet(souk_workbook(tmp_path / "souk.xlsx"), currency="IQD")
    currency = currency_settings("elryan", {"account": "USD", "rates": {"IQD": "0.000763"}})
    report = elryan_run(elryan_server, tmp_path, source, SafetyOptions(currency=currency))
    assert report.exit_code == EXIT_OK, report.to_json()
    tee = elryan_variants(elryan_server)["TEE-M-BL"]
    assert (Decimal(str(tee["price"])), tee["currency"]) == (Decimal("19.08"), "USD")  # 25000 IQD x 0.000763


def test_a_supplier_profile_without_a_currency_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ALETA_CURRENCY", raising=False)
    monkeypatch.delenv("CONNECTOR_CURRENCY", raising=False)
    profile = tmp_path / "supplier.yaml"
    profile.write_text(f"source: {{type: aleta, base_url: 'http://127.0.0.1:9'}}\nstate: {tmp_path / 's.sqlite'}\n"
                       "targets:\n  elebne: {}\n", encoding="utf-8")
    assert main(["sync", "--profile", str(profile), "--no-progress"]) == EXIT_USAGE
    assert "does not say which currency" in capsys.readouterr().err


def test_ecomlinx_prices_are_converted_to_the_stated_account_currency(tmp_path: Path) -> None:
    from connector.marketplaces.ecomlinx import PLUGIN
    from connector.marketplaces.ecomlinx.sandbox import create_sandbox
    from connector.sync.currency import currency_settings
    from connector.sync.runner import SyncOptions, run_sync
    from tests.test_ecomlinx_sync import ON_ECOMLINX, products, sample

    server = create_sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite")).start()
    server.seed_products([{"sku": sku, "name": f"old name of {sku}", **f} for sku, f in ON_ECOMLINX.items()])
    try:
        source = sample()
        want = {v.sku: v.price for p in source.products for v in p.variants}["CHARGER-USBC-20W"]
        assert want.currency == "MRU"
        opts = SyncOptions(target="ecomlinx", state_path=tmp_path / "state.sqlite", secret=PLUGIN.sandbox_key,
                           base_url=server.api_url, account="test-shop", source_label="sample",
                           safety=SafetyOptions(currency=currency_settings("ecomlinx", {"account": "INR",
                                                                                        "rates": {"MRU": "2.1"}})))
        report = run_sync(source, opts).report
        assert report.exit_code == EXIT_OK, report.to_json()
        got = Decimal(str(products(server)["CHARGER-USBC-20W"]["price"]))
        assert got == (want.amount * Decimal("2.1")).quantize(Decimal("0.01")) and got != want.amount
        assert not report.warnings or all("currency is not set" not in w for w in report.warnings)
    finally:
        server.stop()


def test_a_supplier_deleting_one_variant_takes_it_off_sale_on_an_incremental_read(
        tmp_path: Path, elebne_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.sources.aleta.sandbox import SANDBOX_KEY, create_sandbox
    from tests.test_aleta_e2e import active_catalogue, stock_sum, sync_once

    monkeypatch.setenv("ALETA_API_KEY", SANDBOX_KEY)
    aleta = create_sandbox(variants=40, seed=3, locations=2, db_path=str(tmp_path / "aleta.sqlite")).start()
    try:
        state_path = tmp_path / "state.sqlite"
        assert sync_once(aleta, elebne_sandbox, state_path)[0].exit_code == EXIT_OK
        handle, variants = next((h, vs) for h, vs in active_catalogue(aleta).items()
                                if len(vs) > 1 and stock_sum(aleta, vs[-1]["sku"]) > 0)
        gone = variants[-1]
        aleta.delete_variant(gone["sku"])
        report = sync_once(aleta, elebne_sandbox, state_path)[0]  # incremental: only that product is new
        assert report.exit_code == EXIT_OK, report.to_json()
        remote = {v["sku"]: v["quantity"] for v in elebne_sandbox.products()[handle]["variants"]}
        assert remote[gone["sku"]] == 0 and all(remote[v["sku"]] == stock_sum(aleta, v["sku"]) for v in variants[:-1])
        assert [(r.sku, r.status) for r in report.rows if r.reason == "no longer in source"] == [(gone["sku"], PUSHED)]
    finally:
        aleta.stop()


def test_an_incremental_read_does_not_take_unread_products_off_sale(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.sync.runner import SyncOptions, run_sync

    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    source = _without(read_spreadsheet(wb), {"SPICE-0", "TEE-L-RD"})
    source.full_read = False  # as an incremental Odoo read: only what changed
    opts = SyncOptions(target="elebne", state_path=tmp_path / "state.sqlite", secret=ELEBNE_KEY,
                       base_url=elebne_sandbox.base_url)
    report = run_sync(source, opts).report
    assert report.exit_code == EXIT_OK
    assert quantities(elebne_sandbox)["SPICE-0"] == 5  # not read this time: left alone
    assert quantities(elebne_sandbox)["TEE/L / Red"] == 0  # a product read whole lost a variant


def test_elryan_disable_a_dropped_variant_through_its_status(elryan_server: Any, tmp_path: Path) -> None:
    from connector.sync.guard import GuardSettings
    from tests.test_elryan_sync import souk_workbook

    wb = souk_workbook(tmp_path / "souk.xlsx")
    safety = SafetyOptions(missing="disable", guard=GuardSettings(max_share=Decimal(1)))
    assert elryan_run(elryan_server, tmp_path, read_spreadsheet(wb, currency="IQD"), safety).exit_code == EXIT_OK
    source = _without(read_spreadsheet(wb, currency="IQD"), {"TEE-M-BL"})
    report = elryan_run(elryan_server, tmp_path, source, safety)
    assert report.exit_code == EXIT_OK, report.to_json()
    gone, kept = elryan_variants(elryan_server)["TEE-M-BL"], elryan_variants(elryan_server)["TEE-L-BL"]
    assert (gone["is_active"], gone["stock"]) == (False, 0) and (kept["is_active"], kept["stock"]) == (True, 3)
    rows = [r for r in report.rows if r.reason == "no longer in source"]
    assert [(r.sku, r.status, sorted(r.actions)) for r in rows] == [("TEE-M-BL", PUSHED, ["stock", "update"])]
    mark = max((r["id"] for r in elryan_server.requests_log()), default=0)
    again = elryan_run(elryan_server, tmp_path, _without(read_spreadsheet(wb, currency="IQD"), {"TEE-M-BL"}), safety)
    assert again.exit_code == EXIT_OK
    assert [r for r in elryan_server.requests_log(mark) if r["method"] in ("POST", "PUT", "PATCH")] == []


def test_a_renamed_stock_sheet_leaves_its_stock_untouched(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import load_workbook

    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    before = quantities(elebne_sandbox)
    book = load_workbook(wb)
    book["Stock - Warehouse"].title = "Warehouse"  # no longer read as a stock sheet
    book.save(wb)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED and "sheet 'Warehouse' is not used" in report["warnings"]
    # SKUs whose only stock was on that sheet are not "stock 0": the source says nothing about them; nor are the
    # others listed with the Shop's units alone: a location of the last run is gone (test_stock_location_removed.py)
    assert quantities(elebne_sandbox) == before


def test_a_product_row_deleted_but_left_in_a_stock_sheet_goes_to_zero_like_a_dropped_variant(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The merchant deletes a product's row from Products and forgets its stock-sheet row: the stock row names a
    product the workbook no longer has, so it does not keep the listing on sale (a variant in the same case
    already went to 0); the stock row is still reported as skipped."""
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    write_workbook(wb, [r for r in ROWS if r["SKU"] != "SPICE-7"], BIG_STOCK)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED  # the orphan stock row is still a problem to fix
    assert elebne_sandbox.products()["SPICE-7"]["quantity"] == 0
    gone = [r for r in report["rows"] if r["reason"] == "no longer in source"]
    assert [r["sku"] for r in gone] == ["SPICE-7"]
    assert any(r["sku"] == "SPICE-7" and r["status"] == "skipped" and "not found" in r["reason"]
               for r in report["rows"])


def test_a_sku_typed_over_with_another_products_sku_does_not_zero_the_product_it_replaced(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo turns SPICE-7's SKU cell into SPICE-3 (a duplicate: the row is refused).  SPICE-7's stock row now
    names a SKU that Products lacks, but the refused row may be SPICE-7's own: it is not taken for deleted, and
    nothing is zeroed or sent for it; both problems are reported and the run exits 1."""
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    before = elebne_sandbox.products()["SPICE-7"]["quantity"]
    write_workbook(wb, [{**r, "SKU": "SPICE-3"} if r["SKU"] == "SPICE-7" else r for r in ROWS], BIG_STOCK)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED
    assert before > 0 and elebne_sandbox.products()["SPICE-7"]["quantity"] == before
    assert not [r for r in report["rows"] if r["reason"] == "no longer in source"]
    reasons = {(r["sku"], r["reason"]) for r in report["rows"] if r["status"] == "skipped"}
    assert any(sku == "SPICE-3" and "duplicate SKU" in reason for sku, reason in reasons)
    assert any(sku == "SPICE-7" and "not found" in reason and "refused for its SKU" in reason
               for sku, reason in reasons)


def test_products_refused_for_their_currency_are_counted_as_products(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The summary said "products: 0 failed (5 SKUs)" for three products refused before planning."""
    wb = write_workbook(tmp_path / "products.xlsx")
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--currency", "EUR")
    assert code == EXIT_FAILED
    assert report["summary"]["products"]["failed"] == {"products": 3, "skus": 5}
    assert "products: 3 failed (5 SKUs)" in " ".join(capsys.readouterr().out.split())


def _unparented(names: dict[str, str | None]) -> list[dict[str, Any]]:
    """The rows with the T-shirt's variants made products of their own (Parent SKU cleared), named as ``names``
    says (None: the Name cell left empty, a row skipped for a data problem)."""
    return [{k: v for k, v in {**r, "Name": names[r["SKU"]]}.items() if k != "Parent SKU"} if r["SKU"] in names
            else r for r in ROWS]


def test_variants_moved_out_of_a_product_no_longer_in_source_are_never_on_sale_twice(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    before = quantities(elebne_sandbox)
    assert before["TEE/M / Blue"] == 5 and before["TEE/L / Red"] == 8
    # the Parent SKU column cleared for the T-shirt: each variant a product of its own, the product TEE gone
    write_workbook(wb, _unparented({s: f"T-shirt {s}" for s in ("TEE-M-BL", "TEE-L-BL", "TEE-L-RD")}), BIG_STOCK)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK, report["notes"]
    after = quantities(elebne_sandbox)
    # the same units are listed once: under the new products, and no longer under the old one
    assert after["TEE-M-BL"] == 5 and after["TEE-L-RD"] == 8
    assert after["TEE"] == 0 and after["TEE/M / Blue"] == 0 and after["TEE/L / Red"] == 0
    moved = {r["sku"]: r["reason"] for r in report["rows"] if (r["reason"] or "").startswith("moved to another")}
    assert set(moved) == {"TEE-M-BL", "TEE-L-BL", "TEE-L-RD"} and "under TEE" in moved["TEE-M-BL"]
    assert any("3 SKU(s) moved to another product" in n for n in report["notes"])


def test_only_the_moved_variants_of_a_product_no_longer_in_source_go_off_sale(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BIG_STOCK)
    # TEE-M-BL moved to a product of its own; the other two rows lost their Name too: skipped, left as they are
    write_workbook(wb, _unparented({"TEE-M-BL": "Blue tee", "TEE-L-BL": None, "TEE-L-RD": None}), BIG_STOCK)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED  # the two skipped rows
    after = quantities(elebne_sandbox)
    assert after["TEE-M-BL"] == 5 and after["TEE/M / Blue"] == 0
    assert after["TEE/L / Red"] == 8 and after["TEE"] == 8  # the product's total counts what is left on sale
    assert [r["sku"] for r in report["rows"] if (r["reason"] or "").startswith("moved to another")] == ["TEE-M-BL"]
