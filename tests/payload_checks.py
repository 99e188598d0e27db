"""The payload tests' reader of the request shapes: pydantic's own text (a report uses ``shape_problems``)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from connector.marketplaces.ecomlinx import payloads as ecomlinx
from connector.marketplaces.elebne import payloads as elebne
from connector.marketplaces.shapes import Shape


def shape_problem(shape: Shape | None, body: dict[str, Any], *, missing: str = "is required",
                  limit: int = 5) -> str | None:
    """None when ``body`` fits ``shape`` (a strict pydantic TypedDict), else pydantic's reason naming the fields,
    e.g. ``price Input should be a valid integer; name is required to create a product``."""
    if shape is None:
        return None
    try:
        shape.validate(body)
    except ValidationError as exc:
        parts = []
        for err in exc.errors()[:limit]:
            where = ".".join(str(p) for p in err["loc"]) or "payload"
            msg = missing if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            parts.append(f"{where} {msg}")
        return "; ".join(parts)
    return None


def elebne_check(action: str, body: dict[str, Any]) -> str | None:
    return shape_problem(elebne.SHAPES.get(action), body, missing=elebne.required_text(action))


def ecomlinx_check(action: str, body: dict[str, Any]) -> str | None:
    return shape_problem(ecomlinx.SHAPES.get(action), body)
