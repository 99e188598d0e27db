"""The orders workbook as a fulfilment source (``orders: {to: workbook}``): the merchant's **Status**, **Tracking
number** and **Courier** columns, which "Orders in" writes empty and never touches again.

Per order line row, Status is ``shipped``, ``delivered`` or ``cancelled`` (any case), or empty (nothing yet).
Shipped and delivered rows of one order are grouped by tracking number into shipments (``workbook:<tracking>``;
rows without one make ``workbook:untracked``, held as needs attention where the marketplace needs a tracking
number); each row ships its whole line.  All rows cancelled is the order cancelled; some of them only is a
problem (no marketplace of the connector takes a per-line cancellation through the canonical progress: cancel
the whole order).  A value that is none of these is a problem naming the sheet, row, column and value: the order
is held as needs attention until it is fixed.

The file is small and has no cursor: it is read whole on every run; the run compares each order's progress with
what the marketplace last confirmed, so an unchanged row sends nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from connector.config import matching_name
from connector.errors import ConfigError
from connector.fulfilment.model import OrderProgress, Shipment, ShippedLine
from connector.fulfilment.source import ImportedOrder, SourceRead
from connector.orders.model import Order, OrderLine
from connector.orders.workbook import BY_KEY, KEY_COLUMNS, CsvSheet, Sheet, XlsxSheet, key_text

NAME = "workbook"
SHIPPED, DELIVERED, CANCELLED = "shipped", "delivered", "cancelled"
STATUSES = (SHIPPED, DELIVERED, CANCELLED)
UNTRACKED = "untracked"
TRACKING_MAX = 100  # longer is a paste gone wrong (a whole address, a note), not a carrier's number


@dataclass
class _Row:
    number: int  # as the spreadsheet program shows it
    line_id: str
    status: str  # "" (nothing yet), or one of STATUSES
    tracking: str
    courier: str


@dataclass
class _OrderRows:
    imported: ImportedOrder
    rows: list[_Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class WorkbookSource:
    """``FulfilmentSource`` over the orders workbook at ``path`` (``.xlsx`` or ``.csv``)."""

    name = NAME

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, imported: Sequence[ImportedOrder], cursor: str | None, now: datetime) -> SourceRead:
        if not self.path.exists():
            return SourceRead([], notes=[f"orders workbook {self.path} does not exist yet: nothing to send back"])
        sheet = load_sheet(self.path)
        where = getattr(getattr(sheet, "sheet", None), "title", None) or self.path.name
        mine = os.path.realpath(self.path)
        by_id: dict[tuple[str, str], ImportedOrder] = {}
        for item in imported:  # an order another file holds (an earlier --to) is not this file's to ship
            written = item.record.get("workbook")
            if written is None or os.path.realpath(str(written)) == mine:
                by_id.setdefault((item.marketplace, item.order.remote_id), item)
        marketplaces = {m for m, _ in by_id}
        orders: dict[tuple[str, str], _OrderRows] = {}
        strangers: set[str] = set()
        cols = sheet.columns
        first = int(getattr(sheet, "first_row", 2))  # a title row above the header moves the rows down
        for i, cells in enumerate(sheet.rows()):
            number = first + i
            key = tuple(_cell(cells, cols, k) for k in KEY_COLUMNS)
            marketplace, order_id, line_id = key
            status_text = _cell(cells, cols, "status")
            if marketplace not in marketplaces or not order_id:
                continue  # another marketplace's row (--target), or an empty row
            item = by_id.get((marketplace, order_id))
            if item is None:
                if status_text:
                    strangers.add(f"{marketplace}:{order_id}")
                continue
            entry = orders.setdefault((marketplace, order_id), _OrderRows(item))
            status = status_text.casefold()
            if status and status not in STATUSES:
                entry.problems.append(
                    f"sheet {where}, row {number}, column {BY_KEY['status'].header}: {status_text!r} is not a status "
                    f"(write {', '.join(STATUSES)}, or leave it empty)")
                status = ""
            tracking = _cell(cells, cols, "tracking")
            if status in (SHIPPED, DELIVERED) and (wrong := tracking_problem(tracking, _raw(cells, cols, "tracking"))):
                entry.problems.append(f"sheet {where}, row {number}, column {BY_KEY['tracking'].header}: "
                                      f"{_shown(tracking)} {wrong}")
            entry.rows.append(_Row(number, line_id, status, tracking, _cell(cells, cols, "courier")))
        progress = [p for entry in orders.values() if (p := order_progress(entry, where)) is not None]
        notes = [f"{len(strangers)} order(s) with a Status in {self.path.name} are not orders this connector "
                 f"imported into it, ignored: {', '.join(sorted(strangers)[:10])}"] if strangers else []
        return SourceRead(progress, None, notes)

    def close(self) -> None:
        pass


def load_sheet(path: Path) -> Sheet:
    """The orders file as the orders workbook destination reads it (its header lookup and key columns)."""
    if path.is_file() and path.stat().st_size == 0:  # emptied (or cut to nothing): not a damaged .xlsx to repair
        raise ConfigError(f"orders workbook {path} is empty (0 bytes): no shipment or cancellation to read, nothing "
                          "sent; `connector orders` (or `connector sync --profile`) writes the orders in it again")
    return CsvSheet.load(path) if path.suffix.lower() == ".csv" else XlsxSheet.load(path)


_ROUNDED = re.compile(r"[0-9](?:[.,][0-9]+)?E\+?[0-9]+", re.IGNORECASE)
DIGITS_KEPT = 15  # what Excel and LibreOffice keep of a number: longer digit strings typed as numbers are rounded


def tracking_problem(tracking: str, raw: Any = None) -> str | None:
    """Why a tracking number cannot go to a marketplace as typed (None when it can): a formula (the file holds
    ``=HYPERLINK(...)``, not the number it shows), a line break or tab inside, text far too long for one, or a
    long number a spreadsheet program rounded (typed as a number: only 15 digits are kept, and a CSV it saved
    holds ``9.40011E+21``), or a date or time the spreadsheet made of what was typed (``1-3``, ``12:30``: its text,
    ``2026-03-01 00:00:00``, is no number at all): sending it would give the customer another parcel's number."""
    if isinstance(raw, date | time | timedelta):  # (a datetime is a date)
        return ("is a date or a time, not a tracking number: the spreadsheet turned what was typed into one (as "
                "Excel does with 1-3 or 12:30): format the column as Text and type the tracking number again")
    rounded = "was typed as a number and the spreadsheet kept only its first 15 digits: format the column as Text " \
              "and type the tracking number again"
    if isinstance(raw, int | float) and not isinstance(raw, bool) and abs(raw) >= 10 ** DIGITS_KEPT:
        # (a float, or an int: Excel writes a 16- or 17-digit number without an exponent, ``<v>1234567890123450</v>``,
        # which openpyxl reads as an int; its last digits are zeros all the same)
        return rounded
    if _ROUNDED.fullmatch(tracking):
        return rounded.replace("kept only its first 15 digits", "wrote it in scientific notation")
    if tracking.startswith("="):
        return "is a formula, not a tracking number: type the number itself"
    if any(not ch.isprintable() for ch in tracking):
        return "has a line break or another invisible character inside: type the number on one line"
    if len(tracking) > TRACKING_MAX:
        return f"is {len(tracking)} characters long, not a tracking number (at most {TRACKING_MAX})"
    return None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _raw(cells: Sequence[Any], cols: dict[str, int], key: str) -> Any:
    index = cols.get(key)
    return cells[index] if index is not None and index < len(cells) else None


