"""The connector's code identity (what the unchanged-inputs shortcut and the record fingerprints are keyed by)
changes with any change of its source files, not only with its version number."""

from __future__ import annotations

import shutil
from pathlib import Path

import connector
from connector.code_identity import code_identity, identity_of


def test_the_identity_follows_the_source_files_not_only_the_version(tmp_path: Path) -> None:
    package = tmp_path / "connector"
    shutil.copytree(Path(connector.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = identity_of(package)
    assert before == code_identity() and before.startswith(connector.__version__ + "+")
    reader = package / "sources" / "spreadsheet" / "cells.py"
    reader.write_text(reader.read_text(encoding="utf-8") + "\n# a fix\n", encoding="utf-8")
    assert identity_of(package) != before
    (package / "sources" / "spreadsheet" / "cells.py").rename(package / "sources" / "spreadsheet" / "cells2.py")
    assert identity_of(package) not in (before,)
    empty = tmp_path / "bytecode_only"
    empty.mkdir()
    assert identity_of(empty) == connector.__version__
