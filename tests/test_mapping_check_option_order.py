"""``connector mapping check`` takes its option on either side of the file, as argparse tools do.

``mapping check --minor-units 0 FILE`` ended in ``unrecognized arguments: FILE`` (exit 2) while
``mapping check FILE --minor-units 0`` worked: argparse gave the optional file its empty value when it met
``check`` followed by an option.  Every order now reads the same, and the forms that worked still do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import EXIT_OK, EXIT_USAGE
from connector.mapping.loader import shipped_mapping

WHOLE_UNITS = "[{minor_units: 0}]"  # right for a currency without minor units, a hundredth for one with 2


def _mapping(tmp_path: Path) -> Path:
    path = tmp_path / "my-elebne.yaml"
    path.write_text("extends: elebne\npayloads:\n  product:\n    fields:\n"
                    f"      price: {{copy: product.price, ops: {WHOLE_UNITS}}}\n    children:\n      variants:\n"
                    f"        fields:\n          price: {{copy: variant.price, ops: {WHOLE_UNITS}}}\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("argv", [
    ["mapping", "check", "--minor-units", "0", "FILE"],
    ["mapping", "check", "--minor-units=0", "FILE"],
    ["mapping", "check", "FILE", "--minor-units", "0"],
    ["mapping", "--minor-units", "0", "check", "FILE"],
])
def test_minor_units_before_or_after_the_file(argv: list[str], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Each order checks the file against 0 digits: the mapping is taken (against the default 2 it is refused)."""
    mapping = _mapping(tmp_path)
    assert main([str(mapping) if a == "FILE" else a for a in argv]) == EXIT_OK, capsys.readouterr().err
    assert "valid mapping for elebne" in capsys.readouterr().out


def test_the_option_is_read_not_ignored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped mapping (minor units 2) checked against 0 digits is refused whichever side the option is."""
    shipped = str(shipped_mapping("elebne"))
    assert main(["mapping", "check", "--minor-units", "0", shipped]) == EXIT_USAGE
    assert "about 100 times its price" in " ".join(capsys.readouterr().err.split())
    assert main(["mapping", "check", str(_mapping(tmp_path))]) == EXIT_USAGE  # the default, 2 digits
    assert "about 1/100 of its price" in " ".join(capsys.readouterr().err.split())


def test_the_other_forms_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    """``mapping check FILE``, ``mapping schema``, and ``mapping check`` without a file (exit 2, saying so)."""
    assert main(["mapping", "check", str(shipped_mapping("elebne"))]) == EXIT_OK
    capsys.readouterr()
    assert main(["mapping", "schema"]) == EXIT_OK
    assert '"$schema"' in capsys.readouterr().out
    assert main(["mapping", "check"]) == EXIT_USAGE
    assert "mapping check needs a FILE" in capsys.readouterr().err
