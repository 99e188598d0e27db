"""EcomLinx webhooks: the shared receiver (``connector/webhooks/receiver.py``) with EcomLinx's documented scheme.

Each POST carries ``{"event", "created_at", "data"}`` and ``X-EcomLinx-Signature: sha256=<hex>``, the
HMAC-SHA256 of the *raw* body with the webhook's secret.  Accepted events are stored in the state database
(table ``ecomlinx_webhook_events``) under a key derived from the event itself (its ``id`` when EcomLinx sends one,
else a digest of the event), so a redelivered event is acknowledged (200) but stored and processed only once.
Limits, timeouts and answers are the shared receiver's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.marketplaces.ecomlinx.statedb import TABLES
from connector.webhooks import receiver as shared
from connector.webhooks.receiver import (
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_REQUEST_TIMEOUT,
    Handler,
    Stored,
    WebhookReceiver,
    WebhookScheme,
    is_json,
)
from connector.webhooks.signature import expected_signature
from connector.webhooks.signature import verify_signature as _verify

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_MAX_CONNECTIONS", "DEFAULT_PATH", "DEFAULT_READ_TIMEOUT",
           "DEFAULT_REQUEST_TIMEOUT", "SCHEME", "SIGNATURE_HEADER", "EventStore", "Handler", "Stored",
           "WebhookReceiver", "event_key", "expected_signature", "is_json", "verify_signature"]

SIGNATURE_HEADER = "X-EcomLinx-Signature"
DEFAULT_PATH = "/hooks/ecomlinx"
SCHEME = WebhookScheme("EcomLinx", SIGNATURE_HEADER, DEFAULT_PATH)


def verify_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """True when ``header`` (``sha256=<hex>``, or the bare hex) is the HMAC-SHA256 of ``body``."""
    return _verify(secret, body, header)


def event_key(event: dict[str, Any]) -> str:
    return SCHEME.key(event)


class EventStore(shared.EventStore):
    """EcomLinx's accepted events, in its plugin table of the state."""

    def __init__(self, state_path: str | Path) -> None:
        super().__init__(state_path, TABLES, SCHEME)
