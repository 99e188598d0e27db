"""Webhook deliveries from a sandbox: signed POSTs to registered URLs, on loopback only (EcomLinx, Elebne).

A registration is a dict ``{"id", "url", "events", "status", "secret"}`` kept by the sandbox's backend; each
attempt is handed to ``record`` (the sandbox's delivery log).  The signature header carries the HMAC of the raw
body (``connector/webhooks/signature.py``) when the registration has a secret.  A sandbox never calls out to the
internet: a URL off loopback is logged as not delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from connector.sandbox.store import utc_now_iso
from connector.webhooks.signature import sign

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DELIVERY_TIMEOUT = 3.0



def checked_emit(body: Any, events: Sequence[str]) -> tuple[str, dict[str, Any], int]:
    """(event, data, times) of a sandbox's admin ``emit`` call ``{"event", "data", "times"?, ...}``; ValueError (a
    400) when the event is not one of ``events`` or ``times`` is not 1 to 10."""
    if not isinstance(body, dict) or body.get("event") not in events:
        raise ValueError(f"emit takes {{\"event\": one of {', '.join(events)}, \"data\": {{...}}, \"times\": n}}")
    times = body.get("times", 1)
    if type(times) is not int or not 1 <= times <= 10:
        raise ValueError("times must be an integer from 1 to 10")
    return body["event"], dict(body.get("data") or {}), times

class WebhookSender:
    """POSTs a body to every active registration subscribed to its event."""

    def __init__(self, *, header: str, user_agent: str, hooks: Callable[[], list[dict[str, Any]]],
                 record: Callable[[dict[str, Any]], int], algorithm: str = "sha256", prefix: str = "sha256=") -> None:
        self.header, self.user_agent, self.hooks, self.record = header, user_agent, hooks, record
        self.algorithm, self.prefix = algorithm, prefix

    def emit(self, event: str, body: bytes, times: int = 1) -> list[dict[str, Any]]:
        """POST ``body`` to every active webhook subscribed to ``event`` (the same body ``times`` times)."""
        out = []
        for hook in self.hooks():
            if event not in hook["events"] or hook["status"] != "active":
                continue
            for _ in range(times):
                out.append(self.deliver(hook, event, body))
        return out

    def deliver(self, hook: dict[str, Any], event: str, body: bytes) -> dict[str, Any]:
        secret = hook.get("secret")
        headers = {"Content-Type": "application/json", "User-Agent": self.user_agent}
        if secret:
            headers[self.header] = sign(secret, body, self.algorithm, self.prefix)
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
        delivery_id = self.record({
            "webhook_id": hook["id"], "event": event, "url": hook["url"], "status": status, "error": error,
            "body": body.decode(), "signed": int(bool(secret)), "delivered_at": utc_now_iso()})
        return {"id": delivery_id, "webhook_id": hook["id"], "event": event, "status": status, "error": error}
