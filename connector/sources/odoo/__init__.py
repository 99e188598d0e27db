"""Odoo as a source: products, variants and stock read over RPC (design §7).

``OdooSource(settings).read(state)`` returns a ``SourceResult`` like every other source.  The RPC itself sits
behind ``OdooBackend`` (``backend.py``) so the JSON-RPC client (odoorpc) and the JSON-2 client (Odoo 19+) are
interchangeable.
"""

from connector.sources.odoo.reader import OdooSource
from connector.sources.odoo.settings import OdooSettings
from connector.sources.odoo.version import parse_version

__all__ = ["OdooSettings", "OdooSource", "parse_version"]
