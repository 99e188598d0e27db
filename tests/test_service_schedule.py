"""Cron schedules from profiles: stored by `connector schedule`, enqueued by the periodic tick once per cron
time, shown by `connector status`; a bad cron expression is refused with the place it is written."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import psycopg

from connector.cli import main
from connector.service.queue import connection, make_app
from connector.service.schedule import TICK_TASK, tick
from tests.postgres_support import PgServer
from tests.service_support import csv_catalogue, last_enqueued, migrated, profile

SCHEDULE = 'schedule: {stock: "*/5 * * * *", catalogue: "0 2 * * *"}\n'


def shop(tmp_path: Path, pg_url: str, extra: str = SCHEDULE) -> Path:
    source = csv_catalogue(tmp_path / "shop.csv", {"A": 1})
    prof = profile(tmp_path / "shop.yaml", "shop", source, pg_url,
                   {"elebne": {"account": "shop-e"}, "elryan": {"account": "shop-r"}}, extra=extra)
    text = prof.read_text(encoding="utf-8").replace('  elryan: {account: "shop-r"}',
                                                    '  elryan:\n    account: shop-r\n'
                                                    '    schedule: {catalogue: "off", stock: "*/2 * * * *"}')
    prof.write_text(text, encoding="utf-8")
    return prof


def queued(url: str) -> list[tuple[str, str, str]]:
    with connection(url) as conn:
        rows = conn.execute("SELECT args->>'target', args->>'kind', lock FROM procrastinate_jobs"
                            " WHERE status = 'todo' ORDER BY id").fetchall()
    return [tuple(r) for r in rows]


def test_schedules_are_stored_per_target_and_kind_and_fire_once_per_cron_time(
        pg_url: str, tmp_path: Path, capsys) -> None:
    url = migrated(pg_url)
    prof = shop(tmp_path, pg_url)
    assert main(["schedule", "--db", url, "--profile", str(prof)]) == 0
    said = capsys.readouterr().out
    assert "shop elebne stock: */5 * * * *" in said and "shop elebne catalogue: 0 2 * * *" in said
    assert "shop elryan stock: */2 * * * *" in said and "elryan catalogue" not in said  # "off" under the target
    assert "3 schedule(s) stored" in said
    last_enqueued(url, datetime(2026, 12, 1, 10, 1, tzinfo=UTC))
    app = make_app(url)
    with app.open():
        assert tick(app, url, datetime(2026, 12, 1, 10, 3, tzinfo=UTC)) == [("shop", "elryan", "stock")]
        assert tick(app, url, datetime(2026, 12, 1, 10, 3, 30, tzinfo=UTC)) == []  # that time already fired
        fired = tick(app, url, datetime(2026, 12, 1, 10, 5, tzinfo=UTC))
        assert fired == [("shop", "elebne", "stock")]  # elryan's own stock job still waits: not queued twice
    assert queued(url) == [("elryan", "stock", "account:elryan:shop-r"), ("elebne", "stock", "account:elebne:shop-e")]
    assert main(["status", "--db", url, "--json"]) == 0
    entries = {(e["target"], e["kind"]): e for e in json.loads(capsys.readouterr().out)["entries"]}
    assert entries[("elebne", "catalogue")]["next_run"].endswith("T02:00:00+00:00")
    assert entries[("elebne", "stock")]["jobs"]["waiting"] == 1
    assert entries[("elebne", "catalogue")]["last_run"] is None
    assert main(["schedule", "--db", url, "--profile", str(prof), "--remove"]) == 0
    assert "3 schedule(s) removed" in capsys.readouterr().out


def test_a_bad_cron_expression_names_its_place(pg_url: str, tmp_path: Path, capsys) -> None:
    url = migrated(pg_url)
    prof = shop(tmp_path, pg_url, extra='schedule: {stock: "every 5 minutes"}\n')
    assert main(["schedule", "--db", url, "--profile", str(prof)]) == 2
    err = capsys.readouterr().err
    assert "'schedule.stock'" in err and "not a cron expression" in err


def test_an_unknown_job_kind_in_a_schedule_is_refused(pg_url: str, tmp_path: Path, capsys) -> None:
    url = migrated(pg_url)
    prof = shop(tmp_path, pg_url, extra='schedule: {stocks: "*/5 * * * *"}\n')
    assert main(["schedule", "--db", url, "--profile", str(prof)]) == 2
    assert "unknown job kind 'stocks'" in capsys.readouterr().err


def test_the_next_run_follows_the_cron_in_utc() -> None:
    from connector.service.schedule import next_time

    now = datetime(2026, 12, 1, 23, 58, tzinfo=UTC)
    assert next_time("0 2 * * *", now) == datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    assert next_time("*/5 * * * *", now) - now == timedelta(minutes=2)


def test_a_tick_while_the_database_is_away_logs_one_line_and_the_next_one_catches_up(
        pg_server: PgServer, pg_url: str, tmp_path: Path, caplog) -> None:
    """A PostgreSQL restart during the minute's tick (seen in CI: the tick's traceback in the worker's log, where
    only one line belongs): the tick says so in one line, and the next tick queues what came due meanwhile."""
    url = migrated(pg_url)
    assert main(["schedule", "--db", url, "--profile", str(shop(tmp_path, pg_url))]) == 0
    last_enqueued(url, datetime(2026, 12, 1, 10, 1, tzinfo=UTC))
    app = make_app(url)
    schedule_tick = app.tasks[TICK_TASK].func
    context = SimpleNamespace(app=app, additional_context={"url": url})
    name = urlsplit(url).path.lstrip("/")
    with app.open(), psycopg.connect(pg_server.url(), autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        try:
            with caplog.at_level(logging.WARNING, logger="connector.service.schedule"):
                schedule_tick(context, int(datetime(2026, 12, 1, 10, 3, tzinfo=UTC).timestamp()))
        finally:
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        [record] = caplog.records
        assert record.getMessage().startswith("schedules not looked at this minute: database ")
        assert "not currently accepting connections" in record.getMessage() and not record.exc_info
        assert queued(url) == []
        schedule_tick(context, int(datetime(2026, 12, 1, 10, 4, tzinfo=UTC).timestamp()))
    assert queued(url) == [("elryan", "stock", "account:elryan:shop-r")]


def test_a_restart_met_by_procrastinates_defer_is_one_line_too(pg_url: str, monkeypatch, caplog) -> None:
    """A restart that lands in the middle of the tick's ``defer`` reaches it as procrastinate's ConnectorException
    (not the connector's StateUnreachable): one line as well, password scrubbed."""
    from procrastinate.exceptions import ConnectorException

    from connector.service import schedule

    url = migrated(pg_url).replace("postgresql://postgres:", "postgresql://postgres:s3cret", 1)

    def restart(*_: object) -> None:
        try:
            raise psycopg.OperationalError(f"connection to {url} failed: server closed the connection")
        except psycopg.OperationalError as exc:
            raise ConnectorException("Database error.") from exc

    monkeypatch.setattr(schedule, "tick", restart)
    app = make_app(pg_url)
    with caplog.at_level(logging.WARNING, logger="connector.service.schedule"):
        app.tasks[TICK_TASK].func(SimpleNamespace(app=app, additional_context={"url": url}), 0)
    [record] = caplog.records
    said = record.getMessage()
    assert said.startswith("schedules not looked at this minute: ") and "server closed the connection" in said
    assert "s3cret" not in said and not record.exc_info
