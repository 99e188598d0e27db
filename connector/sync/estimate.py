"""How long a push takes under a marketplace's documented limits, said before it starts.

The adapter says how many calls of each budget class its plan needs (``Adapter.calls_needed``: it knows its
batching); the plugin's ``limits`` say how many calls a window and a day allow.  Calls go out one after the
other, so the windows of each class add up; when a class needs more calls than its daily budget holds, the
run stops with exit 3 once the day's budget is spent and later runs carry on: the push then takes days, and
the daily budget is the bound.  Response times are not counted: the estimate is a lower bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.http import RateLimit

LONG_SECONDS = 600.0
"""A push estimated to take longer than this (or more than one day) is announced when a real run starts."""


@dataclass(frozen=True, slots=True)
class ClassEstimate:
    op_class: str
    calls: int
    days: int  # UTC days holding sends: 1 = today only
    seconds: float  # waiting for windows on the busiest day


def estimate_class(op_class: str, calls: int, limit: RateLimit | None, remaining_today: int | None) -> ClassEstimate:
    if limit is None or calls <= 0:
        return ClassEstimate(op_class, calls, 1 if calls else 0, 0.0)
    days, busiest = 1, calls
    if limit.per_day is not None:
        today = limit.per_day if remaining_today is None else max(0, remaining_today)
        if calls > today:
            later = calls - today
            days = 1 + math.ceil(later / limit.per_day)
            busiest = max(today, min(later, limit.per_day))
    seconds = 0.0
    if limit.per_window and busiest > limit.per_window:
        seconds = (math.ceil(busiest / limit.per_window) - 1) * limit.window_seconds
    return ClassEstimate(op_class, calls, days, seconds)


def describe_limit(limit: RateLimit | None) -> str:
    if limit is None:
        return "no documented limit"
    parts = []
    if limit.per_window:
        window = "min" if limit.window_seconds == 60 else ("hour" if limit.window_seconds == 3600
                                                            else f"{limit.window_seconds:g} s")
        parts.append(f"{limit.per_window}/{window}")
    if limit.per_day:
        parts.append(f"{limit.per_day}/day")
    return ", ".join(parts) or "no documented limit"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate_push(title: str, calls: Mapping[str, int] | None, limits: Mapping[str, RateLimit],
                  remaining_today: Mapping[str, int | None]) -> dict[str, Any]:
    """The estimate as the report holds it: calls and limits per class, ``days``, ``seconds``, ``bound``
    (``"day"``, ``"window"`` or None) and ``text``, the sentence people read."""
    if calls is None:
        return {"calls": None, "days": None, "seconds": None, "bound": None, "long": False,
                "text": f"no estimate: the {title} adapter does not say how many calls its plan needs"}
    per_class = [estimate_class(c, n, limits.get(c), remaining_today.get(c)) for c, n in sorted(calls.items()) if n]
    days = max((e.days for e in per_class), default=0)
    seconds = sum(e.seconds for e in per_class)
    total = sum(e.calls for e in per_class)
    shown = "; ".join(f"{e.op_class} {e.calls:,} call(s) ({describe_limit(limits.get(e.op_class))})"
                      for e in per_class)
    bound: str | None = None
    if total == 0:
        text = f"nothing to send to {title}"
    elif days > 1:
        bound = "day"
        worst = max(per_class, key=lambda e: e.days)
        limit = limits[worst.op_class]
        left = remaining_today.get(worst.op_class)
        text = (f"this push needs {days} days under {title}'s documented daily limits: '{worst.op_class}' allows "
                f"{limit.per_day:,} calls a day ({'' if left is None else f'{left:,} left today, '}"
                f"{worst.calls:,} needed); each run stops when the day's budget is spent (exit 3) and the next "
                f"run carries on" + (f"; each day's share takes at least {duration(seconds)}" if seconds else "")
                + f" ({shown})")
    elif seconds > 0:
        bound = "window"
        text = f"this push takes at least {duration(seconds)} under {title}'s documented limits ({shown})"
    else:
        text = f"this push fits {title}'s documented limits without waiting ({shown})"
    return {"calls": {e.op_class: e.calls for e in per_class},
            "limits": {e.op_class: describe_limit(limits.get(e.op_class)) for e in per_class},
            "days": days, "seconds": round(seconds, 1), "bound": bound,
            "long": days > 1 or seconds >= LONG_SECONDS, "text": text}
