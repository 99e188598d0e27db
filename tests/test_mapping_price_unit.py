"""A mapping whose prices are not in the unit the marketplace reads is refused before anything is sent.

Elebne reads a price as a whole number of minor units (35000 is 350.00).  An integrator who replaced the shipped
price ops with a markup of their own and left ``minor_units`` out (``[amount, {multiply: "1.1"}, {round: 0}, int]``)
had every new product created at a hundredth of its price (385 for 350.00: 3.85), exit 0: the price guard compares
a price with the one last sent, and a new product has none.  Now ``mapping check`` and a run with that mapping
(``--dry-run`` too) refuse it, exit 2, naming the file and the field and what to write instead
(``connector/sync/price_unit.py``); a markup in minor units is taken, and marketplaces that read decimal prices
(Elryan, EcomLinx) are not checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import EXIT_OK, EXIT_USAGE
from connector.mapping.loader import shipped_mapping
from tests.conftest import ELEBNE_KEY, SandboxHandle

pytestmark = pytest.mark.sandbox

WHOLE_UNITS = '[amount, {multiply: "1.1"}, {round: 0}, int]'  # a markup, minor units left out
TWICE = "[{minor_units: 2}, {multiply: 100}]"  # minor units applied twice: a hundred times the price


def _mapping(tmp_path: Path, ops: str, variants: bool = False) -> Path:
    path = tmp_path / "my-elebne.yaml"
    field = f"      price: {{copy: product.price, ops: {ops}}}\n"
    text = "extends: elebne\npayloads:\n  product:\n    fields:\n" + field
    if variants:  # the variants' price alone
        text = ("extends: elebne\npayloads:\n  product:\n    children:\n      variants:\n        fields:\n"
                f"          price: {{copy: variant.price, ops: {ops}}}\n")
    path.write_text(text, encoding="utf-8")
    return path


def _sync(sandbox: SandboxHandle, tmp_path: Path, mapping: Path, *extra: str) -> int:
    (tmp_path / "products.csv").write_text("SKU,Name,Price,Stock: Warehouse\nTEA-1,Tea,350,4\n", encoding="utf-8")
    return main(["sync", "--source", str(tmp_path / "products.csv"), "--target", "elebne", "--base-url",
                 sandbox.base_url, "--mapping", str(mapping), "--state", str(tmp_path / "s.sqlite"),
                 "--no-progress", *extra])


@pytest.mark.parametrize("ops, variants, field, said", [
    (WHOLE_UNITS, False, "payloads.product.fields.price", "about 1/91 of its price"),
    (WHOLE_UNITS, True, "payloads.product.children.variants.fields.price", "about 1/91 of its price"),
    (TWICE, False, "payloads.product.fields.price", "about 100 times its price")])
def test_a_price_in_another_unit_is_refused_by_mapping_check_and_by_the_run(
        elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], ops: str, variants: bool, field: str, said: str) -> None:
    mapping = _mapping(tmp_path, ops, variants)
    assert main(["mapping", "check", str(mapping)]) == EXIT_USAGE
    err = " ".join(capsys.readouterr().err.split())  # (the console wraps long lines)
    assert f"my-elebne.yaml: {field}:" in err and said in err and "minor_units" in err, err
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    mark = elebne_sandbox.last_id()
    for extra in (["--dry-run"], []):
        assert _sync(elebne_sandbox, tmp_path, mapping, *extra) == EXIT_USAGE
        err = " ".join(capsys.readouterr().err.split())
        assert field in err and said in err and "Traceback" not in err, err
    assert elebne_sandbox.writes(since=mark) == [] and elebne_sandbox.products() == {}


def test_a_markup_in_minor_units_is_taken(elebne_sandbox: SandboxHandle, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = _mapping(tmp_path, '[{minor_units: 2}, {multiply: "1.1"}, {round: 0}, int]')
    assert main(["mapping", "check", str(mapping)]) == EXIT_OK
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    assert _sync(elebne_sandbox, tmp_path, mapping) == EXIT_OK
    assert elebne_sandbox.products()["TEA-1"]["price"] == 38500


@pytest.mark.parametrize("marketplace", ["elebne", "elryan", "ecomlinx"])
def test_the_shipped_mappings_pass(marketplace: str) -> None:
    assert main(["mapping", "check", str(shipped_mapping(marketplace))]) == EXIT_OK


def test_the_account_currency_s_minor_units_are_the_unit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A shop in a currency without minor units writes its prices as they are: checked against that unit (where
    the shipped mapping's minor_units: 2 would list every product at a hundred times its price)."""
    mapping = tmp_path / "my-elebne.yaml"
    mapping.write_text("extends: elebne\npayloads:\n  product:\n    fields:\n"
                       "      price: {copy: product.price, ops: [{minor_units: 0}]}\n    children:\n      variants:\n"
                       "        fields:\n          price: {copy: variant.price, ops: [{minor_units: 0}]}\n",
                       encoding="utf-8")
    assert main(["mapping", "check", str(mapping)]) == EXIT_USAGE  # against the default, 2 digits: a hundredth
    assert "about 1/100 of its price" in " ".join(capsys.readouterr().err.split())
    assert main(["mapping", "check", str(mapping), "--minor-units", "0"]) == EXIT_OK
    capsys.readouterr()
    assert main(["mapping", "check", str(shipped_mapping("elebne")), "--minor-units", "0"]) == EXIT_USAGE
    assert "about 100 times its price" in " ".join(capsys.readouterr().err.split())
