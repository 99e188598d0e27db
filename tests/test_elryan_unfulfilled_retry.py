"""Elryan's unfulfilled orders list (``POST /orders/unfulfilled``, the refresh of open orders older than the pull
window) is a read: an answer lost on the way is asked for again, as for the searches, not a run stopped with
exit 4 "could not be reached"."""

from __future__ import annotations

from typing import Any

import pytest

from connector.http import HttpClient
from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.marketplaces.elryan.client import ElryanClient
from tests.test_orders_elryan import Shop

pytestmark = pytest.mark.sandbox


@pytest.mark.parametrize("kind", [{"kind": "drop"}, {"kind": "cut", "part": "body"}, {"kind": "cut",
                                                                                       "part": "headers"}])
def test_a_lost_answer_of_the_unfulfilled_list_is_asked_again(elryan_sandbox: Any, kind: dict[str, Any]) -> None:
    shop = Shop(elryan_sandbox)
    shop.stock_up({"EDP-50": (10, 25)})
    line = shop.place(("EDP-50", 1))[0]
    client = ElryanClient(HttpClient(elryan_sandbox.api_url, sleep=lambda s: None), email=SANDBOX_EMAIL,
                          password=SANDBOX_PASSWORD)
    elryan_sandbox.add_fault(method="POST", path="/orders/unfulfilled", count=1, **kind)
    assert [r["POlineID"] for r in client.iter_unfulfilled_orders()] == [line["POlineID"]]
    assert client.http.stats.retries == 1
