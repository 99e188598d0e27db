"""A worker killed with SIGKILL in the middle of a job: another worker process takes the job up again (its
worker's heartbeat stopped), and the account ends exact with no duplicate, the create that was in flight when
the worker died included (its idempotency key is reused)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from connector.cli import main
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.service_support import csv_catalogue, migrated, profile, runs, start_worker

FAST_DEATH = ("--heartbeat", "0.5", "--stalled-after", "2", "--stalled-check", "0.5")
STOCK = {f"K-{i}": i + 1 for i in range(4)}


def wait_for(what: str, check, timeout: float = 90.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"still waiting for {what} after {timeout} s")


@pytest.mark.sandbox
def test_a_job_of_a_killed_worker_is_finished_by_another_exact_and_without_duplicates(
        pg_url: str, fast_elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    url = migrated(pg_url)
    source = csv_catalogue(tmp_path / "shop.csv", STOCK)
    prof = profile(tmp_path / "shop.yaml", "shop", source, pg_url,
                   {"elebne": {"account": "kill-a", "base_url": fast_elebne_sandbox.base_url}})
    fast_elebne_sandbox.fault(kind="delay", method="POST", path="/products$", delay=1.5, count=100)
    first = start_worker(url, tmp_path / "a.log", *FAST_DEATH, "--name", "first")
    try:
        assert main(["service", "enqueue", "--db", url, "--profile", str(prof), "--kind", "catalogue"]) == 0
        wait_for("the first create", lambda: [r for r in fast_elebne_sandbox.writes() if r["method"] == "POST"])
        first.send_signal(signal.SIGKILL)  # the second create is in flight (1.5 s in the sandbox)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    killed_at = time.time()
    second = start_worker(url, tmp_path / "b.log", *FAST_DEATH, "--name", "second")
    try:
        done = wait_for("the job to end on the second worker",
                        lambda: [r for r in runs(url) if r[4] == "second" and r[5] is not None])
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert done[0][5] == 0, (tmp_path / "b.log").read_text()
    worker_runs = [(r[4], r[5]) for r in runs(url)]
    assert worker_runs == [("first", None), ("second", 0)]  # the killed run never finished; one retry did
    assert runs(url)[1][6].timestamp() >= killed_at - 0.5  # taken up only after the first worker died
    products = fast_elebne_sandbox.products()
    assert set(products) == set(STOCK)
    assert len(fast_elebne_sandbox.state()["products"]) == len(STOCK)  # no duplicate product
    assert {sku: products[sku]["quantity"] for sku in STOCK} == STOCK
    creates = [r for r in fast_elebne_sandbox.writes() if r["method"] == "POST" and r["status"] in (200, 201)]
    assert len({r["idempotency_key"] for r in creates}) == len(STOCK)  # the retried create reused its key
