"""What people see in the terminal: issue lists, plans and run summaries."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from connector.errors import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE, EXIT_USAGE
from connector.sources.base import Issue
from connector.sync.hold import held_lines
from connector.sync.ops import CREATE_HELD, ItemResult, PlannedOp
from connector.sync.plan import Plan
from connector.sync.released_ops import op_fields
from connector.sync.report import FAILED, SKIPPED, RunReport

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

EXIT_MEANING = {
    EXIT_OK: "everything pushed or unchanged",
    EXIT_FAILED: "some rows failed or were skipped: see the report",
    EXIT_USAGE: "nothing was sent: fix the command, configuration or file",
    EXIT_PARTIAL: ("partial: a daily budget is spent, calls were still refused (429/5xx) or answered unreadably "
                   "after their retries, a listing contradicted itself, or the run was stopped; state saved, the "
                   "next run carries on"),
    EXIT_UNREACHABLE: "a marketplace or Odoo could not be reached, or refused the credentials",
    EXIT_LOCKED: "another run holds the state file",
}


def print_issues(issues: Sequence[Issue], warnings: Sequence[str] = (), limit: int = 200) -> None:
    for w in warnings:
        out.print(f"[yellow]warning:[/] {escape(w)}")
    if not issues:
        return
    table = Table(title=f"{len(issues)} problem(s) in the input", title_justify="left")
    for col in ("sheet", "row", "column", "value", "problem"):
        table.add_column(col, overflow="fold")
    for issue in list(issues)[:limit]:
        value = issue.shown_value
        style = "yellow" if issue.severity == "warning" else None
        table.add_row(escape(issue.sheet or ""), "" if issue.row is None else str(issue.row),
                      escape(issue.column or ""), escape(value[:60]), escape(issue.reason), style=style)
    out.print(table)
    if len(issues) > limit:
        out.print(f"... and {len(issues) - limit} more (see the JSON report)")


# the plan's own words for an operation nothing foresees against: it goes as planned
PLANNED = {"create": "create product", "update": "update product (changed fields)", "stock": "stock update"}
PLAN_LINES = 15


def foreseen(op: PlannedOp, result: ItemResult | None) -> tuple[str, str, str]:
    """What the push will really do with ``op``, as far as the dry run's preview (or a refused plan) says:
    (table label, verb of its line, detail of its line).  No result: sent as planned; an accepted result with
    words: sent as those words say (EcomLinx: "would be matched by SKU at push time"); otherwise not sent, and
    why (skipped, deferred, blocked by another op, refused before sending)."""
    if _as_planned(result):
        fields = ", ".join(sorted(k for k in op.body if k != "externalId")) if op.action == "update" else ""
        return PLANNED.get(op.action, op.action), op.action, fields
    message = result.message or ""
    detail = f"{op.kind}: {message}"
    if result.ok:
        return message, "push", detail
    if result.skipped:
        return (message if message.startswith("not sent") else f"not sent: {message}"), "skip", detail
    if result.code == CREATE_HELD:  # (one label for all: each message says why its stock does not go)
        return "not created without its stock", "skip", detail
    if result.deferred or result.blocked:
        return message, "skip", detail
    return f"refused before sending ({op.kind})", "refuse", detail


def _as_planned(result: ItemResult | None) -> bool:
    """Nothing foreseen against an op (or an accepted result without words): it goes as planned."""
    return result is None or (result.ok and not result.message)


def print_plan(plan: Plan, results: Mapping[tuple[str, str], ItemResult] | None = None) -> None:
    """The plan as the marketplace's adapter will carry it out: ``results`` are what its preview foresees
    (``SyncOutcome.results`` of a dry run), so an operation is counted and listed under what will really happen
    to it, not under the plan's action alone (an EcomLinx "create" is a SKU matched by SKU, or skipped)."""
    results = results or {}
    counts: dict[str, int] = {}
    n_sendable = 0
    # each op's label, told from its action, kind and key (a dry run's ops are not made one by one to tell it:
    # ``released_ops``); ``foreseen`` in full only for an op with something foreseen, whose result holds it
    for action, kind, key in op_fields(plan.ops):
        if action == "refresh":
            continue
        n_sendable += 1
        result = results.get((kind, key)) if results else None
        label = PLANNED.get(action, action) if _as_planned(result) else foreseen(result.op, result)[0]  # type: ignore[union-attr]
        counts[label] = counts.get(label, 0) + 1
    sendable = islice((op for op in plan.ops if op.action != "refresh"), PLAN_LINES)
    said = [(op, foreseen(op, results.get((op.kind, op.key)))) for op in sendable]
    plan_counts = plan.counts()
    table = Table(title=f"Plan for {plan.marketplace} ({plan.account})", title_justify="left")
    table.add_column("operation")
    table.add_column("count", justify="right")
    for label in (*PLANNED.values(), *(k for k in counts if k not in PLANNED.values())):
        if counts.get(label) or (label in PLANNED.values() and not n_sendable):
            table.add_row(escape(label), str(counts.get(label, 0)))
    for label, key in (("unchanged product", "unchanged"), ("unchanged stock", "stock_unchanged"),
                       ("mapping failed", "mapping_failed")):
        table.add_row(label, str(plan_counts.get(key, 0)))
    out.print(table)
    for op, (_label, verb, detail) in said[:PLAN_LINES]:
        out.print(f"  {verb:<7} {escape(op.key)}" + (f"  [dim]({escape(detail)})[/]" if detail else ""))
    if n_sendable > PLAN_LINES:
        out.print(f"  ... and {n_sendable - PLAN_LINES} more")
    for product, message in plan.mapping_failures[:20]:
        out.print(f"  [red]mapping failed[/] {escape(product.key)}: {escape(message)}")


