"""A misspelt field in a mapping's path is refused when the mapping loads, naming file, line and field, with the
field it most likely meant.

``product.nmae`` was already refused (the record's own fields are known), but a field of a value the record holds
was not: ``product.price.amout``, ``variant.ref.idnet`` or ``variant.stock.Warehouse.availble`` loaded, and every
row of the sync then failed (an expression), or every product went without that field (a copy path: an absent
value is "don't touch").  The values of known class (``Money``, ``SourceRef``, ``StockLevel`` under a stock
location) are now checked too, in copy paths and expressions; free-form values (``product.extra.*``, attributes,
translations, a stock location's name) are not, and every shipped mapping still loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import EXIT_USAGE
from connector.mapping import load_mapping
from connector.shipped import sample_workbook

# a marketplace no plugin is: nothing but the mapping itself is checked (Elebne's would refuse a price in a name)
HEAD = "marketplace: test\npayloads:\n  p:\n    key: id\n    fields:\n      id: product.key\n"
PRODUCT_FIELD = HEAD + "      x: {field}\n"  # the field is on line 7
VARIANT_FIELD = HEAD + ("    children:\n      variants:\n        source: product.variants\n        as: variant\n"
                        "        match_key: sku\n        fields:\n          sku: variant.sku\n"
                        "          x: {field}\n")  # line 14


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str, Path]:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["mapping", "check", str(path)])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split()), path


REFUSED = {
    "money field": (PRODUCT_FIELD, "{copy: product.price.amout}", 7, "has no field 'amout'", "'amount'"),
    "variant money": (VARIANT_FIELD, "{copy: variant.cost.curency}", 14, "has no field 'curency'", "'currency'"),
    "source ref": (VARIANT_FIELD, "{copy: variant.ref.idnet}", 14, "has no field 'idnet'", "'ident'"),
    "stock level": (VARIANT_FIELD, "{copy: variant.stock.Warehouse.availble}", 14, "has no field 'availble'",
                    "'available'"),
    "expression": (PRODUCT_FIELD, '{expr: "product.price.amout * 2"}', 7, "has no field 'amout'", "'amount'"),
    "expression in a child": (VARIANT_FIELD, '{expr: "variant.price.currrency | lower"}', 14,
                              "has no field 'currrency'", "'currency'"),
    "record field": (PRODUCT_FIELD, "{copy: product.nmae}", 7, "product has no field 'nmae'", "'name'"),
    "variant field": (VARIANT_FIELD, "{copy: variant.pirce}", 14, "variant has no field 'pirce'", "'price'"),
    "record field in an expression": (PRODUCT_FIELD, '{expr: "product.nmae | upper"}', 7,
                                      "product has no field 'nmae'", "'name'"),
}


@pytest.mark.parametrize("head,field,line,said,meant", list(REFUSED.values()), ids=list(REFUSED))
def test_a_misspelt_field_is_refused_naming_file_line_and_the_field_meant(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], head: str, field: str, line: int, said: str,
        meant: str) -> None:
    code, text, path = _check(tmp_path, capsys, head.format(field=field))
    assert code == EXIT_USAGE, text
    assert f"{path}:{line}:" in text and said in text, text
    assert f"did you mean {meant}?" in text, text
    assert "Traceback" not in text


def test_no_suggestion_when_nothing_is_close(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = _check(tmp_path, capsys, PRODUCT_FIELD.format(field="{copy: product.price.zzzz}"))
    assert code == EXIT_USAGE and "has no field 'zzzz'" in text and "did you mean" not in text, text


ALLOWED = [
    (PRODUCT_FIELD, "{copy: product.extra.anything.deeper}"),  # free-form
    (PRODUCT_FIELD, '{expr: "product.extra.colour.shade | default(\'-\')"}'),
    (PRODUCT_FIELD, "{copy: product.price.amount}"),
    (PRODUCT_FIELD, '{expr: "product.price.currency ~ \' \' ~ product.price.amount"}'),
    (PRODUCT_FIELD, "{copy: product.translations.fr_FR.name}"),
    (PRODUCT_FIELD, "{copy: product.ref.origin}"),
    (VARIANT_FIELD, "{copy: variant.attributes.Size}"),
    (VARIANT_FIELD, "{copy: variant.stock.Warehouse.available}"),
    (VARIANT_FIELD, "{copy: variant.stock.items.on_hand}"),  # a location named "items"
    (VARIANT_FIELD, '{expr: "variant.stock.values() | map(attribute=\'location\') | join(\',\')"}'),
    (VARIANT_FIELD, '{expr: "variant.stock.Warehouse.reserved | default(0)"}'),
    (VARIANT_FIELD, "{copy: variant.dimensions.length}"),
    (VARIANT_FIELD, '{expr: "variant.price.amount.quantize(1)"}'),
]


@pytest.mark.parametrize("head,field", ALLOWED, ids=[f for _h, f in ALLOWED])
def test_what_a_record_can_hold_still_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str], head: str,
                                           field: str) -> None:
    code, text, _ = _check(tmp_path, capsys, head.format(field=field))
    assert code == 0, text


def test_every_mapping_shipped_or_in_the_tests_still_loads() -> None:
    root = Path(__file__).resolve().parents[1]
    found = [*root.glob("mappings/*.yaml"), *root.glob("tests/**/*.yaml")]
    mappings = [p for p in found if "payloads:" in p.read_text(encoding="utf-8")]
    assert any(p.parent.name == "mappings" for p in mappings)
    for path in mappings:
        load_mapping(path)


def test_a_sync_with_such_a_mapping_sends_nothing_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A real run to an address nobody answers: any attempt to send would end in exit 4."""
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_not_used")
    path = tmp_path / "mine.yaml"
    path.write_text("extends: elebne\npayloads:\n  product:\n    fields:\n      name: {copy: product.price.amout}\n",
                    encoding="utf-8")
    code = main(["sync", "--source", str(sample_workbook()), "--target", "elebne", "--mapping", str(path),
                 "--state", str(tmp_path / "state.sqlite"), "--base-url", "http://127.0.0.1:9",
                 "--no-progress", "--report", str(tmp_path / "report.json")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_USAGE, err
    assert f"{path}:5: payloads.product.fields.name" in err and "did you mean 'amount'?" in err, err
