"""EcomLinx REST API: plugin registration (entry point ``connector.marketplaces:ecomlinx``).

Contract and inferences: docs/ecomlinx.md.
"""

from __future__ import annotations

from typing import Any

from connector.errors import ConfigError
from connector.http import HttpClient, RateLimit, bearer
from connector.mapping.loader import shipped_mapping
from connector.marketplaces.base import MarketplacePlugin, lazy
from connector.marketplaces.ecomlinx.client import DEFAULT_PATHS, OP_CLASS

# Documented limits per API key (reads and writes together), per plan.  ``read_only``: the Pro plan's keys
# reach read-only endpoints only.  A profile may change any number, or add a plan, under `settings: plans:`.
PLANS: dict[str, dict[str, Any]] = {
    "scale": {"per_second": 100, "per_minute": 1000, "read_only": False},
    "pro": {"per_second": 20, "per_minute": 200, "read_only": True},
}
DEFAULT_PLAN = "scale"  # "The EcomLinx REST API is available on the Scale plan"


def plan_limits(plan: dict[str, Any]) -> dict[str, RateLimit]:
    """One sliding window that keeps under both documented limits.

    ``per_second`` calls per ``60 × per_second / per_minute`` seconds (at least 1 s): never more than
    ``per_second`` in any second, and never more than ``per_minute`` in any minute (a minute holds that many
    windows).  Scale: 100 calls per 6 s; Pro: 20 per 6 s.
    """
    try:
        per_second, per_minute = int(plan["per_second"]), int(plan["per_minute"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError("an EcomLinx plan needs whole numbers per_second and per_minute") from None
    if per_second < 1 or per_minute < 1:
        raise ConfigError("EcomLinx plan limits must be at least 1")
    window = max(1.0, 60.0 * per_second / per_minute)
    return {OP_CLASS: RateLimit(OP_CLASS, per_window=per_second, window_seconds=window)}


def resolve_plan(settings: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = str(settings.get("plan") or DEFAULT_PLAN).lower()
    plans = settings.get("plans") or PLANS
    if name not in plans:
        raise ConfigError(f"unknown EcomLinx plan {name!r} in settings.plan (known: {', '.join(sorted(plans))})")
    return name, dict(plans[name])


LIMITS = plan_limits(PLANS[DEFAULT_PLAN])

# Inferred where the document is silent (docs/ecomlinx.md, "What was inferred"); a profile may override any
# of them under `settings:` of the target.
SETTINGS: dict[str, Any] = {
    "plan": DEFAULT_PLAN,
    "plans": PLANS,
    "paths": dict(DEFAULT_PATHS),
    "page_limit": 100,
    "listing_total": "meta.total",  # where a listing page states its total, checked against the pages (null: not)
    "listing_max_age_minutes": 60,
    "currency": None,  # e.g. "INR": refuse to send prices in another currency
    "defaults": {"allocations": {}},  # per-channel policy, e.g. {amazon_in: "50%", flipkart: 20}
    # Orders (docs/ecomlinx.md, "Orders"): EcomLinx status -> canonical status, merged over the shipped table;
    # the currency of order amounts (the document's carry none).
    "order_statuses": {},
    "order_currency": "INR",
}


def _client(http: HttpClient, settings: dict[str, Any]) -> Any:
    from connector.marketplaces.ecomlinx.client import EcomLinxClient

    return EcomLinxClient(http, paths=settings.get("paths"), page_limit=int(settings.get("page_limit", 100)),
                          listing_total=settings.get("listing_total", "meta.total") or None)


def _make_adapter(http: HttpClient, settings: dict[str, Any], account: str, secret: str = "") -> Any:
    from connector.marketplaces.ecomlinx.adapter import EcomLinxAdapter

    name, plan = resolve_plan(settings)
    client = _client(http, settings)
    return EcomLinxAdapter(client, account=account,
                           settings={**settings, "plan": name, "read_only": bool(plan.get("read_only"))})


def _make_order_reader(http: HttpClient, settings: dict[str, Any], account: str, secret: str = "") -> Any:
    from connector.marketplaces.ecomlinx.orders import EcomLinxOrderReader

    return EcomLinxOrderReader(_client(http, settings), account, settings)


def _make_fulfilment_writer(http: HttpClient, settings: dict[str, Any], account: str, secret: str = "") -> Any:
    from connector.marketplaces.ecomlinx.fulfilment import EcomLinxFulfilmentWriter

    return EcomLinxFulfilmentWriter(_client(http, settings), account)


SANDBOX_KEY = "elx_test_sk_scale0000connector"
SANDBOX_PRO_KEY = "elx_test_sk_pro00000connector"

PLUGIN = MarketplacePlugin(
    name="ecomlinx",
    title="EcomLinx",
    default_base_url="https://api.ecomlinx.com/v1",
    limits=LIMITS,
    default_mapping=shipped_mapping("ecomlinx"),
    credential_env="ECOMLINX_API_KEY",
    make_adapter=_make_adapter,
    auth_headers=bearer,
    create_sandbox=lazy("connector.marketplaces.ecomlinx.sandbox:create_sandbox"),
    sandbox_base_path="/v1",
    sandbox_key=SANDBOX_KEY,
    settings=SETTINGS,
    open_settings=False,
    setting_tables={"paths": frozenset(DEFAULT_PATHS)},
    limits_for=lambda settings: plan_limits(resolve_plan(settings)[1]),
    make_order_reader=_make_order_reader,
    make_fulfilment_writer=_make_fulfilment_writer,
    docs="docs/ecomlinx.md",
)
