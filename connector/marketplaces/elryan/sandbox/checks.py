"""What the Elryan sandbox accepts in a request body: strict types, unknown fields refused, every problem
reported (the first as the message).  Failures raise ``Rejected`` with ``error_code`` 1001 (validation)."""

from __future__ import annotations

from typing import Any

from connector.marketplaces.elryan.errors import VALIDATION
from connector.sandbox.validation import (
    Problems,
    check_array,
    check_boolean,
    check_number,
    check_object,
    check_string,
)

ENTITY_FIELDS = {
    "category": ("parent_id", "name", "remote_id", "remote_parent_id", "is_active"),
    "brand": ("name", "remote_id", "remote_image_url", "is_active"),
    "attribute": ("name", "remote_id", "is_active"),
    "attribute_value": ("value", "is_active", "remote_id", "attribute"),
}
PRODUCT_FIELDS = ("name", "spu", "category", "brand", "default_image_url", "tax", "is_active", "translations",
                  "variants", "guarantee", "fulfillment_day")
VARIANT_FIELDS = ("spu", "retail_price", "price", "currency", "stock", "name", "sku", "barcode", "hs_code", "gtin",
                  "default_image_url", "extra_images", "description", "weight", "height", "width", "length",
                  "freight", "supplier", "is_active", "translations", "attributes")
VARIANT_REQUIRED_NEW = ("name", "retail_price", "price", "currency", "is_active", "supplier", "translations",
                        "attributes")
NUMBERS = ("retail_price", "price", "weight", "height", "width", "length", "freight")
TEXTS = ("barcode", "hs_code", "gtin", "default_image_url", "description")
PACKAGE_FIELDS = ("remote_supplier_id", "supplier_id", "order_id", "company_id", "remote_id",
                  "marketplace_package_id", "total_deci", "status", "items", "tracking", "invoice")
REQUIRED = "is required"


def problems() -> Problems:
    """Elryan calls every JSON number a ``number``."""
    return Problems(VALIDATION, integers="number")


def text(p: Problems, obj: dict[str, Any], name: str, prefix: str = "", *, required: bool = False) -> None:
    check_string(p, prefix + name, obj.get(name), if_none=REQUIRED if required else None, non_empty=required)


def number(p: Problems, obj: dict[str, Any], name: str, prefix: str = "", *, required: bool = False,
           integer: bool = False) -> None:
    check_number(p, prefix + name, obj.get(name), if_none=REQUIRED if required else None, integer=integer)


def boolean(p: Problems, obj: dict[str, Any], name: str, prefix: str = "", *, required: bool = True) -> None:
    check_boolean(p, prefix + name, obj.get(name), if_none=REQUIRED if required else None)


def non_empty_array(p: Problems, body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name)
    if not isinstance(value, list) or not value:
        p.add(name, "must be a non-empty array")
        return []
    return value


def check_translations(p: Problems, value: Any, field: str, *, with_description: bool) -> None:
    for i, tr in enumerate(check_array(p, field, value)):
        allowed = ("language", "name", "description") if with_description else ("language", "name")
        tr = check_object(p, f"{field}[{i}].", tr, allowed)
        text(p, tr, "language", f"{field}[{i}].", required=True)
        text(p, tr, "name", f"{field}[{i}].", required=True)
        if with_description:
            text(p, tr, "description", f"{field}[{i}].")


def check_variant(p: Problems, variant: Any, prefix: str, *, new: bool, in_product: bool) -> None:
    allowed = tuple(f for f in VARIANT_FIELDS if f != "spu") if in_product else VARIANT_FIELDS
    variant = check_object(p, prefix, variant, allowed)
    text(p, variant, "sku", prefix, required=True)
    required = VARIANT_REQUIRED_NEW if new else ()
    text(p, variant, "name", prefix, required="name" in required)
    text(p, variant, "currency", prefix, required="currency" in required)
    currency = variant.get("currency")
    if isinstance(currency, str) and not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        p.add(prefix + "currency", "must be a 3-letter ISO code such as IQD or USD")
    for name in NUMBERS:
        number(p, variant, name, prefix, required=name in required)
    number(p, variant, "stock", prefix, integer=True)
    for name in TEXTS:
        text(p, variant, name, prefix)
    images = variant.get("extra_images")
    if images is not None and (not isinstance(images, list) or not all(isinstance(u, str) for u in images)):
        p.add(prefix + "extra_images", "must be an array of URLs")
    boolean(p, variant, "is_active", prefix, required="is_active" in required)
    if variant.get("supplier") is not None or "supplier" in required:
        supplier = check_object(p, prefix + "supplier.", variant.get("supplier"), ("name", "remote_id"))
        text(p, supplier, "name", prefix + "supplier.", required=True)
        text(p, supplier, "remote_id", prefix + "supplier.", required=True)
    if variant.get("translations") is not None or "translations" in required:
        check_translations(p, variant.get("translations"), prefix + "translations", with_description=True)
    attributes = check_array(p, prefix + "attributes", variant.get("attributes"),
                             none_ok="attributes" not in required)
    for j, attr in enumerate(attributes):
        where = f"{prefix}attributes[{j}]."
        names = ("name", "value", "remote_attribute_id", "remote_attribute_value_id")
        attr = check_object(p, where, attr, names)
        for name in names:
            text(p, attr, name, where, required=True)


