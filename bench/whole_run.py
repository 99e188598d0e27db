"""``make bench`` rows for whole ``connector sync`` commands on a 100,000-row workbook (issue 16).

Each command runs in a fresh interpreter (``python -m bench.whole_run --command ...``, which calls
``connector.cli.main``), and its wall time and peak RSS are read from the operating system for that process
alone (``os.wait4``); the commands short enough to repeat (``validate``, the dry run) run ``RUNS`` times, best
and median time as the read rows give them, and the highest peak.  Beside them, anchors measured in the same
run: ``connector validate`` of the same file (the read and its checks, nothing planned) and the plan mapping
every record (what a no-change plan cost before unchanged records skipped mapping).

- ``sync --dry-run`` against an empty state (every product planned as new), and its JSON report;
- a real sync to a local Elebne sandbox with the rate limits lifted on both sides, and its JSON report;
- the no-change second run (the plan finds nothing to send), and the plan alone, mapping every record and with
  unchanged records skipping mapping, in a fresh interpreter that read the workbook as the command does
  (``--plans``); the same for a 10,000-product sample to Elryan, whose mapping (expressions, translations) costs
  far more than the fingerprint that lets a record skip it.

The targets are those of issue 16 for 100,000 rows (``--rows`` smaller does not scale them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.verdict import met

Row = tuple[str, str, str, str]
ROOT = Path(__file__).resolve().parents[1]
LIFTED = {"bulk": (100_000, 1_000_000), "write": (100_000, 1_000_000), "read": (100_000, 1_000_000),
          "stock": (100_000, 1_000_000)}




def run_command(argv: list[str], *, lift_limits: bool = False) -> dict[str, Any]:
    """Run ``connector ARGV`` in a fresh interpreter: exit code, wall seconds, peak RSS (MB) of that process."""
    cmd = [sys.executable, "-m", "bench.whole_run", "--command", json.dumps({"argv": argv, "lift": lift_limits})]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    text = err.decode(errors="replace")
    # Linux carries a process's peak RSS across exec: the child's ru_maxrss starts at this (bench) process's peak,
    # which holds the sandbox and its catalogue.  The child's own peak is its VmHWM, which it prints last.
    peak = [line for line in text.splitlines() if line.startswith(PEAK_MARK)]
    rss_mb = int(peak[-1].removeprefix(PEAK_MARK)) / 1024 if peak else usage.ru_maxrss / 1024
    return {"code": proc.returncode, "seconds": seconds, "rss_mb": rss_mb, "stderr": text[-2000:]}


PEAK_MARK = "bench peak RSS kB: "
RUNS = 3  # runs of each command short enough to repeat (validate, the dry run): a shared VM slows down for seconds


def run_repeated(argv: list[str], before: Any = None) -> dict[str, Any]:
    """``run_command`` ``RUNS`` times (``before()`` first each time, e.g. to empty the state): the best and the
    median wall time, as the read rows give them, and the highest peak RSS of the runs (memory is not noise)."""
    runs = []
    for _ in range(RUNS):
        if before is not None:
            before()
        runs.append(run_command(argv))
        if runs[-1]["code"] != 0:
            break
    times = sorted(r["seconds"] for r in runs)
    return {"code": max(r["code"] for r in runs), "seconds": times[0], "median": times[len(times) // 2],
            "rss_mb": max(r["rss_mb"] for r in runs), "stderr": runs[-1]["stderr"], "runs": len(runs)}


def _own_peak_kb() -> int | None:
    """This process's peak RSS since its exec (``VmHWM``; Linux only)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), None)
    except OSError:
        return None


