"""Find marketplace plugins registered in the ``connector.marketplaces`` entry-point group."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from connector.errors import ConfigError
from connector.marketplaces.base import MarketplacePlugin

GROUP = "connector.marketplaces"


@cache
def plugins() -> dict[str, MarketplacePlugin]:
    found: dict[str, MarketplacePlugin] = {}
    for ep in entry_points(group=GROUP):
        plugin = ep.load()
        if not isinstance(plugin, MarketplacePlugin):
            raise ConfigError(f"entry point {ep.name!r} in {GROUP} is not a MarketplacePlugin")
        found[ep.name] = plugin
    return found


def get_plugin(name: str) -> MarketplacePlugin:
    known = plugins()
    if name not in known:
        names = ", ".join(sorted(known)) or "none installed"
        raise ConfigError(f"unknown marketplace {name!r} (installed: {names})")
    return known[name]
