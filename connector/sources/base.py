"""What every source returns: canonical products plus the problems found while reading."""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress, repeat
from operator import eq
from typing import Any, overload

from connector.errors import EXIT_FAILED, EXIT_OK
from connector.model import Product, SourceRef


@dataclass(slots=True)
class Issue:
    """A problem with one input cell/row/record.

    Spreadsheet issues carry sheet, row, column header and the raw value; other sources fill ``sheet`` with
    their origin (e.g. ``product.product``) and leave ``column`` empty.
    """

    reason: str
    sheet: str | None = None
    row: int | None = None  # 1-based, as the user sees it in the spreadsheet
    column: str | None = None  # the header text as written in the file
    value: Any = None  # raw value as read
    sku: str | None = None
    severity: str = "error"  # error: the row is skipped; warning: the row goes on
    col_index: int | None = None  # 0-based column index, for highlighting cells

    @property
    def shown_value(self) -> str:
        """The raw value as the user typed it: a spreadsheet number 2.0 is shown as 2."""
        v = self.value
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        val = f" (value: {self.shown_value!r})" if self.shown_value else ""
        return f"{self.where()}: {self.reason}{val}" if self.where() else f"{self.reason}{val}"

    def to_json(self) -> dict[str, Any]:
        """The issue as ``connector validate --json`` prints it and a run report lists it."""
        return {"sheet": self.sheet, "row": self.row, "column": self.column,
                "value": self.shown_value if self.value is not None else None, "reason": self.reason,
                "sku": self.sku, "severity": self.severity}


@dataclass(slots=True)
class RowRef:
    """One input row and what became of it at the source level."""

    sku: str | None
    ref: SourceRef
    skipped_reason: str | None = None


NO_ROW = -(2**63)  # the row-number column's "no row number" (``SourceRef.row`` None); a report's too (rows.py)
_ROW_VALUE = {NO_ROW: None}.get  # (n, n) -> n, except the sentinel -> None: in C, over a whole column
_CHUNK = 4096  # rows built at a time while iterating


def _slot_setters(cls: type) -> list[Any]:
    return [cls.__dict__[name].__set__ for name in cls.__slots__]  # type: ignore[attr-defined]


_REF_SETTERS, _ROWREF_SETTERS = _slot_setters(SourceRef), _slot_setters(RowRef)


def _build(cls: type, setters: list[Any], n: int, columns: Sequence[Iterable[Any]]) -> list:
    """``n`` instances of the slots dataclass ``cls`` (no ``__init__`` logic: these classes have none), one
    C-level pass per field, ``columns`` in slot order; what ``cls(*values)`` would give, several times faster."""
    objs = list(map(cls.__new__, repeat(cls, n)))
    for setter, column in zip(setters, columns, strict=True):
        deque(map(setter, objs, column), maxlen=0)
    return objs


