"""Elebne webhooks: the shared receiver (``connector/webhooks/receiver.py``) with Elebne's scheme.

Elebne's document lists a "Webhook Events" page ("get notified on orders and stock changes") without its
contents; the scheme is inferred from the documents' own patterns (EcomLinx's signed deliveries, Elebne's
camelCase and ``X-`` headers) and every part of it is a setting of the target (``settings: {webhooks: {...}}``,
``docs/elebne.md``): an event ``{"id", "event", "createdAt", "data"}`` signed with
``X-Elebne-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.  A delivery without its ``id`` is refused
(400): the id is how a redelivery is known, and it is stored once.  One whose ``createdAt`` is more than
``tolerance_seconds`` from now is refused as a replay (400).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.errors import ConfigError
from connector.marketplaces.elebne import SETTINGS
from connector.marketplaces.elebne.statedb import TABLES
from connector.webhooks import receiver as shared

DEFAULT_PATH = "/hooks/elebne"


def webhook_settings(target_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The plugin's webhook settings with a target's ``settings: {webhooks: ...}`` over them."""
    merged = dict(SETTINGS["webhooks"])
    override = (target_settings or {}).get("webhooks") or {}
    if not isinstance(override, dict):
        raise ConfigError("elebne settings.webhooks must be a table (signature_header, algorithm, ...)")
    merged.update(override)
    return merged


def scheme(settings: dict[str, Any] | None = None) -> shared.WebhookScheme:
    s = settings or webhook_settings()
    tolerance = s.get("tolerance_seconds")
    try:
        return shared.WebhookScheme(
            "Elebne", str(s["signature_header"]), DEFAULT_PATH, algorithm=str(s["algorithm"]),
            prefix=str(s.get("signature_prefix") or ""), event_field=str(s["event_field"]),
            time_field=str(s["time_field"]), id_field=str(s["id_field"]), require_id=True,
            tolerance=None if tolerance is None else float(tolerance))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"elebne settings.webhooks: {exc}") from None


def job_kinds(settings: dict[str, Any]) -> Any:
    """``event name -> job kinds`` for the service: an order event queues an order pull and a stock push, a
    stock event a stock push (the kinds this installation has)."""
    from connector.service.webhooks import kinds_for

    orders, stock = set(settings.get("order_events") or ()), set(settings.get("stock_events") or ())

    def kinds(event_name: str) -> list[str]:
        if event_name in orders:
            return kinds_for("order.")
        return ["stock"] if event_name in stock else []

    return kinds


class EventStore(shared.EventStore):
    """Elebne's accepted events, in its plugin table of the state (``elebne_webhook_events``)."""

    def __init__(self, state_path: str | Path, settings: dict[str, Any] | None = None) -> None:
        super().__init__(state_path, TABLES, scheme(settings))
