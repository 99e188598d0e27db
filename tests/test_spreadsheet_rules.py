"""What a dry run accepts, the marketplace accepts -- the spreadsheet side (issue 12.4): numbers beyond any
marketplace's range, merged cells over data, SKUs with invisible characters and a CSV that mixes encodings
are each reported per cell in the merchant's words, and the rows are not pushed."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from connector.cli import main
from connector.sources.spreadsheet import read_spreadsheet
from tests.test_spreadsheet_read import write_xlsx

INTERNAL = ("InvalidOperation", "String should have", "Traceback", "Error:", "Exception", "ValueError",
            "decimal.", "codec")


def cells(result) -> list[tuple]:
    return [(i.sheet, i.row, i.column, i.reason) for i in result.issues]


def good_skus(result) -> set[str]:
    return {v.sku for p in result.products for v in p.variants}


def products_file(tmp_path: Path, suffix: str, rows: list[list[str]], typed: list[list]) -> Path:
    """The Products sheet as a CSV of ``rows`` (texts) or an .xlsx of ``typed`` (its cells typed)."""
    if suffix == ".csv":
        path = tmp_path / "p.csv"
        path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
        return path
    return write_xlsx(tmp_path / "p.xlsx", {"Products": typed})


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_numbers_beyond_range_are_reported_per_cell(tmp_path: Path, suffix: str) -> None:
    rows = [["SKU", "Name", "Price", "Cost", "Stock: Main"],
            ["A", "a", "1e30", "2", "3"],
            ["B", "b", "1E+999999", "1E+999999", "4"],
            ["C", "c", "3", "1", "99999999999999999999"],
            ["D", "d", "999999999999.99", "0", "2147483647"]]
    typed = [rows[0], *[[r[0], r[1], r[2] if r[0] == "B" else float(r[2]), r[3], float(r[4])] for r in rows[1:]]]
    result = read_spreadsheet(products_file(tmp_path, suffix, rows, typed))
    too_big_amount = "number too large (at most 999,999,999,999.99)"
    expected = [("Products", 2, "Price", too_big_amount), ("Products", 3, "Price", too_big_amount),
                ("Products", 4, "Stock: Main", "number too large (at most 2,147,483,647)")]
    assert cells(result) == expected
    assert good_skus(result) == {"D"}


def test_merged_cells_over_data_are_reported_with_the_range(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Products"
    ws.append(["Catalogue 2026"])  # a merged title above the header is not data
    ws.append(["Parent SKU", "SKU", "Name", "Price", "Attribute: Size"])
    ws.append(["TEE", "TEE-M", "Tee", 10, "M"])
    ws.append([None, "TEE-L", None, 11, "L"])
    ws.append([None, "SOAP", "Soap", 3, None])
    ws.merge_cells("A1:E1")
    ws.merge_cells("A3:A4")
    stock = wb.create_sheet("Stock - Main")
    stock.append(["SKU", "Quantity"])
    stock.append(["SOAP", 4])
    stock.append([None, None])
    stock.merge_cells("B2:B3")
    wb.save(path)
    result = read_spreadsheet(path)
    assert cells(result) == [
        ("Products", 3, "Parent SKU", "merged cells A3:A4: unmerge them and type the value in every cell"),
        ("Products", 4, "Parent SKU", "merged cells A3:A4: unmerge them and type the value in every cell"),
        ("Stock - Main", 2, "Quantity", "merged cells B2:B3: unmerge them and type the value in every cell"),
    ]
    assert good_skus(result) == {"SOAP"}


def test_skus_with_invisible_characters_are_reported(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "z.xlsx", {
        "Products": [["Parent SKU", "SKU", "Name", "Price"],
                     [None, "AB-1", "a", 1],
                     [None, "AB\u200b-1", "a twin", 1],  # zero-width space: looks like AB-1
                     ["\u200fTEE", "TEE-M", "t", 2]],  # right-to-left mark
        "Stock - Main": [["SKU", "Quantity"], ["AB-1", 3], ["AB-1\u2066", 5]],
    })
    result = read_spreadsheet(path)
    assert cells(result) == [
        ("Products", 3, "SKU", "invisible character (zero width space, U+200B) at position 3: delete it and type "
                               "the value again"),
        ("Products", 4, "Parent SKU", "invisible character (right-to-left mark, U+200F) at position 1: delete it "
                                      "and type the value again"),
        ("Stock - Main", 3, "SKU", "invisible character (left-to-right isolate, U+2066) at position 5: delete it "
                                   "and type the value again"),
    ]
    assert good_skus(result) == {"AB-1"}
    [ab] = result.products
    assert ab.variants[0].stock["Main"].available == 3


def test_skus_with_control_characters_are_reported(tmp_path: Path) -> None:
    """Control characters (a DOS end-of-file mark, a bell, DEL, a C1 control) show as nothing in a cell: such a SKU
    was a second product beside the one typed plainly.  Fast path and row reader alike."""
    from tests.fast_paths import both, same

    path = tmp_path / "c.csv"
    path.write_bytes("SKU,Name,Price\nA1,a,1\nA\x1a1,b,1\nB\x071,c,2\nC1\x7f,d,3\nD\x851,e,4\nE\t1,f,5\n".encode())
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    assert cells(fast) == [("Products", r, "SKU", f"invisible character (control character, U+{code}) at position "
                                                  f"{at}: delete it and type the value again")
                           for r, code, at in ((3, "001A", 2), (4, "0007", 2), (5, "007F", 3), (6, "0085", 2))]
    assert good_skus(fast) == {"A1", "E\t1"}


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_skus_with_look_alike_characters_are_reported(tmp_path: Path, suffix: str) -> None:
    """A no-break space, full-width letters or an Arabic presentation form look like the ordinary character:
    such a SKU would be a second product beside the one typed plainly.  Accents and Arabic letters are SKUs."""
    rows = [["Parent SKU", "SKU", "Name", "Price"],
            ["", "AB 1", "a", "1"],
            ["", "AB\u00a02", "no-break space", "1"],
            ["", "\uff21\uff22-3", "full width", "1"],
            ["\ufee0\ufe8e\ufef3", "TEA-1", "presentation forms", "1"],
            ["", "CAF\u00c9-1", "accented", "1"],
            ["", "\u0634\u0627\u064a-1", "arabic letters", "1"]]
    result = read_spreadsheet(products_file(tmp_path, suffix, rows, [[c or None for c in r] for r in rows]))
    assert cells(result) == [
        ("Products", 3, "SKU", "look-alike character (no-break space, U+00A0) at position 3: it looks like a plain "
                               "space but is another character; type a plain space instead"),
        ("Products", 4, "SKU", "look-alike character (fullwidth latin capital letter a, U+FF21) at position 1: it "
                               "looks like 'A' but is another character; type 'A' instead"),
        ("Products", 5, "Parent SKU", "look-alike character (arabic letter lam medial form, U+FEE0) at position 1: "
                                      "it looks like '\u0644' but is another character; type '\u0644' instead"),
    ]
    assert good_skus(result) == {"AB 1", "CAF\u00c9-1", "\u0634\u0627\u064a-1"}


def test_a_character_of_those_blocks_with_no_ordinary_form_is_a_sku_character(tmp_path: Path) -> None:
    """The Arabic presentation blocks also hold symbols and ornate parentheses that fold to nothing else (no
    compatibility form): the reader refused such a SKU saying "it looks like '\ufd3e' ... type '\ufd3e' instead",
    a row that could never be fixed (and, while refused, every deletion held back); the ogham space mark still
    reads as a space to type plainly."""
    rows = [["SKU", "Name", "Price"], ["GIFT\ufd3e1\ufd3f", "ornate", "1"], ["DOT\ufbb2", "symbol", "1"],
            ["AB\u16802", "ogham space", "1"]]
    result = read_spreadsheet(products_file(tmp_path, ".csv", rows, rows))
    assert cells(result) == [
        ("Products", 4, "SKU", "look-alike character (ogham space mark, U+1680) at position 3: it looks like a plain "
                               "space but is another character; type a plain space instead")]
    assert good_skus(result) == {"GIFT\ufd3e1\ufd3f", "DOT\ufbb2"}


def test_a_latin1_line_in_a_utf8_csv_is_reported_with_its_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "mixed.csv"
    # (C's description is on two lines: a name may not be, a description may)
    path.write_bytes("SKU,Name,Price,Description\nA,Thé vert,12,\n".encode() + b"B,Caf\xe9 noir,3,\n"
                     + b'C,Tea,4,"two\nlines"\n' + b"D,cr\xe8me,5,\n")
    result = read_spreadsheet(path)
    assert [(i.row, i.column, i.value, i.reason) for i in result.issues] == [
        (3, "Name", "Café noir", "line 3 is not in UTF-8 like the rest of the file (pasted from another program?): "
                                 "check this text and save the file again as UTF-8"),
        (5, "Name", "crème", "line 6 is not in UTF-8 like the rest of the file (pasted from another program?): "
                             "check this text and save the file again as UTF-8"),
    ]
    assert good_skus(result) == {"A", "C"}
    assert main(["validate", str(path), "--json"]) == 1
    assert "line 3 is not in UTF-8" in capsys.readouterr().out


def test_validate_output_holds_no_internal_text(tmp_path: Path, capsys) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("SKU,Name,Price,Weight (kg),Stock: Main,Active,Currency,Barcode\n"
                    "A,,NaN,Infinity,1.5,maybe,EURO,12ab\n"
                    ",x,1e99999999,sNaN,-0,1,eur,\n"
                    "B,b,1,2,1e3,,MRU,4006381333931\n", encoding="utf-8")
    assert main(["validate", str(path), "--json"]) == 1
    out = capsys.readouterr().out
    reasons = [i["reason"] for i in json.loads(out)["issues"]]
    assert reasons and not [r for r in reasons if any(x in r for x in INTERNAL)], reasons
