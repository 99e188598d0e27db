"""A returning customer's changed address: which partner fields an order changes, and which partners are ours.

The rules (docs/odoo.md, "Customers whose address changed"):

- compared: name, street, city, zip, country, phone, email, as the order's customer gives them; a field the
  order leaves empty never overwrites what Odoo holds (a marketplace that stops sending the phone does not
  erase it), and a country Odoo does not know is not compared;
- **ours** (the connector created the partner: it is recorded in the state, below, with the same id): the
  differing fields are written on the partner, before the sale order is created, in one ``write`` per distinct
  change set;
- **not ours** (a partner a person linked to the customer by typing the key into its Internal Reference, or
  one created while another state file was in use): never written.  When the order's address differs, the
  sale order ships to a delivery contact of that partner (``type: delivery``, ``parent_id``) holding the
  order's address: an existing one with that address, else one created for it;
- the configured fallback partner (orders without customer data) is never compared nor written.

Ownership is kept in the state, per Odoo database (url and db, so every marketplace and a server upgrade share
it): kind ``odoo.partner``, key = the customer key, remote id = the partner's id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from connector.sync.state.store import StateStore

ADDRESS_FIELDS = ("name", "street", "city", "zip", "country_id", "phone", "email")
OWNED_KIND = "odoo.partner"
OWNER_MARKETPLACE = "orders.odoo"  # the state's marketplace column for records that belong to an Odoo database


def comparable(field_name: str, value: Any) -> Any:
    """A partner field as Odoo answers it (``[id, name]`` for a many2one, False when empty) or as we send it,
    in one form: an int id, a stripped string, or None."""
    if field_name == "country_id":
        if isinstance(value, list | tuple):
            return value[0] if value else None
        return value if isinstance(value, int) and not isinstance(value, bool) and value else None
    if value is None or value is False:
        return None
    text = str(value).strip()
    return text or None


def address_of(values: dict[str, Any]) -> dict[str, Any]:
    """The address fields of partner values (what ``partner_values`` builds), empty ones left out."""
    out = {}
    for f in ADDRESS_FIELDS:
        v = comparable(f, values.get(f))
        if v is not None:
            out[f] = v
    return out


def changes(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``wanted`` (non-empty by construction) whose value differs from Odoo's ``current``."""
    return {f: v for f, v in wanted.items() if comparable(f, current.get(f)) != v}


def has_address(row: dict[str, Any]) -> bool:
    """Whether a partner row read from Odoo holds the address fields (read with ``ADDRESS_FIELDS``)."""
    return all(f in row for f in ADDRESS_FIELDS)


def change_sets(updates: dict[int, dict[str, Any]]) -> list[tuple[list[int], dict[str, Any]]]:
    """partner id -> its changes, grouped: one (ids, values) per distinct set of changes, ids sorted."""
    groups: dict[str, tuple[list[int], dict[str, Any]]] = {}
    for pid in sorted(updates):
        vals = updates[pid]
        groups.setdefault(json.dumps(vals, sort_keys=True), ([], vals))[0].append(pid)
    return list(groups.values())


class Ownership:
    """The partners the connector created in one Odoo database: customer key -> partner id (in the state)."""

    def __init__(self, state: StateStore | None, url: str, db: str) -> None:
        self.state = state
        self.account = json.dumps([url.rstrip("/"), db])
        self._owned: dict[str, int] | None = None

    @property
    def owned(self) -> dict[str, int]:
        if self._owned is None:
            raw = self.state.remote_ids(OWNER_MARKETPLACE, self.account, OWNED_KIND) if self.state else {}
            self._owned = {k: int(v) for k, v in raw.items()}
        return self._owned

    def is_ours(self, key: str, partner_id: int) -> bool:
        return self.owned.get(key) == partner_id

    def record(self, created: Iterable[tuple[str, int]]) -> None:
        items = [(key, "", "{}", str(pid)) for key, pid in created]
        if not items:
            return
        if self.state is not None:
            self.state.confirm(OWNER_MARKETPLACE, self.account, OWNED_KIND, items)
        self.owned.update({key: int(pid) for key, _, _, pid in items})
