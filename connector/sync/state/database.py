"""The PostgreSQL database of the state, for what runs beside the state store on it: the service's job queue
(procrastinate) and its tables (issue 15).  With ``postgres.py``, the only place that names the driver: a
connection per call (autocommit), and procrastinate's connector over the same URL.  An unreachable server is
``StateUnreachable`` (exit 4) with the URL's password scrubbed, as for the state itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from connector.sync.state.location import reason_of, shown
from connector.sync.state.postgres import CONNECT_TIMEOUT, StateUnreachable


def connect(url: str, **options: Any) -> Any:
    """A psycopg connection in autocommit mode; ``options`` are libpq's (``options``, ``application_name``)."""
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **options)
    except psycopg.Error as exc:
        raise StateUnreachable(f"database {shown(url)} cannot be reached: {reason_of(exc, url)}") from None


@contextmanager
def connected(url: str, **options: Any) -> Iterator[Any]:
    """``connect`` for the length of a block, closed after it; the connection lost while in use (a server
    restart, a dropped session) is ``StateUnreachable`` too, never a driver traceback."""
    import psycopg

    conn = connect(url, **options)
    try:
        yield conn
    except psycopg.OperationalError as exc:
        raise StateUnreachable(f"database {shown(url)} connection lost: {reason_of(exc, url)}") from None
    finally:
        conn.close()


def queue_connector(url: str, **options: Any) -> Any:
    """procrastinate's connector (psycopg 3, a pool opened with the app) over ``url``."""
    import procrastinate

    return procrastinate.PsycopgConnector(conninfo=url, kwargs=options)
