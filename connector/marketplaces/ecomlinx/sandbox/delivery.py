"""Webhook deliveries from the EcomLinx sandbox: signed POSTs to registered URLs, on loopback only.

``X-EcomLinx-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` when the registration has a secret; every
attempt is logged in the backend (``/__sandbox/webhooks/deliveries``).  A sandbox never calls out to the
internet: a URL off loopback is logged as not delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

import requests

from connector.sandbox.store import utc_now_iso

from .backend import EcomLinxBackend, now_iso

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DELIVERY_TIMEOUT = 3.0


def sign(secret: str, body: bytes) -> str:
    """The ``X-EcomLinx-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Deliverer:
    """POSTs events to the backend's active webhooks subscribed to them."""

    def __init__(self, backend: EcomLinxBackend) -> None:
        self.backend = backend

    def emit(self, event: str, data: dict[str, Any], times: int = 1) -> list[dict[str, Any]]:
        """POST the event to every active webhook subscribed to it (the same body ``times`` times)."""
        body = json.dumps({"event": event, "created_at": now_iso(), "data": data}, separators=(",", ":")).encode()
        out = []
        for hook in self.backend.webhooks():
            if event not in hook["events"] or hook["status"] != "active":
                continue
            for _ in range(times):
                out.append(self._deliver(hook, event, body))
        return out

    def _deliver(self, hook: dict[str, Any], event: str, body: bytes) -> dict[str, Any]:
        secret = hook.get("secret")
        headers = {"Content-Type": "application/json", "User-Agent": "EcomLinx-Webhooks/sandbox"}
        if secret:
            headers["X-EcomLinx-Signature"] = sign(secret, body)
        status, error = None, None
        if urlsplit(hook["url"]).hostname not in LOOPBACK_HOSTS:
            error = "not delivered: the sandbox only delivers to loopback URLs"
        else:
            try:
                resp = requests.post(hook["url"], data=body, headers=headers, timeout=DELIVERY_TIMEOUT)
                status = resp.status_code
                resp.close()
            except requests.RequestException as exc:
                error = type(exc).__name__
        delivery_id = self.backend.record_delivery({
            "webhook_id": hook["id"], "event": event, "url": hook["url"], "status": status, "error": error,
            "body": body.decode(), "signed": int(bool(secret)), "delivered_at": utc_now_iso()})
        return {"id": delivery_id, "webhook_id": hook["id"], "event": event, "status": status, "error": error}
