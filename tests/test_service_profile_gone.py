"""A job whose profile was edited into a mistake (or removed) after it was queued or scheduled: the job fails
without a retry, as exit 2 does (a person must look), with the reason in one line in the worker's log (no
traceback) and in `connector status` under the job's own line.  Before the fix, loading the profile raised
``ConfigError`` out of the job before its run was recorded: a traceback in the worker's log, and `connector
status` showed no line and no reason for the failed job (found by the service campaign's user-mistake probes)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from connector.cli import main
from tests.service_support import csv_catalogue, job_statuses, migrated, profile, runs


def test_a_job_whose_profile_became_unreadable_fails_with_its_reason_in_status(
        pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    url = migrated(pg_url)
    prof = profile(tmp_path / "shop.yaml", "shop", csv_catalogue(tmp_path / "shop.csv", {"A": 1}), pg_url,
                   {"elebne": {"account": "acc"}})
    assert main(["service", "enqueue", "--db", url, "--profile", str(prof)]) == 0
    prof.write_text(prof.read_text(encoding="utf-8") + "bogus_key: 1\n", encoding="utf-8")  # a typo, saved
    caplog.set_level(logging.INFO)
    assert main(["worker", "--db", url, "--once"]) == 0
    assert job_statuses(url) == {"failed": 1}  # not retried
    [run] = runs(url)
    assert (run[0], run[1], run[2], run[3], run[5]) == ("shop", "elebne", "stock", "acc", 2)
    assert not [r for r in caplog.records if r.exc_info], "a traceback in the worker's log"
    assert any("bogus_key" in r.getMessage() for r in caplog.records)
    capsys.readouterr()
    assert main(["status", "--db", url, "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["entries"]
    assert entry["jobs"]["failed"] == 1 and entry["last_run"]["exit_code"] == 2
    assert "bogus_key" in entry["last_run"]["message"]
