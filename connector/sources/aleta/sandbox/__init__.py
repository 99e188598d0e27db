"""A local Aleta B2B API: the contract of docs/aleta.md served on 127.0.0.1 with SQLite state.

Enforced: both auth forms (``Authorization: Bearer b2b_...`` or ``?api_key=b2b_...``), 401 without a valid key
(``/health`` answers anyway, with ``client_id: null``), cursor pagination (``limit`` 1..250, default 50)
that is stable while pages are read (keyset on an insertion sequence, the cursor bound to its filters),
filters ``status``/``vendor``/``sku``/``updated_since``, stock for comma-separated SKUs with ``location_id`` and
``low_stock``, single SKU endpoints, locations, ``meta.cached``/``cache_age_seconds`` from a response cache
(``cache_ttl`` seconds per endpoint, 0 = off), 414 above ``max_url_length`` characters.  ``backend.py`` holds
the catalogue, ``routes.py`` the HTTP side.  Start one with::

    with create_sandbox(variants=3000, seed=7) as sandbox:
        requests.get(sandbox.api_url + "/products", headers={"Authorization": "Bearer " + SANDBOX_KEY})

Test scenarios change the catalogue through ``set_stock``, ``update_variant``, ``update_product`` (or the same
operations under ``POST /__sandbox/seed``); ``advance(seconds)`` moves the sandbox clock (cache ages).
"""

from .backend import AletaBackend
from .routes import MAX_URL_LENGTH, PATH_PREFIX, SANDBOX_KEY, AletaSandbox, create_sandbox

__all__ = ["MAX_URL_LENGTH", "PATH_PREFIX", "SANDBOX_KEY", "AletaBackend", "AletaSandbox", "create_sandbox"]
