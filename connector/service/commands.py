"""The service's command lines: ``worker``, ``schedule``, ``status``, ``watch`` and ``service migrate|enqueue``.

Parsers are added to ``connector``'s own (``add_parsers``); nothing here imports procrastinate before a command
needs it, so ``connector sync`` starts as fast as before.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from connector.errors import EXIT_OK

_DB_HELP = "the service's PostgreSQL database (default: $CONNECTOR_STATE_URL)"


def add_parsers(sub: Any) -> None:
    w = sub.add_parser("worker", help="run queued jobs (any number of workers, on any machine)")
    w.add_argument("--db", help=_DB_HELP)
    w.add_argument("--concurrency", type=int, default=1, help="jobs run at once by this worker (default 1)")
    w.add_argument("--once", action="store_true", help="leave when no job is waiting")
    w.add_argument("--heartbeat", type=float, default=10.0, metavar="SECONDS",
                   help="how often this worker tells it is alive (default 10)")
    w.add_argument("--stalled-after", type=float, default=60.0, metavar="SECONDS",
                   help="a worker silent this long is dead: its running job is queued again (default 60)")
    w.add_argument("--stalled-check", type=float, default=60.0, metavar="SECONDS",
                   help="how often to look for jobs of dead workers (default 60)")
    w.add_argument("--name", help="this worker's name in logs and `connector status` (default host:pid)")
    w.add_argument("--grace", type=float, metavar="SECONDS",
                   help="after SIGTERM, how long running jobs may go on before their runs are asked to stop and "
                        "queued again (default 15, less if --stalled-after leaves no room for it)")

    s = sub.add_parser("schedule", help="store the cron schedules of profiles (`schedule:` in each profile)")
    s.add_argument("--db", help=_DB_HELP)
    s.add_argument("--profile", type=Path, action="append", default=[], help="a profile (repeatable)")
    s.add_argument("--remove", action="store_true", help="remove these profiles' schedules")
    s.add_argument("--list", action="store_true", help="print every stored schedule")

    st = sub.add_parser("status", help="accounts, last and next runs, budgets left today, queued and failed jobs")
    st.add_argument("--db", help=_DB_HELP)
    st.add_argument("--json", action="store_true", help="print JSON")

    wa = sub.add_parser("watch", help="push stock changes as they happen: poll the source's cursor every N seconds")
    wa.add_argument("--profile", type=Path, required=True)
    wa.add_argument("--target", help="one target (default: every target of the profile)")
    wa.add_argument("--every", type=float, default=10.0, metavar="SECONDS", help="poll interval (default 10)")
    wa.add_argument("--once", action="store_true", help="one poll (and a push if something changed), then exit")
    wa.add_argument("--enqueue", action="store_true",
                    help="enqueue a stock job for the workers instead of pushing from this process (needs --db)")
    wa.add_argument("--db", help=_DB_HELP)

    sv = sub.add_parser("service", help="the service's database: migrate (apply schemas), enqueue a job")
    sv.add_argument("action", choices=("migrate", "enqueue"))
    sv.add_argument("--db", help=_DB_HELP)
    sv.add_argument("--profile", type=Path, help="enqueue: the profile")
    sv.add_argument("--target", help="enqueue: one target (default: every target of the profile)")
    sv.add_argument("--kind", default="stock", help="enqueue: catalogue, stock, watch, ... (default stock)")


def run(args: argparse.Namespace) -> int:
    return int(_COMMANDS[args.command](args))


def cmd_worker(args: argparse.Namespace) -> int:
    from connector.service.queue import service_url
    from connector.service.worker import WorkerSettings, run_worker

    run_worker(service_url(args.db), WorkerSettings(
        concurrency=args.concurrency, heartbeat=args.heartbeat, stalled_after=args.stalled_after,
        stalled_check=args.stalled_check, once=args.once, name=args.name, grace=args.grace))
    return EXIT_OK


def cmd_schedule(args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.errors import ConfigError
    from connector.service import schedule
    from connector.service.queue import service_url

    url = service_url(args.db)
    if not args.profile and not args.list:
        raise ConfigError("schedule needs --profile (repeatable) or --list")
    paths = [str(p.expanduser().resolve()) for p in args.profile]
    if args.remove:
        out.print(f"{schedule.remove(url, paths)} schedule(s) removed")
    elif paths:
        found = [s for p in paths for s in schedule.schedules_of(p)]
        schedule.store(url, found, paths)
        for s in found:
            out.print(f"{s.profile_name} {s.target} {s.kind}: {s.cron} (account {s.account})")
        out.print(f"{len(found)} schedule(s) stored for {len(paths)} profile(s)"
                  + ("" if found else ": none of them has a `schedule:`"))
    if args.list:
        for row in schedule.stored(url):
            out.print(f"{row['profile_name']} {row['target']} {row['kind']}: {row['cron']} ({row['profile']})")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.service.queue import service_url
    from connector.service.status import collect, render

    entries = collect(service_url(args.db))
    if args.json:
        print(json.dumps({"entries": entries}, indent=2, default=str))
    else:
        for line in render(entries):
            out.print(line, markup=False)
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    from connector.service.watch import watch

    return watch(args.profile, args.target, every=args.every, once=args.once,
                 enqueue_to=_enqueue_url(args) if args.enqueue else None)


def _enqueue_url(args: argparse.Namespace) -> str:
    from connector.service.queue import service_url

    return service_url(args.db)


def cmd_service(args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.errors import ConfigError
    from connector.service.queue import migrate, service_url

    url = service_url(args.db)
    if args.action == "migrate":
        for line in migrate(url):
            out.print(line)
        return EXIT_OK
    if args.profile is None:
        raise ConfigError("service enqueue needs --profile")
    for target, job_id in enqueue(url, args.profile, args.target, args.kind):
        out.print(f"{target} {args.kind}: " + (f"job {job_id} queued" if job_id else "already waiting in the queue"))
    return EXIT_OK


def enqueue(url: str, profile: Path, target: str | None, kind: str) -> list[tuple[str, int | None]]:
    """Queue ``kind`` for ``target`` (or every target) of ``profile``: [(target, job id or None if one waits)]."""
    from connector.config import load_profile
    from connector.service.jobs import JobSpec, defer
    from connector.service.queue import connection, make_app, require_queue

    targets = [target] if target else list(load_profile(profile).targets)
    specs = [JobSpec.of(profile, t, kind) for t in targets]
    with connection(url) as conn:
        require_queue(conn, url)
    app = make_app(url)
    with app.open():
        return [(s.target, defer(app, s)) for s in specs]


_COMMANDS = {"worker": cmd_worker, "schedule": cmd_schedule, "status": cmd_status, "watch": cmd_watch,
             "service": cmd_service}
