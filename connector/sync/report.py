"""The run report: every input row ends as pushed, unchanged, skipped (why) or failed (why).

A console table for people, JSON for machines; the exit code tells cron what happened.
"""

from __future__ import annotations

import json
import re
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import attrgetter, eq, itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from connector.atomic import replace_file
from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE, EXIT_USAGE
from connector.sync.rows import RowOutcome, RowTable, row_outcomes

if TYPE_CHECKING:  # (annotations only: a report is written without the planning modules, sync/unchanged.py)
    from connector.model import Product
    from connector.sources.base import SourceResult
    from connector.sync.ops import Adapter, ItemResult
    from connector.sync.plan import Plan

PUSHED, UNCHANGED, SKIPPED, FAILED = "pushed", "unchanged", "skipped", "failed"
_STATUS, _PRODUCT, _SKU = attrgetter("status"), attrgetter("product"), attrgetter("sku")
DRY_RUN_SENT = "dry run: would be sent"  # the reason of a dry run's row with nothing foreseen against it


ROWS_IN_FULL = 10_000
"""A report of up to this many rows lists each row as an object (``rows``); a larger one groups its rows by
outcome (``row_groups``, see ``group_rows``): a 100,000-row catalogue's report stays a few MB."""
_GROUPED = ("status", "actions", "reason", "marketplace_message", "code", "attention", "sheet")


def group_rows(rows: list[RowOutcome] | RowTable, *, lazy: bool = False) -> list[dict[str, Any]]:
    """Rows with the same outcome and sheet, as one object each: the outcome's fields once, ``count``, and
    ``rows``: ``[row number, SKU]``, or ``[row number, SKU, product key]`` when the product key is not the SKU
    (tuples here: JSON arrays in the file).  ``lazy`` (a report being saved): each group's ``rows`` is a
    ``RowItems`` that ``write_json`` writes as that array, its tuples made a piece at a time."""
    if type(rows) is RowTable:
        return _group_table(rows, lazy)
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    members: dict[tuple[Any, ...], list[Any]] = {}
    last: RowOutcome | None = None  # the row before, when its group is this one's (``items``)
    items: list[Any] = []
    for r in rows:
        # a row that shares the outcome tuple of the row before, sheet included (account_rows: the rows of one
        # outcome do), is of the same group, told without building and hashing its key
        if not (last is not None and r._outcome is last._outcome):
            key = _group_key(r._outcome)
            found = members.get(key)
            if found is None:
                found = members[key] = []
                groups[key] = _group(key, found)
            items, last = found, r
        items.append(r if lazy else _row_item(r))
    for key, group in groups.items():
        group["count"] = len(members[key])
        if lazy:
            group["rows"] = RowItems(members[key])
    return list(groups.values())


def _group_key(outcome: tuple[Any, ...]) -> tuple[Any, ...]:
    status, actions, reason, message, code, attention, sheet = outcome
    return (status, reason, message, code, attention, sheet), tuple(actions)


def _group(key: tuple[Any, ...], rows: Any) -> dict[str, Any]:
    """The object of a row group of ``key`` (``_group_key``), without its count."""
    (status, reason, message, code, attention, sheet), actions = key
    return {"status": status, "actions": list(actions), "reason": reason, "marketplace_message": message,
            "code": code, "attention": attention, "sheet": sheet, "count": 0, "rows": rows}


def _unchanged_key(sheet: Any) -> tuple[Any, ...]:
    """The group key of an unchanged row of ``sheet`` (``as_unchanged``)."""
    return (UNCHANGED, None, None, None, False, sheet), ()


def _group_table(table: RowTable, lazy: bool) -> list[dict[str, Any]]:
    """``group_rows`` of a ``RowTable``: the indices of its rows gathered per group key, in the order of each
    group's first row."""
    out = []
    for key, indices in table.indices_by(_group_key).items():
        group = _group(key, RowItems(table, indices) if lazy else list(map(table.item, indices)))
        group["count"] = len(indices)
        out.append(group)
    return out


def _distinct(column: Iterable[Any]) -> int:
    """How many distinct values ``column`` has besides None and "" (one set, not a second for the difference)."""
    values = set(column)
    values.discard(None)
    values.discard("")
    return len(values)


def _row_item(r: RowOutcome) -> tuple[Any, ...]:
    sku = r.sku
    return (r.row, sku) if r.product == sku and sku is not None else (r.row, sku, r.product)


