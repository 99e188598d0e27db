"""A local Elryan Merchant API: the contract of ``docs/elryan.md``, served on 127.0.0.1 with SQLite state.

What it enforces (the document's rules, and our inferences where it is silent, listed in docs/elryan.md):

- a bearer token from ``POST /users/generate-token`` (email + password) on every call but the health check and
  the cron trigger; an unknown or revoked token gets HTTP 401 with ``error_code`` 1401;
- the envelope ``{"data": ..., "error_code": 0}``; refusals are **HTTP 200 with a non-zero error_code**
  (1001 invalid request, 1002 unknown reference, 1004 not found, 1403 bad login), as Elryan does;
- upserts keyed by our ``remote_id`` (``spu`` for products, ``sku`` for variants): the same call twice
  changes nothing and keeps Elryan's ``id``;
- a product (or variant) refusing a category, brand, attribute or attribute value it does not know;
- the price & stock update answering which SKUs it found and which it did not.

``backend.py`` holds the state and its rules, ``checks.py`` what a request body may hold, ``routes.py`` the
HTTP side.  Start one with ``create_sandbox()``; test helpers: ``/__sandbox/state``, ``/__sandbox/requests``,
``/__sandbox/faults``, ``/__sandbox/seed`` (``{"orders": [...], "transactions": [...], "revoke_tokens": true}``).
Orders: the sandbox-only control calls ``POST /api/_sandbox/orders`` (place one, taking Elryan's stock) and
``POST /api/_sandbox/orders/{POlineID}/status`` (move a line), in ``orders.py``.  Packages and deliveries (items of
the order only, prepared lines, quantities, the line moves they cause): ``packages.py``.
"""

from .backend import ElryanBackend
from .routes import DEFAULT_USERS, PATH_PREFIX, ElryanSandbox, create_sandbox

__all__ = ["DEFAULT_USERS", "PATH_PREFIX", "ElryanBackend", "ElryanSandbox", "create_sandbox"]