def _cell(cells: Sequence[Any], cols: dict[str, int], key: str) -> str:
    index = cols.get(key)
    return key_text(cells[index]) if index is not None and index < len(cells) else ""


def order_progress(entry: _OrderRows, where: str) -> OrderProgress | None:
    """One order's progress from its rows; None when the merchant wrote nothing on any of them."""
    order = entry.imported.order
    problems = list(entry.problems)
    lines = {ln.line_id: ln for ln in order.lines}
    marked = [r for r in entry.rows if r.status]
    if not marked and not problems:
        return None
    for r in marked:
        if r.line_id not in lines:
            problems.append(f"sheet {where}, row {r.number}, column {BY_KEY['line_id'].header}: {r.line_id!r} is not "
                            f"a line of order {order.reference} as last read from the marketplace")
    known = [r for r in marked if r.line_id in lines]
    by_status: dict[str, list[_Row]] = {}
    for r in known:
        by_status.setdefault(r.line_id, []).append(r)
    for line_id, repeated in by_status.items():  # a copied row saying cancelled beside one saying shipped
        said = {r.status for r in repeated}
        if CANCELLED in said and said & {SHIPPED, DELIVERED}:
            problems.append(f"sheet {where}, rows {', '.join(str(r.number) for r in repeated)}: line {line_id} "
                            f"({lines[line_id].sku}) is on several rows, some cancelled and some "
                            f"{' / '.join(sorted(said - {CANCELLED}))}: keep one row for it")
    cancelled = [r for r in known if r.status == CANCELLED]
    shipped = [r for r in known if r.status in (SHIPPED, DELIVERED)]
    whole = {r.line_id for r in cancelled} >= set(lines)
    if cancelled and not whole:
        rows = ", ".join(str(r.number) for r in cancelled)
        problems.append(f"sheet {where}, row(s) {rows}: only some lines of order {order.reference} are cancelled: "
                        "cancel the whole order (every line's Status cancelled), or ship the other lines")
    by_line: dict[str, list[_Row]] = {}
    for r in shipped:
        by_line.setdefault(r.line_id, []).append(r)
    for line_id, repeated in by_line.items():  # a line ships whole, once: a second number on a copy of its row
        numbers = list(dict.fromkeys(r.tracking for r in repeated))  # would be dropped without a word
        if len(numbers) > 1:
            problems.append(f"sheet {where}, rows {', '.join(str(r.number) for r in repeated)}: line {line_id} "
                            f"({lines[line_id].sku}) is on several rows with different tracking numbers "
                            f"({', '.join(n or 'none' for n in numbers)}): a line ships whole in one parcel, keep one "
                            "row for it")
    shipments, courier_problems = _shipments(order, lines, shipped, where) if not whole else ((), [])
    problems += courier_problems
    delivered = bool(shipped) and all(r.status == DELIVERED for r in known if r.status != CANCELLED)
    return OrderProgress(order.marketplace, order.account, order.key, NAME, shipments=shipments,
                         cancelled=whole, delivered=delivered and not whole, problems=tuple(problems),
                         extra={"rows": [r.number for r in entry.rows]})


