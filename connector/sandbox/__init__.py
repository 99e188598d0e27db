"""Local marketplace sandboxes: stateful HTTP servers on 127.0.0.1 that enforce a documented contract.

Shaped like moto: each sandbox (``connector/marketplaces/<name>/sandbox/``, ``connector/sources/aleta/sandbox/``)
is a *backend* of pure state and rules (no HTTP) and *routes* that parse requests and word the answers.  What
they share lives here:

- ``server.py``: ``SandboxServer``, the marketplace-neutral HTTP base (routing, JSON, request log, fault
  injection, admin endpoints under ``/__sandbox/``); a ``Rejected`` raised anywhere becomes the sandbox's own
  error through its ``rejected_response`` envelope;
- ``validation.py``: ``Problems`` and the type/length/range/required checks, and ``Rejected``;
- ``records.py``: ``RecordStore`` (JSON documents in SQLite collections, in memory or a ``--db`` file) and
  ``IdempotencyKeys``; ``store.py``: the SQLite connection and the request log;
- ``paging.py``: page-number, offset and cursor paging; ``auth.py``: bearer API keys;
- ``ratelimit.py``: ``RateLimiter``, sliding windows per IP or per key and per-key daily budgets;
- ``states.py``: ``StatusMachine``, allowed status transitions and the refusal of the others.
"""

from connector.sandbox.ratelimit import Limit, RateLimiter, Refusal, Window
from connector.sandbox.records import Collection, IdempotencyKeys, RecordStore
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
from connector.sandbox.states import StatusMachine
from connector.sandbox.store import SandboxStore, utc_now_iso
from connector.sandbox.validation import Problems, Rejected

__all__ = [
    "ADMIN_PREFIX",
    "Collection",
    "Fault",
    "HTTPError",
    "IdempotencyKeys",
    "InvalidJSONError",
    "Limit",
    "Problems",
    "RateLimiter",
    "RecordStore",
    "Refusal",
    "Rejected",
    "Request",
    "Response",
    "Route",
    "SandboxServer",
    "SandboxStore",
    "StatusMachine",
    "Window",
    "utc_now_iso",
]