def check_entity(kind: str, body: Any) -> dict[str, Any]:
    """A category, brand, attribute or attribute value upsert."""
    p = problems()
    body = check_object(p, "", body, ENTITY_FIELDS[kind])
    boolean(p, body, "is_active")
    text(p, body, "remote_id", required=True)
    text(p, body, "value" if kind == "attribute_value" else "name", required=True)
    if kind == "brand":
        text(p, body, "remote_image_url")
    if kind == "category":
        for name in ("parent_id", "remote_parent_id"):
            text(p, body, name)
    if kind == "attribute_value":
        attribute = check_object(p, "attribute.", body.get("attribute"), ENTITY_FIELDS["attribute"])
        text(p, attribute, "remote_id", "attribute.", required=True)
        text(p, attribute, "name", "attribute.", required=True)
        boolean(p, attribute, "is_active", "attribute.")
    p.raise_if_any()
    return body


def check_product(body: Any) -> dict[str, Any]:
    p = problems()
    body = check_object(p, "", body, PRODUCT_FIELDS)
    for name in ("name", "spu"):
        text(p, body, name, required=True)
    text(p, body, "default_image_url")
    for name in ("tax", "guarantee", "fulfillment_day"):
        number(p, body, name, required=True)
    boolean(p, body, "is_active")
    category = check_object(p, "category.", body.get("category"), ("parent_remote_id", "remote_id", "name"))
    text(p, category, "remote_id", "category.", required=True)
    text(p, category, "name", "category.", required=True)
    text(p, category, "parent_remote_id", "category.")
    brand = check_object(p, "brand.", body.get("brand"), ("name", "remote_id"))
    text(p, brand, "remote_id", "brand.", required=True)
    text(p, brand, "name", "brand.", required=True)
    check_translations(p, body.get("translations"), "translations", with_description=False)
    variants = non_empty_array(p, body, "variants")
    for i, variant in enumerate(variants):
        check_variant(p, variant, f"variants[{i}].", new=True, in_product=True)
    skus = [v.get("sku") for v in variants if isinstance(v, dict)]
    for sku in {s for s in skus if skus.count(s) > 1}:
        p.add("variants", f"sku {sku!r} is given twice")
    p.raise_if_any()
    return body


def check_variant_keys(body: Any) -> dict[str, Any]:
    """A variant upsert names its product and itself; the rest is checked once it is known whether it is new."""
    p = problems()
    body = check_object(p, "", body, VARIANT_FIELDS)
    text(p, body, "spu", required=True)
    text(p, body, "sku", required=True)
    p.raise_if_any()
    return body


def check_variant_body(body: dict[str, Any], *, new: bool) -> None:
    p = problems()
    check_variant(p, body, "", new=new, in_product=False)
    p.raise_if_any()


def check_price_stock(body: Any) -> list[dict[str, Any]]:
    p = problems()
    body = check_object(p, "", body, ("items",))
    items = non_empty_array(p, body, "items")
    for i, item in enumerate(items):
        item = check_object(p, f"items[{i}].", item, ("sku", "stock", "price", "retail_price"))
        text(p, item, "sku", f"items[{i}].", required=True)
        number(p, item, "stock", f"items[{i}].", integer=True)
        number(p, item, "price", f"items[{i}].")
        number(p, item, "retail_price", f"items[{i}].")
    p.raise_if_any()
    return items


def check_window(body: Any, allowed: tuple[str, ...] = ("start", "length")) -> tuple[dict[str, Any], Problems]:
    """``start``/``length`` offset paging (and whatever else ``allowed`` names); the problems so far."""
    p = problems()
    body = check_object(p, "", body, allowed)
    number(p, body, "start", integer=True)
    number(p, body, "length", integer=True)
    return body, p


def check_package(body: Any) -> dict[str, Any]:
    p = problems()
    body = check_object(p, "", body, PACKAGE_FIELDS)
    text(p, body, "remote_id", required=True)
    for name in ("remote_supplier_id", "supplier_id", "order_id", "company_id", "marketplace_package_id",
                 "total_deci"):
        number(p, body, name, integer=True)
    for i, item in enumerate(non_empty_array(p, body, "items")):
        item = check_object(p, f"items[{i}].", item, ("order_item_id", "quantity", "total_deci"))
        number(p, item, "order_item_id", f"items[{i}].", required=True, integer=True)
        number(p, item, "quantity", f"items[{i}].", required=True, integer=True)
        number(p, item, "total_deci", f"items[{i}].", integer=True)
    for name in ("tracking", "invoice"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            p.add(name, f"must be an object, got {p.type_of(body[name])}")
    p.raise_if_any()
    return body


def check_texts(body: Any, allowed: tuple[str, ...], required: tuple[str, ...] = (),
                optional: tuple[str, ...] | None = None) -> dict[str, Any]:
    """An object of strings: ``required`` ones must be there and not blank, ``optional`` ones (by default every
    field sent) may be left out."""
    p = problems()
    body = check_object(p, "", body, allowed)
    for name in dict.fromkeys((*required, *(body if optional is None else optional))):
        text(p, body, name, required=name in required)
    p.raise_if_any()
    return body


def check_sandbox_order(body: Any) -> dict[str, Any]:
    """The sandbox-only order control call: ``{"lines": [{"sku", "quantity", "price"?}], "order_number"?,
    "created_at"?}``."""
    p = problems()
    body = check_object(p, "", body, ("lines", "order_number", "created_at"))
    text(p, body, "order_number")
    text(p, body, "created_at")
    for i, line in enumerate(non_empty_array(p, body, "lines")):
        where = f"lines[{i}]."
        line = check_object(p, where, line, ("sku", "quantity", "price"))
        text(p, line, "sku", where, required=True)
        check_number(p, f"{where}quantity", line.get("quantity"), if_none=REQUIRED, integer=True, minimum=1)
        number(p, line, "price", where)
    p.raise_if_any()
    return body
