"""A run that ends with a retried exit code (4: unreachable, 5: the profile's state busy) while the same job was
queued meanwhile (a schedule fired, a webhook came): the job is not retried — procrastinate keeps one waiting job
per queueing lock, so its retry raised ``UniqueViolation`` and left the job ``doing`` for good, holding its
account's lock while its worker lived: no job of that account ran again.  The waiting job carries on, and the
run's exit code stays in the history.  Found while checking the stalled-job case of the service campaign."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from connector.cli import main
from connector.errors import EXIT_LOCKED, EXIT_UNREACHABLE
from connector.service import jobs
from tests.service_support import csv_catalogue, migrated, profile, runs


@pytest.mark.parametrize("code", [EXIT_UNREACHABLE, EXIT_LOCKED])
def test_a_retried_exit_with_the_same_job_waiting_leaves_it_to_that_one(
        code: int, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = migrated(pg_url)
    prof = profile(tmp_path / "shop.yaml", "shop", csv_catalogue(tmp_path / "shop.csv", {"A": 1}), pg_url,
                   {"elebne": {"account": "acc"}})
    enqueue = ["service", "enqueue", "--db", url, "--profile", str(prof)]

    ran: list[int] = []

    def run_while_the_schedule_fires(argv: list[str]) -> int:
        if not ran:
            assert main(enqueue) == 0  # the same job, queued while this one runs
        ran.append(code if not ran else 0)
        return ran[-1]

    monkeypatch.setattr(jobs, "run_command", run_while_the_schedule_fires)
    assert main(enqueue) == 0
    assert main(["worker", "--db", url, "--once"]) == 0  # leaves when no job it may run waits
    with psycopg.connect(url, autocommit=True) as conn:
        left = conn.execute("SELECT status::text, queueing_lock FROM connector_queue.procrastinate_jobs").fetchall()
    assert left == []  # nothing stayed 'doing' with the account's lock: the waiting job ran, and succeeded
    assert [r[5] for r in runs(url)] == [code, 0]
    assert "the same job waits in the queue and carries on" in (runs_messages(url)[0] or "")


def runs_messages(url: str) -> list[str | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [m for (m,) in conn.execute("SELECT message FROM connector_service.job_runs ORDER BY id")]
