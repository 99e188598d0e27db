"""Odoo as a source: products, variants and stock read over RPC (design §7).

``OdooSource(settings).read(state)`` returns a ``SourceResult`` like every other source.  The RPC itself sits
behind ``OdooBackend`` (``backend.py``) so the JSON-RPC client (odoorpc) and the JSON-2 client (Odoo 19+) are
interchangeable.
"""

from __future__ import annotations

import os
from typing import Any

from connector.sources.base import SourceResult
from connector.sources.odoo.reader import OdooSource
from connector.sources.odoo.settings import OdooSettings
from connector.sources.odoo.version import parse_version

__all__ = ["OdooSettings", "OdooSource", "parse_version", "read_profile_source", "settings_from_profile"]

_ENV_SETTINGS = {"url": "ODOO_URL", "db": "ODOO_DB", "user": "ODOO_USER"}


def settings_from_profile(config: dict[str, Any]) -> OdooSettings:
    """``OdooSettings`` from a profile's ``source:`` section (``from_env``: the ``ODOO_*`` variables fill in)."""
    data = {k: v for k, v in config.items() if k not in ("type", "from_env")}
    if config.get("from_env"):
        for key, env in _ENV_SETTINGS.items():
            if os.environ.get(env):
                data.setdefault(key, os.environ[env])
    return OdooSettings.from_dict(data)


def read_profile_source(config: dict[str, Any], state: Any, full: bool, backend: Any = None) -> SourceResult:
    """Read Odoo for a sync profile (``source: {type: odoo, url: ..., db: ..., ...}``) or, with
    ``connector sync --source odoo``, from ``ODOO_URL``/``ODOO_DB``/``ODOO_USER``/``ODOO_PASSWORD``.

    The incremental cursor is returned in ``SourceResult.cursors``: the CLI saves it only once every target
    confirmed the push, so a failed run reads the same changes again.
    """
    source = OdooSource(settings_from_profile(config), backend, connected=backend is not None)  # backend: shared
    result = source.read(state, full=full or state is None, commit_cursor=False)
    result.cursors.update(source.pending_cursors())

    def recheck(skus: set[str]) -> None:
        source.recheck(skus)
        result.cursors.update(source.pending_cursors())

    result.recheck = recheck
    return result
