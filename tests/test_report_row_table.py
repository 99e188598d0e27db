"""The report's rows as columns (``connector.sync.rows.RowTable``): what a report says of a table of rows is what
it says of a list of the same ``RowOutcome`` objects, and a table shares its source's columns without changing
them."""

from __future__ import annotations

import copy
import io
import json
import pickle
from array import array

import pytest

import connector.sync.report as report_module
from connector.sync.report import FAILED, PUSHED, SKIPPED, UNCHANGED, RunReport, as_unchanged, group_rows, write_json
from connector.sync.rows import NO_ROW, RowOutcome, RowTable

_ACTIONS = ["create"]


def _rows() -> list[RowOutcome]:
    """Rows of several outcomes, sheets, row numbers (none, large, not an int), SKUs and products."""
    shared = (PUSHED, _ACTIONS, None, None, None, False, "Products")
    stock = (PUSHED, ["stock"], None, None, None, False, "Stock Main")
    return [
        RowOutcome.sharing("A-1", "A", 2, shared),
        RowOutcome.sharing("A-2", "A", 3, shared),
        RowOutcome("B", "B", "Products", 4, FAILED, ["update"], "update failed: bad", "bad", "E1", True),
        RowOutcome.sharing("A-1", "A", 2, stock),
        RowOutcome("C", "C", "Products", None, SKIPPED, [], "duplicate SKU"),
        RowOutcome(None, None, "Products", 2**62, SKIPPED, [], "no SKU", attention=True),
        RowOutcome("D", "D", None, "r7", UNCHANGED),  # a row "number" no int64 column holds
        RowOutcome.sharing("A-3", "A", 5, shared),
        RowOutcome("", "", "Products", 9, UNCHANGED),
    ]


def _report(rows: list[RowOutcome] | RowTable) -> RunReport:
    report = RunReport(run_id="r", source="s", target="t", dry_run=False, started_at="now")
    report.rows = rows
    return report


def _saved(report: RunReport) -> dict:
    file = io.StringIO()
    write_json(report._json(lazy=True), file)
    return json.loads(file.getvalue())


def test_a_table_reads_back_the_rows_it_was_given_and_equals_their_list() -> None:
    rows = _rows()
    table = RowTable(rows)
    assert len(table) == len(rows)
    assert list(table) == rows and table == rows and rows == list(table)
    assert [r.to_json() for r in table] == [r.to_json() for r in rows]
    assert table[-1] == rows[-1] and table[6].row == "r7" and table[5].row == 2**62 and table[4].row is None
    assert table[1:3] == rows[1:3] and type(table[1:3]) is RowTable
    assert table != rows[:-1]
    changed = RowTable(rows)
    changed[0].reason = "other"
    assert changed != rows


