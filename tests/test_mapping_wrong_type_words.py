"""A value of the wrong type that a mapping gives is said to be the mapping's, with the value it gives.

``price: {copy: product.price, ops: [amount, {multiply: "1.2"}, {round: 0}]}`` for Elebne (the ops replaced, so
without the shipped ``minor_units: 2``) gives the decimal 420 for a price of 350; Elebne takes an integer in minor
units, and every row was refused with ``Price '350' must be a whole number``: the merchant's 350 is a whole
number, the mapped 420 is nowhere, and nothing says the mapping is at fault.  The reason now names the value the
mapping gives and its kind, and says to check the mapping.  (That mapping, in whole units, is now refused whole
before the run: tests/test_mapping_price_unit.py; the cases here are in minor units, of another kind.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import EXIT_FAILED
from connector.sync.report import report_rows


@pytest.mark.parametrize("ops, said", [
    ('[{minor_units: 2}, {multiply: "1.005"}]', "not the decimal number 35175.000 the mapping gives"),
    ("[{minor_units: 2}, str]", "not the text '35000' the mapping gives")])
def test_a_mapped_value_of_the_wrong_type_names_the_mapping_and_its_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ops: str, said: str) -> None:
    source = tmp_path / "products.csv"
    source.write_text("SKU,Name,Price,Stock: W\nTEAPOT,Teapot,350,1\n", encoding="utf-8")
    mapping = tmp_path / "my-elebne.yaml"
    mapping.write_text(f"extends: elebne\npayloads:\n  product:\n    fields:\n"
                       f"      price: {{copy: product.price, ops: {ops}}}\n", encoding="utf-8")
    report = tmp_path / "r.json"
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_words0000connector")
    code = main(["sync", "--source", str(source), "--target", "elebne", "--dry-run", "--no-progress",
                 "--mapping", str(mapping), "--state", str(tmp_path / "s.sqlite"), "--report", str(report)])
    assert code == EXIT_FAILED
    [row] = [r for r in report_rows(json.loads(report.read_text("utf-8"))) if r["sheet"] == "Products"]
    assert row["status"] == "failed" and "must be a whole number" in row["reason"]
    assert said in row["reason"] and "check the mapping" in row["reason"], row["reason"]
