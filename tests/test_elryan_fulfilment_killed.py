"""Elryan's fulfilment killed at every point: the process dies right before, or right after, each request of a
two-package order (one shipment, then the rest), and is run again until it finishes: Elryan ends with exactly one
package per shipment, each with its own items."""

from __future__ import annotations

from typing import Any

import pytest

from connector.fulfilment.model import FulfilResult
from connector.http import HttpClient
from tests.test_elryan_fulfilment import Desk, couriers, desk, progress, shipment  # noqa: F401

pytestmark = pytest.mark.sandbox


class Killed(BaseException):
    """The process dying (SIGKILL does not run ``except Exception`` handlers either)."""


@pytest.mark.parametrize("after", [False, True], ids=["before-the-call", "after-the-answer"])
def test_killed_at_every_request_never_makes_a_second_package(
        desk: Desk, monkeypatch: pytest.MonkeyPatch, after: bool) -> None:  # noqa: F811
    a, b = desk.shop.place(("EDP-50", 2), ("EDP-100", 1))
    number = a["Order Number"]
    first, rest = shipment("workbook:TRK-1", (a, 2)), shipment("workbook:TRK-2", (b, 1), tracking="TRK-2")
    plan = couriers("workbook:TRK-1", "workbook:TRK-2")
    real = HttpClient.request
    budget, kills = {"left": 0}, []

    def dying(self: Any, method: str, path: str, **kw: Any) -> Any:
        if budget["left"] == 0 and not after:
            raise Killed
        answer = real(self, method, path, **kw)
        budget["left"] -= 1
        if budget["left"] < 0 and after:
            raise Killed
        return answer

    monkeypatch.setattr(HttpClient, "request", dying)
    for kill_at in range(40):  # the k-th request of each run dies, until a run goes through
        budget["left"] = kill_at
        try:
            outcome = desk.run(number, progress(number, first), plan)
            if outcome.result is not FulfilResult.FAILED:
                break
        except Killed:
            kills.append(kill_at)
            continue
    for kill_at in range(40):
        budget["left"] = kill_at
        try:
            outcome = desk.run(number, progress(number, first, rest), plan)
            if outcome.result is not FulfilResult.FAILED:
                break
        except Killed:
            kills.append(kill_at)
            continue
    monkeypatch.undo()
    assert len(kills) >= 6, kills  # both runs died at several points before one went through
    assert desk.run(number, progress(number, first, rest), plan).result is FulfilResult.UNCHANGED
    packages = desk.packages()
    assert sorted(p["tracking"]["tracking_barcode"] for p in packages) == ["TRK-1", "TRK-2"]
    assert sorted((i["order_item_id"], i["quantity"]) for p in packages for i in p["items"]) == [
        (int(a["POlineID"]), 2), (int(b["POlineID"]), 1)]
