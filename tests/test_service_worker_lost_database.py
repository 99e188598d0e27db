"""A worker that loses its database (a PostgreSQL restart: procrastinate's job listener cannot reconnect) stops,
as docs/deploy.md says, for its supervisor to start it again; it must then exit 4 with the reason in one line, not
0 (a clean stop, which a ``restart: on-failure`` policy leaves stopped) after the driver's tracebacks (found by a
campaign restarting PostgreSQL under running workers)."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from connector.errors import EXIT_UNREACHABLE
from tests.postgres_support import PgServer
from tests.service_support import migrated, start_worker


def registered(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return bool(conn.execute("SELECT count(*) FROM connector_queue.procrastinate_workers").fetchone()[0])


def test_a_worker_that_lost_its_database_exits_4_without_a_traceback(pg_server: PgServer, pg_url: str,
                                                                      tmp_path: Path) -> None:
    url = migrated(pg_url)
    log = tmp_path / "worker.log"
    worker = start_worker(url, log, "--heartbeat", "0.5", "--name", "w")
    try:
        for _ in range(600):  # started and listening (bounded: a hang guard, not a timing assertion)
            if registered(url) or worker.poll() is not None:
                break
            time.sleep(0.1)
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(pg_server.url(), autocommit=True) as admin:  # a restart, as the worker sees it
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            try:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                              " AND application_name LIKE 'connector service%%'", (name,))
                code = worker.wait(120)
            finally:
                admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    output = log.read_text(encoding="utf-8")
    assert code == EXIT_UNREACHABLE, output
    assert "Traceback" not in output
    assert "the worker stopped: it lost the service database" in output
