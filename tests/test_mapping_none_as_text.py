"""An empty value joined into text by an expression is an error for that row, never the text 'None'.

``name: {expr: "product.name ~ ' by ' ~ product.brand"}`` mapped a row whose Brand cell is empty to the name
``Alpha by None``, and a sync sent it to the marketplace, exit 0: customers saw 'None' in the product's name.
Jinja's ``~``, its ``join`` filter and its text filters (``string``, ``upper``, ``trim``...) write None as
'None'; in a mapping they now refuse it, naming the field, and the row fails (exit 1) until the expression
says what an empty value becomes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED
from connector.mapping import RecordMappingError, load_mapping
from connector.model import Product, Variant
from connector.sync.report import report_rows


def _mapping(tmp_path: Path, expr: str) -> Path:
    path = tmp_path / "my-elebne.yaml"
    path.write_text(f"extends: elebne\npayloads:\n  product:\n    fields:\n      name: {{expr: {json.dumps(expr)}}}\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("expr", ["product.name ~ ' by ' ~ product.brand", "[product.name, product.brand] | join(' ')",
                                  "product.name ~ ' ' ~ (product.brand | string)", "product.brand | upper",
                                  "product.brand | trim | lower | replace(' ', '-')"])
def test_an_empty_value_joined_as_text_fails_the_record_naming_the_field(tmp_path: Path, expr: str) -> None:
    mapping = load_mapping(_mapping(tmp_path, expr))
    with pytest.raises(RecordMappingError) as exc:
        mapping.apply(Product(key="A1", name="Alpha", brand=None))
    assert exc.value.field_path.endswith("name") and "'None'" in str(exc.value)
    assert "acme" in mapping.apply(Product(key="B1", name="Beta", brand="Acme"))["product"]["name"].lower()


def test_an_expression_that_says_what_an_empty_value_becomes_maps_it(tmp_path: Path) -> None:
    mapping = load_mapping(_mapping(tmp_path, "product.name ~ (' by ' ~ product.brand if product.brand else '')"))
    assert mapping.apply(Product(key="A1", name="Alpha", brand=None))["product"]["name"] == "Alpha"
    mapping = load_mapping(_mapping(tmp_path, "product.name ~ ' by ' ~ (product.brand or '')"))
    # (the shipped field's strip: extends keeps its ops)
    assert mapping.apply(Product(key="A1", name="Alpha", brand=None))["product"]["name"] == "Alpha by"


def test_a_dry_run_reports_the_row_with_the_empty_cell_as_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "products.csv"
    source.write_text("SKU,Name,Brand,Price,Stock: W\nA1,Alpha,,5,1\nB1,Beta,Acme,6,2\n", encoding="utf-8")
    report = tmp_path / "r.json"
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_none0000connector")
    code = main(["sync", "--source", str(source), "--target", "elebne", "--dry-run", "--no-progress",
                 "--mapping", str(_mapping(tmp_path, "product.name ~ ' by ' ~ product.brand")),
                 "--state", str(tmp_path / "s.sqlite"), "--report", str(report)])
    assert code == EXIT_FAILED
    rows = {r["sku"]: r for r in report_rows(json.loads(report.read_text("utf-8")))}
    assert rows["A1"]["status"] == "failed" and "'None'" in rows["A1"]["reason"]
    assert rows["B1"]["status"] != "failed"
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("op", ["-", "*", "+", "/", "//", "%", "**"])
def test_arithmetic_on_an_empty_value_names_it_in_words(tmp_path: Path, op: str) -> None:
    """``{expr: "(product.variants[0].weight * 1000) ~ ' g'"}`` (grams from the Weight column) for a row whose
    Weight cell is empty failed with Python's ``unsupported operand type(s) for *: 'NoneType' and 'int'``; it now
    says an empty value was computed with."""
    expr = f"(product.variants[0].weight {op} 2) ~ ' g'"
    path = tmp_path / "m.yaml"
    path.write_text(f"extends: elebne\npayloads:\n  product:\n    fields:\n"
                    f"      description: {{expr: {json.dumps(expr)}}}\n", encoding="utf-8")
    with pytest.raises(RecordMappingError) as exc:
        load_mapping(path).apply(Product(key="A1", name="Alpha", variants=[Variant(sku="A1", weight=None)]))
    said = str(exc.value)
    assert exc.value.field_path.endswith("description") and "of an empty value (None)" in said, said
    assert "NoneType" not in said
