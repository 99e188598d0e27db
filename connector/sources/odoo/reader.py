"""Odoo products, variants and stock -> canonical ``Product``s (design §7).

Reading is O(pages): per page of ``page_size`` variants, one ``search_read`` of the variants with their
template fields, then, sent together (``parallel_calls``), one of their attribute values, one of their
templates per configured language (and one in en_US when the user's language is another: ``_languages``), the
stock (16, 18, 19: one quant and one open-move read for every target together; other versions: one context
read per target, ``stock.py``) and one for image presence.  Before the pages: version, login, user context,
``fields_get``, languages, warehouses and (16, 18, 19) the location tree.
Nothing is read record by record; docs/odoo.md gives the count.

Product key (``Product.key``, the marketplace's parent key): the variant's SKU when the template has exactly
one variant (archived ones included) without attribute values, i.e. what Odoo shows as the template's
Internal Reference; otherwise ``tmpl-<template id>``, which never changes when SKUs are edited.  Adding
variants to a simple product therefore changes its key (documented in docs/odoo.md).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from connector.errors import SourceError
from connector.http.paging import Paging, iter_pages
from connector.model import ABSENT, STOCK_KINDS, Money, Product, SourceRef, Variant
from connector.sources.base import Issue, RowRef, SourceResult
from connector.sources.checks import withhold_invalid_barcodes
from connector.sources.odoo.backend import OdooBackend, open_backend, run_reads
from connector.sources.odoo.catalogue_index import INDEX_NAME, CatalogueIndex, domain_key
from connector.sources.odoo.kits import UNTRACKED_KIT
from connector.sources.odoo.settings import OdooSettings
from connector.sources.odoo.stock import (
    GROUPED_VERSIONS,
    QTY_FIELDS,
    GroupedStock,
    StockTarget,
    read_quantities,
    resolve_stock,
    to_level,
)

PRODUCT = "product.product"
TEMPLATE = "product.template"
CURSOR_NAME = "products"
ODOO_DT = "%Y-%m-%d %H:%M:%S"

_BASE_FIELDS = ["id", "default_code", "barcode", "name", "description_sale", "product_tmpl_id", "lst_price",
                "standard_price", "weight", "categ_id", "product_template_attribute_value_ids", "active", "type",
                "currency_id", "write_date"]
_TRANSLATED = {"name": "name", "description_sale": "description"}
ENGLISH = "en_US"  # what Odoo 16+ answers for a language with no translation written


@dataclass(slots=True)
class Capabilities:
    """What this server's ``product.product`` offers, from ``fields_get`` (not from the version string)."""

    has_stock: bool
    has_storable: bool  # 18+: type 'consu' + is_storable
    has_hs_code: bool
    price_digits: int = 2
    weight_digits: int = 2
    fields: dict[str, Any] = field(default_factory=dict)


def _digits(meta: dict[str, Any], default: int) -> int:
    d = meta.get("digits")
    if isinstance(d, list | tuple) and len(d) == 2 and isinstance(d[1], int):
        return d[1]
    return default


def capabilities(fields_meta: dict[str, dict[str, Any]]) -> Capabilities:
    return Capabilities(
        has_stock="qty_available" in fields_meta and "free_qty" in fields_meta,
        has_storable="is_storable" in fields_meta,
        has_hs_code="hs_code" in fields_meta,
        price_digits=_digits(fields_meta.get("lst_price", {}), 2),
        weight_digits=_digits(fields_meta.get("weight", {}), 2),
        fields=fields_meta,
    )


_KIT_COUNTED = "connector_kit_counted"  # a consumable kit's stock read (True: Odoo counts it; False: it does not)


def product_kind(row: dict[str, Any], has_storable: bool) -> str:
    """16/17: type product|consu|service.  18/19: type consu (+ is_storable)|service|combo; a consumable kit
    whose stock Odoo counts (a storable component: ``kits.py``) is stocked once its stock was read."""
    t = row.get("type")
    if t == "service":
        return "service"
    if t == "combo":
        return "combo"
    if t == "product":
        return "stocked"
    if has_storable and (row.get("is_storable") or row.get(_KIT_COUNTED)):
        return "stocked"
    return "consumable"


def _consumable_kits(page: list[dict[str, Any]], caps: Capabilities) -> list[dict[str, Any]]:
    """A page's consumable kits (18+, read with ``is_kits``): their stock is read when Odoo counts it."""
    if not caps.has_storable:  # 16/17: the storable test (``kits.py``) needs is_storable and ``any``
        return []
    return [r for r in page if r.get("is_kits") and product_kind(r, True) == "consumable"]


