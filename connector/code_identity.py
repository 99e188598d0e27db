"""What identifies the connector's code, for the records that say "nothing changed since the last run": the
unchanged-inputs shortcut (``sync/unchanged.py``) and the record fingerprints (``sync/fingerprint.py``).

The version number alone is not enough: a checkout updated with ``git pull``, or a fix installed without a new
version, reads the same file differently (a number, a formula, a duplicate SKU), and a run that trusted the
last run's outcome would not read it again until the merchant edits it.  So the identity is the version and one
hash of the package's own source files; it changes with any change of code, and the first run after it does
the whole work once."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from connector import __version__


@functools.cache
def code_identity() -> str:
    """``<version>+<sha256 of the package's .py files, by path>`` (about 10 ms, once per process); the version
    alone where no source file is found (a bytecode-only installation)."""
    return identity_of(Path(__file__).resolve().parent)


def identity_of(root: Path) -> str:
    """``code_identity`` of the package whose folder is ``root``."""
    hashed = hashlib.sha256()
    files = sorted(root.rglob("*.py"))
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        name = path.relative_to(root).as_posix().encode()
        hashed.update(len(name).to_bytes(4, "big") + name + len(data).to_bytes(8, "big") + data)
    return f"{__version__}+{hashed.hexdigest()[:16]}" if files else __version__
