"""SIGTERM to `connector worker` (real processes): no new job is taken; a running job goes on for the grace
period and, if it has not ended by then, its run is asked to stop through its own stop flag (the job runs in a
worker thread, where no signal arrives), ends like a SIGTERM'd `connector sync` (exit 3, what was confirmed
saved) and is queued again at once; the next worker finishes it exact, without duplicates."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.cli import main
from connector.http.stop import StopRequested, StopSignal, stop_asked_by
from connector.service.worker import WorkerSettings, grace_of
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.service_support import csv_catalogue, job_statuses, migrated, profile, runs, start_worker
from tests.test_service_worker_killed import wait_for

ALIVE = ("--heartbeat", "0.5", "--stalled-after", "60", "--stalled-check", "0.5")


def shop(tmp_path: Path, pg_url: str, sandbox: SandboxHandle, name: str, skus: int) -> Path:
    source = csv_catalogue(tmp_path / f"{name}.csv", {f"{name.upper()}-{i}": i + 1 for i in range(skus)})
    return profile(tmp_path / f"{name}.yaml", name, source, pg_url,
                   {"elebne": {"account": name, "base_url": sandbox.base_url}})


def creates(sandbox: SandboxHandle) -> list[dict]:
    return [r for r in sandbox.writes() if r["method"] == "POST" and r["status"] in (200, 201)]


@contextlib.contextmanager
def sigtermed_worker(url: str, log: Path, *args: str) -> Iterator[None]:
    """A worker process for the block; then SIGTERM, and it must exit 0 (killed if the block failed first)."""
    worker = start_worker(url, log, *ALIVE, *args)
    try:
        yield
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()


@pytest.mark.sandbox
def test_after_the_grace_period_the_run_stops_and_its_job_is_finished_by_the_next_worker(
        pg_url: str, fast_elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    url = migrated(pg_url)
    prof = shop(tmp_path, pg_url, fast_elebne_sandbox, "slow", 10)
    fast_elebne_sandbox.fault(kind="delay", method="POST", path="/products$", delay=1.5, count=100)
    with sigtermed_worker(url, tmp_path / "a.log", "--grace", "0.5", "--name", "first"):
        assert main(["service", "enqueue", "--db", url, "--profile", str(prof), "--kind", "catalogue"]) == 0
        wait_for("the first create", lambda: creates(fast_elebne_sandbox))
    [stopped] = runs(url)
    assert stopped[4:6] == ("first", 3), (tmp_path / "a.log").read_text()  # ended, like a SIGTERM'd sync
    assert job_statuses(url) == {"todo": 1}  # queued again at once, for the next worker
    assert len(creates(fast_elebne_sandbox)) < 10
    assert main(["worker", "--db", url, "--once", "--name", "second"]) == 0
    assert [(r[4], r[5]) for r in runs(url)] == [("first", 3), ("second", 0)]
    products = fast_elebne_sandbox.products()
    assert len(fast_elebne_sandbox.state()["products"]) == 10 and len(products) == 10  # no duplicate
    assert len({r["idempotency_key"] for r in creates(fast_elebne_sandbox)}) == 10


@pytest.mark.sandbox
def test_within_the_grace_period_the_running_job_finishes_and_no_new_job_is_taken(
        pg_url: str, fast_elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    url = migrated(pg_url)
    running = shop(tmp_path, pg_url, fast_elebne_sandbox, "running", 3)
    waiting = shop(tmp_path, pg_url, fast_elebne_sandbox, "waiting", 1)
    fast_elebne_sandbox.fault(kind="delay", method="POST", path="/products$", delay=1.0, count=100)
    with sigtermed_worker(url, tmp_path / "w.log", "--grace", "25", "--name", "only"):
        assert main(["service", "enqueue", "--db", url, "--profile", str(running), "--kind", "catalogue"]) == 0
        wait_for("the first create", lambda: creates(fast_elebne_sandbox))
        assert main(["service", "enqueue", "--db", url, "--profile", str(waiting), "--kind", "catalogue"]) == 0
    assert [(r[0], r[5]) for r in runs(url)] == [("running", 0)]  # finished its run; the other never started
    assert job_statuses(url) == {"todo": 1}
    assert set(fast_elebne_sandbox.products()) == {"RUNNING-0", "RUNNING-1", "RUNNING-2"}


def test_a_run_in_a_worker_thread_hears_the_stop_asked_by_its_worker() -> None:
    asked: list[str] = []
    seen: dict[str, object] = {}

    def job() -> None:
        with stop_asked_by(lambda: asked[0] if asked else None):
            stop = StopSignal()  # what a run creates, in the job's thread
            seen["before"] = stop.requested
            asked.append("the worker is shutting down")
            stop.sleep(60)  # ends at once: the stop is asked for
            try:
                stop.check()
            except StopRequested as exc:
                seen["raised"] = str(exc)
        seen["outside"] = StopSignal().requested  # after the job: no question asked any more

    thread = threading.Thread(target=job)
    thread.start()
    thread.join(30)
    assert seen == {"before": False, "raised": "stopped (the worker is shutting down); the next run carries on",
                    "outside": False}
    assert StopSignal().requested is False  # another thread: not concerned


def test_the_grace_period_must_fit_before_the_worker_is_taken_for_dead() -> None:
    from connector.errors import ConfigError

    assert grace_of(WorkerSettings()) == 15
    assert grace_of(WorkerSettings(stalled_after=2, heartbeat=0.5)) == 0  # no room: stop at once
    with pytest.raises(ConfigError, match="--grace 60 is too long for --stalled-after 60"):
        grace_of(WorkerSettings(grace=60))
