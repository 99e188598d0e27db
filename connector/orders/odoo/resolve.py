"""What a run looks up once before importing: the sale order line fields this server has, and the ids of the
teams, warehouses, tags, pricelists and taxes the settings name.

Kept in the state for the next runs (``cache.py``): the line fields, the ids of the names, the pricelists.
Fields are decided by ``fields_get`` (design §8b), never by the version string: ``tax_ids`` (19) or
``tax_id`` (16-18); ``product_uom_id`` (19) or ``product_uom`` (16-18) is not sent at all (Odoo takes the
product's sales unit); ``is_delivery`` (module delivery / stock_delivery) marks the shipping line.  One call
per model named in the settings for the marketplaces of the orders at hand (none when the cache knows them);
the fallback partners are looked up with the customers of the first page that needs them (``partners.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConfigError
from connector.orders.odoo.cache import IdCache, name_of
from connector.orders.odoo.settings import PREFIX, OdooOrderSettings, Ref, Routing
from connector.sources.odoo.backend import OdooBackend

LINE = "sale.order.line"


@dataclass(slots=True)
class LineFields:
    tax: str  # tax_id | tax_ids
    uom: str | None  # product_uom | product_uom_id (informative: never sent)
    is_delivery: bool  # the delivery module's flag on shipping lines


@dataclass(slots=True)
class Pricelist:
    id: int
    name: str
    currency: str


@dataclass(slots=True)
class Resolved:
    """The Odoo ids a run uses: per marketplace routing, the pricelists, the explicit taxes."""

    line: LineFields
    teams: dict[Ref, int] = field(default_factory=dict)
    warehouses: dict[Ref, int] = field(default_factory=dict)
    tags: dict[Ref, int] = field(default_factory=dict)
    pricelists: list[Pricelist] = field(default_factory=list)
    configured_pricelists: dict[Ref, Pricelist] = field(default_factory=dict)
    taxes: list[int] | None = None  # explicit taxes (None: the product's)
    pricelists_fresh: bool = False  # the pricelists were read from Odoo by this run (not from the cache)

    def pricelist_for(self, ref: Ref | None, currency: str) -> tuple[Pricelist | None, str | None]:
        """(pricelist, None) or (None, why not): the configured one must be in the order's currency."""
        if ref is not None:
            pl = self.configured_pricelists[ref]
            if pl.currency != currency:
                return None, (f"the order is in {currency} but the configured pricelist {pl.name!r} is in "
                              f"{pl.currency}")
            return pl, None
        for pl in self.pricelists:
            if pl.currency == currency:
                return pl, None
        return None, (f"no pricelist in {currency} in Odoo: create one (Sales > Products > Pricelists) or set "
                      f"{PREFIX} pricelist for this marketplace")


def _m2o_name(value: Any) -> str:
    return str(value[1]) if isinstance(value, list | tuple) and len(value) > 1 else ""


def line_fields(backend: OdooBackend, cache: IdCache | None = None) -> LineFields:
    known = cache.get("fields", LINE) if cache is not None else None
    if isinstance(known, dict):
        return LineFields(tax=str(known["tax"]), uom=known.get("uom"), is_delivery=bool(known.get("is_delivery")))
    meta = backend.fields_get(LINE, ["type"])
    tax = "tax_ids" if "tax_ids" in meta else "tax_id"
    uom = "product_uom_id" if "product_uom_id" in meta else ("product_uom" if "product_uom" in meta else None)
    found = LineFields(tax=tax, uom=uom, is_delivery="is_delivery" in meta)
    if cache is not None:
        cache.put("fields", LINE, {"tax": found.tax, "uom": found.uom, "is_delivery": found.is_delivery})
    return found


