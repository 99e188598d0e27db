"""The shared classification of answers and the one executor of sends (no network: a fake sink)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from connector.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNREACHABLE,
    BudgetExhausted,
    MarketplaceUnreachable,
)
from connector.http import RateLimitedTooLong, TransportError
from connector.sync.answers import Classifier, Rule, Verdict
from connector.sync.executor import Executor
from connector.sync.ops import ItemResult, PlannedOp


class ShopError(Exception):
    def __init__(self, status: int, code: str, message: str = "refused") -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"{code} ({status}): {message}")


class Sink:
    def __init__(self) -> None:
        self.journal: list[tuple[str, list[str]]] = []
        self.results: dict[str, ItemResult] = {}
        self.journal_ids: dict[str, int] = {}

    def sending(self, action: str, ops: Sequence[PlannedOp], idempotency_key: str | None = None) -> int:
        self.journal.append((action, [op.key for op in ops]))
        return len(self.journal)

    def done(self, journal_id: int, results: Sequence[ItemResult]) -> None:
        for r in results:
            assert r.op.key not in self.results, f"{r.op.key} got two results"
            self.results[r.op.key] = r
            self.journal_ids[r.op.key] = journal_id

    def confirmed(self, kind: str) -> dict[str, str]:
        return {}


def op(key: str, action: str = "update") -> PlannedOp:
    return PlannedOp(action, "product", key, {}, {}, "{}", "h", None)


CLASSIFIER = Classifier(rules=(Rule(Verdict.FORGET, (ShopError,), codes=frozenset({"GONE"})),
                               Rule(Verdict.STOP, (ShopError,), statuses=frozenset({418}), reason="teapot: {exc}")),
                        errors=(ShopError,))


def ok(o: PlannedOp) -> ItemResult:
    return ItemResult(o, ok=True)


def raising(exc: Exception):
    def send(o: PlannedOp) -> ItemResult:
        raise exc
    return send


def test_plugin_rules_then_shared_rules_then_the_plugin_errors_fail() -> None:
    assert CLASSIFIER.classify(ShopError(404, "GONE")).verdict is Verdict.FORGET
    assert CLASSIFIER.classify(ShopError(418, "X")).verdict is Verdict.STOP
    assert CLASSIFIER.classify(ShopError(400, "BAD")).verdict is Verdict.FAIL
    assert CLASSIFIER.classify(BudgetExhausted("write", 5)).verdict is Verdict.DEFER
    assert CLASSIFIER.classify(RateLimitedTooLong(3600)).verdict is Verdict.DEFER
    assert CLASSIFIER.classify(TransportError("down")).verdict is Verdict.STOP
    assert CLASSIFIER.classify(KeyError("bug")) is None


def test_fail_and_forget_carry_the_marketplace_code_and_message() -> None:
    sink = Sink()
    ex = Executor(sink, CLASSIFIER)
    ex.each([op("A")], raising(ShopError(422, "BAD", "price too low")), lane="write")
    ex.each([op("B")], raising(ShopError(404, "GONE", "no such product")), lane="write")
    a, b = sink.results["A"], sink.results["B"]
    assert (a.ok, a.code, a.message, a.forget, a.deferred) == (False, "BAD", "price too low", False, False)
    assert (b.ok, b.code, b.forget) == (False, "GONE", True)
    assert sink.journal_ids["A"] and sink.journal_ids["B"]  # outcomes close their journal entries
    ex.finish()  # failures do not stop the run


def test_a_deferral_halts_its_lane_only_and_every_op_gets_a_result() -> None:
    sink = Sink()
    ex = Executor(sink, CLASSIFIER)
    calls: list[str] = []

    def send(o: PlannedOp) -> ItemResult:
        calls.append(o.key)
        if o.key == "W2":
            raise BudgetExhausted("write", 2)
        return ok(o)

    accepted = ex.each([op("W1"), op("W2"), op("W3")], send, lane="write")
    stock = ex.each([op("S1")], send, lane="bulk")
    later = ex.each([op("W4")], send, lane="write")
    assert accepted == {"W1"} and stock == {"S1"} and later == set()
    assert calls == ["W1", "W2", "S1"]  # nothing more tried in the halted lane
    assert {k for k, r in sink.results.items() if r.deferred} == {"W2", "W3", "W4"} == ex.deferred_keys
    assert all(r.message.startswith("not sent: daily budget") for r in sink.results.values() if r.deferred)
    ex.finish()  # a deferral is exit 3, not unreachable


def test_a_stop_defers_everything_left_and_finish_raises() -> None:
    sink = Sink()
    ex = Executor(sink, CLASSIFIER)
    ex.each([op("A"), op("B")], raising(ShopError(418, "TEAPOT")), lane="write")
    ex.each([op("C")], ok, lane="bulk")
    found, value = ex.read([op("D")], lambda: "looked up", lane="read")
    assert (found, value) == (False, None)
    assert all(sink.results[k].deferred for k in "ABCD")
    assert sink.journal == [("update", ["A"])]  # B, C and D were never sent
    with pytest.raises(MarketplaceUnreachable, match="teapot: TEAPOT"):
        ex.finish()


def test_retry_sends_again_then_defers() -> None:
    flaky = Classifier(rules=(Rule(Verdict.RETRY, (ShopError,), statuses=frozenset({409})),),
                       errors=(ShopError,), max_retries=2)
    sink = Sink()
    ex = Executor(sink, flaky)
    attempts = {"A": 0, "B": 0}

    def send(o: PlannedOp) -> ItemResult:
        attempts[o.key] += 1
        if o.key == "B" or attempts[o.key] < 2:
            raise ShopError(409, "BUSY")
        return ok(o)

    assert ex.each([op("A")], send, lane="write") == {"A"}
    assert ex.each([op("B")], send, lane="write") == set()
    assert attempts == {"A": 2, "B": 3}
    assert sink.results["B"].deferred and "write" in ex.halted


def test_errors_nobody_declared_propagate() -> None:
    ex = Executor(Sink(), CLASSIFIER)
    with pytest.raises(KeyError):
        ex.each([op("A")], raising(KeyError("bug")), lane="write")


def test_invalid_ops_fail_before_sending_unless_their_lane_is_halted() -> None:
    sink = Sink()
    ex = Executor(sink, CLASSIFIER)
    ex.each([op("A"), op("B")], ok, lane="write", validate=lambda o: "no name" if o.key == "A" else None)
    assert (sink.results["A"].code, sink.results["A"].message) == ("INVALID_PAYLOAD", "no name")
    assert sink.journal == [("update", ["B"])]


# -- the profile runner ---------------------------------------------------------------------------------------
class FakeReport:
    def __init__(self, run_id: str, exit_code: int) -> None:
        self.run_id, self.exit_code = run_id, exit_code
        self.saved: list[Path] = []

    def save(self, path: Path) -> None:
        self.saved.append(path)


class FakeState:
    def __init__(self) -> None:
        self.cursors: dict[tuple[str, str], str] = {}

    def set_cursor(self, source: str, name: str, value: str) -> None:
        self.cursors[(source, name)] = value


def run_profile_with(monkeypatch: pytest.MonkeyPatch, codes: dict[str, int], *, report_to: Path | None = None,
                     dry_run: bool = False) -> tuple[Any, FakeState, dict[str, FakeReport]]:
    from connector.sources.base import SourceResult
    from connector.sync import profile
    from connector.sync.runner import SyncOptions, SyncOutcome

    reports = {t: FakeReport(f"run{i}", code) for i, (t, code) in enumerate(codes.items())}
    monkeypatch.setattr(profile, "run_sync", lambda source, opts, *a: SyncOutcome(reports[opts.target], None))
    source = SourceResult()
    source.cursors[("odoo", "product")] = "2026-12-01T00:00:00Z"
    state = FakeState()
    targets = [SyncOptions(target=t, state_path=Path("/srv/state/shop.sqlite"), secret="x", dry_run=dry_run)
               for t in codes]
    seen: list[str] = []
    result = profile.run_profile(source, targets, state, report_to=report_to,  # type: ignore[arg-type]
                                 on_outcome=lambda outcome, path: seen.append(path.name))
    assert seen == [r.saved[0].name for r in reports.values()]  # told after saving, in target order
    return result, state, reports


def test_profile_cursor_moves_only_when_every_target_confirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    result, state, reports = run_profile_with(monkeypatch, {"elebne": EXIT_OK, "elryan": EXIT_OK})
    assert result.exit_code == EXIT_OK and result.cursors_saved and state.cursors
    assert reports["elebne"].saved == [Path("/srv/state/reports/run0-elebne.json")]
    for codes, worst in (({"elebne": EXIT_OK, "elryan": EXIT_PARTIAL}, EXIT_PARTIAL),
                         ({"elebne": EXIT_PARTIAL, "elryan": EXIT_FAILED}, EXIT_FAILED),
                         ({"elebne": EXIT_UNREACHABLE, "elryan": EXIT_FAILED}, EXIT_UNREACHABLE)):
        result, state, _ = run_profile_with(monkeypatch, codes)
        assert result.exit_code == worst and result.cursors_kept and not state.cursors
    result, state, _ = run_profile_with(monkeypatch, {"elebne": EXIT_OK}, dry_run=True)
    assert not state.cursors and not result.cursors_kept


def test_profile_report_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _, _, reports = run_profile_with(monkeypatch, {"elebne": 0, "ecomlinx": 0}, report_to=tmp_path / "r.json")
    assert [r.saved[0].name for r in reports.values()] == ["r-elebne.json", "r-ecomlinx.json"]
    _, _, reports = run_profile_with(monkeypatch, {"elebne": 0}, report_to=tmp_path / "r.json")
    assert reports["elebne"].saved == [tmp_path / "r.json"]


# -- the target session ---------------------------------------------------------------------------------------
def test_session_closes_its_http_client_even_when_the_flow_fails(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    from connector.http import HttpClient
    from connector.sync.session import SyncOptions, TargetSession
    from connector.sync.state import StateStore

    closed: list[HttpClient] = []
    monkeypatch.setattr(HttpClient, "close", lambda self: closed.append(self))
    opts = SyncOptions(target="elebne", state_path=tmp_path / "s.sqlite", secret="sk_test_x",
                       base_url="http://127.0.0.1:9/api")
    with StateStore.open(opts.state_path) as state:
        with pytest.raises(RuntimeError), TargetSession.open(opts, state) as session:
            session.start_run()
            raise RuntimeError("the flow broke")
        assert closed == [session.http] and session.report.finished_at is None
        with TargetSession.open(opts, state) as session:
            session.start_run()
        assert len(closed) == 2 and session.report.finished_at and session.report.exit_code == EXIT_OK
        assert session.report.http["total_requests"] == 0 and session.account == "127.0.0.1:9"
