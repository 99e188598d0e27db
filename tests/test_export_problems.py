"""`connector export` names what it left out: a source row refused for a data problem (an Odoo variant without
an Internal Reference, two variants sharing one, a workbook price that is no number) is not in the export and
the run exits 1; before, it printed only the counts, so the user saw exit 1 and no reason (found on a real
Odoo 18 with a variant without a default_code and a SKU on two variants)."""

from __future__ import annotations

from pathlib import Path

from connector.cli import main
from connector.sources.spreadsheet import read_spreadsheet


def test_export_prints_the_rows_it_left_out_and_why(tmp_path: Path, capsys) -> None:
    src = tmp_path / "p.csv"
    src.write_text("SKU,Name,Price,Stock: Main\nBAD-1,Broken price,abc,5\nOK-1,Fine,3.50,4\n", encoding="utf-8")
    out = tmp_path / "export.xlsx"
    assert main(["export", "--source", str(src), "--currency", "USD", "-o", str(out)]) == 1
    printed = " ".join(capsys.readouterr().out.split())
    assert "abc" in printed and "text in a number column" in printed  # the value and why, as validate says
    assert "1 row(s) not exported" in printed
    assert [v.sku for p in read_spreadsheet(out).products for v in p.variants] == ["OK-1"]


def test_a_clean_export_prints_no_problem_table(tmp_path: Path, capsys) -> None:
    src = tmp_path / "p.csv"
    src.write_text("SKU,Name,Price,Stock: Main\nOK-1,Fine,3.50,4\n", encoding="utf-8")
    assert main(["export", "--source", str(src), "--currency", "USD", "-o", str(tmp_path / "e.xlsx")]) == 0
    printed = capsys.readouterr().out
    assert "problem" not in printed and "not exported" not in printed
