"""A report's rows: ``RowOutcome`` (one input row's outcome) and ``RowTable``, the rows of a large run as columns.

A 100,000-product workbook with two stock sheets gives 300,000 rows.  One ``RowOutcome`` object per row, each with
its row number as an int of its own, held about 25 MB until the report was saved, at the peak of a dry run.  A
``RowTable`` holds a row as a product key pointer and an index into the few distinct outcome tuples (12 bytes),
and shares the SKU and row-number columns of the source's rows (``SourceRows``) until a row is added or changed.
Reading it gives ``RowOutcome`` views that read and write the table; the report's counts, groups and saved JSON
read the columns directly (``connector.sync.report``).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, MutableSequence
from typing import Any, overload

from connector.sources.base import NO_ROW  # the row-number column's None, as in the source's rows it may share

_OTHER = NO_ROW + 1  # a row "number" an int64 array cannot hold (never from a source), kept in ``_others``


def _outcome_field(i: int, name: str) -> property:
    """``RowOutcome.<name>``: item ``i`` of the row's outcome; set, it gives the row an outcome of its own."""

    def get(self: RowOutcome) -> Any:
        return self._outcome[i]

    def set_(self: RowOutcome, value: Any) -> None:
        o = self._outcome
        self._outcome = (*o[:i], value, *o[i + 1:])

    return property(get, set_, doc=f"The row's {name} (shared by the rows of the same outcome).")


class RowOutcome:
    """One input row's outcome.  Its own values (SKU, product, row number) and its outcome (status, actions,
    reason, the marketplace's message, code, attention, and the sheet) as one tuple, which the rows of the same
    outcome on the same sheet share (``account_rows``); setting one of the outcome's fields gives the row a tuple
    of its own.  Compared, shown and built like a dataclass of its ten fields.  A row read from a ``RowTable`` is
    a view of it (``_TableRow``): it equals the ``RowOutcome`` of the same values."""

    __slots__ = ("_outcome", "product", "row", "sku")
    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass

    def __init__(self, sku: str | None, product: str | None, sheet: str | None, row: int | None, status: str,
                 actions: list[str] | None = None, reason: str | None = None,
                 marketplace_message: str | None = None, code: str | None = None, attention: bool = False) -> None:
        self.sku, self.product, self.row = sku, product, row
        self._outcome: tuple[Any, ...] = (status, [] if actions is None else actions, reason, marketplace_message,
                                          code, attention, sheet)

    @classmethod
    def sharing(cls, sku: str | None, product: str | None, row: int | None, outcome: tuple[Any, ...]) -> RowOutcome:
        """A row with the outcome tuple ``outcome`` (status, actions, reason, marketplace_message, code, attention,
        sheet), shared, not copied."""
        out = cls.__new__(cls)
        out.sku, out.product, out.row, out._outcome = sku, product, row, outcome
        return out

    status = _outcome_field(0, "status")
    # what was (or would be) sent; rows with the same actions share one list (``account_rows``: 100,000 rows),
    # so a row's actions are replaced, never changed in place
    actions = _outcome_field(1, "actions")
    reason = _outcome_field(2, "reason")
    marketplace_message = _outcome_field(3, "marketplace_message")
    code = _outcome_field(4, "code")
    attention = _outcome_field(5, "attention")  # counts as "something failed" for the exit code
    sheet = _outcome_field(6, "sheet")

    def _values(self) -> tuple[Any, ...]:
        o = self._outcome
        return (self.sku, self.product, o[6], self.row, *o[:6])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RowOutcome):
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        names = ("sku", "product", "sheet", "row", "status", "actions", "reason", "marketplace_message", "code",
                 "attention")
        return f"RowOutcome({', '.join(f'{n}={v!r}' for n, v in zip(names, self._values(), strict=True))})"

    def __reduce__(self) -> tuple[Any, ...]:  # (a view pickles and copies as a row of its own)
        return (RowOutcome.sharing, (self.sku, self.product, self.row, self._outcome))

    def to_json(self) -> dict[str, Any]:
        status, actions, reason, message, code, attention, sheet = self._outcome
        return {"sku": self.sku, "product": self.product, "sheet": sheet, "row": self.row, "status": status,
                "actions": list(actions), "reason": reason, "marketplace_message": message, "code": code,
                "attention": attention}


