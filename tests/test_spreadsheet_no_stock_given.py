"""A SKU on sale with no quantity in a workbook that gives stock (its stock-sheet row deleted, its Stock cell left
empty) has its stock unknown: none is sent and the marketplace keeps listing what it had.  Before, nothing said
so: a row deleted because the product sold out left the last units on sale, with no word in `validate` or the
run's report.  Now one warning names them (the exit code is unchanged: nothing was sent)."""

from __future__ import annotations

from pathlib import Path

from connector.sources.spreadsheet import read_spreadsheet
from tests.workbooks import CATALOGUE, HEADERS, STOCK, write_workbook

WARNING = "stock of {n} SKU(s) on sale not given: no quantity on any {where}, so none is sent"


def _stock_warnings(path: Path) -> list[str]:
    return [w for w in read_spreadsheet(path).warnings if "on sale not given" in w]


def test_a_sku_with_no_stock_row_is_named(tmp_path: Path) -> None:
    stock = {loc: {k: q for k, q in levels.items() if k != "TEE-L-RD"} for loc, levels in STOCK.items()}
    warnings = _stock_warnings(write_workbook(tmp_path / "a.xlsx", CATALOGUE, stock))
    assert len(warnings) == 1 and warnings[0].startswith(WARNING.format(n=1, where="stock sheet"))
    assert warnings[0].endswith("(give each a quantity, 0 if sold out): TEE-L-RD")


def test_every_sku_with_stock_or_a_workbook_without_stock_says_nothing(tmp_path: Path) -> None:
    assert _stock_warnings(write_workbook(tmp_path / "a.xlsx", CATALOGUE, STOCK)) == []
    assert _stock_warnings(write_workbook(tmp_path / "b.xlsx", CATALOGUE, {})) == []  # (no stock sheet)


def test_an_archived_sku_needs_no_quantity(tmp_path: Path) -> None:
    rows = [{**r, "Active": "No" if r["SKU"] == "TEE-L-RD" else "Yes"} for r in CATALOGUE]
    stock = {loc: {k: q for k, q in levels.items() if k != "TEE-L-RD"} for loc, levels in STOCK.items()}
    assert _stock_warnings(write_workbook(tmp_path / "a.xlsx", rows, stock, [*HEADERS, "Active"])) == []


def test_a_refused_stock_row_is_said_once_by_its_own_warning(tmp_path: Path) -> None:
    stock = {"Warehouse": {**STOCK["Warehouse"], "TEA-500": "lots"}, "Shop": STOCK["Shop"]}
    result = read_spreadsheet(write_workbook(tmp_path / "a.xlsx", CATALOGUE, stock))
    assert [w for w in result.warnings if "on sale not given" in w] == []
    assert any("a stock row of theirs was refused" in w and "TEA-500" in w for w in result.warnings)


def test_an_empty_stock_cell_of_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("SKU,Name,Price,Stock: Shop\nA-1,Alpha,10,5\nB-1,Beta,12,\nC-1,Gamma,9,0\n", encoding="utf-8")
    warnings = _stock_warnings(path)
    assert len(warnings) == 1 and warnings[0].startswith(WARNING.format(n=1, where="Stock column"))
    assert warnings[0].endswith(": B-1")


def test_stock_columns_that_give_every_row_a_quantity_say_nothing(tmp_path: Path) -> None:
    # (the reader then knows without looking at each variant; a row refused for its own reason changes nothing)
    path = tmp_path / "a.csv"
    path.write_text("SKU,Name,Price,Stock: Shop,Stock: Depot\nA-1,Alpha,10,5,\nB-1,Beta,12,0,3\nC-1,,9,1,1\n",
                    encoding="utf-8")
    result = read_spreadsheet(path)
    assert [w for w in result.warnings if "on sale not given" in w] == []
    assert [v.sku for p in result.products for v in p.variants if v.stock_known] == ["A-1", "B-1"]
