"""Marketplace webhooks into the queue: a verified order event enqueues an order pull and a stock push.

The receiver (``connector/webhooks/receiver.py``, with the marketplace's scheme) checks the signature and stores
each event once; this is the handler it calls for each new event.  Events about orders (EcomLinx: ``order.*``;
Elebne: its ``order_events`` setting) queue, for the profile's target on that marketplace, an ``orders`` job
(once that kind exists in this installation) and a ``stock`` job: an order took stock, the other marketplaces
should know.  Stock events (``inventory.*``; Elebne's ``stock_events``) queue the stock job alone.  A job
already waiting is not queued twice, so a burst of events costs one run per account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector.errors import ConfigError

log = logging.getLogger("connector.service")


def kinds_for(event_name: str) -> list[str]:
    from connector.service.kinds import kinds

    if event_name.startswith("order."):
        return [k for k in ("orders", "stock") if k in kinds()]
    if event_name.startswith("inventory."):
        return ["stock"]
    return []


def enqueue_handler(url: str, profile: Path, target: str, kinds_of: Callable[[str], list[str]] = kinds_for,
                    event_field: str = "event") -> Callable[[dict[str, Any]], None]:
    """The receiver's handler: queue the jobs ``kinds_of(event name)`` calls for (an error makes the receiver
    answer 500, so the marketplace delivers the event again)."""
    from connector.config import load_profile
    from connector.service.jobs import JobSpec, defer
    from connector.service.queue import connection, make_app, require_queue

    if target not in load_profile(profile).targets:
        raise ConfigError(f"profile {profile} has no target {target!r}: the webhook's jobs need it")
    with connection(url) as conn:
        require_queue(conn, url)
    app = make_app(url)
    app.open()

    def handle(event: dict[str, Any]) -> None:
        name = str(event.get(event_field))
        for kind in kinds_of(name):
            job = defer(app, JobSpec.of(profile, target, kind))
            log.info("webhook %s: %s job %s", name, kind, job or "already queued")

    return handle
