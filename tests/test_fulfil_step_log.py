"""The fulfilment step log (``StepLog``): which steps the marketplace confirmed for an order, whatever characters
its id and the merchant's shipment ids hold, read once per run."""

from __future__ import annotations

from pathlib import Path

from connector.fulfilment.writer import StepLog
from connector.sync.state import StateStore


def test_confirmed_steps_are_found_whatever_bars_the_order_and_shipment_ids_hold(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "state.sqlite") as state:
        log = StepLog(state, "elryan", "main", "run-1")
        for order, step in [("elryan:main:A1", "package:TRK|1"), ("elryan:main:A1", "cancel:7"),
                            ("elryan:main:B|2", "package:TRK-2"), ("elryan:main:B|2", "package:X|Y"),
                            ("elryan:main:B", "package:only-B"), ("elryan:main:B|22", "package:not-B|2")]:
            log.begin(order, step)
            log.confirm(order, step, {"step": step})
        assert log.confirmed("elryan:main:A1", ("package:",)) == ["package:TRK|1"]
        assert log.confirmed("elryan:main:B|2", ("package:",)) == ["package:TRK-2", "package:X|Y"]
        assert log.confirmed("elryan:main:B", ("package:",)) == ["package:only-B"]
        assert log.confirmed("elryan:main:B|22", ("package:", "cancel:")) == ["package:not-B|2"]
        assert log.confirmed("elryan:main:C", ("package:",)) == []
        assert log.done_many("elryan:main:B|2", ["package:X|Y", "package:TRK-2", "package:none"]) == {
            "package:X|Y": {"step": "package:X|Y"}, "package:TRK-2": {"step": "package:TRK-2"}}
        assert log.done_many("elryan:main:B|2", []) == {}
