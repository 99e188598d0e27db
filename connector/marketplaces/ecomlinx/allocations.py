"""Per-channel stock allocation policy: which part of the pushed quantity each channel may sell.

A policy maps a channel id to a fixed number of units (``20``) or a percentage of the pushed quantity
(``"50%"``, ``{"percent": 50}``).  Percentages are rounded down.  Channels are served in the order the
policy lists them, each getting at most what is left, so the allocations never sum to more than the total
(EcomLinx refuses that).  An empty policy sends no ``allocations`` at all: EcomLinx keeps its own split.

Concrete numbers are a valid policy too (fixed units), so applying a policy to its own result changes
nothing: that is what lets a mapping compute allocations itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from connector.errors import ConfigError

_CHANNEL = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True, slots=True)
class Share:
    channel: str
    units: int | None = None  # fixed number of units
    percent: Decimal | None = None  # percentage of the pushed quantity

    def wanted(self, total: int) -> int:
        if self.units is not None:
            return self.units
        assert self.percent is not None
        return int((Decimal(total) * self.percent / 100).to_integral_value(rounding=ROUND_FLOOR))


def parse_policy(raw: Any, where: str = "allocations") -> tuple[Share, ...]:
    """Validate a policy; ``ConfigError`` names the channel and what is wrong with its value."""
    if raw is None or raw == {}:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table of channel: units or percentage, got {type(raw).__name__}")
    shares = []
    for channel, value in raw.items():
        name = str(channel)
        if not _CHANNEL.match(name):
            raise ConfigError(f"{where}: {name!r} is not a channel id (letters, digits, _ . -)")
        shares.append(_share(name, value, f"{where}.{name}"))
    return tuple(shares)


def _share(channel: str, value: Any, where: str) -> Share:
    if isinstance(value, Mapping) and set(value) == {"percent"}:
        value = f"{value['percent']}%"
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a number of units or a percentage like '50%', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"{where}: a number of units cannot be negative ({value})")
        return Share(channel, units=value)
    if isinstance(value, str):
        m = _PERCENT.match(value)
        if m:
            try:
                percent = Decimal(m.group(1))
            except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
                percent = Decimal(-1)
            if not 0 <= percent <= 100:
                raise ConfigError(f"{where}: a percentage must be between 0% and 100%, got {value!r}")
            return Share(channel, percent=percent)
        if value.strip().isdigit():
            return Share(channel, units=int(value))
    raise ConfigError(f"{where}: expected a number of units or a percentage like '50%', got {value!r}")


def allocate(total: int, policy: tuple[Share, ...] | Mapping[str, Any] | None) -> dict[str, int] | None:
    """Concrete allocations for ``total`` units, or ``None`` when the policy is empty."""
    shares = policy if isinstance(policy, tuple) else parse_policy(policy)
    if not shares:
        return None
    if total < 0:
        raise ValueError(f"cannot allocate a negative quantity ({total})")
    left, out = total, {}
    for share in shares:
        units = max(0, min(share.wanted(total), left))
        out[share.channel] = units
        left -= units
    return out
