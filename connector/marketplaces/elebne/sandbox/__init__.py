"""A local Elebne Store API: the contract of ``docs/elebne.md``, served on 127.0.0.1 with SQLite state.

Everything the documents leave open is decided in the "Sandbox notes" of ``docs/elebne.md``; keep the two
in step.  ``backend.py`` holds the state and its rules, ``checks.py`` what a request body may hold,
``routes.py`` the HTTP side.  Start one with ``create_sandbox()``::

    with create_sandbox(rate_limits={"write": (2, 10)}, window_seconds=0.5) as sandbox:
        requests.post(sandbox.api_url + "/products", json={...}, headers={"Authorization": "Bearer sk_test_..."})
"""

from .backend import ElebneBackend
from .routes import DEFAULT_RATE_LIMITS, IDEMPOTENCY_HEADER, KEY_PATTERN, PATH_PREFIX, ElebneSandbox, create_sandbox

__all__ = ["DEFAULT_RATE_LIMITS", "IDEMPOTENCY_HEADER", "KEY_PATTERN", "PATH_PREFIX", "ElebneBackend",
           "ElebneSandbox", "create_sandbox"]
