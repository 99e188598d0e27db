"""The three ways sandboxes page a listing: page number, offset, and an opaque cursor.

Each sandbox still words its own page envelope (``hasMore``, ``meta``, ``pagination``...); what is shared is
reading the parameters and cutting the list.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from connector.sandbox.validation import MAX_INT, Problems

T = TypeVar("T")


def page_params(query_value: Callable[[str], str | None], problems: Problems, *, default_limit: int,
                max_limit: int) -> tuple[int, int]:
    """``page`` ≥ 1 (default 1) and 1 ≤ ``limit`` ≤ ``max_limit`` from the query string; anything else is a
    problem (``page``/``limit``: ``must be an integer between 1 and N``), raised at once."""
    values = {}
    for name, default, maximum in (("page", 1, MAX_INT), ("limit", default_limit, max_limit)):
        raw = query_value(name)
        if raw is None:
            values[name] = default
        elif not raw.isdigit() or not 1 <= int(raw) <= maximum:
            problems.add(name, f"must be an integer between 1 and {maximum}")
        else:
            values[name] = int(raw)
    problems.raise_if_any()
    return values["page"], values["limit"]


def page_slice(items: Sequence[T], page: int, limit: int) -> Sequence[T]:
    """Page ``page`` (from 1) of ``limit`` items."""
    return items[(page - 1) * limit: page * limit]


def has_more(page: int, limit: int, shown: int, total: int) -> bool:
    return (page - 1) * limit + shown < total


def offset_slice(items: Sequence[T], start: int, length: int) -> Sequence[T]:
    """``length`` items from ``start``; a length of 0 means all the rest."""
    return items[start:start + length] if length else items[start:]


def encode_cursor(state: dict[str, Any]) -> str:
    """An opaque, URL-safe cursor holding ``state`` (unpadded base64 of compact JSON)."""
    raw = json.dumps(state, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The state in a cursor; ``ValueError`` for anything that is not one of ours."""
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise ValueError("invalid cursor") from None
    if not isinstance(state, dict):
        raise ValueError("invalid cursor")
    return state