class SourceRows(Sequence[RowRef]):
    """Every input row of a source and what became of it: a sequence of ``RowRef``, stored as columns.

    A 100,000-row workbook with two stock sheets has 300,000 rows; one ``RowRef`` and one ``SourceRef`` per row
    (and an int per row number) held about 30 MB for the whole run.  Here a row is a SKU pointer, an origin
    index and a row number in arrays; the skipped reasons (few) in a dict.  Iterating or indexing builds
    ``RowRef`` instances equal to those added (a ``SourceRef`` is not kept by identity); ``add_sheet`` adds the
    rows of one sheet at once.
    """

    __slots__ = ("_idents", "_origin_ix", "_origins", "_reasons", "_rows", "_skus")

    def __init__(self, rows: Iterable[RowRef] = ()) -> None:
        self._skus: list[str | None] = []
        self._origins: dict[str, int] = {}  # origin -> its index, in order of first use
        self._origin_ix = array("I")
        self._rows = array("q")  # row numbers; NO_ROW for None
        self._idents: list[str | None] | None = None  # None while no row has an ident
        self._reasons: dict[int, str] = {}  # row index -> skipped reason (rows without one are not here)
        self.extend(rows)

    # -- adding ---------------------------------------------------------------------------------------------------
    def _origin(self, origin: str) -> int:
        return self._origins.setdefault(origin, len(self._origins))

    def append(self, row: RowRef) -> None:
        ref = row.ref
        i = len(self._skus)
        self._skus.append(row.sku)
        self._origin_ix.append(self._origin(ref.origin))
        self._rows.append(NO_ROW if ref.row is None else ref.row)
        if ref.ident is not None and self._idents is None:
            self._idents = [None] * i
        if self._idents is not None:
            self._idents.append(ref.ident)
        if row.skipped_reason is not None:
            self._reasons[i] = row.skipped_reason

    def extend(self, rows: Iterable[RowRef]) -> None:
        if isinstance(rows, SourceRows):
            start = len(self._skus)
            if rows._idents is not None and self._idents is None:
                self._idents = [None] * start
            if self._idents is not None:
                self._idents.extend(rows._idents if rows._idents is not None else repeat(None, len(rows)))
            origins = {ix: self._origin(origin) for origin, ix in rows._origins.items()}
            self._origin_ix.extend(map(origins.__getitem__, rows._origin_ix))
            self._skus.extend(rows._skus)
            self._rows.extend(rows._rows)
            self._reasons.update((start + i, reason) for i, reason in rows._reasons.items())
            return
        for row in rows:
            self.append(row)

    def add_sheet(self, origin: str, first_row: int, skus: Sequence[str | None], reasons: dict[int, str],
                  skip: Sequence[bool] | None = None) -> None:
        """The rows of one sheet: row ``first_row + i`` has SKU ``skus[i]`` and, if any, the skipped reason
        ``reasons[i]``; the rows whose ``skip`` is true (blank rows, examples) are left out."""
        n = len(skus)
        start = len(self._skus)
        numbers: Iterable[int] = range(first_row, first_row + n)
        if skip is not None and any(skip):
            if len(skip) != n:
                raise ValueError(f"{len(skip)} skip flags for {n} rows")
            keep = [not s for s in skip]
            skus = list(compress(skus, keep))
            numbers = compress(numbers, keep)
            before = list(accumulate(skip, initial=0))  # rows left out before each row
            reasons = {i - before[i]: reason for i, reason in reasons.items() if not skip[i]}
        k = len(skus)
        self._skus.extend(skus)
        self._origin_ix.extend(array("I", (self._origin(origin),)) * k)  # (an array repeated: no pass per row)
        self._rows.extend(numbers)
        if self._idents is not None:
            self._idents.extend(repeat(None, k))
        self._reasons.update((start + i, reason) for i, reason in reasons.items() if reason is not None)

    # -- reading --------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._skus)

    def _build_rows(self, start: int, stop: int) -> list[RowRef]:
        stop = min(stop, len(self._skus))
        n = stop - start
        if n <= 0:
            return []
        origins = list(self._origins)
        numbers = self._rows[start:stop]
        idents = self._idents[start:stop] if self._idents is not None else repeat(None)
        refs = _build(SourceRef, _REF_SETTERS, n, (map(origins.__getitem__, self._origin_ix[start:stop]),
                                                   map(_ROW_VALUE, numbers, numbers), idents))
        reasons = map(self._reasons.get, range(start, stop)) if self._reasons else repeat(None)
        return _build(RowRef, _ROWREF_SETTERS, n, (self._skus[start:stop], refs, reasons))

    def __iter__(self) -> Iterator[RowRef]:
        for start in range(0, len(self._skus), _CHUNK):
            yield from self._build_rows(start, start + _CHUNK)

    @overload
    def __getitem__(self, index: int) -> RowRef: ...

    @overload
    def __getitem__(self, index: slice) -> list[RowRef]: ...

    def __getitem__(self, index: int | slice) -> RowRef | list[RowRef]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return self._build_rows(start, stop)[::step] if step > 0 else list(self)[index]
        i = range(len(self))[index]  # IndexError as a list gives it
        return self._build_rows(i, i + 1)[0]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SourceRows | list | tuple):
            return len(self) == len(other) and all(map(eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"SourceRows({list(self)!r})"

    def columns(self) -> Iterator[tuple[str | None, str, int | None, str | None]]:
        """``(sku, origin, row number, skipped reason)`` of every row, in order: what iterating gives without
        building a ``RowRef`` and a ``SourceRef`` per row (a report accounting for 300,000 rows)."""
        origins = list(self._origins)
        reasons = map(self._reasons.get, range(len(self._skus))) if self._reasons else repeat(None)
        return zip(self._skus, map(origins.__getitem__, self._origin_ix), map(_ROW_VALUE, self._rows, self._rows),
                   reasons, strict=False)  # repeat(None) is endless

    def shared_columns(self) -> tuple[list[str | None], array]:
        """The SKU and row-number (``NO_ROW``: None) columns themselves, for a reader that never changes them
        (a report's ``RowTable``, which shares them)."""
        return self._skus, self._rows

    def skus(self) -> list[str | None]:
        """The SKU of every row, in order (a copy)."""
        return list(self._skus)

    def skipped(self) -> list[RowRef]:
        """The rows with a skipped reason, in order."""
        return [self[i] for i in sorted(self._reasons)]


PRICE_REFUSED = "price_refused"
"""The code of a target's row refused for its price (``connector/sync/prices.py``): the source's data, not the
push, is wrong, so it does not hold the incremental cursors back; the source reads it again (``recheck``)."""
SKU_CASE_CHANGED = "sku_case_changed"
"""The code of a target's row held back for a listed SKU retyped in other letter case (``connector/sync/
case_retyped.py``): the source's data again, read again by the next run (``recheck``), the cursors not held."""
_READ_AGAIN = frozenset({PRICE_REFUSED, SKU_CASE_CHANGED})  # codes of rows a source reads again (not held back)


@dataclass
class SourceResult:
    """Products that passed validation, every issue found, and every input row (for the report)."""

    products: list[Product] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows: SourceRows = field(default_factory=SourceRows)  # a list of RowRef given here becomes one
    warnings: list[str] = field(default_factory=list)
    # Which canonical fields the source provided at all (absent column => "don't touch").
    provided_fields: set[str] = field(default_factory=set)
    # Incremental cursors to save once every target confirmed the push: {(source, name): value}.
    # Saving them earlier would lose the changes of a run that failed (design §10, Singer).
    cursors: dict[tuple[str, str], str] = field(default_factory=dict)
    # Given the SKUs the targets skipped (a marketplace that lacks the product, ...), an incremental source
    # updates ``cursors`` so that its next read returns them again (sync/profile.py); None: every read does.
    recheck: Callable[[set[str]], None] | None = None
    # True when the read returned the whole catalogue (a workbook, a --full or first Odoo read, the supplier
    # feed with its snapshot): a product the marketplace holds that is not here left the source.
    full_read: bool = False
    # SKUs mentioned only on rows that name a product the source does not have (a stock sheet row whose SKU is
    # not in the Products sheet): such a row does not keep the SKU's listing on sale (sync/missing.py).
    orphan_skus: set[str] = field(default_factory=set)
    # Keys of products the source has but could not read whole (a variant or the product skipped for a data
    # problem), when a key is not one of their SKUs (Aleta's handles): such a product is reported by its rows,
    # never taken for one that left the source (sync/missing.py).
    held_keys: set[str] = field(default_factory=set)
    # Rows refused for their SKU cell (e.g. "Products row 3": empty, repeated, an invisible or look-alike
    # character): the SKU each was meant to carry is unknown, so a product the marketplace holds that the
    # source lacks may be one of theirs, and is left as it is until they are fixed (sync/missing.py).
    sku_unread_rows: list[str] = field(default_factory=list)
    # The stock locations a workbook or CSV gave, each with where it was read (("sheet", "Stock - Shop") or
    # ("column", "Stock: Shop")); None: a source that does not find its locations in a file (Odoo, Aleta).  A
    # location the last run had that is gone holds the stock back (sync/vanished_locations.py).
    stock_locations: dict[str, tuple[str, str]] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "rows" and not isinstance(value, SourceRows):
            value = SourceRows(value)
        super().__setattr__(name, value)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def cursors_may_advance(self, report: Any) -> bool:
        """Whether one target's run report lets the incremental cursors advance: every *valid* row was
        confirmed.

        Rows this source skipped for data problems (no SKU, duplicate, bad barcode...) do not hold the cursor
        back: holding it would make every later run read everything again and never see archivals.  The
        source remembers those rows next to its cursors (Odoo: the catalogue index; Aleta: the snapshot) and
        reports them again on every run until they are fixed.  Nor do rows a target refused for their price
        (``PRICE_REFUSED``) or held back for a SKU retyped in other letter case (``SKU_CASE_CHANGED``): skipped,
        they are read again by the next run (``recheck``).  Anything else that is
        not ``ok`` (a failed or deferred push, an unreachable marketplace) keeps the cursor where it was, so the
        next run reads the same changes again.
        """
        code = getattr(report, "exit_code", None)
        if code == EXIT_OK:
            return True
        if code != EXIT_FAILED or getattr(report, "unreachable", None) or getattr(report, "deferred", 0):
            return False
        ours = {(r.sku, r.skipped_reason) for r in self.rows.skipped() if r.skipped_reason}
        for row in getattr(report, "rows", []):
            if row.status == "failed":
                return False
            if row.attention and (row.sku, row.reason) not in ours and row.code not in _READ_AGAIN:
                return False
        return True