def test_what_a_report_says_of_a_table_is_what_it_says_of_the_list(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows()
    listed, tabled = _report(rows), _report(RowTable(rows))
    assert tabled.status_counts == listed.status_counts == {PUSHED: 4, UNCHANGED: 2, SKIPPED: 2, FAILED: 1}
    assert tabled.product_counts == listed.product_counts
    assert tabled.compute_exit_code() == listed.compute_exit_code()
    assert group_rows(RowTable(rows)) == group_rows(rows)
    assert _saved(tabled) == _saved(listed)  # a small report: one object per row
    monkeypatch.setattr(report_module, "ROWS_IN_FULL", 0)  # a large one: grouped rows
    assert _saved(tabled)["row_groups"] == _saved(listed)["row_groups"] and len(_saved(listed)["row_groups"]) == 7
    assert as_unchanged(RowTable(rows))[:2] == as_unchanged(rows)[:2]
    assert as_unchanged(RowTable(rows))[2] == as_unchanged(rows)[2]
    one_status = [RowOutcome.sharing(f"S{i}", f"P{i // 2}", i, rows[0]._outcome) for i in range(10)]
    assert _report(RowTable(one_status)).product_counts == _report(one_status).product_counts


def test_a_row_read_from_a_table_writes_back_to_it() -> None:
    table = RowTable(_rows())
    for row in table:  # as the hold and the currency refusal change rows in place
        if row.sku == "A-2":
            row.status, row.reason, row.attention = FAILED, "refused", True
            row.actions = []
    assert table[1].status == FAILED and table[1].reason == "refused" and table[1].actions == []
    assert table[0].status == PUSHED and table[0].actions == ["create"]  # the row that shared its outcome: not
    table[2].row, table[2].sku, table[2].product = 40, "B2", "BB"
    assert (table[2].row, table[2].sku, table[2].product) == (40, "B2", "BB")
    table[3] = RowOutcome("Z", "Z", "Products", 1, PUSHED)
    assert table[3] == RowOutcome("Z", "Z", "Products", 1, PUSHED)
    del table[0]
    assert len(table) == 8 and table[0].sku == "A-2"
    table.insert(0, RowOutcome("first", "first", None, None, UNCHANGED))
    assert table[0].sku == "first" and table[1].sku == "A-2"
    assert _report(table).status_counts[FAILED] == 2


def test_a_table_over_a_sources_columns_never_changes_them() -> None:
    skus, numbers = ["A", "B"], array("q", [2, NO_ROW])
    table = RowTable.over(skus, numbers)
    outcome = (PUSHED, [], None, None, None, False, "Products")
    table.fill("A", outcome)
    table.fill("B", outcome)
    assert [(r.sku, r.row, r.product) for r in table] == [("A", 2, "A"), ("B", None, "B")]
    table.append(RowOutcome("C", "C", None, 9, PUSHED))
    table[0].sku, table[1].row = "A2", 5
    assert skus == ["A", "B"] and list(numbers) == [2, NO_ROW]
    assert [(r.sku, r.row) for r in table] == [("A2", 2), ("B", 5), ("C", 9)]


def test_a_table_with_other_outcomes_shares_its_columns_and_neither_table_changes_the_other() -> None:
    rows = _rows()
    table = RowTable(rows)
    calls: list[tuple] = []

    def later(outcome: tuple) -> tuple:
        calls.append(outcome)
        return outcome if outcome[0] == SKIPPED else (UNCHANGED, [], None, None, None, False, outcome[6])

    other = table.with_outcomes(later)
    assert len(calls) == len(table.outcomes)  # once per distinct outcome, not per row
    assert [(r.sku, r.product, r.row) for r in other] == [(r.sku, r.product, r.row) for r in rows]
    assert [r.status for r in other] == [SKIPPED if r.status == SKIPPED else UNCHANGED for r in rows]
    assert other.skus() is table.skus() and other.products() is table.products()  # shared, not copied
    assert other[0]._outcome is other[1]._outcome  # the rows of one outcome share its new one
    other[0].sku, other[1].product, other[4].row = "X", "Y", 7
    other.append(RowOutcome("new", "new", None, 3, FAILED))
    assert table == rows and len(table) == len(rows)  # the first table as it was
    table[2].sku, table[3].product = "Z", "W"
    assert (other[2].sku, other[3].product, other[0].sku, other[1].product, other[4].row) == ("B", "A", "X", "Y", 7)


def test_a_rows_copy_and_pickle_are_rows_of_their_own() -> None:
    table = RowTable(_rows())
    for row in (copy.copy(table[2]), copy.deepcopy(table[2]), pickle.loads(pickle.dumps(table[2]))):
        assert type(row) is RowOutcome and row == _rows()[2]
        row.reason = "changed"
        assert table[2].reason == "update failed: bad"
    for other in (copy.copy(table), copy.deepcopy(table), pickle.loads(pickle.dumps(table))):
        assert type(other) is RowTable and other == table
        other.append(RowOutcome("new", "new", None, None, FAILED, [], "its own outcome"))  # interned anew
        other[0].status = SKIPPED
        assert other[-1].reason == "its own outcome" and other[0].status == SKIPPED and table[0].status == PUSHED
        assert len(table) == len(_rows())