def print_summary(report: RunReport) -> None:
    counts = report.status_counts
    ops = report.operations
    title = escape(f"{'Dry run' if report.dry_run else 'Sync'} {report.source} -> {report.target}")
    table = Table(title=title, title_justify="left")
    table.add_column("rows", justify="left")
    table.add_column("", justify="right")
    table.add_column("operations", justify="left")
    table.add_column("", justify="right")
    would = report.dry_run
    left = [("to push" if would else "pushed", counts["pushed"]), ("unchanged", counts["unchanged"]),
            ("skipped", counts["skipped"]), ("failed", counts["failed"])]
    right = [("products to create" if would else "products created", ops.get("create", 0)),
             ("products to update" if would else "products updated", ops.get("update", 0)),
             ("stock updates", ops.get("stock", 0)), ("products unchanged", ops.get("unchanged", 0)),
             ("deferred (budget)", ops.get("deferred", 0)), ("failed", ops.get("failed", 0))]
    if ops.get("skipped"):
        right.append(("not sent (see notes)", ops["skipped"]))
    for (lname, lval), (rname, rval) in zip(left + [("", "")] * (len(right) - len(left)), right, strict=True):
        table.add_row(lname, str(lval), rname, str(rval))
    out.print(table)
    if report.http:
        out.print(http_line(report))
    out.print(product_line(report))
    for line in reserved_lines(report):
        out.print(line)
    for line in held_lines(report):  # some marketplace's orders unknown: no quantity raised (sync/hold.py)
        out.print(f"[yellow]{escape(line)}[/]")
    if report.estimate and report.dry_run:
        out.print(f"estimate: {escape(report.estimate['text'])}")
    bad = counts[FAILED] + counts[SKIPPED]
    cells = _cell_values(report.issues) if bad else {}
    for r in islice((r for r in report.rows if r.status in (FAILED, SKIPPED)), 25) if bad else ():
        where = f"{r.sheet} row {r.row}" if r.row else (r.sheet or "")
        colour = "red" if r.status == FAILED else "yellow"
        where = f" ({escape(where)})" if where else ""  # (a row of the marketplace's: no sheet)
        values = cells.get((r.sheet, r.row)) if r.row else None
        shown = f" ({escape(values)})" if values else ""  # the cells it names, as they are in the file
        out.print(f"  [{colour}]{r.status}[/] {escape(r.sku or '?')}{where}: {escape(r.reason or '')}{shown}")
    if bad > 25:
        out.print(f"  ... and {bad - 25} more (see the JSON report)")
    for note in report.notes:
        out.print(f"note: {escape(note)}")
    if report.unreachable:
        out.print(f"[red]stopped:[/] {escape(report.unreachable)}")  # unreachable, or the credentials refused
    print_warnings(report)
    out.print(exit_line(report))


