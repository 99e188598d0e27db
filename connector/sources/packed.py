"""A JSON document packed into one cursor value: what a source keeps of its last read next to its cursor
(the Aleta snapshot, the Odoo catalogue index), saved with the cursor once the push was confirmed.

The form is ``z1:`` + base64 of the zlib-compressed compact JSON; a value that is missing, of another form or
unreadable unpacks to ``None`` (the source then reads everything).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from typing import Any

_PREFIX = "z1:"


def pack(data: Any, default: Callable[[Any], Any] | None = None) -> str:
    """``data`` as a cursor value; ``default`` converts what JSON cannot hold (as ``json.dumps``'s)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=default)
    return _PREFIX + base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")


def unpack(value: str | None, parse_float: Callable[[str], Any] | None = None) -> Any | None:
    """The document ``pack`` wrote, or ``None`` for a missing, foreign or unreadable value."""
    if not value or not value.startswith(_PREFIX):
        return None
    try:
        return json.loads(zlib.decompress(base64.b64decode(value[len(_PREFIX):])).decode("utf-8"),
                          parse_float=parse_float)
    except (ValueError, zlib.error):
        return None
