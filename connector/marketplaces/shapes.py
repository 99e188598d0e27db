"""Checking a payload against a marketplace's request shape before anything is sent.

``shape_problems`` gives ``Problem``s in plain words, which is what reaches a merchant's report (through the
adapters' ``validate`` and ``describe``): pydantic's messages (``Input should be a valid integer``...) are
translated here, in one place, for every marketplace.  (The payload tests read pydantic's own text:
``tests/payload_checks.py``.)

A shape is a ``TypedDict`` (``Shape``): a body is a dict, and it is checked as one.  A pydantic model would build
an object of every body and of every nested item only to be dropped (a dry run of 100,000 rows checks 134,000
bodies: 0.64 s as models, 0.44 s as TypedDicts).  A check of the whole body (unique variant labels...) is an
``AfterValidator`` of the dict, on the ``Annotated`` type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import AfterValidator, ConfigDict, TypeAdapter, ValidationError
from typing_extensions import TypedDict as TypedDict  # the shapes' (pydantic reads typing's only from Python 3.12)

# "integer" in the marketplaces' documents: MAX_INT (a price in minor units above 21,474,836.47 or a stock above
# 2,147,483,647 is refused there)
from connector.model import MAX_INT as MAX_INT

# the documents ask for URLs of images: absolute http(s) web addresses
HTTP_URL = r"^https?://[^\s/]+\S*$"

# every shape's config: "7" is not 7, a bool is not a number, a field the marketplace does not take is refused.  Set on
# each TypedDict class (``__pydantic_config__``), a subclass's too, so that each class says what it is.
STRICT = ConfigDict(strict=True, extra="forbid")

# words for a pattern a shape declares (``Field(pattern=...)``)
PATTERN_WORDS: dict[str, str] = {
    HTTP_URL: "must be a web address starting with http:// or https://",
    r"^[A-Z]{3}$": "must be a 3-letter currency code such as MRU",
    r"^[a-z]{2,3}$": "must be a language code such as fr or ar",
}
# loc parts pydantic adds for the members of a union (``int | Decimal``): not field names
_TYPE_TAGS = frozenset({"int", "float", "decimal", "str", "bool", "list", "dict", "none", "is-instance[Decimal]"})


def not_blank(value: str) -> str:
    """For ``AfterValidator``: text of spaces only is empty to the marketplaces."""
    if not value.strip():
        raise ValueError("must not be empty (it holds only spaces)")
    return value


def repeated(values: list[Any]) -> list[Any]:
    """Values that occur more than once, sorted: for "labels/SKUs must be unique" checks in shapes."""
    seen: set[Any] = set()
    twice: set[Any] = set()
    for v in values:
        (twice if v in seen else seen).add(v)
    return sorted(twice)


def no_repeats(items: str, field: str, message: str, fold: Callable[[Any], Any] | None = None) -> AfterValidator:
    """A check of a whole body (``Annotated[Shape, no_repeats(...)]``, run once its fields are valid): the ``field``
    of the entries of its list ``items`` are all different (compared ``fold``-ed); else ``message: <repeated>``."""
    def check(body: dict[str, Any]) -> dict[str, Any]:
        entries = body.get(items)
        if not entries or len(entries) < 2:  # (the usual body: returns at once)
            return body
        dupes = repeated([fold(e[field]) if fold else e[field] for e in entries])
        if dupes:
            raise ValueError(f"{message}: {', '.join(dupes)}")
        return body

    return AfterValidator(check)


@dataclass(frozen=True, slots=True)
class Problem:
    """One field of a request the marketplace would refuse, in plain words.

    ``path`` is where in the payload (``("variants", 2, "price")``); ``reason`` says what is wrong without
    naming the field (``must not be negative``); ``value`` is what the payload holds (``given`` False when the
    field is missing)."""

    path: tuple[str | int, ...]
    reason: str
    value: Any = None
    given: bool = True
    # the value is of another kind than the field takes (text for a number, a decimal for a whole number): a
    # source's values are typed by its reader, so a mapping made it so (``wording.explain`` says so)
    wrong_type: bool = False

    @property
    def field(self) -> str:
        """The last field name of the path (``price``), or "" for the whole payload."""
        return next((p for p in reversed(self.path) if isinstance(p, str)), "")

    def __str__(self) -> str:
        where = ".".join(f"[{p + 1}]" if isinstance(p, int) else p for p in self.path).replace(".[", "[")
        return f"{where} {self.reason}" if where else self.reason


class Shape:
    """A request shape: the type of a body (a ``TypedDict``, or one ``Annotated`` with checks of the whole body)
    and its compiled validator."""

    __slots__ = ("type", "validate")

    def __init__(self, body_type: Any) -> None:
        self.type = body_type
        # the compiled validator itself, without TypeAdapter's Python wrapper (thousands of bodies); raises
        # ``ValidationError``
        self.validate = TypeAdapter(body_type).validator.validate_python

    def __repr__(self) -> str:
        return f"Shape({getattr(self.type, '__name__', self.type)!r})"


def shape_problems(shape: Shape | None, body: dict[str, Any], *, missing: str = "is required") -> list[Problem]:
    """Every reason ``shape`` refuses ``body``, in plain words (one per field: a union's members agree)."""
    if shape is None:
        return []
    try:
        shape.validate(body)
    except ValidationError as exc:
        out: dict[tuple[str | int, ...], Problem] = {}
        for err in exc.errors():
            path = tuple(p for p in err["loc"] if not (isinstance(p, str) and (p in _TYPE_TAGS or "[" in p)))
            if path in out:
                continue
            # a null where a value is needed is a missing value to the merchant, whatever type was expected
            given = err["type"] != "missing" and err.get("input") is not None
            reason = plain_reason(err, missing) if given or err["type"].startswith("value_") else missing
            out[path] = Problem(path, reason, err.get("input") if given else None, given,
                                given and err["type"].endswith("_type"))
        return list(out.values())
    return []


def plain_reason(err: Any, missing: str = "is required") -> str:
    """A pydantic error (``ValidationError.errors()`` item) in plain words, without the field's name."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return missing
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"must have at least {n} characters"
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return "must not be empty" if ctx.get("min_length", 1) == 1 else f"needs at least {ctx.get('min_length')}"
    if kind == "too_long":
        return f"has too many entries: at most {ctx.get('max_length')}"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        if bound == 0 and kind == "greater_than_equal":
            return "must not be negative"
        return f"must be at least {bound}" if kind == "greater_than_equal" else f"must be more than {bound}"
    if kind in ("less_than_equal", "less_than"):
        return f"is too large: at most {_number(ctx.get('le', ctx.get('lt')))}"
    if kind.startswith("int_"):
        return "must be a whole number"
    if kind.startswith(("decimal_", "float_")):
        return "must be a number"
    if kind.startswith("bool_"):
        return "must be yes or no"
    if kind.startswith("string_") and kind != "string_pattern_mismatch":
        return "must be text"
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(str(ctx.get("pattern")), "is not in the expected format")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}".rstrip()
    if kind in ("list_type", "tuple_type", "set_type"):
        return "must be a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a group of fields"
    if kind == "extra_forbidden":
        return "is not a field this marketplace takes (check the mapping)"
    return "has a value the marketplace does not accept"


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int | Decimal) and not isinstance(value, bool) else str(value)


def join_problems(problems: Sequence[Problem], limit: int = 5) -> str | None:
    """The problems as one reason (``price must not be negative; name must not be empty``), or None."""
    if not problems:
        return None
    return "; ".join(str(p) for p in problems[:limit])