def company_id(backend: OdooBackend, ref: Ref, cache: IdCache) -> int:
    """The id of the connection's ``company`` (a name or an id), from the cache or one lookup.

    The destination then sends ``allowed_company_ids`` with every call, as the catalogue read does: Odoo's
    company rules hide the other companies' pricelists, warehouses and products, and the sale orders are made in
    that company.  Without it an RPC call sees every company of the user while its sale orders go to the user's
    default company: another company's pricelist in the order's currency was taken, and Odoo refused every
    order ("Incompatible companies"); a SKU of each company was 'on 2 variants'."""
    known = cache.get("res.company", name_of(ref))
    if isinstance(known, int):
        return known
    domain: list[Any] = [("id", "=", ref)] if isinstance(ref, int) else [("name", "=", ref)]
    rows = backend.search_read("res.company", domain, ["id", "name"], order="id")
    if len(rows) != 1:
        why = "no company" if not rows else f"{len(rows)} companies named"
        raise ConfigError(f"odoo setting 'company' (the orders' connection): {why} {ref!r} visible to this user "
                          f"in Odoo (give its exact name or its id)")
    cache.put("res.company", name_of(ref), int(rows[0]["id"]))
    cache.save()
    return int(rows[0]["id"])


def _by_ref(backend: OdooBackend, model: str, refs: Iterable[Ref], where: str, what: str,
            code_field: str | None = None, extra_fields: tuple[str, ...] = ()) -> dict[Ref, dict[str, Any]]:
    """ref -> row for names (or codes) and ids, in one call; an unknown or ambiguous name is a ConfigError."""
    wanted = list(dict.fromkeys(refs))
    if not wanted:
        return {}
    ids = [r for r in wanted if isinstance(r, int)]
    names = [r for r in wanted if isinstance(r, str)]
    domain: list[Any] = ["|", ("id", "in", ids), ("name", "in", names)]
    if code_field:
        domain = ["|", *domain, (code_field, "in", names)]
    fields = ["id", "name", *([code_field] if code_field else []), *extra_fields]
    rows = backend.search_read(model, domain, fields, order="id")
    out: dict[Ref, dict[str, Any]] = {}
    for ref in wanted:
        if isinstance(ref, int):
            hits = [r for r in rows if r["id"] == ref]
        else:
            hits = [r for r in rows if r.get("name") == ref]
            hits = hits or [r for r in rows if code_field and r.get(code_field) == ref]
        if not hits:
            raise ConfigError(f"{where}: no {what} {ref!r} in Odoo (give its exact name or its id)")
        if len(hits) > 1:
            raise ConfigError(f"{where}: {len(hits)} {what}s are named {ref!r} in Odoo "
                              f"(ids {', '.join(str(h['id']) for h in hits)}): give the id")
        out[ref] = hits[0]
    return out


def _ids(backend: OdooBackend, cache: IdCache, model: str, refs: Iterable[Ref], into: dict[Ref, int], where: str,
         what: str, code_field: str | None = None) -> None:
    """``into[ref]`` for each ref not resolved yet: from the cache, else one lookup of the others."""
    missing = []
    for ref in dict.fromkeys(refs):
        if ref in into:
            continue
        known = cache.get(model, name_of(ref))
        if isinstance(known, int):
            into[ref] = known
        else:
            missing.append(ref)
    for ref, row in _by_ref(backend, model, missing, where, what, code_field=code_field).items():
        into[ref] = row["id"]
        cache.put(model, name_of(ref), row["id"])


