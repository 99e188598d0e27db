"""A real PostgreSQL for the tests, from the ``pgserver`` package (installed by pip with the dev extras).

One server per test session (``pg_server``), on a Unix socket in the session's temporary folder; every test
gets a database of its own (``pg_url``).  As root (CI), pgserver runs the server as a system user
``pgserver`` it creates itself (PostgreSQL refuses to run as root): nothing to set up by hand.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

_numbers = itertools.count(1)


class PgServer:
    """The session's server: ``url(db)`` is a URL for one of its databases (no password: trust on the socket)."""

    def __init__(self, server: Any) -> None:
        self.server = server

    def url(self, database: str = "postgres") -> str:
        return str(self.server.get_uri(database=database))

    def new_database(self) -> str:
        name = f"t{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR (cron, CI)
        import pgserver

        folder: Path = tmp_path_factory.mktemp("pg")
        server = pgserver.get_server(folder / "data", cleanup_mode="delete")
    try:
        yield PgServer(server)
    finally:
        server.cleanup()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A URL of a new, empty database of the session's server, dropped after the test."""
    name = pg_server.new_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def state_location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a test's state lives, once per backend: a file of the test's folder, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "state.sqlite"
    return str(request.getfixturevalue("pg_url"))
