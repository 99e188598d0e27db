"""``connector sync`` killed with SIGKILL at random points of a push (a real process; the sandbox slows each
create and stock call so the kills land before, during and after them), then run again until it finishes: the
marketplace ends exactly as after one clean run (no product twice, no stock lost), and a run after that sends
nothing.  A longer campaign of the same kind (Elebne, Elryan, EcomLinx; creates and updates) is in the closing
notes of issue 16; this is its regression test."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.spreadsheet_data import generate
from tests.conftest import ELEBNE_KEY, SandboxHandle, running_elebne

pytestmark = pytest.mark.sandbox
LIFTED = {"write": (10_000, 100_000), "bulk": (10_000, 100_000), "read": (10_000, 100_000)}
# the child: the client's budgets lifted as the sandbox's are (fast_elebne_sandbox does the same in-process)
_CHILD = """
import sys
from connector.http import RateLimit
from connector.marketplaces.elebne import PLUGIN
for name in ("write", "bulk", "read"):
    PLUGIN.limits[name] = RateLimit(name, 10_000, 100_000)
from connector.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _sync(base: str, workbook: Path, state: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", _CHILD, "sync", "--source", str(workbook), "--target", "elebne",
                             "--base-url", base, "--state", str(state), "--no-progress"],
                            env={**os.environ, "ELEBNE_API_KEY": ELEBNE_KEY}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _catalogue(sandbox: SandboxHandle) -> dict[str, Any]:
    """Every product as the public API shows it, without the ids and times the marketplace gives."""
    out = {}
    for key, p in sandbox.products().items():
        p = {k: v for k, v in p.items() if k not in ("id", "createdAt", "updatedAt")}
        p["variants"] = sorted(({k: v for k, v in x.items() if k not in ("id", "variantId", "createdAt", "updatedAt")}
                                for x in p.get("variants") or []), key=lambda x: x["label"])
        out[key] = p
    return out


def _kill_after(run: subprocess.Popen[bytes], written: Callable[[], int], writes: int, chance: random.Random) -> None:
    """SIGKILL ``run`` once ``writes`` of its writes were answered (0: at a random moment of its start), a random
    part of a delayed call later.  Counted, not timed: on a loaded machine a process takes seconds to start, and
    kills at random times all landed before its first write."""
    if writes == 0:
        time.sleep(chance.uniform(0.0, 1.0))
    else:
        while run.poll() is None and written() < writes:
            time.sleep(0.02)
        time.sleep(chance.uniform(0.0, 0.3))
    run.send_signal(signal.SIGKILL)


def test_a_sync_killed_at_random_points_ends_as_one_clean_run(tmp_path: Path) -> None:
    workbook = generate(tmp_path / "catalogue.xlsx", 240, "xlsx")
    with running_elebne(tmp_path / "reference.sqlite", rate_limits=LIFTED) as reference:
        clean = _sync(reference.base_url, workbook, tmp_path / "reference-state.sqlite")
        _, err = clean.communicate(timeout=300)
        assert clean.returncode == 0, err.decode()
        want = _catalogue(reference)
    assert len(want) > 100

    chance = random.Random(7)
    with running_elebne(tmp_path / "sandbox.sqlite", rate_limits=LIFTED) as sandbox:
        state = tmp_path / "state.sqlite"
        progress = []
        for _ in range(4):
            sandbox.fault(method="POST", path="/products$", kind="delay", delay=0.02, count=100_000)
            sandbox.fault(method="PATCH", path="/inventory/bulk$", kind="delay", delay=0.3, count=100_000)
            since = sandbox.last_id()
            run = _sync(sandbox.base_url, workbook, state)
            _kill_after(run, lambda since=since: len(sandbox.writes(since)), chance.randint(0, 60), chance)
            _, err = run.communicate(timeout=60)
            assert b"Traceback" not in err, err.decode()
            requests.delete(f"{sandbox.server.url}/__sandbox/faults", timeout=5)
            assert sandbox.server.wait_idle()  # a call the killed process had sent, still in the sandbox's delay, lands
            progress.append(len(sandbox.products()))
        assert any(0 < n < len(want) for n in progress), progress  # some kills landed mid-push

        again = _sync(sandbox.base_url, workbook, state)
        _, err = again.communicate(timeout=300)
        assert again.returncode == 0, err.decode()
        assert _catalogue(sandbox) == want  # each product once, every variant's stock as the clean run left it

        mark = sandbox.last_id()
        last = _sync(sandbox.base_url, workbook, state)
        _, err = last.communicate(timeout=300)
        assert last.returncode == 0, err.decode()
        assert sandbox.writes(since=mark) == []
