"""Aleta B2B as a source: a supplier's catalogue (Shopify products/variants, B2B prices) and live stock.

``read_profile_source(config, state, full)`` is what ``connector/sources/registry.py`` calls for a profile's
``source: {type: aleta, ...}`` or for ``connector sync --source aleta`` (settings from ``ALETA_*`` environment
variables).  Settings: ``settings.py``; HTTP: ``client.py``; prices: ``pricing.py``; canonical records:
``convert.py``; cursors and snapshot: ``incremental.py``; a local sandbox: ``sandbox.py``.  Contract and what
was inferred: docs/aleta.md.
"""

from __future__ import annotations

from typing import Any

from connector.sources.aleta.pricing import PriceRule
from connector.sources.aleta.reader import AletaSource
from connector.sources.aleta.settings import AletaSettings
from connector.sources.base import SourceResult

__all__ = ["AletaSettings", "AletaSource", "PriceRule", "read_profile_source"]


def read_profile_source(config: dict[str, Any], state: Any = None, full: bool = False) -> SourceResult:
    """Read the Aleta catalogue and stock.  Cursors are returned in ``SourceResult.cursors``, not stored."""
    settings = AletaSettings.from_config(config)
    source = AletaSource.connect(settings)
    try:
        return source.read(state, full=full)
    finally:
        source.close()
