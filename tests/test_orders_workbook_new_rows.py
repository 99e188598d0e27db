"""New order rows as the merchant then works with them: the Tracking number cell ready for typing, and inside an
Excel table made of the orders.

The empty Tracking number cell of a new order row is formatted as Text, so what the merchant types stays as typed.

The orders workbook wrote a new row's Tracking number empty in a General cell: Excel and LibreOffice then turned
``0012345678`` into 12345678 (the number sent without its zeros: another parcel's), ``1-3`` into a date and a
20-digit number into 15 digits and zeros, as it was typed, past recovery.  The Tracking number cells of new rows are
now Text (``@``), as the connector's own identifier columns are; rows already there are left as they are (the
reader still holds a date or a rounded number: tests/test_fulfil_date_tracking.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from connector.orders.book import OrderBook
from connector.orders.workbook import WorkbookDestination
from connector.sync.state import StateStore
from tests.orders_fixtures import make_order


@pytest.fixture
def book(tmp_path: Path):
    with StateStore.open(tmp_path / "state.sqlite") as state:
        yield OrderBook(state, "elebne", "shop")


def _formats(path: Path, header: str) -> list[str]:
    ws = load_workbook(path)["Orders"]
    heads = [c.value for c in ws[1]]
    return [ws.cell(r, heads.index(header) + 1).number_format for r in range(2, ws.max_row + 1)]


def test_a_new_rows_tracking_number_cell_is_text_before_anything_is_typed(tmp_path: Path, book: OrderBook) -> None:
    path = tmp_path / "orders.xlsx"
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1", ("TEE-M-BL", 2), ("SOAP-01", 1))], book, "run1")
    assert _formats(path, "Tracking number") == ["@", "@"]
    ws = load_workbook(path)["Orders"]
    heads = [c.value for c in ws[1]]
    assert [ws.cell(r, heads.index("Tracking number") + 1).value for r in (2, 3)] == [None, None]  # still empty
    # a later order's rows too, below rows the merchant typed into
    WorkbookDestination.open(path).import_orders([make_order("A2")], book, "run2")
    assert _formats(path, "Tracking number") == ["@", "@", "@"]


def test_an_excel_table_over_the_orders_takes_in_the_rows_added_below_it(tmp_path: Path, book: OrderBook) -> None:
    """A merchant who made the orders an Excel table (Insert > Table, to filter and sort them, or to feed a pivot
    table) had each later order written below the table, outside it: left out of its sorting, its filters' view and
    any pivot table or formula over it.  A row added right below a table that holds every order joins it, as Excel
    does when one types a row under a table."""
    from openpyxl.worksheet.table import Table

    path = tmp_path / "orders.xlsx"
    WorkbookDestination.open(path).import_orders([make_order("A1", ("TEE-M-BL", 2), ("SOAP-01", 1))], book, "run1")
    wb = load_workbook(path)
    ws = wb["Orders"]
    ws.add_table(Table(displayName="Orders", ref=f"A1:{ws.cell(1, ws.max_column).column_letter}3"))
    wb.save(path)
    WorkbookDestination.open(path).import_orders([make_order("A2"), make_order("A3")], book, "run2")
    ws = load_workbook(path)["Orders"]
    assert ws.max_row == 5
    assert [t.ref for t in ws.tables.values()] == [f"A1:{ws.cell(1, ws.max_column).column_letter}5"]
