"""Field checks every sandbox shares, and the refusal a backend raises.

A sandbox collects what is wrong with a request in ``Problems`` (field + message, in the order found) through
the ``check_*`` helpers below, then ``raise_if_any()`` raises ``Rejected``.  The helpers know nothing about any
marketplace: each sandbox turns a ``Rejected`` into its own error body with a small envelope function
(``SandboxServer.rejected_response``), so one check serves Elebne's ``{"success": false, "error": ...}``,
Elryan's HTTP-200 ``error_code`` and EcomLinx's ``{"error": {"code", "message", "status"}}`` alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from connector.model import MAX_INT as MAX_INT  # the sandboxes' integer bound


class Rejected(Exception):
    """A request (or one item of a bulk request) the marketplace refuses.

    ``code`` is the marketplace's own error code; ``message`` may be ``None`` when ``details`` say it all (the
    envelope then words it from the first detail); ``details`` are ``{"field", "message"}`` entries.
    """

    def __init__(self, code: str | int, message: str | None = None, *,
                 details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message or (details[0]["message"] if details else str(code)))
        self.code = code
        self.message = message
        self.details = list(details or [])

    def first(self, separator: str = ": ") -> str:
        """``message``, or the first detail as ``field<separator>message`` (just the message without a field)."""
        if self.message is not None:
            return self.message
        first = self.details[0] if self.details else {"field": "", "message": str(self.code)}
        return f"{first['field']}{separator}{first['message']}" if first["field"] else first["message"]


def json_type(value: Any, *, integers: str = "integer") -> str:
    """The JSON name of a value's type (``integers`` says what an int is called: Elryan says ``number``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {int: integers, float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__)


class Problems:
    """What is wrong with one request, every bad field at once.

    ``code`` is the code ``raise_if_any`` refuses with; ``integers`` how type names call an int (see
    ``json_type``).
    """

    def __init__(self, code: str | int = "VALIDATION_ERROR", *, integers: str = "integer") -> None:
        self.code = code
        self.integers = integers
        self.details: list[dict[str, str]] = []

    def __bool__(self) -> bool:
        return bool(self.details)

    def add(self, field: str, message: str) -> None:
        self.details.append({"field": field, "message": message})

    def type_of(self, value: Any) -> str:
        return json_type(value, integers=self.integers)

    def rejection(self, code: str | int | None = None) -> Rejected:
        return Rejected(self.code if code is None else code, details=self.details)

    def raise_if_any(self, code: str | int | None = None) -> None:
        if self.details:
            raise self.rejection(code)


def _missing(problems: Problems, field: str, if_none: str | None) -> None:
    if if_none is not None:
        problems.add(field, if_none)


def check_unknown(problems: Problems, prefix: str, obj: dict[str, Any], allowed: Iterable[str]) -> None:
    """Every field of ``obj`` outside ``allowed`` is an ``unknown field`` (sorted, so the report is stable)."""
    for name in sorted(set(obj) - set(allowed)):
        problems.add(f"{prefix}{name}", "unknown field")


def check_object(problems: Problems, prefix: str, value: Any, allowed: Iterable[str]) -> dict[str, Any]:
    """``value`` as an object with only ``allowed`` fields; anything else stops the check at once (the fields
    of a non-object cannot be checked)."""
    if not isinstance(value, dict):
        problems.add(prefix.rstrip("."), f"must be an object, got {problems.type_of(value)}")
        problems.raise_if_any()
    check_unknown(problems, prefix, value, allowed)
    return value


def check_array(problems: Problems, field: str, value: Any, *, none_ok: bool = False, what: str = "an array"
                ) -> list[Any]:
    """``value`` if it is an array; else a problem (``must be <what>, got <type>``) and an empty list.
    ``None`` is an empty array if ``none_ok``."""
    if value is None and none_ok:
        return []
    if not isinstance(value, list):
        problems.add(field, f"must be {what}, got {problems.type_of(value)}")
        return []
    return value


def object_items(problems: Problems, field: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """The entries of an array-of-objects field with their paths (``variants[2]``); anything else is reported
    and left out."""
    out = []
    for i, entry in enumerate(check_array(problems, field, value)):
        if isinstance(entry, dict):
            out.append((f"{field}[{i}]", entry))
        else:
            problems.add(f"{field}[{i}]", f"must be an object, got {problems.type_of(entry)}")
    return out


def check_string(problems: Problems, field: str, value: Any, *, if_none: str | None = None,
                 non_empty: bool = False, min_length: int = 0, max_length: int | None = None,
                 message: str | None = None) -> None:
    """A string (``None`` is fine unless ``if_none`` says what to report); ``non_empty`` refuses blanks too,
    ``min_length`` only counts characters; ``message`` replaces every other."""
    if value is None:
        _missing(problems, field, if_none)
    elif not isinstance(value, str):
        problems.add(field, message or f"must be a string, got {problems.type_of(value)}")
    elif non_empty and not value.strip():
        problems.add(field, message or "must not be empty")
    elif len(value) < min_length:
        problems.add(field, message or f"must be at least {min_length} characters")
    elif max_length is not None and len(value) > max_length:
        problems.add(field, message or f"must be at most {max_length} characters")


def _range_message(minimum: int | float, maximum: int | float | None) -> str:
    if maximum is not None:
        return f"must be between {minimum} and {maximum}"
    return "must not be negative" if minimum == 0 else f"must be at least {minimum}"


def check_number(problems: Problems, field: str, value: Any, *, if_none: str | None = None,
                 integer: bool = False, minimum: int | float | None = 0, maximum: int | float | None = None,
                 finite: bool = False, message: str | None = None) -> None:
    """A number (an ``int`` if ``integer``: ``"7"``, ``7.0`` and ``true`` are not) in ``[minimum, maximum]``;
    ``finite`` also refuses what JSON's ``1e999`` parses to."""
    if value is None:
        _missing(problems, field, if_none)
    elif (isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int))
          or (finite and not math.isfinite(value))):
        kind = "an integer" if integer else "a number"
        problems.add(field, message or f"must be {kind}, got {problems.type_of(value)}")
    elif (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        problems.add(field, message or _range_message(minimum if minimum is not None else -MAX_INT, maximum))


def check_integer(problems: Problems, field: str, value: Any, *, if_none: str | None = None, minimum: int = 0,
                  maximum: int = MAX_INT, message: str | None = None) -> None:
    """An integer in ``[minimum, maximum]`` (by default a count that fits a 32-bit signed integer)."""
    check_number(problems, field, value, if_none=if_none, integer=True, minimum=minimum, maximum=maximum,
                 message=message)


def check_boolean(problems: Problems, field: str, value: Any, *, if_none: str | None = None) -> None:
    if value is None:
        _missing(problems, field, if_none)
    elif not isinstance(value, bool):
        problems.add(field, f"must be a boolean, got {problems.type_of(value)}")


def check_choice(problems: Problems, field: str, value: Any, allowed: Iterable[Any], message: str) -> None:
    """``value`` is one of ``allowed`` (``None`` included only if it is listed)."""
    if value not in tuple(allowed):
        problems.add(field, message)
