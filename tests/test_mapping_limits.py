"""Mapping files stay untrusted in time and memory too (issue 12, point 8).

Bounds on every expression, filter, method and operation result; constant parts checked (bounded) when the
mapping loads, so ``connector mapping check`` and a sync refuse them with exit 2; recursion and type errors
are exit 2 naming the file, key path and line; YAML nesting and alias expansion bounded; ``extends`` limited
to shipped names and files inside the mapping's own folder, read with a size bound.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import MappingError
from connector.mapping import RecordMappingError, load_mapping
from connector.model import Money, Product, Variant
from connector.shipped import sample_workbook

HEAD = """\
version: 1
marketplace: test
payloads:
  p:
    key: id
    fields:
      id: product.key
"""
EXPR_LINE = 8  # the line of the field written after HEAD


def with_field(tmp_path: Path, field: str, name: str = "m.yaml", head: str = HEAD) -> Path:
    path = tmp_path / name
    path.write_text(head + f"      x: {field}\n", encoding="utf-8")
    return path


def expr(source: str) -> str:
    return '{expr: "' + source.replace('"', '\\"') + '"}'


def product(**kw) -> Product:
    v = Variant(sku="S-1", price=Money(Decimal("12.50"), "MRU"), qty=4)
    return Product(key="S-1", name="Soap", variants=[v], **kw)


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["mapping", "check", str(path)])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def expression_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str) -> str:
    """``mapping check`` of a mapping whose one field is the expression ``source``: it must be refused (exit 2,
    no traceback); the words it said after the field's file, line and key path."""
    path = with_field(tmp_path, expr(source))
    code, text = check(path, capsys)
    assert code == 2, text
    assert "Traceback" not in text
    where = f"{path}:{EXPR_LINE}: payloads.p.fields.x.expr: "
    assert where in text, text
    return text.split(where, 1)[1]


BOMBS = {
    "repetition": "'a' * 10**9",
    "huge range": "range(10**9) | list",
    "big join": "range(100000) | join('" + "x" * 1000 + "')",
    # Jinja folds constant filter calls while compiling: this one used to build 10 MB in `mapping check`.
    "folded replace chain": "'ab'" + " | replace('a', 'aaaaaaaaaa')" * 7,
    "method replace chain": "'ab'" + ".replace('a', 'aaaaaaaaaa')" * 7,
    "batch fill": "[1] | batch(10**8, 0) | list",
    "quadratic sum of lists": "range(3000) | batch(1) | sum(start=[]) | length",
    "work budget": "[" + ", ".join(["(range(10000) | join('" + "-" * 20 + "')) | length"] * 12) + "]",
    "calls budget": "range(10000)" + " | map('string')" * 9 + " | list",
}


@pytest.mark.parametrize("source", list(BOMBS.values()), ids=list(BOMBS))
def test_mapping_check_refuses_heavy_constant_expressions(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          source: str) -> None:
    assert expression_refused(tmp_path, capsys, source).startswith("expression exceeds a limit")


