"""A worker that loses its database (a PostgreSQL restart: procrastinate's job listener cannot reconnect) stops,
as docs/deploy.md says, for its supervisor to start it again; it must then exit 4 with the reason in one line, not
0 (a clean stop, which a ``restart: on-failure`` policy leaves stopped) after the driver's tracebacks (found by a
campaign restarting PostgreSQL under running workers)."""

from __future__ import annotations

import io
import logging
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from connector.errors import EXIT_UNREACHABLE
from connector.sync.state.postgres import StateUnreachable
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


def test_a_job_failing_on_the_lost_database_is_logged_in_one_line() -> None:
    """A job whose follow-up could not be queued (the database restarted just then) fails with StateUnreachable:
    procrastinate logs it with the traceback, which the worker's filter turns into its reason."""
    from connector.service.worker import _REASONS_ONLY

    try:
        raise StateUnreachable("database postgresql://u:***@/shop cannot be reached: server closed the connection")
    except StateUnreachable:
        record = logging.LogRecord("procrastinate.worker", logging.ERROR, __file__, 1, "Job %s failed", (7,),
                                   sys.exc_info())
    assert _REASONS_ONLY.filter(record)
    handler = logging.StreamHandler(io.StringIO())
    handler.handle(record)
    said = handler.stream.getvalue()
    assert said == "Job 7 failed: database postgresql://u:***@/shop cannot be reached: server closed the connection\n"


def test_a_failed_side_task_freed_after_the_run_is_logged_in_one_line() -> None:
    """A side task that failed on the database and that no one awaited is logged by asyncio when it is freed;
    its exception's traceback makes a cycle, freed by the cycle collector at any moment, so the driver's traceback
    reached the log when that happened after the worker had removed its filter (the lost-database test above
    failed so in 2 of 6 runs of a helper's clone).  The automatic collector is off here: the moment is the test's."""
    import asyncio
    import gc

    from procrastinate.exceptions import ConnectorException

    from connector.service.worker import _LostDatabase, filtered

    logger = logging.getLogger("asyncio")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)

    async def side() -> None:
        try:
            raise OSError("server closed the connection unexpectedly")
        except OSError as exc:
            err = ConnectorException("Database error.")
            err.task = asyncio.current_task()  # type: ignore[attr-defined]  # the cycle: task -> exception -> task
            raise err from exc

    async def main() -> None:
        task = asyncio.create_task(side())
        await asyncio.sleep(0.01)  # it fails; no one awaits it
        assert task.done()

    gc.collect()
    gc.disable()
    try:
        with filtered([logger], _LostDatabase("postgresql://connector:pw@db.example.com/queue")):
            asyncio.run(main())
        gc.collect()  # anything left to collect: outside the filter
    finally:
        gc.enable()
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Task exception was never retrieved" in output
    assert "Traceback" not in output and "server closed the connection unexpectedly" in output
