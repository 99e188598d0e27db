"""A workbook without an Active column says nothing of which products are on sale ("absent means don't touch"):
every product reads active, but a listing the marketplace was last sent as inactive stays inactive.  Before, a
deleted Active column put back on sale every product the merchant had taken off, with exit 0.  A product created
without the column goes on sale; the column put back decides again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from connector.errors import EXIT_FAILED, EXIT_OK
from connector.mapping import load_mapping
from connector.marketplaces.registry import get_plugin
from connector.sources.base import SourceResult
from connector.sources.spreadsheet import read_spreadsheet
from connector.sync.active_column import untouched_fields
from connector.sync.plan import keep_values
from connector.sync.safety import SafetyOptions
from tests.conftest import SandboxHandle
from tests.test_sync_safety_e2e import elryan_run, elryan_variants, sync
from tests.workbooks import CATALOGUE, HEADERS, STOCK, set_cell, write_workbook

ACTIVE = [*HEADERS, "Active"]


def _without_column(path: Path, header: str) -> Path:
    wb = load_workbook(path)
    ws = wb["Products"]
    heads = [c.value for c in ws[1]]
    ws.delete_cols(heads.index(header) + 1)
    wb.save(path)
    return path


# -- the pieces ------------------------------------------------------------------------------------------------
def test_kept_values_top_level_and_children_by_match_key() -> None:
    old = {"sku": "P", "status": "INACTIVE", "variants": [{"sku": "A", "on": False}, {"sku": "B", "on": True}]}
    new = {"sku": "P", "status": "ACTIVE", "price": 3,
           "variants": [{"sku": "a", "on": True, "n": 1}, {"sku": "B", "on": True}, {"sku": "C", "on": True}]}
    out = keep_values(old, new, {None: frozenset({"status"}), "variants": frozenset({"on"})}, {"variants": "sku"})
    assert out == {"sku": "P", "status": "INACTIVE", "price": 3,  # a new variant (C) keeps its default
                   "variants": [{"sku": "a", "on": False, "n": 1}, {"sku": "B", "on": True}, {"sku": "C", "on": True}]}
    assert new["status"] == "ACTIVE" and new["variants"][0]["on"] is True  # a copy: the payload is not changed
    same = {"sku": "P", "status": "INACTIVE"}
    assert keep_values(old, same, {None: frozenset({"status"})}, {}) is same
    assert keep_values({}, new, {None: frozenset({"status"})}, {}) is new  # nothing confirmed: the default goes


def test_the_fields_copied_from_active_in_each_shipped_mapping() -> None:
    found = {t: load_mapping(get_plugin(t).default_mapping).copied_from(frozenset({"active"}))
             for t in ("elebne", "elryan", "ecomlinx")}
    assert found == {"elebne": {"product": {None: {"status"}}}, "ecomlinx": {"product": {None: {"status"}}},
                     "elryan": {"product": {None: {"is_active"}, "variants": {"is_active"}}}}


def test_only_a_source_that_lacks_the_column_leaves_it_untouched(tmp_path: Path) -> None:
    with_it = write_workbook(tmp_path / "a.xlsx", CATALOGUE, STOCK, ACTIVE)
    without = write_workbook(tmp_path / "b.xlsx", CATALOGUE, STOCK)
    assert untouched_fields(read_spreadsheet(with_it)) == frozenset()
    assert untouched_fields(read_spreadsheet(without)) == {"active"}
    assert untouched_fields(SourceResult()) == frozenset()  # says nothing of its fields: provides them all


# -- end to end ------------------------------------------------------------------------------------------------
@pytest.mark.sandbox
def test_a_deleted_active_column_puts_nothing_back_on_sale(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{**r, "Active": "No" if r["SKU"] == "SOAP-01" else "Yes"} for r in CATALOGUE]
    wb = write_workbook(tmp_path / "products.xlsx", rows, STOCK, ACTIVE)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK  # SOAP-01 archived: never created
    set_cell(wb, "Products", "SOAP-01", "Active", "Yes")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    set_cell(wb, "Products", "SOAP-01", "Active", "No")
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert elebne_sandbox.products()["SOAP-01"]["status"] == "INACTIVE"

    # the column deleted, and a price changed: the price goes, the status stays
    _without_column(wb, "Active")
    set_cell(wb, "Products", "SOAP-01", "Price", 13.5)
    mark = elebne_sandbox.last_id()
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK, report
    soap = elebne_sandbox.products()["SOAP-01"]
    assert soap["status"] == "INACTIVE" and soap["price"] == 1350
    sent = [w for w in elebne_sandbox.writes(since=mark) if w["method"] == "PATCH"]
    assert sent and all("status" not in (w.get("body") or {}) for w in sent), sent
    assert all(p["status"] == "ACTIVE" for k, p in elebne_sandbox.products().items() if k != "SOAP-01")

    # the next run with the same file sends nothing, and maps nothing again either
    set_cell(wb, "Products", "TEA-500", "Name", "Thé vert")  # (a changed file: read and planned)
    mark = elebne_sandbox.last_id()
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert [w["path"].rsplit("/", 1)[-1] for w in elebne_sandbox.writes(since=mark)] == ["TEA-500"]
    assert elebne_sandbox.products()["SOAP-01"]["status"] == "INACTIVE"

    # the column put back says Yes: on sale again
    wb = write_workbook(tmp_path / "products.xlsx", [{**r, "Active": "Yes", **(
        {"Price": 13.5} if r["SKU"] == "SOAP-01" else {"Name": "Thé vert"} if r["SKU"] == "TEA-500" else {})}
        for r in CATALOGUE], STOCK, ACTIVE)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert elebne_sandbox.products()["SOAP-01"]["status"] == "ACTIVE"


def _souk_synced_with_tee_l_bl_off(elryan_sandbox: Any, tmp_path: Path) -> Path:
    """The Souk workbook with an Active column (TEE-L-BL "No"), synced once to Elryan (exit 0)."""
    from tests.test_elryan_sync import souk_workbook

    wb = souk_workbook(tmp_path / "souk.xlsx")
    book = load_workbook(wb)
    ws = book["Products"]
    ws.cell(1, ws.max_column + 1, "Active")
    for r in range(2, ws.max_row + 1):
        ws.cell(r, ws.max_column, "No" if ws.cell(r, 2).value == "TEE-L-BL" else "Yes")
    book.save(wb)
    assert elryan_run(elryan_sandbox, tmp_path, read_spreadsheet(wb, currency="IQD"), SafetyOptions()).exit_code \
        == EXIT_OK
    return wb


@pytest.mark.sandbox
def test_elryan_keeps_a_variant_off_sale_when_the_column_is_deleted(elryan_sandbox: Any, tmp_path: Path) -> None:
    wb = _souk_synced_with_tee_l_bl_off(elryan_sandbox, tmp_path)
    book = load_workbook(wb)
    book["Products"].cell(3, book["Products"].max_column, "Yes")
    book.save(wb)  # listed, then taken off sale
    assert elryan_run(elryan_sandbox, tmp_path, read_spreadsheet(wb, currency="IQD"), SafetyOptions()).exit_code \
        == EXIT_OK
    book = load_workbook(wb)
    book["Products"].cell(3, book["Products"].max_column, "No")
    book.save(wb)
    assert elryan_run(elryan_sandbox, tmp_path, read_spreadsheet(wb, currency="IQD"), SafetyOptions()).exit_code \
        == EXIT_OK
    assert elryan_variants(elryan_sandbox)["TEE-L-BL"]["is_active"] is False

    _without_column(wb, "Active")
    book = load_workbook(wb)
    book["Products"].cell(3, 10, 27000)  # TEE-L-BL's price: the product is sent whole (an upsert)
    book.save(wb)
    report = elryan_run(elryan_sandbox, tmp_path, read_spreadsheet(wb, currency="IQD"), SafetyOptions())
    assert report.exit_code == EXIT_OK, report.to_json()
    variants = elryan_variants(elryan_sandbox)
    assert variants["TEE-L-BL"]["is_active"] is False and variants["TEE-M-BL"]["is_active"] is True


# -- a product never listed, once the column the last run had is gone ------------------------------------------
def _codes(report: dict[str, Any], sku: str) -> set[Any]:
    return {r["code"] for r in report["rows"] if r["sku"] == sku}


@pytest.mark.sandbox
def test_a_lost_active_column_creates_nothing_until_allowed(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SOAP-01 says No (never created); the column deleted, it would read as on sale and be created: held (exit 1)
    on every run until the column is back or the removal is allowed; the listed products' changes still go."""
    rows = [{**r, "Active": "No" if r["SKU"] == "SOAP-01" else "Yes"} for r in CATALOGUE]
    wb = write_workbook(tmp_path / "products.xlsx", rows, STOCK, ACTIVE)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    assert "SOAP-01" not in elebne_sandbox.products()

    _without_column(wb, "Active")
    set_cell(wb, "Products", "TEA-500", "Price", 9.5)
    for dry in (["--dry-run"], [], []):  # (a held run remembers nothing: the next one holds too)
        code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, *dry)
        assert code == EXIT_FAILED, report
        assert _codes(report, "SOAP-01") == {"active_column_missing"}
        reason = next(r["reason"] for r in report["rows"] if r["sku"] == "SOAP-01")
        assert "Active column of the last run is missing" in reason and "--allow-active-column-removal" in reason
        assert any(n.startswith("1 product(s) not created on Elebne") for n in report["notes"])
        assert "SOAP-01" not in elebne_sandbox.products()
    assert elebne_sandbox.products()["TEA-500"]["price"] == 950  # the listed product's change went

    mark = elebne_sandbox.last_id()
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--allow-active-column-removal")
    assert code == EXIT_OK, report
    assert elebne_sandbox.products()["SOAP-01"]["status"] == "ACTIVE"
    assert any("created on sale although the Active column" in n for n in report["notes"])
    assert [w["method"] for w in elebne_sandbox.writes(since=mark) if w["path"].endswith("/products")] == ["POST"]
    set_cell(wb, "Products", "TEA-500", "Price", 9.9)  # the removal is remembered: the next run holds nothing
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK


