"""Aleta products and stock rows -> canonical ``Product`` / ``Variant`` / ``StockLevel``.

- Product key: the Shopify ``handle`` (or the product ``id``, setting ``product_key``); name = ``title``;
  brand = ``vendor``; category path = ``[product_type]``; images = featured image then the others, deduplicated;
  active = ``status`` is "active" (any letter case; a product whose status the document does not list is
  skipped, and left on the marketplaces as it is).  Aleta sends no description: it stays ABSENT ("don't touch").
- Variant: ``sku``; attributes from the Shopify variant ``title`` (``"Black / M"`` -> ``{"Option 1": "Black",
  "Option 2": "M"}``, names from the ``option_names`` setting); a single ``"Default Title"`` variant is a simple
  product.  Price from the price rule, cost from ``cost_field``, barcode, weight converted to kg (Decimal).
- Stock: one ``StockLevel`` per chosen Aleta location, keyed by the location's name, with ``available``,
  ``on_hand``, ``reserved`` (= ``committed``) and ``incoming``.  Which of them is listed, and which locations
  count, is the stock policy's business (``connector/sync/stock_policy.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connector.model import ABSENT, Money, Product, SourceRef, StockLevel, Variant
from connector.sources.aleta.pricing import MoneyError, PriceRule, parse_money
from connector.sources.aleta.settings import STATUSES
from connector.sources.base import Issue, RowRef

ORIGIN = "aleta"
DEFAULT_TITLE = "Default Title"
TO_KG = {"kg": Decimal(1), "g": Decimal("0.001"), "lb": Decimal("0.45359237"), "oz": Decimal("0.028349523125")}


@dataclass
class Converted:
    products: list[Product] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows: list[RowRef] = field(default_factory=list)
    held: set[str] = field(default_factory=set)  # keys of products with a row skipped (SourceResult.held_keys)
    # variants skipped for their SKU (none, or no text): the SKU each carried before is unknown, so nothing that
    # left the source is taken off sale while they are (SourceResult.sku_unread_rows)
    sku_unread: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ConvertOptions:
    price: PriceRule
    cost_field: str | None
    currency: str
    option_names: tuple[str, ...] = ()
    product_key: str = "handle"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _sku_text(value: Any) -> str | None:
    """A SKU as Aleta spells it (text), without the spaces around it; None for anything else."""
    return _text(value) if isinstance(value, str) else None


def product_key(doc: dict[str, Any], how: str = "handle") -> str | None:
    return _text(doc.get("handle")) if how == "handle" else _text(doc.get("id"))


def attributes_of(title: Any, option_names: tuple[str, ...], single: bool) -> dict[str, str]:
    text = _text(title)
    if text is None or (single and text == DEFAULT_TITLE):
        return {}
    parts = [p.strip() for p in text.split(" / ")]
    return {(option_names[i] if i < len(option_names) else f"Option {i + 1}"): part
            for i, part in enumerate(parts) if part}


def weight_kg(value: Any, unit: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    factor = TO_KG.get(str(unit or "kg").strip().lower())
    if factor is None:
        raise MoneyError(f"unknown weight unit {unit!r}")
    try:
        amount = parse_money(value if isinstance(value, str | Decimal | int) else str(value))
    except MoneyError:
        raise MoneyError(f"weight is not a number: {value!r}") from None
    if amount is None:
        return None
    return amount if factor == 1 else (amount * factor).quantize(Decimal("0.001")).normalize()


def images_of(doc: dict[str, Any]) -> list[str]:
    urls: list[str] = []
    featured = doc.get("featured_image")
    if isinstance(featured, dict) and _text(featured.get("url")):
        urls.append(str(featured["url"]).strip())
    for image in doc.get("images") if isinstance(doc.get("images"), list) else []:
        if isinstance(image, dict) and _text(image.get("url")):
            urls.append(str(image["url"]).strip())
    return list(dict.fromkeys(urls))


def convert_products(docs: Iterable[dict[str, Any]], opts: ConvertOptions, *, force_inactive: Iterable[str] = (),
                     seen_skus: dict[str, str] | None = None) -> Converted:
    """Convert Aleta product documents.  Bad variants become issues and skipped rows; the rest carries on.

    ``force_inactive``: product ids to convert as inactive (withdrawn by the supplier).
    """
    out = Converted()
    withdrawn = set(force_inactive)
    skus = {} if seen_skus is None else seen_skus
    for doc in docs:
        _convert_one(doc, opts, str(doc.get("id")) in withdrawn, skus, out)  # keyed as the reader keys them
    return out


def _money(raw: dict[str, Any], name: str) -> Decimal | None:
    """The variant's money field ``name``; a ``MoneyError`` naming the field (``retail_price: not a ...``)."""
    try:
        return parse_money(raw.get(name))
    except MoneyError as exc:
        raise MoneyError(f"{name}: {exc}") from None


