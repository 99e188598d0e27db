"""Generated workbooks are inert and say what their suffix says (issue 12.6): error copies and ``export``
write formula-looking text as text, CSV outputs escape it and read back exactly, an export passes its own
validate and lists what its source lists, and no output overwrites its input."""

from __future__ import annotations

import csv
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from connector.cli import main
from connector.model import Money, Product, StockLevel, Variant
from connector.sources.spreadsheet import read_spreadsheet, write_error_copy
from connector.sources.spreadsheet.export import write_catalogue
from connector.sources.spreadsheet.inert import csv_cell, csv_text
from connector.sync.stock_policy import StockPolicy
from tests.test_spreadsheet_read import write_xlsx

HOSTILE_TEXTS = ["=HYPERLINK(\"http://x.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR",
                 "'=already", "''x", "'plain"]


def no_formulas(path: Path) -> None:
    """No formula anywhere in the xlsx at ``path``, read as Excel would (the sheet XML)."""
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name), name
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


def test_escape_round_trips() -> None:
    for text in [*HOSTILE_TEXTS, "", "plain", "l'eau", "'"]:
        assert csv_text(csv_cell(text)) == text
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("'=x") == "''=x" and csv_cell("l'eau") == "l'eau"
    assert csv_cell(12) == 12


def test_error_copy_of_a_csv_holds_no_formula(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    src.write_text('SKU,Name,Price\nA,"=HYPERLINK(""http://x.example"",""x"")",abc\n=B,Tea,2\n', encoding="utf-8")
    result = read_spreadsheet(src)
    assert result.issues
    out = tmp_path / "p.errors.xlsx"
    write_error_copy(src, result.issues, out)
    no_formulas(out)
    ws = openpyxl.load_workbook(out)["Products"]
    assert ws["B2"].value.startswith("=HYPERLINK") and ws["A3"].value == "=B"


def test_error_copy_of_an_xlsx_lists_values_as_text(tmp_path: Path) -> None:
    src = write_xlsx(tmp_path / "p.xlsx", {"Products": [["SKU", "Name", "Price"], ["A", "a", "=1+1"]]})
    wb = openpyxl.load_workbook(src)
    wb["Products"]["C2"].data_type = "s"  # a text cell "=1+1", as a merchant's pasted text
    wb.save(src)
    result = read_spreadsheet(src)
    assert [i.reason for i in result.issues] == ["text in a number column"]
    out = tmp_path / "p.errors.xlsx"
    write_error_copy(src, result.issues, out)
    no_formulas(out)
    assert openpyxl.load_workbook(out)["Errors"]["D2"].value == "=1+1"


def test_errors_copy_csv_is_a_csv_with_a_problems_column(tmp_path: Path, capsys) -> None:
    src = tmp_path / "p.csv"
    src.write_text("SKU,Name,Price\nA,=cmd,abc\nB,Tea,2\n", encoding="utf-8")
    out = tmp_path / "errors.csv"
    assert main(["validate", str(src), "--errors-copy", str(out)]) == 1
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == ["SKU", "Name", "Price", "Problems"]
    assert rows[1] == ["A", "'=cmd", "abc", "Price: text in a number column"]
    assert rows[2] == ["B", "Tea", "2", ""]


@pytest.mark.parametrize("name", ["errors.txt", "errors", "errors.ods", "errors.xlsm"])
def test_errors_copy_with_an_unknown_suffix_is_refused(tmp_path: Path, capsys, name: str) -> None:
    src = write_xlsx(tmp_path / "p.xlsx", {"Products": [["SKU", "Name", "Price"], ["A", "a", "x"]]})
    assert main(["validate", str(src), "--errors-copy", str(tmp_path / name)]) == 2
    assert ".xlsx or .csv" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / name).exists()


def test_output_over_the_input_is_refused(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write_xlsx(tmp_path / "p.xlsx", {"Products": [["SKU", "Name", "Price"], ["A", "a", "x"]]})
    before = src.read_bytes()
    link = tmp_path / "link.xlsx"
    link.symlink_to(src)
    monkeypatch.chdir(tmp_path)
    for out in (str(src), "p.xlsx", str(link), "./sub/../p.xlsx"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        assert main(["validate", str(src), "--errors-copy", out]) == 2
        assert "is the input file" in " ".join(capsys.readouterr().err.split())
        assert main(["export", "--source", "p.xlsx", "-o", out]) == 2
        assert "is the input file" in " ".join(capsys.readouterr().err.split())
    assert src.read_bytes() == before


def _catalogue() -> list[Product]:
    def v(sku: str, stock: dict[str, int], **kw) -> Variant:
        return Variant(sku=sku, price=Money(Decimal("12.50"), "MRU"), stock_known=True,
                       stock={k: StockLevel(k, available=q) for k, q in stock.items()}, **kw)
    return [
        Product(key="=EVIL", name="=HYPERLINK(\"http://x.example\",\"win\")", brand="+brand", description="-",
                variants=[v("=EVIL", {"Main": 10, "Shop": -3})]),
        Product(key="TEE", name="-T-shirt", description="@mention\tand tab", brand="@brand",
                variants=[v("TEE-M", {"Main": -5, "Shop": 3}, attributes={"Size": "=M"}),
                          v("TEE-L", {"Main": 4, "Shop": 1}, attributes={"Size": "'=L"})]),
    ]


def _view(products: list[Product]) -> list:
    policy = StockPolicy()
    return [(p.key, p.name, p.brand, p.description if p.description else None,
             [(v.sku, v.price, v.attributes, policy.listed(v)) for v in p.variants]) for p in products]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_is_inert_reads_back_and_lists_what_the_source_lists(tmp_path: Path, suffix: str, capsys) -> None:
    products = _catalogue()
    out = tmp_path / f"catalogue{suffix}"
    write_catalogue(products, out)
    back = read_spreadsheet(out)
    assert back.issues == []
    assert _view(back.products) == _view(products)  # negative stock netted: 7, 0 and 5 listed, as the source
    if suffix == ".xlsx":
        no_formulas(out)
    else:
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the file as UTF-8
        assert "'=HYPERLINK" in out.read_text(encoding="utf-8-sig")
    assert main(["validate", str(out)]) == 0  # an export passes its own validate
    again = tmp_path / f"again{suffix}"
    assert main(["export", "--source", str(out), "-o", str(again)]) == 0  # file -> file keeps everything
    assert _view(read_spreadsheet(again).products) == _view(products)


def test_export_csv_is_a_csv(tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    write_catalogue(_catalogue(), out)
    header = next(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert header[:3] == ["Parent SKU", "SKU*", "Name*"] and "Stock: Main" in header and "Stock: Shop" in header


def test_csv_fast_path_unescapes_like_the_row_reader(tmp_path: Path) -> None:
    from tests.fast_paths import both, same

    path = tmp_path / "esc.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["SKU", "Name", "Description", "Price"])
        for i, text in enumerate([*HOSTILE_TEXTS, " '=spaced", "l'eau", "'"]):
            w.writerow([csv_cell(f"-S{i}"), csv_cell(text), text, "1"])
    fast, rows, used = both(path)
    assert used
    same(fast, rows)
    assert [p.name for p in rows.products] == [t.strip() for t in [*HOSTILE_TEXTS, " '=spaced", "l'eau", "'"]]
    assert [p.key for p in rows.products][:2] == ["-S0", "-S1"]
