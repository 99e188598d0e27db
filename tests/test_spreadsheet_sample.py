"""The bundled demo catalogue and the benchmark generator read without errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from bench.spreadsheet_data import generate
from connector.sources.spreadsheet import read_spreadsheet, write_sample
from connector.sources.spreadsheet.cells import barcode_problem

ROOT = Path(__file__).resolve().parents[1]


def check_sample(path: Path) -> None:
    result = read_spreadsheet(path)
    assert result.issues == []
    assert result.warnings == []
    assert 10 <= len(result.products) <= 14
    with_variants = [p for p in result.products if p.has_variants]
    assert len(with_variants) >= 3
    for p in with_variants:
        assert all(set(v.attributes) == {"Size", "Color"} for v in p.variants)
    assert len(result.products) - len(with_variants) >= 5
    variants = [v for p in result.products for v in p.variants]
    assert all(v.barcode and len(v.barcode) == 13 and barcode_problem(v.barcode) is None for v in variants)
    assert all(v.price.currency == "MRU" for v in variants)
    assert {loc for v in variants for loc in v.stock} == {"Warehouse", "Shop"}
    assert all(v.stock_known for v in variants)
    assert any("fr_FR" in p.translations for p in result.products)
    assert any("ar_001" in p.translations for p in result.products)
    assert any("fr_FR" not in p.translations for p in result.products)
    assert all(len(p.category_path) >= 2 and p.brand for p in result.products)
    assert all(u.startswith("https://cdn.example.com/") for p in result.products for u in p.images)
    assert any(not p.active for p in result.products)


def test_write_sample(tmp_path):
    write_sample(tmp_path / "sample.xlsx")
    check_sample(tmp_path / "sample.xlsx")


def test_shipped_sample():
    check_sample(ROOT / "templates" / "sample_catalogue.xlsx")


@pytest.mark.parametrize("fmt", ["xlsx", "xlsx-inline", "csv"])
def test_benchmark_generator_reads_clean(tmp_path, fmt):
    path = generate(tmp_path / f"bench.{fmt.replace('-inline', '')}", 300, fmt)
    result = read_spreadsheet(path)
    assert result.issues == [] and result.warnings == []
    assert sum(len(p.variants) for p in result.products) == 300
    assert any(p.has_variants for p in result.products)
    assert all(v.stock_known for p in result.products for v in p.variants)


def test_benchmark_workbook_forms_hold_the_same_catalogue(tmp_path):
    """The Excel-like workbook (shared strings, empty cells absent) and openpyxl's inline form read alike."""
    excel = read_spreadsheet(generate(tmp_path / "a.xlsx", 300, "xlsx"))
    inline = read_spreadsheet(generate(tmp_path / "b.xlsx", 300, "xlsx-inline"))
    assert excel.products == inline.products and excel.rows == inline.rows
    with zipfile.ZipFile(tmp_path / "a.xlsx") as zf:
        assert "xl/sharedStrings.xml" in zf.namelist()
