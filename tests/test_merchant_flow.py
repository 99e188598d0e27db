"""The merchant's path as a person walks it: template -> fill in Excel -> validate -> error copy -> sync."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook, load_workbook

from connector.cli import main
from connector.sources.spreadsheet import read_spreadsheet


def fill(path: Path, sheet: str, rows: list[dict], start: int = 2) -> None:
    wb = load_workbook(path)
    ws = wb[sheet]
    heads = {str(c.value).rstrip("*").strip(): c.column for c in ws[1] if c.value}
    for r, row in enumerate(rows, start=start):
        for header, value in row.items():
            ws.cell(r, heads[header]).value = value
    wb.save(path)


def test_rows_typed_over_the_example_rows_do_not_inherit_the_example_product(tmp_path: Path) -> None:
    """A merchant types over the example rows but leaves the example's Parent SKU / attributes in place:
    the row must be reported, not silently turned into a variant of the example product."""
    path = tmp_path / "produits.xlsx"
    assert main(["template", "-o", str(path), "--lang", "fr"]) == 0
    # the French template's row 3 is an example variant row (Parent SKU EXEMPLE-TSHIRT, Taille M, Couleur Bleu)
    fill(path, "Produits", [{"SKU": "TH-VERT", "Nom": "Thé vert", "Prix": 8.5}], start=3)
    result = read_spreadsheet(path)
    assert "EXEMPLE-TSHIRT" not in {p.key for p in result.products}
    problems = [i for i in result.errors if i.row == 3]
    assert problems and "example" in problems[0].reason.lower()
    assert problems[0].column.startswith("SKU parent")


def test_template_filled_by_hand_validates_and_syncs(tmp_path: Path, elebne_sandbox, monkeypatch,
                                                     capsys) -> None:
    path = tmp_path / "products.xlsx"
    assert main(["template", "-o", str(path), "--locations", "Warehouse,Shop", "--no-example"]) == 0
    fill(path, "Products", [
        {"SKU": "TEA-1", "Name": "Green tea", "Price": 8.5, "Barcode": "4006381333931"},
        {"Parent SKU": "TS", "SKU": "TS-M", "Name": "T-shirt", "Price": 25, "Attribute: Size": "M"},
        {"Parent SKU": "TS", "SKU": "TS-L", "Price": 26, "Attribute: Size": "L"},
    ])
    fill(path, "Stock - Warehouse", [{"SKU": "TEA-1", "Quantity": 10}, {"SKU": "TS-M", "Quantity": 3}])
    fill(path, "Stock - Shop", [{"SKU": "TS-M", "Quantity": 1}, {"SKU": "TS-L", "Quantity": 2}])
    assert main(["validate", str(path)]) == 0
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_demo0000connector")
    args = ["sync", "--source", str(path), "--target", "elebne", "--base-url", elebne_sandbox.base_url,
            "--state", str(tmp_path / "s.sqlite"), "--no-progress"]
    assert main(args) == 0
    remote = elebne_sandbox.products()
    assert remote["TEA-1"]["quantity"] == 10 and remote["TEA-1"]["price"] == 850
    assert {v["label"]: v["quantity"] for v in remote["TS"]["variants"]} == {"M": 4, "L": 2}
    mark = elebne_sandbox.last_id()
    assert main(args) == 0
    assert elebne_sandbox.requests(since=mark) == []


def test_arabic_stock_rows_are_accounted_as_stock(tmp_path: Path, elebne_sandbox, monkeypatch) -> None:
    """A stock row's outcome is its SKU's stock operation, whatever the language of the sheet's name."""
    path = tmp_path / "ar.xlsx"
    wb = Workbook()
    products = wb.active
    products.title = "المنتجات"
    products.append(["SKU", "Name", "Price"])
    products.append(["TEA-1", "شاي", 5])
    stock = wb.create_sheet("المخزون - المستودع")
    stock.append(["SKU", "Quantity"])
    stock.append(["TEA-1", 7])
    wb.save(path)
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_demo0000connector")
    report = tmp_path / "r.json"
    args = ["sync", "--source", str(path), "--target", "elebne", "--base-url", elebne_sandbox.base_url,
            "--state", str(tmp_path / "s.sqlite"), "--report", str(report), "--no-progress"]
    assert main(args) == 0
    fill(path, "المنتجات", [{"Name": "شاي أخضر"}])  # only the name changes, not the stock
    assert main(args) == 0
    rows = {(r["sheet"], r["row"]): r for r in json.loads(report.read_text())["rows"]}
    assert rows[("المنتجات", 2)]["status"] == "pushed" and rows[("المنتجات", 2)]["actions"] == ["update"]
    assert rows[("المخزون - المستودع", 2)]["status"] == "unchanged"
    assert elebne_sandbox.products()["TEA-1"]["name"] == "شاي أخضر"
