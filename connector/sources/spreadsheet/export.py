"""Canonical products -> a workbook in the project's own template format (what ``read_spreadsheet`` reads).

``write_catalogue(products, path, lang="en")`` is how ``connector export --source aleta -o catalogue.xlsx``
hands a supplier's catalogue to a reseller to review or edit before syncing the file instead.  Headers, sheet
names, notes and text formats come from ``columns.py`` (the template's own specification), so the file
reads back through ``read_spreadsheet`` to the same products:

- one row per SKU; variants share the ``Parent SKU`` (the product key); a simple product whose key is its
  SKU leaves it blank; product-level values (name, description, brand, category) are on the product's first
  row only (the other rows inherit them);
- a column is written only when some product provides that field: an absent field stays absent (a blank
  column would read back as "empty", which would clear the field on the marketplaces);
- the first row of a product carries the product's images, the others their own (Shopify variant images
  are among the product's images, so the product's list reads back the same);
- ``Attribute: <name>`` columns, ``Name (fr)``-style translation columns, and one ``Stock - <location>`` sheet
  per location holding the available quantity (an inline ``Stock: <location>`` column when the location's
  name cannot be a sheet name, and always in a .csv, which has one sheet); a negative available quantity
  (oversold) is netted against the SKU's other locations (``netted_stock``), so the file lists in total what
  the source lists (the reader refuses negative stock);
- nothing written is a formula: text starting with ``=`` is a string cell, and a CSV escapes text that a
  spreadsheet program would evaluate with an apostrophe, which the reader removes (inert.py).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from connector.atomic import replace_file
from connector.model import ABSENT, Money, Product, Variant

from .columns import (
    ATTRIBUTE_LABEL,
    INSTRUCTIONS_SHEET,
    LOCALES,
    NO_WORDS,
    PRODUCT_COLUMNS,
    PRODUCTS_SHEET,
    STOCK_COLUMN_LABEL,
    STOCK_COLUMNS,
    STOCK_SHEET,
    TRANSLATION_LABEL,
    YES_WORDS,
    ColumnSpec,
)
from .inert import csv_cell, needs_escape, string_cell
from .outputs import output_format

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
_MONEY_FORMAT = "0.00"
_SPECS = {spec.key: spec for spec in PRODUCT_COLUMNS}
# column key -> how to tell whether a product provides it
_VARIANT_FIELDS = {"price": "price", "cost": "cost", "barcode": "barcode", "weight": "weight", "hs_code": "hs_code",
                   "images": "images"}
_PRODUCT_FIELDS = {"description": "description", "brand": "brand", "category": "category_path"}
_INSTRUCTIONS = {
    "en": ["Catalogue exported by connector. Review or edit it, then sync this file instead of the source.",
           "One row per SKU. Variants of one product share the Parent SKU.",
           "Stock sheets hold the available quantity per location at the time of the export "
           "(an oversold location is netted against the SKU's other locations)."],
    "fr": ["Catalogue exporté par connector. Relisez-le ou modifiez-le, puis synchronisez ce fichier.",
           "Une ligne par SKU. Les déclinaisons d'un même produit partagent le SKU parent.",
           "Les feuilles de stock donnent la quantité disponible par emplacement au moment de l'export "
           "(un emplacement en survente est compensé par les autres emplacements du SKU)."],
    "ar": ["كتالوج مُصدَّر بواسطة connector. راجعه أو عدّله ثم زامن هذا الملف بدل المصدر.",
           "سطر لكل رمز منتج. متغيرات المنتج الواحد تشترك في رمز المنتج الأب.",
           "أوراق المخزون تحتوي الكمية المتاحة لكل موقع وقت التصدير."],
}


def _given(value: Any) -> bool:
    return value is not ABSENT


def _columns(products: list[Product]) -> list[ColumnSpec]:
    """The fixed columns this catalogue needs, in template order."""
    keys = {"parent_sku", "sku", "name", "price", "currency", "active"}
    variants = [v for p in products for v in p.variants]
    for key, attr in _VARIANT_FIELDS.items():
        if any(_given(getattr(v, attr)) for v in variants):
            keys.add(key)
    for key, attr in _PRODUCT_FIELDS.items():
        if any(_given(getattr(p, attr)) for p in products):
            keys.add(key)
    if any(_given(p.images) for p in products):
        keys.add("images")
    return [spec for spec in PRODUCT_COLUMNS if spec.key in keys]


def _sheet_name_ok(name: str) -> bool:
    return len(name) <= 31 and not _BAD_SHEET_CHARS.search(name) and not name.startswith("'")


def _translation_header(field_label: str, locale: str, lang: str) -> str:
    short = locale.split("_")[0]
    code = short if LOCALES.get(short) == locale else locale
    return TRANSLATION_LABEL[lang].format(field_label, code)


def _header_cell(ws: Worksheet, text: str, note: str | None, required: bool = False) -> WriteOnlyCell:
    cell = string_cell(WriteOnlyCell(ws, value=text))
    cell.font = _HEADER_FONT
    if required:
        cell.fill = _REQUIRED_FILL
    if note:
        cell.comment = Comment(note, "connector")
    return cell


def _amount(value: Any) -> Any:
    if isinstance(value, Money):
        value = value.amount
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    return value


def _cell(ws: Worksheet, value: Any, spec: ColumnSpec | None) -> Any:
    """A value for the xlsx writer: text as a string cell (never a formula), money with two decimals."""
    if value is None or value is ABSENT or value == "" or value == []:
        return None
    if spec is not None and spec.text_format:
        cell = string_cell(WriteOnlyCell(ws, value=str(value)))
        cell.number_format = "@"
        return cell
    if spec is not None and spec.key in ("price", "cost"):
        cell = WriteOnlyCell(ws, value=_amount(value))
        cell.number_format = _MONEY_FORMAT
        return cell
    if isinstance(value, str):
        return string_cell(WriteOnlyCell(ws, value=value)) if needs_escape(value) else value
    return _amount(value)


def _csv_value(value: Any, spec: ColumnSpec | None) -> Any:
    """A value for the CSV writer: amounts exactly as held (``12.50``), text escaped (inert.py)."""
    if value is None or value is ABSENT or value == []:
        return ""
    if isinstance(value, Money):
        value = value.amount
    if isinstance(value, Decimal):
        return str(value)
    return csv_cell(value)


def netted_stock(v: Variant) -> dict[str, int]:
    """Available quantity per location of ``v`` (locations without one left out), an oversold (negative)
    location netted against the others in their order: every quantity is 0 or more and they add up to what
    the stock policy lists for all locations, ``max(0, sum)`` (the reader refuses negative stock)."""
    if not v.stock_known:
        return {}
    levels = {loc: lv.available for loc, lv in v.stock.items() if lv is not None and lv.available is not None}
    debt = -sum(q for q in levels.values() if q < 0)
    out: dict[str, int] = {}
    for loc, q in levels.items():
        q = max(0, q)
        taken = min(q, debt)
        debt -= taken
        out[loc] = q - taken
    return out


def _product_rows(product: Product, columns: list[ColumnSpec], attr_names: list[str],
                  translations: list[tuple[str, str]], inline_stock: list[str], lang: str
                  ) -> list[list[tuple[ColumnSpec | None, Any]]]:
    """Per variant, the (column spec or None, value) of each cell of its row."""
    simple = not product.has_variants and len(product.variants) == 1 and product.variants[0].sku == product.key
    rows = []
    for i, v in enumerate(product.variants):
        row: list[tuple[ColumnSpec | None, Any]] = [(spec, _value(spec.key, product, v, i, simple, lang))
                                                    for spec in columns]
        row += [(None, v.attributes.get(name)) for name in attr_names]
        for locale, field in translations:
            row.append((None, product.translations.get(locale, {}).get(field) if i == 0 else None))
        stock = netted_stock(v) if inline_stock else {}
        row += [(None, stock.get(loc)) for loc in inline_stock]
        rows.append(row)
    return rows


def _value(key: str, product: Product, v: Variant, i: int, simple: bool, lang: str) -> Any:
    if key == "parent_sku":
        return None if simple else product.key
    if key == "sku":
        return v.sku
    if key in ("name", "description", "brand"):
        return getattr(product, key) if i == 0 else None
    if key == "category":
        path = product.category_path
        return " > ".join(path) if i == 0 and isinstance(path, list) and path else None
    if key == "currency":
        return v.price.currency if isinstance(v.price, Money) else None
    if key == "active":
        return YES_WORDS[lang] if v.active else NO_WORDS[lang]
    if key == "images":
        urls = list(v.images) if isinstance(v.images, list) else []
        if i == 0 and isinstance(product.images, list):
            urls = list(dict.fromkeys([*product.images, *urls]))
        return " ".join(urls) if urls else None
    return getattr(v, key)


def write_catalogue(products: Iterable[Product], path: str | Path, *, lang: str = "en") -> int:
    """Write ``products`` as a template-format workbook at ``path`` (.xlsx, or .csv: one sheet, stock in
    ``Stock: <location>`` columns); returns the number of product rows."""
    if lang not in PRODUCTS_SHEET:
        raise ValueError(f"lang must be one of {', '.join(PRODUCTS_SHEET)}")
    products = list(products)
    path = Path(path)
    csv_output = output_format(path, "export -o") == "csv"
    columns = _columns(products)
    attr_names = list(dict.fromkeys(name for p in products for v in p.variants for name in v.attributes))
    translations = sorted({(loc, field) for p in products for loc, fields in p.translations.items()
                           for field in fields if field in ("name", "description")})
    locations = list(dict.fromkeys(loc for p in products for v in p.variants if v.stock_known for loc in v.stock))
    sheet_locations = [] if csv_output else [loc for loc in locations
                                             if _sheet_name_ok(STOCK_SHEET[lang].format(loc))]
    inline_stock = [loc for loc in locations if loc not in sheet_locations]
    headers = [(spec.header(lang), spec.notes[lang], spec.required) for spec in columns]
    headers += [(ATTRIBUTE_LABEL[lang].format(name), None, False) for name in attr_names]
    headers += [(_translation_header(_SPECS[field].labels[lang], loc, lang), None, False)
                for loc, field in translations]
    headers += [(STOCK_COLUMN_LABEL[lang].format(loc), None, False) for loc in inline_stock]
    rows = (row for product in products
            for row in _product_rows(product, columns, attr_names, translations, inline_stock, lang))
    path.parent.mkdir(parents=True, exist_ok=True)
    if csv_output:
        def write_csv(tmp: Path) -> int:
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow([csv_cell(text) for text, _, _ in headers])
                written = 0
                for row in rows:
                    w.writerow([_csv_value(value, spec) for spec, value in row])
                    written += 1
            return written

        # replaced whole: an export cut short (a killed run, a full disk) is never a shorter catalogue that a
        # later sync would take for products gone from the source
        return replace_file(path, write_csv)

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(PRODUCTS_SHEET[lang])
    for i, spec in enumerate(columns):
        ws.column_dimensions[_letter(i)].width = spec.width
    ws.freeze_panes = "C2"
    ws.append([_header_cell(ws, text, note, required) for text, note, required in headers])
    written = 0
    for row in rows:
        ws.append([_cell(ws, value, spec) for spec, value in row])
        written += 1

    sku_spec, qty_spec = STOCK_COLUMNS
    stock_by_sku = {v.sku: netted_stock(v) for p in products for v in p.variants} if sheet_locations else {}
    for loc in sheet_locations:
        sheet = wb.create_sheet(STOCK_SHEET[lang].format(loc))
        sheet.column_dimensions["A"].width = sku_spec.width
        sheet.column_dimensions["B"].width = qty_spec.width
        sheet.append([_header_cell(sheet, sku_spec.header(lang), sku_spec.notes[lang], True),
                      _header_cell(sheet, qty_spec.header(lang), qty_spec.notes[lang], True)])
        for product in products:
            for v in product.variants:
                qty = stock_by_sku[v.sku].get(loc)
                if qty is not None:
                    sheet.append([_cell(sheet, v.sku, sku_spec), qty])

    info = wb.create_sheet(INSTRUCTIONS_SHEET[lang])
    for line in _INSTRUCTIONS[lang]:
        info.append([line])
    replace_file(path, wb.save)
    return written


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
