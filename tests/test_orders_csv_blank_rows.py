"""A blank row the merchant left between two rows of the orders CSV (an empty line, or Excel's ``,,,,`` line): the
problem the fulfilment run reports names the row as the spreadsheet program numbers it, and the next orders run
keeps the blank row where it was."""

from __future__ import annotations

from pathlib import Path

from connector.fulfilment.source import ImportedOrder
from connector.fulfilment.workbook import WorkbookSource
from connector.orders.book import OrderBook
from connector.orders.workbook import WorkbookDestination
from connector.sync.state import StateStore
from tests.orders_fixtures import NOW, make_order

HEAD = "Marketplace,Order ID,Line ID,Marketplace status,Status,Tracking number,Courier\n"


def test_a_bad_status_below_a_blank_row_is_named_by_its_real_row(tmp_path: Path) -> None:
    a, b = make_order("A1"), make_order("B2")
    path = tmp_path / "orders.csv"
    path.write_text(HEAD + f"elebne,A1,{a.lines[0].line_id},new,,,\n"
                    ",,,,,,\n"  # Excel's blank row
                    f"elebne,B2,{b.lines[0].line_id},new,shipped?,T1,DHL\n", encoding="utf-8")
    read = WorkbookSource(path).read([ImportedOrder(a, "r2"), ImportedOrder(b, "r4")], None, NOW)
    [progress] = read.progress
    assert "row 4, column Status" in progress.problems[0], progress.problems


def test_a_blank_row_between_rows_is_kept_when_orders_are_added(tmp_path: Path) -> None:
    a = make_order("A1")
    path = tmp_path / "orders.csv"
    path.write_text(HEAD + f"elebne,A1,{a.lines[0].line_id},new,,,\n\nelebne,X,X-1,new,,,\n", encoding="utf-8")
    with StateStore.open(tmp_path / "state.sqlite") as state:
        WorkbookDestination.open(path).import_orders([make_order("C3")], OrderBook(state, "elebne", "shop"), "r")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[2] == "" and lines[3].startswith("elebne,X,") and lines[4].startswith("elebne,C3,")
