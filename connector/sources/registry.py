"""Source types a profile can name (``source: {type: ...}``) besides spreadsheets.

Each source module exposes ``read_profile_source(config: dict, state: StateStore | None, full: bool)
-> SourceResult``; secrets come from the environment variable the config names, never from the profile.
"""

from __future__ import annotations

import importlib
from typing import Any

from connector.errors import ConfigError
from connector.sources.base import SourceResult
from connector.sync.state import StateStore

SOURCES = {
    "odoo": "connector.sources.odoo",
    "aleta": "connector.sources.aleta",
}


def read_source(config: dict[str, Any], state: StateStore | None = None, *, full: bool = False,
                currency: str = "MRU", odoo_backend: Any = None) -> SourceResult:
    kind = config.get("type")
    if kind == "spreadsheet":
        from pathlib import Path

        from connector.sources.spreadsheet import read_spreadsheet

        return read_spreadsheet(Path(config["path"]), currency=config.get("currency", currency))
    module_name = SOURCES.get(str(kind))
    if module_name is None:
        raise ConfigError(f"unknown source type {kind!r} (known: spreadsheet, {', '.join(SOURCES)})")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"source type {kind!r} is not available in this installation ({exc.name})") from None
    if odoo_backend is not None and kind == "odoo":  # logged in by the orders step of the same run
        return module.read_profile_source(config, state, full, odoo_backend)
    return module.read_profile_source(config, state, full)
