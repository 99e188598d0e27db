"""``connector worker``: runs jobs; any number of them, on any machine that reaches the database.

Each worker sends procrastinate's heartbeat every ``heartbeat`` seconds (``update_heartbeat_interval``).  A job
still ``doing`` whose worker sent none for ``stalled_after`` seconds belongs to a dead worker (SIGKILL, a lost
machine): every live worker looks for such jobs at start and every ``stalled_check`` seconds and puts them back
in the queue (``JobManager.get_stalled_jobs`` + ``retry_job``, procrastinate's documented recipe), where the next
free worker takes them.  With the defaults (10 s, 60 s, 60 s) a job of a dead worker runs again within about two
minutes, well inside the ten the service promises.  The run it interrupted left its state as a killed
``connector sync`` does: confirmed work is kept, open journal batches are re-planned, so it ends exact.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connector.service.queue import connection, make_app, require_queue
from connector.sync.state.location import reason_of, shown

log = logging.getLogger("connector.service")


@dataclass
class WorkerSettings:
    concurrency: int = 1
    heartbeat: float = 10.0  # procrastinate's update_heartbeat_interval
    stalled_after: float = 60.0  # a worker silent this long is dead; also procrastinate's stalled_worker_timeout
    stalled_check: float = 60.0  # how often a live worker looks for jobs of dead ones
    poll: float = 5.0  # fetch_job_polling_interval (LISTEN/NOTIFY wakes workers at once anyway)
    once: bool = False  # leave when the queue is empty (tests, a cron-driven worker)
    name: str | None = None
    grace: float | None = None  # seconds running jobs may go on after SIGTERM before their runs are asked to
    # stop; None: DEFAULT_GRACE, shortened to what --stalled-after leaves room for


DEFAULT_GRACE = 15.0


#: what a run asked to stop may still take: the request in flight (the HTTP timeout)
STOP_MARGIN = 30.0


def grace_of(settings: WorkerSettings) -> float:
    """The grace period: the one asked for (refused when it does not fit in ``stalled_after``), else the default
    shortened to fit (0: runs are asked to stop at once)."""
    from connector.errors import ConfigError

    if settings.concurrency < 1:
        raise ConfigError("--concurrency must be 1 or more")
    room = settings.stalled_after - settings.heartbeat - STOP_MARGIN
    if settings.grace is None:
        return max(0.0, min(DEFAULT_GRACE, room))
    if settings.grace < 0:
        raise ConfigError("--grace must be 0 or more seconds")
    if settings.grace > 0 and settings.grace >= room:
        raise ConfigError(f"--grace {settings.grace:g} is too long for --stalled-after {settings.stalled_after:g}: "
                          f"a stopping worker sends no heartbeat, so --heartbeat + --grace + {STOP_MARGIN:g} s (the "
                          "request in flight) must stay under --stalled-after, or another worker would run the job "
                          "while it is still ending here")
    return settings.grace


async def retry_stalled(app: Any, stalled_after: float) -> list[int]:
    """Put back in the queue every running job whose worker has been silent ``stalled_after`` seconds.

    A stalled job whose twin (same profile, target and kind: its queueing lock) already waits in the queue — a
    schedule, a webhook or ``enqueue`` queued it while the dead worker ran it — cannot go back (procrastinate
    keeps one waiting job per queueing lock): it is marked failed (its run was interrupted), and the waiting one,
    which runs the same command, carries on where it stopped.  Left ``doing``, it would hold its account's lock
    for ever: no job of that account would run again."""
    from procrastinate.exceptions import UniqueViolation
    from procrastinate.jobs import Status

    retried = []
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        try:
            await app.job_manager.retry_job(job)
        except UniqueViolation:
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
            log.warning("job %s (%s) of a dead worker is marked failed: the same job already waits in the queue "
                        "and carries on", job.id, job.call_string)
            continue
        log.warning("job %s (%s) of a dead worker is back in the queue", job.id, job.call_string)
        retried.append(job.id)
    return retried


async def _stalled_loop(app: Any, settings: WorkerSettings) -> None:
    while True:
        try:
            await retry_stalled(app, settings.stalled_after)
        except Exception as exc:
            log.warning("could not look for stalled jobs: %s", str(exc).strip() or type(exc).__name__)
        await asyncio.sleep(settings.stalled_check)


class _ExitCodesWithoutTraceback(logging.Filter):
    """A job that ended with exit 2, 4 or 5, or lost the service database (a restart while it recorded its end
    or queued its follow-up), is logged by procrastinate as an error: its reason, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from connector.service.jobs import JobOutcome
        from connector.sync.state.postgres import StateUnreachable

        if record.exc_info and isinstance(record.exc_info[1], JobOutcome | StateUnreachable):
            record.msg = f"{record.getMessage()}: {record.exc_info[1]}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