def _convert_one(doc: dict[str, Any], opts: ConvertOptions, withdrawn: bool, skus: dict[str, str],
                 out: Converted) -> None:
    pid = _text(doc.get("id")) or "?"
    key = product_key(doc, opts.product_key)
    raw_variants = [v for v in doc.get("variants") or [] if isinstance(v, dict)]
    pref = SourceRef(ORIGIN, None, pid)

    def skip(sku: str | None, ident: str | None, reason: str, value: Any = None) -> None:
        out.issues.append(Issue(reason, sheet=ORIGIN, sku=sku, value=value))
        out.rows.append(RowRef(sku, SourceRef(ORIGIN, None, ident or pid), reason))
        if key is not None:
            out.held.add(key)

    if key is None:
        for v in raw_variants or [{}]:
            skip(_text(v.get("sku")), _text(v.get("id")), f"product {pid} has no {opts.product_key}")
        return
    status = (_text(doc.get("status")) or "").lower()
    if status not in STATUSES:
        # read as "not active" it would be disabled and zeroed on every marketplace: left as they have it
        for v in raw_variants or [{}]:
            skip(_sku_text(v.get("sku")), _text(v.get("id")), f"product '{key}' has status {doc.get('status')!r}, "
                 f"not one of {', '.join(STATUSES)}: left as the marketplaces have it", doc.get("status"))
        return
    active = status == "active" and not withdrawn
    single = len(raw_variants) == 1
    variants: list[Variant] = []
    padded: dict[str, str] = {}  # trimmed SKU -> the SKU as Aleta spells it (its stock is keyed by that)
    for raw in raw_variants:
        sku = _text(raw.get("sku"))
        vid = _text(raw.get("id"))
        if sku is None or not isinstance(raw.get("sku"), str):  # 7, 1.5, true, [] are no SKU Aleta spells
            what = "no SKU" if sku is None else "a SKU that is not text"
            skip(None, vid, f"variant {vid or '?'} of product '{key}' has {what}", raw.get("sku"))
            out.sku_unread.append(f"Aleta variant {vid or '?'} of product '{key}'")
            continue
        if raw.get("sku") != sku:
            padded[sku] = str(raw.get("sku"))
        if sku in skus and skus[sku] != pid:
            skip(sku, vid, f"duplicate SKU (also in product {skus[sku]})", sku)
            continue
        try:
            base = _money(raw, opts.price.field)
            cost = _money(raw, opts.cost_field) if opts.cost_field else ABSENT
            weight = weight_kg(raw.get("weight"), raw.get("weight_unit"))
        except MoneyError as exc:
            skip(sku, vid, str(exc), None)
            continue
        if base is None:
            skip(sku, vid, f"no {opts.price.field} (the configured price field)")
            continue
        if base < 0:
            skip(sku, vid, f"negative {opts.price.field}", str(base))
            continue
        skus[sku] = pid
        image = _text(raw.get("image_url"))
        variant = Variant(
            sku=sku,
            attributes=attributes_of(raw.get("title"), opts.option_names, single),
            barcode=_text(raw.get("barcode")),
            price=Money(opts.price.apply(base), opts.currency),
            cost=ABSENT if cost is ABSENT else (Money(cost, opts.currency) if cost is not None else None),
            weight=weight,
            images=[image] if image else [],
            active=active,
            ref=SourceRef(ORIGIN, None, vid or sku),
        )
        variants.append(variant)
        out.rows.append(RowRef(sku, variant.ref))
        if sku in padded:
            out.issues.append(Issue(f"SKU {padded[sku]!r} has spaces around it: sent as {sku!r} (its stock is read "
                                    f"under the SKU as Aleta spells it)", sheet=ORIGIN, sku=sku,
                                    value=padded[sku], severity="warning"))
    if not variants:
        return
    category = _text(doc.get("product_type"))
    out.products.append(Product(
        key=key,
        name=_text(doc.get("title")) or key,
        brand=_text(doc.get("vendor")) or None,
        category_path=[category] if category else [],
        images=images_of(doc),
        active=active,
        variants=variants,
        ref=pref,
        extra={"aleta_id": pid, "handle": _text(doc.get("handle")), "updated_at": _text(doc.get("updated_at")),
               "aleta_status": doc.get("status"),
               **({"aleta_raw_skus": padded} if padded else {})},
    ))