def _m2o(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, list | tuple) and len(value) >= 2:
        return value[0], value[1]
    return None, None


_TYPED_CODE = "connector_typed_default_code"  # a read row's default_code as Odoo holds it, when it had spaces around


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _decimal(value: Any, digits: int) -> Decimal:
    return Decimal(repr(float(value or 0))).quantize(Decimal(1).scaleb(-digits))


_LABELS = {"name": "name", "description_sale": "sales description"}  # the translated fields, as Odoo's form says


def _untranslated(key: str, odoo_field: str, lang: str, default_lang: str, sent: dict[str, str],
                  same_as: str | None = None) -> str:
    """What a missing translation does: which language, which field, and what goes in its place (``sent``: the
    product's other texts that are sent in ``lang``).  ``same_as``: the language whose text it equals (the user's,
    ``default_lang``, unless said; en_US when the user's language is another one)."""
    label = _LABELS[odoo_field]
    said = (f"product {key!r}: its {lang} {label} reads the same as its {same_as or default_lang} one, as Odoo "
            f"answers (with the en_US text) where no {lang} translation was written: taken as missing, it is not "
            f"sent as {lang}")
    if same_as not in (None, default_lang):  # a text made in ``lang`` is copied to en_US too: say how to send it
        said += f" (if it is the real {lang} one, give the product its own {same_as} {label} in Odoo)"
    if not sent:
        return f"{said}; the product has no other {lang} text, so nothing of it is sent in {lang}"
    others = " and ".join(_LABELS[f] for f, canon in _TRANSLATED.items() if canon in sent)
    return (f"{said}; its {lang} {others} is sent, and with it the default mappings send its {default_lang} {label} "
            f"as the {lang} one (Elryan)")