_SHOWN_VALUE = 40  # characters of a cell's value shown on a row's line (the report has it whole)


def _cell_values(issues: Sequence[dict[str, Any]]) -> dict[tuple[Any, Any], str]:
    """(sheet, row) -> the values of the cells its problems name ("Price*: '12,5O'"), for the rows printed: a bad
    cell's line names its sheet, row, column, value and reason, as ``connector validate``'s table does."""
    out: dict[tuple[Any, Any], list[str]] = {}
    for issue in issues:
        value = issue.get("value")
        if value is None or value == "" or issue.get("row") is None:
            continue
        text = str(value)
        text = text if len(text) <= _SHOWN_VALUE else text[:_SHOWN_VALUE - 1] + "…"
        out.setdefault((issue.get("sheet"), issue.get("row")), []).append(f"{issue.get('column') or 'value'}: {text!r}")
    return {where: "; ".join(values) for where, values in out.items()}


def http_line(report: RunReport) -> str:
    http = report.http
    per_class = ", ".join(f"{k} {v}" for k, v in sorted(http.get("requests", {}).items())) or "none"
    return (f"HTTP requests: {http.get('total_requests', 0)} ({per_class}); retries {http.get('retries', 0)}, "
            f"429 answers {http.get('throttled_429', 0)}, waited {http.get('waited_seconds', 0)}s")


RESERVED_SHOWN = 10


def reserved_lines(report: RunReport) -> list[str]:
    """The oversell guard's part of a stock run: per SKU, what open orders held back (the report has all)."""
    held = report.reserved
    if not held:
        return []
    lines = [f"held back for open orders: {sum(h['reserved'] for h in held.values())} unit(s) of {len(held)} SKU(s)"]
    for sku, h in sorted(held.items())[:RESERVED_SHOWN]:
        lines.append(f"  {escape(sku)}: reserved {h['reserved']} for open orders, listed {h['listed']}")
    if len(held) > RESERVED_SHOWN:
        lines.append(f"  ... and {len(held) - RESERVED_SHOWN} more (see the JSON report)")
    return lines


def exit_line(report: RunReport) -> str:
    """The summary's closing line: the exit code and what it means for this run.  Exit 0 with rows skipped for a
    benign reason (EcomLinx: "not on EcomLinx: create it there first") does not claim everything was pushed."""
    skipped = report.status_counts[SKIPPED]
    if report.exit_code == EXIT_OK and report.not_raised:  # the run's exit code is the order read's (sync/hold.py)
        return (f"exit code {EXIT_OK} for this push: nothing failed; {len(report.not_raised['skus'])} SKU(s) not "
                "raised until every marketplace's orders are read (see above)")
    if report.exit_code == EXIT_OK and skipped:
        return (f"exit code {EXIT_OK}: nothing failed; {skipped} row(s) skipped "
                "(see the reasons above)")
    return f"exit code {report.exit_code}: {EXIT_MEANING.get(report.exit_code, '')}"


def product_line(report: RunReport) -> str:
    """Products and SKUs per status, e.g. "products: 12 pushed (64 SKUs), 3 unchanged (9 SKUs)"."""
    counts = report.product_counts
    verbs = {"pushed": "to push" if report.dry_run else "pushed", "unchanged": "unchanged", "skipped": "skipped",
             "failed": "failed"}
    def part(status: str, c: dict[str, int]) -> str:
        skus = f"{c['skus']} SKU{'' if c['skus'] == 1 else 's'}"
        if not c["products"]:  # rows refused before a product was built of them: only their SKUs are known
            return f"{skus} {verbs[status]}"
        return f"{c['products']} {verbs[status]} ({skus})"

    parts = [part(status, c) for status, c in counts.items() if c["products"] or c["skus"]]
    return "products: " + (", ".join(parts) if parts else "none")


