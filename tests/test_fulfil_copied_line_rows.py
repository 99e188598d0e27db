"""A merchant copies an order line's row and types a second tracking number on the copy (a line sent in two
parcels), or another status: the connector ships a line whole with one number, so the second number must not be
dropped without a word, nor a copy saying cancelled cancel an order its other row says shipped: the order is
held, naming the rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.fulfilment.model import OrderProgress
from connector.fulfilment.source import ImportedOrder
from connector.fulfilment.workbook import WorkbookSource
from tests.orders_fixtures import NOW, make_order


def progress_of(tmp_path: Path, order: Any, *rows: str) -> OrderProgress:
    """The order's progress read from an orders.csv holding ``rows`` (``line id,status,tracking,courier``)."""
    path = tmp_path / "orders.csv"
    path.write_text("Marketplace,Order ID,Line ID,Status,Tracking number,Courier\n"
                    + "".join(f"elebne,A1,{row}\n" for row in rows), encoding="utf-8")
    [progress] = WorkbookSource(path).read([ImportedOrder(order, "rows 2")], None, NOW).progress
    return progress


def test_a_second_tracking_number_on_a_copied_row_is_a_problem_not_dropped(tmp_path: Path) -> None:
    order = make_order("A1", ("SOAP", 2), ("TEA", 1))
    first, second = (ln.line_id for ln in order.lines)
    progress = progress_of(tmp_path, order, f"{first},shipped,T1,DHL", f"{second},shipped,T1,DHL",
                           f"{first},shipped,T2,DHL")
    assert any("rows 2, 4" in p and "T2" in p for p in progress.problems), progress


def test_the_same_row_twice_with_the_same_number_is_fine(tmp_path: Path) -> None:
    order = make_order("A1", ("SOAP", 2))
    [line] = (ln.line_id for ln in order.lines)
    progress = progress_of(tmp_path, order, f"{line},shipped,T1,DHL", f"{line},shipped,T1,DHL")
    assert progress.problems == () and [s.tracking_number for s in progress.shipments] == ["T1"]


def test_a_copied_row_saying_cancelled_beside_one_saying_shipped_is_a_problem_not_a_cancellation(
        tmp_path: Path) -> None:
    """The copy's cancelled made the whole order cancelled (every line has a cancelled row) and the shipped row
    was dropped without a word: the run sent the cancellation of an order the merchant says shipped."""
    order = make_order("A1", ("SOAP", 1))
    [line] = (ln.line_id for ln in order.lines)
    progress = progress_of(tmp_path, order, f"{line},shipped,T1,DHL", f"{line},cancelled,,")
    assert any("rows 2, 3" in p and "cancelled" in p and "shipped" in p for p in progress.problems), progress
