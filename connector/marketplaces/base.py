"""What a marketplace plugin provides.

The adapter's side of the conversation with the push engine (``PlannedOp``, ``ItemResult``, ``ResultSink``,
``Adapter``) lives in ``connector.sync.ops``; it is re-exported here for plugins written against this module.

A marketplace is registered in the entry-point group ``connector.marketplaces`` (see ``pyproject.toml``), so
an integrator's own package can add one without editing this package; Elebne is registered the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.http import HttpClient, RateLimit
from connector.sync.ops import Adapter, AdapterBase, ItemResult, PlannedOp, ResultSink

__all__ = ["Adapter", "AdapterBase", "ItemResult", "MarketplacePlugin", "PlannedOp", "ResultSink", "lazy"]


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
    # (http, settings, account, secret) -> a ``connector.orders.reader.OrderReader`` for the account (the
    # secret as for ``make_adapter``); None: the marketplace's orders are not read.
    make_order_reader: Callable[[HttpClient, dict[str, Any], str, str], Any] | None = None
    # (http, settings, account, secret) -> a ``connector.fulfilment.writer.FulfilmentWriter``; None: shipments
    # and cancellations are not sent, and ``fulfilment_unsupported`` says why in the report (Elebne).
    make_fulfilment_writer: Callable[[HttpClient, dict[str, Any], str, str], Any] | None = None
    fulfilment_unsupported: str = ""
    docs: str = ""
    # With ``open_settings=False`` (the built-in plugins) a profile's ``settings:`` for this marketplace are
    # checked (``settings_check``): a key must be one of ``settings`` (or one every target reads: ``defaults``,
    # ``currency``), and the keys of the tables named here (``paths``, ``webhooks``) names of that table; a
    # misspelt one is refused instead of silently not used.  ``True``: a plugin that reads keys its ``settings``
    # do not list.  ``None`` (not said: a plugin written before the check, which may read keys of its own with
    # ``settings.get``): not checked, as before, so its profiles still load.
    setting_tables: dict[str, frozenset[str]] = field(default_factory=dict)
    open_settings: bool | None = None
