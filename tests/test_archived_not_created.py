"""An archived product or variant never listed on a marketplace is not created there (connector/sync/archived.py):
a merchant's workbook (Active column) against the Elebne and EcomLinx sandboxes, over several runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_OK, ConfigError
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from connector.marketplaces.ecomlinx.adapter import NOT_ON_ECOMLINX_CODE
from connector.sources.spreadsheet import read_spreadsheet
from connector.sync.archived import ARCHIVED_NOT_LISTED
from connector.sync.guard import GuardSettings
from connector.sync.report import PUSHED, SKIPPED, UNCHANGED, RunReport
from connector.sync.runner import SyncOptions, run_sync
from connector.sync.safety import SafetyOptions
from tests.conftest import ELEBNE_KEY, SandboxHandle, running_ecomlinx
from tests.workbooks import CATALOGUE, HEADERS, write_workbook

pytestmark = pytest.mark.sandbox


def catalogue(inactive: set[str]) -> list[dict[str, Any]]:
    return [{**row, "Active": "No" if row["SKU"] in inactive else "Yes"} for row in CATALOGUE]


def run(book: Path, target: str, base_url: str, secret: str, state: Path, *, inactive: set[str],
        missing: str = "zero", options: dict[str, Any] | None = None, **settings: Any) -> RunReport:
    """A sync of the workbook with the products or variants ``inactive`` archived; ``options``: more of
    ``SyncOptions`` (``full``, ``max_retries``...)."""
    write_workbook(book, catalogue(inactive), headers=[*HEADERS, "Active"])
    opts = SyncOptions(target=target, state_path=state, secret=secret, base_url=base_url, account="shop",
                       source_label=book.name, settings=settings,
                       safety=SafetyOptions(missing=missing, guard=GuardSettings(allow_mass_change=True)),
                       **(options or {}))
    report = run_sync(read_spreadsheet(book), opts).report
    report.exit_code = report.compute_exit_code()
    return report


def statuses(report: RunReport, sku: str) -> set[tuple[str, str | None]]:
    """(status, code) of every row of ``sku`` (its Products row and its stock rows)."""
    return {(r.status, r.code) for r in report.rows if r.sku == sku}


LEFT_OUT = {(SKIPPED, ARCHIVED_NOT_LISTED)}


def test_elebne_archived_never_listed_is_not_created_until_active(elebne_sandbox: SandboxHandle,
                                                                    tmp_path: Path) -> None:
    book, state = tmp_path / "book.xlsx", tmp_path / "state.sqlite"

    def sync(inactive: set[str], **kw: Any) -> RunReport:
        return run(book, "elebne", elebne_sandbox.base_url, ELEBNE_KEY, state, inactive=inactive, **kw)

    # TEA-500 archived, never listed: not created; TEE-L-RD archived under an active product: left out of it
    first = sync({"TEA-500", "TEE-L-RD"})
    remote = elebne_sandbox.products()
    assert set(remote) == {"SOAP-01", "TEE"}
    assert {v["sku"] for v in remote["TEE"]["variants"]} == {"TEE-M-BL", "TEE-L-BL"}
    for sku in ("TEA-500", "TEE-L-RD"):
        assert statuses(first, sku) == LEFT_OUT
        row = next(r for r in first.rows if r.sku == sku)
        assert row.reason == "archived in the source and never listed on Elebne: not created"
        assert not row.attention
    assert first.exit_code == EXIT_OK  # nothing bad happened
    assert first.operations["create"] == 2

    # again, with missing: disable: a product left out is not "no longer in source"; nothing is sent
    mark = elebne_sandbox.last_id()
    again = sync({"TEA-500", "TEE-L-RD"}, missing="disable")
    assert elebne_sandbox.writes(since=mark) == []
    assert statuses(again, "TEA-500") == statuses(again, "TEE-L-RD") == LEFT_OUT
    assert not any("no longer in source" in (r.reason or "") for r in again.rows)
    assert again.exit_code == EXIT_OK and again.refused is None

    # TEA-500 active again: created now; SOAP-01 and the variant TEE-L-BL, listed, archived: taken off sale there
    later = sync({"SOAP-01", "TEE-L-BL", "TEE-L-RD"})
    remote = elebne_sandbox.products()
    assert remote["TEA-500"]["status"] == "ACTIVE"
    assert (remote["SOAP-01"]["status"], remote["SOAP-01"]["quantity"]) == ("INACTIVE", 0)
    tee = {v["sku"]: v for v in remote["TEE"]["variants"]}
    assert set(tee) == {"TEE-M-BL", "TEE-L-BL"} and tee["TEE-L-BL"]["quantity"] == 0
    assert statuses(later, "TEA-500") == {(PUSHED, None)}
    assert statuses(later, "SOAP-01") == {(PUSHED, None)}
    assert statuses(later, "TEE-L-RD") == LEFT_OUT
    assert later.exit_code == EXIT_OK

    # the archived variant on sale again: added to its product
    sync(set())
    assert {v["sku"] for v in elebne_sandbox.products()["TEE"]["variants"]} == {"TEE-M-BL", "TEE-L-BL", "TEE-L-RD"}


def test_elebne_create_archived_creates_them_inactive(elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    def sync(value: Any) -> RunReport:
        return run(tmp_path / "book.xlsx", "elebne", elebne_sandbox.base_url, ELEBNE_KEY, tmp_path / "state.sqlite",
                   inactive={"TEA-500"}, defaults={"create_archived": value})

    with pytest.raises(ConfigError, match=r"defaults.create_archived must be true or false, not 'yes'"):
        sync("yes")  # never read as "not said": a typo would change what is created
    assert elebne_sandbox.writes() == []
    report = sync(True)
    assert elebne_sandbox.products()["TEA-500"]["status"] == "INACTIVE"
    assert statuses(report, "TEA-500") == {(PUSHED, None)}


def test_ecomlinx_archived_sku_is_skipped_unless_ecomlinx_lists_it(tmp_path: Path) -> None:
    """EcomLinx matches products by SKU: an archived SKU it lists is taken off sale as before; one it does not
    list is skipped as archived, not as "not on EcomLinx: create it there first" (nothing to ask the merchant)."""
    with running_ecomlinx(tmp_path / "sandbox.sqlite", listed=["SOAP-01", "TEE-M-BL", "TEE-L-BL"]) as server:
        def sync(inactive: set[str], **settings: Any) -> RunReport:
            return run(tmp_path / "book.xlsx", "ecomlinx", server.api_url, ECOMLINX.sandbox_key,
                       tmp_path / "state.sqlite", inactive=inactive, **settings)

        report = sync({"SOAP-01", "TEE-L-RD", "TEA-500"})
        remote = {p["sku"]: p for p in server.dump_state()["products"]}
        assert remote["SOAP-01"]["status"] == "inactive"  # listed there: taken off sale
        assert statuses(report, "SOAP-01") == {(PUSHED, None)}
        for sku in ("TEE-L-RD", "TEA-500"):
            assert statuses(report, sku) == LEFT_OUT
            assert next(r for r in report.rows if r.sku == sku).reason == \
                "archived in the source and never listed on EcomLinx: not created"
        assert report.operations[NOT_ON_ECOMLINX_CODE] == 0
        assert not any("not on EcomLinx" in note for note in report.notes)
        assert report.exit_code == EXIT_OK

        # active again: asked for as any SKU EcomLinx lacks
        again = sync(set())
        assert statuses(again, "TEA-500") == {(SKIPPED, NOT_ON_ECOMLINX_CODE)}
        assert statuses(again, "SOAP-01") <= {(PUSHED, None), (UNCHANGED, None)}


@pytest.mark.parametrize("grouped", [False, True], ids=["rows", "row_groups"])
def test_a_source_unchanged_with_archived_rows_takes_the_shortcut(grouped: bool, elebne_sandbox: SandboxHandle,
                                                                 tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows left out as archived are what a later run reports again: the run that left them out is clean, and the
    next run of the same file sends nothing without reading it, its report saying the same of those rows."""
    import json

    from connector.cli import main
    from connector.sync.report import report_rows

    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    if grouped:
        monkeypatch.setattr("connector.sync.report.ROWS_IN_FULL", 3)  # grouped rows, as a large catalogue's
    source = tmp_path / "p.csv"
    source.write_text("SKU,Name,Price,Active,Stock: Warehouse\nTEA-500,Green tea,8.90,No,3\n"
                      "SOAP-01,Aleppo soap,12.50,Yes,5\nOIL-1,Olive oil,9.00,Yes,2\nLAMP-1,Lamp,30.00,No,1\n",
                      encoding="utf-8")
    argv = ["sync", "--source", str(source), "--target", "elebne", "--state", str(tmp_path / "s.sqlite"),
            "--no-progress", "--base-url", elebne_sandbox.base_url, "--account", "shop"]
    assert main([*argv, "--report", str(tmp_path / "a.json")]) == EXIT_OK
    assert set(elebne_sandbox.products()) == {"SOAP-01", "OIL-1"}
    mark = elebne_sandbox.last_id()
    assert main([*argv, "--report", str(tmp_path / "b.json")]) == EXIT_OK
    assert elebne_sandbox.requests(since=mark) == []
    first, again = (json.loads((tmp_path / name).read_text(encoding="utf-8")) for name in ("a.json", "b.json"))
    assert any("not read or planned again" in note for note in again["notes"])  # the shortcut was taken
    assert again["exit_code"] == EXIT_OK
    assert again["summary"]["rows"] == {"pushed": 0, "unchanged": 2, "skipped": 2, "failed": 0}
    got = {r["sku"]: (r["status"], r["code"], r["reason"]) for r in report_rows(again)}
    assert got == {sku: (status, code, reason) for sku, status, code, reason in
                   ((r["sku"], "unchanged" if r["status"] == "pushed" else r["status"], r["code"], r["reason"]
                     if r["status"] != "pushed" else None) for r in report_rows(first))}
    assert got["TEA-500"] == (SKIPPED, ARCHIVED_NOT_LISTED,
                              "archived in the source and never listed on Elebne: not created")
    # a run that reads and plans (--full) reports the same
    assert main([*argv, "--full", "--report", str(tmp_path / "c.json")]) == EXIT_OK
    full = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert again["summary"] == full["summary"]
    assert again.get("row_groups") == full.get("row_groups") and again.get("rows") == full.get("rows")