def _child(spec: str) -> int:
    """(in the fresh interpreter) lift the Elebne limits if asked, then run the command."""
    data = json.loads(spec)
    if data["lift"]:
        from connector.http import RateLimit
        from connector.marketplaces.elebne import PLUGIN

        PLUGIN.limits.update({name: RateLimit(name, per_minute, per_day)
                              for name, (per_minute, per_day) in LIFTED.items() if name in PLUGIN.limits})
    from connector.cli import main

    sys.argv = ["connector", *data["argv"]]  # run as the installed command runs: main() of the process's arguments
    try:
        return main()
    finally:
        peak = _own_peak_kb()
        if peak is not None:
            print(f"{PEAK_MARK}{peak}", file=sys.stderr, flush=True)


def _report_rows(path: Path, expected: int) -> tuple[float, bool]:
    """The report's size in MB, and whether every input row is in it with its key and outcome."""
    from connector.sync.report import report_rows

    data = json.loads(path.read_text(encoding="utf-8"))
    rows = report_rows(data)
    keyed = {(r["sheet"], r["row"]) for r in rows if r["sheet"] is not None and r["sku"] and r["status"]}
    return path.stat().st_size / 1e6, len(keyed) == expected == sum(data["summary"]["rows"].values())


ELRYAN_DEFAULTS = {"tax": 0, "guarantee": 12, "fulfillment_day": 2, "brand": "House",
                   "supplier": {"name": "Souk Trading", "remote_id": "sup-souk"}}


def fingerprint_seconds(products: list[Any], target: str, settings: dict[str, Any]) -> float:
    """Best of 3 of the fingerprints alone (``sync/fingerprint.py``: each record encoded and hashed), which a plan
    skipping mapping computes for every record: the floor under "its plan" as the plan is built."""
    from connector.mapping import load_mapping
    from connector.marketplaces.registry import get_plugin
    from connector.sync.fingerprint import mapping_context, record_fingerprint
    from connector.sync.session import merge_settings

    plugin = get_plugin(target)
    mapping = load_mapping(plugin.default_mapping)
    merged = merge_settings(plugin.settings, settings)
    adapter = plugin.make_adapter(None, merged, "bench", "")  # type: ignore[arg-type]
    context = mapping_context(mapping, adapter, merged.get("defaults") or {}, merged)
    assert context is not None
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        marks = [record_fingerprint(p, context) for p in products]
        best = min(best, time.perf_counter() - start)
        assert None not in marks
    return best


def plan_seconds(products: list[Any], target: str, settings: dict[str, Any]) -> tuple[float, float]:
    """Best of 3 of the plan alone (mapping, hashes, comparison) of ``products`` against a state where a push
    the marketplace accepted whole left them (confirmed and marked): mapping every record (as before), and with
    unchanged records skipping mapping.  Both must plan nothing."""
    import tempfile

    from connector.mapping import load_mapping
    from connector.marketplaces.registry import get_plugin
    from connector.sync.fingerprint import mapping_context
    from connector.sync.plan import build_plan, save_record_marks
    from connector.sync.session import merge_settings
    from connector.sync.state import StateStore

    plugin = get_plugin(target)
    mapping = load_mapping(plugin.default_mapping)
    merged = merge_settings(plugin.settings, settings)  # as the runner merges them
    defaults = merged.get("defaults") or {}
    adapter = plugin.make_adapter(None, merged, "bench", "")  # type: ignore[arg-type]
    context = mapping_context(mapping, adapter, defaults, merged)
    with tempfile.TemporaryDirectory(prefix="connector-bench-plan-") as tmp:
        with StateStore.open(Path(tmp) / "state.sqlite") as state:
            first = build_plan(products, mapping, adapter, state, target, "bench", defaults=defaults, context=context)
            assert not first.mapping_failures, first.mapping_failures[:1]
            for kind in {op.kind for op in first.ops}:
                state.confirm(target, "bench", kind, [(op.key, op.digest, op.canonical, None)
                                                      for op in first.ops if op.kind == kind])
            save_record_marks(first, state)
            del first
        # planned with the state the first run left, opened again as the next run opens it
        state = StateStore.open(Path(tmp) / "state.sqlite")
        best = {}
        for _ in range(3):
            for name, ctx in (("mapped", None), ("skipped", context)):
                start = time.perf_counter()
                plan = build_plan(products, mapping, adapter, state, target, "bench", defaults=defaults,
                                  context=ctx, note_marks=False)
                best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
                assert not plan.ops, (target, name, plan.ops[:1])
        state.close()
    return best["mapped"], best["skipped"]


