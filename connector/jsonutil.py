"""JSON forms of payloads: canonical (for hashes and state) and wire (for HTTP bodies).

Money stays ``Decimal`` inside the program.  In canonical JSON a Decimal is written as its exact text;
on the wire an integral Decimal becomes a JSON integer and any other a JSON number via ``float``, whose
shortest repr round-trips the decimal text for the ≤ 15 significant digits prices have.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any


def _canonical_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical_default)


def canonical_json(obj: Any) -> str:
    """Stable text of a payload: sorted keys, no spaces, Decimals as exact text."""
    return _ENCODER.encode(obj)


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def payload_hash(obj: Any) -> str:
    return digest(canonical_json(obj))


def to_wire(obj: Any) -> Any:
    """Replace Decimals by JSON numbers, recursively."""
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, dict):
        return {k: to_wire(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_wire(v) for v in obj]
    return obj
