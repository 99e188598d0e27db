"""The ``orders.odoo`` table of a profile: where marketplace orders go in Odoo and how they are filled in.

```yaml
orders:
  odoo:
    connection: {url: ..., db: ..., user: ..., password_env: ...}  # default: the profile's Odoo source
    delivery_product: SHIP          # Internal Reference of the product the shipping fee is invoiced on
    taxes: product                  # product (the product's sales taxes, as Odoo picks them) | [tax names or ids]
    tax_included: true              # optional check: marketplace prices include tax (taxes must agree)
    page_size: 100                  # orders per create/confirm call
    team: ...                       # defaults for every marketplace (each optional) ...
    marketplaces:
      elryan: {team: Elryan, warehouse: WH, pricelist: Elryan IQD, tags: [Elryan], partner: Elryan customer}
```

Names are looked up in Odoo once per run (an integer is taken as the record's id).  A misspelt key, a wrong
type or a name Odoo does not know is a ``ConfigError`` naming the setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConfigError
from connector.sources.odoo.settings import OdooSettings

PREFIX = "orders.odoo"
ROUTING_KEYS = ("team", "warehouse", "pricelist", "tags", "partner")
TOP_KEYS = {"connection", "delivery_product", "taxes", "tax_included", "page_size", "marketplaces", *ROUTING_KEYS}
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500

Ref = str | int  # an Odoo record by name (or code) or by id


@dataclass(frozen=True, slots=True)
class Routing:
    """Per marketplace: the sales team, warehouse, pricelist, tags and the partner of orders without customer
    data.  None: Odoo's default (pricelist: the one in the order's currency)."""

    team: Ref | None = None
    warehouse: Ref | None = None
    pricelist: Ref | None = None
    tags: tuple[Ref, ...] = ()
    partner: Ref | None = None


@dataclass(slots=True)
class OdooOrderSettings:
    connection: OdooSettings
    delivery_product: str | None = None
    taxes: str | tuple[Ref, ...] = "product"  # "product" or the taxes put on every line
    tax_included: bool | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    default: Routing = field(default_factory=Routing)
    marketplaces: dict[str, Routing] = field(default_factory=dict)

    def routing(self, marketplace: str) -> Routing:
        return self.marketplaces.get(marketplace, self.default)

    @property
    def explicit_taxes(self) -> tuple[Ref, ...] | None:
        return None if isinstance(self.taxes, str) else self.taxes


def _ref(value: Any, where: str) -> Ref | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{where}: expected a name or an id, got {value!r}")
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError(f"{where}: empty name")
        return value.strip()
    return value


def _refs(value: Any, where: str) -> tuple[Ref, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(r for i, v in enumerate(items) if (r := _ref(v, f"{where}[{i}]")) is not None)


def _routing(data: Any, where: str, base: Routing) -> Routing:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table with {', '.join(ROUTING_KEYS)}, got {data!r}")
    unknown = sorted(set(data) - set(ROUTING_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(ROUTING_KEYS)}")
    return Routing(
        team=_ref(data["team"], f"{where}.team") if "team" in data else base.team,
        warehouse=_ref(data["warehouse"], f"{where}.warehouse") if "warehouse" in data else base.warehouse,
        pricelist=_ref(data["pricelist"], f"{where}.pricelist") if "pricelist" in data else base.pricelist,
        tags=_refs(data["tags"], f"{where}.tags") if "tags" in data else base.tags,
        partner=_ref(data["partner"], f"{where}.partner") if "partner" in data else base.partner,
    )


def _known_marketplaces(markets: dict[Any, Any]) -> None:
    from connector.marketplaces.registry import plugins

    known = plugins()
    unknown = sorted(str(m) for m in markets if str(m) not in known)
    if unknown:
        raise ConfigError(f"{PREFIX}.marketplaces: unknown marketplace(s) {', '.join(unknown)}; "
                          f"installed: {', '.join(sorted(known)) or 'none'}")


def _connection(section: dict[str, Any], source: dict[str, Any] | None) -> OdooSettings:
    if "connection" in section:
        conn = section["connection"]
        if not isinstance(conn, dict):
            raise ConfigError(f"{PREFIX}.connection: expected a table (url, db, user, password_env), got {conn!r}")
        try:
            return OdooSettings.from_dict(conn)
        except ConfigError as exc:
            raise ConfigError(f"{PREFIX}.connection: {exc}") from None
    if source is None or source.get("type") != "odoo":
        raise ConfigError(f"{PREFIX}.connection is required: the profile's source is not Odoo, so there is no "
                          f"connection to reuse (give url, db, user, password_env)")
    from connector.sources.odoo import settings_from_profile

    return settings_from_profile(source)


def parse_settings(section: Any, source: dict[str, Any] | None) -> OdooOrderSettings:
    """Validate the ``orders.odoo`` table; ``source`` is the profile's ``source:`` section (the connection's
    default when it is Odoo)."""
    if section is None:
        section = {}
    if not isinstance(section, dict):
        raise ConfigError(f"{PREFIX}: expected a table, got {section!r}")
    unknown = sorted(set(section) - TOP_KEYS)
    if unknown:
        raise ConfigError(f"{PREFIX}: unknown key(s) {', '.join(map(str, unknown))}; "
                          f"known: {', '.join(sorted(TOP_KEYS))}")
    delivery = section.get("delivery_product")
    if delivery is not None and (not isinstance(delivery, str) or not delivery.strip()):
        raise ConfigError(f"{PREFIX}.delivery_product: expected the Internal Reference (default_code) of the "
                          f"delivery product, got {delivery!r}")
    taxes_raw = section.get("taxes", "product")
    taxes: str | tuple[Ref, ...]
    if taxes_raw == "product":
        taxes = "product"
    elif isinstance(taxes_raw, list):
        taxes = _refs(taxes_raw, f"{PREFIX}.taxes")
    else:
        raise ConfigError(f"{PREFIX}.taxes: expected 'product' (the product's sales taxes) or a list of tax names "
                          f"or ids ([] for none), got {taxes_raw!r}")
    tax_included = section.get("tax_included")
    if tax_included is not None and not isinstance(tax_included, bool):
        raise ConfigError(f"{PREFIX}.tax_included: expected true or false, got {tax_included!r}")
    page_size = section.get("page_size", DEFAULT_PAGE_SIZE)
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigError(f"{PREFIX}.page_size: expected a whole number from 1 to {MAX_PAGE_SIZE}, got {page_size!r}")
    default = _routing({k: section[k] for k in ROUTING_KEYS if k in section}, PREFIX, Routing())
    markets = section.get("marketplaces") or {}
    if not isinstance(markets, dict):
        raise ConfigError(f"{PREFIX}.marketplaces: expected a table of marketplace names, got {markets!r}")
    _known_marketplaces(markets)
    per = {str(name): _routing(data, f"{PREFIX}.marketplaces.{name}", default) for name, data in markets.items()}
    return OdooOrderSettings(connection=_connection(section, source), delivery_product=delivery and delivery.strip(),
                             taxes=taxes, tax_included=tax_included, page_size=page_size, default=default,
                             marketplaces=per)
