"""A stock location the last run had, gone from the workbook (its sheet deleted or renamed, a CSV's ``Stock:`` column
lost), holds the stock back: never summed without it, which listed less for every SKU and 0 for those stocked only
there, exit 0 under the mass-change guard's share (``connector/sync/vanished_locations.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK
from connector.sync.guard import guard_settings
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.test_sync_safety_e2e import ROWS, listed, quantities, sync
from tests.workbooks import STOCK, write_workbook

# 13 SKUs; SPICE-0 is stocked in the shop alone (its Warehouse row says 0): listed 4, or 0 without the shop
SHOP_ONLY = "SPICE-0"
BOTH = {"Warehouse": {**STOCK["Warehouse"], **{r["SKU"]: 0 if r["SKU"] == SHOP_ONLY else 5 for r in ROWS[5:]}},
        "Shop": {**STOCK["Shop"], SHOP_ONLY: 4}}
WAREHOUSE = {"Warehouse": BOTH["Warehouse"]}
RENAMED = [{**r, "Name": "Savon d'Alep 200 g"} if r["SKU"] == "SOAP-01" else r for r in ROWS]  # a catalogue change
SHEET_GONE = "location 'Shop' (sheet 'Stock - Shop') was in the last run and is missing from this workbook"
CODE = "stock_location_missing"


def held_rows(report: dict[str, Any], sku: str) -> list[dict[str, Any]]:
    return [r for r in report["rows"] if r["sku"] == sku]


def assert_held(report: dict[str, Any], gone: str) -> None:
    """Every row of a SKU whose stock the file gives is skipped, saying which location went and how to go on."""
    for sku in ("SOAP-01", SHOP_ONLY, "TEA-500", "TEE-L-RD"):
        rows = held_rows(report, sku)
        assert rows and all(r["status"] == "skipped" and r["code"] == CODE for r in rows), rows
        assert all(gone in r["reason"] and "--allow-location-removal" in r["reason"] for r in rows)
    assert any(n.startswith("stock of 13 SKU(s) not sent") for n in report["notes"])


@pytest.mark.sandbox
def test_a_deleted_stock_sheet_holds_the_stock_and_sends_the_catalogue(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BOTH)
    before = quantities(elebne_sandbox)
    assert before[SHOP_ONLY] == 4 and before["SOAP-01"] == 12
    write_workbook(wb, RENAMED, WAREHOUSE)  # the Shop sheet deleted by mistake, a name changed on purpose
    # (a held run remembers nothing: the next one holds too, its catalogue then unchanged)
    for dry, catalogue in ((["--dry-run"], "would be sent"), ([], "were sent"), ([], None)):
        code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, *dry)
        assert code == EXIT_FAILED
        assert quantities(elebne_sandbox) == before  # no stock lowered, SPICE-0 still on sale
        assert_held(report, SHEET_GONE)
        soap = next(r for r in held_rows(report, "SOAP-01") if r["sheet"] == "Products")
        assert soap["reason"].endswith(f"its other changes {catalogue}" if catalogue else "to drop it")
    assert elebne_sandbox.products()["SOAP-01"]["name"] == "Savon d'Alep 200 g"  # the catalogue went
    write_workbook(wb, RENAMED, BOTH)  # the sheet restored: nothing held, nothing to send
    mark = elebne_sandbox.last_id()
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert elebne_sandbox.writes(since=mark) == [] and quantities(elebne_sandbox) == before


@pytest.mark.sandbox
def test_a_renamed_stock_sheet_holds_the_stock(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BOTH)
    before = quantities(elebne_sandbox)
    book = load_workbook(wb)
    book["Stock - Shop"].title = "Shop stock"
    book.save(wb)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED
    assert quantities(elebne_sandbox) == before
    assert_held(report, SHEET_GONE)
    assert "sheet 'Shop stock' is not used" in report["warnings"]


def write_csv(path: Path, locations: list[str]) -> Path:
    lines = [",".join(["SKU", "Name", "Price", *(f"Stock: {loc}" for loc in locations)])]
    for row in ROWS:
        if row.get("Parent SKU"):
            continue  # (simple products: a CSV of variants needs their attribute columns)
        lines.append(",".join([row["SKU"], row["Name"].replace(",", " "), str(row["Price"]),
                               *(str(BOTH[loc].get(row["SKU"], 0)) for loc in locations)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.sandbox
def test_a_csv_that_lost_a_stock_column_holds_the_stock(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    csv = write_csv(tmp_path / "products.csv", ["Warehouse", "Shop"])
    assert sync(elebne_sandbox, csv, tmp_path, monkeypatch)[0] == EXIT_OK
    before = quantities(elebne_sandbox)
    assert before[SHOP_ONLY] == 4 and before["SOAP-01"] == 12
    write_csv(csv, ["Warehouse"])
    for dry in (["--dry-run"], []):
        code, report = sync(elebne_sandbox, csv, tmp_path, monkeypatch, *dry)
        assert code == EXIT_FAILED
        assert quantities(elebne_sandbox) == before
        for sku in ("SOAP-01", SHOP_ONLY):
            (row,) = held_rows(report, sku)
            assert row["status"] == "skipped" and row["code"] == CODE
            assert row["reason"].startswith("stock not sent: location 'Shop' (column 'Stock: Shop') was in the last "
                                            "run and is missing from this file; restore the column, or run once "
                                            "with --allow-location-removal to drop it")


@pytest.mark.sandbox
def test_an_allowed_removal_sends_the_stock_and_is_remembered(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BOTH)
    write_workbook(wb, ROWS, WAREHOUSE)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--allow-location-removal")
    assert code == EXIT_OK
    assert quantities(elebne_sandbox)[SHOP_ONLY] == 0 and quantities(elebne_sandbox)["SOAP-01"] == 10
    assert any("dropped as asked (--allow-location-removal): 'Shop' (sheet 'Stock - Shop')" in n
               for n in report["notes"])
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)  # the Shop is no longer the last run's
    assert code == EXIT_OK and not any(r["code"] == CODE for r in report["rows"])


@pytest.mark.sandbox
def test_a_profile_guard_allows_the_removal(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    wb = write_workbook(tmp_path / "products.xlsx", ROWS, BOTH)
    profile = tmp_path / "shop.yaml"

    def run(guard: str) -> int:
        profile.write_text(f"source: {wb}\nstate: {tmp_path / 'p.sqlite'}\nguard: {{{guard}}}\n"
                           f"targets:\n  elebne:\n    base_url: {elebne_sandbox.base_url}\n", encoding="utf-8")
        return main(["sync", "--profile", str(profile), "--no-progress", "--report", str(tmp_path / "r.json")])

    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    assert run("allow_location_removal: false") == EXIT_OK
    write_workbook(wb, ROWS, WAREHOUSE)
    assert run("allow_location_removal: false") == EXIT_FAILED
    assert quantities(elebne_sandbox)[SHOP_ONLY] == 4
    assert run("allow_location_removal: true") == EXIT_OK
    assert quantities(elebne_sandbox)[SHOP_ONLY] == 0


def test_the_guard_setting_must_be_true_or_false() -> None:
    assert guard_settings({"allow_location_removal": True}).allow_location_removal
    assert guard_settings({}, {"allow_location_removal"}).allow_location_removal
    assert not guard_settings({}).allow_location_removal
    with pytest.raises(Exception, match="allow_location_removal must be true or false"):
        guard_settings({"allow_location_removal": "yes"})


@pytest.mark.sandbox
def test_a_location_added_holds_nothing_and_is_remembered(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A first run (nothing remembered) holds nothing either, whatever the marketplace lists."""
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, WAREHOUSE)  # the first run: no hold
    assert quantities(elebne_sandbox)[SHOP_ONLY] == 0
    write_workbook(wb, ROWS, BOTH)  # a shop opened
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK and quantities(elebne_sandbox)[SHOP_ONLY] == 4
    write_workbook(wb, ROWS, WAREHOUSE)  # its sheet deleted by mistake: the added location was remembered
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED and quantities(elebne_sandbox)[SHOP_ONLY] == 4
    assert_held(report, SHEET_GONE)