class RowItems:
    """The ``rows`` of a row group being saved (``group_rows(lazy=True)``): its ``RowOutcome`` objects (or a
    ``RowTable`` and the indices of the group's rows in it), each made its ``(row number, SKU[, product key])``
    tuple only when ``write_json`` encodes its piece of the file, not a tuple per row of a 300,000-row report held
    at once (about 20 MB)."""

    __slots__ = ("indices", "rows")

    def __init__(self, rows: list[RowOutcome] | RowTable, indices: array | None = None) -> None:
        self.rows, self.indices = rows, indices

    def __len__(self) -> int:
        return len(self.rows) if self.indices is None else len(self.indices)

    def items(self, start: int, stop: int) -> list[tuple[Any, ...]]:
        if self.indices is not None:
            return list(map(self.rows.item, self.indices[start:stop]))  # type: ignore[union-attr]
        return [_row_item(r) for r in self.rows[start:stop]]


def as_unchanged(rows: list[RowOutcome] | RowTable, *, lazy: bool = False
                 ) -> tuple[dict[str, int], dict[str, dict[str, int]], list[dict[str, Any]]]:
    """The status counts, product counts and row groups (``group_rows``) of ``rows`` were each of them unchanged,
    nothing sent (what a later run that finds nothing changed reports: ``sync/unchanged.py``), without a copy of
    each row (300,000 rows: about 40 MB).  ``lazy``: each group's ``rows`` is a ``RowItems`` (for ``write_json``)."""
    groups: dict[Any, dict[str, Any]] = {}
    if type(rows) is RowTable:
        for sheet, indices in rows.indices_by(itemgetter(6)).items():  # (item 6 of an outcome: its sheet)
            groups[sheet] = _group(_unchanged_key(sheet), RowItems(rows, indices) if lazy else
                                   list(map(rows.item, indices)))
            groups[sheet]["count"] = len(indices)
        row_products, row_skus = rows.products(), rows.skus()
    else:
        for r in rows:
            sheet = r.sheet
            group = groups.get(sheet)
            if group is None:
                group = groups[sheet] = _group(_unchanged_key(sheet), [])
            group["rows"].append(r if lazy else _row_item(r))
        for group in groups.values():
            group["count"] = len(group["rows"])
            if lazy:
                group["rows"] = RowItems(group["rows"])
        row_products, row_skus = list(map(_PRODUCT, rows)), list(map(_SKU, rows))
    counts = {PUSHED: 0, UNCHANGED: len(rows), SKIPPED: 0, FAILED: 0}
    products: dict[str, dict[str, int]] = {status: {"products": 0, "skus": 0} for status in (FAILED, SKIPPED, PUSHED)}
    products[UNCHANGED] = {"products": _distinct(row_products), "skus": _distinct(row_skus)}
    return counts, products, list(groups.values())


