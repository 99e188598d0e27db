"""A dry run's plan operations, held as the little that is left of those that let go of their payload.

A dry run whose adapter only validates lets go of a new record's create and stock payloads as they are planned
(``plan.build_plan``'s ``check``, ``ops.release``): what is left of such an operation is its action, payload kind,
key and record.  One ``PlannedOp`` per operation is still 96 bytes: 12 MB for the 128,000 operations of 100,000
products, held from the plan to the run's end (the rows' accounting, the report and the printed plan, the end
of the run's peak); freed, their pages would stay the process's all the same (Python's allocator gives back an
arena only when every object in it is gone, and those of the report are larger blocks that do not reuse them).
``ReleasedOps`` holds such an operation as its key, its record and one byte (which action and kind), and makes an
equal ``PlannedOp`` when it is read (each read makes a new one: it is not to be changed in place); any other
operation (an update, one whose payload is kept) is held as it is.  ``op_fields`` reads the action, kind and key
of each without making any; ``sendable`` leaves out the refresh ops without making a list of every op.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import compress
from typing import Any, overload

from connector.sync.ops import RELEASED, CompactOps, PlannedOp

_KEPT = 255  # the form number of an operation kept as it is
_MAX_FORMS = 255


class ReleasedOps(CompactOps):
    """A plan's operations (see the module's docstring), in their order: an operation appended that let go of
    its payload is held as its key, its record and one byte, the others as they are."""

    __slots__ = ("_forms", "_index", "_items", "_of", "_records")

    def __init__(self, ops: Iterable[PlannedOp] = ()) -> None:
        self._forms: list[tuple[str, str]] = []  # form number -> (action, kind)
        self._index: dict[tuple[str, str], int] = {}
        self._items: list[Any] = []  # the key of a compact operation, or the operation kept
        self._records: list[Any] = []  # the record of a compact operation (None for one kept)
        self._of = array("B")  # each operation's form number, or _KEPT
        self.extend(ops)

    def append(self, op: PlannedOp) -> None:
        form = _KEPT
        if _compact(op):
            pair = (op.action, op.kind)
            form = self._index.get(pair, _KEPT)
            if form == _KEPT and len(self._forms) < _MAX_FORMS:
                form = self._index[pair] = len(self._forms)
                self._forms.append(pair)
        if form == _KEPT:
            self._items.append(op)
            self._records.append(None)
        else:
            self._items.append(op.key)
            self._records.append(op.record)
        self._of.append(form)

    def extend(self, ops: Iterable[PlannedOp]) -> None:
        for op in list(ops) if ops is self else ops:
            self.append(op)

    def fields(self) -> Iterator[tuple[str, str, str]]:
        """(action, kind, key) of each operation, without making it."""
        forms = self._forms
        for item, form in zip(self._items, self._of, strict=True):
            if form == _KEPT:
                yield item.action, item.kind, item.key
            else:
                action, kind = forms[form]
                yield action, kind, item

    def kept(self) -> list[PlannedOp]:
        """The operations held as they are (not released), in their order."""
        return [item for item, form in zip(self._items, self._of, strict=True) if form == _KEPT]

    def add_released(self, action: str, kind: str, key: str, record: Any) -> None:
        """Append the operation ``PlannedOp(action, kind, key, RELEASED, RELEASED, "", "", record)``."""
        form = self._index.get((action, kind), _KEPT)
        if form == _KEPT:
            self.append(PlannedOp(action, kind, key, RELEASED, RELEASED, "", "", record))
            return
        self._items.append(key)
        self._records.append(record)
        self._of.append(form)

    def entries(self) -> Iterator[tuple[PlannedOp | None, str, str, str]]:
        """(op, action, kind, key) of each operation: op None for one held compactly (released), not made."""
        forms = self._forms
        for item, form in zip(self._items, self._of, strict=True):
            if form == _KEPT:
                yield item, item.action, item.kind, item.key
            else:
                action, kind = forms[form]
                yield None, action, kind, item

    def _op(self, item: Any, record: Any, form: int) -> PlannedOp:
        if form == _KEPT:
            return item  # type: ignore[no-any-return]
        action, kind = self._forms[form]
        return PlannedOp(action, kind, item, RELEASED, RELEASED, "", "", record)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, i: int) -> PlannedOp: ...

    @overload
    def __getitem__(self, i: slice) -> list[PlannedOp]: ...

    def __getitem__(self, i: int | slice) -> PlannedOp | list[PlannedOp]:
        if isinstance(i, slice):
            return list(map(self._op, self._items[i], self._records[i], self._of[i]))
        return self._op(self._items[i], self._records[i], self._of[i])

    def __iter__(self) -> Iterator[PlannedOp]:
        return map(self._op, self._items, self._records, self._of)

    # (changed in place rarely: a plan's products taken out, a missing SKU's op replaced; the ops made again)
    def _replace(self, ops: list[PlannedOp]) -> None:
        self._items, self._records, self._of = [], [], array("B")
        self.extend(ops)

    def __setitem__(self, i: Any, value: Any) -> None:
        ops = list(self)
        ops[i] = value
        self._replace(ops)

    def __delitem__(self, i: Any) -> None:
        ops = list(self)
        del ops[i]
        self._replace(ops)

    def insert(self, index: int, value: PlannedOp) -> None:
        ops = list(self)
        ops.insert(index, value)
        self._replace(ops)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReleasedOps | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ReleasedOps({list(self)!r})"


def _compact(op: PlannedOp) -> bool:
    """Whether ``op`` is made again equal from its action, kind, key and record alone."""
    return (type(op) is PlannedOp and op.payload is RELEASED and op.body is RELEASED and op.canonical == ""
            and op.digest == "" and type(op.key) is str and type(op.action) is str and type(op.kind) is str)


def sendable(ops: Sequence[PlannedOp]) -> Sequence[PlannedOp]:
    """``ops`` but those that only move the state (``refresh``): of a ``ReleasedOps``, another, not a list of every
    operation made (12 MB for 100,000 products, which Python's allocator keeps once freed)."""
    if type(ops) is not ReleasedOps:
        return [op for op in ops if op.action != "refresh"]
    if all(action != "refresh" for action, _kind in ops._forms) and all(op.action != "refresh" for op in ops.kept()):
        return ops  # (the usual dry run's: nothing to leave out)
    out = ReleasedOps()
    out._forms, out._index = list(ops._forms), dict(ops._index)
    keep = [action != "refresh" for action, _kind, _key in ops.fields()]
    out._items, out._records = list(compress(ops._items, keep)), list(compress(ops._records, keep))
    out._of = array("B", compress(ops._of, keep))
    return out


def op_fields(ops: Sequence[PlannedOp]) -> Iterable[tuple[str, str, str]]:
    """(action, kind, key) of each of ``ops``: a ``ReleasedOps`` makes no operation to tell them."""
    if type(ops) is ReleasedOps:
        return ops.fields()
    return ((op.action, op.kind, op.key) for op in ops)
