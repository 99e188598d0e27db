"""Source types a profile can name (``source: {type: ...}``) besides spreadsheets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.errors import ConfigError
from connector.sources.base import SourceResult


def read_source(source: dict[str, Any], state_dir: Path | None = None) -> SourceResult:
    kind = source.get("type")
    raise ConfigError(f"unknown source type {kind!r} (known: spreadsheet)")
