"""Checking a payload against a marketplace's request shape before anything is sent."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError


def repeated(values: list[Any]) -> list[Any]:
    """Values that occur more than once, sorted: for "labels/SKUs must be unique" checks in shapes."""
    seen: set[Any] = set()
    twice: set[Any] = set()
    for v in values:
        (twice if v in seen else seen).add(v)
    return sorted(twice)


def shape_problem(shape: type[BaseModel] | None, body: dict[str, Any], *, missing: str = "is required",
                  limit: int = 5) -> str | None:
    """None when ``body`` fits ``shape`` (strict pydantic model), else a readable reason naming the fields,
    e.g. ``price Input should be a valid integer; name is required to create a product``."""
    if shape is None:
        return None
    try:
        shape.model_validate(body)
    except ValidationError as exc:
        parts = []
        for err in exc.errors()[:limit]:
            where = ".".join(str(p) for p in err["loc"]) or "payload"
            msg = missing if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            parts.append(f"{where} {msg}")
        return "; ".join(parts)
    return None
