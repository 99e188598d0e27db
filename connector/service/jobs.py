"""One job per (profile, target, kind), locked per marketplace account, and what each run of it ended with.

- ``lock``: ``account:<marketplace>:<account>``: procrastinate starts no job while another with the same lock is
  running, so one marketplace account never runs twice at once (on any worker, any machine); different accounts
  run in parallel.
- ``queueing_lock``: ``job:<profile>:<target>:<kind>``: at most one such job waiting; enqueueing it again while
  one waits is a no-op (a schedule firing while the last run still waits, a burst of webhooks).
- A job runs ``connector.cli.main`` with the command line of its kind (``kinds.py``): the same code path as
  ``connector sync --profile P --target T``.  Its exit code decides what follows (``RETRY`` below) and is kept
  in ``connector_service.job_runs`` for ``connector status``.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.errors import EXIT_LOCKED, EXIT_PARTIAL, EXIT_UNREACHABLE, EXIT_USAGE, ConfigError, UserError
from connector.service.kinds import get_kind
from connector.service.queue import QUEUE_NAME, SERVICE_SCHEMA, connection
from connector.sync.state.postgres import StateUnreachable

log = logging.getLogger("connector.service")

TASK_NAME = "connector.run_job"
STATE_BUSY_RETRY_SECONDS = 15  # exit 5: another job of the same profile state (another target) runs
STATE_BUSY_ATTEMPTS = 40  # ... for up to 10 minutes
UNREACHABLE_RETRY_SECONDS = 60  # exit 4: 1, 2, 4, 8, 16 minutes, then the job is failed (next schedule)
UNREACHABLE_ATTEMPTS = 6
PARTIAL_FOLLOW_UP_SECONDS = 300  # exit 3 (budget spent, stopped, 429 after retries): carried on 5 minutes later
SHUTDOWN = "the worker is shutting down"  # a run stopped at the end of the worker's grace period: queued again now
ABORTED = "the job was aborted"  # procrastinate's abort asked for by a person: not queued again


@dataclass(frozen=True)
class JobSpec:
    profile: str  # absolute path of the profile file (the same path on every worker machine)
    target: str
    kind: str

    @classmethod
    def of(cls, profile: str | Path, target: str, kind: str) -> JobSpec:
        from connector.config import load_profile

        path = Path(profile).expanduser().resolve()
        loaded = load_profile(path)
        if target not in loaded.targets:
            raise ConfigError(f"profile {path} has no target {target!r} (it has: {', '.join(loaded.targets)})")
        get_kind(kind)
        return cls(str(path), target, kind)

    def args(self) -> dict[str, str]:
        return {"profile": self.profile, "target": self.target, "kind": self.kind}


def account_of(profile: str, target: str) -> tuple[str, str]:
    """(profile name, marketplace account) of a profile's target: the account is ``account:`` or, as in a run
    without one, the API host."""
    from connector.config import load_profile
    from connector.marketplaces.registry import get_plugin

    loaded = load_profile(profile)
    tconf = loaded.targets[target]
    base_url = tconf.base_url or get_plugin(target).default_base_url
    return loaded.name, tconf.account or urlsplit(base_url).netloc


def account_lock(target: str, account: str) -> str:
    return f"account:{target}:{account}"


def queueing_lock(profile_name: str, target: str, kind: str) -> str:
    return f"job:{profile_name}:{target}:{kind}"


def defer(app: Any, spec: JobSpec, *, schedule_in: float | None = None) -> int | None:
    """Enqueue ``spec`` (``app`` open); None when the same job already waits."""
    from procrastinate.exceptions import AlreadyEnqueued

    name, account = account_of(spec.profile, spec.target)
    options: dict[str, Any] = {"lock": account_lock(spec.target, account),
                               "queueing_lock": queueing_lock(name, spec.target, spec.kind), "queue": QUEUE_NAME}
    if schedule_in:
        options["schedule_in"] = {"seconds": schedule_in}
    try:
        return int(app.configure_task(TASK_NAME, **options).defer(**spec.args()))
    except AlreadyEnqueued:
        return None


# -- what follows an exit code --------------------------------------------------------------------------------
class JobOutcome(Exception):
    """A run that did not end well: ``retry_in`` seconds later (up to ``attempts`` attempts), or never."""

    def __init__(self, message: str, code: int | None, retry_in: float | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.code, self.retry_in, self.attempts = code, retry_in, attempts


def outcome_of(code: int) -> JobOutcome | None:
    if code == EXIT_LOCKED:
        return JobOutcome("the profile's state is held by another run", code, STATE_BUSY_RETRY_SECONDS,
                          STATE_BUSY_ATTEMPTS)
    if code == EXIT_UNREACHABLE:
        return JobOutcome("the marketplace or the source could not be reached", code, UNREACHABLE_RETRY_SECONDS,
                          UNREACHABLE_ATTEMPTS)
    if code == EXIT_USAGE:
        return JobOutcome("nothing sent: configuration, input or the mass-change guard (see the report)", code)
    return None


def _retry_strategy() -> Any:
    from procrastinate.retry import BaseRetryStrategy, RetryDecision

    class ByExitCode(BaseRetryStrategy):
        def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
            if not isinstance(exception, JobOutcome) or exception.retry_in is None:
                return None
            if job.attempts + 1 >= exception.attempts:
                return None
            wait = exception.retry_in * (2 ** job.attempts if exception.code == EXIT_UNREACHABLE else 1)
            return RetryDecision(retry_in={"seconds": int(wait)})

    return ByExitCode()


# -- the task ----------------------------------------------------------------------------------------------------
def run_command(argv: list[str]) -> int:
    """``connector <argv>`` in this process (its summary goes to the worker's output, its report to the reports
    folder as for a run by hand): the exit code."""
    from connector.cli import main

    return int(main(argv))


def run_job(context: Any, profile: str, target: str, kind: str) -> int:
    url = context.additional_context["url"]
    job = context.job
    unreadable: UserError | None = None
    try:
        profile_name, account = account_of(profile, target)
        argv = get_kind(kind).argv(profile, target)
    except UserError as exc:  # the profile was edited or removed since the job was queued: a person must look
        (profile_name, account), unreadable, argv = names_queued(job, target), exc, []
    worker = context.additional_context.get("worker_label") or f"{socket.gethostname()}:{os.getpid()}"
    try:
        with connection(url) as conn:
            run_id = conn.execute(
                f"INSERT INTO {SERVICE_SCHEMA}.job_runs (job_id, profile, profile_name, target, kind, account, worker,"
                " attempt) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (job.id, profile, profile_name, target, kind, account, worker, job.attempts)).fetchone()[0]
    except StateUnreachable as exc:  # nothing ran: retried like a run that could not reach its state
        raise JobOutcome(f"the service database could not be reached: {exc}", EXIT_UNREACHABLE,
                         UNREACHABLE_RETRY_SECONDS, UNREACHABLE_ATTEMPTS) from None
    code: int | None = None
    message = ""
    # the worker's SIGTERM reaches no job thread: at the end of its grace period procrastinate asks the job to
    # abort, and the run's own stop (connector.http.stop) hears it: the request in flight ends, the rest waits
    try:
        from connector.http.stop import stop_asked_by

        if unreadable is not None:
            code = EXIT_USAGE
        else:
            with stop_asked_by(lambda: stop_reason(context)):
                code = run_command(argv)
        failure = outcome_of(code)
        if unreadable is not None:
            failure = JobOutcome(f"nothing sent: {unreadable}", code)
        stopped = stop_reason(context)
        message = str(failure) if failure else f"stopped: {stopped}" if stopped else ""
        if failure is not None and failure.retry_in is not None and twin_waits(url, job):
            message, failure = f"{failure}; the same job waits in the queue and carries on", None
    except BaseException as exc:
        message = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        # a database that went away during the run (a restart: the run itself ended with exit 4) must not turn
        # the run's outcome into an error procrastinate fails for good: the history is only bookkeeping
        try:
            with connection(url) as conn:
                conn.execute(f"UPDATE {SERVICE_SCHEMA}.job_runs SET finished_at = now(), exit_code = %s,"
                             " message = %s WHERE id = %s", (code, message[-2000:], run_id))
        except StateUnreachable as exc:
            log.warning("job %s: its run ended with exit %s, which could not be recorded: %s", job.id, code, exc)
    if failure is not None:
        raise failure
    if code == EXIT_PARTIAL and stopped != ABORTED:  # stopped by the worker's shutdown: the next worker at once
        defer(context.app, JobSpec(profile, target, kind),
              schedule_in=None if stopped == SHUTDOWN else PARTIAL_FOLLOW_UP_SECONDS)
    return code


def twin_waits(url: str, job: Any) -> bool:
    """True when the same job (its queueing lock) already waits in the queue: a schedule, a webhook or ``enqueue``
    queued it while this one ran.  This one is then not retried: procrastinate keeps one waiting job per queueing
    lock, so its retry would fail (``UniqueViolation``) and leave it ``doing`` for good, holding its account's
    lock while its worker lives; the waiting one runs the same command and carries on."""
    lock = getattr(job, "queueing_lock", None)
    if not lock:
        return False
    try:
        with connection(url) as conn:
            return conn.execute("SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = %s AND status = 'todo'"
                                " AND id <> %s", (lock, job.id)).fetchone() is not None
    except StateUnreachable:
        return False  # retried as usual


def names_queued(job: Any, target: str) -> tuple[str, str]:
    """(profile name, account) as the job was queued with them (its queueing lock ``job:<profile>:<target>:<kind>``
    and its lock ``account:<target>:<account>``): a job whose profile can no longer be read is still recorded
    under its line of ``connector status``."""
    name = (job.queueing_lock or "").removeprefix("job:").rsplit(":", 2)[0]
    account = (job.lock or "").removeprefix(f"account:{target}:")
    return name or "?", account or "?"


def stop_reason(context: Any) -> str | None:
    """Why procrastinate asks this job to stop (the worker's shutdown, or a person's abort), or None."""
    from procrastinate.job_context import AbortReason

    reason = context.abort_reason()
    if reason is None:
        return None
    return SHUTDOWN if reason == AbortReason.SHUTDOWN else ABORTED


def register_tasks(app: Any) -> None:
    app.task(name=TASK_NAME, pass_context=True, queue=QUEUE_NAME, retry=_retry_strategy())(run_job)
    from connector.service.schedule import register_tick

    register_tick(app)
