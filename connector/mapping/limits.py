"""Bounds on what a mapping file can make the connector compute (issue 12, point 8).

Mapping files are untrusted: every value an expression, a filter, a method call or an operation produces is
measured (text length, list length, nesting depth), and one evaluation of an expression has a budget of work
(the size of what it produced plus a cost per call, so a ``map`` over a long list counts each item), so no
file can make a run allocate or loop without bound, at load time (``connector mapping check``) or per
record.  A value over a bound raises ``LimitError``; the message says which bound.
"""

from __future__ import annotations

from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from jinja2.exceptions import SecurityError

MAX_TEXT = 1_000_000  # characters in one text value
MAX_ITEMS = 10_000  # items in one list or table (and in a range()): a product has far fewer variants or images
MAX_DEPTH = 32  # lists and tables nested in one value
MAX_INT_BITS = 4096  # about 1,200 decimal digits
MAX_DECIMAL_EXPONENT = 300  # |adjusted exponent| of a decimal number a mapping produces
MAX_FACTOR_EXPONENT = 30  # |adjusted exponent| of a number argument of an operation (multiply)
BUDGET = 2_000_000  # units of work (characters + items produced, CALL_COST a call) in one evaluation
CALL_COST = 20  # units charged for each filter, method call or operator result, whatever its size
ITEM_COST = 50  # units charged per input item of a filter that looks items up one by one (sort, groupby, map...)
MAX_OP_TEXT = 10_000  # characters in an operation's text argument (prefix, suffix, join and split separators)


class LimitError(SecurityError):
    """A mapping asked for more than a bound allows."""


def measure(value: Any, depth: int = 0) -> int:
    """Size of ``value`` in units of work (characters, items); ``LimitError`` when a bound is exceeded.

    Only plain data is walked: a record object (a dataclass from a source) or a lazy iterator counts as one.
    """
    kind = type(value)
    if kind is str:  # the usual case first: no isinstance chain
        n = len(value)
        if n > MAX_TEXT:
            raise LimitError(f"a text of {n:,} characters is over the limit of {MAX_TEXT:,}")
        return n
    if kind is bool or kind is float or value is None:
        return 1
    if isinstance(value, str | bytes | bytearray):
        return measure(str(value), depth) if isinstance(value, str) else _measure_bytes(value)
    if isinstance(value, list | tuple | dict | set | frozenset):
        return _measure_collection(value, depth)
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise LimitError(f"a number of more than {MAX_INT_BITS} bits")
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise LimitError(f"a number with an exponent beyond ±{MAX_DECIMAL_EXPONENT}")
    return 1


def _measure_bytes(value: bytes | bytearray) -> int:
    if len(value) > MAX_TEXT:
        raise LimitError(f"a text of {len(value):,} bytes is over the limit of {MAX_TEXT:,}")
    return len(value)


def _measure_collection(value: Any, depth: int) -> int:
    n = len(value)
    if n > MAX_ITEMS:
        raise LimitError(f"a list of {n:,} items is over the limit of {MAX_ITEMS:,}")
    if depth >= MAX_DEPTH:
        raise LimitError(f"a value nested deeper than {MAX_DEPTH} levels")
    total = n
    for item in value:
        total += measure(item, depth + 1)
    if isinstance(value, dict):
        for item in value.values():
            total += measure(item, depth + 1)
    return total


_BUDGET: ContextVar[list[int] | None] = ContextVar("mapping_expression_budget", default=None)


def charge(units: int) -> None:
    """Spend ``units`` of the current evaluation's budget (no-op outside an evaluation)."""
    left = _BUDGET.get()
    if left is not None:
        left[0] -= units
        if left[0] < 0:
            raise LimitError(f"the expression does more than {BUDGET:,} units of work")


def checked(value: Any) -> Any:
    """Measure a produced value, charge it (and the call that made it) to the budget, and return it."""
    charge(CALL_COST + measure(value))
    return value


class Evaluation:
    """``with Evaluation():`` gives the code inside one fresh budget; ``Evaluation(shared=True)`` keeps the
    budget already running, if any (loading a mapping: its constant parts share one budget)."""

    __slots__ = ("_shared", "_token")

    def __init__(self, shared: bool = False) -> None:
        self._shared = shared

    def __enter__(self) -> None:
        keep = self._shared and _BUDGET.get() is not None
        self._token = None if keep else _BUDGET.set([BUDGET])

    def __exit__(self, *_exc: object) -> None:
        if self._token is not None:
            _BUDGET.reset(self._token)


def check_text_growth(length: int, what: str) -> None:
    """Refuse before computing a text that would be ``length`` characters long."""
    if length > MAX_TEXT:
        raise LimitError(f"{what} would make a text of {length:,} characters (limit {MAX_TEXT:,})")


def replace_growth(s: str, old: str, new: str, count: int | None = None) -> int:
    """Length of ``s.replace(old, new, count)``, computed without building it."""
    n = s.count(old) if old else len(s) + 1
    if count is not None and count >= 0:
        n = min(n, count)
    return len(s) + n * (len(new) - len(old))


def join_growth(sep: str, items: list[Any]) -> int:
    """A lower bound of the length of ``sep.join(items)`` (its text items and separators)."""
    return len(sep) * max(0, len(items) - 1) + sum(len(i) for i in items if isinstance(i, str))
