"""Elryan Merchant API: plugin registration (entry point ``connector.marketplaces:elryan``).

Authentication is a login: the merchant's ``email`` (a target setting, or ``$ELRYAN_EMAIL``) and password
(``$ELRYAN_PASSWORD`` or the credentials file) are exchanged for a bearer token, cached for the run and renewed
once when Elryan rejects it.  Contract and inferred parts: docs/elryan.md.
"""

from __future__ import annotations

import os
from typing import Any

from connector.errors import ConfigError
from connector.http import HttpClient, RateLimit
from connector.mapping.loader import shipped_mapping
from connector.marketplaces.base import MarketplacePlugin, lazy
from connector.marketplaces.elryan.client import DEFAULT_PATHS, INFERRED, ORDER_FILTERS
from connector.marketplaces.elryan.orders import DEFAULT_ORDER_STATUSES

# The document gives no rate limits; none are enforced here (a profile cannot add any yet).
LIMITS: dict[str, RateLimit] = {}

PASSWORD_ENV = "ELRYAN_PASSWORD"
EMAIL_ENV = "ELRYAN_EMAIL"
SANDBOX_EMAIL = "merchant@example.com"
SANDBOX_PASSWORD = "sandbox-password"

# Inferred where the document is silent (docs/elryan.md); a profile may override any of them under
# `settings:` of the target.  Paths are "METHOD /path"; {id} is a remote id / spu / sku / order line id.
SETTINGS: dict[str, Any] = {
    "email": None,
    # the inferred paths, listed so a profile sees what it may need to correct (values: client.DEFAULT_PATHS)
    "paths": {name: DEFAULT_PATHS[name] for name in sorted(INFERRED)},
    # SKUs per price & stock request: the document gives no maximum (docs/elryan.md, "Batch size").
    "price_stock_batch_size": 100,
    "page_length": 100,
    # an archived product the state does not know is looked up (the product search by spu) before it is skipped;
    # "not on Elryan" is trusted for this many hours (0: asked every run; `sync --full` asks again)
    "archived_check_hours": 720,
    "category_prefix": "cat-",
    # orders (docs/elryan.md, "Orders"): Elryan's line status -> canonical (merged over
    # orders.DEFAULT_ORDER_STATUSES), the time zone of `dateISO` (the document's sample: UTC+3), the currency
    # of the amounts (the document names none; its "Magento IQD Exchange Rate" says they are not IQD), the
    # search's date filter names, and the order-line fields holding customer data (the document shows none).
    "order_statuses": dict(DEFAULT_ORDER_STATUSES),
    "order_timezone": "+03:00",
    "order_currency": "USD",
    "order_filters": dict(ORDER_FILTERS),
    "order_customer_fields": {},
    # whether a page shorter than `page_length` ends an orders read (false: only an empty page does; the document
    # does not say Elryan always sends `length` lines)
    "orders_short_page_ends": False,
    # fulfilment (docs/elryan.md, "Fulfilment"): whether a package must carry a tracking number when it is
    # created (else it is created without and given one later with Fulfill Package), and the delivery status
    # set once a package is created / once the order is delivered (null: none).
    "needs_tracking": True,
    "delivery_statuses": {"shipped": "in_transit", "delivered": "delivered"},
}


def _make_client(http: HttpClient, settings: dict[str, Any], secret: str) -> Any:
    """The logged-in client both the adapter and the order reader use (one login and token code)."""
    from connector.marketplaces.elryan.client import ElryanClient

    email = settings.get("email") or os.environ.get(EMAIL_ENV)
    if not email:
        raise ConfigError(f"Elryan needs the merchant's login email: set `email:` under the elryan target's "
                          f"settings in the profile, or {EMAIL_ENV} in the environment")
    return ElryanClient(http, email=str(email), password=secret, paths=settings.get("paths"),
                        page_length=int(settings.get("page_length") or 100),
                        order_filters=settings.get("order_filters"),
                        orders_short_page_ends=settings.get("orders_short_page_ends") is True)


def _make_adapter(http: HttpClient, settings: dict[str, Any], account: str, secret: str = "") -> Any:
    from connector.marketplaces.elryan.adapter import ElryanAdapter

    try:
        client = _make_client(http, settings, secret)
        return ElryanAdapter(client, account=account, batch_size=int(settings["price_stock_batch_size"]),
                             category_prefix=str(settings.get("category_prefix") or ""))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Elryan settings: {exc}") from None


def _make_order_reader(http: HttpClient, settings: dict[str, Any], account: str, secret: str = "") -> Any:
    """An ``OrderReader`` for the account (connector/marketplaces/elryan/orders.py)."""
    from connector.marketplaces.elryan.orders import ElryanOrderReader

    try:
        return ElryanOrderReader(_make_client(http, settings, secret), account=account, settings=settings)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Elryan settings: {exc}") from None


def _make_fulfilment_writer(http: HttpClient, settings: dict[str, Any], account: str, secret: str = "") -> Any:
    """A ``FulfilmentWriter`` for the account (connector/marketplaces/elryan/fulfilment.py)."""
    from connector.marketplaces.elryan.fulfilment import ElryanFulfilmentWriter

    try:
        return ElryanFulfilmentWriter(_make_client(http, settings, secret), account=account, settings=settings)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Elryan settings: {exc}") from None


PLUGIN = MarketplacePlugin(
    name="elryan",
    title="Elryan",
    default_base_url="https://merchant.elryan.com/api",
    limits=LIMITS,
    default_mapping=shipped_mapping("elryan"),
    credential_env=PASSWORD_ENV,
    make_adapter=_make_adapter,
    make_order_reader=_make_order_reader,
    make_fulfilment_writer=_make_fulfilment_writer,
    auth_headers=lambda _secret: {},  # the password never leaves in a header: it buys a token (client.py)
    create_sandbox=lazy("connector.marketplaces.elryan.sandbox:create_sandbox"),
    sandbox_base_path="/api",
    sandbox_key=SANDBOX_PASSWORD,
    settings=SETTINGS,
    open_settings=False,
    setting_tables={"paths": frozenset(DEFAULT_PATHS), "order_filters": frozenset(ORDER_FILTERS),
                    "delivery_statuses": frozenset(SETTINGS["delivery_statuses"])},
    docs="docs/elryan.md",
)
