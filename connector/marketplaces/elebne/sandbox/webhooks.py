"""The Elebne sandbox's webhooks: registrations (a sandbox control call: Elebne documents no registration API)
and signed deliveries of order events, with the inferred scheme of ``docs/elebne.md`` (the plugin's default
``webhooks`` settings): ``{"id": "evt_...", "event", "createdAt", "data"}`` signed in ``X-Elebne-Signature``.

A simulated order is announced as ``order.created``, a status move as ``order.updated`` (``order.cancelled``
for a cancel), each with the order as ``data``, to every active registration subscribed to that event.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from connector.marketplaces.elebne import SETTINGS
from connector.sandbox.records import Collection, RecordStore, object_id
from connector.sandbox.store import utc_now_iso
from connector.sandbox.validation import Rejected
from connector.sandbox.webhooks import LOOPBACK_HOSTS, WebhookSender

HOOKS = Collection("elebne_webhooks", columns={"url": "url"})
DELIVERIES = Collection("elebne_webhook_deliveries")
SCHEME = SETTINGS["webhooks"]
EVENTS = (*SCHEME["order_events"], *SCHEME["stock_events"])


def order_event(status: str) -> str:
    return "order.cancelled" if status == "CANCELLED" else "order.updated"


class ElebneWebhooks:
    def __init__(self, records: RecordStore) -> None:
        self.records = records
        records.create(HOOKS)
        records.create(DELIVERIES)
        self.sender = WebhookSender(header=SCHEME["signature_header"], user_agent="Elebne-Webhooks/sandbox",
                                    hooks=self.hooks, record=self.record, algorithm=SCHEME["algorithm"],
                                    prefix=SCHEME["signature_prefix"])

    def register(self, url: Any, secret: Any, events: Any = None) -> dict[str, Any]:
        """A registration for ``events`` (default: all); ``url`` https, or http on loopback."""
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or not parts.hostname or not (
                parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)):
            raise Rejected("VALIDATION_ERROR", "url: an HTTPS URL (the sandbox also takes http:// on loopback)")
        if not isinstance(secret, str) or not secret:
            raise Rejected("VALIDATION_ERROR", "secret: the signing secret, a non-empty string")
        events = list(EVENTS) if events is None else events
        if not isinstance(events, list) or not events or not set(events) <= set(EVENTS):
            raise Rejected("VALIDATION_ERROR", f"events: a non-empty array of {', '.join(EVENTS)}")
        doc = {"id": "wh_" + object_id(), "url": url, "events": list(dict.fromkeys(events)), "status": "active",
               "secret": secret, "createdAt": utc_now_iso()}
        self.records.insert(HOOKS, doc)
        return {k: v for k, v in doc.items() if k != "secret"}

    def hooks(self) -> list[dict[str, Any]]:
        return self.records.find(HOOKS)

    def record(self, delivery: dict[str, Any]) -> int:
        return self.records.append_numbered(DELIVERIES, delivery)

    def deliveries(self) -> list[dict[str, Any]]:
        return self.records.find(DELIVERIES)

    def emit(self, event: str, data: dict[str, Any], times: int = 1, *, event_id: str | None = None,
             created_at: str | None = None) -> list[dict[str, Any]]:
        """Deliver one event (the same body ``times`` times: a redelivery keeps its id)."""
        body = json.dumps({"id": event_id or "evt_" + object_id(), "event": event,
                           "createdAt": created_at or utc_now_iso(), "data": data}, separators=(",", ":")).encode()
        return self.sender.emit(event, body, times)
