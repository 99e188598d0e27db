"""Cron schedules per profile and target, kept in ``connector_service.schedules`` and enqueued once a minute.

In a profile::

    schedule: {stock: "*/5 * * * *", catalogue: "0 2 * * *"}   # every target
    targets:
      elebne:
        schedule: {stock: "*/2 * * * *"}                       # this target: replaces the profile's stock entry

(a kind set to ``off`` under a target removes it there).  ``connector schedule --profile P ...`` stores the
schedules of the profiles it is given (replacing theirs); every worker runs procrastinate's periodic ``tick``
each minute (procrastinate defers one tick per minute across all workers), which enqueues each schedule whose
cron time came since it last fired.  Cron times are UTC.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.errors import ConfigError
from connector.service.kinds import get_kind
from connector.service.queue import SERVICE_SCHEMA, connection

log = logging.getLogger(__name__)

TICK_TASK = "connector.schedule_tick"
OFF = "off"


@dataclass(frozen=True)
class Schedule:
    profile: str
    profile_name: str
    target: str
    kind: str
    cron: str
    account: str


def check_cron(cron: str, where: str) -> str:
    from croniter import croniter

    if not isinstance(cron, str) or not croniter.is_valid(cron) or len(cron.split()) != 5:
        raise ConfigError(f"{where}: {cron!r} is not a cron expression of 5 fields (e.g. \"*/5 * * * *\")")
    return cron


def next_time(cron: str, after: datetime) -> datetime:
    from croniter import croniter

    return croniter(cron, after.astimezone(UTC)).get_next(datetime).astimezone(UTC)


def schedules_of(profile_path: str) -> list[Schedule]:
    """Every (target, kind, cron) a profile asks for; a bad entry is a ``ConfigError`` naming it."""
    from connector.config import load_profile
    from connector.service.jobs import JobSpec, account_of

    profile = load_profile(profile_path)
    spec_path = JobSpec.of(profile_path, next(iter(profile.targets)), "stock").profile
    out: list[Schedule] = []
    for target, tconf in profile.targets.items():
        merged: dict[str, Any] = {}
        for where, table in (("schedule", profile.schedule), (f"targets.{target}.schedule", tconf.schedule)):
            if not isinstance(table, dict):
                raise ConfigError(f"profile {profile_path}: '{where}' must be a table of kind: cron")
            for kind, cron in table.items():
                get_kind(str(kind))
                merged[str(kind)] = cron if cron == OFF else check_cron(cron, f"profile {profile_path}: "
                                                                               f"'{where}.{kind}'")
        _, account = account_of(spec_path, target)
        out += [Schedule(spec_path, profile.name, target, kind, cron, account)
                for kind, cron in merged.items() if cron != OFF]
    return out


def store(url: str, schedules: list[Schedule], profiles: list[str]) -> None:
    """Replace the stored schedules of ``profiles`` with ``schedules``."""
    with connection(url) as conn, conn.transaction():
        conn.execute(f"DELETE FROM {SERVICE_SCHEMA}.schedules WHERE profile = ANY(%s)", (profiles,))
        for s in schedules:
            conn.execute(f"INSERT INTO {SERVICE_SCHEMA}.schedules (profile, profile_name, target, kind, cron, account,"
                         " last_enqueued) VALUES (%s, %s, %s, %s, %s, %s, now())",
                         (s.profile, s.profile_name, s.target, s.kind, s.cron, s.account))


def remove(url: str, profiles: list[str]) -> int:
    with connection(url) as conn:
        return conn.execute(f"DELETE FROM {SERVICE_SCHEMA}.schedules WHERE profile = ANY(%s)", (profiles,)).rowcount


def stored(url: str) -> list[dict[str, Any]]:
    with connection(url) as conn:
        cur = conn.execute(f"SELECT profile, profile_name, target, kind, cron, account, last_enqueued"
                           f" FROM {SERVICE_SCHEMA}.schedules ORDER BY profile_name, target, kind")
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def tick(app: Any, url: str, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """Enqueue every schedule whose cron time came in (last enqueued, now]; returns (profile, target, kind) of
    each job queued.  Rows are taken ``FOR UPDATE SKIP LOCKED``: two ticks at once never enqueue one schedule twice."""
    from connector.service.jobs import JobSpec, defer

    now = now or datetime.now(UTC)
    fired: list[tuple[str, str, str]] = []
    with connection(url) as conn, conn.transaction():
        rows = conn.execute(f"SELECT profile, profile_name, target, kind, cron, last_enqueued FROM {SERVICE_SCHEMA}"
                            ".schedules FOR UPDATE SKIP LOCKED").fetchall()
        for profile, name, target, kind, cron, last in rows:
            since = last or now - timedelta(minutes=1)
            if next_time(cron, since) > now:
                continue
            try:
                job_id = defer(app, JobSpec(profile, target, kind))
            except ConfigError:  # the profile file changed or went away: the schedule waits for `connector schedule`
                continue
            conn.execute(f"UPDATE {SERVICE_SCHEMA}.schedules SET last_enqueued = %s WHERE profile = %s AND"
                         " target = %s AND kind = %s", (now, profile, target, kind))
            if job_id is not None:  # None: the previous one still waits (a slow account is not queued twice)
                fired.append((name, target, kind))
    return fired


def register_tick(app: Any) -> None:
    from procrastinate.exceptions import ConnectorException

    from connector.sync.state.location import reason_of
    from connector.sync.state.postgres import StateUnreachable

    def schedule_tick(context: Any, timestamp: int) -> None:
        url = context.additional_context["url"]
        try:
            tick(context.app, url, datetime.fromtimestamp(timestamp, UTC))
        except StateUnreachable as exc:  # a restart: the next minute's tick enqueues what came due meanwhile
            log.warning("schedules not looked at this minute: %s", exc)
        except ConnectorException as exc:  # the same, met by procrastinate's defer
            log.warning("schedules not looked at this minute: %s", reason_of(exc.__cause__ or exc, url))

    task = app.task(name=TICK_TASK, pass_context=True, queue="connector-periodic")(schedule_tick)
    app.periodic(cron="* * * * *", periodic_id="schedule")(task)