_REASONS_ONLY = _ExitCodesWithoutTraceback()


class _LostDatabase(logging.Filter):
    """procrastinate stops a worker whose side task (the job listener, the heartbeat) failed on the database (a
    server restart, a dropped connection) as if it had been asked to stop, and logs the driver's tracebacks.  This
    keeps the reason, in one line and password scrubbed, so that the worker then exits 4 (the database could not
    be reached: a supervisor restarts it) instead of 0 (a clean stop, which ``restart: on-failure`` leaves be)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.reason: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        from procrastinate.exceptions import ConnectorException

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ConnectorException):
            cause = exc.__cause__ or exc
            reason = reason_of(cause, self.url)
            if getattr(record, "action", None) == "side_task_failed":
                self.reason = self.reason or reason
            record.msg = f"{record.getMessage().strip().splitlines()[0].rstrip(': ')}: {reason}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


@contextmanager
def filtered(loggers: list[logging.Logger], keep: logging.Filter) -> Iterator[None]:
    """``keep`` on ``loggers`` for the block, and for what the block left to be collected: a side task that failed
    on the database and that no one awaited is logged by asyncio ("Task exception was never retrieved", with the
    driver's traceback) only when the task is freed, which its exception's traceback, holding its frames, leaves
    to the cycle collector: at any moment, after the filter was removed too (a traceback in the log of one run in
    a few of the lost-database test).  Collected here, under the filter."""
    for logger in loggers:
        logger.addFilter(keep)
    try:
        yield
    finally:
        gc.collect()
        for logger in loggers:
            logger.removeFilter(keep)


def run_worker(url: str, settings: WorkerSettings) -> None:
    grace = grace_of(settings)
    logging.getLogger("procrastinate.worker").addFilter(_REASONS_ONLY)  # once: a logger keeps a set of filters
    with connection(url) as conn:
        require_queue(conn, url)
    app = make_app(url)
    name = settings.name or f"{socket.gethostname()}:{os.getpid()}"
    lost = _LostDatabase(url)
    # asyncio: a side task that failed on the database and that no one awaited any more ("Task exception was
    # never retrieved", seen once in a fresh clone's run of the lost-database test) is one line too
    loggers = [logging.getLogger(n) for n in ("procrastinate.worker", f"procrastinate.worker.{name}",
                                              "procrastinate.utils", "asyncio")]

    async def main() -> None:
        async with app.open_async():
            checker = asyncio.create_task(_stalled_loop(app, settings))
            try:
                await app.run_worker_async(
                    name=name, concurrency=settings.concurrency, wait=not settings.once,
                    update_heartbeat_interval=settings.heartbeat, stalled_worker_timeout=settings.stalled_after,
                    fetch_job_polling_interval=settings.poll, delete_jobs="successful",
                    shutdown_graceful_timeout=grace,
                    additional_context={"url": url, "worker_label": name})
            finally:
                checker.cancel()

    from procrastinate.exceptions import ConnectorException

    from connector.sync.state.postgres import StateUnreachable

    with filtered(loggers, lost):
        try:
            asyncio.run(main())
        except ConnectorException as exc:
            lost.reason = reason_of(exc.__cause__ or exc, url)
    if lost.reason:
        raise StateUnreachable(f"the worker stopped: it lost the service database {shown(url)} ({lost.reason}); "
                               "the jobs it was running go back to the queue when a worker runs again")