@pytest.mark.sandbox
def test_a_workbook_that_never_had_the_column_creates_its_products(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = {loc: {k: q for k, q in levels.items() if k in ("SOAP-01", "TEE-M-BL")} for loc, levels in STOCK.items()}
    wb = write_workbook(tmp_path / "products.xlsx", CATALOGUE[:2], first)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    wb = write_workbook(tmp_path / "products.xlsx", CATALOGUE, STOCK)  # products added later, still no column
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK, report
    assert set(elebne_sandbox.products()) == {"SOAP-01", "TEE", "TEA-500"}


def test_the_guard_setting_is_true_or_false() -> None:
    from connector.errors import ConfigError
    from connector.sync.guard import guard_settings

    assert guard_settings({"allow_active_column_removal": True}).allow_active_column_removal
    assert guard_settings({}, {"allow_active_column_removal"}).allow_active_column_removal
    with pytest.raises(ConfigError, match="allow_active_column_removal must be true or false"):
        guard_settings({"allow_active_column_removal": "yes"})


@pytest.mark.sandbox
def test_a_lost_active_column_adds_no_variant_to_a_listed_product(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TEE-L-RD says No (its product listed without it); the column deleted, it would read as on sale and be added
    to the listed product: held (exit 1) until allowed, while the product's listed variants still get their
    changes and stock."""
    rows = [{**r, "Active": "No" if r["SKU"] == "TEE-L-RD" else "Yes"} for r in CATALOGUE]
    wb = write_workbook(tmp_path / "products.xlsx", rows, STOCK, ACTIVE)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    labels = {v["label"] for v in elebne_sandbox.products()["TEE"]["variants"]}
    assert labels == {"M / Blue", "L / Blue"}

    _without_column(wb, "Active")
    set_cell(wb, "Products", "TEE-M-BL", "Price", 27)
    for dry in (["--dry-run"], []):
        code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, *dry)
        assert code == EXIT_FAILED, report
        assert _codes(report, "TEE-L-RD") == {"active_column_missing"}
        assert _codes(report, "TEE-M-BL") == {None}
        assert any(n.startswith("1 variant(s) not added on Elebne") for n in report["notes"]), report["notes"]
    variants = {v["label"]: v for v in elebne_sandbox.products()["TEE"]["variants"]}
    assert set(variants) == {"M / Blue", "L / Blue"}
    assert variants["M / Blue"]["price"] == 2700  # the listed variant's change went

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--allow-active-column-removal")
    assert code == EXIT_OK, report
    assert {v["label"] for v in elebne_sandbox.products()["TEE"]["variants"]} == {"M / Blue", "L / Blue", "L / Red"}
    assert any("1 variant(s) added on sale although the Active column" in n for n in report["notes"])


@pytest.mark.sandbox
def test_a_listed_product_whose_every_variant_is_new_is_held_whole(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{**r, "Active": "Yes" if r["SKU"] == "TEE-M-BL" else "No" if r["SKU"].startswith("TEE") else "Yes"}
            for r in CATALOGUE]
    wb = write_workbook(tmp_path / "products.xlsx", rows, STOCK, ACTIVE)
    assert sync(elebne_sandbox, wb, tmp_path, monkeypatch)[0] == EXIT_OK
    _without_column(wb, "Active")
    set_cell(wb, "Products", "TEE-M-BL", "SKU", "TEE-M-BLUE")  # (its stock rows no longer match: skipped too)
    mark = elebne_sandbox.last_id()
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--missing", "keep")
    assert code == EXIT_FAILED, report
    assert _codes(report, "TEE-L-RD") == {"active_column_missing"} == _codes(report, "TEE-M-BLUE")
    assert {v["label"] for v in elebne_sandbox.products()["TEE"]["variants"]} == {"M / Blue"}
    assert not [w for w in elebne_sandbox.writes(since=mark) if "/products" in w["path"]]


@pytest.mark.sandbox
def test_elryan_adds_no_variant_marked_no_once_the_column_is_lost(elryan_sandbox: Any, tmp_path: Path) -> None:
    from connector.errors import EXIT_FAILED as FAILED

    wb = _souk_synced_with_tee_l_bl_off(elryan_sandbox, tmp_path)
    assert "TEE-L-BL" not in elryan_variants(elryan_sandbox)

    _without_column(wb, "Active")
    report = elryan_run(elryan_sandbox, tmp_path, read_spreadsheet(wb, currency="IQD"), SafetyOptions())
    assert report.exit_code == FAILED, report.to_json()
    assert {r.code for r in report.rows if r.sku == "TEE-L-BL"} == {"active_column_missing"}
    assert "TEE-L-BL" not in elryan_variants(elryan_sandbox)
    assert elryan_variants(elryan_sandbox)["TEE-M-BL"]["is_active"] is True
