"""Control characters in text cells other than the SKU (Name, Description, Brand, Category, attributes, translated
texts): a DOS end-of-file mark, a NUL, DEL, a C1 control (Windows-1252 punctuation read as Latin-1) was passed to
the marketplace as it was.  Now such a cell is a bad cell, reported with its sheet, row, column, the value with
the character shown, why and what to do, and its row is skipped; a description keeps its line breaks and tabs, a
name, a brand, a category or an attribute value may hold neither."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main
from connector.sources.spreadsheet import read_spreadsheet
from tests.workbooks import CATALOGUE, write_workbook


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "c.csv"
    path.write_bytes(("SKU,Name,Description,Brand,Category,Price,Attribute: Size,Name (fr)\r\n"
                      + "".join(r + "\r\n" for r in rows)).encode("utf-8"))
    return path


@pytest.mark.parametrize(("row", "column", "code"), [
    ('A-2,Tea\x1a,,,,6,,', "Name", "U+001A"),
    ('A-2,Tea,"Green\x01 tea",,,6,,', "Description", "U+0001"),
    ('A-2,Tea,,Sahel\x7f,,6,,', "Brand", "U+007F"),
    ('A-2,Tea,,,Food > \x1bTea,6,,', "Category", "U+001B"),
    ('A-2,Tea,,,,6,M\x02,', "Attribute: Size", "U+0002"),
    ('A-2,Tea,,,,6,,Th\x9c vert', "Name (fr)", "U+009C"),
    ('A-2,Tea,"Green tea\x0cfrom China",,,6,,', "Description", "U+000C"),
    ('A-2,"Green\ttea",,,,6,,', "Name", "U+0009"),
    ('A-2,"Green\ntea",,,,6,,', "Name", "U+000A"),
    ('A-2,Tea,,"Sa\r\nhel",,6,,', "Brand", "U+000D"),
], ids=["eof-name", "soh-description", "del-brand", "esc-category", "stx-attribute", "c1-translation",
        "form-feed-description", "tab-name", "newline-name", "return-brand"])
def test_a_control_character_in_a_text_cell_is_a_bad_cell(tmp_path: Path, row: str, column: str, code: str) -> None:
    result = read_spreadsheet(_csv(tmp_path, ["A-1,Soap,Olive,Alep,Beauty,5,S,Savon", row]))
    found = [i for i in result.issues if code in i.reason]
    assert [(i.sheet, i.row, i.column, i.sku) for i in found] == [("Products", 3, column, "A-2")], result.issues
    issue = found[0]
    assert f"<{code}>" in issue.shown_value, issue.shown_value  # the character shown, not invisible
    assert "position" in issue.reason and ("type" in issue.reason or "save the file" in issue.reason), issue.reason
    assert [p.key for p in result.products] == ["A-1"]  # the row is skipped, the others go on


def test_a_description_keeps_its_line_breaks_and_tabs(tmp_path: Path) -> None:
    result = read_spreadsheet(_csv(tmp_path, ['A-1,Soap,"Olive\r\nand\tlaurel\nsoap",Alep,Beauty,5,S,Savon']))
    assert result.issues == []
    assert result.products[0].description == "Olive\r\nand\tlaurel\nsoap"


def test_a_workbook_cell_with_a_c1_control_is_reported_with_what_to_do(tmp_path: Path) -> None:
    """Windows-1252 curly quotes read as Latin-1 (U+0093, U+0094) in an Excel Name cell."""
    rows = [dict(r) for r in CATALOGUE]
    rows[0]["Name"] = "Savon \x93Alep\x94"
    wb = write_workbook(tmp_path / "p.xlsx", rows)
    result = read_spreadsheet(wb)
    found = [(i.sheet, i.row, i.column, i.shown_value) for i in result.issues]
    assert found == [("Products", 2, "Name", "Savon <U+0093>Alep<U+0094>")], result.issues
    assert "UTF-8" in result.issues[0].reason
    assert "SOAP-01" not in [p.key for p in result.products]


def test_validate_and_a_dry_run_list_the_bad_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = _csv(tmp_path, ["A-1,Soap,Olive,Alep,Beauty,5,S,Savon", "A-2,Tea\x1a,,,,6,,"])
    assert main(["validate", str(path), "--json"]) == 1
    listed = json.loads(capsys.readouterr().out)
    bad = [i for i in listed["issues"] if "U+001A" in i["reason"]]
    assert [(i["sheet"], i["row"], i["column"], i["value"]) for i in bad] == [("Products", 3, "Name", "Tea<U+001A>")]
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_unused")
    report = tmp_path / "report.json"
    code = main(["sync", "--source", str(path), "--target", "elebne", "--dry-run", "--state",
                 str(tmp_path / "state.sqlite"), "--report", str(report), "--no-progress"])
    assert code == 1
    rows = {r["sku"]: r for r in json.loads(report.read_text(encoding="utf-8"))["rows"]}
    assert rows["A-2"]["status"] == "skipped" and "U+001A" in str(rows["A-2"]["reason"]), rows["A-2"]
    assert rows["A-1"]["status"] == "pushed", rows["A-1"]
