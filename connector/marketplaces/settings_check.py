"""A target's ``settings:`` in a profile, checked against what its marketplace plugin reads.

The settings are the plugin's inferred API facts (paths, batch sizes, status tables): a misspelt key
(``bulk_max_item: 50``, ``paths: {prodcut: ...}``) would otherwise be merged in, never read, and the run would
go on with the default it was meant to correct, so it is refused with the keys that would be read.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any

from connector.errors import ConfigError
from connector.marketplaces.base import MarketplacePlugin
from connector.sync.archived import create_archived
from connector.sync.stock_policy import untracked_stock

GENERIC_KEYS = frozenset({"defaults", "currency"})  # read for every target (the mapping's defaults, safety.py)


def settings_problems(plugin: MarketplacePlugin, settings: Any, where: str) -> list[str]:
    """What is wrong with ``settings`` (``where``: its key path in the profile, e.g. ``targets.elebne.settings``);
    empty when nothing is."""
    if not isinstance(settings, dict):
        return [f"{where} must be a table of settings (e.g. {{page_limit: 50}}), not {type(settings).__name__}"]
    problems = []
    for check in (untracked_stock, create_archived):  # read for every target: the stock policy, archived.py
        try:
            check(settings)
        except ConfigError as exc:
            problems.append(f"{where}: {exc}")
    if plugin.open_settings is not False:  # open, or not said (a third-party plugin older than the check)
        return problems
    known = sorted(set(plugin.settings) | GENERIC_KEYS)
    for key, value in settings.items():
        if key not in known:
            problems.append(_unknown(f"{where}.{key}", str(key), known))
            continue
        names = plugin.setting_tables.get(key)
        if names is None or value is None:
            continue
        if not isinstance(value, dict):
            problems.append(f"{where}.{key} must be a table (e.g. {{{sorted(names)[0]}: ...}})")
            continue
        problems.extend(_unknown(f"{where}.{key}.{name}", str(name), sorted(names))
                        for name in value if name not in names)
    return problems


def _unknown(path: str, key: str, known: list[str]) -> str:
    close = get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown setting {path} ({hint}known here: {', '.join(known)})"
