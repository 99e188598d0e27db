"""The merchant merges the Marketplace and Order ID cells of an order's rows (one order, three lines: a common way
to group them in Excel / LibreOffice).  The cells under the first one are then empty in the file.  Neither run may
lose the rows: fulfil must not ignore the Status typed on them, and a later orders run must not add the lines
again as new rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from connector.cli import main
from tests import test_fulfilment_ecomlinx_e2e as e2e
from tests.test_fulfilment_ecomlinx_e2e import bring_in, fulfil, remote

pytestmark = pytest.mark.sandbox
ecomlinx, keys, shop = e2e.ecomlinx, e2e.keys, e2e.shop


def merge_order_cells(path: Path, status: str | None) -> None:
    wb = load_workbook(path)
    ws = wb["Orders"]
    heads = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        if status:
            ws.cell(r, heads.index("Status") + 1).value = status
            ws.cell(r, heads.index("Tracking number") + 1).value = "AWB-9"
            ws.cell(r, heads.index("Courier") + 1).value = "Delhivery Express"
    for name in ("Marketplace", "Order ID"):
        col = heads.index(name) + 1
        ws.merge_cells(start_row=2, end_row=ws.max_row, start_column=col, end_column=col)
    wb.save(path)


def test_rows_under_merged_order_cells_are_not_added_again(shop: Path, ecomlinx: Any) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1}, {"sku": "TEA-500", "qty": 1})
    book = shop.parent / "orders.xlsx"
    merge_order_cells(book, None)
    ecomlinx.set_order_status(order["id"], "processing")  # the order changes: it is handed to the workbook again
    code = main(["orders", "--profile", str(shop), "--no-progress"])
    rows = [r for r in load_workbook(book)["Orders"].iter_rows(min_row=2, values_only=True) if any(r)]
    assert len(rows) == 2, rows  # not 3: the second line is not added a second time
    assert code in (0, 1)


def test_shipped_typed_under_merged_order_cells_ships_the_whole_order(shop: Path, ecomlinx: Any) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1}, {"sku": "TEA-500", "qty": 1})
    merge_order_cells(shop.parent / "orders.xlsx", "shipped")
    code, report = fulfil(shop)
    [row] = report["fulfilment"]["orders"]
    # either shipped, or held naming the merged cells; never "waiting for the rest" because rows went unread
    assert row["result"] == "shipped" or (code == 1 and "merged" in (row["reason"] or "")), row
    assert remote(ecomlinx, order["id"])["status"] in ("shipped", "new")


def test_a_cancellation_under_merged_marketplace_status_cells_is_written_without_a_traceback(
        shop: Path, ecomlinx: Any, capsys: pytest.CaptureFixture[str]) -> None:
    order = bring_in(shop, ecomlinx, {"sku": "SOAP-01", "qty": 1}, {"sku": "TEA-500", "qty": 1})
    book = shop.parent / "orders.xlsx"
    wb = load_workbook(book)
    ws = wb["Orders"]
    col = [c.value for c in ws[1]].index("Marketplace status") + 1
    ws.merge_cells(start_row=2, end_row=3, start_column=col, end_column=col)  # "new" over both lines
    wb.save(book)
    ecomlinx.set_order_status(order["id"], "cancelled")
    code = main(["orders", "--profile", str(shop), "--no-progress"])
    assert "Traceback" not in capsys.readouterr().err
    assert code == 0
    rows = list(load_workbook(book)["Orders"].iter_rows(min_row=2, values_only=True))
    assert [r[col - 1] for r in rows if any(r)] == ["cancelled", "cancelled"]


def orders_sheet(path: Path, rows: list[list[Any]], merges: list[str]) -> Any:
    """An orders workbook of ``rows`` (under the header) with cells ``merges`` merged, loaded as the run loads it."""
    from openpyxl import Workbook

    from connector.orders.workbook import XlsxSheet

    wb = Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Marketplace", "Order ID", "Line ID", "Marketplace status"])
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    wb.save(path)
    return XlsxSheet.load(path)


def test_cells_merged_across_columns_are_read_as_stored_and_split_when_written(tmp_path: Path) -> None:
    # A4:B4 across columns: Order ID stays empty, as stored; D2:D3 down one column: each row shows "new"
    typed = [["elebne", "A1", "A1-1", "new"], ["elebne", "A1", "A1-2", "new"],
             ["note across two columns", None, "X-1", "new"]]
    sheet = orders_sheet(tmp_path / "orders.xlsx", typed, ["A4:B4", "D2:D3"])
    rows = sheet.rows()
    assert [r[:4] for r in rows] == [["elebne", "A1", "A1-1", "new"], ["elebne", "A1", "A1-2", "new"],
                                     ["note across two columns", None, "X-1", "new"]]
    sheet.set_cell(1, "marketplace_status", "cancelled")  # row 3, inside D2:D3
    assert [r[3] for r in sheet.rows()] == ["new", "cancelled", "new"]
    assert [str(r) for r in sheet.sheet.merged_cells.ranges] == ["A4:B4"] and len(sheet.notes) == 1


def test_a_merge_drawn_down_past_the_data_leaves_the_empty_rows_empty(tmp_path: Path) -> None:
    # the merchant drew the merge down to row 6; rows 4-6 hold nothing
    sheet = orders_sheet(tmp_path / "orders.xlsx", [["elebne", "A1", "A1-1", "new"], ["elebne", None, "A1-2", "new"]],
                         ["B2:B6"])
    assert [r[:3] for r in sheet.rows()] == [["elebne", "A1", "A1-1"], ["elebne", "A1", "A1-2"],
                                             [None, None, None], [None, None, None], [None, None, None]]
    row = sheet.append({"marketplace": "elebne", "order_id": "B2", "line_id": "B2-1"})
    assert row == 2  # the first empty row, under the data
    assert [r[:3] for r in sheet.rows()][:3] == [["elebne", "A1", "A1-1"], ["elebne", "A1", "A1-2"],
                                                 ["elebne", "B2", "B2-1"]]
    assert all(ws_row[1] is None for ws_row in sheet.rows()[3:])  # no stray copies of A1 below
