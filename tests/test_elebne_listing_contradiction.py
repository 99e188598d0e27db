"""Elebne's orders listing ends when ``hasMore`` is false or a page is empty, and its ``total`` is checked.  An empty
page that still says ``hasMore``, or ``hasMore`` false before ``total`` orders were read, used to end the read
quietly: the cursor moved past orders never read.  Now the read fails as ``INVALID_RESPONSE`` saying the listing
contradicted itself: exit 3, the cursor and the workbook unchanged, and the next run reads every order once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_PARTIAL
from tests.orders_faults_support import misread_then_read

pytestmark = pytest.mark.sandbox


def _data(**changes: Any) -> Callable[[Any], Any]:
    return lambda body: {**body, "data": {**body["data"], **changes}}


PAGES: dict[str, tuple[Callable[[Any], Any], str]] = {
    "an empty page 2 that says hasMore": (
        _data(items=[], hasMore=True), "3 orders read, total said 10 (page 2 was empty yet said there are more)"),
    "hasMore false on page 2": (
        _data(hasMore=False), "6 orders read, total said 10 (page 2 (3 orders) ended the listing before the total"),
}


@pytest.mark.parametrize("page", PAGES)
def test_an_orders_listing_that_contradicts_itself_is_read_again_not_cut_short(
        page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rewrite, said = PAGES[page]
    _, report = misread_then_read("elebne", tmp_path, monkeypatch, rewrite, expect=EXIT_PARTIAL)
    assert report["orders"]["read_error"] is None, report["orders"]
    notes = " ".join(report["notes"])
    assert f"Elebne's listing of orders contradicted itself: {said}" in notes, notes
    assert "no readable answer" not in notes, notes
