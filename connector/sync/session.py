"""A target session: one marketplace account opened for one run of any flow.

It resolves the plugin, the account, the merged settings and the credentials; builds the HTTP client with its
call budget and the adapter; keeps the run's report and bookkeeping (``run_started`` / ``run_finished`` in
the state, the HTTP statistics in the report); and closes the HTTP client whatever happens.  A flow (the
catalogue and stock push in ``runner.run_sync`` today; orders in, fulfilment out later) is a short function
that opens a session, does its own reading, planning and sending, and leaves the rest to the session::

    with TargetSession.open(opts, state) as session:
        session.start_run()                       # unless it only plans (dry run)
        ...                                       # the flow itself, through session.adapter
    session.report                                # finished: http stats, exit code, run recorded
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from connector.errors import ConfigError
from connector.http import Budget, HttpClient, RateLimit
from connector.http.budget import WaitHook
from connector.http.stop import StopSignal
from connector.marketplaces.base import MarketplacePlugin
from connector.marketplaces.registry import get_plugin
from connector.sync.estimate import estimate_push
from connector.sync.ops import Adapter, PlannedOp
from connector.sync.released_ops import sendable
from connector.sync.report import RunReport
from connector.sync.safety import SafetyOptions
from connector.sync.state import StateStore, new_run_id, utcnow
from connector.sync.state.location import Location
from connector.sync.stock_policy import StockPolicy


@dataclass
class SyncOptions:
    """Everything one run against one target needs (the CLI and the profile runner build these)."""

    target: str
    state_path: Location  # a state file, or a postgresql:// URL (connector.sync.state.location)
    secret: str | None
    secret_env: str | None = None  # where the secret was looked for (a profile's api_key_env), for the message
    base_url: str | None = None
    account: str | None = None
    mapping: str | None = None
    dry_run: bool = False
    # ``--full``: besides the whole source, what the marketplace side keeps from earlier runs is read again
    # (an adapter's ``full_run``: EcomLinx's SKU listing, trusted for ``listing_max_age_minutes`` otherwise)
    full: bool = False
    stock_policy: StockPolicy = field(default_factory=StockPolicy)
    settings: dict[str, Any] = field(default_factory=dict)
    source_label: str = ""
    http_timeout: tuple[float, float] = (5.0, 30.0)
    max_retries: int = 5
    safety: SafetyOptions = field(default_factory=SafetyOptions)  # missing policy, mass-change guard, currency
    on_wait: WaitHook | None = None  # told before the HTTP layer or the call budget sleeps (progress output)
    announce: Callable[[str], None] | None = None  # says something before the push starts (default: a log warning)
    stop: StopSignal | None = None  # set (by SIGTERM): the run ends like a budget stop, exit 3
    # a dry run's: SKUs whose units a cancellation gave back to this marketplace's stock, seen by the orders read of
    # this dry run (which notes nothing: ``OrderBook.given_back``); a real run reads its notes from the state
    given_back: frozenset[str] = frozenset()
    # the target's mapping as ``connector sync`` loaded and checked it before reading (``runner.target_mapping``);
    # None: the run loads it
    loaded_mapping: Any = None


log = logging.getLogger("connector.sync")


def merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """The plugin's settings with a profile's overrides, nested dictionaries merged key by key."""
    out = dict(base)
    for k, v in override.items():
        out[k] = merge_settings(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def account_name(opts: SyncOptions, plugin: MarketplacePlugin) -> str:
    """The account's name in the state: the profile's ``account``, else the API host."""
    return opts.account or urlsplit(opts.base_url or plugin.default_base_url).netloc


@dataclass
class TargetSession:
    plugin: MarketplacePlugin
    opts: SyncOptions
    state: StateStore
    account: str
    settings: dict[str, Any]
    limits: dict[str, RateLimit]
    budget: Budget
    http: HttpClient
    adapter: Adapter
    report: RunReport
    started: bool = False  # run_started was recorded: run_finished will be

    @property
    def run_id(self) -> str:
        return self.report.run_id

    @classmethod
    @contextmanager
    def open(cls, opts: SyncOptions, state: StateStore) -> Iterator[TargetSession]:
        """Open the target; on a normal exit the report is finished (see ``finish``); the HTTP client is
        closed in every case."""
        plugin = get_plugin(opts.target)
        if not opts.secret and not opts.dry_run:
            raise ConfigError(f"no credentials for {plugin.title}: set {opts.secret_env or plugin.credential_env} in "
                              f"the environment "
                              f"(or add it to the credentials file, see README)")
        base_url = opts.base_url or plugin.default_base_url
        account = account_name(opts, plugin)
        settings = merge_settings(plugin.settings, opts.settings)
        report = RunReport(run_id=new_run_id(), source=opts.source_label, target=opts.target, dry_run=opts.dry_run,
                           started_at=utcnow())
        limits = plugin.limits_with(settings)
        budget = Budget(limits, state.budget_counter(opts.target, account),
                        sleep=opts.stop.sleep if opts.stop else time.sleep)
        secret = opts.secret or ""
        http = HttpClient(base_url, auth=lambda: plugin.auth_headers(secret), budget=budget,
                          timeout=opts.http_timeout, max_retries=opts.max_retries)
        budget.on_wait = http.on_wait = opts.on_wait
        budget.stop = http.stop = opts.stop
        try:
            adapter = plugin.make_adapter(http, settings, account, secret)
            full_run = getattr(adapter, "full_run", None) if opts.full else None
            if full_run is not None:
                full_run()
            session = cls(plugin, opts, state, account, settings, limits, budget, http, adapter, report)
            yield session
            session.finish()
        finally:
            http.close()

    def start_run(self) -> None:
        """Record in the state that this run is about to send."""
        self.state.run_started(self.run_id)
        self.started = True

    def estimate(self, ops: Sequence[PlannedOp]) -> None:
        """How long sending ``ops`` takes under the documented limits, into the report; a long push (hours,
        or days when a daily budget is the bound) is announced before a real run starts sending."""
        sent = sendable(ops)  # (a dry run's: not a list of every op made, ``released_ops``)
        calls = self.adapter.calls_needed(sent) if sent else {}
        remaining = {c: self.budget.remaining_today(c) for c in self.limits}
        self.report.estimate = estimate_push(self.plugin.title, calls, self.limits, remaining)
        if self.report.estimate["long"] and not self.opts.dry_run:
            (self.opts.announce or log.warning)(self.report.estimate["text"])

    def finish(self) -> None:
        """HTTP statistics into the report, the exit code, and the run's outcome recorded in the state."""
        report, stats = self.report, self.http.stats
        report.http = {
            "requests": dict(stats.requests), "total_requests": stats.total,
            "retries": stats.retries, "throttled_429": stats.throttled,
            "waited_seconds": round(stats.waited_seconds, 2),
            "budget_remaining_today": {c: self.budget.remaining_today(c) for c in self.limits},
        }
        report.finished_at = utcnow()
        if self.opts.stop is not None and self.opts.stop.requested and self.started:
            report.stopped = self.opts.stop.reason
            report.notes.append(f"stopped ({report.stopped}): what was confirmed is saved; the next run carries on")
        report.exit_code = report.compute_exit_code()
        if self.started:
            self.state.run_finished(self.run_id, report.exit_code,
                                    {"rows": report.status_counts, "ops": report.operations})
