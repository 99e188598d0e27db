"""Elryan's orders search is read until an empty page, ``start`` moving on by the lines actually received.  A page
shorter than the ``length`` asked used to end the read: an Elryan that sends fewer lines than asked (a cap of its
own) had the pull stop after its first page, the cursor moving past every order on the pages never read."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import EXIT_OK
from tests.fault_proxy import REWRITE, FaultProxy
from tests.orders_faults_support import PAGE, market, orders_run, workbook_rows
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox


def test_a_page_shorter_than_asked_does_not_end_the_orders_read(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with market("elryan", tmp_path) as shop:
        for k, v in shop.env.items():
            monkeypatch.setenv(k, v)
        write_workbook(tmp_path / "products.xlsx")
        rows = shop.seed(0, 4)  # 8 lines: pages of 3
        proxy = FaultProxy(shop.api)
        try:  # the first page: one line fewer than asked
            proxy.fail(REWRITE, method="POST", path=shop.listing, query=r'"start": ?0\b',
                       rewrite=lambda body: {**body, "data": body["data"][: PAGE - 1]})
            code, report = orders_run(shop.profile(tmp_path, proxy.url))
            assert proxy.faulted(), "the page was not rewritten"
            searches = [path for _method, path, _fault in proxy.seen if path.endswith("/orders/search")]
        finally:
            proxy.close()
    assert code == EXIT_OK, report["orders"]
    assert sorted(workbook_rows(tmp_path / "orders.xlsx")) == sorted(rows)  # every line, none twice
    assert len(searches) == 4  # 2 lines (one fewer than asked), 3, 3, then the empty page that ends the listing
