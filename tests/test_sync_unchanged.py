"""A sync whose source file, mapping, settings and state did not change since the last clean run skips reading
and planning (connector/sync/unchanged.py): it says so, reports every row unchanged, sends nothing and exits 0;
and it does not after anything that could change the plan, on both state backends."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import connector.sources.spreadsheet as spreadsheet
from connector.cli import main
from connector.sync.state import CleanRun, StateStore
from connector.sync.state.location import with_namespace
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox

CSV = "SKU,Name,Price,Stock: Warehouse\nTEA-500,Green tea 500 g,8.90,3\nSOAP-01,Aleppo soap,12.50,5\n"
UNCHANGED_LINE = "source unchanged since the run at "


class Reads:
    """Counts the reads of spreadsheet sources (the reader itself still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = spreadsheet.read_spreadsheet

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(spreadsheet, "read_spreadsheet", counted)


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def rows_of(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted((r["sheet"], r["row"], r["sku"], r["product"], r["status"]) for r in report["rows"])


def test_an_identical_run_reads_nothing_sends_nothing_and_reports_what_a_full_run_reports(
        state_location: str | Path, elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    reads = Reads(monkeypatch)
    wb = write_workbook(tmp_path / "products.xlsx")
    argv = ["sync", "--source", str(wb), "--target", "elebne", "--state", str(state_location), "--no-progress",
            "--base-url", elebne_sandbox.base_url, "--account", "shop"]

    assert main([*argv, "--report", str(tmp_path / "first.json")]) == 0 and reads.count == 1
    first = load(tmp_path / "first.json")
    assert first["summary"]["rows"]["pushed"] == 13
    capsys.readouterr()

    mark = elebne_sandbox.last_id()
    assert main([*argv, "--report", str(tmp_path / "again.json")]) == 0
    assert reads.count == 1  # not read
    assert elebne_sandbox.requests(since=mark) == []
    out = capsys.readouterr().out
    assert UNCHANGED_LINE in out and "13 row(s), nothing to send" in out
    again = load(tmp_path / "again.json")
    assert again["exit_code"] == 0 and again["summary"]["rows"] == {"pushed": 0, "unchanged": 13, "skipped": 0,
                                                                     "failed": 0}
    assert [(s, r, k, p) for s, r, k, p, _ in rows_of(again)] == [(s, r, k, p) for s, r, k, p, _ in rows_of(first)]
    assert any("not read or planned again" in note for note in again["notes"])

    # --full reads and plans: the same outcome, row by row
    assert main([*argv, "--full", "--report", str(tmp_path / "full.json")]) == 0 and reads.count == 2
    full = load(tmp_path / "full.json")
    for key in ("exit_code", "summary", "warnings", "issues", "estimate", "dry_run", "source", "target"):
        assert again[key] == full[key], key
    assert rows_of(again) == rows_of(full)
    assert {k: v for k, v in again["http"].items()} == full["http"]

    # the run after a clean run that read the file takes the shortcut too
    assert main([*argv, "--report", str(tmp_path / "third.json")]) == 0 and reads.count == 2
    # another marketplace (no clean run there, nor credentials): read, then refused as always
    other = [a if a != "elebne" else "elryan" for a in argv]
    assert main([*other, "--report", str(tmp_path / "elryan.json")]) != 0 and reads.count == 3


def test_a_large_run_still_accounts_for_every_row(tmp_path: Path, elebne_sandbox: SandboxHandle,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    monkeypatch.setitem(__import__("connector.marketplaces.elebne", fromlist=["PLUGIN"]).PLUGIN.limits, "write",
                        __import__("connector.http", fromlist=["RateLimit"]).RateLimit("write", 10_000, 100_000))
    reads = Reads(monkeypatch)
    lines = ["SKU,Name,Price,Stock: Warehouse"] + [f"S-{i},Item {i},1.00,{i % 4}" for i in range(40)]
    source = tmp_path / "p.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = ["sync", "--source", str(source), "--target", "elebne", "--state", str(tmp_path / "s.sqlite"),
            "--no-progress", "--base-url", elebne_sandbox.base_url]
    monkeypatch.setattr("connector.sync.report.ROWS_IN_FULL", 10)  # grouped rows, as a large catalogue's
    assert main([*argv, "--report", str(tmp_path / "a.json")]) == 0
    assert main([*argv, "--report", str(tmp_path / "b.json")]) == 0 and reads.count == 1
    from connector.sync.report import report_rows

    shortcut = load(tmp_path / "b.json")
    got = report_rows(shortcut)
    assert sorted((r["row"], r["sku"]) for r in got) == [(i + 2, f"S-{i}") for i in range(40)]
    assert {r["status"] for r in got} == {"unchanged"} and "rows" not in shortcut
    assert main([*argv, "--full", "--report", str(tmp_path / "c.json")]) == 0 and reads.count == 2
    full = load(tmp_path / "c.json")  # read and planned: the same report, its rows grouped alike
    assert shortcut["summary"] == full["summary"] and shortcut["row_groups"] == full["row_groups"]


def _profile(tmp_path: Path, sandbox: SandboxHandle, *, account: str = "shop", bulk: int = 200,
             origin: str = "MR") -> Path:
    profile = tmp_path / "shop.yaml"
    profile.write_text(
        "source: {type: spreadsheet, path: products.csv, currency: MRU}\n"
        "currency: {account: MRU}\n"
        "targets:\n"
        f"  elebne: {{account: {account}, base_url: '{sandbox.base_url}', mapping: mine.yaml,\n"
        f"           settings: {{bulk_max_items: {bulk}, defaults: {{origin: {origin}}}}}}}\n", encoding="utf-8")
    return profile


def test_no_shortcut_after_anything_that_can_change_the_plan(
        state_location: str | Path, elebne_sandbox: SandboxHandle, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    reads = Reads(monkeypatch)
    source = tmp_path / "products.csv"
    source.write_text(CSV, encoding="utf-8")
    mapping = tmp_path / "mine.yaml"
    mapping.write_text("extends: elebne\n", encoding="utf-8")  # the shipped mapping and this file
    profile = _profile(tmp_path, elebne_sandbox)
    argv = ["sync", "--profile", str(profile), "--state", str(state_location), "--no-progress",
            "--report", str(tmp_path / "r.json")]

    def run(*extra: str) -> tuple[int, bool]:
        """(exit code, whether the source was read)"""
        before = reads.count
        code = main([*argv, *extra])
        return code, reads.count > before

    # the profile's state (PostgreSQL: its schema), written as another process would beside the runs (a
    # PostgreSQL server may not have let go of the last run's lock yet when the test writes)
    state_of_profile = with_namespace(state_location, "shop")

    def shortcut() -> None:
        capsys.readouterr()
        assert run() == (0, False)
        assert UNCHANGED_LINE in capsys.readouterr().out

    assert run() == (0, True)
    shortcut()

    source.write_bytes(source.read_bytes().replace(b"Green tea", b"Green tex"))  # one byte
    assert run() == (0, True)
    shortcut()

    mapping.write_text("extends: elebne\n# a comment changes nothing but the file\n", encoding="utf-8")
    assert run() == (0, True)
    shortcut()

    _profile(tmp_path, elebne_sandbox, bulk=100)  # a setting
    assert run() == (0, True)
    shortcut()
    _profile(tmp_path, elebne_sandbox, bulk=100, origin="SN")  # a default
    assert run() == (0, True)
    shortcut()

    assert run("--stock-buffer", "1") == (0, True)  # the stock policy (it lists 0 for 1 or less)
    assert run() == (0, True)  # and back: the buffer is no more
    shortcut()

    with StateStore.open(state_of_profile, lock=False) as state:  # another run confirmed a payload of this account
        state.confirm("elebne", "shop", "stock", [("TEA-500", "from-elsewhere", '{"quantity": 9}', None)])
    assert run() == (0, True)
    shortcut()

    with StateStore.open(state_of_profile, lock=False) as state:  # a batch of a killed run, its outcome unknown
        state.journal_sent("killed-run", "elebne", "shop", "stock", ["TEA-500"])
    assert run() == (0, True)
    assert run() == (0, True)  # (as long as it is open)
    with StateStore.open(state_of_profile, lock=False) as state:
        state.journal_close_stale("elebne", "shop", "closed by the test")
    shortcut()

    # a run that failed part of its push, then the file as it was before it: read again
    before_failure = source.read_bytes()
    source.write_bytes(before_failure.replace(b"8.90", b"9.10"))
    elebne_sandbox.fault(method="PATCH", path="/products/", kind="status", status=422, count=1)
    code, read = run()
    assert code != 0 and read
    source.write_bytes(before_failure)
    assert run() == (0, True)
    shortcut()

    # the connector's code changed (a git pull, a fix installed without a new version number): a reader that
    # reads the same file differently must read it again, once
    import connector.sync.unchanged as unchanged

    monkeypatch.setattr(unchanged, "code_identity", lambda: "0.1.0+another-build")
    assert run() == (0, True)
    shortcut()

    assert run("--dry-run") == (0, True)  # a dry run plans
    assert run("--full") == (0, True)
    shortcut()

    monkeypatch.delenv("ELEBNE_API_KEY")  # credentials gone: refused as always, not "nothing to send"
    assert run()[0] == 2
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    assert run() == (0, True)  # (a refused run leaves no clean run behind)
    shortcut()

    _profile(tmp_path, elebne_sandbox, account="other", bulk=100, origin="SN")  # another account of the marketplace
    assert run()[1] is True


def test_payload_writes_raise_generations_and_clean_runs_are_kept_per_account(state_location: str | Path) -> None:
    with StateStore.open(state_location) as state:
        assert state.generations("elebne") == {}
        state.confirm("elebne", "a", "stock", [("K", "h", "{}", None)])
        state.confirm("elebne", "a", "stock", [("K", "h2", "{}", None)])
        state.mark_records("elebne", "a", "stock", [("K", "h2", "fp")])
        state.forget("elebne", "a", "product", "K")
        state.confirm("elebne", "b", "stock", [("K", "h", "{}", None)])
        state.confirm("ecomlinx", "a", "stock", [("K", "h", "{}", None)])
        expected = {("a", "stock"): 3, ("a", "product"): 1, ("b", "stock"): 1}
        assert state.generations("elebne") == expected
        assert state.own_writes("elebne") == expected
        run = CleanRun("elebne", "a", "inputs", "run-1", "2026-12-02T00:00:00Z", "{}", b"\x00\xffdetail")
        state.save_clean_run(run)
        state.save_clean_run(CleanRun("elebne", "b", "inputs", "run-2", "2026-12-02T00:00:00Z", "{}", b""))
        assert state.clean_runs("elebne", "inputs") == [run, CleanRun("elebne", "b", "inputs", "run-2",
                                                                      "2026-12-02T00:00:00Z", "{}", b"")]
        assert state.clean_runs("elebne", "other inputs") == [] and state.clean_runs("elryan", "inputs") == []
        state.forget_clean_runs("elebne", "b")
        assert state.clean_runs("elebne", "inputs") == [run]
        state.forget_clean_runs("elebne")
        assert state.clean_runs("elebne", "inputs") == []
    with StateStore.open(state_location, lock=False) as other:  # another process: the counts are the database's
        assert other.generations("elebne") == expected and other.own_writes("elebne") == {}


def test_a_version_4_state_file_is_migrated_with_its_payloads(tmp_path: Path) -> None:
    from connector.sync.state.sqlite import _MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(";".join(_MIGRATIONS[v] for v in range(1, 5)) + "; PRAGMA user_version = 4;")
    conn.execute("INSERT INTO payloads VALUES ('elebne','a','K','stock','h','{}','2026-11-01T00:00:00Z', NULL)")
    conn.close()
    with StateStore.open(path) as state:
        assert state.hashes("elebne", "a", "stock") == {"K": "h"}
        assert state.generations("elebne") == {} and state.clean_runs("elebne", "x") == []
        state.confirm("elebne", "a", "stock", [("K", "h2", "{}", None)])
        assert state.generations("elebne") == {("a", "stock"): 1}
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5


@pytest.fixture
def orders_shop(tmp_path: Path, elebne_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """test_orders_e2e's shop: a workbook synced to Elebne and EcomLinx, EcomLinx's orders into orders.xlsx."""
    from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
    from tests.conftest import running_ecomlinx
    from tests.test_orders_e2e import CATALOGUE, write_shop

    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    monkeypatch.setenv("ECOMLINX_API_KEY", ECOMLINX.sandbox_key)
    with running_ecomlinx(tmp_path / "ecomlinx.sqlite", listed=[r["SKU"] for r in CATALOGUE]) as server:
        yield write_shop(tmp_path, elebne_sandbox, server, "{to: workbook, workbook: orders.xlsx, from: [ecomlinx]}"), \
            server


def test_with_orders_the_stock_file_is_not_read_while_the_open_orders_hold_the_same(
        orders_shop: tuple[Path, Any], elebne_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_orders_e2e import elebne_stock, sync

    shop, ecomlinx = orders_shop
    reads = Reads(monkeypatch)
    assert sync(shop)[0] == 0 and reads.count == 1
    capsys.readouterr()
    code, reports = sync(shop)  # the orders step runs (nothing new), the stock file is not read
    assert code == 0 and reads.count == 1
    assert capsys.readouterr().out.count(UNCHANGED_LINE) == 2  # both targets
    stock = {t: r["summary"]["rows"] for t, r in reports.items() if t in ("elebne", "ecomlinx")}
    assert stock == {t: {"pushed": 0, "unchanged": 4, "skipped": 0, "failed": 0} for t in ("elebne", "ecomlinx")}

    order = ecomlinx.create_order({"channel": "amazon_in", "items": [{"sku": "TEA-500", "qty": 1, "price": 8.9}],
                                   "customer": {"name": "Fatimetou", "city": "Nouakchott"}})
    assert sync(shop)[0] == 0 and reads.count == 2  # an open order holds a unit back: read and planned
    assert elebne_stock(elebne_sandbox)["TEA-500"] == 0
    assert sync(shop)[0] == 0 and reads.count == 2  # held back as before: not read
    ecomlinx.set_order_status(order["id"], "cancelled")
    assert sync(shop)[0] == 0 and reads.count == 3  # released: read, and the unit goes back on sale
    assert elebne_stock(elebne_sandbox)["TEA-500"] == 1


def test_a_clean_run_saved_in_another_form_is_not_used(tmp_path: Path, elebne_sandbox: SandboxHandle,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    reads = Reads(monkeypatch)
    source = tmp_path / "p.csv"
    source.write_text(CSV, encoding="utf-8")
    state = tmp_path / "s.sqlite"
    argv = ["sync", "--source", str(source), "--target", "elebne", "--state", str(state), "--no-progress",
            "--base-url", elebne_sandbox.base_url, "--account", "shop", "--report", str(tmp_path / "r.json")]
    assert main(argv) == 0 and main(argv) == 0 and reads.count == 1
    with StateStore.open(state) as s:
        (clean,) = s.clean_runs("elebne")
        s.save_clean_run(dataclasses.replace(clean, detail=b"not zlib"))
    assert main(argv) == 0 and reads.count == 2  # read and planned; a new clean run saved
    assert main(argv) == 0 and reads.count == 2



@pytest.mark.parametrize("kind", ["csv", "xlsx"])  # (an .xlsx is read on a thread started before the setup)
def test_a_file_written_while_it_is_read_leaves_no_clean_run(tmp_path: Path, elebne_sandbox: SandboxHandle,
                                                              monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    import os

    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    source = tmp_path / f"p.{kind}"
    if kind == "csv":
        source.write_text(CSV, encoding="utf-8")
    else:
        write_workbook(source)
    real = spreadsheet.read_spreadsheet
    reads: list[Path] = []

    def written_meanwhile(path: Path, **kwargs: Any) -> Any:
        result = real(path, **kwargs)
        if not reads:  # the first read: the merchant saves the file as the connector reads it
            info = os.stat(path)
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
        reads.append(path)
        return result

    monkeypatch.setattr(spreadsheet, "read_spreadsheet", written_meanwhile)
    argv = ["sync", "--source", str(source), "--target", "elebne", "--state", str(tmp_path / "s.sqlite"),
            "--no-progress", "--base-url", elebne_sandbox.base_url, "--report", str(tmp_path / "r.json")]
    assert main(argv) == 0 and len(reads) == 1
    assert main(argv) == 0 and len(reads) == 2  # what the first run read is not known: read again
    assert main(argv) == 0 and len(reads) == 2


def test_the_warnings_of_the_file_are_said_again_when_it_is_not_read(
        tmp_path: Path, elebne_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    reads = Reads(monkeypatch)
    source = tmp_path / "products.csv"
    source.write_text("SKU,Name,Price,Stock: Warehouse,Shelf\nTEA-500,Green tea,8.90,3,A1\n", encoding="utf-8")
    argv = ["sync", "--source", str(source), "--target", "elebne", "--state", str(tmp_path / "state.sqlite"),
            "--no-progress", "--base-url", elebne_sandbox.base_url]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "'Shelf'" in first and "not used" in first
    assert main(argv) == 0 and reads.count == 1
    again = capsys.readouterr().out
    assert UNCHANGED_LINE in again and "1 warning(s)" in again and "'Shelf'" in again
