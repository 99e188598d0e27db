"""Proof under load (a small one for the suite; `make bench` runs 30 accounts): 3 worker processes, accounts on
the three sandboxes at their documented limits, one worker killed with SIGKILL in the middle of a job.  Every
account ends exact, no duplicate, no 429 the connector caused, no two runs of one account overlapping (from the
sandboxes' request logs), and the dead worker's job was finished by another."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.service_load import build, check, enqueue_all, run_workers
from tests.service_support import migrated, runs

ACCOUNTS = 9


@pytest.mark.sandbox
def test_three_workers_nine_accounts_one_worker_killed(pg_url: str, tmp_path: Path) -> None:
    url = migrated(pg_url)
    fleet = build(tmp_path, pg_url, ACCOUNTS, products=3)
    try:
        enqueue_all(url, fleet)
        killed = run_workers(url, tmp_path, 3, expected_runs=ACCOUNTS)
        result = check(fleet, url, killed["killed_at"])
        history = runs(url)
    finally:
        fleet.stop()
    assert result["problems"] == [], result
    assert (result["duplicates"], result["throttled_429"], result["overlaps"]) == (0, 0, 0)
    assert result["interrupted"] == 1 and result["runs"] == ACCOUNTS + 1  # the killed run, then its retry
    [dead_run] = [r for r in history if r[5] is None]
    assert dead_run[4] == killed["killed"]
    [retry] = [r for r in history if r[0] == dead_run[0] and r[5] is not None]
    assert retry[4] != killed["killed"] and retry[5] == 0  # finished by another worker