def bench_whole_run(rows: int, tmp: Path) -> list[Row]:
    import requests

    from bench.spreadsheet_data import LOCATIONS, generate
    from connector.marketplaces.elebne import PLUGIN

    workbook = generate(tmp / "whole-run.xlsx", rows, "xlsx")
    expected_rows = (1 + len(LOCATIONS)) * rows  # each Products row and its row in every stock sheet
    out: list[Row] = []

    validate = run_repeated(["validate", str(workbook)])
    out.append((f"anchor: `connector validate`, {rows:,} rows .xlsx (read + checks, nothing planned)",
                f"{validate['seconds']:.2f} s (median {validate['median']:.2f}), {validate['rss_mb']:.0f} MB", "",
                ""))

    dry_state, dry_report = tmp / "dry.sqlite", tmp / "dry-report.json"

    def empty_state() -> None:  # every run a first run: every product new
        for path in tmp.glob(dry_state.name + "*"):
            path.unlink()

    dry = run_repeated(["sync", "--source", str(workbook), "--target", "elebne", "--dry-run", "--state",
                        str(dry_state), "--report", str(dry_report), "--no-progress"], before=empty_state)
    assert dry["code"] == 0, dry["stderr"]
    ok = dry["seconds"] <= 4 and dry["rss_mb"] <= 400
    out.append((f"`sync --dry-run`, whole command (first run: every product new; best of {dry['runs']}, highest peak)",
                f"{dry['seconds']:.2f} s (median {dry['median']:.2f}), {dry['rss_mb']:.0f} MB peak RSS",
                "<= 4 s, <= 400 MB", met(ok)))
    size, complete = _report_rows(dry_report, expected_rows)
    out.append(("  its JSON report", f"{size:.1f} MB, every row {'accounted for' if complete else 'NOT accounted'}",
                "<= 10 MB, every row", met(size <= 10 and complete)))

    server = PLUGIN.create_sandbox(port=0, rate_limits=LIFTED)
    server.start()
    try:
        base = server.url + PLUGIN.sandbox_base_path
        state, real_report = tmp / "real.sqlite", tmp / "real-report.json"
        argv = ["sync", "--source", str(workbook), "--target", "elebne", "--state", str(state), "--base-url", base,
                "--account", "bench", "--no-progress"]
        os.environ["ELEBNE_API_KEY"] = PLUGIN.sandbox_key
        real = run_command([*argv, "--report", str(real_report)], lift_limits=True)
        assert real["code"] == 0, real["stderr"]
        out.append(("real sync to a local Elebne sandbox, limits lifted (whole command)",
                    f"{real['seconds']:.1f} s, {real['rss_mb']:.0f} MB peak RSS", "<= 500 MB",
                    met(real["rss_mb"] <= 500)))
        size, complete = _report_rows(real_report, expected_rows)
        out.append(("  its JSON report", f"{size:.1f} MB, every row {'accounted for' if complete else 'NOT accounted'}",
                    "<= 10 MB, every row", met(size <= 10 and complete)))
        before = len(requests.get(server.url + "/__sandbox/requests", timeout=60).json()["requests"])
        # (limits not lifted: a run that sends nothing takes nothing from them, and lifting them imports the plugin)
        again = run_command([*argv, "--report", str(tmp / "again-report.json")])
        sent = len(requests.get(server.url + "/__sandbox/requests", timeout=60).json()["requests"]) - before
        assert again["code"] == 0, again["stderr"]
        size, complete = _report_rows(tmp / "again-report.json", expected_rows)
        out.append((f"no-change second run, whole command ({sent} request(s) sent; the file is not read: "
                    "sync/unchanged.py)", f"{again['seconds']:.2f} s, {again['rss_mb']:.0f} MB peak RSS", "<= 2 s",
                    met(again["seconds"] <= 2 and sent == 0)))
        out.append(("  its JSON report", f"{size:.1f} MB, every row {'accounted for' if complete else 'NOT accounted'}",
                    "<= 10 MB, every row", met(size <= 10 and complete)))
        full = run_command([*argv, "--full", "--report", str(tmp / "full-report.json")])
        assert full["code"] == 0, full["stderr"]
        out.append(("  anchor: the same run with `--full` (reads the file and plans)",
                    f"{full['seconds']:.2f} s, {full['rss_mb']:.0f} MB peak RSS", "", ""))
    finally:
        server.stop()
    out.extend(plan_rows_in_fresh_process(workbook))
    return out


