"""What the Elebne sandbox accepts in a request body: strict types, unknown fields refused, every problem at once.

Each check raises ``Rejected`` (``VALIDATION_ERROR`` with the bad fields as details); the routes word it.
"""

from __future__ import annotations

import re
from typing import Any

from connector.sandbox.validation import (
    MAX_INT,
    Problems,
    Rejected,
    check_array,
    check_integer,
    check_string,
    check_unknown,
    object_items,
)

STATUSES = ("ACTIVE", "INACTIVE", "DRAFT")
PRODUCT_FIELDS = ("name", "price", "description", "quantity", "externalId", "status", "category", "brand",
                  "images", "barcode", "lowStockThreshold", "variants")
VARIANT_FIELDS = ("label", "sku", "price", "barcode", "quantity")
NOT_NULL = "must not be null"
_URL = re.compile(r"https?://[^\s/]+\S*")


def _body_object(problems: Problems, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        problems.add("", f"the body must be a JSON object, got {problems.type_of(body)}")
        problems.raise_if_any()
    return body


def check_images(problems: Problems, value: Any) -> None:
    for i, url in enumerate(check_array(problems, "images", value, none_ok=True, what="an array of URLs")):
        if not isinstance(url, str) or not _URL.fullmatch(url):
            problems.add(f"images[{i}]", "must be an http(s) URL string")


def check_variant(problems: Problems, field: str, variant: Any) -> None:
    if not isinstance(variant, dict):
        problems.add(field, f"must be an object, got {problems.type_of(variant)}")
        return
    check_unknown(problems, f"{field}.", variant, VARIANT_FIELDS)
    if "label" not in variant:
        problems.add(f"{field}.label", "is required")
    check_string(problems, f"{field}.label", variant.get("label"), if_none=None if "label" not in variant else NOT_NULL,
                 non_empty=True)
    for name in ("sku", "barcode"):
        check_string(problems, f"{field}.{name}", variant.get(name))
    for name in ("price", "quantity"):
        check_integer(problems, f"{field}.{name}", variant.get(name))


def check_unique_labels(problems: Problems, field: str, entries: list[Any]) -> None:
    """Labels must be unique case-insensitively (``"M"`` and ``"m"`` are the same variant)."""
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        label = entry.get("label") if isinstance(entry, dict) else None
        if not isinstance(label, str):
            continue
        folded = label.casefold()
        if folded in seen:
            problems.add(f"{field}[{i}].label", f"duplicates {field}[{seen[folded]}].label (case-insensitive)")
        else:
            seen[folded] = i


def check_variants(problems: Problems, value: Any, *, unique_labels: bool = True) -> None:
    variants = check_array(problems, "variants", value, none_ok=True)
    for i, variant in enumerate(variants):
        check_variant(problems, f"variants[{i}]", variant)
    if unique_labels:
        check_unique_labels(problems, "variants", variants)


def check_product(body: Any, *, partial: bool, unique_labels: bool = True) -> dict[str, Any]:
    """Validate a create (``partial=False``) or update body; returns it, or raises VALIDATION_ERROR."""
    problems = Problems()
    body = _body_object(problems, body)
    check_unknown(problems, "", body, PRODUCT_FIELDS)
    for name in ("name", "price"):
        if name not in body and not partial:
            problems.add(name, "is required")
    if "name" in body:
        check_string(problems, "name", body["name"], if_none=NOT_NULL, non_empty=True)
    if "price" in body:
        check_integer(problems, "price", body["price"], if_none=NOT_NULL)
    for name in ("description", "category", "brand", "barcode"):
        check_string(problems, name, body.get(name))
    check_string(problems, "externalId", body.get("externalId"), non_empty=True)
    check_integer(problems, "quantity", body.get("quantity"))
    check_integer(problems, "lowStockThreshold", body.get("lowStockThreshold"))
    if "status" in body and body["status"] not in STATUSES:
        problems.add("status", f"must be one of {', '.join(STATUSES)}")
    check_images(problems, body.get("images"))
    check_variants(problems, body.get("variants"), unique_labels=unique_labels)
    problems.raise_if_any()
    return body


def check_stock_body(body: Any) -> dict[str, Any]:
    """``PATCH /products/{ref}/stock``: absolute ``quantity`` and/or ``variants`` ``[{label, quantity}]``."""
    problems = Problems()
    body = _body_object(problems, body)
    check_unknown(problems, "", body, ("quantity", "variants"))
    if "quantity" in body:
        check_integer(problems, "quantity", body["quantity"], if_none=NOT_NULL)
    variants = body.get("variants", [])
    entries = object_items(problems, "variants", variants)
    variants = variants if isinstance(variants, list) else []
    for field, entry in entries:
        check_unknown(problems, f"{field}.", entry, ("label", "quantity"))
        for name in ("label", "quantity"):
            if name not in entry:
                problems.add(f"{field}.{name}", "is required")
        check_string(problems, f"{field}.label", entry.get("label"), if_none=None if "label" not in entry else NOT_NULL,
                     non_empty=True)
        if "quantity" in entry:
            check_integer(problems, f"{field}.quantity", entry["quantity"], if_none=NOT_NULL)
    check_unique_labels(problems, "variants", variants)
    if not problems and "quantity" not in body and not variants:
        problems.add("", "nothing to update: send quantity and/or variants")
    problems.raise_if_any()
    return body


def check_stock_entry(problems: Problems, field: str, entry: dict[str, Any], mode: str, *, required: bool) -> None:
    """``set`` takes a non-negative ``quantity``; ``adjust`` an integer ``quantityDelta``."""
    wanted, other = ("quantity", "quantityDelta") if mode == "set" else ("quantityDelta", "quantity")
    if other in entry:
        problems.add(f"{field}{other}", f"is not used in {mode} mode (send {wanted})")
    if wanted in entry:
        check_integer(problems, f"{field}{wanted}", entry[wanted], if_none=NOT_NULL,
                      minimum=0 if mode == "set" else -MAX_INT)
    elif required:
        problems.add(f"{field}{wanted}", f"is required in {mode} mode")


def check_mode(problems: Problems, field: str, entry: dict[str, Any], default: str) -> str:
    mode = entry.get("mode", default)
    if mode not in ("set", "adjust"):
        problems.add(field, "must be 'set' or 'adjust'")
        return default
    return str(mode)


def check_bulk_item(item: Any) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """Validate one bulk item; returns its mode and (mode, entry) per variant, or raises ``Rejected`` whose
    message is the first problem (``field: message``)."""
    problems = Problems()
    if not isinstance(item, dict):
        raise Rejected("VALIDATION_ERROR", f"item must be an object, got {problems.type_of(item)}")
    check_unknown(problems, "", item, ("externalId", "mode", "quantity", "quantityDelta", "variants"))
    if "externalId" not in item:
        problems.add("externalId", "is required")
    else:
        check_string(problems, "externalId", item["externalId"], if_none=NOT_NULL, non_empty=True)
    mode = check_mode(problems, "mode", item, "adjust")
    check_stock_entry(problems, "", item, mode, required=False)
    resolved: list[tuple[str, dict[str, Any]]] = []
    variants = item.get("variants", [])
    entries = object_items(problems, "variants", variants)
    variants = variants if isinstance(variants, list) else []
    for field, entry in entries:
        check_unknown(problems, f"{field}.", entry, ("label", "mode", "quantity", "quantityDelta"))
        check_string(problems, f"{field}.label", entry.get("label"), if_none=NOT_NULL, non_empty=True)
        variant_mode = check_mode(problems, f"{field}.mode", entry, mode)
        check_stock_entry(problems, f"{field}.", entry, variant_mode, required=True)
        resolved.append((variant_mode, entry))
    check_unique_labels(problems, "variants", variants)
    if not problems and "quantity" not in item and "quantityDelta" not in item and not resolved:
        problems.add("", "nothing to update: send quantity, quantityDelta or variants")
    if problems:
        first = problems.details[0]
        raise Rejected("VALIDATION_ERROR", f"{first['field']}: {first['message']}")
    return mode, resolved
