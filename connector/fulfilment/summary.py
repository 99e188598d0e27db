"""What people see of a fulfilment run: per marketplace, how many orders ended how, and why the ones held back or
refused were (the same style as an orders run)."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from connector.console import http_line, out
from connector.errors import EXIT_OK
from connector.fulfilment.model import FulfilResult
from connector.orders.summary import SHOWN, print_tail
from connector.sync.report import RunReport

LABELS = {FulfilResult.SHIPPED: ("shipped", "to ship"), FulfilResult.DELIVERED: ("delivered", "to deliver"),
          FulfilResult.CANCELLED: ("cancelled", "to cancel"), FulfilResult.UNCHANGED: ("unchanged", "unchanged"),
          FulfilResult.ATTENTION: ("needs attention", "needs attention"),
          FulfilResult.FAILED: ("failed", "would fail"), FulfilResult.UNSUPPORTED: ("unsupported", "unsupported")}
LISTED = (FulfilResult.ATTENTION, FulfilResult.FAILED)
COLOURS = {FulfilResult.FAILED: "red", FulfilResult.ATTENTION: "yellow"}


def print_fulfil_summary(report: RunReport) -> None:
    section = report.fulfilment or {}
    counts = section.get("counts", {})
    title = (f"{'Dry run: fulfilment' if report.dry_run else 'Fulfilment'} {section.get('source')} -> "
             f"{report.target.split()[0]} ({section.get('account')})")
    if not any(counts.values()) and report.exit_code == EXIT_OK and not report.notes and not report.warnings:
        out.print(escape(f"{title}: nothing new to send back (exit code 0)"))  # most runs: one line
        return
    out.print(escape(title))
    table = Table()
    table.add_column("orders", justify="left")
    table.add_column("", justify="right")
    for result, (done, would) in LABELS.items():
        table.add_row(would if report.dry_run else done, str(counts.get(result.value, 0)))
    out.print(table)
    if report.http:
        out.print(http_line(report))
    if section.get("read_error"):
        out.print(f"  [red]failed[/] {escape(section['read_error'])}")
    if section.get("unsupported") and counts.get(FulfilResult.UNSUPPORTED.value):
        out.print(f"  unsupported: {escape(section['unsupported'])}")
    # held back and refused orders first, then the others with something to say (waiting for the rest of an
    # order, already cancelled, what a dry run would send)
    orders = section.get("orders", [])
    told = ([o for o in orders if o["result"] in LISTED]
            + [o for o in orders if o["result"] not in LISTED and o["reason"] and o["result"] != "unsupported"])
    for o in told[:SHOWN]:
        result = FulfilResult(o["result"])
        word = LABELS[result][1 if report.dry_run else 0]
        word = f"[{COLOURS[result]}]{word}[/]" if result in COLOURS else word
        out.print(f"  {word} {escape(o['reference'])}: {escape(o['reason'] or '')}")
    if len(told) > SHOWN:
        out.print(f"  ... and {len(told) - SHOWN} more (see the JSON report)")
    print_tail(report, "nothing failed (dry run: nothing sent or saved)" if report.dry_run else
               "every shipment and cancellation read is on the marketplace (or said unsupported)",
               "some orders failed or need attention: see above and the report")
