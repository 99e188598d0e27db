"""What a run looks up once before importing: the sale order line fields this server has, and the ids of the
teams, warehouses, tags, pricelists and taxes the settings name.

Fields are decided by ``fields_get`` (design §8b), never by the version string: ``tax_ids`` (19) or
``tax_id`` (16-18); ``product_uom_id`` (19) or ``product_uom`` (16-18) is not sent at all (Odoo takes the
product's sales unit); ``is_delivery`` (module delivery / stock_delivery) marks the shipping line.  One call
per model named in the settings, for every marketplace at once; the fallback partners are looked up with the
customers of the first page that needs them (``partners.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConfigError
from connector.orders.odoo.settings import PREFIX, OdooOrderSettings, Ref
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


def line_fields(backend: OdooBackend) -> LineFields:
    meta = backend.fields_get(LINE, ["type"])
    tax = "tax_ids" if "tax_ids" in meta else "tax_id"
    uom = "product_uom_id" if "product_uom_id" in meta else ("product_uom" if "product_uom" in meta else None)
    return LineFields(tax=tax, uom=uom, is_delivery="is_delivery" in meta)


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


def resolve(backend: OdooBackend, settings: OdooOrderSettings) -> Resolved:
    """Look up everything the settings name (one call per kind of record named), and the line fields."""
    routings = [settings.default, *settings.marketplaces.values()]
    resolved = Resolved(line=line_fields(backend))
    resolved.teams = {k: r["id"] for k, r in _by_ref(
        backend, "crm.team", (r.team for r in routings if r.team is not None), f"{PREFIX} team", "sales team").items()}
    resolved.warehouses = {k: r["id"] for k, r in _by_ref(
        backend, "stock.warehouse", (r.warehouse for r in routings if r.warehouse is not None),
        f"{PREFIX} warehouse", "warehouse", code_field="code").items()}
    resolved.tags = {k: r["id"] for k, r in _by_ref(backend, "crm.tag", (t for r in routings for t in r.tags),
                                                       f"{PREFIX} tags", "sales tag").items()}
    rows = backend.search_read("product.pricelist", [], ["id", "name", "currency_id"], order="sequence, id")
    resolved.pricelists = [Pricelist(r["id"], str(r["name"]), _m2o_name(r["currency_id"])) for r in rows]
    for ref in {r.pricelist for r in routings if r.pricelist is not None}:
        hits = [p for p in resolved.pricelists if (p.id == ref if isinstance(ref, int) else p.name == ref)]
        if len(hits) != 1:
            known = ", ".join(f"{p.name} ({p.currency})" for p in resolved.pricelists) or "none"
            why = "no active pricelist" if not hits else f"{len(hits)} pricelists named"
            raise ConfigError(f"{PREFIX} pricelist: {why} {ref!r} in Odoo (known: {known})")
        resolved.configured_pricelists[ref] = hits[0]
    explicit = settings.explicit_taxes
    if explicit is not None:
        taxes = _by_ref(backend, "account.tax", explicit, f"{PREFIX}.taxes", "tax",
                        extra_fields=("price_include", "type_tax_use"))
        for ref, row in taxes.items():
            if row.get("type_tax_use") not in ("sale", "none"):
                raise ConfigError(f"{PREFIX}.taxes: tax {ref!r} is not a sales tax in Odoo")
            if settings.tax_included is not None and bool(row.get("price_include")) != settings.tax_included:
                raise ConfigError(tax_disagrees(str(row["name"]), bool(row.get("price_include")),
                                                 settings.tax_included))
        resolved.taxes = [taxes[ref]["id"] for ref in explicit]
    return resolved


def tax_disagrees(name: str, price_include: bool, tax_included: bool) -> str:
    if tax_included:
        return (f"{PREFIX}.tax_included is true (marketplace prices include tax) but the Odoo tax {name!r} is "
                f"added on top of the price: the customer's total would be taxed twice; use a price-included tax")
    return (f"{PREFIX}.tax_included is false (marketplace prices exclude tax) but the Odoo tax {name!r} is "
            f"included in the price: use a tax computed on top of the price")
