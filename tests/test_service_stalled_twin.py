"""A job of a dead worker whose twin (same profile, target and kind) was queued meanwhile — the schedule fired or a
webhook came while the job ran — must not hold its account's lock for ever.  procrastinate keeps one waiting job
per queueing lock, so putting the stalled job back raised ``UniqueViolation``; ``retry_stalled`` stopped at it on
every check, the stalled job stayed ``doing`` with the account's lock, and no job of that account (nor the stalled
jobs after it in the list, of other accounts) ever ran again.  Found by a campaign with minute schedules and
workers killed with SIGKILL: 3 of 6 accounts never synced again (2,341 "could not look for stalled jobs: ")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg

from connector.service.jobs import JobSpec, defer
from connector.service.queue import make_app
from connector.service.worker import retry_stalled
from tests.service_support import csv_catalogue, migrated, profile


def statuses(url: str) -> list[tuple[int, str, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT id, queueing_lock, status::text FROM connector_queue.procrastinate_jobs"
                            " ORDER BY id").fetchall()


def test_a_stalled_job_whose_twin_waits_is_ended_and_the_others_are_retried(pg_url: str, tmp_path: Path) -> None:
    url = migrated(pg_url)
    source = csv_catalogue(tmp_path / "shop.csv", {"A": 1})
    shop = profile(tmp_path / "shop.yaml", "shop", source, pg_url, {"elebne": {"account": "acc"}})
    other = profile(tmp_path / "other.yaml", "other", source, pg_url, {"elebne": {"account": "acc2"}})
    app = make_app(url)
    with app.open():
        first, second = (defer(app, JobSpec.of(p, "elebne", "stock")) for p in (shop, other))

    async def taken_by_a_worker_that_dies() -> None:
        async with app.open_async():
            worker = await app.job_manager.register_worker()
            for _ in range(2):
                assert await app.job_manager.fetch_job(None, worker) is not None

    asyncio.run(taken_by_a_worker_that_dies())
    with psycopg.connect(url, autocommit=True) as conn:  # its heartbeat stopped a while ago
        conn.execute("UPDATE connector_queue.procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
    with app.open():
        twin = defer(app, JobSpec.of(shop, "elebne", "stock"))  # the schedule fires while the job is 'doing'
    assert twin is not None

    async def check() -> list[int]:
        async with app.open_async():
            return await retry_stalled(app, 3)

    assert asyncio.run(check()) == [second]
    assert statuses(url) == [(first, "job:shop:elebne:stock", "failed"), (second, "job:other:elebne:stock", "todo"),
                             (twin, "job:shop:elebne:stock", "todo")]
