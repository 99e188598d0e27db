"""What is wrong with a success answer's JSON, for the marketplace clients' one check per call.

A check takes the parsed answer (or its ``data``) and returns what is wrong with it in words, or None.  A client
raises its own error naming the call when a check says something (a listing page without its list is no "nothing
listed": read as such, a catalogue would look empty and an orders read would end before the orders it did not
read).  Not to be confused with ``shapes.py``, which checks the payloads the connector sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

AnswerCheck = Callable[[Any], "str | None"]
"""What is wrong with an answer (None: nothing)."""


def one_object(answer: Any) -> str | None:
    return None if isinstance(answer, dict) else "no JSON object"


def list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def objects_under(key: str) -> AnswerCheck:
    """An object whose ``key`` is a list of objects (a listing page)."""
    def check(answer: Any) -> str | None:
        if not isinstance(answer, dict):
            return "no JSON object"
        return None if list_of_objects(answer.get(key)) else f"no list of objects under '{key}'"

    return check