def parse_cursor(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def format_cursor(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class OdooSource:
    """Reads one Odoo database.  ``backend`` defaults to odoorpc (or JSON-2 when ``settings.backend='json2'``)."""

    def __init__(self, settings: OdooSettings, backend: OdooBackend | None = None, *, connected: bool = False) -> None:
        self.has_kits = False  # mrp installed (``read``): kits are re-read when their components change
        self.settings = settings
        self._backend = backend
        self._connected = connected  # ``backend`` is logged in already (shared with the orders step of a sync)
        self.backend: OdooBackend | None = backend
        self.next_cursor: str | None = None  # what a successful run would store (see commit_cursor)
        self.next_index: CatalogueIndex | None = None  # stored with the cursor (catalogue_index.py)
        self.changed_template_ids: list[int] | None = None  # incremental runs: the templates re-read
        self.stock_targets: list[StockTarget] = []  # the last read's warehouses / locations
        self.grouped_stock: GroupedStock | None = None  # 16/18/19: every target's stock from two reads per page

    # -- connection -----------------------------------------------------------------------------------------
    def _connect(self) -> OdooBackend:
        backend = self._backend
        if backend is None:
            backend = open_backend(self.settings)
        elif self._connected:
            self._connected = False  # once: a second read() logs in again, as before
        else:
            backend.open()
        self.backend = backend
        return backend

    def pending_cursors(self) -> dict[tuple[str, str], str]:
        """The cursors the last read would store: ``{(source, name): value}`` (see ``SourceResult.cursors``)."""
        out: dict[tuple[str, str], str] = {}
        if self.next_cursor is not None:
            out[(self.settings.cursor_source, CURSOR_NAME)] = self.next_cursor
            if self.next_index is not None:
                out[(self.settings.cursor_source, INDEX_NAME)] = self.next_index.encode()
        return out

    def recheck(self, skus: set[str]) -> None:
        """Read the variants of ``skus`` again on the next incremental run (``SourceResult.recheck``)."""
        if self.next_index is not None:
            self.next_index.recheck(skus)

    def commit_cursor(self, state: Any) -> None:
        """Store the cursor of the last read; call it once the changes were pushed and confirmed."""
        for (src, name), value in self.pending_cursors().items():
            state.set_cursor(src, name, value)

    # -- main entry ------------------------------------------------------------------------------------------
    def read(self, state: Any = None, full: bool = True, commit_cursor: bool = True) -> SourceResult:
        """Read products.  ``full=False`` reads only what changed since the cursor stored in ``state`` (a full
        read when there is none).  The new cursor is the server's clock at the start of this run; it is stored
        in ``state`` when ``commit_cursor`` (pass False and call ``commit_cursor(state)`` after the push to
        never lose changes when a push fails)."""
        s = self.settings
        backend = self._connect()
        started = backend.first_response_date or datetime.now(UTC)
        caps = capabilities(backend.fields_get(PRODUCT, ["type", "digits"]))
        self.has_kits = "is_kits" in caps.fields  # mrp: a kit's stock changes with its components' (changes_domain)
        wants_stock = s.read_stock
        if wants_stock and not caps.has_stock:
            raise SourceError(
                f"the Odoo module 'stock' (Inventory) is not installed on database {s.db!r}: no quantities can be "
                f"read; install it, or set 'read_stock: false' in the odoo settings to read the catalogue only")
        default_lang = str(backend.user_context.get("lang") or "en_US")
        ctx: dict[str, Any] = {"lang": default_lang, "active_test": False}
        if backend.user_context.get("tz"):
            ctx["tz"] = backend.user_context["tz"]
        if s.company is not None:
            ctx["allowed_company_ids"] = [self._company_id(backend, ctx)]
        languages, english = self._languages(backend, default_lang, ctx)
        # the en_US texts, to tell a missing translation from a real one, read only when no language read has them
        reads = [*languages, ENGLISH] if english and ENGLISH not in languages else languages
        targets: list[StockTarget] = []
        self.grouped_stock = None
        if wants_stock:
            grouped = (backend.version()[0] in GROUPED_VERSIONS
                       and {"stock_quant_ids", "stock_move_ids"} <= set(caps.fields))
            targets, self.grouped_stock = resolve_stock(backend, s.warehouses, s.locations, ctx, grouped=grouped)
            if self.grouped_stock is not None:
                self.grouped_stock.run = self._run
        self.stock_targets = targets

        domain: list[Any] = list(s.domain)
        cursor = state.get_cursor(s.cursor_source, CURSOR_NAME) if (state is not None and not full) else None
        index = CatalogueIndex.decode(state.get_cursor(s.cursor_source, INDEX_NAME)) if cursor else None
        if index is None or index.domain != domain_key(s.domain):
            cursor, index = None, None  # no (or another domain's) index: duplicates need a full read
        result = SourceResult()
        extra: dict[int, dict[str, Any]] = defaultdict(dict)
        known: dict[str, list[tuple[int, bool]]] = {}
        if cursor and index is not None:
            rows, known = self._read_changes(backend, caps, parse_cursor(cursor), index, ctx, reads, targets,
                                             extra)
        else:
            rows = self._read_pages(backend, caps, domain, ctx, reads, targets, extra)
        self._build(rows, extra, caps, languages, targets, (default_lang, english), result, known)
        withhold_invalid_barcodes(result.products, result.issues, PRODUCT)
        self._warn_private_images(caps, result)
        self.next_index = index or CatalogueIndex(domain_key(s.domain))
        self.next_index.update(rows, full=index is None)
        self.next_index.skipped_ids = {int(row.ref.ident) for row in result.rows
                                       if row.skipped_reason and row.ref.origin == PRODUCT and row.ref.ident}
        result.provided_fields = {"sku", "name", "description", "category_path", "price", "cost", "barcode",
                                  "weight", "active", "attributes", "translations", "kind"}
        if caps.has_hs_code:
            result.provided_fields.add("hs_code")
        if s.image_base_url:
            result.provided_fields.add("images")
        if targets:
            result.provided_fields.add("stock")
        self.next_cursor = format_cursor(started)
        result.full_read = not cursor  # issue 12: only a full read says that a product left Odoo
        if state is not None and commit_cursor:
            self.commit_cursor(state)
        return result

    # -- setup calls -----------------------------------------------------------------------------------------
    def _company_id(self, backend: OdooBackend, ctx: dict[str, Any]) -> int:
        c = self.settings.company
        dom = [("id", "=", c)] if isinstance(c, int) else [("name", "=", c)]
        rows = backend.search_read("res.company", dom, ["id", "name"], context={**ctx, "active_test": True})
        if not rows:
            raise SourceError(f"odoo setting 'company': no company {c!r} visible to user {self.settings.user!r}")
        return int(rows[0]["id"])

    def _languages(self, backend: OdooBackend, default_lang: str, ctx: dict[str, Any]) -> tuple[list[str], bool]:
        """The languages to read besides the user's, and whether a text that reads as the en_US one is a missing
        translation too: when the user's language is another one and en_US is active (while it is not, Odoo
        writes every language's text over the en_US one, which is then no sign of a missing translation)."""
        wanted = [lang for lang in self.settings.languages if lang != default_lang]
        if not wanted:
            return [], False
        codes = wanted if default_lang == ENGLISH or ENGLISH in wanted else [*wanted, ENGLISH]
        rows = backend.search_read("res.lang", [("code", "in", codes)], ["code", "active"],
                                   context={**ctx, "active_test": False})
        active = {r["code"] for r in rows if r.get("active")}
        missing = [lang for lang in wanted if lang not in active]
        if missing:
            raise SourceError(f"odoo setting 'languages': {', '.join(missing)} not active in Odoo database "
                              f"{self.settings.db!r} (activate it under Settings > Languages, or remove it)")
        return wanted, default_lang != ENGLISH and ENGLISH in active

    def _changed_templates(self, backend: OdooBackend, since: datetime, ctx: dict[str, Any]) -> list[int]:
        """Templates with a variant or template edit, a stock move or a quant change since the cursor.

        One call.  Stock changes do not touch product write_date (design §7): quants change (on hand,
        reservations) and moves are written (done, confirmed incoming); archivals bump write_date and are
        visible with active_test=False.  The overlap window covers write_date being the transaction start.
        """
        dom = self.changes_domain(since - timedelta(seconds=self.settings.overlap_seconds))
        rows = backend.search_read(PRODUCT, dom, ["product_tmpl_id"], context=ctx)
        return sorted({t for t in (_m2o(r["product_tmpl_id"])[0] for r in rows) if t})

    def changes_domain(self, since: datetime) -> list[Any]:
        """The ``product.product`` domain of variants changed at or after ``since`` (what an incremental read
        re-reads, and what ``connector watch`` asks about with one call)."""
        value = since.astimezone(UTC).strftime(ODOO_DT)
        # attribute price extras and value names, and category names, live on other models (design §7)
        dom: list[Any] = ["|", "|", "|", "|", ("write_date", ">=", value), ("product_tmpl_id.write_date", ">=", value),
                          ("product_template_attribute_value_ids.write_date", ">=", value),
                          ("product_template_attribute_value_ids.product_attribute_value_id.write_date", ">=", value),
                          ("categ_id.write_date", ">=", value)]
        if self.settings.read_stock:
            dom = ["|", "|", *dom, ("stock_move_ids.write_date", ">=", value),
                   ("stock_quant_ids.write_date", ">=", value)]
            if self.has_kits:  # a kit has no moves or quants: its components' (a kit of a kit's
                # too) change its stock, and so does an edit of its bill of materials
                parts = "product_tmpl_id.bom_ids.bom_line_ids.product_id"
                kit = [("product_tmpl_id.bom_ids.write_date", ">=", value)]
                for path in (parts, f"{parts}.{parts}"):
                    kit += [(f"{path}.stock_move_ids.write_date", ">=", value),
                            (f"{path}.stock_quant_ids.write_date", ">=", value)]
                dom = ["|"] * len(kit) + dom + kit
        return [*self.settings.domain, *dom]

    def _read_changes(self, backend: OdooBackend, caps: Capabilities, since: datetime, index: CatalogueIndex,
                      ctx: dict[str, Any], languages: list[str], targets: list[StockTarget],
                      extra: dict[int, dict[str, Any]]
                      ) -> tuple[list[dict[str, Any]], dict[str, list[tuple[int, bool]]]]:
        """An incremental read: the changed templates, whole, plus the variants skipped last time (alone, so
        they are reported again) and those a target skipped (``CatalogueIndex.recheck_ids``: with their
        template, below, as they are valid).  A skipped variant that became valid without being edited itself (the other
        holder of its SKU changed) has its whole template read, so a product is never sent in part.

        Returns the rows and the index's other variants by SKU (``CatalogueIndex.others``), computed once: it
        walks the whole index."""
        s = self.settings
        tmpl_ids = self._changed_templates(backend, since, ctx)
        self.changed_template_ids = tmpl_ids
        skipped = sorted(index.skipped_ids | index.recheck_ids)
        if not tmpl_ids and not skipped:
            return [], {}
        which: list[Any] = [("product_tmpl_id", "in", tmpl_ids)]
        if skipped:
            which = ["|", *which, ("id", "in", skipped)]
        rows = self._read_pages(backend, caps, [*s.domain, *which], ctx, languages, targets, extra)
        known = index.others(r["id"] for r in rows)
        changed = set(tmpl_ids)
        partial = [r for r in rows if _m2o(r["product_tmpl_id"])[0] not in changed]
        if partial:
            partial_skus = {r["default_code"] for r in partial if _text(r.get("default_code"))}
            dups = self._duplicates([r for r in rows if r.get("default_code") in partial_skus], known,
                                    SourceResult())
            fixed = sorted({_m2o(r["product_tmpl_id"])[0] for r in partial
                            if _text(r.get("default_code")) and r["id"] not in dups} - {None})
            if fixed:
                more = self._read_pages(backend, caps, [*s.domain, ("product_tmpl_id", "in", fixed),
                                                        ("id", "not in", [r["id"] for r in rows])],
                                        ctx, languages, targets, extra)
                rows += more
                for r in more:  # now read: no longer one of the others
                    old = index.skus.get(r["id"])
                    if old is not None and old[0] in known:
                        known[old[0]] = [g for g in known[old[0]] if g[0] != r["id"]]
        return rows, known

    # -- pages -----------------------------------------------------------------------------------------------
    def _read_pages(self, backend: OdooBackend, caps: Capabilities, domain: list[Any], ctx: dict[str, Any],
                    languages: list[str], targets: list[StockTarget],
                    extra: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
        s = self.settings
        fields = list(_BASE_FIELDS)
        if caps.has_storable:
            fields.append("is_storable")
        if caps.has_hs_code:
            fields.append("hs_code")
        if s.image_base_url and "is_published" in caps.fields:  # website_sale: only published images are public
            fields.append("is_published")
        if targets and self.grouped_stock is not None:
            fields.append("uom_id")  # the grouped stock rounds to it
            if self.has_kits:  # mrp: a kit's stock is its components' (GroupedStock._read_kits)
                fields.append("is_kits")
        elif targets:
            fields += ["qty_available", "free_qty"]  # company-wide totals, to spot stock outside the targets
        # Keyset paging (``id > last id``, ordered by id) read through the shared helper: the cursor is the last
        # id of a page, so the RPC calls are the ones the cassettes hold, and a server that ignores the domain
        # (the same page again) is an error instead of an endless loop.  Ids only grow: no page cap is needed.
        paging = Paging("cursor", items="rows", next_cursor="last_id", size=s.page_size, short_page_ends=True,
                        max_pages=sys.maxsize, source=f"Odoo at {s.url}", what=PRODUCT, error=SourceError)

        def fetch(params: dict[str, Any]) -> dict[str, Any]:
            page = backend.search_read(PRODUCT, [*domain, ("id", ">", params.get("cursor", 0))], fields,
                                       limit=params["limit"], order="id", context=ctx)
            for r in page:  # a SKU is read without the spaces around it, as the workbook reads one
                code = r.get("default_code")
                if isinstance(code, str) and code != code.strip():
                    r["default_code"], r[_TYPED_CODE] = code.strip() or False, code
            return {"rows": page, "last_id": page[-1]["id"] if page else None}

        rows: list[dict[str, Any]] = []
        for page in iter_pages(paging, fetch):
            if page.items:
                rows.extend(page.items)
                self._page_details(backend, caps, page.items, ctx, languages, targets, extra)
        return rows

    def _page_details(self, backend: OdooBackend, caps: Capabilities, page: list[dict[str, Any]],
                      ctx: dict[str, Any], languages: list[str], targets: list[StockTarget],
                      extra: dict[int, dict[str, Any]]) -> None:
        """Everything a page needs besides its variants: independent reads, sent together (``_run``)."""
        ids = [r["id"] for r in page]
        ptav_ids = sorted({i for r in page for i in r.get("product_template_attribute_value_ids") or []})
        tmpl_ids = sorted({_m2o(r["product_tmpl_id"])[0] for r in page} - {None})
        stocked = [r for r in page if product_kind(r, caps.has_storable) in STOCK_KINDS]
        grouped = self.grouped_stock
        kits = _consumable_kits(page, caps) if targets and grouped is not None else []
        tasks: dict[str, Callable[[], Any]] = {}
        if ptav_ids:
            tasks["attributes"] = partial(backend.search_read, "product.template.attribute.value",
                                          [("id", "in", ptav_ids)], ["id", "attribute_id", "name"], context=ctx)
        for lang in languages:  # template fields: read once per template, not once per variant
            tasks[f"lang {lang}"] = partial(backend.search_read, TEMPLATE, [("id", "in", tmpl_ids)],
                                            ["id", *_TRANSLATED], context={**ctx, "lang": lang})
        if targets and (stocked or kits) and grouped is not None:
            tasks["stock"] = partial(grouped.read, backend, stocked, ctx, [r["id"] for r in kits])
        elif targets and stocked:
            for t in targets:
                tasks[f"stock {t.name}"] = partial(read_quantities, backend, [r["id"] for r in stocked], [t], ctx)
        if self.settings.image_base_url:
            tasks["images"] = partial(
                backend.search_read, "ir.attachment",
                ["|", "&", ("res_model", "=", TEMPLATE), ("res_id", "in", tmpl_ids),
                 "&", ("res_model", "=", PRODUCT), ("res_id", "in", ids),
                 ("res_field", "in", ["image_1920", "image_variant_1920"])],
                ["res_model", "res_id", "res_field"], context=ctx)
        done = self._run(tasks)

        if "attributes" in done:
            names = {p["id"]: (_m2o(p["attribute_id"])[1] or "", p["name"]) for p in done["attributes"]}
            for r in page:
                extra[r["id"]]["attributes"] = [names[i] for i in r.get("product_template_attribute_value_ids")
                                                or [] if i in names]
        for lang in languages:
            by_tmpl = {t["id"]: t for t in done[f"lang {lang}"]}
            for r in page:
                t = by_tmpl.get(_m2o(r["product_tmpl_id"])[0])
                if t is not None:
                    extra[r["id"]].setdefault("lang", {})[lang] = t
        per_target: dict[str, dict[int, dict[str, Any]]] = {}
        if "stock" in done:
            per_target, company = done["stock"]
            for r in kits:  # counted by Odoo: in every answer of the kits' reads (GroupedStock._read_kits)
                r[_KIT_COUNTED] = r["id"] in company
            for r in stocked + [r for r in kits if r[_KIT_COUNTED]]:
                extra[r["id"]]["company_on_hand"] = company.get(r["id"], 0.0)
        for key, value in done.items():
            if key.startswith("stock "):
                per_target.update(value)
        for name, by_id in per_target.items():
            for pid, q in by_id.items():
                extra[pid].setdefault("stock", {})[name] = q
        if "images" in done:
            with_image = {(a["res_model"], a["res_id"]) for a in done["images"]}
            for r in page:
                tid = _m2o(r["product_tmpl_id"])[0]
                extra[r["id"]]["tmpl_image"] = (TEMPLATE, tid) in with_image
                extra[r["id"]]["image"] = (PRODUCT, r["id"]) in with_image or (TEMPLATE, tid) in with_image
            if self.settings.include_image_bytes:
                with_bytes = [r["id"] for r in page if extra[r["id"]]["image"]]
                if with_bytes:
                    for b in backend.search_read(PRODUCT, [("id", "in", with_bytes)], ["image_1920"], context=ctx):
                        extra[b["id"]]["image_bytes"] = b.get("image_1920") or None

    def _run(self, tasks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
        """The page's independent reads, up to ``parallel_calls`` at a time (``run_reads``)."""
        return run_reads(tasks, self.settings.parallel_calls)

    # -- building canonical records --------------------------------------------------------------------------
    def _build(self, rows: list[dict[str, Any]], extra: dict[int, dict[str, Any]], caps: Capabilities,
               languages: list[str], targets: list[StockTarget], user_lang: tuple[str, bool], result: SourceResult,
               known: dict[str, list[tuple[int, bool]]] | None = None) -> None:
        """``known``: SKU -> (id, active) of variants not read this time (an incremental read), so duplicates
        are decided against the whole catalogue, as a full read would."""
        s = self.settings
        base_url = s.image_base_url.rstrip("/") if s.image_base_url else None
        dup_skip = self._duplicates(rows, known or {}, result)

        templates: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            templates[_m2o(r["product_tmpl_id"])[0] or 0].append(r)

        for tmpl_id, variants in templates.items():
            variants.sort(key=lambda r: r["id"])
            first = variants[0]
            kind = product_kind(first, caps.has_storable)
            has_attrs = any(extra[r["id"]].get("attributes") for r in variants)
            single = len(variants) == 1 and not has_attrs and _text(first.get("default_code"))
            key = first["default_code"] if single else f"tmpl-{tmpl_id}"
            name = _text(first.get("name"))
            product = Product(
                key=key, name=name if name is not None else "", description=_text(first.get("description_sale")),
                category_path=[p.strip() for p in (_m2o(first.get("categ_id"))[1] or "").split(" / ") if p.strip()],
                active=any(r.get("active") for r in variants), kind=kind,
                ref=SourceRef(TEMPLATE, ident=str(tmpl_id)),
                extra={"odoo_template_id": tmpl_id, "odoo_type": first.get("type"),
                       **({"odoo_published": bool(first["is_published"])} if "is_published" in first else {})},
            )
            if first.get(_KIT_COUNTED) is False:  # what its rows say (untracked.py)
                product.extra["untracked_as"] = UNTRACKED_KIT
            if base_url:
                product.images = ([f"{base_url}/web/image/{TEMPLATE}/{tmpl_id}/image_1920"]
                                  if extra[first["id"]].get("tmpl_image") else [])
            self._translations(product, first, extra[first["id"]].get("lang", {}), languages, user_lang, result)
            stock_raw: dict[str, dict[str, Any]] = {}
            image_bytes: dict[str, Any] = {}
            for r in variants:
                sku = _text(r.get("default_code"))
                vref = SourceRef(PRODUCT, ident=str(r["id"]))
                if sku is None:
                    reason = (f"product.product id {r['id']} ({r.get('name')!s}) has no Internal Reference "
                              f"(default_code): skipped")
                    result.issues.append(Issue(reason, sheet=PRODUCT, value=r["id"], severity="error"))
                    result.rows.append(RowRef(None, vref, reason))
                    continue
                if _TYPED_CODE in r:  # on a marketplace, and in its orders, the SKU would be another text
                    result.issues.append(Issue(
                        f"product.product id {r['id']}: Internal Reference {r[_TYPED_CODE]!r} has spaces around it: "
                        f"read as {sku!r}, as its orders are matched; remove them in Odoo (another program may not)",
                        sheet=PRODUCT, value=r[_TYPED_CODE], sku=sku, severity="warning"))
                if r["id"] in dup_skip:
                    result.rows.append(RowRef(sku, vref, dup_skip[r["id"]]))
                    continue
                v = self._variant(r, sku, vref, extra[r["id"]], caps, product_kind(r, caps.has_storable), targets,
                                  base_url, result)
                product.variants.append(v)
                result.rows.append(RowRef(sku, vref))
                if extra[r["id"]].get("stock"):
                    stock_raw[sku] = extra[r["id"]]["stock"]
                if extra[r["id"]].get("image_bytes"):
                    image_bytes[sku] = extra[r["id"]]["image_bytes"]
            if stock_raw:  # all five Odoo quantities (virtual_available, outgoing_qty...) for the stock policy
                product.extra["stock_raw"] = stock_raw
            if image_bytes:
                product.extra["image_bytes"] = image_bytes
            if product.variants:
                result.products.append(product)

    @staticmethod
    def _duplicates(rows: list[dict[str, Any]], known: dict[str, list[tuple[int, bool]]],
                    result: SourceResult) -> dict[int, str]:
        """product.product id -> why it is skipped, for every read variant whose SKU another variant holds."""
        by_sku: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        for r in rows:
            if _text(r.get("default_code")):
                by_sku[r["default_code"]].append((r["id"], bool(r.get("active"))))
        dup_skip: dict[int, str] = {}
        for sku, read in by_sku.items():
            group = sorted(read + known.get(sku, []))
            if len(group) < 2:
                continue
            read_ids = {pid for pid, _ in read}
            active = [pid for pid, is_active in group if is_active]
            ids = ", ".join(str(pid) for pid, _ in group)
            if len(active) == 1:  # an archived old product sharing the SKU of its replacement: keep the live one
                for pid in sorted(read_ids - set(active)):
                    dup_skip[pid] = f"duplicate SKU {sku!r} (product.product ids {ids}): archived copy ignored"
                    result.issues.append(Issue(dup_skip[pid], sheet=PRODUCT, value=sku, sku=sku, severity="warning"))
            else:
                for pid in sorted(read_ids):
                    dup_skip[pid] = f"duplicate SKU {sku!r} shared by product.product ids {ids}: skipped"
                result.issues.append(Issue(f"duplicate SKU {sku!r} shared by product.product ids {ids}: "
                                           f"all skipped (Odoo does not enforce unique Internal References)",
                                           sheet=PRODUCT, value=sku, sku=sku))
        return dup_skip

    @staticmethod
    def _negative_stock(v: Variant, targets: list[StockTarget], result: SourceResult) -> None:
        """Rule (docs/odoo.md): a negative quantity is sent as it is, so it is netted against the other
        warehouses' stock, as Odoo's own company-wide totals do; only the listed total is floored at 0."""
        negative = [t for t in targets if (v.stock[t.name].on_hand or 0) < 0]
        if not negative:
            return
        parts = ", ".join(f"{t.name} {v.stock[t.name].available or 0:+d}" for t in targets)
        net = sum(v.stock[t.name].available or 0 for t in targets)
        kind = "warehouses" if any(t.kind == "warehouse" for t in targets) else "locations"
        for t in negative:
            on_hand = v.stock[t.name].on_hand
            result.issues.append(Issue(
                f"negative stock for {v.sku} in {t.name}: on hand {on_hand}; it is netted against the other "
                f"{kind} (available: {parts}; {net} in all), so {max(0, net)} is listed when the stock policy "
                f"counts all of them (never less than 0)", sheet=PRODUCT, value=on_hand, sku=v.sku,
                severity="warning"))

    def _warn_private_images(self, caps: Capabilities, result: SourceResult) -> None:
        """``/web/image`` serves a product's picture only to whoever may read the product: anyone else (a
        marketplace fetching the URL) gets Odoo's placeholder with HTTP 200.  Said once per run, not per variant."""
        if not self.settings.image_base_url:
            return
        with_images = [p for p in result.products
                       if (isinstance(p.images, list) and p.images)
                       or any(isinstance(v.images, list) and v.images for v in p.variants)]
        website = "is_published" in caps.fields
        private = [p for p in with_images if not (website and p.extra.get("odoo_published"))]
        if not private:
            return
        first = private[0]
        url = (first.images or next(v.images for v in first.variants if isinstance(v.images, list) and v.images))[0]
        why = ("not published on the website" if website else
               "the website shop (website_sale) is not installed, so no product image is public")
        result.warnings.append(
            f"{len(private)} product(s) with images, e.g. {first.key!r}: Odoo answers their image URLs (such as "
            f"{url}) with its placeholder picture to anyone not logged in, marketplaces included ({why}); publish "
            f"them, or point the odoo setting 'image_base_url' at a public copy of the images")

    def _translations(self, product: Product, first: dict[str, Any], by_lang: dict[str, dict[str, Any]],
                      languages: list[str], user_lang: tuple[str, bool], result: SourceResult) -> None:
        """``user_lang``: the user's language, and whether a text reading as the en_US one is missing too."""
        default_lang, english = user_lang
        en = by_lang.get(ENGLISH, {}) if english else {}
        for lang in languages:
            t = by_lang.get(lang)
            if t is None:
                continue
            out: dict[str, str] = {}
            missing: list[tuple[str, str, str]] = []  # (Odoo field, its text, the language it reads the same as)
            for odoo_field, canon in _TRANSLATED.items():
                src, val = _text(first.get(odoo_field)), _text(t.get(odoo_field))
                if src is None or val is None:
                    continue
                # Odoo answers the en_US text where a translation was never written: the user's text when the
                # user's language is en_US (or when the product has no en_US text of its own), else the en_US one
                if val == src:
                    missing.append((odoo_field, val, default_lang))
                elif lang != ENGLISH and val == _text(en.get(odoo_field)):
                    missing.append((odoo_field, val, ENGLISH))
                else:
                    out[canon] = val
            if out:
                product.translations[lang] = out
            for odoo_field, val, same_as in missing:
                result.issues.append(Issue(_untranslated(product.key, odoo_field, lang, default_lang, out, same_as),
                                           sheet=TEMPLATE, column=odoo_field, value=val, severity="warning"))

    def _variant(self, r: dict[str, Any], sku: str, vref: SourceRef, ex: dict[str, Any], caps: Capabilities,
                 kind: str, targets: list[StockTarget], base_url: str | None, result: SourceResult) -> Variant:
        currency = _m2o(r.get("currency_id"))[1] or ""
        weight = float(r.get("weight") or 0)
        v = Variant(
            sku=sku,
            attributes=dict(ex.get("attributes", [])),
            barcode=_text(r.get("barcode")),
            price=Money(_decimal(r.get("lst_price"), caps.price_digits), currency),
            cost=Money(_decimal(r.get("standard_price"), caps.price_digits), currency),
            weight=_decimal(weight, caps.weight_digits) if weight else None,  # 0 in Odoo means "not set"
            hs_code=_text(r.get("hs_code")) if caps.has_hs_code else ABSENT,
            active=bool(r.get("active")),
            ref=vref,
        )
        if base_url:
            v.images = [f"{base_url}/web/image/{PRODUCT}/{r['id']}/image_1920"] if ex.get("image") else []
        if kind in STOCK_KINDS and targets:
            v.stock_known = True
            raw = ex.get("stock", {})
            for t in targets:
                v.stock[t.name] = to_level(t, raw.get(t.name, {f: 0 for f in QTY_FIELDS}))
            self._negative_stock(v, targets, result)
            here = sum(abs(float(raw.get(t.name, {}).get("qty_available") or 0)) for t in targets)
            total = float(ex["company_on_hand"] if "company_on_hand" in ex else r.get("qty_available") or 0)
            if here == 0 and total != 0:
                result.issues.append(Issue(
                    f"{sku} has {total:g} on hand only outside the configured "
                    f"{'warehouses' if any(t.kind == 'warehouse' for t in targets) else 'locations'} "
                    f"({', '.join(t.name for t in targets)}); listed as 0", sheet=PRODUCT, sku=sku, value=total,
                    severity="warning"))
        return v
