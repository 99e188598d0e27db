"""One sync run: source -> canonical -> mapping -> plan -> push -> report."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.errors import ConfigError, MarketplaceUnreachable
from connector.http import Budget, HttpClient
from connector.mapping import load_mapping
from connector.marketplaces.registry import get_plugin
from connector.sources.base import SourceResult
from connector.sync.plan import CATALOGUE, Plan, build_plan
from connector.sync.push import PushEngine
from connector.sync.report import RunReport, account_rows, count_operations
from connector.sync.safety import SafetyOptions, SafetyOutcome, account_safety, after_plan, before_plan  # issue 12
from connector.sync.state import StateStore, utcnow
from connector.sync.stock_policy import StockPolicy

log = logging.getLogger("connector.sync")


@dataclass
class SyncOptions:
    target: str
    state_path: Path
    secret: str | None
    base_url: str | None = None
    account: str | None = None
    mapping: str | None = None
    dry_run: bool = False
    stock_policy: StockPolicy = field(default_factory=StockPolicy)
    settings: dict[str, Any] = field(default_factory=dict)
    source_label: str = ""
    http_timeout: tuple[float, float] = (5.0, 30.0)
    max_retries: int = 5
    safety: SafetyOptions = field(default_factory=SafetyOptions)  # issue 12: missing policy, guard, currency


@dataclass
class SyncOutcome:
    report: RunReport
    plan: Plan | None


def _merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in override.items():
        out[k] = _merge_settings(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def run_sync(source: SourceResult, opts: SyncOptions,
             progress: Callable[[int], Callable[[int], None]] | None = None,
             state: StateStore | None = None) -> SyncOutcome:
    """Plan and (unless dry-run) push one source result to one marketplace.

    ``state`` is an open state store (the caller holds its lock across targets); without one, the file at
    ``opts.state_path`` is opened and locked for this call.
    """
    if state is None:
        with StateStore.open(opts.state_path) as own:
            return run_sync(source, opts, progress, own)
    plugin = get_plugin(opts.target)
    if not opts.secret and not opts.dry_run:
        raise ConfigError(f"no credentials for {plugin.title}: set {plugin.credential_env} in the environment "
                          f"(or add it to the credentials file, see README)")
    mapping = load_mapping(opts.mapping or plugin.default_mapping)
    base_url = opts.base_url or plugin.default_base_url
    account = opts.account or urlsplit(base_url).netloc
    settings = _merge_settings(plugin.settings, opts.settings)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    report = RunReport(run_id=run_id, source=opts.source_label, target=opts.target, dry_run=opts.dry_run,
                       started_at=utcnow(), warnings=list(source.warnings),
                       issues=[_issue_json(i) for i in source.issues])

    opts.stock_policy.apply(source.products)
    safety = SafetyOutcome()  # issue 12 hook 1/3: unknown stock locations, prices in the account currency
    safe_products = before_plan(source, opts.stock_policy, opts.safety, settings, opts.target, plugin.title,
                                safety)
    limits = plugin.limits_with(settings)
    budget = Budget(limits, state.budget_counter(opts.target, account))
    secret = opts.secret or ""
    http = HttpClient(base_url, auth=lambda: plugin.auth_headers(secret), budget=budget,
                      timeout=opts.http_timeout, max_retries=opts.max_retries)
    adapter = plugin.make_adapter(http, settings, account, secret)
    # Optional adapter hook: reshape products before planning (EcomLinx: one product per SKU) and keep the
    # state for its own caches.
    prepare = getattr(adapter, "prepare", None)
    products = prepare(safe_products, state) if prepare is not None else safe_products
    plan = build_plan(products, mapping, adapter, state, opts.target, account,
                      defaults=settings.get("defaults") or {})
    # issue 12 hook 2/3: SKUs no longer in the source, then the mass-change guard on the whole plan
    after_plan(plan, source, state, mapping, adapter, opts.stock_policy, opts.safety,
               settings.get("defaults") or {}, safety)
    results: dict = dict(safety.results)  # issue 12: a refused plan's operations are all "not sent"
    if not opts.dry_run and not safety.blocked:
        state.run_started(run_id)
        on_progress = progress(len(plan.ops)) if progress else None
        engine = PushEngine(plan, adapter, state, run_id, on_progress)
        try:
            results = engine.run()
        except MarketplaceUnreachable as exc:
            results = engine.results
            report.unreachable = str(exc)
        if engine.stale_batches:
            report.notes.append(f"{engine.stale_batches} batch(es) of an interrupted run had no recorded outcome; "
                                "they were planned again (creates reuse their idempotency keys)")
    catalogue_kind = next((k for k, role in adapter.roles.items() if role == CATALOGUE), None)
    account_rows(report, source, plan, results, catalogue_kind=catalogue_kind,
                 dry_run=opts.dry_run and not safety.blocked)
    account_safety(report, safety, results)  # issue 12 hook 3/3: missing SKUs' rows, refusals, guard notes
    report.operations = count_operations(plan, results)
    extras = getattr(adapter, "report_extras", None)  # optional adapter hook: extra counts and notes
    if extras is not None and not opts.dry_run:
        counts, notes = extras()
        report.operations.update(counts)
        report.notes.extend(notes)
    report.http = {
        "requests": dict(http.stats.requests), "total_requests": http.stats.total,
        "retries": http.stats.retries, "throttled_429": http.stats.throttled,
        "waited_seconds": round(http.stats.waited_seconds, 2),
        "budget_remaining_today": {c: budget.remaining_today(c) for c in limits},
    }
    report.finished_at = utcnow()
    report.exit_code = report.compute_exit_code()
    if not opts.dry_run and not safety.blocked:
        state.run_finished(run_id, report.exit_code, {"rows": report.status_counts, "ops": report.operations})
    http.close()
    return SyncOutcome(report=report, plan=plan)


def _issue_json(issue: Any) -> dict[str, Any]:
    return {"sheet": issue.sheet, "row": issue.row, "column": issue.column,
            "value": issue.shown_value if issue.value is not None else None, "reason": issue.reason,
            "sku": issue.sku, "severity": issue.severity}