def plan_rows_in_fresh_process(workbook: Path) -> list[Row]:
    """The plan rows, measured in a fresh interpreter as the commands are (``--plans``): this process has hosted
    the sandbox and a whole real sync by then, and a plan reads every record, its speed that of the heap they
    lie in."""
    done = subprocess.run([sys.executable, "-m", "bench.whole_run", "--plans", str(workbook)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return [tuple(row) for row in json.loads(done.stdout.splitlines()[-1])]  # type: ignore[misc]


def _plans_child(workbook: str) -> int:
    """(in the fresh interpreter) read the workbook as `connector sync` does, then time the plans."""
    from connector.sources.spreadsheet import read_spreadsheet
    from connector.sync.collector import source_kept
    from connector.sync.stock_policy import StockPolicy

    with source_kept() as read_done:  # the heap as `connector sync` plans: the records read kept out of gc passes
        products = read_spreadsheet(Path(workbook), currency="MRU").products
        read_done()
        StockPolicy().apply(products)
        print(json.dumps(_plan_rows(products)))
    return 0


def _plan_rows(products: list[Any]) -> list[Row]:
    """The no-change plans of ``products``, in this process."""
    from connector.sync import fingerprint

    out: list[Row] = []
    mapped, skipped = plan_seconds(products, "elebne", {})
    out.append((f"  anchor: its plan of {len(products):,} products mapping every record (before unchanged records "
                "skipped mapping)", f"{mapped:.2f} s", "", ""))
    out.append((f"  its plan (unchanged records skip mapping; fingerprints: {fingerprint.encoding_in_use()})",
                f"{skipped:.2f} s", "<= 0.5 s", met(skipped <= 0.5)))
    out.append(("  anchor: the fingerprints alone, every record encoded and hashed (what it cannot skip)",
                f"{fingerprint_seconds(products, 'elebne', {}):.2f} s", "", ""))
    with fingerprint.encoding(native=False):
        out.append(("  anchor: the same with the Python encoding (where the native module is not built)",
                    f"{fingerprint_seconds(products, 'elebne', {}):.2f} s", "", ""))
    few = products[:10_000]  # Elryan's mapping (expressions, translations) is far slower: a sample
    mapped, skipped = plan_seconds(few, "elryan", {"defaults": ELRYAN_DEFAULTS, "email": "bench@localhost"})
    out.append((f"  no-change plan of {len(few):,} products to Elryan, mapping every record (anchor)",
                f"{mapped:.2f} s", "", ""))
    out.append(("  the same, unchanged records skip mapping", f"{skipped:.2f} s ({mapped / skipped:.0f}x faster)",
                "", ""))
    return out


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--command":
        sys.exit(_child(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "--plans":
        sys.exit(_plans_child(sys.argv[2]))
    import tempfile

    from bench.run import print_table

    with tempfile.TemporaryDirectory(prefix="connector-bench-") as tmp_s:
        print_table(bench_whole_run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, Path(tmp_s)))
