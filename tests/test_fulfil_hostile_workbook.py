"""Hostile values in the merchant's columns of the orders workbook (a formula, a line break, a paste gone wrong, a
number typed as a number, a row deleted or a Status cleared after the shipment went out): each is held with a
message naming the row and column, or sent as the merchant sees it, and nothing is ever sent twice or undone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_FAILED, EXIT_OK
from tests import test_fulfilment_ecomlinx_e2e as e2e
from tests.test_fulfilment_ecomlinx_e2e import bring_in, fulfil, mark, patches, remote

pytestmark = pytest.mark.sandbox
ecomlinx, keys, shop = e2e.ecomlinx, e2e.keys, e2e.shop  # the e2e test's sandbox, keys and shop


@pytest.mark.parametrize(("awb", "why"), [
    ('=HYPERLINK("https://track.example/AWB-1","AWB-1")', "is a formula"),
    ("AWB-1\nAWB-2", "line break"),
    ("x" * 5000, "characters long"),
])
def test_a_tracking_number_that_is_not_one_is_held_naming_its_row_and_never_sent(
        shop: Path, ecomlinx: Any, awb: str, why: str) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1})
    mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", awb, "Delhivery Express")
    code, report = fulfil(shop)
    assert code == EXIT_FAILED, report
    [row] = report["fulfilment"]["orders"]
    assert row["result"] == "needs_attention" and row["sent"] == []
    assert "row 2, column Tracking number" in row["reason"] and why in row["reason"]
    assert patches(ecomlinx) == [] and remote(ecomlinx, order["id"])["status"] == "new"

    mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", "AWB-1", "Delhivery Express")  # fixed: it goes
    assert fulfil(shop)[0] == EXIT_OK
    assert (remote(ecomlinx, order["id"])["status"], remote(ecomlinx, order["id"])["awb"]) == ("shipped", "AWB-1")


@pytest.mark.parametrize("typed", [1234567890123, 1234567890123.0])
def test_a_tracking_number_typed_as_a_number_is_sent_as_its_digits(shop: Path, ecomlinx: Any, typed: Any) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1})
    mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", typed, "Delhivery Express")
    assert fulfil(shop)[0] == EXIT_OK
    assert remote(ecomlinx, order["id"])["awb"] == "1234567890123"


def test_a_status_cleared_or_a_row_deleted_after_the_shipment_went_never_unships(shop: Path, ecomlinx: Any) -> None:
    from openpyxl import load_workbook

    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1})
    book = shop.parent / "orders.xlsx"
    mark(book, "SOAP-01", "shipped", "AWB-1", "Delhivery Express")
    assert fulfil(shop)[0] == EXIT_OK
    sent = len(ecomlinx.requests_log())
    mark(book, "SOAP-01", None, None, None)  # the merchant empties the row's Status
    code, report = fulfil(shop)
    assert code == EXIT_OK and report["fulfilment"]["orders"] == []
    wb = load_workbook(book)
    wb["Orders"].delete_rows(2)  # ... then deletes the row
    wb.save(book)
    code, report = fulfil(shop)
    assert code == EXIT_OK and report["fulfilment"]["orders"] == []
    assert ecomlinx.requests_log(sent) == [] and remote(ecomlinx, order["id"])["status"] == "shipped"


def test_a_date_typed_in_status_is_held_naming_its_cell(shop: Path, ecomlinx: Any) -> None:
    from datetime import datetime

    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1})
    mark(shop.parent / "orders.xlsx", "SOAP-01", datetime(2026, 12, 1), "AWB-1", "Delhivery Express")  # type: ignore[arg-type]
    code, report = fulfil(shop)
    assert code == EXIT_FAILED
    [row] = report["fulfilment"]["orders"]
    assert row["result"] == "needs_attention" and "row 2, column Status" in row["reason"]
    assert patches(ecomlinx) == [] and remote(ecomlinx, order["id"])["status"] == "new"
