"""Odoo server version strings -> ``(major, minor)``.

Servers report ``server_version`` in several shapes: ``"16.0"``, ``"18.0+e-20241005"`` (enterprise build),
``"saas~18.2"`` (Odoo Online intermediate releases), ``"17.0-20240101"``, ``"19.0alpha1"``.  We only need the
major number to pick behaviour (stock context key, product type fields), plus the minor for saas releases.
"""

from __future__ import annotations

import re

_VERSION_RE = re.compile(r"^\s*(?:saas[~-])?(\d+)(?:\.(\d+))?")


def parse_version(text: str | None, info: list | tuple | None = None) -> tuple[int, int]:
    """Parse an Odoo version string; fall back to ``server_version_info`` (``[18, 0, 0, "final", 0, ""]``).

    Raises ``ValueError`` when neither gives a number.
    """
    if text:
        m = _VERSION_RE.match(str(text))
        if m:
            return int(m.group(1)), int(m.group(2) or 0)
    if info:
        head = info[0]
        if isinstance(head, int):
            minor = info[1] if len(info) > 1 and isinstance(info[1], int) else 0
            return head, minor
        m = _VERSION_RE.match(str(head))
        if m:
            minor = info[1] if len(info) > 1 and isinstance(info[1], int) else int(m.group(2) or 0)
            return int(m.group(1)), minor
    raise ValueError(f"unrecognised Odoo version {text!r}")
