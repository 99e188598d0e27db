"""A tracking number the spreadsheet changed as it was typed is held, not sent, naming the cell.

- Longer than 15 digits, typed as a number: Excel/LibreOffice keep only 15 significant digits
  (9400111899223100012345 becomes 9.4001118992231E+21); the rounded digits (or the '9.40011E+21' text a CSV saved
  by Excel holds) are not the airway bill.
- ``1-3``, ``3/1`` or ``12:30`` typed in a cell not formatted as Text became a date or a time: what was typed is
  gone.  The reader gave such a cell as ``2026-03-01 00:00:00``, and ``connector fulfil`` sent that text as the
  airway bill (the customer shown a tracking number no courier knows, exit 0)."""

from __future__ import annotations

import csv
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_FAILED
from tests import test_fulfilment_ecomlinx_e2e as e2e
from tests.test_fulfilment_ecomlinx_e2e import bring_in, fulfil, mark, patches, remote

pytestmark = pytest.mark.sandbox
ecomlinx, keys, shop = e2e.ecomlinx, e2e.keys, e2e.shop


_DATE = ("a date or a time, not a tracking number", "format the column as Text")


@pytest.mark.parametrize("typed, said", [(9.4001118992231e+21, ()), (12345678901234567.0, ()),
                                         (datetime(2026, 3, 1), _DATE), (time(12, 30), _DATE)])
def test_a_tracking_number_the_spreadsheet_changed_is_held_not_sent(shop: Path, ecomlinx: Any, typed: Any,
                                                                     said: tuple[str, ...]) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1})
    mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", typed, "Delhivery Express")
    code, report = fulfil(shop)
    assert patches(ecomlinx) == [], remote(ecomlinx, order["id"])
    assert code == EXIT_FAILED
    [row] = report["fulfilment"]["orders"]
    assert row["result"] == "needs_attention" and "row 2, column Tracking number" in row["reason"]
    assert all(words in row["reason"] for words in said)


def test_a_tracking_number_excel_wrote_in_scientific_notation_in_a_csv_is_held(tmp_path: Path, ecomlinx: Any) -> None:
    profile = e2e.write_shop(tmp_path, ecomlinx, "{to: workbook, workbook: orders.csv, from: [ecomlinx], "
                                                 f"{e2e.FULFILMENT}}}")
    order = bring_in(profile, ecomlinx, {"sku": "SOAP-01", "qty": 1})
    path = tmp_path / "orders.csv"
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    h = rows[0]
    rows[1][h.index("Status")], rows[1][h.index("Tracking number")], rows[1][h.index("Courier")] = (
        "shipped", "9.40011E+21", "Delhivery Express")
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, report = fulfil(profile)
    assert patches(ecomlinx) == [], remote(ecomlinx, order["id"])
    assert code == EXIT_FAILED
    [row] = report["fulfilment"]["orders"]
    assert row["result"] == "needs_attention" and "row 2, column Tracking number" in row["reason"]
    assert "scientific notation" in row["reason"]