@pytest.mark.sandbox
def test_the_locations_are_remembered_per_backend(state_location: str | Path, elebne_sandbox: SandboxHandle,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The locations are remembered in the state, PostgreSQL as SQLite."""
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    wb = write_workbook(tmp_path / "products.xlsx", ROWS, BOTH)
    argv = ["sync", "--source", str(wb), "--target", "elebne", "--base-url", elebne_sandbox.base_url,
            "--state", str(state_location), "--no-progress", "--report", str(tmp_path / "r.json")]
    assert main(argv) == EXIT_OK
    write_workbook(wb, ROWS, WAREHOUSE)
    assert main(argv) == EXIT_FAILED
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert_held(report, SHEET_GONE)
    assert quantities(elebne_sandbox)[SHOP_ONLY] == 4


@pytest.mark.sandbox
def test_locations_named_by_the_profile_are_neither_held_nor_remembered(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--stock-locations`` (``stock.locations``) says which locations count, as before; the next run that finds
    its locations in the file compares them with the last such run's."""
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, BOTH)
    write_workbook(wb, ROWS, WAREHOUSE)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--stock-locations", "Warehouse")
    assert code == EXIT_OK and quantities(elebne_sandbox)[SHOP_ONLY] == 0
    assert not any(r["code"] == CODE for r in report["rows"])
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_FAILED
    assert_held(report, SHEET_GONE)
