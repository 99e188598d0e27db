"""An Elryan listing page that is valid JSON but not a list of objects (an object, a list of texts) is an error
naming the operation, which the orders and fulfilment runs report, not an ``AttributeError`` traceback further on
(the unfulfilled orders list used to take an object's keys for its orders)."""

from __future__ import annotations

from typing import Any

import pytest

from connector.http import HttpClient
from connector.marketplaces.elryan.client import ElryanClient
from connector.marketplaces.elryan.errors import ElryanError
from connector.orders.run import classify


def _client(answer: Any, monkeypatch: pytest.MonkeyPatch) -> ElryanClient:
    client = ElryanClient(HttpClient("http://127.0.0.1:9"), email="shop@example.com", password="x")
    monkeypatch.setattr(client, "call", lambda *_args, **_kw: answer)
    return client


@pytest.mark.parametrize("answer", [{"POlineID": "1", "Item": "TEA"}, ["1", "2"], "rows", 3])
def test_an_answer_that_is_no_list_of_results_is_an_error_naming_the_call(
        answer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(answer, monkeypatch)
    for read in (lambda: list(client.iter_unfulfilled_orders()), lambda: client.search_orders()):
        with pytest.raises(ElryanError, match="answered without a list of results") as caught:
            read()
        assert classify(caught.value)[0] == "failed"  # a shape no retry mends: reported, the cursor kept


@pytest.mark.parametrize("answer", [None, [], ""])
def test_no_results_is_an_empty_page(answer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _client(answer, monkeypatch).unfulfilled_orders() == []
