"""Files replaced whole: a run killed at any point leaves the old file or the new one, never half of one.

A half-written file is worse than none where something reads it later without a person looking: a catalogue
``connector export`` wrote for a cron ``sync`` (a CSV cut short is still a CSV, with products missing), the
orders workbook, a JSON report a monitor parses."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def replace_file(path: Path, write: Callable[[Path], T], *, durable: bool = True) -> T:
    """Write a new version of ``path`` through ``write(temporary path)`` beside it and rename it over ``path``;
    returns what ``write`` returned.  ``durable``: flushed to disk before the rename (a power cut then too leaves
    one whole version; a report need not).  The temporary file has ``path``'s suffix (writers choose their
    format by it) and keeps the old file's permissions.  A symbolic link is followed: the file it points to is
    replaced, the link stays.  Something that is not a file (``/dev/stdout``, a pipe) is written as it is."""
    if os.path.exists(path) and not os.path.isfile(path):
        return write(Path(path))
    path = Path(os.path.realpath(path))
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        result = write(tmp)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        if durable:
            with tmp.open("rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        return result
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_leftovers(path: Path) -> None:
    """Delete the new versions of ``path`` that killed runs left half-written beside it (``replace_file``'s
    ``.<name>.<8 random characters><suffix>``; a kill skips its clean-up).  Only while no other process may be
    writing one: the orders workbook calls it under its lock."""
    real = Path(os.path.realpath(path))
    pattern = re.compile(re.escape(f".{real.name}.") + r"[a-z0-9_]{8}" + re.escape(real.suffix))
    try:
        names = os.listdir(real.parent)
    except OSError:
        return
    for name in names:
        if pattern.fullmatch(name):
            with contextlib.suppress(OSError):
                (real.parent / name).unlink()
