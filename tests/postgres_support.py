"""A real PostgreSQL for the tests, from the ``pgserver`` package (installed by pip with the dev extras).

One server per test session (``pg_server``), on a Unix socket in a temporary folder of its own; every test
gets a database of its own (``pg_url``).  As root (CI), pgserver runs the server as a system user
``pgserver`` it creates itself (PostgreSQL refuses to run as root): nothing to set up by hand.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
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
def pg_server() -> Iterator[PgServer]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR (cron, CI)
        # not under pytest's temporary folder: another pytest session on the machine may delete old ones
        folder = Path(tempfile.mkdtemp(prefix="connector-pg-"))
        server = _start(folder / "data")
    try:
        yield PgServer(server)
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def _start(pgdata: Path) -> Any:
    """pgserver's server on ``pgdata``.  pgserver gives ``pg_ctl start`` 10 s: on a loaded machine the server may
    be up only later, so a timed-out start is waited for (bounded) instead of failing the session."""
    import pgserver
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import PostmasterInfo

    try:
        return pgserver.get_server(pgdata, cleanup_mode="delete")
    except subprocess.TimeoutExpired:
        server = PostgresServer._instances[pgdata.resolve()]
    for _ in range(600):
        info = PostmasterInfo.read_from_pgdata(server.pgdata)
        if info is not None and info.is_running() and info.status == "ready":
            break
        time.sleep(0.2)
    server.ensure_postgres_running()  # finds the running server
    server.global_process_id_list.get_and_add(os.getpid())  # what get_server does last: cleanup stops it
    return server


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
