"""``connector status``: per profile, target and kind: the account, the last run and its exit code, the next
scheduled run, the API budget left today, and the jobs waiting, running or failed.

Read from the service tables (``connector_service``), procrastinate's job table and each profile's state (its
budget, read without taking the run lock).  A profile whose file this machine cannot read shows what the
database knows and ``budget: ?``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.errors import ConnectorError
from connector.service.jobs import queueing_lock
from connector.service.queue import QUEUE_SCHEMA, SERVICE_SCHEMA, connection, require_queue
from connector.service.schedule import next_time

FAILED_WINDOW = timedelta(hours=24)  # failed jobs shown: those of the last day


def _rows(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def budget_left(profile: str, target: str, account: str) -> dict[str, int] | None:
    """What each daily-limited call class of ``account`` has left today (None: the profile cannot be read)."""
    from connector.config import load_profile
    from connector.http import Budget
    from connector.marketplaces.registry import get_plugin
    from connector.sync.session import merge_settings
    from connector.sync.state import StateStore

    try:
        loaded = load_profile(profile)
        plugin = get_plugin(target)
        limits = plugin.limits_with(merge_settings(plugin.settings, loaded.targets[target].settings))
        with StateStore.open(loaded.state, lock=False) as state:
            budget = Budget(limits, state.budget_counter(target, account))
            left = {c: budget.remaining_today(c) for c in limits}
    except (ConnectorError, KeyError, OSError):
        return None
    return {c: n for c, n in left.items() if n is not None}


def collect(url: str, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or datetime.now(UTC)
    with connection(url) as conn:
        require_queue(conn, url)
        schedules = _rows(conn, f"SELECT profile, profile_name, target, kind, cron, account FROM {SERVICE_SCHEMA}"
                                ".schedules")
        last_runs = _rows(conn, f"SELECT DISTINCT ON (profile, target, kind) profile, profile_name, target, kind,"
                                " account, worker, started_at, finished_at, exit_code, message, job_id"
                                f" FROM {SERVICE_SCHEMA}.job_runs ORDER BY profile, target, kind, started_at DESC")
        jobs = _rows(conn, f"SELECT queueing_lock, count(*) AS n FROM {QUEUE_SCHEMA}.procrastinate_jobs"
                           " WHERE status = 'todo' AND queueing_lock LIKE 'job:%%' GROUP BY 1")
        # running and failed jobs by their arguments; failed ones of the last day only
        running = _rows(conn, f"SELECT args->>'profile' AS profile, args->>'target' AS target, args->>'kind' AS kind,"
                              f" status::text AS status, count(*) AS n FROM {QUEUE_SCHEMA}.procrastinate_jobs j"
                              " WHERE task_name = 'connector.run_job' AND (status = 'doing' OR (status = 'failed'"
                              f" AND EXISTS (SELECT 1 FROM {QUEUE_SCHEMA}.procrastinate_events ev WHERE"
                              " ev.job_id = j.id AND ev.at > %s))) GROUP BY 1, 2, 3, 4", (now - FAILED_WINDOW,))
    entries: dict[tuple[str, str, str], dict[str, Any]] = {}

    def entry(profile: str, name: str, target: str, kind: str, account: str) -> dict[str, Any]:
        key = (profile, target, kind)
        if key not in entries:
            entries[key] = {"profile": profile, "profile_name": name, "target": target, "kind": kind,
                            "account": account, "schedule": None, "next_run": None, "last_run": None,
                            "jobs": {"waiting": 0, "running": 0, "failed": 0}}
        return entries[key]

    for s in schedules:
        e = entry(s["profile"], s["profile_name"], s["target"], s["kind"], s["account"])
        e["schedule"], e["next_run"] = s["cron"], next_time(s["cron"], now).isoformat()
    for r in last_runs:
        e = entry(r["profile"], r["profile_name"], r["target"], r["kind"], r["account"])
        e["last_run"] = {"started_at": r["started_at"].astimezone(UTC).isoformat(),
                         "finished_at": r["finished_at"].astimezone(UTC).isoformat() if r["finished_at"] else None,
                         "exit_code": r["exit_code"], "worker": r["worker"], "message": r["message"] or None}
    waiting = {j["queueing_lock"]: j["n"] for j in jobs}
    by_args: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for j in running:
        by_args[(j["profile"], j["target"], j["kind"])][j["status"]] += j["n"]
    for key, e in entries.items():
        e["jobs"]["waiting"] = waiting.get(queueing_lock(e["profile_name"], e["target"], e["kind"]), 0)
        e["jobs"]["running"] = by_args[key]["doing"]
        e["jobs"]["failed"] = by_args[key]["failed"]
        last = e["last_run"]
        if last is not None:  # a run not finished whose job no worker runs: its end was never written down
            last["running"] = last["finished_at"] is None and e["jobs"]["running"] > 0
    budgets: dict[tuple[str, str], dict[str, int] | None] = {}
    for e in entries.values():
        key = (e["profile"], e["target"])
        if key not in budgets:
            budgets[key] = budget_left(e["profile"], e["target"], e["account"])
        e["budget_left_today"] = budgets[key]
    return sorted(entries.values(), key=lambda e: (e["profile_name"], e["target"], e["kind"]))


def render(entries: list[dict[str, Any]]) -> list[str]:
    """Readable lines: one per profile, target and kind."""
    if not entries:
        return ["no schedules and no runs yet: `connector schedule --profile ...` or `connector service enqueue ...`"]
    lines = []
    for e in entries:
        last = e["last_run"]
        if last is None:
            last_text = "never ran"
        elif last["running"]:
            last_text = f"running since {_short(last['started_at'])} on {last['worker']}"
        elif last["finished_at"] is None:
            last_text = (f"started {_short(last['started_at'])} on {last['worker']}, its end not recorded (the worker "
                         "died or lost the database: a job it held is retried)")
        else:
            last_text = f"last {_short(last['finished_at'])} exit {last['exit_code']}"
            if last["message"]:
                last_text += f" ({last['message']})"
        nxt = f"next {_short(e['next_run'])} ({e['schedule']})" if e["next_run"] else "not scheduled"
        budget = e["budget_left_today"]
        budget_text = ("budget ?" if budget is None else
                       "budget: no daily limit" if not budget else
                       "budget left today: " + ", ".join(f"{c} {n}" for c, n in sorted(budget.items())))
        jobs = e["jobs"]
        job_text = ", ".join(f"{n} {what}" for what, n in jobs.items() if n) or "no jobs queued"
        lines.append(f"{e['profile_name']} {e['target']} {e['kind']} [{e['account']}]: {last_text}; {nxt}; "
                     f"{budget_text}; {job_text}")
    return lines


def _short(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