def _column(name: str) -> property:
    def get(self: _TableRow) -> Any:
        return self._t.value(name, self._i)

    def set_(self: _TableRow, value: Any) -> None:
        self._t.set_value(name, self._i, value)

    return property(get, set_)


class _TableRow(RowOutcome):
    """Row ``_i`` of a ``RowTable``, read and written in place (a position: rows added or removed before it
    shift what it points at)."""

    __slots__ = ("_i", "_t")

    sku = _column("sku")  # type: ignore[assignment]
    product = _column("product")  # type: ignore[assignment]
    row = _column("row")  # type: ignore[assignment]
    _outcome = _column("_outcome")  # type: ignore[assignment]


class RowTable(MutableSequence[RowOutcome]):
    """Rows as columns (see the module's docstring): ``_skus`` and ``_numbers`` (row numbers, ``NO_ROW`` for
    None) may be a source's own columns, shared (``_shared``) until a row is added or changed; ``_products``;
    ``_oix``, each row's index into ``_outcomes``, the distinct outcome tuples (``_index``: id of a tuple -> its
    index; the tuples are kept alive by ``_outcomes``, so their ids stay theirs)."""

    __slots__ = ("_index", "_numbers", "_oix", "_others", "_outcomes", "_products", "_shared", "_shared_products",
                 "_skus")

    def __init__(self, rows: Iterable[RowOutcome] = ()) -> None:
        self._skus: list[str | None] = []
        self._numbers = array("q")
        self._shared = False
        self._others: dict[int, Any] = {}  # row index -> a row "number" the array cannot hold
        self._products: list[str | None] = []
        self._shared_products = False  # ``_products`` another table's (``with_outcomes``), copied before it changes
        self._oix = array("I")
        self._outcomes: list[tuple[Any, ...]] = []
        self._index: dict[int, int] = {}
        self.extend(rows)

    @classmethod
    def over(cls, skus: list[str | None], numbers: array) -> RowTable:
        """A table to be filled (``fill``) with one row per item of ``skus`` / ``numbers``, the columns of a
        source's rows, shared, never changed here."""
        table = cls()
        table._skus, table._numbers, table._shared = skus, numbers, True
        return table

    def filler(self) -> Callable[[str | None, tuple[Any, ...]], None]:
        """``fill`` of a table made by ``over`` that is filled with a row for each of its SKUs: its product and
        outcome columns made at their full size first, each row's put in place, not grown an item at a time (each
        growth a copy: about 10 MB of the C heap's pages taken for 300,000 rows, given back only once the report
        is done)."""
        n = len(self._skus)
        products: list[str | None] = [None] * n
        oix = array("I", bytes(4 * n))
        intern = self._intern
        at = 0

        def fill(product: str | None, outcome: tuple[Any, ...]) -> None:
            nonlocal at
            products[at] = product
            oix[at] = intern(outcome)
            at += 1

        self._products, self._oix = products, oix
        return fill

    def with_outcomes(self, change: Callable[[tuple[Any, ...]], tuple[Any, ...]]) -> RowTable:
        """The same rows, each with the outcome ``change`` gives for its own (called once per distinct outcome
        tuple): a table sharing this one's SKU, row-number and product columns (each copied before it changes), not
        a ``RowOutcome`` and an entry in each column per row (300,000 rows: about 8 MB)."""
        n = len(self)
        out = RowTable.over(self.skus(), self._numbers if len(self._numbers) == n else self._numbers[:n])
        out._others = dict(self._others)
        out._products, out._shared_products = self._products, True
        self._shared = self._shared_products = True  # (both tables copy a column before they change it)
        later = [out._intern(change(outcome)) for outcome in self._outcomes]  # outcome index -> the new one's
        out._oix = array("I", map(later.__getitem__, self._oix))
        return out

    def fill(self, product: str | None, outcome: tuple[Any, ...]) -> None:
        """The product and outcome of the next row of a table made by ``over``."""
        self._products.append(product)
        self._oix.append(self._intern(outcome))

    # -- columns ------------------------------------------------------------------------------------------------
    def _intern(self, outcome: tuple[Any, ...]) -> int:
        ix = self._index.get(id(outcome))
        if ix is None:
            ix = self._index[id(outcome)] = len(self._outcomes)
            self._outcomes.append(outcome)
        return ix

    def _own(self) -> None:
        """Copies of the shared columns, before they change (a row added, or one's SKU or number set)."""
        if self._shared:
            n = len(self._oix)
            self._skus, self._numbers, self._shared = self._skus[:n], self._numbers[:n], False
        self._own_products()

    def _own_products(self) -> None:
        if self._shared_products:
            self._products, self._shared_products = self._products[:len(self._oix)], False

    def _number(self, i: int) -> Any:
        n = self._numbers[i]
        if n == NO_ROW:
            return None
        return self._others[i] if n == _OTHER else n

    def _store_number(self, i: int, value: Any) -> None:
        self._others.pop(i, None)
        if value is None:
            self._numbers[i] = NO_ROW
            return
        try:
            if type(value) is not int or value <= _OTHER:
                raise TypeError
            self._numbers[i] = value
        except (TypeError, OverflowError):
            self._numbers[i] = _OTHER
            self._others[i] = value

    def value(self, name: str, i: int) -> Any:
        """Field ``name`` (sku, product, row, _outcome) of row ``i``."""
        if name == "_outcome":
            return self._outcomes[self._oix[i]]
        if name == "row":
            return self._number(i)
        return (self._skus if name == "sku" else self._products)[i]

    def set_value(self, name: str, i: int, value: Any) -> None:
        if name == "_outcome":
            self._oix[i] = self._intern(value)
        elif name == "product":
            self._own_products()
            self._products[i] = value
        else:
            self._own()
            if name == "sku":
                self._skus[i] = value
            else:
                self._store_number(i, value)

    def item(self, i: int) -> tuple[Any, ...]:
        """``(row number, SKU)`` of row ``i``, or ``(row number, SKU, product key)`` when the product key is not
        the SKU: the row's item in a saved report's row group (``report.group_rows``)."""
        sku, product = self._skus[i], self._products[i]
        n = self._numbers[i]
        number = None if n == NO_ROW else (self._others[i] if n == _OTHER else n)
        return (number, sku) if product == sku and sku is not None else (number, sku, product)

    def outcome_counts(self) -> list[tuple[tuple[Any, ...], int]]:
        """Each outcome tuple in use and its number of rows."""
        counts = Counter(self._oix)  # (counted in C)
        return [(self._outcomes[ix], n) for ix, n in sorted(counts.items())]

    def indices_by(self, key: Callable[[tuple[Any, ...]], Hashable]) -> dict[Any, array]:
        """The indices of the rows gathered by ``key`` of their outcome tuple (worked out once per tuple), the
        keys in the order of their first row."""
        groups: dict[Any, array] = {}
        add_to: list[Any] = [None] * len(self._outcomes)  # outcome index -> the append of its key's indices
        for i, ix in enumerate(self._oix):
            add = add_to[ix]
            if add is None:
                k = key(self._outcomes[ix])
                found = groups.get(k)
                if found is None:
                    found = groups[k] = array("I")
                add = add_to[ix] = found.append
            add(i)
        return groups

    def outcome_indices(self) -> array:
        """Each row's index into ``outcomes`` (the table's own array: not to be changed)."""
        return self._oix

    @property
    def outcomes(self) -> list[tuple[Any, ...]]:
        """The distinct outcome tuples (some may no longer be any row's)."""
        return self._outcomes

    def skus(self) -> list[str | None]:
        """Each row's SKU (a list that is not to be changed)."""
        return self._skus if len(self._skus) == len(self._oix) else self._skus[:len(self._oix)]

    def products(self) -> list[str | None]:
        """Each row's product key (the table's own list: not to be changed)."""
        return self._products

    # -- the sequence -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._oix)

    def _view(self, i: int) -> _TableRow:
        view = _TableRow.__new__(_TableRow)
        view._t, view._i = self, i
        return view

    @overload
    def __getitem__(self, i: int) -> RowOutcome: ...

    @overload
    def __getitem__(self, i: slice) -> RowTable: ...

    def __getitem__(self, i: int | slice) -> RowOutcome | RowTable:
        if isinstance(i, slice):  # a table of its own: slices of the columns, a copy of the outcomes
            out = RowTable()
            n = len(self)
            out._skus, out._numbers, out._products = self.skus()[i], self._numbers[:n][i], self._products[i]
            out._oix = self._oix[i]
            out._outcomes, out._index = list(self._outcomes), dict(self._index)
            if self._others:
                kept = range(n)[i]
                out._others = {j: self._others[k] for j, k in enumerate(kept) if k in self._others}
            return out
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("row index out of range")
        return self._view(i)

    def __iter__(self) -> Iterator[RowOutcome]:
        return map(self._view, range(len(self)))

    def __setitem__(self, i: Any, value: Any) -> None:
        if isinstance(i, slice):
            rows = list(map(_detached, self))
            rows[i] = list(value)
            self._replace(rows)
            return
        row = self[i]
        if not isinstance(value, RowOutcome):
            raise TypeError(f"a report row is a RowOutcome, not {type(value).__name__}")
        values = (value.sku, value.product, value.row, value._outcome)
        row.sku, row.product, row.row, row._outcome = values

    def __delitem__(self, i: Any) -> None:
        rows = list(map(_detached, self))
        del rows[i]
        self._replace(rows)

    def insert(self, index: int, value: RowOutcome) -> None:
        if index >= len(self):
            self.append(value)
            return
        rows = list(map(_detached, self))
        rows.insert(index, value)
        self._replace(rows)

    def append(self, value: RowOutcome) -> None:
        if not isinstance(value, RowOutcome):
            raise TypeError(f"a report row is a RowOutcome, not {type(value).__name__}")
        sku, product, number, outcome = value.sku, value.product, value.row, value._outcome  # (a view: read first)
        self._own()
        i = len(self._oix)
        self._skus.append(sku)
        self._numbers.append(NO_ROW)
        self._store_number(i, number)
        self._products.append(product)
        self._oix.append(self._intern(outcome))

    def extend(self, values: Iterable[RowOutcome]) -> None:
        if values is self:
            values = list(map(_detached, self))
        for value in values:
            self.append(value)

    def _replace(self, rows: list[RowOutcome]) -> None:
        self._skus, self._numbers, self._shared, self._others = [], array("q"), False, {}
        self._products, self._oix, self._outcomes, self._index = [], array("I"), [], {}
        self._shared_products = False
        self.extend(rows)

    def __reduce__(self) -> tuple[Any, ...]:
        # (a copy or a pickle is made of its rows: ``_index`` holds the ids of this process's outcome tuples)
        return (RowTable, (list(map(_detached, self)),))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RowTable | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RowTable({list(self)!r})"


def _detached(row: RowOutcome) -> RowOutcome:
    """A row of its own with the values of ``row`` (a view of a table that is being rebuilt)."""
    return RowOutcome.sharing(row.sku, row.product, row.row, row._outcome)


def row_outcomes(rows: Iterable[RowOutcome]) -> Iterable[tuple[Any, ...]]:
    """The outcome tuple of each row; of a ``RowTable``, each tuple in use once."""
    if type(rows) is RowTable:
        return [o for o, _n in rows.outcome_counts()]
    return (r._outcome for r in rows)
