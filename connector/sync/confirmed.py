"""What the marketplace last confirmed, read from the state once per run for the plan checks.

The plan reads the confirmed hashes (``Plan.confirmed``); the ``missing`` policy and the mass-change guard
then need some of the confirmed bodies, often of the same keys: ``ConfirmedBodies`` reads each body once,
revived (Decimals back from their text, ``payload_shape.revive``), and hands the same dict to every caller,
which must not change it (copy first).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connector.sync.payload_shape import KindShape, revive
from connector.sync.state import StateStore


class ConfirmedBodies:
    def __init__(self, state: StateStore, marketplace: str, account: str, shapes: dict[str, KindShape]) -> None:
        self.state, self.marketplace, self.account, self.shapes = state, marketplace, account, shapes
        self._bodies: dict[str, dict[str, dict[str, Any] | None]] = {}  # kind -> key -> body (None: none confirmed)

    def get(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """key -> confirmed body of ``kind``, for those of ``keys`` that have one."""
        keys = list(keys)
        known = self._bodies.setdefault(kind, {})
        unread = [k for k in dict.fromkeys(keys) if k not in known]
        if unread:
            read = self.state.bodies(self.marketplace, self.account, kind, unread)
            shape = self.shapes.get(kind)
            for key in unread:
                body = read.get(key)
                known[key] = revive(body, shape) if body is not None and shape is not None else body
        return {k: body for k in keys if (body := known.get(k)) is not None}
