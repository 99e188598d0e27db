"""The mass-change guard also holds a run that would give many listed products another listed product's value (a
column sorted or shifted on its own in the workbook): ``connector/sync/moved_values.py``.  Bulk edits that bring
new values (prices +10%, a new naming scheme, a rebrand) are sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from connector.sync.moved_values import moved_fields
from tests.conftest import SandboxHandle
from tests.test_guard_emptied_fields import ROWS, SHAPES, STOCK, _Bodies, _plan, _update
from tests.test_sync_safety_e2e import listed, sync
from tests.workbooks import write_workbook

SKUS = [r["SKU"] for r in ROWS]  # 13 rows: SOAP-01, the T-shirt's 3, TEA-500, SPICE-0..7 (11 products)


def column(sandbox: SandboxHandle, name: str) -> dict[str, Any]:
    return {key: p.get(name) for key, p in sandbox.products().items()}


def with_column(header: str, values: list[Any]) -> list[dict[str, Any]]:
    """The rows, the column ``header`` replaced by ``values`` (one a row), the other columns left in place."""
    return [{**r, header: v} for r, v in zip(ROWS, values, strict=True)]


@pytest.mark.sandbox
def test_a_name_column_sorted_alone_sends_nothing_until_allowed(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, STOCK)
    before, mark = column(elebne_sandbox, "name"), elebne_sandbox.last_id()
    write_workbook(wb, with_column("Name", [r["Name"] for r in reversed(ROWS)]), STOCK)
    capsys.readouterr()

    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_USAGE
    assert elebne_sandbox.writes(since=mark) == [] and column(elebne_sandbox, "name") == before
    moved = report["guard"]["moved"]["name"]
    # SPICE-1 keeps its name; the T-shirt's one name goes to SPICE-4, 5 and 6: it counts once
    assert moved["products"] == 8 and "SOAP-01 would show 'Spice 7' (now on SPICE-7)" in moved["examples"]
    err = " ".join(capsys.readouterr().err.split())
    assert "show another listed product's name on 8 of the 11 products listed" in err
    assert "a column sorted or shifted on its own" in err and "--allow-mass-change" in err
    # the note says where the reason is (it said "(reason: 'refused')", a JSON key, on the console)
    assert report["notes"][0] == ("the mass-change guard refused this run: nothing was sent (why: the error below, "
                                  "and 'refused' in the JSON report)")
    assert {r["status"] for r in report["rows"] if r["sku"] == "SOAP-01" and r["sheet"] == "Products"} == {"skipped"}

    # sent (the T-shirt's other rows, now named unlike its first, are skipped for that: exit 1)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch, "--allow-mass-change")
    assert code == EXIT_FAILED and report["guard"]["allowed"] is True and report["guard"]["moved"]["name"]
    assert any(n.startswith("mass-change guard (allowed): ") and "name" in n for n in report["notes"])
    assert column(elebne_sandbox, "name")["SOAP-01"] == "Spice 7"


@pytest.mark.sandbox
def test_a_price_column_shifted_by_one_row_is_refused(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, STOCK)
    before, mark = column(elebne_sandbox, "price"), elebne_sandbox.last_id()
    prices = [r["Price"] for r in ROWS]
    write_workbook(wb, with_column("Price", prices[1:] + prices[:1]), STOCK)  # each row takes the next one's
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_USAGE and elebne_sandbox.writes(since=mark) == []
    assert column(elebne_sandbox, "price") == before
    assert report["guard"]["moved"]["price"]["products"] == 10  # all but the T-shirt (25 -> 26: nobody's)
    assert "SPICE-0 would show '400' (now on SPICE-1)" in report["guard"]["moved"]["price"]["examples"]


@pytest.mark.sandbox
@pytest.mark.parametrize(("header", "edit"), [
    ("Price", lambda r: round(r["Price"] * 1.1, 2)),  # every price +10%
    ("Name", lambda r: f"{r['Name']} | Souk 2027"),  # a new naming scheme: new text everywhere
    ("Brand", lambda r: "Alep" if r["SKU"] in ("SPICE-0", "SPICE-1", "SPICE-2", "SPICE-3") else r.get("Brand")),
], ids=["prices+10%", "new-names", "rebrand"])
def test_bulk_edits_bringing_new_values_are_sent(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, header: str, edit: Any) -> None:
    wb = listed(elebne_sandbox, tmp_path, monkeypatch, ROWS, STOCK)
    rows = with_column(header, [edit(r) for r in ROWS])
    write_workbook(wb, rows, STOCK)
    code, report = sync(elebne_sandbox, wb, tmp_path, monkeypatch)
    assert code == EXIT_OK and "moved" not in report["guard"]
    field = header.lower()
    expected = rows[-1][header] * 100 if header == "Price" else rows[-1][header]
    assert column(elebne_sandbox, field)["SPICE-7" if header != "Brand" else "SPICE-3"] == (
        expected if header != "Brand" else "Alep")


# -- plans built by hand -------------------------------------------------------------------------------------------
def _over(n: int) -> bool:
    return n > 1


def test_values_shared_by_many_products_never_count() -> None:
    # a brand column sorted on its own: each value is held by 3 of the changed products (a rebrand looks the same)
    brands = ["A", "A", "A", "B", "B", "B"]
    old = {f"P{i}": {"brand": b, "name": f"n{i}"} for i, b in enumerate(brands)}
    plan = _plan(*(_update(f"P{i}", {"brand": b}) for i, b in enumerate(reversed(brands))))
    assert moved_fields(plan, _Bodies(old), SHAPES, _over) == {}


def test_rare_values_count_once_per_occurrence_and_children_by_label() -> None:
    old = {"A": {"name": "a", "variants": [{"label": "S", "price": 1}, {"label": "M", "price": 2}]},
           "B": {"name": "b", "variants": [{"label": "S", "price": 3}]},
           "C": {"name": "c", "variants": [{"label": "S", "price": 9}]}}
    plan = _plan(_update("A", {"name": "c", "variants": [{"label": "s", "price": 2}, {"label": "M", "price": 3}]}),
                 _update("B", {"name": "c", "variants": [{"label": "S", "price": 1}]}),
                 _update("C", {"name": "new", "variants": [{"label": "S", "price": 8}]}))
    moved = moved_fields(plan, _Bodies(old), SHAPES, lambda n: n >= 1)
    # A's S takes its own M's price (not another product's); A's M takes B's, B's S takes A's: A and B
    assert moved["variants[].price"].products == 2
    assert moved["variants[].price"].examples[0] == "A (M) would show '3' (now on B (S))"
    # "c" was C's only: A and B both get it, it counts once
    assert moved["name"].products == 1 and moved["name"].examples == ["A would show 'c' (now on C)"]


def test_fields_changed_on_few_products_read_no_confirmed_body() -> None:
    bodies = _Bodies({"A": {"name": "b"}, "B": {"name": "a"}, "C": {"price": 1}})
    plan = _plan(_update("A", {"name": "a"}), _update("B", {"name": "b"}), _update("C", {"price": 2}))
    assert moved_fields(plan, bodies, SHAPES, lambda n: n > 2) == {} and bodies.asked == []
    assert moved_fields(plan, bodies, SHAPES, _over)["name"].products == 2 and bodies.asked == ["A", "B"]


@pytest.mark.parametrize("edit", [
    lambda p: round(p * 1.1),  # +10%, rounded to whole units: the new prices land on other products' old ones
    lambda p: p + 1,  # +1 on prices 1 apart
    lambda p: f"{p * 1.1:.2f}",  # prices as text (a marketplace that takes them so)
], ids=["+10%-rounded", "+1", "as-text"])
def test_a_uniform_change_of_dense_prices_is_a_bulk_edit(edit: Any) -> None:
    """Where nearly every price is another product's too, +10% (or +1) gives many products a price another had:
    one ratio (or difference) moves them all, so nothing is counted; shuffled, the same prices are."""
    import random

    prices = list(range(100, 160))  # one product a price, 1 apart, in no particular order of the rows
    random.Random(3).shuffle(prices)
    old = {f"P{i}": {"name": f"n{i}", "price": p} for i, p in enumerate(prices)}
    as_text = isinstance(edit(100), str)
    if as_text:
        old = {k: {**v, "price": f"{v['price']:.2f}"} for k, v in old.items()}
    plan = _plan(*(_update(f"P{i}", {"price": edit(p)}) for i, p in enumerate(prices)))
    assert moved_fields(plan, _Bodies(old), SHAPES, _over) == {}
    shuffled = prices[:]
    random.Random(7).shuffle(shuffled)
    plan = _plan(*(_update(f"P{i}", {"price": f"{p:.2f}" if as_text else p}) for i, p in enumerate(shuffled)
                   if p != prices[i]))
    assert moved_fields(plan, _Bodies(old), SHAPES, _over)["price"].products > 50


def test_a_shifted_price_column_of_a_catalogue_sorted_by_price_is_not_taken_for_a_bulk_edit() -> None:
    """Rows sorted by price, 1 apart: the column shifted by one row is also "every price +1"; the rows' order tells
    them apart (each row takes its neighbour's old value)."""
    prices = list(range(100, 160))
    old = {f"P{i}": {"name": f"n{i}", "price": p} for i, p in enumerate(prices)}
    plan = _plan(*(_update(f"P{i}", {"price": p}) for i, p in enumerate(prices[1:] + prices[:1])))
    assert moved_fields(plan, _Bodies(old), SHAPES, _over)["price"].products == 60  # (the last takes the first's)