def test_a_sync_with_a_heavy_mapping_sends_nothing_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_not_used")
    path = with_field(tmp_path, expr("'a' * 10**9"))
    code = main(["sync", "--source", str(sample_workbook()), "--target", "elebne", "--mapping", str(path),
                 "--dry-run", "--state", str(tmp_path / "state.sqlite"), "--base-url", "http://127.0.0.1:9",
                 "--no-progress", "--report", str(tmp_path / "report.json")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert f"{path}:{EXPR_LINE}: payloads.p.fields.x.expr: expression exceeds a limit" in err


def test_values_that_depend_on_the_record_are_bounded_per_record(tmp_path: Path) -> None:
    grow = "(range(10000) | join(',')) | replace(',', product.description)"
    mapping = load_mapping(with_field(tmp_path, expr(grow)))
    assert len(mapping.apply(product(description="d" * 20))["p"]["x"]) == 48_889 + 9_999 * 19
    with pytest.raises(RecordMappingError,
                       match=r"mapping field 'x': replace would make a text of 2,038,690 characters \(limit 1,"):
        mapping.apply(product(description="d" * 200))


def test_an_operation_result_is_bounded(tmp_path: Path) -> None:
    mapping = load_mapping(with_field(tmp_path, "{copy: product.category_path, ops: [{join: '" + "-" * 5000 + "'}]}"))
    assert mapping.apply(product(category_path=["Home", "Bath"]))["p"]["x"] == "Home" + "-" * 5000 + "Bath"
    with pytest.raises(RecordMappingError, match=r"'join' of 300 items would make a text over 1,000,000"):
        mapping.apply(product(category_path=["c"] * 300))


def test_a_constant_whose_operations_exceed_a_bound_is_a_mapping_error(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    items = ", ".join(["a"] * 5_000)
    code, text = check(with_field(tmp_path, f"{{const: [{items}], ops: [{{join: '{'y' * 5000}'}}]}}"), capsys)
    assert code == 2 and "payloads.p.fields.x: 'join' of 5,000 items would make a text over" in text


@pytest.mark.parametrize("source", [
    "(" * 300 + "1" + ")" * 300,
    "not " * 400 + "1",
    "product.name" + "|e" * 600,
], ids=["parentheses", "not chain", "filter chain"])
def test_deep_expressions_are_exit_2_with_file_path_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             source: str) -> None:
    path = with_field(tmp_path, expr(source))
    code, text = check(path, capsys)
    assert code == 2, text
    assert f"{path}:{EXPR_LINE}: payloads.p.fields.x.expr: expression nested too deeply" in text


def test_deeply_nested_yaml_is_exit_2_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = with_field(tmp_path, "{const: " + "[" * 3000 + "]" * 3000 + "}")
    code, text = check(path, capsys)
    assert code == 2 and f"{path}:{EXPR_LINE}: not valid YAML: nested deeper than 40 levels" in text


def test_an_argument_of_the_wrong_type_is_exit_2_with_path_and_line(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = with_field(tmp_path, "{copy: product.name, ops: [{lookup: [colours]}]}")
    code, text = check(path, capsys)
    assert code == 2, text
    assert f"{path}:{EXPR_LINE}: payloads.p.fields.x.ops[0]: 'lookup' needs a table name" in text


def test_yaml_aliases_cannot_expand_beyond_a_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    anchors = "tables:\n  t0: {z: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}\n" + "".join(
        f"  t{i}: {{z: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]}}\n" for i in range(1, 7))
    path = tmp_path / "laughs.yaml"
    path.write_text(HEAD.replace("payloads:", anchors + "payloads:") + "      x: {const: *a6}\n")
    code, text = check(path, capsys)
    assert code == 2 and "not valid YAML: its aliases expand to 23,456,829 nodes (limit 100,000)" in text


def test_an_alias_inside_its_own_anchor_is_an_error_not_a_recursion(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "self.yaml"
    path.write_text(HEAD.replace("payloads:", "tables:\n  t: {z: &a [*a]}\npayloads:"))
    code, text = check(path, capsys)
    assert code == 2 and "an alias refers to the collection that holds it" in text and "Traceback" not in text


def test_a_few_aliases_are_still_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(HEAD.replace("payloads:", "tables:\n  t: {z: &n [a, b]}\npayloads:") + "      x: {const: *n}\n")
    assert load_mapping(path).apply(product())["p"]["x"] == ["a", "b"]


def _extends(folder: Path, target: str) -> Path:
    path = folder / "mine.yaml"
    path.write_text(f"extends: {target}\npayloads:\n  product:\n    fields:\n      brand: null\n")
    return path


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A valid mapping file outside the extending file's folder."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "base.yaml").write_text("extends: elebne\n")
    return other / "base.yaml"


def test_extends_refuses_an_absolute_path(tmp_path: Path, elsewhere: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(MappingError, match="only a shipped mapping or a file in this mapping's folder") as exc:
        load_mapping(_extends(mine, str(elsewhere)))
    assert exc.value.path == "extends" and exc.value.line == 1


def test_extends_refuses_dot_dot(tmp_path: Path, elsewhere: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(MappingError, match=r"no absolute path, no '\.\.'"):
        load_mapping(_extends(mine, "../other/base.yaml"))


def test_extends_refuses_a_link_out_of_the_folder(tmp_path: Path, elsewhere: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "base.yaml").symlink_to(elsewhere)
    with pytest.raises(MappingError, match="leads out of this mapping's folder"):
        load_mapping(_extends(mine, "base.yaml"))


def test_extends_refuses_an_unknown_shipped_name(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="'nowhere', which is not a shipped mapping \\(shipped: ecomlinx, elebne"):
        load_mapping(_extends(tmp_path, "nowhere"))


def test_extends_still_takes_a_file_of_the_same_folder_and_a_shipped_name(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("extends: elebne\npayloads:\n  product:\n    fields:\n"
                                        "      name: {copy: product.name, ops: [upper]}\n")
    mapping = load_mapping(_extends(tmp_path, "base.yaml"))
    out = mapping.apply(product(brand="Acme"))["product"]
    assert out["name"] == "SOAP" and "brand" not in out and out["price"] == 1250


def test_a_device_or_pipe_is_never_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would wait for a writer forever
    with pytest.raises(MappingError, match="not a regular file"):
        load_mapping(_extends(tmp_path, "pipe.yaml"))
    code, text = check(Path("/dev/zero"), capsys)  # reading it would never end
    assert code == 2 and "/dev/zero: cannot read mapping file: not a regular file" in text


def test_ops_and_text_arguments_are_bounded_when_loading(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="'prefix' takes at most 10,000 characters"):
        load_mapping(with_field(tmp_path, "{copy: product.name, ops: [{prefix: '" + "p" * 20_000 + "'}]}"))
    with pytest.raises(MappingError, match="'multiply' takes a factor between"):
        load_mapping(with_field(tmp_path, "{copy: product.price, ops: [{multiply: '1e999999'}]}", "f.yaml"))


def test_the_shipped_mappings_pass_the_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    from connector.mapping import shipped_mapping

    for name in ("elebne", "elryan", "ecomlinx"):
        assert main(["mapping", "check", str(shipped_mapping(name))]) == 0, capsys.readouterr().err
