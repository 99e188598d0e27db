"""The service database: where the queue lives and how its schema is applied.

The queue is procrastinate's, in the PostgreSQL database of the state (one database for the jobs and what they
confirm).  Its tables live in the schema ``connector_queue`` (the connection's ``search_path``), the job history
and schedules in ``connector_service``; the profiles' state schemas (``connector_<profile>``) are S1's.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from connector.errors import ConfigError
from connector.sync.state.location import global_state_url, is_database_url, shown, split_schema

QUEUE_SCHEMA = "connector_queue"
SERVICE_SCHEMA = "connector_service"
QUEUE_NAME = "connector"

SERVICE_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SERVICE_SCHEMA};
CREATE TABLE IF NOT EXISTS {SERVICE_SCHEMA}.job_runs (
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT,
    profile TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    worker TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    exit_code INTEGER,
    message TEXT
);
CREATE INDEX IF NOT EXISTS job_runs_account ON {SERVICE_SCHEMA}.job_runs (target, account, started_at);
CREATE TABLE IF NOT EXISTS {SERVICE_SCHEMA}.schedules (
    profile TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    cron TEXT NOT NULL,
    account TEXT NOT NULL,
    last_enqueued TIMESTAMPTZ,
    PRIMARY KEY (profile, target, kind)
);
"""


def service_url(given: str | None) -> str:
    """The database of the queue: ``--db`` or ``$CONNECTOR_STATE_URL`` (the state's own database)."""
    url = given or global_state_url()
    if not url:
        raise ConfigError("the service needs a PostgreSQL database: --db postgresql://... or CONNECTOR_STATE_URL")
    if not is_database_url(url):
        raise ConfigError(f"--db {url!r}: the service needs a postgresql:// URL (jobs and state in one database)")
    return split_schema(url)[0]  # a profile schema named in the URL is the state's business, not the queue's


def connect_kwargs() -> dict[str, Any]:
    return {"options": f"-c search_path={QUEUE_SCHEMA}",
            "application_name": f"connector service pid {os.getpid()} on {socket.gethostname()}"}


@contextmanager
def connection(url: str) -> Iterator[Any]:
    """A connection (autocommit) to the service database; unreachable, or lost while in use: exit 4
    (``StateUnreachable``), password scrubbed."""
    from connector.sync.state.database import connected

    with connected(url, **connect_kwargs()) as conn:
        yield conn


def queue_installed(conn: Any) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (f"{QUEUE_SCHEMA}.procrastinate_jobs",)).fetchone()
    return bool(row and row[0])


def migrate(url: str) -> list[str]:
    """Apply procrastinate's schema (once: its script is not re-runnable) and the service tables; returns what
    was done, in words.  Safe to run on every deployment; concurrent runs wait for each other."""
    from procrastinate.schema import SchemaManager

    done: list[str] = []
    with connection(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('connector-service-migrate'))")
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
        if not queue_installed(conn):
            conn.execute(SchemaManager.get_schema())
            done.append(f"procrastinate's schema applied in {QUEUE_SCHEMA}")
        conn.execute(SERVICE_DDL)
        done.append(f"service tables ready in {SERVICE_SCHEMA}")
    return done


def require_queue(conn: Any, url: str) -> None:
    if not queue_installed(conn):
        raise ConfigError(f"no job queue in {shown(url)} yet: run `connector service migrate --db ...` first")


def make_app(url: str) -> Any:
    """The procrastinate app over ``url`` with the connector's tasks registered (not opened)."""
    import procrastinate

    from connector.service.jobs import register_tasks
    from connector.sync.state.database import queue_connector

    app = procrastinate.App(connector=queue_connector(url, **connect_kwargs()))
    register_tasks(app)
    return app
