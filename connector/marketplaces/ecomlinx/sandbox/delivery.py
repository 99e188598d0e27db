"""Webhook deliveries from the EcomLinx sandbox: the shared sandbox sender (``connector/sandbox/webhooks.py``)
with EcomLinx's envelope and ``X-EcomLinx-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` when the
registration has a secret; every attempt is logged in the backend (``/__sandbox/webhooks/deliveries``).
"""

from __future__ import annotations

import json
from typing import Any

from connector.sandbox.webhooks import LOOPBACK_HOSTS, WebhookSender
from connector.webhooks.signature import sign as _sign

from .backend import EcomLinxBackend, now_iso

__all__ = ["LOOPBACK_HOSTS", "Deliverer", "sign"]


def sign(secret: str, body: bytes) -> str:
    """The ``X-EcomLinx-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return _sign(secret, body)


class Deliverer:
    """POSTs events to the backend's active webhooks subscribed to them."""

    def __init__(self, backend: EcomLinxBackend) -> None:
        self.backend = backend
        self.sender = WebhookSender(header="X-EcomLinx-Signature", user_agent="EcomLinx-Webhooks/sandbox",
                                    hooks=backend.webhooks, record=backend.record_delivery)

    def emit(self, event: str, data: dict[str, Any], times: int = 1) -> list[dict[str, Any]]:
        """POST the event to every active webhook subscribed to it (the same body ``times`` times)."""
        body = json.dumps({"event": event, "created_at": now_iso(), "data": data}, separators=(",", ":")).encode()
        return self.sender.emit(event, body, times)
