"""The Odoo ids a run resolved (line fields, teams, warehouses, tags, pricelists, countries), kept in the state
for the next runs, so a warm run of 100 new orders needs no lookup of what the settings name.

One entry per Odoo database and server version (url, db, server version, user); inside it, one id per name
as the settings (or the customers' countries) give it.  An upgraded server, another database or another user
starts from an empty entry.  The entry is trusted until Odoo refuses something built from it: the destination
then drops it (``drop``), looks everything up again and tries the refused page once more.
"""

from __future__ import annotations

import json
from typing import Any

from connector.sync.state import StateStore

CURSOR_SOURCE = "orders.odoo.ids"  # kept beside the cursors: a small JSON value per Odoo database


class IdCache:
    """``section`` -> name -> value, loaded from and saved to the state."""

    def __init__(self, state: StateStore | None, key: str) -> None:
        self.state, self.key = state, key
        self.data: dict[str, Any] = {}
        raw = state.get_cursor(CURSOR_SOURCE, key) if state is not None else None
        if raw:
            try:
                loaded = json.loads(raw)
            except ValueError:
                loaded = None
            if isinstance(loaded, dict):
                self.data = loaded
        self.used = False  # whether something this run sends came from an earlier run's entry
        self._dirty = False

    @staticmethod
    def key_for(url: str, db: str, server_version: str, user: str, company: str | int | None = None) -> str:
        """A connection restricted to one ``company`` sees other records (its pricelists, warehouses): an entry
        of its own."""
        return json.dumps([url.rstrip("/"), db, server_version, user, *([company] if company is not None else [])])

    def get(self, section: str, name: str) -> Any:
        value = self.data.get(section, {}).get(name)
        if value is not None:
            self.used = True
        return value

    def put(self, section: str, name: str, value: Any) -> None:
        self.data.setdefault(section, {})[name] = value
        self._dirty = True

    def save(self) -> None:
        if self._dirty and self.state is not None:
            self.state.set_cursor(CURSOR_SOURCE, self.key, json.dumps(self.data, sort_keys=True))
            self._dirty = False

    def drop(self) -> None:
        """Forget every id (in memory and in the state): the next lookups ask Odoo."""
        self.data, self.used, self._dirty = {}, False, True
        self.save()


def name_of(ref: str | int) -> str:
    """The cache's name of a setting's reference: ids and names never collide (``id:5`` / ``name:5``)."""
    return f"id:{ref}" if isinstance(ref, int) else f"name:{ref}"
