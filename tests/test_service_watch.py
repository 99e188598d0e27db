"""`connector watch`: one cheap question per poll, a push only when the source changed.

Odoo: after the login, an idle poll is one RPC (a search of at most one id over the incremental read's domain
from the stored cursor, without the overlap window); a workbook: no call at all, its size and time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.service.watch import FileProbe, OdooProbe, watch
from connector.sources.odoo.backend import OdooBackend
from connector.sync.state import StateStore
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.service_support import csv_catalogue, migrated, profile


class CountingOdoo(OdooBackend):
    """Answers the change question from a list of write dates; counts round trips."""

    def __init__(self) -> None:
        super().__init__()
        self.changed_at: list[str] = []
        self.asked: list[dict[str, Any]] = []

    def connect(self) -> None:
        self.calls += 3  # version, login, context

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        self.calls += 1
        kwargs = kwargs or {}
        self.asked.append({"model": model, "method": method, **kwargs})
        since = next(t[2] for t in kwargs["domain"] if isinstance(t, tuple) and t[0] == "write_date")
        return [{"id": 1}] if any(at >= since for at in self.changed_at) else []


def test_an_idle_odoo_poll_is_one_rpc_and_a_change_is_seen(tmp_path: Path, monkeypatch) -> None:
    state_file = tmp_path / "state.sqlite"
    with StateStore.open(state_file) as state:
        state.set_cursor("odoo:shop", "products", "2026-12-01 10:00:00")
    backend = CountingOdoo()
    probe = OdooProbe({"type": "odoo", "url": "http://odoo.example", "db": "shop"}, state_file, backend)
    assert probe.changed() is False
    after_login = backend.calls
    for _ in range(5):
        assert probe.changed() is False
    assert backend.calls - after_login == 5  # one RPC per idle poll
    asked = backend.asked[-1]
    assert (asked["model"], asked["method"], asked["fields"], asked["limit"]) == ("product.product", "search_read",
                                                                                  ["id"], 1)
    domain_values = {t[2] for t in asked["domain"] if isinstance(t, tuple)}
    assert domain_values == {"2026-12-01 10:00:00"}  # from the cursor itself: no overlap window for the question
    assert any(t[0] == "stock_quant_ids.write_date" for t in asked["domain"] if isinstance(t, tuple))
    backend.changed_at.append("2026-12-01 10:00:07")  # a quant changed in Odoo
    assert probe.changed() is True


def test_without_a_cursor_the_first_poll_asks_for_a_full_push(tmp_path: Path) -> None:
    backend = CountingOdoo()
    probe = OdooProbe({"type": "odoo", "url": "http://odoo.example", "db": "shop"}, tmp_path / "s.sqlite", backend)
    assert probe.changed() is True and backend.calls == 0


@pytest.mark.sandbox
def test_watch_pushes_a_stock_change_and_idle_polls_send_nothing(
        fast_elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    source = csv_catalogue(tmp_path / "shop.csv", {"W-1": 5, "W-2": 1})
    prof = profile(tmp_path / "shop.yaml", "shop", source, str(tmp_path / "state.sqlite"),
                   {"elebne": {"account": "w", "base_url": fast_elebne_sandbox.base_url}})
    marks: list[int] = []

    def between_polls(_seconds: float) -> None:
        marks.append(fast_elebne_sandbox.last_id())
        if len(marks) == 2 * 20:  # after two polls (10 s each, waited in steps of 0.5 s) the file changes
            csv_catalogue(source, {"W-1": 3, "W-2": 1})

    probe = FileProbe(source)
    assert watch(prof, None, every=10, probe=probe, sleep=between_polls, polls=4) == 0
    assert fast_elebne_sandbox.products()["W-1"]["quantity"] == 3
    assert marks[0] > 0  # the first poll pushed everything (nothing was seen before)
    assert marks[0] == marks[19] == marks[39]  # no request at all while nothing changed
    assert len(fast_elebne_sandbox.writes(since=marks[39])) == 1  # the change: one bulk stock request


@pytest.mark.sandbox
def test_watch_enqueue_hands_the_push_to_the_workers(pg_url: str, fast_elebne_sandbox: SandboxHandle,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    url = migrated(pg_url)
    source = csv_catalogue(tmp_path / "shop.csv", {"Q-1": 2})
    prof = profile(tmp_path / "shop.yaml", "shop", source, pg_url,
                   {"elebne": {"account": "q", "base_url": fast_elebne_sandbox.base_url}})
    assert main(["watch", "--profile", str(prof), "--once", "--enqueue", "--db", url]) == 0
    assert fast_elebne_sandbox.requests() == []  # queued, not pushed from the watcher
    assert main(["worker", "--db", url, "--once"]) == 0
    assert fast_elebne_sandbox.products()["Q-1"]["quantity"] == 2


def test_watch_refuses_a_source_without_a_cheap_change_check(tmp_path: Path, capsys) -> None:
    prof = tmp_path / "a.yaml"
    prof.write_text("name: a\nsource: {type: aleta}\ntargets: {elebne: {}}\n", encoding="utf-8")
    assert main(["watch", "--profile", str(prof), "--once"]) == 2
    assert "no cheap change check" in capsys.readouterr().err


@pytest.mark.sandbox
def test_a_stock_change_in_odoo_reaches_the_marketplace_and_an_idle_poll_is_one_rpc(
        fast_elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.scripted_odoo import ScriptedCatalogue, install

    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    monkeypatch.setenv("ODOO_PASSWORD", "scripted")
    catalogue = ScriptedCatalogue({"O-1": 4, "O-2": 9})
    install(catalogue, monkeypatch.setattr)
    prof = tmp_path / "odoo.yaml"
    prof.write_text(f"name: odoo\nstate: {tmp_path / 'state.sqlite'}\nmissing: keep\n"
                    "source: {type: odoo, url: 'http://odoo.example', db: shop}\n"
                    f"targets:\n  elebne: {{account: o, base_url: '{fast_elebne_sandbox.base_url}'}}\n",
                    encoding="utf-8")
    calls: list[int] = []

    def between_polls(seconds: float) -> None:  # 10 s pass on Odoo's clock, in steps of 0.5 s
        catalogue.advance(seconds)
        calls.append(catalogue.calls)
        if len(calls) == 3 * 20:
            catalogue.set_stock("O-1", 1)  # a delivery validated in Odoo

    assert watch(prof, "elebne", every=10, sleep=between_polls, polls=4) == 0
    assert {sku: p["quantity"] for sku, p in fast_elebne_sandbox.products().items()} == {"O-1": 1, "O-2": 9}
    # poll 1: the full push; poll 2: the watcher logs in, and the products changed in the cursor's own second
    # are pushed again (nothing to send); poll 3: idle; poll 4: the change
    assert calls[40] - calls[20] == 1  # an idle poll: one RPC
