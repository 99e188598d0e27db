"""The `fulfilment` job kind (issue 14's `connector fulfil`): its command line, its lock per marketplace
account, its schedule per profile and target, its line in `connector status`; refused with the reason while this
installation has no `connector fulfil`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import ConfigError
from connector.service import kinds as registry
from connector.service.queue import connection, make_app
from connector.service.schedule import schedules_of, tick
from tests.service_support import csv_catalogue, last_enqueued, migrated, profile

SCHEDULE = 'schedule: {stock: "*/5 * * * *"}\n'


@pytest.fixture
def with_fulfil(monkeypatch: pytest.MonkeyPatch) -> None:
    """An installation whose connector has `fulfil` (and `orders`)."""
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    monkeypatch.setattr(registry, "_command_exists", lambda name: name in ("orders", "fulfil"))


def shop(tmp_path: Path, pg_url: str) -> Path:
    prof = profile(tmp_path / "shop.yaml", "shop", csv_catalogue(tmp_path / "shop.csv", {"A": 1}), pg_url,
                   {"elebne": {"account": "shop-e"}, "ecomlinx": {"account": "shop-x"}}, extra=SCHEDULE)
    text = prof.read_text(encoding="utf-8").replace(
        '  ecomlinx: {account: "shop-x"}',
        '  ecomlinx:\n    account: shop-x\n    schedule: {fulfilment: "*/2 * * * *"}')
    prof.write_text(text, encoding="utf-8")
    return prof


def test_a_fulfilment_job_runs_connector_fulfil_for_its_profile_and_target(with_fulfil: None) -> None:
    kind = registry.get_kind("fulfilment")
    assert kind.argv("/srv/p.yaml", "ecomlinx") == ["fulfil", "--profile", "/srv/p.yaml", "--target", "ecomlinx"]
    assert registry.get_kind("orders").argv("/p.yaml", "elebne")[0] == "orders"


def test_without_connector_fulfil_the_kind_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    monkeypatch.setattr(registry, "_command_exists", lambda name: name == "orders")
    with pytest.raises(ConfigError, match="no `connector fulfil` command"):
        registry.get_kind("fulfilment")


def test_fulfilment_is_scheduled_per_target_locked_per_account_and_shown_in_status(
        with_fulfil: None, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = migrated(pg_url)
    prof = shop(tmp_path, pg_url)
    found = {(s.target, s.kind): s.cron for s in schedules_of(str(prof))}
    assert found == {("elebne", "stock"): "*/5 * * * *", ("ecomlinx", "stock"): "*/5 * * * *",
                     ("ecomlinx", "fulfilment"): "*/2 * * * *"}
    assert main(["schedule", "--db", url, "--profile", str(prof)]) == 0
    assert "shop ecomlinx fulfilment: */2 * * * * (account shop-x)" in capsys.readouterr().out
    last_enqueued(url, datetime(2026, 12, 1, 10, 1, tzinfo=UTC))
    app = make_app(url)
    with app.open():
        assert tick(app, url, datetime(2026, 12, 1, 10, 2, tzinfo=UTC)) == [("shop", "ecomlinx", "fulfilment")]
    with connection(url) as conn:
        [(args, lock, qlock)] = conn.execute("SELECT args, lock, queueing_lock FROM procrastinate_jobs").fetchall()
    assert args["kind"] == "fulfilment" and args["target"] == "ecomlinx"
    assert lock == "account:ecomlinx:shop-x" and qlock == "job:shop:ecomlinx:fulfilment"
    assert main(["status", "--db", url, "--json"]) == 0
    entries = {(e["target"], e["kind"]): e for e in json.loads(capsys.readouterr().out)["entries"]}
    fulfil = entries[("ecomlinx", "fulfilment")]
    assert fulfil["schedule"] == "*/2 * * * *" and fulfil["jobs"]["waiting"] == 1
    assert fulfil["next_run"] is not None and fulfil["account"] == "shop-x"
    assert main(["status", "--db", url]) == 0
    assert "shop ecomlinx fulfilment [shop-x]: never ran; next " in capsys.readouterr().out
