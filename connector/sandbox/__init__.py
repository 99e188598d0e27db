"""Local marketplace sandboxes: stateful HTTP servers on 127.0.0.1 that enforce a documented contract.

``SandboxServer`` is the marketplace-neutral base (routing, JSON, request log, fault injection, admin
endpoints under ``/__sandbox/``); ``RateLimiter`` implements per-IP windows and per-key daily budgets;
``SandboxStore`` is the SQLite state.  Each marketplace's sandbox lives beside its client
(``connector/marketplaces/<name>/sandbox.py``).
"""

from connector.sandbox.ratelimit import Limit, RateLimiter, Refusal
from connector.sandbox.server import (
    ADMIN_PREFIX,
    Fault,
    HTTPError,
    InvalidJSONError,
    Request,
    Response,
    Route,
    SandboxServer,
)
from connector.sandbox.store import SandboxStore, utc_now_iso

__all__ = [
    "ADMIN_PREFIX",
    "Fault",
    "HTTPError",
    "InvalidJSONError",
    "Limit",
    "RateLimiter",
    "Refusal",
    "Request",
    "Response",
    "Route",
    "SandboxServer",
    "SandboxStore",
    "utc_now_iso",
]
