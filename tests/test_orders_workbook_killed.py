"""``connector orders`` into the orders workbook killed with SIGKILL (a real process, each marketplace's real
sandbox): at chosen points of the run (the orders remembered in the state, the new workbook half written beside
the file, the workbook written but not yet recorded, the record half made, the cursor not yet saved) and at
random moments of a slowed listing.  After every kill the workbook opens and holds each order's rows at most
once, the merchant's cell typed in between is kept, and the next run ends with exactly the marketplace's orders,
once each, no half-written copy left beside the file; a run after that changes nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook

from tests.orders_faults_support import NAMES, PAGE, Market, market, workbook_rows
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox

# the child: ``connector orders``, killed by itself (SIGKILL: no clean-up runs) at the point $KILL_AT names
_CHILD = """
import os, signal, sys
from pathlib import Path

def die():
    os.kill(os.getpid(), signal.SIGKILL)

point = os.environ.get("KILL_AT")
if point == "remembered":  # the orders in the state (book), the workbook not written yet
    from connector.orders.book import OrderBook
    remember = OrderBook.remember
    def remembered(self, *a, **k):
        remember(self, *a, **k)
        die()
    OrderBook.remember = remembered
elif point in ("half-written", "written"):
    import connector.orders.workbook as wb
    replace = wb.replace_file
    def half(path, write, **k):  # the new version half written beside the file, not renamed yet
        def cut(tmp):
            write(tmp)
            data = Path(tmp).read_bytes()
            Path(tmp).write_bytes(data[: len(data) // 2])
            die()
        return replace(path, cut, **k)
    def whole(path, write, **k):  # renamed over the file, nothing recorded in the state yet
        replace(path, write, **k)
        die()
    wb.replace_file = half if point == "half-written" else whole
elif point == "recording":  # inside the transaction recording what the workbook holds: the first order recorded
    from connector.orders.book import OrderBook
    mark = OrderBook.mark_imported
    def marked(self, *a, **k):
        mark(self, *a, **k)
        die()
    OrderBook.mark_imported = marked
elif point == "cursor":  # everything recorded but the cursor
    from connector.sync.state.sql import SqlState
    def no_cursor(self, *a, **k):
        die()
    SqlState.set_cursor = no_cursor
from connector.cli import main
sys.exit(main(sys.argv[1:]))
"""
POINTS = ("remembered", "half-written", "written", "recording", "cursor")


def _run(shop: Market, profile: Path, kill_at: str | None = None) -> subprocess.Popen[bytes]:
    env = {**{k: v for k, v in os.environ.items() if k != "KILL_AT"}, **shop.env,
           **({"KILL_AT": kill_at} if kill_at else {})}
    return subprocess.Popen([sys.executable, "-c", _CHILD, "orders", "--profile", str(profile), "--no-progress"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=profile.parent)


def _finish(run: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = run.communicate(timeout=120)
    text = err.decode()
    assert "Traceback" not in text, text
    return run.returncode, text


def _whole(book: Path, expected: set[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The workbook as a kill left it: it opens, and holds no row twice, none not on the marketplace."""
    rows = workbook_rows(book)  # (openpyxl: a half-written file would not open)
    assert len(rows) == len(set(rows)), rows
    assert set(rows) <= expected
    return rows


def _type_tracking(book: Path, number: str) -> bool:
    """The merchant types a tracking number on the first order row (when there is one)."""
    if not book.exists():
        return False
    wb = load_workbook(book)
    ws = wb["Orders"]
    heads = [c.value for c in ws[1]]
    if ws.max_row < 2:
        return False
    ws.cell(2, heads.index("Tracking number") + 1).value = number
    wb.save(book)
    return True


def _tracking(book: Path) -> object:
    ws = load_workbook(book)["Orders"]
    heads = [c.value for c in ws[1]]
    return ws.cell(2, heads.index("Tracking number") + 1).value


def _leftovers(book: Path) -> list[str]:
    """The new versions of the workbook a killed run left half-written beside it."""
    return [p.name for p in book.parent.iterdir() if p.name.startswith(f".{book.name}.") and p.suffix == book.suffix]


def _converges(shop: Market, profile: Path, book: Path, expected: set[tuple[str, str, str]]) -> None:
    code, err = _finish(_run(shop, profile))
    assert code == 0, err
    rows = workbook_rows(book)
    assert sorted(rows) == sorted(expected)  # every order, each line once
    assert _leftovers(book) == []
    first = book.read_bytes()
    code, err = _finish(_run(shop, profile))
    assert code == 0, err
    assert book.read_bytes() == first  # nothing left to write


@pytest.mark.parametrize("name", NAMES)
def test_killed_at_each_point_of_a_run_the_next_run_converges(tmp_path: Path, name: str) -> None:
    with market(name, tmp_path) as shop:
        write_workbook(tmp_path / "products.xlsx")
        profile = shop.profile(tmp_path, shop.api)
        book = tmp_path / "orders.xlsx"
        expected = shop.seed(1, 3)
        code, err = _finish(_run(shop, profile))
        assert code == 0, err
        typed = _type_tracking(book, "AWB-7")
        for i, point in enumerate(POINTS):
            expected |= shop.seed(10 + 3 * i, 3)  # new orders for this run to write
            code, err = _finish(_run(shop, profile, point))
            assert code == -signal.SIGKILL, (point, code, err)
            rows = _whole(book, expected)
            assert rows, point
            if point in ("written", "recording", "cursor"):
                assert sorted(rows) == sorted(expected), point  # the new version is the whole one
            else:
                assert len(rows) < len(expected), point  # the old version: the kill came before the rename
            if point == "half-written":  # the half-written new version is beside it (the next run removes it)
                assert _leftovers(book), point
            assert _tracking(book) == "AWB-7" if typed else True
        _converges(shop, profile, book, expected)
        assert _tracking(book) == "AWB-7"


def test_killed_at_random_moments_of_a_slowed_listing_the_next_run_converges(tmp_path: Path) -> None:
    chance = random.Random(11)
    with market("elebne", tmp_path) as shop:
        write_workbook(tmp_path / "products.xlsx")
        profile = shop.profile(tmp_path, shop.api)
        book = tmp_path / "orders.xlsx"
        expected: set[tuple[str, str, str]] = set()
        progress = []
        for i in range(6):
            expected |= shop.seed(1 + 5 * i, 5)
            requests.post(f"{shop.admin}/__sandbox/faults", json={
                "kind": "delay", "delay": 0.5, "method": "GET", "path": "/orders$", "count": 1000}, timeout=5)
            run = _run(shop, profile)
            time.sleep(chance.uniform(0.5, 1.5 + 0.6 * (len(expected) // PAGE + 1)))  # start, then its pages
            run.send_signal(signal.SIGKILL)
            code, _ = _finish(run)
            requests.delete(f"{shop.admin}/__sandbox/faults", timeout=5)
            progress.append((code, len(_whole(book, expected)), len(expected)))
        print(progress)
        assert any(code == -signal.SIGKILL and n < want for code, n, want in progress), progress  # some landed mid-run
        _converges(shop, profile, book, expected)
