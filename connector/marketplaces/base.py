"""What a marketplace plugin provides, and the results its adapter reports back to the push engine.

A marketplace is registered in the entry-point group ``connector.marketplaces`` (see ``pyproject.toml``), so
an integrator's own package can add one without editing this package; Elebne is registered the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from connector.http import HttpClient, RateLimit
from connector.sync.plan import PlannedOp


@dataclass(slots=True)
class ItemResult:
    """The marketplace's verdict on one planned operation."""

    op: PlannedOp
    ok: bool
    remote_id: str | None = None
    message: str | None = None  # the marketplace's own message on failure
    code: str | None = None
    deferred: bool = False  # not attempted: budget spent / rate limited for long; the next run carries on
    blocked: bool = False  # not attempted because something it depends on failed
    forget: bool = False  # the remote record is gone: drop our binding so the next run re-creates it
    skipped: bool = False  # deliberately not sent, not a failure (e.g. "not on EcomLinx: create it there first")


class ResultSink(Protocol):
    """Given by the push engine to an adapter: journals batches and records outcomes as they come."""

    def sending(self, action: str, ops: Sequence[PlannedOp], idempotency_key: str | None = None) -> int: ...

    def done(self, journal_id: int, results: Sequence[ItemResult]) -> None: ...


class Adapter(Protocol):
    """Marketplace-specific planning hooks and push strategy.

    Optional hooks the runner calls when an adapter defines them:
    ``prepare(products, state) -> products`` reshapes canonical products before planning (EcomLinx: one
    product per SKU) and may keep its own caches in the state file; ``report_extras() -> (counts, notes)``
    adds marketplace-specific counts and notes to the run report.
    """

    roles: dict[str, str]

    def normalize(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None: ...

    def validate(self, op: PlannedOp) -> str | None: ...

    def push(self, ops: list[PlannedOp], sink: ResultSink) -> None: ...


def lazy(target: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> a callable that imports it on first use, so listing plugins does not
    import every marketplace's sandbox and client."""
    module_name, _, attr = target.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module_name), attr)(*args, **kwargs)

    call.__qualname__ = call.__name__ = f"lazy({target})"
    return call


@dataclass
class MarketplacePlugin:
    """Everything the connector needs to know about one marketplace."""

    def limits_with(self, settings: dict[str, Any]) -> dict[str, RateLimit]:
        """The call budgets for one account: the documented limits, adjusted by ``limits_for`` if given."""
        return {**self.limits, **self.limits_for(settings)} if self.limits_for else dict(self.limits)

    name: str
    title: str
    default_base_url: str
    limits: dict[str, RateLimit]
    default_mapping: Path
    credential_env: str  # environment variable holding the API key / secret
    # (http, settings, account, secret): the secret is for adapters that exchange a login for a token (Elryan);
    # API-key marketplaces put it in ``auth_headers`` and ignore it here.
    make_adapter: Callable[[HttpClient, dict[str, Any], str, str], Adapter]
    auth_headers: Callable[[str], dict[str, str]]  # secret -> headers
    create_sandbox: Callable[..., Any] | None = None
    sandbox_base_path: str = ""
    sandbox_key: str = ""  # a key the sandbox accepts, used by `connector demo`
    settings: dict[str, Any] = field(default_factory=dict)  # inferred paths, batch sizes: overridable
    # When the limits depend on the account's settings (EcomLinx: per plan): settings -> limits.
    limits_for: Callable[[dict[str, Any]], dict[str, RateLimit]] | None = None
    docs: str = ""