def report_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of a saved JSON report as an object (the fields of ``RowOutcome``), whichever form it was saved
    in: ``rows`` (one object per row) or ``row_groups`` (a large run)."""
    if "rows" in data:
        return list(data["rows"])
    out: list[dict[str, Any]] = []
    for group in data.get("row_groups") or []:
        fields = {name: group[name] for name in _GROUPED}
        for item in group["rows"]:
            row, sku = item[0], item[1]
            out.append({"sku": sku, "product": item[2] if len(item) > 2 else sku, **fields, "row": row,
                        "actions": list(group["actions"])})
    return out


@dataclass
class RunReport:
    run_id: str
    source: str
    target: str
    dry_run: bool
    started_at: str
    finished_at: str | None = None
    exit_code: int = EXIT_OK
    rows: list[RowOutcome] = field(default_factory=list)
    operations: dict[str, int] = field(default_factory=dict)
    http: dict[str, Any] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unreachable: str | None = None
    estimate: dict[str, Any] | None = None  # how long the push takes under the documented limits (estimate.py)
    stopped: str | None = None  # why the run was asked to stop (SIGTERM): ends like a budget stop, exit 3
    refused: str | None = None  # the mass-change guard refused the plan: nothing was sent (exit 2)
    guard: dict[str, Any] = field(default_factory=dict)  # listed / affected SKU counts of the guard
    # SKU -> {"reserved": n, "listed": quantity}: stock held back for open marketplace orders (connector.orders)
    reserved: dict[str, dict[str, int]] = field(default_factory=dict)
    # {"reason": why, "skus": SKU -> {"wanted": n, "listed": m}}: quantities not raised because some
    # marketplace's orders are unknown this run (connector.sync.hold)
    not_raised: dict[str, Any] = field(default_factory=dict)
    # the orders flow's run (connector.orders.run): one entry per order, counts, missed orders
    orders: dict[str, Any] | None = None
    # the fulfilment flow's run (connector.fulfilment.run): one entry per order handed on, counts
    fulfilment: dict[str, Any] | None = None

    @property
    def status_counts(self) -> dict[str, int]:
        counts = {PUSHED: 0, UNCHANGED: 0, SKIPPED: 0, FAILED: 0}
        rows = self.rows
        if type(rows) is RowTable:
            for outcome, n in rows.outcome_counts():
                counts[outcome[0]] += n
            return counts
        for status, n in Counter(map(_STATUS, rows)).items():
            counts[status] += n
        return counts

    @property
    def product_counts(self) -> dict[str, dict[str, int]]:
        """Products and SKUs per status, each counted once: a product or SKU with several rows (a stock sheet
        row, a variant row) takes the most telling status of its rows (failed, skipped, pushed, unchanged)."""
        statuses = (UNCHANGED, PUSHED, SKIPPED, FAILED)  # least to most telling
        rows = self.rows
        if type(rows) is RowTable:  # read from its columns: no status, product or SKU listed per row
            status_of = [o[0] for o in rows.outcomes]
            present = {o[0] for o, _n in rows.outcome_counts()}
            row_products, row_skus = rows.products(), rows.skus()

            def of_status(status: str) -> Iterable[bool]:
                return map([s == status for s in status_of].__getitem__, rows.outcome_indices())
        else:
            row_statuses = list(map(_STATUS, rows))
            present = set(row_statuses)
            row_products, row_skus = list(map(_PRODUCT, rows)), list(map(_SKU, rows))

            def of_status(status: str) -> Iterable[bool]:
                return map(eq, row_statuses, repeat(status))
        out: dict[str, dict[str, int]] = {status: {} for status in reversed(statuses)}
        for name, column in (("products", row_products), ("skus", row_skus)):
            if len(present) == 1:  # the usual run: every row pushed (or unchanged); one set, not a dict of ranks
                only = next(iter(present))
                for status in statuses:
                    out[status][name] = _distinct(column) if status == only else 0
                continue
            best: dict[Any, int] = {}  # key -> rank of its most telling status: a later (higher) rank overrides
            for rank, status in enumerate(statuses):
                if status in present:
                    # (pairs, not a dict.fromkeys of them: no second dict of up to 100,000 keys at the report's peak)
                    best.update(zip(compress(column, of_status(status)), repeat(rank)))
            best.pop(None, None)  # rows without a product / SKU count for none
            best.pop("", None)
            counted = Counter(best.values())
            for rank, status in enumerate(statuses):
                out[status][name] = counted[rank]
        return out

    @property
    def deferred(self) -> int:
        return self.operations.get("deferred", 0)

    def compute_exit_code(self) -> int:
        counts = self.status_counts
        if self.refused:
            return EXIT_USAGE
        if self.unreachable:
            return EXIT_UNREACHABLE
        if (counts[FAILED] or any(o[5] for o in row_outcomes(self.rows)) or (self.orders or {}).get("attention")
                or (self.fulfilment or {}).get("attention")):
            return EXIT_FAILED
        if self.deferred or self.stopped:
            return EXIT_PARTIAL
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return self._json()

    def _json(self, lazy: bool = False) -> dict[str, Any]:
        """``to_json``; ``lazy``: row groups whose rows ``write_json`` alone writes (``group_rows``)."""
        return {
            "run_id": self.run_id, "source": self.source, "target": self.target, "dry_run": self.dry_run,
            "started_at": self.started_at, "finished_at": self.finished_at, "exit_code": self.exit_code,
            "summary": {"rows": self.status_counts, "products": self.product_counts, "operations": self.operations},
            "estimate": self.estimate, "stopped": self.stopped,
            "http": self.http, "unreachable": self.unreachable,
            "refused": self.refused, "guard": self.guard, "notes": self.notes, "warnings": self.warnings,
            "issues": self.issues,
            **({"rows": [r.to_json() for r in self.rows]} if len(self.rows) <= ROWS_IN_FULL
               else {"row_groups": group_rows(self.rows, lazy=lazy)}),
            **({"reserved": self.reserved} if self.reserved else {}),
            **({"not_raised": self.not_raised} if self.not_raised else {}),
            **({"orders": self.orders} if self.orders is not None else {}),
            **({"fulfilment": self.fulfilment} if self.fulfilment is not None else {}),
        }

    def save(self, path: Path) -> None:
        """Write the JSON report (indented for people; a large one compact, see ``ROWS_IN_FULL``)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        small = len(self.rows) <= ROWS_IN_FULL
        data = self.to_json() if small else self._json(lazy=True)

        def write(tmp: Path) -> None:
            with tmp.open("w", encoding="utf-8") as file:
                if small:
                    file.write(json.dumps(data, indent=2, ensure_ascii=False, default=str))
                else:  # compact, written piece by piece: never the whole report as one string
                    write_json(data, file)

        replace_file(path, write, durable=False)  # a run killed while writing leaves no half report to parse


