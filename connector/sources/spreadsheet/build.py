"""Raw grids -> validated canonical ``Product``s, ``Issue``s and one ``RowRef`` per input row.

Columns are converted whole (one precomputed converter per column, see cells.py), then rows are checked
and grouped by Parent SKU (or their own SKU when it is blank) into products, variants in row order.
A row with any error is skipped; the other rows carry on.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from connector.errors import SourceError
from connector.model import ABSENT, Money, Product, SourceRef, StockLevel, Variant
from connector.sources.base import Issue, RowRef, SourceResult

from .cells import barcode_problem, converter_for
from .columns import (
    EXAMPLE_PREFIXES,
    INTEGER,
    PRODUCT_ALIASES,
    STOCK_ALIASES,
    ColumnSpec,
    HeaderMap,
    header_text,
    match_headers,
)
from .reader import RawBook, RawSheet

MISSING = "missing required value"
NEGATIVE_STOCK = "negative stock"
HEADER_SEARCH_ROWS = 10  # the header row is the first of these rows that has a SKU column

# canonical field names reported in SourceResult.provided_fields, per column key
_PROVIDED = {
    "sku": "sku", "name": "name", "description": "description", "brand": "brand",
    "category": "category_path", "price": "price", "cost": "cost", "barcode": "barcode",
    "weight": "weight", "hs_code": "hs_code", "active": "active", "images": "images",
}
_PRODUCT_LEVEL = ("name", "description", "brand", "category")
# Variant's first fields in declaration order: positional construction is twice as fast as keywords
_POSITIONAL = tuple(f.name for f in fields(Variant))[:9] == (
    "sku", "attributes", "barcode", "price", "cost", "weight", "hs_code", "images", "active")
_EXAMPLE_FIRST = frozenset(p[0] for p in EXAMPLE_PREFIXES) | frozenset(p[0].upper() for p in EXAMPLE_PREFIXES)


def _negative_reason(spec: ColumnSpec) -> str | None:
    if not spec.nonnegative:
        return None
    return NEGATIVE_STOCK if spec.kind == INTEGER else f"negative {spec.labels['en'].split(' (')[0].lower()}"


def _is_example(sku: str) -> bool:
    return sku[0] in _EXAMPLE_FIRST and sku.casefold().startswith(EXAMPLE_PREFIXES)


def _shown(v: Any) -> str:
    return " > ".join(v) if isinstance(v, list) else str(v)


# GS1 check digit of an n-digit code from its ASCII bytes: (base - 3*sum(odd) - sum(even)) % 10, where
# base adds back the 48s of the ASCII digits (a multiple of 10 added keeps the result non-negative).
_BARCODE_SIZES = frozenset({8, 12, 13, 14})
_BARCODE_BASE = {size: 48 * (3 * (size // 2) + (size - 1) // 2) + 1000 for size in _BARCODE_SIZES}


class _Sheet:
    """One sheet being validated: its header, its converted columns and the issues of its rows."""

    def __init__(self, raw: RawSheet, aliases: dict[str, ColumnSpec], dynamic: bool,
                 result: SourceResult) -> None:
        self.name = raw.name
        self.result = result
        rows = raw.rows
        h, hm = self._find_header(rows, aliases, dynamic)
        self.header_index = h
        self.hm = hm
        self.headers = {i: header_text(v) for i, v in enumerate(rows[h])}
        width = len(rows[h])
        data = rows[h + 1:]
        # formula/error cells beyond calamine's range (a row holding nothing else) still count
        if raw.problems:
            last = max(r for r, _ in raw.problems)
            while h + 1 + len(data) <= last:
                data.append([""] * width)
        if any(len(r) < width for r in data):
            data = [r if len(r) >= width else [*r, *([""] * (width - len(r)))] for r in data]
        self.data = data
        self.n = n = len(data)
        self.first_row = h + 2  # 1-based row number of data[0]
        self.columns: list = list(zip(*data, strict=False)) if n else [() for _ in range(width)]
        self.blank = [not any(r) and all(v == "" or v is None for v in r) for r in data]
        self.issues: dict[int, list[Issue]] = {}
        self.problems = {(r - h - 1, c): v for (r, c), v in raw.problems.items() if r > h}
        for meaning, first, second in hm.duplicates:
            raise SourceError(f"sheet '{self.name}' has two columns for {meaning}: '{first}' and '{second}'")
        for _i, header in hm.unknown:
            result.warnings.append(f"column '{header}' in sheet '{self.name}' is not used")

    def _find_header(self, rows: list[list], aliases: dict[str, ColumnSpec],
                     dynamic: bool) -> tuple[int, HeaderMap]:
        for h, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            hm = match_headers(row, aliases, dynamic)
            if "sku" in hm.fields:
                return h, hm
        first = next((r for r in rows if any(r)), [])
        seen = ", ".join(f"'{header_text(v)}'" for v in first if header_text(v)) or "nothing"
        raise SourceError(f"sheet '{self.name}' has no SKU column (expected a header 'SKU' in its first "
                          f"rows; found {seen})")

    def add(self, i: int, reason: str, col: int | None, value: Any = None, sku: str | None = None,
            column: str | None = None) -> Issue:
        if column is None and col is not None:
            column = self.headers.get(col, "")
        issue = Issue(reason, sheet=self.name, row=self.first_row + i, column=column, value=value, sku=sku,
                      col_index=col)
        self.issues.setdefault(i, []).append(issue)
        return issue

    def convert(self, index: int, kind: str, negative_reason: str | None = None) -> list:
        """Convert one column; rejected cells become issues and ``None``."""
        raw = self.columns[index] if index < len(self.columns) else ("",) * self.n
        values, bad = converter_for(kind, negative_reason)(raw)
        for i, reason in bad.items():
            self.add(i, reason, index, raw[i])
        if self.problems:
            for (i, c), (value, reason) in self.problems.items():
                if c == index and 0 <= i < self.n:
                    values[i] = None
                    if i in bad:
                        self.issues[i] = [x for x in self.issues[i] if x.col_index != index]
                    self.add(i, reason, index, value)
        return values

    def field(self, key: str) -> list | None:
        m = self.hm.fields.get(key)
        if m is None:
            return None
        assert m.spec is not None
        return self.convert(m.index, m.spec.kind, _negative_reason(m.spec))

    def set_skus(self, skus: list) -> None:
        for i, lst in self.issues.items():
            for issue in lst:
                issue.sku = skus[i]

    def row_is_blank(self, i: int, converted: list[list]) -> bool:
        """A row whose cells are all empty once converted (e.g. only spaces)."""
        return all(col[i] in (None, [], "") for col in converted)


def build_result(book: RawBook, currency: str = "MRU") -> SourceResult:
    """Validate the raw grids of ``book`` and build canonical products."""
    result = SourceResult()
    for name in book.unused_sheets:
        result.warnings.append(f"sheet '{name}' is not used")
    sheet = _Sheet(book.products, PRODUCT_ALIASES, True, result)
    hm = sheet.hm
    n = sheet.n
    for key in ("name", "price"):
        if key not in hm.fields:
            result.warnings.append(f"sheet '{sheet.name}' has no {key.capitalize()} column: "
                                   f"{key}s are left unchanged")
    result.provided_fields = {_PROVIDED[k] for k in hm.fields if k in _PROVIDED}
    if hm.attributes:
        result.provided_fields.add("attributes")
    if hm.translations:
        result.provided_fields.add("translations")
    if hm.stock or book.stock:
        result.provided_fields.add("stock")

    absent = [ABSENT] * n
    skus = sheet.field("sku") or [None] * n
    parents = sheet.field("parent_sku") or [None] * n
    cols: dict[str, list] = {}
    for key in ("name", "description", "brand", "category", "price", "currency", "cost", "barcode",
                "weight", "hs_code", "active", "images"):
        c = sheet.field(key)
        cols[key] = c if c is not None else absent
    attrs = [(m.name, sheet.convert(m.index, "text")) for m in hm.attributes]
    trans = [(m.locale, m.name, sheet.convert(m.index, "text")) for m in hm.translations]
    inline_stock = [(m.name, sheet.convert(m.index, INTEGER, NEGATIVE_STOCK)) for m in hm.stock]
    sku_col = hm.fields["sku"].index
    sku_header = hm.fields["sku"].header

    # barcodes: digits, length and GS1 check digit
    if "barcode" in hm.fields:
        bidx = hm.fields["barcode"].index
        raw_b = sheet.columns[bidx]
        for i, code in enumerate(cols["barcode"]):
            if code is None:
                continue
            size = len(code)
            if size in _BARCODE_SIZES and code.isdigit() and code.isascii():
                b = code.encode()
                if (_BARCODE_BASE[size] - 3 * sum(b[-2::-2]) - sum(b[-3::-2])) % 10 == b[-1] - 48:
                    continue
            problem = barcode_problem(code, raw_b[i].__class__ is float)
            if problem:
                sheet.add(i, problem, bidx, raw_b[i])

    # pass 1: blank rows, example rows, required SKU/price, duplicates
    converted_all = [skus, parents, *(c for c in cols.values() if c is not absent),
                     *(c for _, c in attrs), *(c for _, _, c in trans), *(c for _, c in inline_stock)]
    skip = [False] * n  # blank or example rows: not data rows
    first_row: dict[str, int] = {}
    keys: list = [None] * n
    prices = cols["price"]
    check_price = "price" in hm.fields
    price_col = hm.fields["price"].index if check_price else None
    for i in range(n):
        sku = skus[i]
        if sku is None:
            if sheet.blank[i] or sheet.row_is_blank(i, converted_all):
                # a blank row is not a data row, unless one of its cells is an error/formula problem
                skip[i] = i not in sheet.issues
                continue
            sheet.add(i, MISSING, sku_col, "")
        elif _is_example(sku):
            skip[i] = True
            sheet.issues.pop(i, None)
            continue
        else:
            f = first_row.setdefault(sku, i)
            if f != i:
                sheet.add(i, f"duplicate SKU (first seen on row {sheet.first_row + f})", sku_col, sku)
        if check_price and prices[i] is None and not any(x.col_index == price_col
                                                        for x in sheet.issues.get(i, ())):
            sheet.add(i, MISSING, price_col, "")
        keys[i] = parents[i] or sku
    # a Parent SKU that is also the SKU of another product
    parent_rows: dict[str, int] = {}
    for i, par in enumerate(parents):
        if par is not None and not skip[i]:
            parent_rows.setdefault(par, i)
    if parent_rows:
        pcol = hm.fields["parent_sku"].index
        plain = {}
        for sku, i in first_row.items():
            if sku in parent_rows and keys[i] != sku:
                plain[sku] = i
        for sku, i in plain.items():
            sheet.add(i, f"SKU '{sku}' is also used as Parent SKU (row {sheet.first_row + parent_rows[sku]})",
                      sku_col, sku)
        if plain:
            for i, par in enumerate(parents):
                if par in plain and not skip[i]:
                    sheet.add(i, f"Parent SKU '{par}' is also the SKU of another product "
                                 f"(row {sheet.first_row + plain[par]})", pcol, par)

    # pass 2: group the good rows; product-level values must agree within a product
    groups: dict[str, list[int]] = {}
    issues = sheet.issues
    for i in range(n):
        if not skip[i] and i not in issues:
            groups.setdefault(keys[i], []).append(i)
    product_cols = [(k, hm.fields[k], cols[k]) for k in _PRODUCT_LEVEL if k in hm.fields]
    product_cols += [(f"{field} ({loc})", m, col) for (loc, field, col), m in zip(trans, hm.translations,
                                                                                  strict=True)]
    group_skip: dict[int, str] = {}
    resolved: dict[str, dict[str, Any]] = {}
    for key, idxs in groups.items():
        values: dict[str, Any] = {}
        if len(idxs) > 1:
            bad_rows: set[int] = set()
            for k, m, col in product_cols:
                ref: int | None = None
                for i in idxs:
                    v = col[i]
                    if v is None or v == []:
                        continue
                    if ref is None:
                        ref = i
                    elif v != col[ref]:
                        sheet.add(i, f"differs from row {sheet.first_row + ref} of Parent SKU '{key}' "
                                     f"('{_shown(col[ref])}'); leave it blank to inherit",
                                  m.index, sheet.columns[m.index][i], skus[i])
                        bad_rows.add(i)
                values[k] = col[ref] if ref is not None else col[idxs[0]]
            if bad_rows:
                idxs[:] = [i for i in idxs if i not in bad_rows]
        else:
            i = idxs[0]
            for k, _m, col in product_cols:
                values[k] = col[i]
        if "name" in hm.fields and values.get("name") is None and idxs:
            first = idxs[0]
            sheet.add(first, MISSING, hm.fields["name"].index, "", skus[first])
            for i in idxs[1:]:
                group_skip[i] = f"product '{key}' has no name (row {sheet.first_row + first})"
            idxs.clear()
        resolved[key] = values

    # pass 3: canonical products
    origin, first = sheet.name, sheet.first_row
    refs: list[SourceRef | None] = [None] * n
    variants_by_sku: dict[str, Variant] = {}
    barcodes, costs, weights, hs_codes = cols["barcode"], cols["cost"], cols["weight"], cols["hs_code"]
    actives, images, currencies = cols["active"], cols["images"], cols["currency"]
    has_images = "images" in hm.fields
    has_cost = "cost" in hm.fields
    attr_names = [name for name, _ in attrs]
    attr_rows = list(zip(*(col for _, col in attrs), strict=True)) if attrs else None
    trans_keys = [(f"{field} ({loc})", loc, field) for loc, field, _ in trans]
    products = result.products
    for key, idxs in groups.items():
        if not idxs:
            continue
        variants = []
        for i in idxs:
            cur = currencies[i] or currency
            p = prices[i]
            c = costs[i]
            act = actives[i]
            ref = refs[i] = SourceRef(origin, first + i)
            if attr_rows is not None:
                vals = attr_rows[i]
                attributes = dict(zip(attr_names, vals, strict=True)) if None not in vals else \
                    {k: x for k, x in zip(attr_names, vals, strict=True) if x is not None}
            else:
                attributes = {}
            v = Variant(
                skus[i], attributes, barcodes[i],
                Money(p, cur) if p is not ABSENT else ABSENT,
                Money(c, cur) if has_cost and c is not None else c,
                weights[i], hs_codes[i], images[i],
                act if act is not None and act is not ABSENT else True,
                ref=ref,
            ) if _POSITIONAL else Variant(
                sku=skus[i], attributes=attributes, barcode=barcodes[i],
                price=Money(p, cur) if p is not ABSENT else ABSENT,
                cost=Money(c, cur) if has_cost and c is not None else c,
                weight=weights[i], hs_code=hs_codes[i], images=images[i],
                active=act if act is not None and act is not ABSENT else True, ref=ref,
            )
            for loc, col in inline_stock:
                q = col[i]
                if q is not None:
                    v.stock[loc] = StockLevel(loc, q)
                    v.stock_known = True
            variants.append(v)
            variants_by_sku[v.sku] = v
        values = resolved[key]
        translations: dict[str, dict[str, str]] = {}
        for vkey, loc, field in trans_keys:
            t = values[vkey]
            if t is not None:
                if loc in translations:
                    translations[loc][field] = t
                else:
                    translations[loc] = {field: t}
        if not has_images:
            product_images: Any = ABSENT
        elif len(variants) == 1:
            product_images = variants[0].images[:]
        else:
            product_images = list(dict.fromkeys(url for v in variants for url in v.images))
        i0 = idxs[0]
        category = values.get("category", ABSENT)
        products.append(Product(
            key=key,
            name=values.get("name", ABSENT),
            description=values.get("description", ABSENT),
            brand=values.get("brand", ABSENT),
            category_path=category if category is not None else [],
            images=product_images,
            active=variants[0].active if len(variants) == 1 else any(v.active for v in variants),
            translations=translations,
            variants=variants,
            ref=refs[i0],
        ))

    sheet.set_skus(skus)
    _row_refs(result, sheet, skus, skip, refs, group_skip)
    for location, raw in book.stock:
        _stock_sheet(result, raw, location, variants_by_sku, first_row, sheet, skus)
    return result


def _row_refs(result: SourceResult, sheet: _Sheet, skus: list, skip: list, refs: list,
              group_skip: dict[int, str]) -> None:
    issues = sheet.issues
    origin, first = sheet.name, sheet.first_row
    out = result.rows
    for i in range(sheet.n):
        if skip[i]:
            continue
        ref = refs[i]
        if ref is not None:
            out.append(RowRef(skus[i], ref))
            continue
        row_issues = issues.get(i)
        if row_issues:
            result.issues.extend(row_issues)
            reason = "; ".join(x.reason if not x.column else f"{x.column}: {x.reason}" for x in row_issues)
        else:
            reason = group_skip.get(i, "skipped")
        out.append(RowRef(skus[i], SourceRef(origin, first + i), reason))


def _stock_sheet(result: SourceResult, raw: RawSheet, location: str, variants: dict[str, Variant],
                 product_rows: dict[str, int], products: _Sheet, product_skus: list) -> None:
    sheet = _Sheet(raw, STOCK_ALIASES, False, result)
    if "quantity" not in sheet.hm.fields:
        raise SourceError(f"sheet '{sheet.name}' has no Quantity column")
    skus = sheet.field("sku") or []
    qtys = sheet.field("quantity") or []
    sku_col = sheet.hm.fields["sku"].index
    qty_col = sheet.hm.fields["quantity"].index
    seen: dict[str, int] = {}
    origin, first = sheet.name, sheet.first_row
    updates: list[tuple[int, Variant, int]] = []
    skipped: dict[int, str] = {}
    skip = [False] * sheet.n
    for i in range(sheet.n):
        sku = skus[i]
        issues = sheet.issues.get(i)
        if sku is None:
            if not issues and (sheet.blank[i] or qtys[i] is None):
                skip[i] = True
                continue
            sheet.add(i, MISSING, sku_col, "")
            continue
        if _is_example(sku):
            skip[i] = True
            continue
        f = seen.setdefault(sku, i)
        if f != i:
            sheet.add(i, f"duplicate SKU (first seen on row {first + f})", sku_col, sku)
            continue
        if qtys[i] is None and not issues:
            sheet.add(i, MISSING, qty_col, "")
            continue
        if sheet.issues.get(i):
            continue
        v = variants.get(sku)
        if v is None:
            if sku in product_rows:
                skipped[i] = f"SKU '{sku}' skipped in sheet '{products.name}' " \
                             f"(row {products.first_row + product_rows[sku]})"
            else:
                sheet.add(i, f"SKU not found in sheet '{products.name}'", sku_col, sku)
            continue
        level = v.stock.get(location)
        if level is not None and level.available != qtys[i]:
            sheet.add(i, f"stock of '{sku}' at '{location}' is also given in sheet '{products.name}' "
                         f"with a different quantity ({level.available})", qty_col,
                      sheet.columns[qty_col][i], sku)
            continue
        updates.append((i, v, qtys[i]))
    for i, v, q in updates:
        v.stock[location] = StockLevel(location, available=q)
        v.stock_known = True
    sheet.set_skus(skus)
    out = result.rows
    issues_all = sheet.issues
    for i in range(sheet.n):
        if skip[i]:
            continue
        row_issues = issues_all.get(i)
        reason = None
        if row_issues:
            result.issues.extend(row_issues)
            reason = "; ".join(f"{x.column}: {x.reason}" if x.column else x.reason for x in row_issues)
        elif i in skipped:
            reason = skipped[i]
        out.append(RowRef(skus[i], SourceRef(origin, first + i), reason))