WARNINGS_SHOWN = 5


def print_warnings(report: RunReport) -> None:
    """The run's warnings (the source's, and input issues of warning severity): how many, and the first few."""
    print_warning_lines(list(report.warnings) + [
        f"{i.get('sheet') or ''} row {i.get('row')}: {i.get('reason')}" if i.get("row") else str(i.get("reason"))
        for i in report.issues if i.get("severity") == "warning"])


def print_warning_lines(warnings: Sequence[str], rest: str = "see the report for all") -> None:
    """How many warnings, and the first few (a catalogue can hold hundreds: a missing translation each);
    ``rest`` says where the others are."""
    if not warnings:
        return
    out.print(f"[yellow]{len(warnings)} warning(s)[/]" + (":" if len(warnings) <= WARNINGS_SHOWN else
                                                           f", the first {WARNINGS_SHOWN} ({rest}):"))
    for w in warnings[:WARNINGS_SHOWN]:
        out.print(f"  [yellow]warning:[/] {escape(w)}")


PROGRESS_INTERVAL = 30.0
"""Seconds between progress lines when stderr is not a terminal (cron, a log file)."""


class RunProgress:
    """Progress of a push on stderr, called as the runner's progress factory (``progress(total)`` returns
    ``advance(n)``) and told of the HTTP layer's waits (``waiting``, an ``on_wait`` hook).

    On a terminal: a bar (runs of at least 50 operations) that says when it waits for the rate limit (shorter
    runs: a line when a long wait starts).
    Otherwise: lines, at the start and the end and at least every ``interval`` seconds while things happen,
    and whenever a wait starts that long enough to matter ("waiting for the rate limit until 21:55:03 UTC").
    """

    def __init__(self, *, terminal: bool, interval: float = PROGRESS_INTERVAL,
                 clock: Callable[[], float] = time.monotonic, write: Callable[[str], None] | None = None) -> None:
        self.terminal, self.interval, self.clock = terminal, interval, clock
        self.write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self.total = self.done = 0
        self.last = 0.0  # clock of the last line
        self._bar: Progress | None = None
        self._task: Any = None

    def __call__(self, total: int) -> Callable[[int], None]:
        self.total, self.done = total, 0
        if self.terminal:
            if total >= 50:
                self._bar = Progress(TextColumn("pushing"), BarColumn(), MofNCompleteColumn(),
                                     TimeRemainingColumn(), TextColumn("{task.fields[status]}"), console=err,
                                     transient=True)
                self._task = self._bar.add_task("push", total=total, status="")
                self._bar.start()
        elif total:
            self._line()
        return self.advance

    def advance(self, n: int) -> None:
        self.done += n
        finished = self.done >= self.total
        if self._bar is not None:
            self._bar.update(self._task, advance=n, status="")
            if finished:
                self._bar.stop()
                self._bar = None
        elif not self.terminal and (finished or self.clock() - self.last >= self.interval):
            self._line()

    def waiting(self, seconds: float, until: datetime, reason: str) -> None:
        what = "the rate limit" if reason == "rate limit" else f"a {reason}"
        text = f"waiting for {what} until {until.astimezone(UTC):%H:%M:%S} UTC ({seconds:.0f} s)"
        if self._bar is not None:
            self._bar.update(self._task, status=text)
        elif seconds >= self.interval or (not self.terminal and self.clock() - self.last >= self.interval):
            self._line(text)  # on a terminal without a bar (a short run): only a long wait is said

    def _line(self, extra: str = "") -> None:
        self.last = self.clock()
        self.write(f"progress: {self.done}/{self.total} operation(s) done" + (f"; {extra}" if extra else ""))


def progress_factory(enabled: bool, interval: float = PROGRESS_INTERVAL) -> RunProgress | None:
    """A bar on a terminal, lines otherwise (``--no-progress``: nothing)."""
    if not enabled:
        return None
    return RunProgress(terminal=sys.stderr.isatty(), interval=interval)