JSON_PIECE = 2_000
"""Items of a list encoded at once by ``write_json``: pieces of a few hundred kB."""


def write_json(value: Any, file: IO[str]) -> None:
    """``json.dumps(value, ensure_ascii=False, default=str)`` written to ``file`` in pieces, the same text byte for
    byte: objects member by member, long arrays (and objects) ``JSON_PIECE`` items at a time, a short array of
    objects (the row groups) object by object; each piece one ``dumps``.  (``json.dump`` would encode everything
    in pure Python: only a one-shot encoding without indent runs in C.)  A ``RowItems`` is written as the list of
    its tuples would be."""
    if type(value) is RowItems:
        n = len(value)
        if n > JSON_PIECE:
            _write_pieces((_dumps(value.items(i, i + JSON_PIECE))[1:-1] for i in range(0, n, JSON_PIECE)), "[]", file)
        else:
            file.write(_dumps(value.items(0, n)))
        return
    if type(value) is dict and all(type(k) is str for k in value):
        if len(value) > JSON_PIECE:
            items = list(value.items())
            _write_pieces((_dumps(dict(items[i:i + JSON_PIECE]))[1:-1] for i in range(0, len(items), JSON_PIECE)),
                          "{}", file)
            return
        file.write("{")
        for i, (key, item) in enumerate(value.items()):
            file.write(f"{', ' if i else ''}{_dumps(key)}: ")
            write_json(item, file)
        file.write("}")
    elif isinstance(value, list | tuple) and len(value) > JSON_PIECE:
        _write_pieces((_dumps(value[i:i + JSON_PIECE])[1:-1] for i in range(0, len(value), JSON_PIECE)), "[]", file)
    elif isinstance(value, list | tuple) and dict in set(map(type, value)):
        file.write("[")
        for i, item in enumerate(value):
            if i:
                file.write(", ")
            write_json(item, file)
        file.write("]")
    else:
        file.write(_dumps(value))


def _write_pieces(pieces: Iterable[str], brackets: str, file: IO[str]) -> None:
    file.write(brackets[0])
    for i, piece in enumerate(pieces):
        file.write(f", {piece}" if i else piece)
    file.write(brackets[1])


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_encodable)


def _encodable(value: Any) -> Any:
    """What ``_dumps`` writes for a value JSON has no form of: a ``RowItems``' tuples (one inside an object written
    whole), anything else as its text (``default=str``)."""
    return value.items(0, len(value)) if type(value) is RowItems else str(value)


