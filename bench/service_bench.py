"""Service rows for ``make bench`` (issue 15): the queue on a real PostgreSQL (pgserver), worker processes.

- jobs per minute for 100 small accounts (Elebne sandbox, limits lifted) with 1, 2 and 4 worker processes;
- the queue's overhead per job: defer -> run finished on an idle worker, minus the same ``connector sync`` run
  directly in this process (median of several accounts);
- the load proof at scale: 30 accounts on the three sandboxes at their documented limits, 3 workers, one killed
  with SIGKILL mid-job (every account exact, duplicates, 429s, overlapping runs);
- ``connector watch``: latency from a stock change in Odoo to the sandbox marketplace with a 10 s poll (p95),
  and the RPCs of an idle poll (``bench/service_watch.py``).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.verdict import met

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LIFTED = {"write": (100_000, 1_000_000), "bulk": (100_000, 1_000_000), "read": (100_000, 1_000_000),
          "stock": (100_000, 1_000_000)}


def _server() -> Any:
    from tests.postgres_support import PgServer, _start

    folder = Path(tempfile.mkdtemp(prefix="connector-bench-pg-"))
    return PgServer(_start(folder / "data")), folder


def _elebne_fleet(folder: Path, state_url: str, sandbox_url: str, accounts: int, products: int = 2) -> list[Path]:
    """``accounts`` profiles on one Elebne sandbox (accounts are separate in the state and the budgets)."""
    import yaml

    paths = []
    for n in range(accounts):
        name = f"small-{n:03d}"
        csv = folder / f"{name}.csv"
        csv.write_text("SKU,Name,Price,Stock: Main\n" + "".join(f"{name}-{i},Item {i},{5 + i},{i + 1}\n"
                                                                 for i in range(products)), encoding="utf-8")
        profile = {"name": name, "state": state_url, "missing": "keep",
                   "source": {"type": "spreadsheet", "path": str(csv)},
                   "targets": {"elebne": {"account": name, "base_url": sandbox_url}}}
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(profile), encoding="utf-8")
        paths.append(path)
    return paths


def _wait_workers(url: str, n: int, timeout: float = 60) -> None:
    from connector.service.queue import connection

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with connection(url) as conn:
            if conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0] >= n:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{n} workers did not start")


def _finished(url: str) -> int:
    from connector.service.queue import connection

    with connection(url) as conn:
        return int(conn.execute("SELECT count(*) FROM connector_service.job_runs WHERE finished_at IS NOT NULL"
                                ).fetchone()[0])


def jobs_per_minute(pg: Any, workers: int, accounts: int = 100) -> float:
    from connector.marketplaces.elebne import PLUGIN as ELEBNE
    from connector.service.jobs import JobSpec, defer
    from connector.service.queue import make_app, migrate
    from tests.service_support import start_worker

    db = pg.new_database()
    url = pg.url(db)
    migrate(url)
    with tempfile.TemporaryDirectory(prefix="connector-bench-") as tmp_s:
        tmp = Path(tmp_s)
        server = ELEBNE.create_sandbox(port=0, db_path=str(tmp / "sandbox.sqlite"), rate_limits=LIFTED)
        server.start()
        procs = []
        try:
            profiles = _elebne_fleet(tmp, url, server.url + ELEBNE.sandbox_base_path, accounts)
            env = {"ELEBNE_API_KEY": ELEBNE.sandbox_key, "CONNECTOR_STATE_DIR": str(tmp / "state")}
            procs = [start_worker(url, tmp / f"w{w}.log", "--name", f"w{w}", env=env) for w in range(workers)]
            _wait_workers(url, workers)
            app = make_app(url)
            with app.open():
                specs = [JobSpec.of(p, "elebne", "catalogue") for p in profiles]
                start = time.perf_counter()
                for spec in specs:
                    defer(app, spec)
            while _finished(url) < accounts:
                time.sleep(0.1)
            seconds = time.perf_counter() - start
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(60)
            server.stop()
    pg.drop_database(db)
    return accounts / seconds * 60


def queue_overhead(pg: Any, samples: int = 8) -> dict[str, float]:
    """Median seconds per job: direct ``connector sync`` in-process vs defer -> finished on an idle worker."""
    from connector.cli import main
    from connector.marketplaces.elebne import PLUGIN as ELEBNE
    from connector.service.jobs import JobSpec, defer
    from connector.service.queue import make_app, migrate
    from tests.service_support import start_worker

    db = pg.new_database()
    url = pg.url(db)
    migrate(url)
    direct, queued = [], []
    with tempfile.TemporaryDirectory(prefix="connector-bench-") as tmp_s:
        tmp = Path(tmp_s)
        server = ELEBNE.create_sandbox(port=0, db_path=str(tmp / "sandbox.sqlite"), rate_limits=LIFTED)
        server.start()
        old_env = {k: os.environ.get(k) for k in ("ELEBNE_API_KEY", "CONNECTOR_STATE_DIR")}
        os.environ.update({"ELEBNE_API_KEY": ELEBNE.sandbox_key, "CONNECTOR_STATE_DIR": str(tmp / "state")})
        proc = None
        try:
            profiles = _elebne_fleet(tmp, url, server.url + ELEBNE.sandbox_base_path, 2 * samples)
            for p in profiles[:samples]:
                t0 = time.perf_counter()
                main(["sync", "--profile", str(p), "--target", "elebne", "--full", "--no-progress"])
                direct.append(time.perf_counter() - t0)
            proc = start_worker(url, tmp / "w.log", "--name", "w", env=dict(os.environ))
            _wait_workers(url, 1)
            app = make_app(url)
            with app.open():
                for n, p in enumerate(profiles[samples:], start=1):
                    t0 = time.perf_counter()
                    defer(app, JobSpec.of(p, "elebne", "catalogue"))
                    while _finished(url) < n:
                        time.sleep(0.005)
                    queued.append(time.perf_counter() - t0)
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
            server.stop()
            for k, v in old_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    pg.drop_database(db)
    return {"direct": statistics.median(direct), "queued": statistics.median(queued)}


def load_proof(pg: Any, accounts: int = 30) -> dict[str, Any]:
    from connector.service.queue import migrate
    from tests.service_load import build, check, enqueue_all, run_workers

    db = pg.new_database()
    url = pg.url(db)
    migrate(url)
    with tempfile.TemporaryDirectory(prefix="connector-bench-") as tmp_s:
        tmp = Path(tmp_s)
        old = os.environ.get("CONNECTOR_STATE_DIR")
        os.environ["CONNECTOR_STATE_DIR"] = str(tmp / "state")
        fleet = build(tmp, url, accounts, products=3)
        try:
            enqueue_all(url, fleet)
            t0 = time.perf_counter()
            killed = run_workers(url, tmp, 3, expected_runs=accounts, timeout=1200)
            result = check(fleet, url, killed["killed_at"])
            result["seconds"] = time.perf_counter() - t0
        finally:
            fleet.stop()
            if old is None:
                os.environ.pop("CONNECTOR_STATE_DIR", None)
            else:
                os.environ["CONNECTOR_STATE_DIR"] = old
    pg.drop_database(db)
    return result


def bench_service() -> dict[str, Any]:
    """The rows; the runs' own summaries (printed by ``connector sync`` in this process) are kept out of the
    bench table."""
    with contextlib.redirect_stdout(io.StringIO()):
        return _bench_service()


def _bench_service() -> dict[str, Any]:
    pg, folder = _server()
    rows: list[tuple[str, str, str, str]] = []
    try:
        rates = {w: jobs_per_minute(pg, w) for w in (1, 2, 4)}
        for w, rate in rates.items():
            rows.append((f"service: jobs/minute, 100 small Elebne accounts, {w} worker(s), limits lifted",
                         f"{rate:,.0f} jobs/min", "", ""))
        over = queue_overhead(pg)
        rows.append(("service: seconds per job, direct `connector sync` vs queued (defer -> done, idle worker)",
                     f"{over['direct']:.3f} s vs {over['queued']:.3f} s (+{over['queued'] - over['direct']:.3f} s)",
                     "", ""))
        proof = load_proof(pg)
        ok = (not proof["problems"] and proof["duplicates"] == proof["throttled_429"] == proof["overlaps"] == 0
              and proof["interrupted"] == 1)
        exact = proof["accounts"] - len(proof["problems"])
        rows.append((f"service: {proof['accounts']} accounts x 3 sandboxes, documented limits, 3 workers, 1 killed",
                     f"{proof['runs']} runs in {proof['seconds']:.0f} s; exact {exact}/{proof['accounts']}, "
                     f"dup {proof['duplicates']}, 429 {proof['throttled_429']}, overlaps {proof['overlaps']}",
                     "all exact, 0/0/0", met(ok)))
        try:
            from bench.service_watch import bench_watch

            rows.extend(bench_watch())
        except ImportError:
            pass
    finally:
        pg.server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
    return {"rows": rows}


if __name__ == "__main__":
    for row in bench_service()["rows"]:
        print(" | ".join(row))
