"""What people see of an orders run: per marketplace, how many orders ended how, why the others did not, the
orders an earlier run missed, and the exit code."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from connector.console import EXIT_MEANING, http_line, out, print_warnings
from connector.errors import EXIT_FAILED, EXIT_OK
from connector.orders.outcome import OrderResult
from connector.orders.reservation import Reservation
from connector.sync.report import RunReport

LABELS = {OrderResult.IMPORTED: ("imported", "to import"), OrderResult.UPDATED: ("updated", "to update"),
          OrderResult.UNCHANGED: ("unchanged", "unchanged"),
          OrderResult.ATTENTION: ("needs attention", "needs attention"), OrderResult.FAILED: ("failed", "would fail")}
SHOWN = 25


def print_orders_summary(report: RunReport) -> None:
    section = report.orders or {}
    counts = section.get("counts", {})
    out.print(escape(f"{'Dry run: orders' if report.dry_run else 'Orders'} {report.source} ({section.get('account')})"
                     f" -> {section.get('destination')}"))
    table = Table()
    table.add_column("orders", justify="left")
    table.add_column("", justify="right")
    table.add_row("read", str(section.get("read", 0)))
    for result, (done, would) in LABELS.items():
        table.add_row(would if report.dry_run else done, str(counts.get(result.value, 0)))
    missed = section.get("missed") or []
    table.add_row("missed by earlier runs (expected 0)", str(len(missed)))
    out.print(table)
    if report.http:
        out.print(http_line(report))
    if section.get("read_error"):
        out.print(f"  [red]failed[/] {escape(section['read_error'])}")
    bad = [o for o in section.get("orders", []) if o["result"] in (OrderResult.ATTENTION, OrderResult.FAILED)]
    for o in bad[:SHOWN]:
        colour = "red" if o["result"] == OrderResult.FAILED else "yellow"
        word = LABELS[OrderResult(o["result"])][1 if report.dry_run else 0]
        out.print(f"  [{colour}]{word}[/] {escape(o['reference'])}: {escape(o['reason'] or '')}")
    if len(bad) > SHOWN:
        out.print(f"  ... and {len(bad) - SHOWN} more (see the JSON report)")
    ok = "nothing failed (dry run: nothing written or saved)" if report.dry_run else \
        "every order read is in the destination"
    print_tail(report, ok, "some orders failed or need attention: see above and the report")


def print_tail(report: RunReport, ok: str, failed: str) -> None:
    """The end of an orders or fulfilment summary: notes, why it stopped, warnings, the exit code and its
    meaning (``ok`` for 0, ``failed`` for 1)."""
    for note in report.notes:
        out.print(f"note: {escape(note)}")
    if report.unreachable:
        out.print(f"[red]stopped:[/] {escape(report.unreachable)}")
    if report.refused:
        out.print(f"[red]error:[/] {escape(report.refused)}")
    print_warnings(report)
    meaning = {EXIT_OK: ok, EXIT_FAILED: failed}.get(report.exit_code, EXIT_MEANING.get(report.exit_code, ""))
    out.print(f"exit code {report.exit_code}: {meaning}")


def print_reservation(held: Reservation) -> None:
    """Before a stock push: what open orders hold back (per SKU in each target's summary)."""
    if held.orders or held.accounted or held.shipped_orders:
        out.print(f"oversell guard: {escape(held.note)}")
    for sku, n in sorted(held.shipped.items()):
        out.print(f"  {escape(sku)}: reserved {n} for orders shipped since {escape(held.stock_file or '')} was last "
                  "saved")
