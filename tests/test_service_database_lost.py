"""A job whose service database goes away around its run (a PostgreSQL restart, a dropped connection) is retried
like a run that could not reach its state (exit 4), never failed for good: before the fix, the job history's
bookkeeping raised ``StateUnreachable`` out of the job, which procrastinate's retry strategy does not retry, so
the account waited for its next schedule (found by a campaign restarting PostgreSQL under running workers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from connector.errors import EXIT_OK, EXIT_UNREACHABLE
from connector.service import jobs
from connector.service.queue import connection
from tests.postgres_support import PgServer
from tests.service_support import csv_catalogue, migrated, profile, runs


@contextmanager
def refused(pg_server: PgServer, url: str) -> Iterator[None]:
    """The database refuses new connections (as while PostgreSQL restarts); connections already open stay."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(pg_server.url(), autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        try:
            yield
        finally:
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")


def context(url: str) -> Any:
    return SimpleNamespace(additional_context={"url": url, "worker_label": "w"}, job=SimpleNamespace(id=7, attempts=0),
                           abort_reason=lambda: None, app=None)


@pytest.fixture
def shop(pg_url: str, tmp_path: Path) -> str:
    migrated(pg_url)
    return str(profile(tmp_path / "shop.yaml", "shop", csv_catalogue(tmp_path / "shop.csv", {"A": 1}), pg_url,
                       {"elebne": {"account": "acc"}}))


def retried(exc: BaseException) -> bool:
    decision = jobs._retry_strategy().get_retry_decision(exception=exc, job=SimpleNamespace(attempts=0))
    return decision is not None


def test_a_run_that_lost_the_database_is_retried_not_failed(pg_server: PgServer, pg_url: str, shop: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    state: dict[str, Any] = {}

    def run_during_a_restart(argv: list[str]) -> int:
        state["restart"] = refused(pg_server, pg_url)
        state["restart"].__enter__()
        return EXIT_UNREACHABLE  # what the run says when its state's server goes away

    monkeypatch.setattr(jobs, "run_command", run_during_a_restart)
    try:
        with pytest.raises(jobs.JobOutcome) as caught:
            jobs.run_job(context(pg_url), shop, "elebne", "stock")
    finally:
        state["restart"].__exit__(None, None, None)
    assert caught.value.code == EXIT_UNREACHABLE and retried(caught.value)
    assert [r[5] for r in runs(pg_url)] == [None]  # started, its end could not be written


def test_a_job_that_cannot_record_its_start_is_retried_and_runs_nothing(pg_server: PgServer, pg_url: str, shop: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(jobs, "run_command", lambda argv: ran.append(argv) or EXIT_OK)
    with refused(pg_server, pg_url), pytest.raises(jobs.JobOutcome) as caught:
        jobs.run_job(context(pg_url), shop, "elebne", "stock")
    assert retried(caught.value) and "could not be reached" in str(caught.value)
    assert ran == [] and runs(pg_url) == []


def test_a_clean_run_whose_end_cannot_be_recorded_still_succeeds(pg_server: PgServer, pg_url: str, shop: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state: dict[str, Any] = {}

    def run_then_lose_the_database(argv: list[str]) -> int:
        with connection(pg_url) as conn:  # the connections already open are cut, new ones refused
            state["restart"] = refused(pg_server, pg_url)
            state["restart"].__enter__()
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                         " AND pid <> pg_backend_pid()")
        return EXIT_OK

    monkeypatch.setattr(jobs, "run_command", run_then_lose_the_database)
    try:
        assert jobs.run_job(context(pg_url), shop, "elebne", "stock") == EXIT_OK
    finally:
        state["restart"].__exit__(None, None, None)
