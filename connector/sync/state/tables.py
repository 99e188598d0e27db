"""Plugin tables in the state: declared as versioned migrations, reached through a small rows API.

A plugin that keeps data of its own in the state (EcomLinx: its SKU map, its webhook events) declares its
tables once, as a ``PluginSchema`` with a name and numbered migrations, and asks the state for them with
``state.tables(SCHEMA)``: the state applies the migrations it has not applied yet (recording the plugin's
version beside its own schema version) and hands back a ``PluginTables`` handle.  The handle is the only way
in: rows are read and written by column name, never with SQL, so another backend can serve the same plugin.

Where clauses are equalities; a list, tuple or set value means "one of".  Table names are the plugin's own
(``sku_map``); the state stores them prefixed with the plugin's name (``ecomlinx_sku_map``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from connector.sync.state.store import StateStore

ColumnType = Literal["text", "integer"]
Value = str | int | None
Where = Mapping[str, Value | Sequence[Value] | set[Value] | frozenset[Value]]
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType = "text"
    nullable: bool = False
    default: Value = None


@dataclass(frozen=True, slots=True)
class Table:
    """A table as a plugin declares it (``name`` without the plugin prefix) or as the state stores it."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # primary key columns

    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True, slots=True)
class AddColumn:
    """A later migration step: one more column on a table an earlier step created."""

    table: str
    column: Column


Step = Table | AddColumn


@dataclass(frozen=True)
class PluginSchema:
    """A plugin's tables: ``migrations`` maps a version (1, 2, ...) to the steps that reach it."""

    plugin: str
    migrations: Mapping[int, Sequence[Step]]
    _tables: dict[str, Table] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.plugin.isidentifier():
            raise ValueError(f"plugin name {self.plugin!r} must be an identifier")
        if sorted(self.migrations) != list(range(1, len(self.migrations) + 1)):
            raise ValueError(f"{self.plugin}: migrations must be numbered 1, 2, ... without gaps")
        tables: dict[str, Table] = {}
        for version in sorted(self.migrations):
            for step in self.migrations[version]:
                if isinstance(step, Table):
                    _check_table(self.plugin, step)
                    tables[step.name] = self.stored(step)
                else:
                    old = tables[step.table]
                    tables[step.table] = Table(old.name, (*old.columns, step.column), old.key)
        object.__setattr__(self, "_tables", tables)

    @property
    def version(self) -> int:
        return len(self.migrations)

    def stored(self, table: Table) -> Table:
        """The declared table under the name the state stores it (prefixed with the plugin name)."""
        return Table(f"{self.plugin}_{table.name}", table.columns, table.key)

    def table(self, name: str) -> Table:
        """The current shape (after every migration) of the plugin's table ``name``, as stored."""
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"plugin {self.plugin} declares no table {name!r}") from None


def _check_table(plugin: str, table: Table) -> None:
    names = table.column_names()
    for name in (table.name, *names):
        if not name.isidentifier():
            raise ValueError(f"{plugin}: {name!r} is not a valid table or column name")
    if not table.key or not set(table.key) <= set(names):
        raise ValueError(f"{plugin}.{table.name}: the key must name declared columns")


class PluginTables:
    """One plugin's tables in an open state (``state.tables(SCHEMA)``); safe to use from several threads
    when the state is."""

    def __init__(self, state: StateStore, schema: PluginSchema) -> None:
        self.state, self.schema = state, schema

    def _table(self, name: str, columns: Iterable[str]) -> Table:
        table = self.schema.table(name)
        unknown = set(columns) - set(table.column_names())
        if unknown:
            raise KeyError(f"{self.schema.plugin}.{name} has no column(s) {', '.join(sorted(unknown))}")
        return table

    def rows(self, name: str, where: Where | None = None, *, order_by: Sequence[str] = ()) -> list[Row]:
        """Rows of ``name`` matching ``where`` (every row without one), as dicts of every column."""
        where = where or {}
        return self.state.select_rows(self._table(name, [*where, *order_by]), where, order_by)

    def first(self, name: str, where: Where) -> Row | None:
        found = self.rows(name, where)
        return found[0] if found else None

    def put(self, name: str, rows: Iterable[Mapping[str, Value]], *,
            on_conflict: Literal["update", "ignore"] = "update", update: Sequence[str] | None = None) -> int:
        """Insert rows; a row whose key exists already updates ``update`` (default: every column it gives
        beyond the key) or, with ``on_conflict="ignore"``, is left as it is.  Returns how many rows were written:
        with ``on_conflict="ignore"``, how many were new."""
        rows = list(rows)
        if not rows:
            return 0
        columns = list(rows[0])
        table = self._table(name, [*columns, *(update or ())])
        if any(list(r) != columns for r in rows):
            raise ValueError(f"{self.schema.plugin}.{name}: every row must give the same columns")
        if on_conflict == "ignore":
            changed: tuple[str, ...] = ()
        else:
            changed = tuple(update) if update is not None else tuple(c for c in columns if c not in table.key)
        return self.state.insert_rows(table, columns, rows, ignore=on_conflict == "ignore", update=changed)

    def update(self, name: str, where: Where, values: Mapping[str, Value] | None = None, *,
               increment: Mapping[str, int] | None = None) -> int:
        """Set ``values`` and add ``increment`` to integer columns of the matching rows; returns how many."""
        values, increment = dict(values or {}), dict(increment or {})
        table = self._table(name, [*where, *values, *increment])
        return self.state.update_rows(table, where, values, increment)

    def delete(self, name: str, where: Where) -> int:
        return self.state.delete_rows(self._table(name, where), where)
