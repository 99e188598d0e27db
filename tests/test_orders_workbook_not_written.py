"""An orders workbook that cannot be written (open in a spreadsheet program, read-only) fails its orders with the
reason, and keeps the run's cursor: the next run, once the file can be written, reads those orders again and
writes each once, however long the file stayed unavailable (before, the cursor moved on and only orders the
7-day lookback or the open-order refresh found again came back)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK
from tests.orders_faults_support import Market, cursor, market, workbook_rows
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Market]:
    with market("elebne", tmp_path) as m:
        for k, v in m.env.items():
            monkeypatch.setenv(k, v)
        write_workbook(tmp_path / "products.xlsx")
        yield m


def _orders(profile: Path) -> tuple[int, dict[str, Any]]:
    report = profile.parent / "orders-report.json"
    code = main(["orders", "--profile", str(profile), "--no-progress", "--report", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8"))


def test_a_workbook_open_elsewhere_keeps_the_cursor(shop: Market, tmp_path: Path) -> None:
    """(A read-only file cannot be tested here: the tests may run as root, who may write it anyway.)"""
    profile = shop.profile(tmp_path, shop.api)
    first = shop.seed(10, 2)  # placed 10 and 11 minutes ago; the later orders are newer
    code, _ = _orders(profile)
    assert code == EXIT_OK and set(workbook_rows(tmp_path / "orders.xlsx")) == first
    saved = cursor(tmp_path / "state.sqlite", shop.name, shop.account)
    assert saved is not None

    book = tmp_path / "orders.xlsx"
    before = book.read_bytes()
    lock = tmp_path / ".~lock.orders.xlsx#"  # LibreOffice has it open
    lock.write_text("someone,host,01.12.2026 10:00,", encoding="utf-8")
    later = shop.seed(1, 3)
    code, report = _orders(profile)
    assert code == EXIT_FAILED
    assert "is open in another program" in json.dumps(report)
    assert book.read_bytes() == before  # nothing written
    assert cursor(tmp_path / "state.sqlite", shop.name, shop.account) == saved  # the cursor stayed
    lock.unlink()

    code, _ = _orders(profile)
    assert code == EXIT_OK
    rows = workbook_rows(book)
    assert sorted(rows) == sorted(first | later) and len(rows) == len(first | later)  # each once
    assert cursor(tmp_path / "state.sqlite", shop.name, shop.account) != saved
