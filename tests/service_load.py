"""The service under load, on this machine: many accounts across the three sandboxes (one sandbox server per
account, so each request log is one account's), worker processes, one of them killed with SIGKILL mid-job.

Used by ``tests/test_service_load.py`` (a few accounts) and ``bench/service_bench.py`` (30 accounts, and the
throughput rows).  ``check`` proves what the issue asks from the sandboxes' own request logs and states: every
account exact, no duplicate, no 429, no two runs of one account overlapping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.marketplaces.registry import get_plugin
from tests.service_support import runs, start_worker

MARKETPLACES = ("elebne", "elryan", "ecomlinx")
ELRYAN_DEFAULTS = {"tax": 0, "guarantee": 12, "fulfillment_day": 2,
                   "supplier": {"name": "Souk Trading", "remote_id": "sup-souk"}}
CURRENCY = {"elebne": "MRU", "elryan": "IQD", "ecomlinx": "INR"}
ENV = {"ELEBNE_API_KEY": get_plugin("elebne").sandbox_key, "ELRYAN_PASSWORD": SANDBOX_PASSWORD,
       "ECOMLINX_API_KEY": get_plugin("ecomlinx").sandbox_key}


@dataclass
class Account:
    name: str
    target: str
    server: Any
    profile: Path
    stock: dict[str, int]

    def remote_stock(self) -> dict[str, int]:
        state = self.server.dump_state()
        if self.target == "elebne":
            return {p["externalId"]: p["quantity"] for p in state["products"]}
        if self.target == "elryan":
            return {v["sku"]: v["stock"] for p in state["products"] for v in p["variants"]}
        return {p["sku"]: p["stock"] for p in state["products"]}

    def remote_count(self) -> int:
        """SKUs on the marketplace (a duplicate create would add one)."""
        state = self.server.dump_state()
        if self.target == "elryan":
            return sum(len(p["variants"]) for p in state["products"])
        return len(state["products"])

    def log(self) -> list[dict[str, Any]]:
        return self.server.requests_log()


@dataclass
class Fleet:
    accounts: list[Account] = field(default_factory=list)

    def stop(self) -> None:
        for a in self.accounts:
            a.server.stop()


def _catalogue(path: Path, target: str, stock: dict[str, int]) -> Path:
    head = "SKU,Name,Brand,Category,Price,Currency,Stock: Main"
    lines = [f"{sku},Product {sku},Acme,Home > Tools,{1000 + n},{CURRENCY[target]},{qty}"
             for n, (sku, qty) in enumerate(stock.items())]
    path.write_text("\n".join([head, *lines]) + "\n", encoding="utf-8")
    return path


def build(folder: Path, state_url: str, accounts: int, products: int = 2, *,
          rate_limits: dict[str, Any] | None = None) -> Fleet:
    """``accounts`` accounts, round robin over the three marketplaces, each with its own sandbox and profile."""
    fleet = Fleet()
    for n in range(accounts):
        target = MARKETPLACES[n % 3]
        name = f"{target}-{n:03d}"
        plugin = get_plugin(target)
        options = {"rate_limits": rate_limits} if rate_limits and target == "elebne" else {}
        server = plugin.create_sandbox(port=0, db_path=str(folder / f"{name}.sqlite"), **options)
        server.start()
        stock = {f"{name.upper()}-{i}": (n + i) % 7 + 1 for i in range(products)}
        if target == "ecomlinx":  # EcomLinx has no create: the products are there first
            server.seed_products([{"sku": sku, "name": f"old {sku}", "price": 1, "stock": 0, "status": "live"}
                                  for sku in stock])
        conf: dict[str, Any] = {"account": name, "base_url": server.api_url}
        if target == "elryan":
            conf["settings"] = {"email": SANDBOX_EMAIL, "defaults": ELRYAN_DEFAULTS}
        profile = {"name": name, "state": state_url, "missing": "keep",
                   "source": {"type": "spreadsheet", "path": str(_catalogue(folder / f"{name}.csv", target, stock))},
                   "targets": {target: conf}}
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
        fleet.accounts.append(Account(name, target, server, path, stock))
    return fleet


def run_workers(url: str, folder: Path, workers: int, *, kill_one: bool = True, concurrency: int = 1,
                timeout: float = 600.0, expected_runs: int | None = None) -> dict[str, Any]:
    """Start ``workers`` worker processes; with ``kill_one``, SIGKILL the first one seen in the middle of a job;
    wait until every queued job has run (``expected_runs`` finished runs), stop the others.  Returns which worker
    was killed, and when."""
    fast_death = ("--heartbeat", "0.5", "--stalled-after", "3", "--stalled-check", "0.5")
    procs = [start_worker(url, folder / f"worker{w}.log", *fast_death, "--name", f"w{w}",
                          "--concurrency", str(concurrency), env=ENV) for w in range(workers)]
    names = {f"w{w}": w for w in range(workers)}
    killed_at: float | None = None
    killed: str | None = None
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            rows = runs(url)
            busy = [r[4] for r in rows if r[7] is None and r[4] in names]
            if kill_one and killed_at is None and busy:  # the first worker seen in the middle of a job
                killed = busy[0]
                procs[names[killed]].send_signal(signal.SIGKILL)
                procs[names[killed]].wait(10)
                killed_at = time.time()
            finished = [r for r in rows if r[5] is not None]
            if expected_runs is not None and len(finished) >= expected_runs and (killed_at or not kill_one):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"jobs still running after {timeout} s: {runs(url)}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    return {"killed_at": killed_at, "killed": killed}


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def check(fleet: Fleet, url: str, killed_at: float | None) -> dict[str, Any]:
    """Every claim of the load proof, from the sandboxes (states and request logs) and the job history."""
    history = runs(url)
    problems: list[str] = []
    throttled = overlaps = duplicates = 0
    for a in fleet.accounts:
        if a.remote_stock() != a.stock:
            problems.append(f"{a.name}: {a.remote_stock()} != {a.stock}")
        if a.remote_count() != len(a.stock):
            duplicates += a.remote_count() - len(a.stock)
        log = a.log()
        throttled += sum(1 for r in log if r["status"] == 429)
        # a killed run ends when its worker died (+1 s: a request in flight is logged when the sandbox answers it)
        spans = sorted((r[6].timestamp(), r[7].timestamp() if r[7] else (killed_at or time.time()) + 1.0)
                       for r in history if r[0] == a.name)
        if not spans or [r[5] for r in history if r[0] == a.name][-1] not in (0, 1):
            problems.append(f"{a.name}: last run did not end well: {[r[5] for r in history if r[0] == a.name]}")
        overlaps += sum(1 for (_, e1), (s2, _) in pairwise(spans) if s2 < e1)
        outside = [r for r in log if not any(s - 0.05 <= _ts(r["timestamp"]) <= e + 0.05 for s, e in spans)]
        if outside:
            problems.append(f"{a.name}: {len(outside)} request(s) outside its runs")
            overlaps += 1
    interrupted = [r for r in history if r[5] is None]
    return {"accounts": len(fleet.accounts), "runs": len(history), "interrupted": len(interrupted),
            "problems": problems, "duplicates": duplicates, "throttled_429": throttled, "overlaps": overlaps,
            "workers_seen": sorted({r[4] for r in history})}


def enqueue_all(url: str, fleet: Fleet, kind: str = "catalogue") -> None:
    from connector.service.jobs import JobSpec, defer
    from connector.service.queue import make_app

    app = make_app(url)
    with app.open():
        for a in fleet.accounts:
            defer(app, JobSpec.of(a.profile, a.target, kind))


def environment() -> dict[str, str]:
    return {**os.environ, **ENV}
