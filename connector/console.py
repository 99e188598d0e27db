"""What people see in the terminal: issue lists, plans and run summaries."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from connector.errors import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE, EXIT_USAGE
from connector.sources.base import Issue
from connector.sync.plan import Plan
from connector.sync.report import FAILED, SKIPPED, RunReport

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

EXIT_MEANING = {
    EXIT_OK: "everything pushed or unchanged",
    EXIT_FAILED: "some rows failed or were skipped: see the report",
    EXIT_USAGE: "nothing was sent: fix the command, configuration or file",
    EXIT_PARTIAL: "daily budget spent: state saved, the next run carries on",
    EXIT_UNREACHABLE: "the marketplace could not be reached or refused the credentials",
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


def print_plan(plan: Plan) -> None:
    counts = plan.counts()
    table = Table(title=f"Plan for {plan.marketplace} ({plan.account})", title_justify="left")
    table.add_column("operation")
    table.add_column("count", justify="right")
    for label, key in (("create product", "create"), ("update product (changed fields)", "update"),
                       ("stock update", "stock"), ("unchanged product", "unchanged"),
                       ("unchanged stock", "stock_unchanged"), ("mapping failed", "mapping_failed")):
        table.add_row(label, str(counts.get(key, 0)))
    out.print(table)
    for op in plan.ops[:15]:
        if op.action != "refresh":
            fields = ", ".join(sorted(k for k in op.body if k != "externalId")) if op.action == "update" else ""
            out.print(f"  {op.action:<7} {escape(op.key)}" + (f"  [dim]({escape(fields)})[/]" if fields else ""))
    if len(plan.ops) > 15:
        out.print(f"  ... and {len(plan.ops) - 15} more")
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
    http = report.http
    if http:
        per_class = ", ".join(f"{k} {v}" for k, v in sorted(http.get("requests", {}).items())) or "none"
        out.print(f"HTTP requests: {http.get('total_requests', 0)} ({per_class}); retries {http.get('retries', 0)}, "
                  f"429 answers {http.get('throttled_429', 0)}, waited {http.get('waited_seconds', 0)}s")
    bad = [r for r in report.rows if r.status in (FAILED, SKIPPED)]
    for r in bad[:25]:
        where = f"{r.sheet} row {r.row}" if r.row else (r.sheet or "")
        colour = "red" if r.status == FAILED else "yellow"
        out.print(f"  [{colour}]{r.status}[/] {escape(r.sku or '?')} ({escape(where)}): {escape(r.reason or '')}")
    if len(bad) > 25:
        out.print(f"  ... and {len(bad) - 25} more (see the JSON report)")
    for note in report.notes:
        out.print(f"note: {escape(note)}")
    if report.unreachable:
        out.print(f"[red]marketplace unreachable:[/] {escape(report.unreachable)}")
    out.print(f"exit code {report.exit_code}: {EXIT_MEANING.get(report.exit_code, '')}")


def progress_factory(enabled: bool) -> Callable[[int], Callable[[int], None]] | None:
    """A progress bar on stderr for long runs (a terminal and at least 50 operations)."""
    if not enabled or not sys.stderr.isatty():
        return None

    def start(total: int) -> Callable[[int], None]:
        if total < 50:
            return lambda _n: None
        bar = Progress(TextColumn("pushing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=err, transient=True)
        task = bar.add_task("push", total=total)
        bar.start()
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            bar.update(task, advance=n)
            if done[0] >= total:
                bar.stop()

        return advance

    return start
