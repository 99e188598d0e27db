"""Sandboxed Jinja2 expressions for computed mapping fields.

Mapping files are untrusted input (design §2): expressions run in Jinja2's *immutable* sandbox with
``StrictUndefined`` (a typo is an error, not an empty string), without globals that can burn resources,
with ``**``, ``*`` and ``%`` intercepted (a big exponent burns CPU, ``'x' * 10**8`` allocates 100 MB,
``'%999999999d' % 1`` likewise), padding methods removed, and a cap on expression length.
There is no escape hatch to Python; custom filters come only from installed code (entry points group
``connector.filters``), never from the YAML.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from jinja2 import StrictUndefined, Undefined
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from connector.model import ABSENT

MAX_EXPRESSION_LENGTH = 2000
MAX_EXPONENT = 64
MAX_BASE = 10**9
MAX_SEQUENCE = 100_000

# str methods that allocate a result as large as an argument says.
_BLOCKED_ATTRIBUTES = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map"})
# Filters that pad or format to a caller-given width, or that are not needed in mappings.
_BLOCKED_FILTERS = ("center", "format", "indent", "wordwrap", "xmlattr", "pprint", "urlize", "filesizeformat")


class AbsentUndefined(StrictUndefined):
    """An undefined that stands for a canonical value the source did not provide (``ABSENT``).

    Like any ``StrictUndefined`` it fails when used, but an expression whose whole value is absent yields an
    absent field (not sent), whereas a misspelt name stays an error.
    """

    __slots__ = ()


def resolve(value: Any) -> Any:
    """Turn an expression's value into a payload value: absent -> ``ABSENT``; other undefined -> error."""
    if isinstance(value, AbsentUndefined):
        return ABSENT
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


class MappingSandbox(ImmutableSandboxedEnvironment):
    """The only environment mapping expressions run in."""

    intercepted_binops = frozenset({"**", "*", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.globals.clear()
        self.globals["range"] = self._small_range
        for name in _BLOCKED_FILTERS:
            self.filters.pop(name, None)
        for ep in entry_points(group="connector.filters"):
            self.filters[ep.name] = ep.load()

    @staticmethod
    def _small_range(*args: int) -> range:
        r = range(*args)
        if len(r) > MAX_SEQUENCE:
            raise SecurityError(f"range too big ({len(r)} > {MAX_SEQUENCE})")
        return r

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if not isinstance(right, int | float) or abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent too large (limit {MAX_EXPONENT})")
            if isinstance(left, int | float) and abs(left) > MAX_BASE:
                raise SecurityError(f"base too large for '**' (limit {MAX_BASE})")
        elif operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
                    raise SecurityError(f"sequence repetition too large (limit {MAX_SEQUENCE} items)")
        elif operator == "%" and isinstance(left, str):
            raise SecurityError("'%' string formatting is not allowed in mappings; use '~' to join text")
        return super().call_binop(context, operator, left, right)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in _BLOCKED_ATTRIBUTES:
            return False
        return super().is_safe_attribute(obj, attr, value)

    # Absent canonical values look undefined to expressions: ``product.brand | default('none')`` works and a
    # bare use of an absent value is an error instead of the text "ABSENT".
    def getattr(self, obj: Any, attribute: str) -> Any:
        value = super().getattr(obj, attribute)
        return AbsentUndefined(obj=obj, name=attribute) if value is ABSENT else value

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        return AbsentUndefined(obj=obj, name=argument) if value is ABSENT else value

    def wrap_str_format(self, value: Any) -> Any:
        """``str.format`` can pad to any width: refuse it instead of wrapping it."""
        if super().wrap_str_format(value) is not None:
            def refused(*_args: Any, **_kwargs: Any) -> str:
                raise SecurityError("str.format is not allowed in mappings; use '~' to join text")

            return refused
        return None


_ENV: MappingSandbox | None = None


def sandbox() -> MappingSandbox:
    global _ENV
    if _ENV is None:
        _ENV = MappingSandbox()
    return _ENV


def compile_expression(source: str) -> Callable[..., Any]:
    """Compile once; the callable takes the context names as keyword arguments.

    Raises ``ValueError`` with a readable message on a syntax error or an over-long expression.
    The result of calling it is ``ABSENT`` when the expression's value is an absent canonical value; any
    other undefined value (a misspelt name) raises ``UndefinedError``.
    """
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"expression is {len(source)} characters long (limit {MAX_EXPRESSION_LENGTH})")
    try:
        compiled = sandbox().compile_expression(source, undefined_to_none=False)
    except TemplateSyntaxError as exc:
        raise ValueError(f"expression syntax error: {exc.message}") from None

    def run(**context: Any) -> Any:
        return resolve(compiled(**context))

    return run
