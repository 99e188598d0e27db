"""An integrator's expression that fails for every record is a mapping error when the mapping loads (exit 2,
file, key path and line), not a failure of every row with a message that names no file: a Python internal
(``__class__``, an attribute walk to ``__globals__``), a name the context does not hold (``__import__``, a
misspelt root) and an unknown field of a record of known class (as a copy path's typo is)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.mapping import load_mapping
from connector.shipped import sample_workbook
from tests.test_mapping_limits import expr, expression_refused, product, with_field

REFUSED = {
    "dunder attribute": ("product.__class__.__mro__", "'__mro__' is a Python internal"),
    "attribute walk": ("product.name.upper.__globals__", "'__globals__' is a Python internal"),
    "dunder item": ("product['__class__']", "'__class__' is a Python internal"),
    "builtin call": ("__import__('os').system('id')", "unknown name '__import__'"),
    "misspelt root": ("prodcut.name", "unknown name 'prodcut' (an expression can use: product, defaults, range)"),
    "misspelt field": ("product.nmae | upper", "product has no field 'nmae' (known: active,"),
}


@pytest.mark.parametrize("source,said", list(REFUSED.values()), ids=list(REFUSED))
def test_mapping_check_refuses_it_with_file_path_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          source: str, said: str) -> None:
    assert expression_refused(tmp_path, capsys, source).startswith(said)


def test_a_sync_with_such_a_mapping_sends_nothing_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A real run (not a dry run) to an address nobody answers: any attempt to send would end in exit 4."""
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_not_used")
    path = tmp_path / "mine.yaml"
    path.write_text("extends: elebne\npayloads:\n  product:\n    fields:\n"
                    "      name: {expr: \"product.name.upper.__globals__\"}\n", encoding="utf-8")
    code = main(["sync", "--source", str(sample_workbook()), "--target", "elebne", "--mapping", str(path),
                 "--state", str(tmp_path / "state.sqlite"), "--base-url", "http://127.0.0.1:9",
                 "--no-progress", "--report", str(tmp_path / "report.json")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert f"{path}:5: payloads.product.fields.name.expr: '__globals__' is a Python internal" in err
    assert "Traceback" not in err


def test_what_can_succeed_for_some_record_still_loads(tmp_path: Path) -> None:
    sources = ["product.brand | default('none')", "product.name ~ (range(3) | join(','))",
               "defaults.tax | default(0)", "product.extra.colour | default('-')",
               "product.name.upper()", "defaults._own_key | default(1)"]
    for i, source in enumerate(sources):
        mapping = load_mapping(with_field(tmp_path, expr(source), name=f"m{i}.yaml"))
        assert mapping.apply(product(), {})["p"]["x"] not in (None, ""), source
