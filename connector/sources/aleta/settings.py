"""Settings of the Aleta source: the ``source:`` section of a sync profile, or environment variables.

A profile::

    source:
      type: aleta
      base_url: https://b2b.aleta.example
      api_key_env: ALETA_API_KEY        # the key itself lives in the environment (or the credentials file)
      auth: header                      # header (Authorization: Bearer) | query (?api_key=, never logged)
      price_field: client_price         # which B2B price becomes the canonical price
      cost_field: client_price          # which one becomes the cost ("" for none)
      markup: {percent: 40, fixed: "1.00", ending: "0.90"}
      currency: EUR
      locations: [Main Warehouse]       # names or ids; empty = every active location
      status: active
      vendor: Brand Name
      sku: REF-                         # partial SKU filter
      overlap_seconds: 300

``connector sync --source aleta`` reads the same settings from ``ALETA_*`` environment variables (see
``ENV_VARS`` and docs/aleta.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from connector.errors import ConfigError
from connector.sources.aleta.pricing import PRICE_FIELDS, PriceRule, parse_markup

STATUSES = ("active", "draft", "archived")
MAX_PAGE_LIMIT = 250
DEFAULT_OVERLAP_SECONDS = 300
DEFAULT_STOCK_URL_LIMIT = 4000
API_PREFIX = "/api/v1"

#: environment variable -> setting, for ``connector sync --source aleta`` (``{"type": "aleta", "from_env": True}``)
ENV_VARS = {
    "ALETA_BASE_URL": "base_url",
    "ALETA_API_KEY_ENV": "api_key_env",
    "ALETA_AUTH": "auth",
    "ALETA_PRICE_FIELD": "price_field",
    "ALETA_COST_FIELD": "cost_field",
    "ALETA_MARKUP_PERCENT": "markup.percent",
    "ALETA_MARKUP_FIXED": "markup.fixed",
    "ALETA_PRICE_ENDING": "markup.ending",
    "ALETA_PRICE_STEP": "markup.step",
    "ALETA_CURRENCY": "currency",
    "ALETA_LOCATIONS": "locations",
    "ALETA_STATUS": "status",
    "ALETA_VENDOR": "vendor",
    "ALETA_SKU": "sku",
    "ALETA_PAGE_LIMIT": "page_limit",
    "ALETA_OVERLAP_SECONDS": "overlap_seconds",
    "ALETA_MISSING_STOCK": "missing_stock",
    "ALETA_OPTION_NAMES": "option_names",
}


@dataclass(slots=True)
class AletaSettings:
    """What the Aleta source needs.  The key itself never lives here: ``api_key_env`` names where it is."""

    base_url: str
    api_key_env: str = "ALETA_API_KEY"
    auth: str = "header"
    price: PriceRule = field(default_factory=PriceRule)
    cost_field: str | None = "client_price"
    currency: str = "MRU"
    locations: list[str] = field(default_factory=list)
    status: str = "active"
    vendor: str | None = None
    sku: str | None = None
    page_limit: int = MAX_PAGE_LIMIT
    overlap_seconds: int = DEFAULT_OVERLAP_SECONDS
    stock_url_limit: int = DEFAULT_STOCK_URL_LIMIT
    missing_stock: str = "zero"  # zero: a SKU without a stock row lists 0 | unknown: stock is left untouched
    option_names: list[str] = field(default_factory=list)  # names of the " / "-separated parts of a variant title
    product_key: str = "handle"  # handle | id
    timeout: float = 30.0
    max_retries: int = 5

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"aleta setting 'base_url': expected http(s)://host[:port], got {self.base_url!r}")
        if parts.query or parts.fragment:
            raise ConfigError("aleta setting 'base_url' must not carry a query string (put the key in the "
                              "environment variable named by 'api_key_env')")
        if self.auth not in ("header", "query"):
            raise ConfigError(f"aleta setting 'auth' must be 'header' or 'query', got {self.auth!r}")
        if self.cost_field is not None and self.cost_field not in PRICE_FIELDS:
            raise ConfigError(f"aleta setting 'cost_field' must be one of {', '.join(PRICE_FIELDS)} or empty, "
                              f"got {self.cost_field!r}")
        if self.status not in STATUSES:
            raise ConfigError(f"aleta setting 'status' must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if not 1 <= self.page_limit <= MAX_PAGE_LIMIT:
            raise ConfigError(f"aleta setting 'page_limit' must be between 1 and {MAX_PAGE_LIMIT}")
        if self.overlap_seconds < 0:
            raise ConfigError("aleta setting 'overlap_seconds' must be >= 0")
        if self.stock_url_limit < 200:
            raise ConfigError("aleta setting 'stock_url_limit' must be at least 200 characters")
        if self.missing_stock not in ("zero", "unknown"):
            raise ConfigError("aleta setting 'missing_stock' must be 'zero' or 'unknown'")
        if self.product_key not in ("handle", "id"):
            raise ConfigError("aleta setting 'product_key' must be 'handle' or 'id'")
        currency = self.currency.strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ConfigError(f"aleta setting 'currency' must be a 3-letter code such as EUR, got {self.currency!r}")
        self.currency = currency

    @property
    def api_base(self) -> str:
        """The base URL with the ``/api/v1`` prefix (added when the setting leaves it out)."""
        base = self.base_url.rstrip("/")
        return base if base.endswith(API_PREFIX) else base + API_PREFIX

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def cursor_source(self) -> str:
        """Name under which cursors are stored in the state file (one per Aleta host)."""
        return f"aleta:{self.host}"

    def filters(self) -> dict[str, str]:
        """The listing filters that decide which products this source sees (part of the snapshot identity)."""
        return {k: v for k, v in (("status", self.status), ("vendor", self.vendor), ("sku", self.sku)) if v}

    # -- construction --------------------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> AletaSettings:
        """From a profile's ``source:`` table (``type: aleta``) or ``{"type": "aleta", "from_env": True}``."""
        config = dict(config)
        config.pop("type", None)
        if config.pop("from_env", False):
            config = {**env_config(), **config}
        known = {f.name for f in fields(cls)} - {"price"} | {"price_field", "markup"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ConfigError(f"unknown aleta setting(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        if not config.get("base_url"):
            raise ConfigError("aleta setting 'base_url' is missing (profile 'source: base_url:' or ALETA_BASE_URL)")
        price_field = str(config.pop("price_field", "retail_price") or "retail_price")
        markup = config.pop("markup", None) or {}
        if not isinstance(markup, dict):
            raise ConfigError("aleta setting 'markup' must be a table: {percent: 30, fixed: 1.00, ending: 0.90}")
        kwargs: dict[str, Any] = {"price": parse_markup(price_field, markup)}
        for name, value in config.items():
            kwargs[name] = _coerce(name, value)
        return cls(**kwargs)


def _coerce(name: str, value: Any) -> Any:
    try:
        if name in ("page_limit", "overlap_seconds", "stock_url_limit", "max_retries"):
            return int(value)
        if name == "timeout":
            return float(value)
        if name in ("locations", "option_names"):
            if value is None:
                return []
            if isinstance(value, str):
                return [x.strip() for x in value.split(",") if x.strip()]
            if not isinstance(value, list):
                raise ValueError("expected a list")
            return [str(x) for x in value]
        if name == "cost_field":
            return str(value) if value else None
        if name in ("vendor", "sku"):
            return str(value) if value not in (None, "") else None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"aleta setting '{name}': {exc}") from None
    return str(value)


def env_config(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Settings from ``ALETA_*`` environment variables (only those that are set)."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    markup: dict[str, str] = {}
    for var, name in ENV_VARS.items():
        value = env.get(var)
        if value is None or value == "":
            continue
        if name.startswith("markup."):
            markup[name.split(".", 1)[1]] = value
        else:
            out[name] = value
    if "currency" not in out and env.get("CONNECTOR_CURRENCY"):
        out["currency"] = env["CONNECTOR_CURRENCY"]
    if markup:
        out["markup"] = markup
    return out