def _pricelists(backend: OdooBackend, cache: IdCache, resolved: Resolved, routings: list[Routing],
                wanted: set[tuple[Ref | None, str]]) -> None:
    """All active pricelists, then the configured ones checked.  From the cache when it holds every configured
    pricelist and, for each (pricelist setting, order currency) in ``wanted``, one that fits; else from Odoo (a
    pricelist created, renamed or moved to another currency since is seen)."""
    configured = {r.pricelist for r in routings if r.pricelist is not None}
    if not resolved.pricelists and not resolved.pricelists_fresh:
        cached = cache.get("product.pricelist", "all")
        if isinstance(cached, list):
            resolved.pricelists = [Pricelist(int(i), str(n), str(c)) for i, n, c in cached]
    def has(ref: Ref | None, currency: str | None) -> bool:
        return any((ref is None or (p.id == ref if isinstance(ref, int) else p.name == ref))
                   and currency in (None, p.currency) for p in resolved.pricelists)

    covered = all(has(ref, None) for ref in configured) and all(has(ref, c) for ref, c in wanted)
    if not resolved.pricelists_fresh and (not resolved.pricelists or not covered):
        rows = backend.search_read("product.pricelist", [], ["id", "name", "currency_id"], order="sequence, id")
        resolved.pricelists = [Pricelist(r["id"], str(r["name"]), _m2o_name(r["currency_id"])) for r in rows]
        resolved.pricelists_fresh = True
        cache.put("product.pricelist", "all", [[p.id, p.name, p.currency] for p in resolved.pricelists])
    for ref in configured - set(resolved.configured_pricelists):
        hits = [p for p in resolved.pricelists if (p.id == ref if isinstance(ref, int) else p.name == ref)]
        if len(hits) != 1:
            known_names = ", ".join(f"{p.name} ({p.currency})" for p in resolved.pricelists) or "none"
            why = "no active pricelist" if not hits else f"{len(hits)} pricelists named"
            raise ConfigError(f"{PREFIX} pricelist: {why} {ref!r} in Odoo (known: {known_names})")
        resolved.configured_pricelists[ref] = hits[0]


def resolve(backend: OdooBackend, settings: OdooOrderSettings, *, cache: IdCache | None = None,
            marketplaces: Iterable[str] | None = None, currencies: Iterable[tuple[str, str]] = (),
            into: Resolved | None = None) -> Resolved:
    """Look up what the settings name (one call per kind of record still unknown), and the line fields.

    ``marketplaces``: only their routings (default: every marketplace the settings name); ``currencies``:
    (marketplace, currency) of the orders, so a currency without a pricelist in the cache asks Odoo again;
    ``cache``: ids kept by earlier runs (``cache.py``); ``into``: what this run resolved already."""
    cache = cache if cache is not None else IdCache(None, "")
    if marketplaces is None:
        routings = [settings.default, *settings.marketplaces.values()]
    else:
        routings = [settings.routing(m) for m in sorted(set(marketplaces))]
    resolved = into if into is not None else Resolved(line=line_fields(backend, cache))
    _ids(backend, cache, "crm.team", (r.team for r in routings if r.team is not None), resolved.teams,
         f"{PREFIX} team", "sales team")
    _ids(backend, cache, "stock.warehouse", (r.warehouse for r in routings if r.warehouse is not None),
         resolved.warehouses, f"{PREFIX} warehouse", "warehouse", code_field="code")
    _ids(backend, cache, "crm.tag", (t for r in routings for t in r.tags), resolved.tags, f"{PREFIX} tags",
         "sales tag")
    _pricelists(backend, cache, resolved, routings, {(settings.routing(m).pricelist, c) for m, c in currencies})
    explicit = settings.explicit_taxes
    if explicit is not None and resolved.taxes is None:  # checked against Odoo once per run, never cached
        taxes = _by_ref(backend, "account.tax", explicit, f"{PREFIX}.taxes", "tax",
                        extra_fields=("price_include", "type_tax_use"))
        for ref, row in taxes.items():
            if row.get("type_tax_use") not in ("sale", "none"):
                raise ConfigError(f"{PREFIX}.taxes: tax {ref!r} is not a sales tax in Odoo")
            if settings.tax_included is not None and bool(row.get("price_include")) != settings.tax_included:
                raise ConfigError(tax_disagrees(str(row["name"]), bool(row.get("price_include")),
                                                 settings.tax_included))
        resolved.taxes = [taxes[ref]["id"] for ref in explicit]
    cache.save()
    return resolved


def tax_disagrees(name: str, price_include: bool, tax_included: bool) -> str:
    if tax_included:
        return (f"{PREFIX}.tax_included is true (marketplace prices include tax) but the Odoo tax {name!r} is "
                f"added on top of the price: the customer's total would be taxed twice; use a price-included tax")
    return (f"{PREFIX}.tax_included is false (marketplace prices exclude tax) but the Odoo tax {name!r} is "
            f"included in the price: use a tax computed on top of the price")
