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
    "paths": {
        "generate_token": "POST /users/generate-token",
        "category_info": "GET /categories/get/{id}",
        "brand_info": "GET /brands/get/{id}",
        "search_attribute_values": "POST /attribute-values/search",
        "upsert_attribute_value": "POST /attribute-values/upsert",
        "attribute_value_info": "GET /attribute-values/get/{id}",
        "upsert_product": "POST /products/upsert",
        "product_info": "GET /products/get/{id}",
        "enable_product": "GET /products/enable/{id}",
        "disable_product": "GET /products/disable/{id}",
        "upsert_variant": "POST /variants/upsert",
        "search_variants": "POST /variants/search",
        "enable_variant": "GET /variants/enable/{id}",
        "disable_variant": "GET /variants/disable/{id}",
        "update_price_stock": "POST /variants/price-stock",
        "search_orders": "POST /orders/search",
        "order_details": "GET /orders/get/{id}",
        "unfulfilled_orders": "POST /orders/unfulfilled",
        "prepare_order_items": "GET /orders/prepare/{id}",
        "cancellation_reasons": "GET /orders/cancel-reasons",
        "transaction_info": "GET /transactions/get/{id}",
        "create_package": "POST /packages/create",
        "cancel_package": "GET /packages/cancel/{id}",
        "fulfill_online_package": "POST /packages/fulfill-online/{id}",
        "search_tracking": "POST /tracking/search",
        "upsert_tracking": "POST /tracking/upsert",
        "tracking_info": "GET /tracking/get/{id}",
        "update_delivery_event": "POST /deliveries/{id}/event-info",
        "update_delivery_status": "POST /deliveries/{id}/status",
    },
    # SKUs per price & stock request: the document gives no maximum (docs/elryan.md, "Batch size").
    "price_stock_batch_size": 100,
    "page_length": 100,
    "category_prefix": "cat-",
}


def _make_adapter(http: HttpClient, settings: dict[str, Any], account: str, secret: str = "") -> Any:
    from connector.marketplaces.elryan.adapter import ElryanAdapter
    from connector.marketplaces.elryan.client import ElryanClient

    email = settings.get("email") or os.environ.get(EMAIL_ENV)
    if not email:
        raise ConfigError(f"Elryan needs the merchant's login email: set `email:` under the elryan target's "
                          f"settings in the profile, or {EMAIL_ENV} in the environment")
    try:
        client = ElryanClient(http, email=str(email), password=secret, paths=settings.get("paths"),
                              page_length=int(settings.get("page_length") or 100))
        return ElryanAdapter(client, account=account, batch_size=int(settings["price_stock_batch_size"]),
                             category_prefix=str(settings.get("category_prefix") or ""))
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
    auth_headers=lambda _secret: {},  # the password never leaves in a header: it buys a token (client.py)
    create_sandbox=lazy("connector.marketplaces.elryan.sandbox:create_sandbox"),
    sandbox_base_path="/api",
    sandbox_key=SANDBOX_PASSWORD,
    settings=SETTINGS,
    docs="docs/elryan.md",
)