def account_rows(report: RunReport, source: SourceResult, plan: Plan | None,
                 results: dict[tuple[str, str], ItemResult], *, catalogue_kind: str | None, dry_run: bool) -> None:
    """Give every input row of the source its outcome.  A row's outcome depends only on its product's planned
    operations, their results and whether the row is on its product's own sheet or a stock sheet: it is worked out
    once per such case (``_outcome_cases``) and shared by every row it fits (300,000 rows of 67,000 products)."""
    sku_to_key: dict[str, str] = {}
    products = plan.products if plan else {}
    for key, product in products.items():
        for v in product.variants:
            sku_to_key[v.sku] = key
    mapping_failed: dict[str, str] = {}
    if plan:
        for product, message in plan.mapping_failures:
            for v in product.variants:
                mapping_failed[v.sku] = plain_mapping_reason(message)
                sku_to_key[v.sku] = product.key
    # product key -> its planned (kind, action) pairs, one tuple shared by every product with the same ones (not a
    # list per product: 67,000), then (``_outcome_cases``) the number of its case
    from connector.sync.released_ops import op_fields

    planned: dict[str, Any] = {}
    signatures: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
    for action, kind, op_key in op_fields(plan.ops) if plan else ():
        signature = (*planned.get(op_key, ()), (kind, action))
        planned[op_key] = signatures.setdefault(signature, signature)
    del signatures
    # case -> one product of it and its planned ops, what its rows' outcome is worked out from
    case_key, case_ops = _outcome_cases(planned, results, dry_run)
    case_of: dict[str, int] = planned
    # case -> (status, actions, reason, marketplace_message, code, attention) of a row on its product's own sheet,
    # and of a row on another (a per-location stock sheet, in any language)
    own_rows: list[tuple[Any, ...] | None] = [None] * len(case_key)
    stock_rows: list[tuple[Any, ...] | None] = [None] * len(case_key)
    # sheet -> (case -> the outcome tuple of ``RowOutcome``, i.e. the above and the sheet, of an own row, then of a
    # stock row; the tuple of an unchanged row): the rows of one outcome on one sheet share one tuple
    per_sheet: dict[Any, tuple[list[tuple[Any, ...] | None], list[tuple[Any, ...] | None], tuple[Any, ...]]] = {}
    shared: dict[tuple[str, ...], list[str]] = {}  # one list per distinct actions: a large run's rows share them
    no_actions = shared[()] = []
    last_sheet: Any = _NO_REF
    own_of_sheet: list[tuple[Any, ...] | None] = []
    stock_of_sheet: list[tuple[Any, ...] | None] = []
    unchanged: tuple[Any, ...] = ()

    left_out = plan.left_out if plan else {}  # SKU -> (reason, code): why the plan left it out
    # (sheet, (reason, code)) -> the outcome of the left-out rows on that sheet for that reason (one tuple shared)
    left_out_rows: dict[Any, tuple[Any, ...]] = {}
    read_keys: dict[str, str] | None = None  # SKU -> product key of every product read, built if a row needs it
    # the rows as columns, the SKUs and row numbers those of the source's rows (module rows.py)
    table = RowTable.over(*source.rows.shared_columns())
    fill = table.filler()
    for sku, sheet, _row, skipped_reason in source.rows.columns():  # no RowRef built per row
        key = sku_to_key.get(sku or "")
        # the product a row belongs to, counted in the summary (a product refused before planning, e.g. for its
        # currency, is still one product)
        owner = key
        if not key:
            if read_keys is None:  # also products left out of the plan: only the SKUs the plan has no key of, not
                # a second dict of every SKU (an archived product never listed left out of 100,000: about 5 MB)
                read_keys = {v.sku: p.key for p in source.products for v in p.variants
                             if not sku_to_key.get(v.sku or "")}
            owner = read_keys.get(sku or "")
        if skipped_reason:
            fill(owner, (SKIPPED, no_actions, skipped_reason, None, None, True, sheet))
        elif sku in mapping_failed:
            fill(owner, (FAILED, no_actions, mapping_failed[sku], None, None, True, sheet))
        elif key is None and sku in left_out:  # (archived.py: an archived product or variant never listed there)
            why = left_out[sku]
            outcome = left_out_rows.get((sheet, why))
            if outcome is None:
                reason, code = why
                outcome = left_out_rows[(sheet, why)] = (SKIPPED, no_actions, reason, None, code, False, sheet)
            fill(owner, outcome)
        elif key is None:
            fill(owner, (SKIPPED, no_actions, "not part of any product that was read", None, None, False, sheet))
        else:
            if sheet is not last_sheet:  # (rows come sheet after sheet)
                found = per_sheet.get(sheet)
                if found is None:
                    found = per_sheet[sheet] = ([None] * len(case_key), [None] * len(case_key),
                                                (UNCHANGED, no_actions, None, None, None, False, sheet))
                own_of_sheet, stock_of_sheet, unchanged = found
                last_sheet = sheet
            if (case := case_of.get(key)) is None:  # nothing planned for the product: the row is unchanged
                fill(owner, unchanged)
                continue
            # (told row by row, not kept per product: a dict of 100,000 keys held at the run's peak, about 5 MB)
            product = products.get(key)  # (none for a SKU no longer in the source: safety.py)
            stock_row = product is not None and product.ref is not None and sheet != own_sheet(product)
            of_sheet = stock_of_sheet if stock_row else own_of_sheet
            outcome = of_sheet[case]
            if outcome is None:
                outcomes = stock_rows if stock_row else own_rows
                base = outcomes[case]
                if base is None:
                    out = RowOutcome(sku, owner, sheet, None, UNCHANGED, no_actions)
                    _row_outcome(out, case_key[case], case_ops[case], results, catalogue_kind, stock_row, dry_run)
                    actions = out.actions
                    if actions is not no_actions:
                        actions = shared.setdefault(tuple(actions), actions)
                    base = outcomes[case] = (out.status, actions, out.reason, out.marketplace_message, out.code,
                                             out.attention)
                outcome = of_sheet[case] = (*base, sheet)
            fill(owner, outcome)
    if report.rows:  # (rows accounted for before these: kept first)
        table = RowTable([*report.rows, *table])
    report.rows = table


