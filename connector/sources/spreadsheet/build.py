"""Raw grids -> validated canonical ``Product``s, ``Issue``s and one ``RowRef`` per input row.

Columns are converted whole (one converter per column, see cells.py); rows are then checked and grouped by
Parent SKU (or their own SKU when it is blank) into products, variants in row order.  A row with any error
is skipped; the other rows carry on.  Records are built column-wise (``map`` over whole columns) because
per-row Python code is what dominates the time on 100k rows.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from itertools import compress, islice, repeat
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
    TEXT,
    ColumnSpec,
    HeaderMap,
    header_text,
    match_headers,
)
from .reader import RawBook, RawSheet

MISSING_VALUE = "missing required value"
NEGATIVE_STOCK = "negative stock"
HEADER_SEARCH_ROWS = 10  # the header row is the first of the first 10 rows that has a SKU column

# canonical field names reported in SourceResult.provided_fields, per column key
_PROVIDED = {
    "sku": "sku", "name": "name", "description": "description", "brand": "brand",
    "category": "category_path", "price": "price", "cost": "cost", "barcode": "barcode",
    "weight": "weight", "hs_code": "hs_code", "active": "active", "images": "images",
}
_PRODUCT_LEVEL = ("name", "description", "brand", "category")
_VARIANT_LEVEL = ("price", "currency", "cost", "barcode", "weight", "hs_code", "active", "images")
_EXAMPLE_FIRST = frozenset(p[0] for p in EXAMPLE_PREFIXES) | frozenset(p[0].upper() for p in EXAMPLE_PREFIXES)

# GS1 check digit of an n-digit code from its ASCII bytes: (base - 3*sum(odd) - sum(even)) % 10, where base
# gives back the 48s of the ASCII digits (plus 1000 to stay positive; a multiple of 10 changes nothing).
_BARCODE_SIZES = frozenset({8, 12, 13, 14})
_BARCODE_BASE = {size: 48 * (3 * (size // 2) + (size - 1) // 2) + 1000 for size in _BARCODE_SIZES}


_NEVER = object()


def _construct_all(cls: type, n: int, columns: dict[str, Any]) -> list:
    """``n`` instances of dataclass ``cls`` built column-wise: ``map(cls, *columns)`` in the model's field
    order (positional calls are twice as fast as keywords), defaults filled for fields not given, so a
    field added to the model later does not break this."""
    args: list = []
    last = 0
    for f in fields(cls):
        if not f.init:
            continue
        if f.name in columns:
            args.append(columns[f.name])
            last = len(args)
        elif f.default_factory is not MISSING:
            args.append(iter(f.default_factory, _NEVER))  # a new default (dict, list) per instance
        elif f.default is not MISSING:
            args.append(repeat(f.default))
        else:
            raise TypeError(f"{cls.__name__}.{f.name} has no default")
    return list(islice(map(cls, *args[:last]), n))


def _negative_reason(spec: ColumnSpec) -> str | None:
    if not spec.nonnegative:
        return None
    return NEGATIVE_STOCK if spec.kind == INTEGER else f"negative {spec.labels['en'].split(' (')[0].lower()}"


def _is_example(sku: str) -> bool:
    return sku[0] in _EXAMPLE_FIRST and sku.casefold().startswith(EXAMPLE_PREFIXES)


def _shown(v: Any) -> str:
    return " > ".join(v) if isinstance(v, list) else str(v)


def _empty(v: Any) -> bool:
    return v is None or v == [] or v == ""


class _Sheet:
    """One sheet being validated: its header, its raw columns and the issues of its rows."""

    def __init__(self, raw: RawSheet, aliases: dict[str, ColumnSpec], dynamic: bool,
                 result: SourceResult) -> None:
        self.name = raw.name
        rows = raw.rows
        h, hm = self._find_header(rows, aliases, dynamic)
        for meaning, first, second in hm.duplicates:
            raise SourceError(f"sheet '{self.name}' has two columns for {meaning}: '{first}' and '{second}'")
        for _i, header in hm.unknown:
            result.warnings.append(f"column '{header}' in sheet '{self.name}' is not used")
        self.hm = hm
        self.headers = {i: header_text(v) for i, v in enumerate(rows[h])}
        width = len(rows[h])
        data = rows[h + 1:]
        if raw.problems:  # a formula/error cell beyond calamine's range (its row holds nothing else)
            last = max(r for r, _ in raw.problems)
            while h + 1 + len(data) <= last:
                data.append([""] * width)
        if any(len(r) < width for r in data):
            data = [r if len(r) >= width else [*r, *([""] * (width - len(r)))] for r in data]
        self.data = data
        self.n = len(data)
        self.first_row = h + 2  # 1-based row number of data[0]
        self.columns: list = list(zip(*data, strict=False)) if data else [() for _ in range(width)]
        self.issues: dict[int, list[Issue]] = {}
        self.problems = {(r - h - 1, c): v for (r, c), v in raw.problems.items() if r > h}

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

    def add(self, i: int, reason: str, col: int | None, value: Any = None, sku: str | None = None) -> None:
        column = self.headers.get(col, "") if col is not None else None
        issue = Issue(reason, sheet=self.name, row=self.first_row + i, column=column, value=value, sku=sku,
                      col_index=col)
        self.issues.setdefault(i, []).append(issue)

    def blank_row(self, i: int) -> bool:
        return all(v is None or (v.__class__ is str and not v.strip()) for v in self.data[i])

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

    def row_refs(self, result: SourceResult, skus: list, skip: list[bool] | None,
                 refs: list[SourceRef] | None = None, reasons: dict[int, str] | None = None) -> list:
        """One RowRef per data row (blank and example rows excepted); issues go to ``result``."""
        n = self.n
        if refs is None:
            refs = list(map(SourceRef, repeat(self.name, n), range(self.first_row, self.first_row + n)))
        why: list[str | None] = [None] * n
        for i in sorted(set(self.issues) | set(reasons or ())):
            row_issues = self.issues.get(i)
            if row_issues:
                for x in row_issues:
                    if x.sku is None:
                        x.sku = skus[i]
                result.issues.extend(row_issues)
                why[i] = "; ".join(f"{x.column}: {x.reason}" if x.column else x.reason for x in row_issues)
            else:
                why[i] = (reasons or {})[i]
        rows = list(map(RowRef, skus, refs, why))
        result.rows.extend(compress(rows, (not s for s in skip)) if skip is not None and any(skip) else rows)
        return refs


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
    provided = {_PROVIDED[k] for k in hm.fields if k in _PROVIDED}
    if hm.attributes:
        provided.add("attributes")
    if hm.translations:
        provided.add("translations")
    if hm.stock or book.stock:
        provided.add("stock")
    result.provided_fields = provided

    # --- convert every column by its declared type
    absent = [ABSENT] * n
    skus: list = sheet.field("sku")  # type: ignore[assignment]
    parents = sheet.field("parent_sku") or [None] * n
    cols: dict[str, list] = {}
    for key in (*_PRODUCT_LEVEL, *_VARIANT_LEVEL):
        c = sheet.field(key)
        cols[key] = c if c is not None else absent
    attrs = [(m.name, sheet.convert(m.index, TEXT)) for m in hm.attributes]
    trans = [(m, sheet.convert(m.index, TEXT)) for m in hm.translations]
    inline_stock = [(m.name, sheet.convert(m.index, INTEGER, NEGATIVE_STOCK)) for m in hm.stock]
    sku_col = hm.fields["sku"].index
    if "barcode" in hm.fields:
        _check_barcodes(sheet, cols["barcode"], hm.fields["barcode"].index)

    # --- row checks: blank and example rows, required values, duplicate SKUs
    skip = [False] * n  # blank or example rows: not data rows
    first_row: dict[str, int] = {}  # SKU -> first data row index
    prices = cols["price"]
    price_col = hm.fields["price"].index if "price" in hm.fields else None
    issues = sheet.issues
    for i in range(n):
        sku = skus[i]
        if sku is None:
            if sheet.blank_row(i):
                skip[i] = i not in issues  # a blank row is not a data row, unless a cell is an error
                continue
            sheet.add(i, MISSING_VALUE, sku_col, "")
        elif sku[0] in _EXAMPLE_FIRST and _is_example(sku):
            skip[i] = True
            issues.pop(i, None)
            continue
        elif first_row.setdefault(sku, i) != i:
            sheet.add(i, f"duplicate SKU (first seen on row {sheet.first_row + first_row[sku]})", sku_col, sku)
        if price_col is not None and prices[i] is None and \
                not any(x.col_index == price_col for x in issues.get(i, ())):
            sheet.add(i, MISSING_VALUE, price_col, "")
    keys = [p or s for p, s in zip(parents, skus, strict=True)]
    _check_parent_conflicts(sheet, skus, parents, keys, skip, first_row)

    # --- group the good rows into products; product-level values must agree within a product
    groups: dict[str, list[int]] = {}
    for i in range(n):
        if not skip[i] and i not in issues:
            k = keys[i]
            if k in groups:
                groups[k].append(i)
            else:
                groups[k] = [i]
    level_cols = [(hm.fields[k].index, cols[k]) for k in _PRODUCT_LEVEL if k in hm.fields]
    level_cols += [(m.index, col) for m, col in trans]
    resolved = _resolve_product_values(sheet, groups, level_cols, skus)
    group_skip: dict[int, str] = {}
    if "name" in hm.fields:
        names = cols["name"]
        name_col = hm.fields["name"].index
        for key, idxs in groups.items():
            i0 = idxs[0]
            if names[i0] is None and (key not in resolved or resolved[key].get(name_col) is None):
                sheet.add(i0, MISSING_VALUE, name_col, "", skus[i0])
                for i in idxs[1:]:
                    group_skip[i] = f"product '{key}' has no name (row {sheet.first_row + i0})"
                idxs.clear()

    # --- canonical records, built column-wise
    refs = list(map(SourceRef, repeat(sheet.name, n), range(sheet.first_row, sheet.first_row + n)))
    variants = _build_variants(sheet, cols, skus, attrs, refs, currency)
    for loc, col in inline_stock:
        for v, q in zip(variants, col, strict=True):
            if q is not None:
                v.stock[loc] = StockLevel(loc, q)
                v.stock_known = True
    live = [(k, idxs) for k, idxs in groups.items() if idxs]
    result.products = _build_products(live, resolved, cols, trans, variants, refs, hm)
    variants_by_sku = {variants[i].sku: variants[i] for _, idxs in live for i in idxs}

    sheet.row_refs(result, skus, skip, refs, group_skip)
    for location, raw in book.stock:
        _stock_sheet(result, raw, location, variants_by_sku, first_row, sheet)
    return result


def _check_barcodes(sheet: _Sheet, codes: list, col: int) -> None:
    """Digits only, 8/12/13/14 digits, right GS1 check digit."""
    raw = sheet.columns[col]
    sizes, base = _BARCODE_SIZES, _BARCODE_BASE
    for i, code in enumerate(codes):
        if code is None:
            continue
        size = len(code)
        if size in sizes and code.isdigit() and code.isascii():
            b = code.encode()
            if (base[size] - 3 * sum(b[-2::-2]) - sum(b[-3::-2])) % 10 == b[-1] - 48:
                continue
        problem = barcode_problem(code, raw[i].__class__ is float)
        if problem:
            sheet.add(i, problem, col, raw[i])


def _check_parent_conflicts(sheet: _Sheet, skus: list, parents: list, keys: list, skip: list[bool],
                            first_row: dict[str, int]) -> None:
    """A Parent SKU that is also the (plain) SKU of another product: both sides are reported."""
    parent_rows: dict[str, int] = {}
    for i, par in enumerate(parents):
        if par is not None and not skip[i]:
            parent_rows.setdefault(par, i)
    if not parent_rows:
        return
    plain = {sku: i for sku, i in first_row.items() if sku in parent_rows and parents[i] != sku}
    if not plain:
        return
    sku_col = sheet.hm.fields["sku"].index
    pcol = sheet.hm.fields["parent_sku"].index
    for sku, i in plain.items():
        sheet.add(i, f"SKU '{sku}' is also used as Parent SKU (row {sheet.first_row + parent_rows[sku]})",
                  sku_col, sku)
    for i, par in enumerate(parents):
        if par in plain and not skip[i]:
            sheet.add(i, f"Parent SKU '{par}' is also the SKU of another product "
                         f"(row {sheet.first_row + plain[par]})", pcol, par)


def _resolve_product_values(sheet: _Sheet, groups: dict[str, list[int]], level_cols: list[tuple[int, list]],
                            skus: list) -> dict[str, dict[int, Any]]:
    """For products with several rows: the first non-empty value of each product-level column (blank =
    inherit).  A later row with a different value is an error (the row is removed from its group)."""
    resolved: dict[str, dict[int, Any]] = {}
    for key, idxs in groups.items():
        if len(idxs) < 2:
            continue
        values: dict[int, Any] = {}
        bad: set[int] = set()
        for col_index, col in level_cols:
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
                              col_index, sheet.columns[col_index][i], skus[i])
                    bad.add(i)
            values[col_index] = col[ref] if ref is not None else col[idxs[0]]
        if bad:
            idxs[:] = [i for i in idxs if i not in bad]
        resolved[key] = values
    return resolved


def _build_variants(sheet: _Sheet, cols: dict[str, list], skus: list, attrs: list[tuple[str, list]],
                    refs: list[SourceRef], currency: str) -> list[Variant]:
    """One Variant per data row (rows that end up skipped are simply not used)."""
    hm = sheet.hm
    n = sheet.n
    curs = [c or currency for c in cols["currency"]] if "currency" in hm.fields else repeat(currency, n)
    if "price" in hm.fields:
        prices = [Money(p, c) if p is not None else None
                  for p, c in zip(cols["price"], curs, strict=False)]
    else:
        prices = cols["price"]
    if "cost" in hm.fields:
        curs = [c or currency for c in cols["currency"]] if "currency" in hm.fields else repeat(currency, n)
        costs = [Money(p, c) if p is not None else None for p, c in zip(cols["cost"], curs, strict=False)]
    else:
        costs = cols["cost"]
    actives = cols["active"]
    if "active" in hm.fields:
        actives = [a is not False for a in actives]
    else:
        actives = repeat(True, n)  # type: ignore[assignment]
    if attrs:
        names = [name for name, _ in attrs]
        attributes = [
            dict(zip(names, vals, strict=True)) if None not in vals
            else {k: x for k, x in zip(names, vals, strict=True) if x is not None}
            for vals in zip(*(col for _, col in attrs), strict=True)
        ]
    else:
        attributes = iter(dict, _NEVER)  # type: ignore[assignment]  # a new empty dict per variant
    return _construct_all(Variant, n, {
        "sku": skus, "attributes": attributes, "barcode": cols["barcode"], "price": prices, "cost": costs,
        "weight": cols["weight"], "hs_code": cols["hs_code"], "images": cols["images"], "active": actives,
        "ref": refs,
    })


def _build_products(live: list[tuple[str, list[int]]], resolved: dict[str, dict[int, Any]],
                    cols: dict[str, list], trans: list, variants: list[Variant], refs: list[SourceRef],
                    hm: HeaderMap) -> list[Product]:
    first = [idxs[0] for _, idxs in live]
    pick: dict[str, list] = {}
    for key in _PRODUCT_LEVEL:
        col = cols[key]
        if key not in hm.fields:
            pick[key] = repeat(ABSENT)  # type: ignore[assignment]
            continue
        pick[key] = [col[i] for i in first]
    # products with several rows take their resolved (first non-empty) values
    multi = [(g, resolved[key]) for g, (key, idxs) in enumerate(live) if len(idxs) > 1 and key in resolved]
    for key in _PRODUCT_LEVEL:
        if key in hm.fields:
            ci = hm.fields[key].index
            values = pick[key]
            for g, res in multi:
                values[g] = res[ci]
    if "category" in hm.fields:
        pick["category"] = [c[:] if c is not None else [] for c in pick["category"]]
    translations: list[dict] = [{} for _ in live]
    for m, col in trans:
        loc, fname, ci = m.locale, m.name, m.index
        values = [col[i] for i in first]
        for g, res in multi:
            values[g] = res[ci]
        for t, v in zip(translations, values, strict=True):
            if v is not None:
                if loc in t:
                    t[loc][fname] = v
                else:
                    t[loc] = {fname: v}
    groups_v = [[variants[i] for i in idxs] for _, idxs in live]
    if "images" in hm.fields:
        images = [vs[0].images[:] if len(vs) == 1 else list(dict.fromkeys(u for v in vs for u in v.images))
                  for vs in groups_v]
    else:
        images = repeat(ABSENT)  # type: ignore[assignment]
    active = [vs[0].active if len(vs) == 1 else any(v.active for v in vs) for vs in groups_v]
    return _construct_all(Product, len(live), {
        "key": [k for k, _ in live], "name": pick["name"], "description": pick["description"],
        "brand": pick["brand"], "category_path": pick["category"], "images": images, "active": active,
        "translations": translations, "variants": groups_v, "ref": [refs[i] for i in first],
    })


def _stock_sheet(result: SourceResult, raw: RawSheet, location: str, variants: dict[str, Variant],
                 product_rows: dict[str, int], products: _Sheet) -> None:
    sheet = _Sheet(raw, STOCK_ALIASES, False, result)
    if "quantity" not in sheet.hm.fields:
        raise SourceError(f"sheet '{sheet.name}' has no Quantity column")
    skus: list = sheet.field("sku")  # type: ignore[assignment]
    qtys: list = sheet.field("quantity")  # type: ignore[assignment]
    sku_col = sheet.hm.fields["sku"].index
    qty_col = sheet.hm.fields["quantity"].index
    seen: dict[str, int] = {}
    first = sheet.first_row
    skipped: dict[int, str] = {}
    skip = [False] * sheet.n
    issues = sheet.issues
    targets: list[Variant] = []
    quantities: list[int] = []
    for i in range(sheet.n):
        sku = skus[i]
        if sku is None:
            if i not in issues and (qtys[i] is None or sheet.blank_row(i)):
                skip[i] = True
                continue
            sheet.add(i, MISSING_VALUE, sku_col, "")
            continue
        if sku[0] in _EXAMPLE_FIRST and _is_example(sku):
            skip[i] = True
            issues.pop(i, None)
            continue
        if seen.setdefault(sku, i) != i:
            sheet.add(i, f"duplicate SKU (first seen on row {first + seen[sku]})", sku_col, sku)
            continue
        q = qtys[i]
        if q is None:
            if i not in issues:
                sheet.add(i, MISSING_VALUE, qty_col, "")
            continue
        if i in issues:
            continue
        v = variants.get(sku)
        if v is None:
            if sku in product_rows:
                skipped[i] = (f"SKU '{sku}' skipped in sheet '{products.name}' "
                              f"(row {products.first_row + product_rows[sku]})")
            else:
                sheet.add(i, f"SKU not found in sheet '{products.name}'", sku_col, sku)
            continue
        level = v.stock.get(location)
        if level is not None and level.available != q:
            sheet.add(i, f"stock of '{sku}' at '{location}' is also given in sheet '{products.name}' with a "
                         f"different quantity ({level.available})", qty_col, sheet.columns[qty_col][i], sku)
            continue
        targets.append(v)
        quantities.append(q)
    for v, level in zip(targets, map(StockLevel, repeat(location), quantities), strict=True):
        v.stock[location] = level
        v.stock_known = True
    sheet.row_refs(result, skus, skip, None, skipped)
