"""A run killed while it wrote the orders workbook leaves its half-written new version beside the file
(``.orders.xlsx.<random>.xlsx``); the next run that writes the workbook removes it instead of leaving one more
file in the merchant's folder after each kill."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.orders.book import OrderBook
from connector.orders.workbook import WorkbookDestination
from connector.sync.state import StateStore
from tests.orders_fixtures import make_order


@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_a_killed_runs_half_written_copy_is_removed_by_the_next_run(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    suffix = Path(name).suffix
    left = tmp_path / f".{name}.k2j4h5_x{suffix}"
    left.write_bytes(b"PK\x03\x04 half")
    other = tmp_path / f".{name}.lock"
    other.write_text("123")
    mine = tmp_path / f"notes{suffix}"
    mine.write_text("the merchant's")
    with StateStore.open(tmp_path / "state.sqlite") as state:
        WorkbookDestination.open(path).import_orders([make_order("A1")], OrderBook(state, "elebne", "shop"), "r")
    assert path.exists() and not left.exists()
    assert other.exists() and mine.exists()
