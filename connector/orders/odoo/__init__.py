"""Odoo as the destination of marketplace orders (issue "Orders in", design §8b).

- ``settings``: the profile's ``orders.odoo`` table, validated;
- ``resolve``: the line fields of this server (``fields_get``) and the ids of what the settings name;
- ``partners``: customers found again by a stable key in the partner's ``ref``, created per page;
- ``batch``: one call per page, record by record only when Odoo refuses the page;
- ``destination``: ``OdooOrderDestination``, one confirmed sale order per marketplace order, exactly once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.orders.odoo.destination import OdooOrderDestination
from connector.orders.odoo.settings import OdooOrderSettings, parse_settings

__all__ = ["OdooOrderDestination", "OdooOrderSettings", "open_odoo_destination", "parse_settings"]


def open_odoo_destination(section: dict[str, Any] | None, source: dict[str, Any] | None,
                          base_dir: Path) -> OdooOrderDestination:
    """The destination for a profile: ``section`` is its ``orders.odoo`` table, ``source`` its ``source:``
    section (the connection's default when it is Odoo).  Nothing is sent until orders are imported; a wrong
    setting is a ``ConfigError`` now, a name Odoo does not know one at the first import."""
    del base_dir  # no file settings (yet): kept for the destinations' common factory signature
    return OdooOrderDestination(parse_settings(section, source))
