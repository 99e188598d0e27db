"""Customers as Odoo partners, found again by a stable key kept in the partner's ``ref`` (Internal Reference).

The key, first that applies: ``<marketplace>:customer:<customer id>`` when the marketplace gives a customer id;
``email:<address, lower case>``; ``phone:<digits, with a leading +>``.  An email or a phone is the same person on
every marketplace, so those keys have no marketplace.  An order without any of them (a name alone is no key:
two customers share names) goes to the partner configured for its marketplace (``partner`` in the settings).

Per page of orders: one ``search_read`` of the partners holding the page's keys (archived ones too, so a key
is never given to a second partner), plus the configured fallback partners not yet known; one ``res.country``
lookup for the countries of new customers not yet known; one ``create`` for all new partners of the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from connector.errors import ConfigError
from connector.orders.model import Customer, Order
from connector.orders.odoo.batch import create_page
from connector.orders.odoo.cache import IdCache
from connector.orders.odoo.settings import PREFIX, Ref
from connector.sources.odoo.backend import OdooBackend, OdooRPCError

PARTNER = "res.partner"
COUNTRY = "res.country"


def partner_key(order: Order) -> str | None:
    c = order.customer
    if c is None:
        return None
    if c.remote_id and str(c.remote_id).strip():
        return f"{order.marketplace}:customer:{str(c.remote_id).strip()}"
    if c.email and c.email.strip():
        return f"email:{c.email.strip().lower()}"
    if c.phone:
        digits = re.sub(r"\D", "", c.phone)
        if digits:
            return f"phone:{'+' if c.phone.strip().startswith('+') else ''}{digits}"
    return None


def _country_keys(country: str | None) -> tuple[str | None, str | None]:
    """(ISO code, name) to look the country up by."""
    if not country or not country.strip():
        return None, None
    text = country.strip()
    return (text.upper(), None) if len(text) == 2 and text.isalpha() else (None, text)


def partner_values(order: Order, key: str, country_id: int | None) -> dict[str, Any]:
    c = order.customer or Customer()
    name = (c.name or "").strip() or (c.email or "").strip() or (c.phone or "").strip() or key
    vals: dict[str, Any] = {"name": name, "ref": key, "type": "contact"}
    for field_name, value in (("phone", c.phone), ("email", c.email), ("street", c.street), ("city", c.city),
                              ("zip", c.zip)):
        if value and str(value).strip():
            vals[field_name] = str(value).strip()
    if country_id:
        vals["country_id"] = country_id
    return vals


class Partners:
    """Finds or creates the partner of each order, page by page; remembers what it found for the run."""

    def __init__(self, backend: OdooBackend, cache: IdCache | None = None) -> None:
        self.backend = backend
        self.cache = cache  # country ids kept by earlier runs (cache.py)
        self.by_key: dict[str, int] = {}
        self.fallback: dict[Ref, int] = {}
        self.countries: dict[str, int | None] = {}  # code or name -> id (None: unknown to Odoo)
        self._refused: dict[str, str] = {}  # key -> Odoo's refusal of the partner (this page)

    def for_page(self, orders: Sequence[Order], fallback_of: dict[str, Ref | None]) -> dict[str, int | str]:
        """order key -> partner id, or why the order has none.  ``fallback_of``: marketplace -> configured
        partner for orders without customer data."""
        keys = {o.key: partner_key(o) for o in orders}
        wanted = sorted({k for k in keys.values() if k and k not in self.by_key})
        fallbacks = {fallback_of.get(o.marketplace) for o in orders if keys[o.key] is None} - {None}
        missing_fallbacks = sorted((r for r in fallbacks if r not in self.fallback), key=str)
        if wanted or missing_fallbacks:
            self._lookup(wanted, missing_fallbacks)
        new = {}
        for o in orders:
            k = keys[o.key]
            if k and k not in self.by_key and k not in new:
                new[k] = o
        if new:
            self._create(new)
        out: dict[str, int | str] = {}
        for o in orders:
            k = keys[o.key]
            if k is not None:
                out[o.key] = self.by_key.get(k) or self._refused.get(k, "the customer could not be created")
                continue
            ref = fallback_of.get(o.marketplace)
            if ref is None:
                out[o.key] = (f"the order has no customer data and no partner is configured for {o.marketplace} "
                              f"({PREFIX}.marketplaces.{o.marketplace}.partner)")
            else:
                out[o.key] = self.fallback[ref]
        return out

    def _lookup(self, keys: list[str], fallbacks: list[Ref]) -> None:
        clauses: list[list[Any]] = []
        if keys:
            clauses.append([("ref", "in", keys)])
        ids = [r for r in fallbacks if isinstance(r, int)]
        names = [r for r in fallbacks if isinstance(r, str)]
        if ids:
            clauses.append([("id", "in", ids)])
        if names:
            clauses.append([("name", "in", names)])
        domain: list[Any] = ["|"] * (len(clauses) - 1) + [c[0] for c in clauses]
        rows = self.backend.search_read(PARTNER, domain, ["id", "name", "ref"], order="id",
                                        context={"active_test": False})
        for r in rows:
            ref = r.get("ref")
            if isinstance(ref, str) and ref in keys:
                self.by_key.setdefault(ref, r["id"])  # the oldest holder of a key wins
        for fb in fallbacks:
            hits = [r for r in rows if (r["id"] == fb if isinstance(fb, int) else r.get("name") == fb)]
            if len(hits) != 1:
                why = "no partner" if not hits else f"{len(hits)} partners named"
                raise ConfigError(f"{PREFIX} partner: {why} {fb!r} in Odoo (give the exact name or the id)")
            self.fallback[fb] = hits[0]["id"]

    def _country_ids(self, orders: Sequence[Order]) -> None:
        codes, names = set(), set()
        for o in orders:
            code, name = _country_keys(o.customer.country if o.customer else None)
            for known in (code, name):
                cached = self.cache.get(COUNTRY, known) if known and self.cache is not None else None
                if known and isinstance(cached, int):
                    self.countries.setdefault(known, cached)
            if code and code not in self.countries:
                codes.add(code)
            if name and name not in self.countries:
                names.add(name)
        if not codes and not names:
            return
        rows = self.backend.search_read("res.country", ["|", ("code", "in", sorted(codes)),
                                                        ("name", "in", sorted(names))], ["id", "code", "name"])
        for r in rows:
            for known in (str(r.get("code") or "").upper(), str(r.get("name") or "")):
                self.countries[known] = r["id"]
                if self.cache is not None and known in codes | names:
                    self.cache.put(COUNTRY, known, r["id"])
        if self.cache is not None:
            self.cache.save()
        for missing in codes | names:
            self.countries.setdefault(missing, None)

    def _fresh_countries(self, new: dict[str, Order]) -> list[dict[str, Any]] | None:
        """Odoo refused the page of new partners: when a country id came from an earlier run, the cache is
        dropped and the countries looked up again (None: every id was looked up by this run)."""
        if self.cache is None or not self.cache.used:
            return None
        self.cache.drop()
        self.countries = {}
        self._country_ids(list(new.values()))
        return [self._values(key, o) for key, o in new.items()]

    def _values(self, key: str, o: Order) -> dict[str, Any]:
        code, name = _country_keys(o.customer.country if o.customer else None)
        return partner_values(o, key, self.countries.get(code or name or ""))

    def _create(self, new: dict[str, Order]) -> None:
        self._country_ids(list(new.values()))
        vals = [self._values(key, o) for key, o in new.items()]
        results = create_page(self.backend, PARTNER, vals, lambda: self._fresh_countries(new))
        self._refused = {}
        for key, result in zip(new, results, strict=True):
            if isinstance(result, OdooRPCError):
                self._refused[key] = f"Odoo refused the customer: {result}"
            else:
                self.by_key[key] = result
