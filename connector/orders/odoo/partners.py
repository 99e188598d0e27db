"""Customers as Odoo partners, found again by a stable key kept in the partner's ``ref`` (Internal Reference).

The key, first that applies: ``<marketplace>:customer:<customer id>`` when the marketplace gives a customer id;
``email:<address, lower case>``; ``phone:<digits, with a leading +>``.  An email or a phone is the same person on
every marketplace, so those keys have no marketplace.  An order without any of them (a name alone is no key:
two customers share names) goes to the partner configured for its marketplace (``partner`` in the settings).

Per page of orders: one ``search_read`` of the partners holding the page's keys (archived ones too, so a key
is never given to a second partner), plus the configured fallback partners not yet known; one ``res.country``
lookup for the countries of new customers not yet known; one ``create`` for all new partners of the page.

A returning customer whose address changed (``addresses.py``): the lookup reads the address fields too when a
key of the page is one of the partners the connector created (a page of new customers reads no more than
before); one ``write`` per distinct change set on our partners; for partners that are not ours, one read of
them and their delivery contacts, and one ``create`` of the delivery contacts still missing.  Nothing is sent
when no address changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from connector.errors import ConfigError
from connector.orders.model import Customer, Order
from connector.orders.odoo.addresses import ADDRESS_FIELDS, Ownership, address_of, change_sets, changes, has_address
from connector.orders.odoo.batch import create_page, each_or_refusal
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

    def __init__(self, backend: OdooBackend, cache: IdCache | None = None, ownership: Ownership | None = None) -> None:
        self.backend = backend
        self.cache = cache  # country ids kept by earlier runs (cache.py)
        self.ownership = ownership if ownership is not None else Ownership(None, "", "")
        self.by_key: dict[str, int] = {}
        self.rows: dict[str, dict[str, Any]] = {}  # key -> the partner as Odoo holds it (address fields when read)
        self.shipping: dict[str, int] = {}  # order key -> delivery contact to ship to (this page)
        self._deliveries: dict[int, list[dict[str, Any]]] = {}  # partner id -> its delivery contacts (read)
        self._ship_to: dict[str, int] = {}  # customer key -> delivery contact (this page)
        self._moved: dict[str, str] = {}  # customer key -> what changed for its address (this page)
        self.notes: dict[str, str] = {}  # order key -> what was done for its customer's address (this page)
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
            self._lookup(wanted, missing_fallbacks, full=any(k in self.ownership.owned for k in wanted))
        latest: dict[str, Order] = {}  # key -> its page's latest order (in the order the keys first appear)
        for o in orders:
            k = keys[o.key]
            if k and (k not in latest or o.created_at > latest[k].created_at):
                latest[k] = o
        new = {k: o for k, o in latest.items() if k not in self.by_key}
        if new:
            self._create(new)
        self.shipping, self.notes = {}, {}
        unsent = self._sync_addresses({k: o for k, o in latest.items() if k in self.by_key and k not in new})
        out: dict[str, int | str] = {}
        for o in orders:
            k = keys[o.key]
            if k is not None:
                if k in unsent:
                    out[o.key] = unsent[k]
                    continue
                out[o.key] = self.by_key.get(k) or self._refused.get(k, "the customer could not be created")
                if k in self._ship_to:
                    self.shipping[o.key] = self._ship_to[k]
                if k in self._moved:
                    self.notes[o.key] = self._moved[k]
                continue
            ref = fallback_of.get(o.marketplace)
            if ref is None:
                out[o.key] = (f"the order has no customer data and no partner is configured for {o.marketplace} "
                              f"({PREFIX}.marketplaces.{o.marketplace}.partner)")
            else:
                out[o.key] = self.fallback[ref]
        return out

    def _lookup(self, keys: list[str], fallbacks: list[Ref], full: bool = False) -> None:
        """The partners holding ``keys``, and the fallbacks; ``full``: with their address fields (some of the
        keys are partners the connector created, whose address may have changed)."""
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
        fields = ["id", "name", "ref", *(f for f in ADDRESS_FIELDS if f != "name" and full)]
        rows = self.backend.search_read(PARTNER, domain, fields, order="id", context={"active_test": False})
        for r in rows:
            ref = r.get("ref")
            if isinstance(ref, str) and ref in keys and ref not in self.by_key:  # the oldest holder of a key wins
                self.by_key[ref] = r["id"]
                self.rows[ref] = r
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
        created = []
        for (key, _o), values, result in zip(new.items(), vals, results, strict=True):
            if isinstance(result, OdooRPCError):
                self._refused[key] = f"Odoo refused the customer: {result}"
            else:
                self.by_key[key] = result
                self.rows[key] = {f: values.get(f) for f in ADDRESS_FIELDS}  # as Odoo holds it now
                created.append((key, result))
        self.ownership.record(created)

    # -- returning customers whose address changed (addresses.py) -----------------------------------------
    def _wanted(self, key: str, o: Order) -> dict[str, Any]:
        """The order's address fields for the comparison: the given ones only (no name made up of the key)."""
        wanted = address_of(self._values(key, o))
        if not (o.customer and o.customer.name and o.customer.name.strip()):
            wanted.pop("name", None)
        return wanted

    def _sync_addresses(self, known: dict[str, Order]) -> dict[str, str]:
        """Bring the partners of ``known`` (key -> the page's latest order) to the orders' address: our
        partners written, the others given a delivery contact (``self._ship_to``).  Returns key -> why the
        order cannot go (Odoo refused the new address)."""
        self._ship_to, self._moved = {}, {}
        if not known:
            return {}
        self._country_ids([o for o in known.values() if o.customer and o.customer.country])
        updates: dict[int, dict[str, Any]] = {}
        elsewhere: dict[str, dict[str, Any]] = {}  # key -> wanted, for partners that are not ours
        for key, o in known.items():
            pid, row, wanted = self.by_key[key], self.rows.get(key, {}), self._wanted(key, o)
            if not wanted:
                continue
            if self.ownership.is_ours(key, pid) and has_address(row):
                diff = changes(row, wanted)
                if diff:
                    updates.setdefault(pid, {}).update(diff)
            elif not self.ownership.is_ours(key, pid) and (not has_address(row) or changes(row, wanted)):
                elsewhere[key] = wanted
        refused = self._write(updates, known)
        if elsewhere:
            refused.update(self._deliver_elsewhere(elsewhere))
        return refused

    def _write(self, updates: dict[int, dict[str, Any]], known: dict[str, Order]) -> dict[str, str]:
        refused: dict[str, str] = {}
        for ids, vals in change_sets(updates):
            results = each_or_refusal(ids, lambda chunk, v=vals: [self.backend.write(PARTNER, chunk, v)]
                                      * len(chunk))
            for pid, result in zip(ids, results, strict=True):
                for key in (k for k in known if self.by_key[k] == pid):
                    if isinstance(result, OdooRPCError):
                        refused[key] = f"Odoo refused the customer's new address (tried again next run): {result}"
                    else:
                        self.rows[key].update(vals)
                        self._moved[key] = f"the customer's new address written in Odoo ({', '.join(sorted(vals))})"
        return refused

    def _elsewhere_note(self, key: str) -> str:
        name = self.rows.get(key, {}).get("name") or key
        return (f"ships to a delivery contact of {name} with the order's address (a partner the connector did not "
                f"create: left as it is)")

    def _deliver_elsewhere(self, elsewhere: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Partners that are not ours: one read of those not read yet with their delivery contacts; the sale
        order ships to the partner itself when its address is the order's, else to a delivery contact with the
        order's address (one ``create`` of those missing)."""
        unread = sorted({self.by_key[k] for k in elsewhere} - set(self._deliveries))
        if unread:
            rows = self.backend.search_read(PARTNER, ["|", ("id", "in", unread), ("parent_id", "in", unread)],
                                            ["id", "ref", "parent_id", "type", *ADDRESS_FIELDS], order="id",
                                            context={"active_test": False})
            for pid in unread:
                self._deliveries[pid] = []
            for r in rows:
                parent = r.get("parent_id")
                parent_id = parent[0] if isinstance(parent, list | tuple) and parent else parent
                if r["id"] in unread:
                    for key in (k for k in elsewhere if self.by_key[k] == r["id"]):
                        self.rows[key] = r
                if parent_id in unread and r.get("type") == "delivery":
                    self._deliveries[parent_id].append(r)
        missing: dict[str, dict[str, Any]] = {}
        for key, wanted in elsewhere.items():
            pid = self.by_key[key]
            if not changes(self.rows.get(key, {}), wanted):
                continue  # the partner's own address is the order's
            same = next((c for c in self._deliveries[pid] if not changes(c, wanted)), None)
            if same is not None:
                self._ship_to[key] = same["id"]
                self._moved[key] = self._elsewhere_note(key)
            else:
                missing[key] = {**wanted, "name": wanted.get("name") or self.rows.get(key, {}).get("name") or key,
                                "type": "delivery", "parent_id": pid}
        vals = list({json.dumps(v, sort_keys=True): v for v in missing.values()}.values())
        results = create_page(self.backend, PARTNER, vals, lambda: None)
        made = {json.dumps(v, sort_keys=True): r for v, r in zip(vals, results, strict=True)}
        refused: dict[str, str] = {}
        for key, v in missing.items():
            result = made[json.dumps(v, sort_keys=True)]
            if isinstance(result, OdooRPCError):  # never shipped to the old address: tried again next run
                refused[key] = f"Odoo refused the delivery address of the customer (tried again next run): {result}"
                continue
            self._ship_to[key] = result
            self._moved[key] = self._elsewhere_note(key)
            self._deliveries[v["parent_id"]].append({"id": result, **v})
        return refused
