"""API keys as the sandboxes take them: ``Authorization: Bearer <key>``, checked against a pattern or a list."""

from __future__ import annotations

import re
from collections.abc import Container

from connector.sandbox.server import Request
from connector.sandbox.validation import Rejected

MISSING_KEY = "Missing API key: send 'Authorization: Bearer <key>'"
INVALID_KEY = "Invalid API key"


def accepts(key: str, pattern: re.Pattern[str], keys: Container[str] | None) -> bool:
    """``keys`` ``None``: any key of the documented form; else exactly the listed keys."""
    return pattern.fullmatch(key) is not None if keys is None else key in keys


def require_key(request: Request, pattern: re.Pattern[str], keys: Container[str] | None, code: str) -> str:
    """The request's bearer key, or ``Rejected(code)`` (the sandbox's 401) when it is missing or unknown."""
    key = request.bearer()
    if key is None:
        raise Rejected(code, MISSING_KEY)
    if not accepts(key, pattern, keys):
        raise Rejected(code, INVALID_KEY)
    return key
