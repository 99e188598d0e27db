"""Helpers for the service tests: a migrated queue on the session's PostgreSQL, profiles on the sandboxes, and
worker processes started (and killed) like an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from connector.service.queue import connection, migrate

ROOT = Path(__file__).resolve().parent.parent


def migrated(url: str) -> str:
    migrate(url)
    return url


def csv_catalogue(path: Path, skus: dict[str, int], price: str = "2") -> Path:
    """A CSV workbook of simple products ``sku -> stock``."""
    lines = ["SKU,Name,Price,Stock: Main"] + [f"{sku},Product {sku},{price},{qty}" for sku, qty in skus.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def profile(path: Path, name: str, source: Path, state: str, targets: dict[str, dict[str, str]],
            extra: str = "") -> Path:
    lines = [f"name: {name}", f"source: {{type: spreadsheet, path: \"{source}\"}}", f"state: \"{state}\"",
             "missing: keep", "targets:"]
    for target, conf in targets.items():
        pairs = ", ".join(f'{k}: "{v}"' for k, v in conf.items())
        lines.append(f"  {target}: {{{pairs}}}")
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def start_worker(url: str, log: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``connector worker`` in a process of its own (its output in ``log``)."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "connector.cli", "worker", "--db", url, *args],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})


def last_enqueued(url: str, when: datetime) -> None:
    """Every stored schedule as last enqueued at ``when``: the next ``tick`` fires what is due after it."""
    with connection(url) as conn:
        conn.execute("UPDATE connector_service.schedules SET last_enqueued = %s", (when,))


def job_statuses(url: str) -> dict[str, int]:
    with connection(url) as conn:
        rows = conn.execute("SELECT status::text, count(*) FROM procrastinate_jobs"
                            " WHERE task_name = 'connector.run_job' GROUP BY 1").fetchall()
    return dict(rows)


def runs(url: str) -> list[tuple]:
    with connection(url) as conn:
        return conn.execute("SELECT profile_name, target, kind, account, worker, exit_code, started_at, finished_at"
                            " FROM connector_service.job_runs ORDER BY id").fetchall()
