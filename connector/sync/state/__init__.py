"""Sync state (design §3): the ``StateStore`` interface (``store``), its SQLite backend (``sqlite``), the run
lock (``lock``) and the tables plugins declare (``tables``).

``StateStore.open(path)`` opens a state file; everything else goes through the store's methods.
"""

from connector.sync.state.store import BudgetCounter, Confirmed, ConfirmedItem, StateStore, utcnow
from connector.sync.state.tables import AddColumn, Column, PluginSchema, PluginTables, Table

__all__ = ["AddColumn", "BudgetCounter", "Column", "Confirmed", "ConfirmedItem", "PluginSchema", "PluginTables",
           "StateStore", "Table", "utcnow"]
