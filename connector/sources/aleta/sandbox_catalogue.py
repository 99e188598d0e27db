"""A generated Aleta catalogue, deterministic from a seed: products, variants, prices, stock, locations.

``generate(variants=3000, seed=1, locations=2)`` returns ``(locations, products, stock)`` in the API's own
shapes (money as strings).  About 8 % of products are ``draft`` or ``archived``; products have 1 to 6
variants ("Colour / Size" titles, a lone variant is "Default Title"); barcodes are valid EAN-13; a few
weights are in grams; each variant has a stock row per location.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

VENDORS = ["Sahel Textiles", "Atlas Home", "Dune Outdoor", "Baobab Kids", "Oasis Beauty"]
TYPES = ["T-shirts", "Dresses", "Cookware", "Tents", "Creams", "Scarves", "Lamps"]
NOUNS = ["Shirt", "Dress", "Teapot", "Tent", "Cream", "Scarf", "Lamp", "Bowl", "Kettle", "Jacket"]
ADJECTIVES = ["Classic", "Premium", "Light", "Family", "Travel", "Organic", "Deluxe", "Mini"]
COLOURS = ["Black", "White", "Blue", "Red", "Sand"]
SIZES = ["S", "M", "L", "XL"]
LOCATION_NAMES = ["Main Warehouse", "Nouakchott Store", "Dakar Depot", "Returns"]
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
CENT = Decimal("0.01")


def ean13(n: int) -> str:
    body = f"370{n % 10**9:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _money(d: Decimal) -> str:
    return str(d.quantize(CENT, rounding=ROUND_HALF_UP))


def updated_at(i: int) -> str:
    """Product ``i`` was last edited ``7 × i`` minutes after 2026-01-01 (deterministic, in the past)."""
    return (BASE_TIME + timedelta(minutes=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_variant(rng: random.Random, product_no: int, index: int, title: str, sku: str) -> dict[str, Any]:
    retail = Decimal(rng.randint(5, 199)) + Decimal("0.90")
    discount = rng.choice([20, 25, 30, 35])
    client = retail * (100 - discount) / 100
    grams = rng.random() < 0.1
    weight = Decimal(rng.randint(1, 40)) * Decimal("0.05")
    return {
        "id": f"gid://shopify/ProductVariant/{100000 + product_no * 10 + index}",
        "sku": sku,
        "title": title,
        "retail_price": _money(retail),
        "client_price": _money(client),
        "public_price": _money(retail * 2),
        "direct_delivery_price": _money(Decimal(_money(client)) * 2),
        "discount_percent": discount,
        "direct_delivery_margin_percent": discount,
        "compare_at_price": _money(retail + 20) if rng.random() < 0.3 else None,
        "image_url": f"https://cdn.shopify.com/s/files/1/0000/0000/products/{sku.lower()}.jpg?v=1",
        "barcode": ean13(product_no * 10 + index),
        "weight": float(weight * 1000 if grams else weight),
        "weight_unit": "g" if grams else "kg",
        "inventory_item_id": f"gid://shopify/InventoryItem/{500000 + product_no * 10 + index}",
    }


def generate(variants: int = 3000, seed: int = 1, locations: int = 2) -> tuple[list[dict[str, Any]],
                                                                               list[dict[str, Any]],
                                                                               list[dict[str, Any]]]:
    """``(locations, products, stock)``; ``stock`` rows are ``{sku, inventory_item_id, location_id, quantities}``."""
    rng = random.Random(seed)
    locs = [{"id": f"gid://shopify/Location/{i + 1}", "name": LOCATION_NAMES[i % len(LOCATION_NAMES)]
             + ("" if i < len(LOCATION_NAMES) else f" {i}"), "is_active": True} for i in range(max(1, locations))]
    products: list[dict[str, Any]] = []
    stock: list[dict[str, Any]] = []
    made = 0
    n = 0
    while made < variants:
        n += 1
        count = min(variants - made, rng.choice([1, 1, 2, 3, 4, 6]))
        handle_base = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        handle = f"{handle_base.lower().replace(' ', '-')}-{n:05d}"
        if count == 1:
            titles = ["Default Title"]
        else:
            colours = rng.sample(COLOURS, k=min(len(COLOURS), (count + 1) // 2))
            titles = [f"{c} / {s}" for c in colours for s in SIZES][:count]
        product_variants = []
        for i, title in enumerate(titles):
            suffix = "" if title == "Default Title" else "-" + title.replace(" / ", "-").upper()
            sku = f"ALT-{n:05d}{suffix}"
            product_variants.append(make_variant(rng, n, i, title, sku))
            for loc in locs:
                available = rng.randint(0, 40)
                committed = rng.randint(0, 4)
                stock.append({"sku": sku, "inventory_item_id": product_variants[-1]["inventory_item_id"],
                              "location_id": loc["id"],
                              "quantities": {"available": available, "on_hand": available + committed,
                                             "committed": committed, "incoming": rng.choice([0, 0, 0, 12, 50])}})
        roll = rng.random()
        status = "draft" if roll < 0.04 else "archived" if roll < 0.08 else "active"
        image = f"https://cdn.shopify.com/s/files/1/0000/0000/products/{handle}.jpg?v=1"
        images = [{"url": image, "alt": handle_base}] + [
            {"url": v["image_url"], "alt": v["title"]} for v in product_variants]  # Shopify: among the product's
        products.append({
            "id": f"gid://shopify/Product/{10000 + n}",
            "title": f"{handle_base} {n}",
            "handle": handle,
            "vendor": rng.choice(VENDORS),
            "product_type": rng.choice(TYPES),
            "status": status,
            "updated_at": updated_at(n),
            "featured_image": {"url": image, "alt": handle_base},
            "images": images,
            "variants": product_variants,
        })
        made += count
    return locs, products, stock
