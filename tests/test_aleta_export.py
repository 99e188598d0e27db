"""`connector export --source aleta`: the catalogue as a template-format workbook that reads back the same."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from connector.cli import main
from connector.model import ABSENT, Money, Product, StockLevel, Variant
from connector.sources.aleta import read_profile_source
from connector.sources.aleta.sandbox import SANDBOX_KEY, AletaSandbox, create_sandbox
from connector.sources.spreadsheet import read_spreadsheet
from connector.sources.spreadsheet.export import write_catalogue


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[AletaSandbox]:
    monkeypatch.setenv("ALETA_API_KEY", SANDBOX_KEY)
    with create_sandbox(variants=150, seed=8, locations=2) as server:
        yield server


def template_view(p: Product) -> dict[str, Any]:
    """What the template format holds of a product (stock: available per location)."""
    return {
        "key": p.key, "name": p.name, "brand": p.brand, "category": p.category_path, "images": p.images,
        "active": p.active, "description": p.description, "has_variants": p.has_variants,
        "variants": [{"sku": v.sku, "attributes": v.attributes, "barcode": v.barcode, "price": v.price,
                      "cost": v.cost, "weight": v.weight, "active": v.active,
                      "stock": {k: s.available for k, s in v.stock.items()} if v.stock_known else None,
                      "images": v.images if i else None} for i, v in enumerate(p.variants)],
    }


def test_aleta_catalogue_round_trips_through_the_template(sandbox, tmp_path: Path) -> None:
    source = read_profile_source({"type": "aleta", "base_url": sandbox.url, "currency": "EUR",
                                  "markup": {"percent": 25, "ending": "0.90"}}, None, True)
    path = tmp_path / "catalogue.xlsx"
    rows = write_catalogue(source.products, path)
    assert rows == sum(len(p.variants) for p in source.products)
    back = read_spreadsheet(path, currency="MRU")  # the file's Currency column wins over the default
    assert back.issues == [] and back.warnings == []
    assert [template_view(p) for p in back.products] == [template_view(p) for p in source.products]
    assert all(v.price.currency == "EUR" for p in back.products for v in p.variants)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Products", "Stock - Main Warehouse", "Stock - Nouakchott Store", "Instructions"]
    headers = [c.value for c in wb["Products"][1]]
    assert "Description" not in headers and "HS code" not in headers  # absent fields stay absent
    assert headers[:3] == ["Parent SKU", "SKU*", "Name*"] and "Attribute: Option 1" in headers
    barcode = headers.index("Barcode") + 1
    assert wb["Products"].cell(2, barcode).number_format == "@"  # text: leading zeros survive


def test_general_products_round_trip_french(tmp_path: Path) -> None:
    simple = Product(key="TEA-1", name="Thé vert", description="Bio", brand="Oasis", category_path=["Food", "Tea"],
                     images=["https://x.example/tea.jpg"], translations={"ar_001": {"name": "شاي"}},
                     variants=[Variant(sku="TEA-1", barcode="0012345678905", price=Money(Decimal("3.50"), "MRU"),
                                       images=["https://x.example/tea.jpg"], weight=Decimal("0.25"),
                                       stock={"Entrepôt: Nord": StockLevel("Entrepôt: Nord", available=-2)},
                                       stock_known=True)])
    path = tmp_path / "fr.xlsx"
    assert write_catalogue([simple], path, lang="fr") == 1
    [back] = read_spreadsheet(path).products
    assert back.key == "TEA-1" and not back.has_variants and back.description == "Bio"
    assert back.translations == {"ar_001": {"name": "شاي"}}
    assert back.variants[0].barcode == "0012345678905"  # leading zeros kept
    assert back.variants[0].stock["Entrepôt: Nord"].available == 0  # oversold is listed as 0, inline column
    assert openpyxl.load_workbook(path).sheetnames == ["Produits", "Instructions"]
    assert back.variants[0].hs_code is ABSENT


def test_cli_export_from_environment(sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("ALETA_BASE_URL", sandbox.url)
    monkeypatch.setenv("ALETA_PRICE_FIELD", "client_price")
    out = tmp_path / "catalogue.xlsx"
    assert main(["export", "--source", "aleta", "-o", str(out)]) == 0
    assert "row(s) in the template format" in capsys.readouterr().out
    back = read_spreadsheet(out)
    direct = read_profile_source({"type": "aleta", "base_url": sandbox.url, "price_field": "client_price"}, None, True)
    assert [v.price for p in back.products for v in p.variants] == [v.price for p in direct.products
                                                                    for v in p.variants]
    # the merchant edits the export: a second export to the same name does not replace their edits
    edited = out.read_bytes()
    assert main(["export", "--source", "aleta", "-o", str(out)]) == 2
    assert "the file exists" in capsys.readouterr().err and out.read_bytes() == edited
    assert main(["export", "--source", "aleta", "-o", str(out), "--force"]) == 0


def test_cli_sync_without_key_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("ALETA_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("ALETA_API_KEY", raising=False)
    monkeypatch.setenv("CONNECTOR_CREDENTIALS", str(tmp_path / "none.yaml"))
    code = main(["export", "--source", "aleta", "-o", str(tmp_path / "x.xlsx")])
    assert code == 2 and "ALETA_API_KEY" in capsys.readouterr().err
