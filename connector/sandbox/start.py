"""Starting a sandbox from the command line (``connector sandbox``): what stops it from starting, said in one
line (exit 2) instead of a traceback: a port something already listens on (a sandbox started twice), or a
``--db`` file that cannot be opened."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from connector.errors import ConfigError


@contextmanager
def start_errors(port: int, db: str | None) -> Iterator[None]:
    """Around the creation of a sandbox server on 127.0.0.1:``port`` with its ``--db`` file ``db``."""
    try:
        yield
    except OSError as exc:
        hint = " (another sandbox running there? choose another --port)" if exc.errno == errno.EADDRINUSE else ""
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}{hint}") from None
    except sqlite3.Error as exc:
        raise ConfigError(f"sandbox --db {db}: {exc}") from None