_NO_REF = object()


def own_sheet(product: Product) -> str:
    """The sheet (or Odoo model) of a product's own rows; a row of another sheet is a stock sheet's, whose status
    is its stock update's alone.  A product's rows are where its variants come from: an Odoo template
    (``product.template``) has its variants' rows (``product.product``), which are no stock rows (before, a
    refused price update of an Odoo product, or any refused update of a service, was an "unchanged" row)."""
    first = product.variants[0].ref if product.variants else None
    return first.origin if first is not None else product.ref.origin  # type: ignore[union-attr]


def _outcome_cases(planned: dict[str, Any], results: dict[tuple[str, str], ItemResult], dry_run: bool
                   ) -> tuple[list[str], list[tuple[tuple[str, str], ...]]]:
    """Number the cases of the products of ``planned`` (product key -> its planned (kind, action) pairs), each
    key's pairs replaced in ``planned`` by the number of its case; returned: the first product of each case and its
    pairs.  The rows of two products have the same outcome when both have the same planned pairs and each pair has
    no result, or a plain accepted one, for both (what ``_row_outcome`` reads of them).  A product with any other
    result (a failure, a dry run's foreseen words) is a case of its own."""
    cases: dict[Any, int] = {}
    case_key: list[str] = []
    case_ops: list[tuple[tuple[str, str], ...]] = []
    get = results.get
    for key, ops in planned.items():
        states: list[bool | None] = []
        case: Any = key
        for kind, _action in ops:
            r = get((kind, key)) if results else None
            if r is None:
                states.append(None)
            elif r.ok and not (dry_run and r.message):
                states.append(True)
            else:
                break
        else:
            case = (ops, tuple(states))
        n = cases.get(case)
        if n is None:
            n = cases[case] = len(case_key)
            case_key.append(key)
            case_ops.append(ops)
        planned[key] = n  # (a value replaced: the dict's size does not change while it is read)
    return case_key, case_ops


def _row_outcome(out: RowOutcome, key: str, planned: list[tuple[str, str]],
                 results: dict[tuple[str, str], ItemResult], catalogue_kind: str | None, stock_row: bool,
                 dry_run: bool) -> None:
    failures, deferred, skipped, pushed = [], [], [], []
    foreseen: str | None = None  # a dry run's word on an op that would be sent ("would be matched by SKU...")
    for kind, action in planned:
        if action == "refresh" or (stock_row and kind == catalogue_kind):
            continue
        r = results.get((kind, key)) if results else None
        if r is None:
            if dry_run:  # nothing foreseen against it: it would be sent
                pushed.append(action)
            continue
        if r.ok:
            pushed.append(action)
            if dry_run and r.message:
                foreseen = foreseen or r.message
        elif r.skipped:
            skipped.append(r)
        elif r.deferred:
            deferred.append(r)
        else:
            failures.append(r)
    if failures:
        r = failures[0]
        out.status = FAILED
        out.actions = [r.op.action]
        failed = f"{r.op.action} would fail: " if dry_run else f"{r.op.action} failed: "
        out.reason = ("blocked: " if r.blocked else failed) + (r.message or "")
        out.marketplace_message, out.code = r.message, r.code
        out.attention = True
    elif skipped:
        out.status, out.reason, out.code = SKIPPED, skipped[0].message, skipped[0].code
    elif deferred:
        out.status, out.reason = SKIPPED, f"deferred to the next run: {deferred[0].message}"
    elif pushed:
        out.status, out.actions = PUSHED, pushed
        if dry_run:  # one text shared by the rows of a large dry run, not a copy per row
            out.reason = f"dry run: {foreseen}" if foreseen else DRY_RUN_SENT


