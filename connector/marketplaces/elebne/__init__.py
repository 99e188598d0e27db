"""Elebne Store API: plugin registration (entry point ``connector.marketplaces:elebne``)."""

from __future__ import annotations

from typing import Any

from connector.http import HttpClient, RateLimit, bearer
from connector.mapping.loader import shipped_mapping
from connector.marketplaces.base import MarketplacePlugin, lazy

# Documented limits (seed 000): per IP per minute, per API key per day.
LIMITS = {
    "read": RateLimit("read", per_window=60, per_day=2000, window_scope="ip"),
    "write": RateLimit("write", per_window=30, per_day=500, window_scope="ip"),
    "stock": RateLimit("stock", per_window=120, per_day=5000, window_scope="ip"),
    "bulk": RateLimit("bulk", per_window=30, per_day=500, window_scope="ip"),
    "import": RateLimit("import", per_window=5, per_day=50, window_seconds=3600, window_scope="ip"),
}

# Inferred from the documents' own patterns (docs/elebne.md); a profile may override any of them under
# `settings:` of the target.
SETTINGS: dict[str, Any] = {
    "paths": {
        "products": "/products",
        "product": "/products/{id}",
        "product_stock": "/products/{id}/stock",
        "bulk_inventory": "/inventory/bulk",
        "inventory": "/inventory",
        "orders": "/orders",
        "order": "/orders/{id}",
    },
    "bulk_max_items": 200,
    "page_limit": 100,
    "listing_total": "total",  # where a listing page states its total, checked against the pages (null: not)
    "idempotency_header": "X-Idempotency-Key",
    # an archived product the state does not know is looked up (GET /products/{externalId}) before it is skipped;
    # "not on Elebne" is trusted for this many hours (0: asked every run; `sync --full` asks again)
    "archived_check_hours": 720,
    # ...one GET each for the first this many of a run; past them, the product listing is read once instead
    "archived_lookup_gets": 100,
    # Orders (docs/elebne.md, "Orders"; all inferred: the document shows no order): the list's time filter
    # (null: none, every page is read), the raw -> canonical status table (merged over the shipped one), where
    # a line's SKU is (first field present), the minor units per currency unit of order amounts, the currency
    # when an order carries none.
    "orders_since_param": "updatedSince",
    "order_statuses": {},
    "order_line_sku": ["sku", "externalId"],
    "order_amount_scale": 100,
    "order_currency": "MRU",
    # Webhooks (docs/elebne.md, "Webhooks"; all inferred: the document lists the page, not its contents): the
    # signature header, its HMAC algorithm and prefix over the raw body, where an event's name, delivery id and
    # time are, the replay window in seconds (null: none), and which events queue which jobs in service mode.
    "webhooks": {
        "signature_header": "X-Elebne-Signature",
        "algorithm": "sha256",
        "signature_prefix": "sha256=",
        "event_field": "event",
        "id_field": "id",
        "time_field": "createdAt",
        "tolerance_seconds": 300,
        "order_events": ["order.created", "order.updated", "order.cancelled"],
        "stock_events": ["product.stock_low", "product.stock_out"],  # the two the Inventory page names
    },
}


def _client(http: HttpClient, settings: dict[str, Any]) -> Any:
    from connector.marketplaces.elebne.client import ElebneClient

    return ElebneClient(http, paths=settings.get("paths"), idempotency_header=settings["idempotency_header"],
                        page_limit=int(settings["page_limit"]), listing_total=settings.get("listing_total") or None)


def _make_adapter(http: HttpClient, settings: dict[str, Any], account: str, secret: str = "") -> Any:
    from connector.marketplaces.elebne.adapter import ElebneAdapter

    return ElebneAdapter(_client(http, settings), account=account, bulk_max_items=int(settings["bulk_max_items"]),
                        archived_lookup_gets=int(settings["archived_lookup_gets"]))


def _make_order_reader(http: HttpClient, settings: dict[str, Any], account: str, secret: str = "") -> Any:
    from connector.marketplaces.elebne.orders import ElebneOrderReader

    return ElebneOrderReader(_client(http, settings), account, settings)



PLUGIN = MarketplacePlugin(
    name="elebne",
    title="Elebne",
    default_base_url="https://api.elebne.ai/api/v1/dev/store",
    limits=LIMITS,
    default_mapping=shipped_mapping("elebne"),
    credential_env="ELEBNE_API_KEY",
    make_adapter=_make_adapter,
    auth_headers=bearer,
    create_sandbox=lazy("connector.marketplaces.elebne.sandbox:create_sandbox"),
    sandbox_base_path="/api/v1/dev/store",
    sandbox_key="sk_test_demo0000connector",
    settings=SETTINGS,
    open_settings=False,
    setting_tables={"paths": frozenset(SETTINGS["paths"]), "webhooks": frozenset(SETTINGS["webhooks"])},
    make_order_reader=_make_order_reader,
    fulfilment_unsupported=("Elebne's documents give no call to mark an order shipped or cancelled: nothing is "
                            "sent (docs/elebne.md, \"Fulfilment\")"),
    docs="docs/elebne.md",
)
