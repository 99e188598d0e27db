"""What follows a job's exit code: 2 fails the job (shown by `connector status`), 3 queues a follow-up that carries
on later, 5 (another run holds the profile's state) retries soon; the run and its exit code are kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main
from connector.service.jobs import STATE_BUSY_RETRY_SECONDS
from connector.service.queue import connection
from connector.sync.state import StateStore
from connector.sync.state.location import with_namespace
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.service_support import csv_catalogue, job_statuses, migrated, profile, runs


def jobs(url: str) -> list[tuple]:
    with connection(url) as conn:
        return conn.execute("SELECT status::text, attempts, scheduled_at > now() + interval '1 second'"
                            " FROM procrastinate_jobs WHERE task_name = 'connector.run_job' ORDER BY id").fetchall()


@pytest.mark.sandbox
def test_exit_codes_decide_what_follows(pg_url: str, fast_elebne_sandbox: SandboxHandle, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    url = migrated(pg_url)
    source = csv_catalogue(tmp_path / "shop.csv", {"A": 1, "B": 2})
    target = {"elebne": {"account": "acc", "base_url": fast_elebne_sandbox.base_url}}

    # 2: a mapping file that does not exist: nothing sent, the job failed, no retry
    bad = profile(tmp_path / "bad.yaml", "bad", source, pg_url,
                  {"elebne": {**target["elebne"], "mapping": str(tmp_path / "nowhere.yaml")}})
    assert main(["service", "enqueue", "--db", url, "--profile", str(bad)]) == 0
    assert main(["worker", "--db", url, "--once"]) == 0
    assert job_statuses(url) == {"failed": 1} and runs(url)[-1][5] == 2
    capsys.readouterr()
    assert main(["status", "--db", url]) == 0
    line = capsys.readouterr().out
    assert "exit 2" in line and "1 failed" in line

    # 3: the marketplace keeps answering 429: partial; a follow-up job waits in the queue
    fast_elebne_sandbox.fault(status=429, retry_after=0, count=200)
    good = profile(tmp_path / "good.yaml", "good", source, pg_url, target)
    assert main(["service", "enqueue", "--db", url, "--profile", str(good)]) == 0
    assert main(["worker", "--db", url, "--once"]) == 0
    assert runs(url)[-1][5] == 3
    assert jobs(url)[-1] == ("todo", 0, True)  # the follow-up, later

    # 5: another run holds the profile's state: retried after a short wait
    with connection(url) as conn:
        conn.execute("DELETE FROM procrastinate_jobs WHERE status = 'todo'")
    with StateStore.open(with_namespace(pg_url, "good")):
        assert main(["service", "enqueue", "--db", url, "--profile", str(good)]) == 0
        assert main(["worker", "--db", url, "--once"]) == 0
    assert runs(url)[-1][5] == 5
    status, attempts, later = jobs(url)[-1]
    assert (status, attempts, later) == ("todo", 1, True) and STATE_BUSY_RETRY_SECONDS > 1
    capsys.readouterr()
    assert main(["status", "--db", url, "--json"]) == 0
    entries = {e["profile_name"]: e for e in json.loads(capsys.readouterr().out)["entries"]}
    last = entries["good"]["last_run"]
    assert last["exit_code"] == 5 and "held by another run" in last["message"]