def count_operations(plan: Plan | None, results: dict[tuple[str, str], ItemResult]) -> dict[str, int]:
    ops = {"create": 0, "update": 0, "stock": 0, "unchanged": 0, "failed": 0, "deferred": 0, "skipped": 0}
    if plan is None:
        return ops
    from connector.sync.released_ops import op_fields

    ops["unchanged"] = plan.counts()["unchanged"]
    for action, kind, key in op_fields(plan.ops):
        if action == "refresh":
            continue
        r = results.get((kind, key))
        if r is not None and r.ok and r.code:  # accepted, counted apart (e.g. a dry run's "match_at_push")
            ops[r.code] = ops.get(r.code, 0) + 1
        elif r is None or r.ok:
            ops[action] += 1
        elif r.skipped:
            ops["skipped"] += 1
        elif r.deferred:
            ops["deferred"] += 1
        else:
            ops["failed"] += 1
    ops["deferred"] += plan.left_out_deferred  # archived products whose lookup failed (archived_check.py)
    ops["mapping_failed"] = len(plan.mapping_failures)
    return ops


def record_payload_problems(report: RunReport, results: dict[tuple[str, str], ItemResult], adapter: Adapter) -> None:
    """Ops refused as invalid before sending (dry run or not): each problem becomes an issue of the report,
    per value, in the merchant's words (SKU, field, value, reason, sheet and row when known)."""
    code = adapter.invalid_code
    seen: set[tuple[str | None, str | None, str, str]] = set()
    for r in results.values():
        if r.ok or r.code != code:
            continue
        for p in adapter.problems(r.op):
            if (p.sku, p.product, p.field, p.reason) in seen:
                continue
            seen.add((p.sku, p.product, p.field, p.reason))
            report.issues.append({
                "sheet": p.ref.origin if p.ref else None, "row": p.ref.row if p.ref else None,
                "column": p.field or None, "value": p.shown_value or None, "reason": p.reason,
                "sku": p.sku or p.product, "severity": "error", "target": report.target})


# what the mapping engine's errors (Jinja's, Python's decimal module's) say, in plain words
_MAPPING_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"'[\w. ]+ object' has no attribute '(\w+)'|'(\w+)' is undefined"),
     "has no value: '{0}' is neither in the source nor in the profile's defaults"),
    (re.compile(r"\[<class 'decimal\.\w+'>(?:, <class 'decimal\.\w+'>)*\]|<class 'decimal\.\w+'>"),
     "the number is too large or not a number"),
    (re.compile(r"cannot convert (?:float )?(?:NaN|Infinity) to integer"), "the number is not finite"),
    (re.compile(r"unsupported operand type\(s\)[^;]*|can only concatenate [^;]*|'\w+' object is not \w+"),
     "holds values that cannot be combined this way (check the mapping)"),
)
_MAPPING_FIELD = re.compile(r"^mapping field '(?:[^']*\.)?([A-Za-z_]\w*)(?:\[\])?': ")


def plain_mapping_reason(message: str) -> str:
    """A mapping failure for a report row: the payload field as the merchant knows it (``Price``), and Jinja's
    and Python's own texts translated (``'dict object' has no attribute 'brand'``,
    ``[<class 'decimal.InvalidOperation'>]``)."""
    from connector.marketplaces.wording import FIELD_WORDS

    field = _MAPPING_FIELD.match(message)
    if field:
        name = FIELD_WORDS.get(field.group(1), field.group(1))
        message = f"{name}: {message[field.end():]}"
    for pattern, words in _MAPPING_WORDS:
        match = pattern.search(message)
        if match:
            name = next((g for g in match.groups() if g), "")
            message = message[:match.start()] + words.format(name) + message[match.end():]
    return message
