"""Generate realistic spreadsheet catalogues for the spreadsheet-reader benchmark.

``generate(path, rows, fmt)`` writes the catalogue of issue 16: ``rows`` Products rows (about a third of them
variants sharing a Parent SKU, the rest simple products) in 21 columns, every template column filled the way a
merchant would fill it (three attributes, two translations of name and description), and the stock of two
locations (``LOCATIONS``: Warehouse and Shop).

- ``xlsx``: sheet "Products" plus one stock sheet per location ("Stock - Warehouse", "Stock - Shop") with one
  row per SKU, saved as Excel saves it (shared strings; ``xlsx-inline``: the same cells in openpyxl's
  write-only form, see ``generate``).
- ``csv``: UTF-8, comma separated, the stock inline in one ``Stock: <location>`` column per location (a CSV has
  one sheet).

``locations`` (keyword) gives other stock locations, e.g. ``("Warehouse",)`` for one stock sheet.

Run ``python bench/spreadsheet_data.py [rows]`` to generate both formats and time ``read_spreadsheet``.
"""

from __future__ import annotations

import csv
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HEADERS = [
    "Parent SKU", "SKU*", "Name*", "Description", "Brand", "Category", "Price*", "Currency", "Cost",
    "Barcode", "Weight (kg)", "HS code", "Active", "Images", "Attribute: Size", "Attribute: Color",
    "Attribute: Material", "Name (fr)", "Name (ar)", "Description (fr)", "Description (ar)",
]
LOCATIONS = ("Warehouse", "Shop")  # one stock sheet each (xlsx), one "Stock: <location>" column each (csv)
BRANDS = ["Acme", "Sahel Textiles", "Nouakchott Home", "Atlas", "Dune", "Oasis", "Baobab", "Chinguetti"]
CATEGORIES = [
    "Home > Kitchen > Cookware", "Home > Kitchen > Tableware", "Fashion > Men > T-shirts",
    "Fashion > Women > Dresses", "Electronics > Phones > Accessories", "Beauty > Skin care",
    "Food > Tea & Coffee", "Sports > Outdoor",
]
NOUNS = ["Teapot", "Shirt", "Kettle", "Dress", "Charger", "Cream", "Tea", "Tent", "Bowl", "Scarf", "Lamp"]
ADJ = ["Classic", "Premium", "Light", "Family", "Travel", "Organic", "Deluxe", "Mini", "Pro"]
SIZES = ["S", "M", "L", "XL"]
COLORS = ["Blue", "Red", "Black", "White", "Sand"]
MATERIALS = ["Cotton", "Linen", "Steel", "Clay", "Wool"]


def ean13(n: int) -> str:
    """A valid EAN-13 built from a 12-digit body derived from ``n``."""
    body = f"{2000000000000 + n:013d}"[1:13]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _rows(rows: int, seed: int = 7, locations: int = 1) -> Iterator[tuple[list, list[int]]]:
    """Yield (Products row as a list of values, stock quantity at each of ``locations`` locations)."""
    rnd = random.Random(seed)
    i = 0
    product = 0
    while i < rows:
        product += 1
        noun, adj = rnd.choice(NOUNS), rnd.choice(ADJ)
        brand, category = rnd.choice(BRANDS), rnd.choice(CATEGORIES)
        name = f"{adj} {noun} {product}"
        desc = f"{adj} {noun.lower()} for everyday use, model {product}. Sold by {brand}."
        price = round(rnd.uniform(50, 25000), 2)
        with_variants = rnd.random() < 0.1 and rows - i >= 4
        if with_variants:
            parent = f"P{product:07d}"
            combos = [(s, c) for s in SIZES[: rnd.randint(2, 4)] for c in COLORS[: rnd.randint(1, 3)]]
            combos = combos[: rows - i]
            material = rnd.choice(MATERIALS)
        else:
            parent = ""
            combos = [("", "")]
            material = ""
        for k, (size, color) in enumerate(combos):
            i += 1
            sku = f"{parent}-{size}-{color}" if parent else f"S{product:07d}"
            first = k == 0
            row = [
                parent, sku,
                name if first else "", desc if first else "", brand if first else "",
                category if first else "",
                price, "MRU", round(price * 0.6, 2), ean13(i), round(rnd.uniform(0.1, 20), 3), "950300",
                "Yes" if rnd.random() > 0.05 else "No",
                f"https://cdn.example.com/p/{sku}/1.jpg https://cdn.example.com/p/{sku}/2.jpg",
                size, color, material,
                f"{noun} {adj} {product}" if first else "", f"منتج {product}" if first else "",
                f"Article {product}, qualité {adj.lower()}." if first else "",
                f"وصف المنتج {product}" if first else "",
            ]
            yield row, [rnd.randint(0, 500) for _ in range(locations)]