def _shipments(order: Order, lines: dict[str, OrderLine], rows: list[_Row], where: str
               ) -> tuple[tuple[Shipment, ...], list[str]]:
    """Shipped rows grouped by tracking number; each row ships its whole line (once, whatever rows repeat it)."""
    groups: dict[str, list[_Row]] = {}
    seen: set[str] = set()
    for r in rows:
        if r.line_id in seen:
            continue
        seen.add(r.line_id)
        groups.setdefault(r.tracking or "", []).append(r)
    position = {ln.line_id: i for i, ln in enumerate(order.lines)}
    shipments, problems = [], []
    for tracking in sorted(groups):
        group = sorted(groups[tracking], key=lambda r: position[r.line_id])
        couriers = list({matching_name(r.courier): r.courier for r in reversed(group) if r.courier}.values())[::-1]
        if len(couriers) > 1:
            problems.append(f"sheet {where}, rows {', '.join(str(r.number) for r in group)}: one tracking number "
                            f"({tracking or 'none'}) with several couriers ({', '.join(couriers)}): write one")
        shipped = tuple(ShippedLine(r.line_id, lines[r.line_id].sku, lines[r.line_id].quantity) for r in group)
        shipments.append(Shipment(f"{NAME}:{tracking or UNTRACKED}", shipped, tracking_number=tracking or None,
                                  carrier=couriers[0] if couriers else None))
    return tuple(shipments), problems


def open_workbook_source(path: Path | None) -> WorkbookSource:
    if path is None:
        raise ConfigError("'orders.to: workbook' needs 'orders.workbook: orders.xlsx' to read what shipped from")
    return WorkbookSource(path)
