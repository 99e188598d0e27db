"""A drop-down list on the Status column whose values come from another sheet is stored by Excel as a worksheet
extension (``x14:dataValidations``), which openpyxl drops on save: writing new orders into such a workbook would
silently remove the merchant's drop-down.  It is refused like shapes or slicers: nothing written, the orders fail
with the reason, the file is left as it is."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from connector.orders.book import OrderBook
from connector.orders.outcome import OrderResult
from connector.orders.workbook import WorkbookDestination
from connector.sync.state import StateStore
from tests.orders_fixtures import make_order

EXT = ('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
       'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
       '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
       '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
       '<x14:formula1><xm:f>Lists!$A$1:$A$3</xm:f></x14:formula1><xm:sqref>V2:V1000</xm:sqref>'
       '</x14:dataValidation></x14:dataValidations></ext></extLst>')


def excel_workbook_with_a_dropdown(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Marketplace", "Order ID", "Line ID", "Marketplace status", "Status"])
    lists = wb.create_sheet("Lists")
    for v in ("shipped", "delivered", "cancelled"):
        lists.append([v])
    plain = path.with_suffix(".plain.xlsx")
    wb.save(plain)
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", EXT.encode() + b"</worksheet>")
            zout.writestr(item, data)


@pytest.mark.filterwarnings("ignore:Data Validation extension is not supported:UserWarning")
def test_a_dropdown_from_another_sheet_is_not_dropped_silently(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    excel_workbook_with_a_dropdown(path)
    before = path.read_bytes()
    with StateStore.open(tmp_path / "state.sqlite") as state:
        book = OrderBook(state, "elebne", "shop")
        outcomes = WorkbookDestination.open(path).import_orders([make_order("A1")], book, "run")
    assert path.read_bytes() == before  # the drop-down is still there
    [o] = outcomes
    assert o.result is OrderResult.FAILED and "drop-down" in (o.reason or "")
