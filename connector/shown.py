"""How a report line names a few of many things: the first ones, and how many more."""

from __future__ import annotations

from collections.abc import Sequence


def first_few(items: Sequence[str], limit: int = 5, sep: str = ", ") -> str:
    """``a, b, c and 4 more``: the first ``limit`` of ``items`` joined by ``sep``, and the count of the others."""
    more = len(items) - limit
    return sep.join(items[:limit]) + (f" and {more} more" if more > 0 else "")
