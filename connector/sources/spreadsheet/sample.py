"""The bundled demo catalogue, and the generator of the files shipped in ``templates/``.

``python -m connector.sources.spreadsheet.sample [directory]`` regenerates ``sample_catalogue.xlsx`` and
``template_en.xlsx`` / ``template_fr.xlsx`` / ``template_ar.xlsx`` (default directory: ``templates``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .template import build_workbook, with_check_digit, write_template

SAMPLE_LOCATIONS = ("Warehouse", "Shop")
CDN = "https://cdn.example.com/products"

# (sku, name, fr name, ar name, description, brand, category, price, cost, weight, hs code, active)
_SIMPLE = [
    ("TEA-MINT-500", "Mint green tea 500 g", "Thé vert à la menthe 500 g", "شاي أخضر بالنعناع 500 غ",
     "Gunpowder green tea with dried mint, for the traditional three glasses.", "Sahara Leaf",
     "Food > Tea & Coffee", "350", "210", "0.5", "090230", "Yes"),
    ("TEAPOT-STEEL-1L", "Stainless steel teapot 1 L", "Théière en inox 1 L", "إبريق شاي من الفولاذ 1 لتر",
     "Polished stainless steel teapot with a heat-resistant handle.", "Atlas Home",
     "Home > Kitchen > Tea", "1200", "700", "0.9", "732393", "Yes"),
    ("DATES-DEGLET-1KG", "Deglet Nour dates 1 kg", "Dattes Deglet Nour 1 kg", "تمر دقلة نور 1 كغ",
     "Soft, translucent dates from the oases.", "Oasis Farms", "Food > Dried fruit", "600", "380",
     "1", "080410", "Yes"),
    ("ARGAN-OIL-100", "Pure argan oil 100 ml", "Huile d'argan pure 100 ml", None,
     "Cold-pressed argan oil for skin and hair.", "Baobab Naturals", "Beauty > Skin care", "900", "520",
     "0.15", "151590", "Yes"),
    ("BOWL-CERAMIC-L", "Ceramic serving bowl", "Saladier en céramique", None,
     "Hand-painted ceramic bowl, 28 cm.", "Atlas Home", "Home > Kitchen > Tableware", "450", "250",
     "1.2", "691200", "Yes"),
    ("WALLET-CAMEL", "Camel leather wallet", None, None,
     "Hand-stitched camel leather wallet with six card slots.", "Chinguetti Craft",
     "Fashion > Accessories", "1500", "800", "0.12", "420231", "Yes"),
    ("CHARGER-USBC-20W", "USB-C charger 20 W", "Chargeur USB-C 20 W", "شاحن USB-C بقوة 20 واط",
     "Fast charger for phones and tablets, EU plug.", "Dune Electronics",
     "Electronics > Phones > Accessories", "800", "450", "0.08", "850440", "Yes"),
    ("BASKET-PALM", "Woven palm basket", "Panier en palmier tressé", None,
     "Basket woven from palm leaves, 35 cm.", "Chinguetti Craft", "Home > Decoration", "700", "300",
     "0.6", "460212", "No"),
]

# (parent, name, fr name, ar name, description, brand, category, price, weight, hs code, sizes, colors)
_WITH_VARIANTS = [
    ("TSHIRT-COTTON", "Cotton T-shirt", "T-shirt en coton", "قميص قطني",
     "Soft combed-cotton T-shirt, regular fit.", "Sahel Textiles", "Fashion > Men > T-shirts", "450",
     "0.2", "610910", ("S", "M", "L"), ("White", "Blue")),
    ("MELHFA-VOILE", "Melhfa veil", "Voile melhfa", "ملحفة",
     "Light dyed voile melhfa, 4 m.", "Sahel Textiles", "Fashion > Women > Traditional", "2500", "0.4",
     "621420", ("Standard", "Long"), ("Indigo", "Black")),
    ("SNEAKER-RUN", "Running sneakers", "Baskets de course", None,
     "Light running shoes with a breathable mesh upper.", "Dune Sport", "Sports > Shoes", "3200", "0.8",
     "640411", ("40", "41", "42"), ("Black", "White")),
]


def sample_rows() -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """Products rows and stock (location -> {SKU: quantity}) of the demo catalogue."""
    rows: list[dict[str, Any]] = []
    serial = 0

    def barcode() -> str:
        nonlocal serial
        serial += 1
        return with_check_digit(f"2001234{serial:05d}")

    for sku, name, fr, ar, desc, brand, cat, price, cost, weight, hs, active in _SIMPLE:
        rows.append({
            "sku": sku, "name": name, "description": desc, "brand": brand, "category": cat,
            "price": float(price), "currency": "MRU", "cost": float(cost), "barcode": barcode(),
            "weight": float(weight), "hs_code": hs, "active": active,
            "images": f"{CDN}/{sku.lower()}/1.jpg {CDN}/{sku.lower()}/2.jpg",
            "translation:name:fr": fr, "translation:name:ar": ar,
            "translation:description:fr": f"{fr}." if fr else None,
        })
    for parent, name, fr, ar, desc, brand, cat, price, weight, hs, sizes, colors in _WITH_VARIANTS:
        first = True
        for size in sizes:
            for color in colors:
                sku = f"{parent}-{size}-{color}".upper()
                row: dict[str, Any] = {
                    "parent_sku": parent, "sku": sku, "price": float(price), "currency": "MRU",
                    "barcode": barcode(), "weight": float(weight), "hs_code": hs, "active": "Yes",
                    "attribute:Size": size, "attribute:Color": color,
                    "images": f"{CDN}/{parent.lower()}/{color.lower()}.jpg",
                }
                if first:
                    row.update({"name": name, "description": desc, "brand": brand, "category": cat,
                                "translation:name:fr": fr, "translation:name:ar": ar})
                    first = False
                rows.append(row)
    stock: dict[str, dict[str, int]] = {loc: {} for loc in SAMPLE_LOCATIONS}
    for k, row in enumerate(rows):
        stock["Warehouse"][row["sku"]] = (k * 7) % 40 + 5
        if k % 3 != 2:
            stock["Shop"][row["sku"]] = k % 6
    return rows, stock


def write_sample(path: str | Path) -> None:
    """Write the demo catalogue: 11 products (3 with Size x Color variants), two stock sheets."""
    rows, stock = sample_rows()
    wb = build_workbook(lang="en", locations=SAMPLE_LOCATIONS, rows=rows, stock=stock,
                        attributes=("Size", "Color"), example=False)
    wb.save(Path(path))


def write_shipped_files(directory: str | Path) -> list[Path]:
    """(Re)generate the files shipped in ``templates/``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in ("en", "fr", "ar"):
        p = out / f"template_{lang}.xlsx"
        write_template(p, lang=lang)
        written.append(p)
    p = out / "sample_catalogue.xlsx"
    write_sample(p)
    written.append(p)
    return written


if __name__ == "__main__":  # pragma: no cover
    for written_path in write_shipped_files(sys.argv[1] if len(sys.argv) > 1 else "templates"):
        print(written_path)