def generate(path: Path, rows: int, fmt: str = "xlsx", *, locations: tuple[str, ...] = LOCATIONS,
             barcode_format: str | None = None) -> Path:
    """Write a benchmark workbook or CSV with ``rows`` Products rows and the stock of ``locations``.
    ``barcode_format`` (``xlsx`` only): the barcodes typed as numbers in cells of that number format
    (``0000000000000``: a 13-digit EAN whose leading zeros only the format shows).  ``fmt``:

    - ``xlsx``: written the way Excel, LibreOffice and Google Sheets save a workbook: text in the shared
      strings table, empty cells not stored (XlsxWriter).  What a merchant's file looks like.
    - ``xlsx-inline``: the same cells as openpyxl's write-only mode saves them: every text inline in its
      cell and empty cells stored, twice the sheet XML for the parser (kept as a second measure).
    - ``csv``: UTF-8, comma separated, stock inline in one ``Stock: <location>`` column per location.
    """
    path = Path(path)
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([*HEADERS, *(f"Stock: {loc}" for loc in locations)])
            for row, qtys in _rows(rows, locations=len(locations)):
                w.writerow([*row, *qtys])
        return path
    if fmt == "xlsx":
        return _write_like_excel(path, rows, locations, barcode_format)
    if fmt != "xlsx-inline":
        raise ValueError(f"unknown format {fmt!r}")
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    products = wb.create_sheet("Products")
    stocks = [wb.create_sheet(f"Stock - {loc}") for loc in locations]
    products.append(HEADERS)
    for stock in stocks:
        stock.append(["SKU*", "Quantity*"])
    for row, qtys in _rows(rows, locations=len(locations)):
        products.append(row)
        for stock, qty in zip(stocks, qtys, strict=True):
            stock.append([row[1], qty])
    wb.save(path)
    return path


def _write_like_excel(path: Path, rows: int, locations: tuple[str, ...], barcode_format: str | None = None) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    barcode = HEADERS.index("Barcode")
    padded = wb.add_format({"num_format": barcode_format}) if barcode_format else None
    products = wb.add_worksheet("Products")
    stocks = [wb.add_worksheet(f"Stock - {loc}") for loc in locations]
    products.write_row(0, 0, HEADERS)
    for stock in stocks:
        stock.write_row(0, 0, ["SKU*", "Quantity*"])
    for r, (row, qtys) in enumerate(_rows(rows, locations=len(locations)), start=1):
        for c, value in enumerate(row):
            if padded is not None and c == barcode:
                products.write_number(r, c, int(value), padded)
            elif isinstance(value, str):
                if value:  # an empty cell is not stored
                    products.write_string(r, c, value)
            else:
                products.write_number(r, c, value)
        for stock, qty in zip(stocks, qtys, strict=True):
            stock.write_string(r, 0, row[1])
            stock.write_number(r, 1, qty)
    wb.close()
    return path


def main(argv: list[str]) -> None:
    from connector.sources.spreadsheet import read_spreadsheet

    rows = int(argv[1]) if len(argv) > 1 else 100_000
    out = Path(argv[2]) if len(argv) > 2 else Path("/tmp")
    for fmt, name in (("xlsx", f"bench_{rows}.xlsx"), ("xlsx-inline", f"bench_{rows}_inline.xlsx"),
                      ("csv", f"bench_{rows}.csv")):
        path = out / name
        if not path.exists():
            generate(path, rows, fmt)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            res = read_spreadsheet(path)
            best = min(best, time.perf_counter() - t0)
        variants = sum(len(p.variants) for p in res.products)
        print(f"{fmt}: {rows} rows -> {len(res.products)} products / {variants} variants, "
              f"{len(res.errors)} errors, best of 3: {best:.2f} s")


if __name__ == "__main__":
    main(sys.argv)
