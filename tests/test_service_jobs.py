"""Jobs on procrastinate: a queued job runs the same sync as `connector sync`, its run is kept for
`connector status`, one account is never run twice at once, the queue's schema comes from `service migrate`."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connector.cli import main
from connector.errors import ConfigError
from connector.marketplaces.elebne import PLUGIN as ELEBNE
from connector.service.jobs import JobSpec, account_lock, account_of
from connector.service.queue import connection
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.service_support import csv_catalogue, job_statuses, migrated, profile, runs


def test_service_migrate_applies_the_queue_schema_once_and_again_is_harmless(pg_url: str, capsys) -> None:
    assert main(["service", "migrate", "--db", pg_url]) == 0
    assert "procrastinate's schema applied" in capsys.readouterr().out
    assert main(["service", "migrate", "--db", pg_url]) == 0
    said = capsys.readouterr().out
    assert "procrastinate's schema applied" not in said and "service tables ready" in said


def test_a_worker_without_the_queue_schema_says_to_migrate(pg_url: str, capsys) -> None:
    assert main(["worker", "--db", pg_url, "--once"]) == 2
    assert "connector service migrate" in capsys.readouterr().err


def test_the_service_without_a_database_is_a_clear_error(capsys) -> None:
    assert main(["status"]) == 2
    assert "CONNECTOR_STATE_URL" in capsys.readouterr().err


@pytest.mark.sandbox
def test_a_queued_stock_job_pushes_like_sync_and_status_tells_its_exit_code(
        pg_url: str, fast_elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    url = migrated(pg_url)
    source = csv_catalogue(tmp_path / "shop.csv", {"A-1": 4, "A-2": 7})
    prof = profile(tmp_path / "shop.yaml", "shop", source, pg_url,
                   {"elebne": {"account": "shop-a", "base_url": fast_elebne_sandbox.base_url}})
    assert main(["service", "enqueue", "--db", url, "--profile", str(prof), "--kind", "stock"]) == 0
    assert main(["service", "enqueue", "--db", url, "--profile", str(prof), "--kind", "stock"]) == 0
    assert "already waiting" in capsys.readouterr().out  # one waiting job per (profile, target, kind)
    assert main(["worker", "--db", url, "--once"]) == 0
    products = fast_elebne_sandbox.products()
    assert set(products) == {"A-1", "A-2"}
    assert job_statuses(url) == {}  # succeeded jobs are deleted; their runs are kept
    [run] = runs(url)
    assert run[:4] == ("shop", "elebne", "stock", "shop-a") and run[5] == 0
    capsys.readouterr()
    assert main(["status", "--db", url, "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["entries"]
    assert entry["account"] == "shop-a" and entry["last_run"]["exit_code"] == 0
    assert entry["budget_left_today"]["write"] == 100_000 - 2  # the lifted sandbox limits: 2 creates taken
    assert main(["status", "--db", url]) == 0
    line = capsys.readouterr().out
    assert "shop elebne stock [shop-a]: last" in line and "exit 0" in line and "not scheduled" in line


def test_jobs_are_locked_per_marketplace_account(tmp_path: Path, pg_url: str) -> None:
    source = csv_catalogue(tmp_path / "a.csv", {"A": 1})
    one = profile(tmp_path / "one.yaml", "one", source, pg_url,
                  {"elebne": {"account": "acc-1"}, "elryan": {"account": "acc-1"}})
    two = profile(tmp_path / "two.yaml", "two", source, pg_url, {"elebne": {"account": "acc-1"}})
    three = profile(tmp_path / "three.yaml", "three", source, pg_url, {"elebne": {}})
    locks = {account_lock(s.target, account_of(s.profile, s.target)[1])
             for s in (JobSpec.of(one, "elebne", "stock"), JobSpec.of(two, "elebne", "catalogue"))}
    assert locks == {"account:elebne:acc-1"}  # two profiles on one account share its lock
    assert account_lock("elryan", account_of(str(one), "elryan")[1]) == "account:elryan:acc-1"
    host = urlsplit(ELEBNE.default_base_url).netloc
    assert account_of(str(three), "elebne")[1] == host  # no account: the API host, as a run names it


def test_orders_and_fulfilment_plug_in_as_one_kind_each(monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.service import kinds as registry

    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    monkeypatch.setattr(registry, "_command_exists", lambda name: name == "orders")
    assert registry.get_kind("orders").argv("/p.yaml", "elebne") == ["orders", "--profile", "/p.yaml",
                                                                      "--target", "elebne", "--no-progress"]
    assert "fulfilment" not in registry.kinds()  # not in this installation yet: no such kind
    with pytest.raises(ConfigError, match="unknown job kind 'fulfilment'"):
        registry.get_kind("fulfilment")
    assert registry.get_kind("catalogue").argv("/p.yaml", "elebne")[:5] == ["sync", "--profile", "/p.yaml",
                                                                            "--target", "elebne"]
    assert "--full" in registry.get_kind("catalogue").argv("/p.yaml", "elebne")
    assert "--full" not in registry.get_kind("stock").argv("/p.yaml", "elebne")


@pytest.mark.sandbox
def test_a_watch_job_polls_once_and_pushes_what_changed(
        pg_url: str, fast_elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    url = migrated(pg_url)
    source = csv_catalogue(tmp_path / "shop.csv", {"W-1": 3})
    prof = profile(tmp_path / "shop.yaml", "shop", source, pg_url,
                   {"elebne": {"account": "w", "base_url": fast_elebne_sandbox.base_url}})
    assert main(["service", "enqueue", "--db", url, "--profile", str(prof), "--kind", "watch"]) == 0
    assert main(["worker", "--db", url, "--once"]) == 0
    assert fast_elebne_sandbox.products()["W-1"]["quantity"] == 3
    assert [r[2] for r in runs(url)] == ["watch"] and runs(url)[0][5] == 0


def test_status_tells_a_run_whose_end_was_never_recorded_from_one_still_running(
        pg_url: str, tmp_path: Path, capsys) -> None:
    """A worker killed during a run (or one that lost the database as the run ended) leaves its run without an
    end: with no job of that line running, it is no longer "running since" (which it would say for good)."""
    url = migrated(pg_url)
    with connection(url) as conn:
        conn.execute("INSERT INTO connector_service.job_runs (job_id, profile, profile_name, target, kind, account,"
                     " worker, attempt) VALUES (1, '/p/shop.yaml', 'shop', 'elebne', 'stock', 'shop-a', 'host:42', 0)")
    assert main(["status", "--db", url, "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["entries"]
    assert entry["last_run"]["finished_at"] is None and entry["last_run"]["running"] is False
    assert main(["status", "--db", url]) == 0
    line = " ".join(capsys.readouterr().out.split())  # wrapped to the terminal
    assert "shop elebne stock [shop-a]: started " in line and " on host:42, its end not recorded" in line
    assert "running since" not in line
    with connection(url) as conn:  # its job taken by a worker again: that run is running
        conn.execute("INSERT INTO connector_queue.procrastinate_jobs (queue_name, task_name, args, status) VALUES"
                     " ('connector', 'connector.run_job', %s, 'doing')",
                     (json.dumps({"profile": "/p/shop.yaml", "target": "elebne", "kind": "stock"}),))
    assert main(["status", "--db", url]) == 0
    line = " ".join(capsys.readouterr().out.split())  # wrapped to the terminal
    assert " running since " in line and " on host:42;" in line and "1 running" in line
