"""Issue 12 point 11, "What people see": warnings at the end of every run, progress lines without a terminal
(and a bar that says when it waits), a time estimate under the documented limits, products and SKUs counted
unambiguously, rotated reports, and SIGTERM ending a run like a budget stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.console import RunProgress, print_summary
from connector.http import Budget, HttpClient, RateLimit
from connector.http.stop import StopRequested, StopSignal
from connector.marketplaces.ecomlinx.adapter import EcomLinxAdapter
from connector.marketplaces.elebne import PLUGIN as ELEBNE
from connector.marketplaces.elebne.adapter import ElebneAdapter
from connector.marketplaces.elryan.adapter import ElryanAdapter
from connector.sync.estimate import estimate_push
from connector.sync.ops import PlannedOp
from connector.sync.profile import rotate_reports
from connector.sync.report import PUSHED, SKIPPED, RowOutcome, RunReport
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.workbooks import set_cell, write_workbook

ROOT = Path(__file__).resolve().parents[1]


def op(action: str, key: str, kind: str = "product", payload: dict[str, Any] | None = None) -> PlannedOp:
    payload = payload or {}
    return PlannedOp(action, kind, key, payload, payload, "{}", "d", None)


def sync(sandbox: SandboxHandle, workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         *extra: str) -> tuple[int, dict]:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    report = tmp_path / "report.json"
    code = main(["sync", "--source", str(workbook), "--target", "elebne", "--base-url", sandbox.base_url,
                 "--state", str(tmp_path / "state.sqlite"), "--report", str(report), *extra])
    return code, json.loads(report.read_text(encoding="utf-8"))


# -- warnings at the end of every run ----------------------------------------------------------------------------
def test_warnings_are_printed_at_the_end_of_a_run_count_and_first_few(capsys: pytest.CaptureFixture) -> None:
    report = RunReport(run_id="r", source="wb.xlsx", target="elebne", dry_run=False, started_at="now")
    report.warnings = [f"sheet 'Old {i}' was ignored" for i in range(7)]
    report.issues = [{"sheet": "Products", "row": 9, "reason": "price has more than 2 decimals", "severity": "warning"},
                     {"sheet": "Products", "row": 3, "reason": "no SKU", "severity": "error"}]
    print_summary(report)
    printed = capsys.readouterr().out
    assert "8 warning(s), the first 5 (see the report for all)" in printed
    assert "sheet 'Old 0' was ignored" in printed and "sheet 'Old 4' was ignored" in printed
    assert "sheet 'Old 5' was ignored" not in printed
    assert printed.index("8 warning(s)") < printed.index("exit code")  # at the end, with the outcome


def test_a_few_warnings_are_all_printed(capsys: pytest.CaptureFixture) -> None:
    report = RunReport(run_id="r", source="wb.xlsx", target="elebne", dry_run=True, started_at="now")
    report.warnings = ["column 'Colour' is not a template column: ignored"]
    print_summary(report)
    printed = capsys.readouterr().out
    assert "1 warning(s):" in printed and "column 'Colour' is not a template column: ignored" in printed
    assert "see the report for all" not in printed


# -- progress ----------------------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_without_a_terminal_progress_is_logged_as_lines_at_least_every_interval() -> None:
    clock, lines = FakeClock(), []
    progress = RunProgress(terminal=False, interval=30, clock=clock, write=lines.append)
    advance = progress(100)
    assert lines == ["progress: 0/100 operation(s) done"]  # at the start
    advance(10)
    clock.now += 29
    advance(10)
    assert len(lines) == 1  # not more often than the interval
    clock.now += 1
    advance(10)
    assert lines[-1] == "progress: 30/100 operation(s) done"
    # a long wait is said when it starts, with when it ends
    progress.waiting(58.2, datetime(2026, 12, 1, 21, 55, 3, tzinfo=UTC), "rate limit")
    assert lines[-1] == "progress: 30/100 operation(s) done; waiting for the rate limit until 21:55:03 UTC (58 s)"
    clock.now += 5
    progress.waiting(2, datetime(2026, 12, 1, 21, 56, 0, tzinfo=UTC), "rate limit")  # short and soon: quiet
    assert len(lines) == 3
    clock.now += 30
    progress.waiting(2, datetime(2026, 12, 1, 21, 57, 0, tzinfo=UTC), "retry")  # the interval passed: said
    assert lines[-1].endswith("waiting for a retry until 21:57:00 UTC (2 s)")
    advance(70)
    assert lines[-1] == "progress: 100/100 operation(s) done"  # at the end


def test_on_a_terminal_the_bar_says_when_it_waits() -> None:
    progress = RunProgress(terminal=True, write=lambda _line: pytest.fail("no lines on a terminal"))
    advance = progress(60)
    try:
        advance(5)
        progress.waiting(40, datetime(2026, 12, 1, 8, 0, 40, tzinfo=UTC), "rate limit")
        assert progress._bar is not None
        assert progress._bar.tasks[0].fields["status"] == "waiting for the rate limit until 08:00:40 UTC (40 s)"
        advance(5)
        assert progress._bar.tasks[0].fields["status"] == ""  # moving again
    finally:
        advance(50)
    assert progress._bar is None


def test_on_a_terminal_a_short_run_without_a_bar_says_only_long_waits() -> None:
    lines: list[str] = []
    progress = RunProgress(terminal=True, interval=30, clock=FakeClock(), write=lines.append)
    advance = progress(3)
    progress.waiting(2, datetime(2026, 12, 1, 8, 0, 2, tzinfo=UTC), "rate limit")
    advance(1)
    assert lines == []
    progress.waiting(45, datetime(2026, 12, 1, 8, 0, 47, tzinfo=UTC), "rate limit")
    assert lines == ["progress: 1/3 operation(s) done; waiting for the rate limit until 08:00:47 UTC (45 s)"]


def test_the_budget_and_the_http_layer_say_before_they_wait(elebne_sandbox: SandboxHandle) -> None:
    clock = [0.0]
    told: list[tuple[float, datetime, str]] = []

    def sleep(s: float) -> None:
        assert told and told[-1][0] == s  # told before sleeping
        clock[0] += s

    budget = Budget({"write": RateLimit("write", per_window=2)}, clock=lambda: clock[0], sleep=sleep)
    budget.on_wait = lambda seconds, until, reason: told.append((seconds, until, reason))
    for _ in range(3):
        budget.acquire("write")
    assert len(told) == 1 and told[0][0] == pytest.approx(60.5) and told[0][2] == "rate limit"
    assert (told[0][1] - datetime.now(UTC)).total_seconds() == pytest.approx(60.5, abs=5)

    elebne_sandbox.fault(method="GET", path="/inventory", kind="status", status=429, retry_after=3, count=1)
    told.clear()
    http = HttpClient(elebne_sandbox.base_url, auth=lambda: {"Authorization": f"Bearer {ELEBNE_KEY}"},
                      sleep=lambda s: None, timeout=(2.0, 2.0))
    http.on_wait = lambda seconds, until, reason: told.append((seconds, until, reason))
    assert http.request("GET", "/inventory", op_class="read").status_code == 200
    assert len(told) == 1 and 3 <= told[0][0] <= 3.3 and told[0][2] == "rate limit"


def test_sync_without_a_terminal_logs_progress_lines(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    code, _ = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--progress-every", "0")
    assert code == 0
    err = capsys.readouterr().err
    assert "progress: 0/6 operation(s) done" in err and "progress: 6/6 operation(s) done" in err


# -- estimate ----------------------------------------------------------------------------------------------------
def test_each_adapter_says_how_many_calls_of_which_class_its_plan_needs() -> None:
    elebne = ElebneAdapter(client=None, account="a", bulk_max_items=200)  # type: ignore[arg-type]
    ops = [op("create", f"P{i}") for i in range(3)] + [op("update", "OLD")]
    ops += [op("stock", f"P{i}", "stock") for i in range(3)] + [op("stock", f"S{i}", "stock") for i in range(450)]
    assert elebne.calls_needed(ops) == {"bulk": 3 + 1, "write": 4}

    elryan = ElryanAdapter(client=type("C", (), {"email": "m@x"})(), account="a", batch_size=100)  # type: ignore
    items = [{"sku": f"S{i}", "stock": 1} for i in range(150)]
    ops = [op("create", "P1", payload={"spu": "P1", "brand": {"name": "B", "remote_id": "b"}}),
           op("stock", "P1", "price_stock", {"items": items})]
    needed = elryan.calls_needed(ops)
    assert needed["stock"] == 2 and needed["auth"] == 1 and needed["write"] >= 1

    ecomlinx = EcomLinxAdapter(client=None, account="a")  # type: ignore[arg-type]
    assert ecomlinx.calls_needed([op("stock", "A", "stock"), op("update", "A")]) == {"api": 3}
    assert ecomlinx.calls_needed([]) == {"api": 0}


def test_a_daily_budget_bound_push_is_estimated_in_days() -> None:
    adapter = ElebneAdapter(client=None, account="a")  # type: ignore[arg-type]
    ops = [op("create", f"P{i}") for i in range(67_000)]
    estimate = estimate_push("Elebne", adapter.calls_needed(ops), ELEBNE.limits, {"write": 500, "bulk": 500})
    assert estimate["days"] == 134 and estimate["bound"] == "day" and estimate["long"]
    assert "needs 134 days" in estimate["text"] and "'write' allows 500 calls a day" in estimate["text"]
    # half the day's budget already spent: one more day
    assert estimate_push("Elebne", {"write": 67_000}, ELEBNE.limits, {"write": 250})["days"] == 135


def test_a_window_bound_push_is_estimated_in_minutes() -> None:
    estimate = estimate_push("Elebne", {"write": 300, "bulk": 2}, ELEBNE.limits, {})
    assert estimate["days"] == 1 and estimate["bound"] == "window"
    assert estimate["seconds"] == 9 * 60  # 30 a minute: the last ten windows wait
    assert "at least 9 min" in estimate["text"] and not estimate["long"]
    assert estimate_push("Elebne", {"write": 3}, ELEBNE.limits, {})["bound"] is None
    assert "does not say" in estimate_push("X", None, {}, {})["text"]


def test_dry_run_announces_a_push_of_days_and_the_real_run_says_so_before_it_starts(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setitem(ELEBNE.limits, "write", RateLimit("write", per_window=30, per_day=1))
    wb = write_workbook(tmp_path / "products.xlsx")  # three products: three creates, one a day
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--dry-run", "--no-progress")
    assert code == 0
    assert report["estimate"]["days"] == 3 and report["estimate"]["calls"] == {"bulk": 1, "write": 3}
    printed = capsys.readouterr()
    assert "estimate: this push needs 3 days under Elebne's documented daily limits" in printed.out

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--no-progress")
    assert code == 3  # the day's budget is spent after one create: the next run carries on
    printed = capsys.readouterr()
    assert "this push needs 3 days" in printed.err.replace("\n", " ")
    assert report["estimate"]["days"] == 3


# -- products and SKUs -------------------------------------------------------------------------------------------
def test_summary_counts_products_and_skus_and_an_update_pushes_every_row_of_its_product(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    wb = write_workbook(tmp_path / "products.xlsx")
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--no-progress")
    assert code == 0
    assert report["summary"]["products"]["pushed"] == {"products": 3, "skus": 5}
    assert "products: 3 pushed (5 SKUs)" in capsys.readouterr().out

    set_cell(wb, "Products", "TEE-L-BL", "Price", 27)  # one variant's price: an update of the whole product
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--no-progress")
    assert code == 0 and report["summary"]["operations"]["update"] == 1
    products = report["summary"]["products"]
    assert products["pushed"] == {"products": 1, "skus": 3}
    assert products["unchanged"] == {"products": 2, "skus": 2}
    tee_rows = [r for r in report["rows"] if r["product"] == "TEE" and r["sheet"] == "Products"]
    assert [r["status"] for r in tee_rows] == ["pushed"] * 3
    assert "products: 1 pushed (3 SKUs), 2 unchanged (2 SKUs)" in capsys.readouterr().out


def test_a_product_or_sku_with_several_rows_is_counted_once_with_its_most_telling_status() -> None:
    report = RunReport(run_id="r", source="s", target="t", dry_run=False, started_at="now")
    report.rows = [RowOutcome("A-1", "A", "Products", 2, PUSHED), RowOutcome("A-1", "A", "Stock", 2, "unchanged"),
                   RowOutcome("A-2", "A", "Products", 3, SKIPPED), RowOutcome(None, None, "Products", 4, SKIPPED)]
    counts = report.product_counts
    assert counts["skipped"] == {"products": 1, "skus": 1} and counts["pushed"] == {"products": 0, "skus": 1}
    assert counts["unchanged"] == {"products": 0, "skus": 0}


# -- reports rotated ---------------------------------------------------------------------------------------------
def test_rotation_keeps_the_newest_reports_of_the_profile_and_deletes_only_its_own(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    other = folder / "20260101T000000Z-aaaaaa-elebne.json"  # another profile's report in the same folder
    other.write_text("{}")
    mine_by_hand = folder / "notes.json"
    mine_by_hand.write_text("{}")
    state = tmp_path / "shop.sqlite"
    saved = []
    for i in range(5):
        path = folder / f"2026120{i + 1}T000000Z-bbbbbb-elebne.json"
        path.write_text("{}")
        saved.append(path)
        rotate_reports(path, state, keep=3)
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(
        [other.name, mine_by_hand.name] + [p.name for p in saved[2:]])


def test_profile_reports_keep_rotates_the_default_report_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 elebne_sandbox: SandboxHandle) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    wb = write_workbook(tmp_path / "products.xlsx")
    profile = tmp_path / "shop.yaml"
    profile.write_text(f"source: {wb}\nstate: state/shop.sqlite\nreports: {{keep: 2}}\n"
                       f"targets:\n  elebne:\n    base_url: {elebne_sandbox.base_url}\n", encoding="utf-8")
    for _ in range(4):
        assert main(["sync", "--profile", str(profile), "--dry-run", "--no-progress"]) == 0
    assert len(list((tmp_path / "state" / "reports").glob("*.json"))) == 2

    profile.write_text(f"source: {wb}\nreports: {{keep: none}}\ntargets: {{elebne: {{}}}}\n", encoding="utf-8")
    assert main(["sync", "--profile", str(profile), "--dry-run"]) == 2


# -- SIGTERM -----------------------------------------------------------------------------------------------------
def test_a_stop_ends_a_budget_wait_and_the_next_call_is_deferred() -> None:
    stop = StopSignal()
    budget = Budget({"write": RateLimit("write", per_window=1)}, sleep=lambda s: stop.set("SIGTERM received"))
    budget.stop = stop
    budget.acquire("write")
    with pytest.raises(StopRequested, match="SIGTERM received"):
        budget.acquire("write")
    assert budget.counter.used_today("write", budget._day()) == 1  # nothing taken for the stopped call
    stop.sleep(3600)  # returns at once once a stop was asked for
    http = HttpClient("http://127.0.0.1:9", sleep=lambda s: pytest.fail("no pause after a stop"))
    http.stop = stop
    with pytest.raises(StopRequested):
        http.request("GET", "/anything", op_class="read")  # nothing new goes out
    assert http.stats.total == 0


def test_sigterm_ends_a_real_run_like_a_budget_stop_and_the_next_run_finishes_without_duplicates(
        tmp_path: Path) -> None:
    lifted = {"write": (10_000, 100_000), "bulk": (10_000, 100_000), "read": (10_000, 100_000)}
    server = ELEBNE.create_sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite"), rate_limits=lifted)
    server.start()
    sandbox = SandboxHandle(server)
    try:
        rows = [{"SKU": f"ITEM-{i:03}", "Name": f"Item {i}", "Price": 10 + i} for i in range(40)]
        wb = write_workbook(tmp_path / "products.xlsx", rows=rows,
                            stock={"Warehouse": {f"ITEM-{i:03}": i for i in range(40)}})
        env = {**os.environ, "ELEBNE_API_KEY": ELEBNE_KEY, "XDG_STATE_HOME": str(tmp_path / "xdg"),
               "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
        command = [sys.executable, "-m", "connector.cli", "sync", "--source", str(wb), "--target", "elebne",
                   "--base-url", sandbox.base_url, "--state", str(tmp_path / "state.sqlite")]
        # Elebne allows 30 writes a minute: after 30 creates the run waits for the window; SIGTERM it then
        first = subprocess.Popen([*command, "--report", str(tmp_path / "first.json")], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert first.stderr is not None
        seen = []
        for line in first.stderr:
            seen.append(line)
            if "waiting for the rate limit until" in line:
                first.send_signal(signal.SIGTERM)
                break
        out, err = first.communicate(timeout=60)
        assert first.returncode == 3, "".join(seen) + err
        assert "exit code 3" in out and "stopped (SIGTERM received)" in out
        report = json.loads((tmp_path / "first.json").read_text(encoding="utf-8"))
        assert report["stopped"] == "SIGTERM received" and report["exit_code"] == 3
        assert report["summary"]["operations"]["create"] == 30 and report["summary"]["operations"]["deferred"] > 0
        assert len(sandbox.products()) == 30

        second = subprocess.run([*command, "--report", str(tmp_path / "second.json")], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stdout + second.stderr
        remote = sandbox.products()
        assert sorted(remote) == [f"ITEM-{i:03}" for i in range(40)]
        assert all(remote[f"ITEM-{i:03}"]["quantity"] == i for i in range(40))
        creates = [r for r in sandbox.writes() if r["method"] == "POST" and r["path"].endswith("/products")]
        assert len(creates) == 40  # no create was sent twice
    finally:
        server.stop()


def test_refused_credentials_are_not_called_unreachable(capsys: pytest.CaptureFixture) -> None:
    report = RunReport(run_id="r", source="wb.xlsx", target="elebne", dry_run=False, started_at="now")
    report.unreachable = "the marketplace refused the credentials: UNAUTHORIZED (401): Invalid API key"
    print_summary(report)
    printed = " ".join(capsys.readouterr().out.split())
    assert "stopped: the marketplace refused the credentials" in printed
    assert "unreachable" not in printed.replace("could not be reached", "")


def test_exit_3_after_a_429_storm_does_not_blame_the_daily_budget(capsys: pytest.CaptureFixture) -> None:
    report = RunReport(run_id="r", source="wb.xlsx", target="elebne", dry_run=False, started_at="now")
    report.operations = {"deferred": 4}
    report.exit_code = report.compute_exit_code()
    print_summary(report)
    printed = " ".join(capsys.readouterr().out.split())
    assert "exit code 3:" in printed and "429" in printed


def test_rows_refused_before_a_product_was_built_are_counted_as_skus(tmp_path: Path, capsys) -> None:
    """The summary said "products: 0 skipped (1 SKU)" for a row the reader refused (its price not a number):
    no product was built of it, only its SKU is known; it now says "1 SKU skipped"."""
    source = tmp_path / "p.csv"
    source.write_text("SKU,Name,Price\nA-1,Soap,5\nA-2,Cup,abc\n", encoding="utf-8")
    code = main(["sync", "--source", str(source), "--target", "elebne", "--dry-run", "--no-progress",
                 "--state", str(tmp_path / "s.sqlite")])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1
    assert "products: 1 SKU skipped, 1 to push (1 SKU)" in out, out


def test_a_bad_cells_row_line_shows_the_value_as_it_is_in_the_file(tmp_path: Path, capsys) -> None:
    """A sync's row line named the sheet, row, column and reason of a bad cell, not its value (only the JSON report
    and ``connector validate`` did): "12,5O" for 12,50 is seen at once."""
    source = tmp_path / "p.csv"
    long = "x" * 80
    source.write_text(f"SKU,Name,Price,Weight (kg)\nA-1,Soap,5,1\nA-2,Cup,\"12,5O\",1\nA-3,Pot,4,{long}\n",
                      encoding="utf-8")
    code = main(["sync", "--source", str(source), "--target", "elebne", "--dry-run", "--no-progress",
                 "--state", str(tmp_path / "s.sqlite")])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1
    assert "skipped A-2 (Products row 3): Price: text in a number column (Price: '12,5O')" in out, out
    assert f"(Weight (kg): '{'x' * 39}…')" in out  # a long value cut short on the line (whole in the report)
