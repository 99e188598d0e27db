"""``sync`` of an ``.xlsx`` reads it on a thread started before the command's setup (spreadsheet/background.py):
the run is the one a read in place gives, its errors are the same user errors, and a run that stops before it
takes the read leaves no thread behind."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

import connector.sources.spreadsheet as spreadsheet
from connector.cli import main
from connector.errors import EXIT_LOCKED
from connector.sources.spreadsheet.background import BackgroundRead
from tests.workbooks import write_workbook


def _dry_run(tmp_path: Path, source: Path, name: str, *extra: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / f"{name}.json"
    code = main(["sync", "--source", str(source), "--target", "elebne", "--dry-run", "--no-progress",
                 "--state", str(tmp_path / f"{name}.sqlite"), "--report", str(report), *extra])
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return code, data


def test_a_workbook_read_on_its_thread_plans_what_a_read_in_place_plans(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_workbook(tmp_path / "p.xlsx")
    threads: list[str] = []
    real = spreadsheet.read_spreadsheet

    def noted(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(spreadsheet, "read_spreadsheet", noted)
    code, early = _dry_run(tmp_path, source, "early")
    assert code == 0 and threads == ["spreadsheet-read"]
    monkeypatch.setattr("connector.cli._background_workbook", lambda _config: None)  # read in place
    code, in_place = _dry_run(tmp_path, source, "in-place")
    assert code == 0 and threads == ["spreadsheet-read", "MainThread"]
    for key in ("run_id", "started_at", "finished_at"):
        early.pop(key), in_place.pop(key)
    assert early == in_place and early["summary"]["rows"]


def test_a_bad_workbook_read_on_its_thread_is_the_same_user_error(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    good = write_workbook(tmp_path / "good.xlsx")
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[:3000])
    code, _ = _dry_run(tmp_path, cut, "cut")
    err = capsys.readouterr().err
    assert code == 2 and "cut.xlsx: cannot read the workbook" in err and "Traceback" not in err
    assert not [t for t in threading.enumerate() if t.name == "spreadsheet-read"]


def test_a_run_that_stops_before_it_takes_the_read_leaves_no_thread(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.sync.state import StateStore

    source = write_workbook(tmp_path / "p.xlsx")
    calls: list[str] = []
    close, result = BackgroundRead.close, BackgroundRead.result
    monkeypatch.setattr(BackgroundRead, "close", lambda self, *, wait: calls.append(f"close {wait}")
                        or close(self, wait=wait))
    monkeypatch.setattr(BackgroundRead, "result", lambda self: calls.append("result") or result(self))
    with StateStore.open(tmp_path / "locked.sqlite"):  # another run holds the state: this one stops at its open
        code, _ = _dry_run(tmp_path, source, "locked")
    assert code == EXIT_LOCKED and "another run is using the state file" in capsys.readouterr().err
    assert calls == ["close True"]  # started, never taken, waited for (a library call: its process goes on)
    assert not [t for t in threading.enumerate() if t.name == "spreadsheet-read"]


CHILD = """
import sys, threading, time
from pathlib import Path
import connector.sources.spreadsheet as spreadsheet
from connector.cli import main
from connector.sync.state import StateStore

source, state, marker = map(Path, sys.argv[1:4])
real = spreadsheet.read_spreadsheet
returned = threading.Event()

def slow(*args, **kwargs):  # a read still going on when the command has said its error and returned
    result = real(*args, **kwargs)
    returned.wait(60)  # until main() has returned (bounded: a main() waiting for the read says so, not hangs)
    time.sleep(1.0)  # and then some: a daemon thread would be cut off by the process's end meanwhile
    marker.write_text("read to its end", encoding="utf-8")
    return result

spreadsheet.read_spreadsheet = slow
with StateStore.open(state):
    sys.argv = ["connector", "sync", "--source", str(source), "--target", "elebne", "--dry-run", "--no-progress",
                "--state", str(state)]
    code = main()  # the process's own command line: the read is not waited for here
    print(f"returned {code}; read ended: {marker.exists()}", flush=True)
    returned.set()
sys.exit(code)
"""


def test_a_command_that_stops_early_ends_its_process_after_the_read(tmp_path: Path) -> None:
    """The read thread is not a daemon: a process ending while fastexcel's native load runs would abort
    (exit 134, "Fatal Python error ... finalizing"); it ends with the command's own exit code once the read ends."""
    import subprocess
    import sys

    source = write_workbook(tmp_path / "p.xlsx")
    marker = tmp_path / "read.done"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(source), str(tmp_path / "s.sqlite"), str(marker)],
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == EXIT_LOCKED, proc.stderr[-2000:]
    assert "returned 5; read ended: False" in proc.stdout  # the error said at once...
    assert marker.read_text(encoding="utf-8") == "read to its end"  # ...and the process waited for the read
    assert "Fatal Python error" not in proc.stderr


def test_the_read_is_in_its_native_load_when_it_lets_the_caller_go_on(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.sources.spreadsheet import xlsx_table

    source = write_workbook(tmp_path / "p.xlsx")
    seen: list[bool] = []
    read: list[BackgroundRead] = []
    real = xlsx_table.read_products_table

    def loading(*args: Any, **kwargs: Any) -> Any:  # the Products sheet's load: the caller was let go just before
        if not seen:
            seen.append(read[0].loading.is_set())
        return real(*args, **kwargs)

    monkeypatch.setattr(xlsx_table, "read_products_table", loading)
    started = threading.Event()
    monkeypatch.setattr(BackgroundRead, "_run", _after(BackgroundRead._run, started))
    read.append(BackgroundRead(source, "MRU"))
    started.set()
    read[0].wait_for_load()
    result = read[0].result()
    assert seen == [True] and [p.key for p in result.products]


def _after(run: Any, started: threading.Event) -> Any:
    def wrapped(self: BackgroundRead, *args: Any) -> None:
        started.wait()  # (the test holds on to the object first)
        run(self, *args)
    return wrapped
