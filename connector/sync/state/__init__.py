"""Sync state (design §3): the ``StateStore`` interface (``store``), its SQL shared by two backends (``sql``):
SQLite files (``sqlite``, with the file lock ``lock``) and PostgreSQL (``postgres``), where a state is
(``location``), and the tables plugins declare (``tables``).

``StateStore.open(location)`` opens a state file or a ``postgresql://`` URL; everything else goes through the
store's methods.
"""

from connector.sync.state.store import BudgetCounter, CleanRun, Confirmed, ConfirmedItem, StateStore, new_run_id, utcnow
from connector.sync.state.tables import AddColumn, Column, PluginSchema, PluginTables, Table

__all__ = ["AddColumn", "BudgetCounter", "CleanRun", "Column", "Confirmed", "ConfirmedItem", "PluginSchema",
           "PluginTables", "StateStore", "Table", "new_run_id", "utcnow"]
