"""A ``connector sync`` that is its process's own command leaves the source and the run's outcome for the
operating system to take back when the process ends (``collector.leave_for_exit``); the same command run in a
process that goes on (tests, a service's worker: ``main(argv)``) leaves nothing behind.  Either way the exit code,
the output and the report are the same."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED
from connector.sync.collector import leave_for_exit
from tests.workbooks import write_workbook

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = ("run_id", "started_at", "finished_at")


class Record:
    """Something ``weakref`` can watch."""

    def __init__(self) -> None:
        self.me = self  # a cycle of its own: only the collector frees it


def test_left_objects_outlive_every_collection_until_unfrozen() -> None:
    record = Record()
    seen = weakref.ref(record)
    try:
        leave_for_exit(record, [record])
        del record
        gc.collect()
        assert seen() is not None and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    gc.collect()
    assert seen() is None


def workbook(tmp_path: Path) -> Path:
    rows = [{"SKU": f"ITEM-{i:03}", "Name": f"Item {i}", "Price": 10 + i} for i in range(12)]
    rows.append({"SKU": "BAD", "Name": "", "Price": -1})  # a row the run reports as failed: exit 1
    return write_workbook(tmp_path / "products.xlsx", rows=rows, stock={"Warehouse": {"ITEM-001": 4}})


def report_of(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if k not in VOLATILE}


def test_a_dry_run_as_the_process_command_ends_as_the_same_run_in_a_process_that_goes_on(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    wb = workbook(tmp_path)
    args = ["sync", "--source", str(wb), "--target", "elebne", "--dry-run", "--no-progress"]
    frozen = gc.get_freeze_count()
    code = main([*args, "--state", str(tmp_path / "a.sqlite"), "--report", str(tmp_path / "a.json")])
    assert gc.get_freeze_count() == frozen  # nothing left behind in a process that goes on
    printed = capsys.readouterr().out
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    done = subprocess.run([sys.executable, "-m", "connector.cli", *args, "--state", str(tmp_path / "b.sqlite"),
                           "--report", str(tmp_path / "b.json")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert code == done.returncode == EXIT_FAILED, done.stderr
    assert report_of(tmp_path / "a.json") == report_of(tmp_path / "b.json")
    assert printed.replace("a.json", "b.json").split() == done.stdout.split()