def location_names(locations: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Location id -> the name used as ``Variant.stock`` key (the id when two locations share a name)."""
    locs = [loc for loc in locations if isinstance(loc, dict) and _text(loc.get("id"))]
    counts: dict[str, int] = {}
    for loc in locs:
        name = _text(loc.get("name")) or str(loc["id"])
        counts[name] = counts.get(name, 0) + 1
    out = {}
    for loc in locs:
        name = _text(loc.get("name")) or str(loc["id"])
        out[str(loc["id"])] = name if counts[name] == 1 else str(loc["id"])
    return out


QUANTITIES = (("available", "available"), ("on_hand", "on_hand"), ("reserved", "committed"), ("incoming", "incoming"))
"""StockLevel field -> Aleta's name in ``quantities``."""


class StockValueError(ValueError):
    """A stock row holding a value of the wrong type: the SKU's stock is not read from it."""


def _qty(value: Any, what: str) -> int | None:
    """A quantity as the document gives it (``<int>``; negative: Shopify's oversold), ``None`` when absent.  A
    fraction, text or ``true`` is refused: read as a number (2.5 as 2, "12" as 12) or as unknown (0 once summed),
    it would be stock that is not there."""
    if value is None:
        return None
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)  # 7.0
    if isinstance(value, bool) or not isinstance(value, int):
        shown = str(value) if isinstance(value, Decimal) else repr(value)  # a JSON 2.5 is shown as 2.5
        raise StockValueError(f"{what} is {shown}, not a whole number")
    return value


def _levels(row: dict[str, Any], chosen: set[str] | None, names: dict[str, str]) -> dict[str, StockLevel]:
    """One ``StockLevel`` per chosen location of a stock row; ``StockValueError`` for a value of the wrong type."""
    levels: dict[str, StockLevel] = {}
    for loc in row.get("locations") or []:
        lid = loc.get("location_id") if isinstance(loc, dict) else None
        if not isinstance(lid, str) or not lid:  # its stock would count under no location, or under the wrong one
            shown = f"location_id {repr(lid)[:80]}" if isinstance(loc, dict) else repr(loc)[:80]
            raise StockValueError(f"a location whose id is no text ({shown})")
        if chosen is not None and lid not in chosen:
            continue
        q = loc.get("quantities")
        if not isinstance(q, dict):
            raise StockValueError(f"location {lid!r} has no 'quantities' object ({str(q)[:80]})")
        name = names.get(lid) or _text(loc.get("location_name")) or lid
        levels[name] = StockLevel(name, **{ours: _qty(q.get(theirs), f"{theirs} at location {lid!r}")
                                           for ours, theirs in QUANTITIES})
    return levels


def apply_stock(products: Iterable[Product], rows: Iterable[dict[str, Any]], *, chosen: set[str] | None,
                names: dict[str, str], missing_stock: str = "zero", out: Converted | None = None) -> list[str]:
    """Put one ``StockLevel`` per chosen location on each variant; returns the SKUs without a stock row.

    ``chosen``: location ids that count (``None``: all).  ``names``: location id -> stock key.  A variant
    without a stock row gets an empty, known stock (lists 0) when ``missing_stock == "zero"``, else its stock
    stays unknown (the marketplace's quantity is left untouched).  A row holding a value of the wrong type (a
    fraction, text, a location id that is no text) leaves its SKU's stock unknown too, with an issue and a
    skipped row in ``out``.
    """
    by_sku = {v.sku: v for p in products for v in p.variants}
    seen: set[str] = set()
    for row in rows:
        variant = by_sku.get(_text(row.get("sku")) or "")  # a padded SKU's row: see ``raw_skus``
        if variant is None:
            continue
        seen.add(variant.sku)
        try:
            variant.stock, variant.stock_known = _levels(row, chosen, names), True
        except StockValueError as exc:
            variant.stock, variant.stock_known = {}, False
            if out is not None:
                reason = f"stock of '{variant.sku}' at Aleta: {exc}; left as the marketplaces have it"
                out.issues.append(Issue(reason, sheet=ORIGIN, sku=variant.sku))
                out.rows.append(RowRef(variant.sku, SourceRef(ORIGIN, None, f"stock {variant.sku}"), reason))
    missing = [sku for sku in by_sku if sku not in seen]
    for sku in missing:
        variant = by_sku[sku]
        variant.stock = {}
        variant.stock_known = missing_stock == "zero"
    return missing


def raw_skus(products: Iterable[Product]) -> dict[str, str]:
    """Trimmed SKU -> the SKU as Aleta spells it, for SKUs that had spaces around them.  Aleta keys stock by
    its own spelling (the inventory item), so their stock is asked for under that spelling."""
    return {sku: raw for p in products for sku, raw in (p.extra.get("aleta_raw_skus") or {}).items()}


def zero_stock(products: Iterable[Product]) -> None:
    """Withdrawn products list nothing."""
    for product in products:
        for variant in product.variants:
            variant.stock = {}
            variant.stock_known = True
