"""Rules every source applies to what it read, so a value refused from a workbook is refused from any source.

The spreadsheet checks its cells while reading them (``spreadsheet/cells.py``); an API source calls one of the
functions below on its canonical records with the very same ``barcode_problem`` rule: a supplier feed
(Aleta) refuses the variant, as a workbook refuses the row; an ERP (Odoo), whose barcode field also holds
internal codes that are no GTIN at all, keeps the product on sale and withholds only the barcode.  Either
way an invalid barcode is never sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from connector.model import ABSENT, Product
from connector.sources.base import Issue, RowRef


def barcode_problem(code: str) -> str | None:
    """The workbook's own rule (``spreadsheet/cells.py``), imported when first needed."""
    from connector.sources.spreadsheet.cells import barcode_problem as rule

    return rule(code)


def _barcode_problem(code: object) -> str | None:
    return barcode_problem(code) if isinstance(code, str) and code else None


def refuse_invalid_barcodes(products: list[Product], issues: list[Issue], rows: list[RowRef], origin: str) -> None:
    """Skip every variant whose barcode is not a valid EAN-8/UPC-A/EAN-13/GTIN-14 (digits, length, check digit).

    The variant leaves its product (a product left without variants leaves ``products``), its row becomes a
    skipped row with the reason, and an error issue names the SKU and the value, as for a workbook cell.
    """
    skipped: dict[int, str] = {}
    for product in products:
        kept = []
        for variant in product.variants:
            problem = _barcode_problem(variant.barcode)
            if problem is None:
                kept.append(variant)
                continue
            issues.append(Issue(problem, sheet=origin, column="barcode", value=variant.barcode, sku=variant.sku))
            skipped[id(variant.ref)] = f"{problem}: {variant.barcode}"
        product.variants = kept
    if not skipped:
        return
    products[:] = [p for p in products if p.variants]
    rows[:] = [RowRef(r.sku, r.ref, skipped[id(r.ref)]) if id(r.ref) in skipped and not r.skipped_reason else r
               for r in rows]


def drop_invalid_barcodes(products: Iterable[Product]) -> None:
    """For records only being withdrawn (disabled, stock 0): an invalid barcode is not sent ("don't touch")."""
    for product in products:
        for variant in product.variants:
            if _barcode_problem(variant.barcode) is not None:
                variant.barcode = ABSENT


def withhold_invalid_barcodes(products: Iterable[Product], issues: list[Issue], origin: str) -> None:
    """Leave out (``ABSENT``: "don't touch") every barcode that is not a valid GTIN; the variant itself is
    pushed, and a warning names the SKU, the value and the rule."""
    for product in products:
        for variant in product.variants:
            problem = _barcode_problem(variant.barcode)
            if problem is None:
                continue
            issues.append(Issue(f"{problem}: the barcode is not sent (the product is)", sheet=origin,
                                column="barcode", value=variant.barcode, sku=variant.sku, severity="warning"))
            variant.barcode = ABSENT
