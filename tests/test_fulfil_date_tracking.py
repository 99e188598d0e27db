"""A tracking number that the spreadsheet turned into a date or a time is held, not sent.

Excel and LibreOffice turn ``1-3``, ``3/1`` or ``12:30`` typed in a cell not formatted as Text into a date or a
time as it is typed: what was typed is gone.  The orders workbook's reader gave such a cell as
``2026-03-01 00:00:00``, and ``connector fulfil`` sent that text to the marketplace as the airway bill: the
customer was shown a tracking number no courier knows, exit 0.  The row is now held as needs attention, naming
the cell, as a tracking number the spreadsheet rounded is (tests/test_fulfil_rounded_tracking.py)."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_FAILED
from tests import test_fulfilment_ecomlinx_e2e as e2e
from tests.test_fulfilment_ecomlinx_e2e import bring_in, fulfil, mark, patches, remote

pytestmark = pytest.mark.sandbox
ecomlinx, keys, shop = e2e.ecomlinx, e2e.keys, e2e.shop


@pytest.mark.parametrize("typed", [datetime(2026, 3, 1), time(12, 30)])
def test_a_tracking_number_turned_into_a_date_is_held_not_sent(shop: Path, ecomlinx: Any, typed: Any) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1})
    mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", typed, "Delhivery Express")
    code, report = fulfil(shop)
    assert patches(ecomlinx) == [], remote(ecomlinx, order["id"])
    assert code == EXIT_FAILED
    [row] = report["fulfilment"]["orders"]
    assert row["result"] == "needs_attention" and "row 2, column Tracking number" in row["reason"]
    assert "a date or a time, not a tracking number" in row["reason"] and "format the column as Text" in row["reason"]
