"""What a comma is in a number column: the column's own numbers are the evidence; a file's separator only
decides when the column says nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.sources.spreadsheet import read_spreadsheet
from connector.sources.spreadsheet.cells import AMBIGUOUS_COMMA
from tests.fast_paths import both, same


def _prices(path: Path) -> list[tuple[str, Decimal | None]]:
    result = read_spreadsheet(path)
    got = [(v.sku, v.price.amount) for p in result.products for v in p.variants]
    return got + [(i.value, None) for i in result.issues if i.reason == AMBIGUOUS_COMMA]


@pytest.mark.parametrize(("sep", "read"), [(";", None), ("\t", Decimal(1500))])
def test_a_column_of_decimal_points_is_not_overruled_by_the_separator(tmp_path: Path, sep: str,
                                                                      read: Decimal | None) -> None:
    """"1,500" was read as 1.5 in a ';' or tab separated file even when the column's other prices (12.50)
    show a decimal point (a price of 1500 pushed as 1.5).  Tabs say nothing of the comma: the column's point
    makes it a thousands separator; a ';' file says decimals and its column says thousands: refused."""
    path = tmp_path / "p.csv"
    path.write_text(sep.join(["SKU", "Name", "Price"]) + "\n" + sep.join(["A-1", "Shirt", "12.50"]) + "\n"
                    + sep.join(["A-2", "Coat", "1,500"]) + "\n", encoding="utf-8")
    assert _prices(path) == [("A-1", Decimal("12.50"))] + ([("A-2", read)] if read else [("1,500", None)])
    fast, row, _used = both(path)
    same(fast, row)


def test_a_tab_separated_file_says_nothing_of_the_comma(tmp_path: Path) -> None:
    """Tabs separate the exports of every locale (Google Sheets, marketplaces' flat files): a tab-separated
    "1,500" alone is ambiguous, as in a ',' CSV; the column's decimal commas still decide."""
    path = tmp_path / "p.tsv"
    path.write_text("SKU\tName\tPrice\tWeight (kg)\nA-1\tShirt\t1,500\t0,5\nA-2\tCoat\t3\t7,377\n", encoding="utf-8")
    result = read_spreadsheet(path)
    assert [(i.value, i.reason) for i in result.issues] == [("1,500", AMBIGUOUS_COMMA)]
    assert [(v.sku, v.weight) for p in result.products for v in p.variants] == [("A-2", Decimal("7.377"))]


@pytest.mark.parametrize("sep", [";", ","])
def test_a_point_beside_decimal_commas_groups_thousands(tmp_path: Path, sep: str) -> None:
    """A German export writes one thousand five hundred "1.500" beside "2,50" and "1.234,50": it was read as
    1.5.  A column whose own numbers show a decimal comma reads such a point as grouping thousands; a column
    without a decimal comma keeps reading 1.500 as one and a half (0.750 kg typed with a point stays 0.75)."""
    path = tmp_path / "de.csv"
    q = (lambda t: f'"{t}"') if sep == "," else (lambda t: t)
    rows = [["SKU", "Name", "Price", "Weight (kg)"], ["A-1", "Hemd", q("2,50"), "0.750"],
            ["A-2", "Mantel", "1.500", "1.250"], ["A-3", "Schal", q("1.234,50"), "2"]]
    path.write_text("".join(sep.join(r) + "\n" for r in rows), encoding="utf-8")
    result = read_spreadsheet(path)
    assert result.issues == []
    assert [(v.sku, v.price.amount, v.weight) for p in result.products for v in p.variants] == [
        ("A-1", Decimal("2.50"), Decimal("0.750")), ("A-2", Decimal(1500), Decimal("1.250")),
        ("A-3", Decimal("1234.50"), Decimal(2))]
    fast, row, _used = both(path)
    same(fast, row)
