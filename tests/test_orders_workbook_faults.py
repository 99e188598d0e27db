"""``connector orders`` into the orders workbook through a fault proxy (tests/fault_proxy.py) placed on a later
page of each marketplace's order listing (Elebne, EcomLinx, Elryan sandboxes): a fault the retries absorb ends
in a whole run; one that lasts past them leaves the workbook and the cursor as they were (no order of the pages
read is written, as if the listing had ended there), exits 3 (a gateway, 429, a 200 that is no answer or cut
short) and the next run writes every order exactly once, the merchant's own cells kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from connector.cli import main
from connector.errors import EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE
from tests.fault_proxy import KINDS, FaultProxy
from tests.orders_faults_support import NAMES, Market, cursor, market, workbook_rows
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox
ORDERS = 10  # Elebne and EcomLinx: 4 pages of 3; Elryan: 20 lines, 7 pages (an order split over two)


@pytest.fixture(params=NAMES)
def shop(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Market]:
    with market(request.param, tmp_path) as m:
        for k, v in m.env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setattr("connector.http.client.backoff_seconds", lambda *_args: 0.01)
        write_workbook(tmp_path / "products.xlsx")
        yield m


@pytest.fixture
def proxy(shop: Market) -> Iterator[FaultProxy]:
    server = FaultProxy(shop.api)
    try:
        yield server
    finally:
        server.close()


def _orders(profile: Path) -> tuple[int, dict[str, Any]]:
    report = profile.parent / "orders-report.json"
    code = main(["orders", "--profile", str(profile), "--no-progress", "--report", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8"))


def _type_tracking(path: Path, row: int, number: str) -> None:
    wb = load_workbook(path)
    ws = wb["Orders"]
    heads = [c.value for c in ws[1]]
    ws.cell(row, heads.index("Tracking number") + 1).value = number
    wb.save(path)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "html-200-after"])
def test_a_later_page_failing_past_the_retries_writes_nothing_keeps_the_cursor_and_the_next_run_converges(
        shop: Market, proxy: FaultProxy, tmp_path: Path, kind: str) -> None:
    profile = shop.profile(tmp_path, proxy.url)
    book = tmp_path / "orders.xlsx"
    first = shop.seed(1, 2)
    code, _ = _orders(profile)
    assert code == EXIT_OK
    assert sorted(workbook_rows(book)) == sorted(first)
    _type_tracking(book, 2, "AWB-1")  # the merchant's own cell
    kept = book.read_bytes()
    before = cursor(tmp_path / "state.sqlite", shop.name, shop.account)

    everything = first | shop.seed(3, ORDERS)
    proxy.fail(kind, path=shop.listing, query=shop.later_page, count=1000)
    code, report = _orders(profile)
    assert proxy.faulted(), proxy.seen  # the first page was read, a later one failed
    # a gateway's page, a 429, a 200 that is no answer or cut behind its length: deferred (exit 3), as the stock
    # push defers them; no whole answer at all (the connection dropped): unreachable (exit 4)
    assert code == (EXIT_UNREACHABLE if kind in ("reset-body", "cut-unframed") else EXIT_PARTIAL), report
    assert not any("<" in note for note in report["notes"]), report["notes"]  # the page's words, not its markup
    section = report["orders"]
    assert section["read"] == 0 and section["cursor"]["saved"] is False, section
    assert cursor(tmp_path / "state.sqlite", shop.name, shop.account) == before
    assert book.read_bytes() == kept  # not one order of the pages read: the listing did not end

    proxy.faults.clear()
    code, report = _orders(profile)
    assert code == EXIT_OK, report
    rows = workbook_rows(book)
    assert sorted(rows) == sorted(everything)  # each order's lines once
    ws = load_workbook(book)["Orders"]
    heads = [c.value for c in ws[1]]
    assert ws.cell(2, heads.index("Tracking number") + 1).value == "AWB-1"


@pytest.mark.parametrize("kind", ["reset-body", "cut-framed", "html-502", "429-date", "html-200"])
def test_a_later_page_failing_once_is_retried_and_the_run_is_whole(
        shop: Market, proxy: FaultProxy, tmp_path: Path, kind: str) -> None:
    profile = shop.profile(tmp_path, proxy.url)
    everything = shop.seed(1, ORDERS)
    proxy.fail(kind, path=shop.listing, query=shop.later_page, count=1)
    code, report = _orders(profile)
    assert len(proxy.faulted()) == 1
    assert code == EXIT_OK, report
    assert sorted(workbook_rows(tmp_path / "orders.xlsx")) == sorted(everything)
    assert report["orders"]["cursor"]["saved"] is True
