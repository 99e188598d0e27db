"""Elryan's orders as canonical ``Order`` records (``connector.orders.reader.OrderReader``).

Elryan lists **order lines**, one record per ``POlineID``, each with its own ``Status``; the lines of one order
share its ``Order Number``.  The reader groups them into one ``Order`` per order number: each line keeps its
``POlineID`` as ``line_id`` and its own status, and the order's status is derived from its lines
(``order_status``).  Everything Elryan sends is a string; the fields are read with the readers every
marketplace shares (``connector.orders.fields``): quantities become ``int``, money ``Decimal`` (Elryan's
``"1,250.00"`` too), and a bad field is an ``OrderRecordError`` naming the order and the line.

Times (docs/elryan.md, "Orders"): ``dateISO`` is the order's day at midnight **without an offset**, in
Elryan's local time; the document's own sample shows ``updatedLocalTime`` three hours after ``updatedTime``
(UTC), so local time is UTC+3 (Baghdad) — the setting ``order_timezone`` (default ``+03:00``).  ``updatedTime``
is UTC.  Since Elryan gives the order's day but not its time, ``created_at`` is the latest moment the order
can have been placed: the first change of its lines if that falls on its day, else the end of its day
(``created_time``), so an order is never taken for older than it is.

The pull reads by order day (``search`` with ``dateFrom``: every line of an order shares its day, so a window
never returns half an order); orders older than the window that the book still holds open are re-read with
``refresh``: the unfulfilled list (one paged listing), then the order details of each line that left it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.errors import ConfigError
from connector.marketplaces.elryan.client import ElryanClient
from connector.marketplaces.elryan.errors import ElryanError
from connector.orders.fields import (
    CUSTOMER_KEYS,
    OrderRecordError,
    RecordFields,
    read_customer,
    record_fields,
    status_table,
)
from connector.orders.model import Order, OrderLine, OrderStatus, utc

MARKETPLACE = "elryan"
SOURCE = "Elryan"

DEFAULT_ORDER_STATUSES: dict[str, str] = {
    "Pending Confirmation": "new",  # documented (unfulfilled list sample)
    "Confirmed": "processing",
    "Processing": "processing",
    "Ready to Ship": "ready",
    "Shipped": "shipped",
    "In Transit": "shipped",
    "Delivered": "delivered",  # documented (order details sample)
    "Cancelled": "cancelled",
    "Canceled": "cancelled",
    "Rejected": "cancelled",
    "Returned": "returned",
}
"""Elryan's line status -> canonical status (setting ``order_statuses``, merged over this table by the shared
``status_table``; matched without regard to case or blanks).  Only ``Pending Confirmation`` and ``Delivered``
are in the document; the others are inferred."""

PRECEDENCE = (OrderStatus.NEW, OrderStatus.PROCESSING, OrderStatus.READY, OrderStatus.SHIPPED,
              OrderStatus.DELIVERED, OrderStatus.RETURNED)
"""How an order's status comes from its lines: cancelled when every line is; otherwise the first status in
this order that a line not cancelled has (the order is as far as its least advanced line: one line still
pending keeps the whole order new; shipped wins over delivered until every line is delivered; returned only
when every line not cancelled is returned)."""

CUSTOMER_FIELDS = tuple(CUSTOMER_KEYS)  # the canonical customer fields


def order_status(statuses: Iterable[OrderStatus]) -> OrderStatus:
    """The order's status from its lines' (see ``PRECEDENCE``)."""
    present = set(statuses)
    for status in PRECEDENCE:
        if status in present:
            return status
    return OrderStatus.CANCELLED


def parse_timezone(value: Any) -> tzinfo:
    """``+03:00`` / ``-05:30`` / ``UTC`` / an IANA name (``Asia/Baghdad``); a ``ConfigError`` otherwise."""
    text = str(value or "").strip()
    if text.upper() in ("UTC", "Z", "+00:00"):
        return UTC
    if text[:1] in "+-" and len(text) == 6 and text[3] == ":" and text[1:3].isdigit() and text[4:].isdigit():
        sign = -1 if text[0] == "-" else 1
        return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:])))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"Elryan setting order_timezone: {value!r} is neither an offset like '+03:00' nor a "
                          "time zone name like 'Asia/Baghdad'") from None


class ElryanOrderReader:
    """Reads one Elryan account's orders (settings: docs/elryan.md, "Orders")."""

    marketplace = MARKETPLACE

    def __init__(self, client: ElryanClient, *, account: str, settings: dict[str, Any] | None = None) -> None:
        settings = settings or {}
        self.client, self.account = client, account
        self.statuses = status_table(DEFAULT_ORDER_STATUSES, settings.get("order_statuses"), setting="order_statuses")
        self.tz = parse_timezone(settings.get("order_timezone", "+03:00"))
        self.currency = str(settings.get("order_currency") or "USD")
        fields = settings.get("order_customer_fields") or {}
        unknown = sorted(set(fields) - set(CUSTOMER_FIELDS)) if isinstance(fields, dict) else [repr(fields)]
        if unknown:
            raise ConfigError(f"Elryan setting order_customer_fields maps {', '.join(CUSTOMER_FIELDS)} to the "
                              f"order line's field names; not one of them: {', '.join(unknown)}")
        self.customer_fields: dict[str, str] = {k: str(v) for k, v in fields.items()}

    # -- OrderReader -----------------------------------------------------------------------------------------
    def changed_since(self, since: datetime) -> Iterator[Order]:
        """Every order whose day (Elryan's local day) is on or after ``since``'s, pages read to the end.  The
        lines are also checked here, so a server that ignores the filter only costs more pages."""
        first_day = utc(since).astimezone(self.tz).date()
        yield from self.group(self.client.iter_orders(created_from=first_day), first_day=first_day)

    def refresh(self, orders: Sequence[Order]) -> Iterator[Order]:
        """The current version of ``orders``: their lines still in the unfulfilled list, the order details of
        the others (a line Elryan no longer knows is left out, an order without lines too)."""
        if not orders:
            return
        wanted = {o.remote_id for o in orders}
        found: dict[str, dict[str, Any]] = {}
        for record in self.client.iter_unfulfilled_orders():
            if str(record.get("Order Number") or "") in wanted:
                found[str(record.get("POlineID"))] = record
        for order in orders:
            for line in order.lines:
                if line.line_id in found:
                    continue
                try:
                    found[line.line_id] = self.client.order_details(line.line_id)
                except ElryanError as exc:
                    if not exc.not_found:
                        raise
        yield from self.group(found.values())

    # -- grouping --------------------------------------------------------------------------------------------
    def group(self, records: Iterable[Any], *, first_day: date | None = None) -> Iterator[Order]:
        """One ``Order`` per order number, in the order first seen; a line read twice keeps the later read.  With
        ``first_day``, lines of an earlier day are left out."""
        by_order: dict[str, dict[str, tuple[RecordFields, dict[str, Any]]]] = {}
        for record in records:
            f, line = record_fields(SOURCE, record, id_key="Order Number", line_key="POlineID", thousands=",")
            if f.order_id is None:
                raise OrderRecordError(SOURCE, None, f"line {f.line or '(no POlineID)'} has no Order Number")
            if f.line is None:
                raise f.error("a line", "has no POlineID")
            for key in ("Order Number", "POlineID"):  # a fraction or true/false is no number of Elryan's
                f.text(line[key], key)
            if first_day is None or self._day(f, line) >= first_day:
                by_order.setdefault(f.order_id, {})[f.line] = (f, line)
        for number, lines in by_order.items():
            # lines in POlineID order (numbers: shorter first), whichever call read them: the same order read
            # by the window or by ``refresh`` has the same fingerprint
            yield self.to_order(number, [lines[k] for k in sorted(lines, key=lambda k: (len(k), k))])

    def to_order(self, number: str, records: list[tuple[RecordFields, dict[str, Any]]]) -> Order:
        lines = tuple(self._line(f, r) for f, r in records)
        status = order_status(line.status for line in lines if line.status is not None)
        raw = next((line.raw_status for line in lines if line.status is status), None) or status.value
        updates = [t for t in (f.time(r.get("updatedTime"), "updatedTime") for f, r in records) if t is not None]
        day_start = min(self._day_start(f, r) for f, r in records)
        created = day_start
        if updates and day_start <= min(updates):
            created = min(min(updates), day_start + timedelta(days=1))
        totals = [f.optional_money(r.get("Total Amount"), "Total Amount") for f, r in records]
        total = sum((line.unit_price * line.quantity if t is None else t
                     for t, line in zip(totals, lines, strict=True)), Decimal("0"))
        net = [n for n in (f.optional_money(r.get("Net Amount"), "Net Amount") for f, r in records) if n is not None]
        first_fields, first = records[0]
        customer = read_customer(first, first_fields, self.customer_fields)  # the lines carry none by default
        extra = {"purchase_order_id": str(first.get("Purchase Order ID") or "") or None,
                 "net_amount": str(sum(net, Decimal("0"))) if len(net) == len(records) else None,
                 "iqd_exchange_rate": first.get("Magento IQD Exchange Rate")}
        return Order(marketplace=MARKETPLACE, account=self.account, remote_id=number, channel_order_id=number,
                     status=status, raw_status=raw, created_at=created, updated_at=max(updates) if updates else None,
                     currency=self.currency, lines=lines, customer=customer, total=total,
                     extra={k: v for k, v in extra.items() if v is not None})

    def _line(self, f: RecordFields, r: dict[str, Any]) -> OrderLine:
        raw = f.text(r.get("Status"), "Status")
        return OrderLine(line_id=str(f.line), sku=self._sku(f, r), quantity=f.quantity(r.get("Quantity"), "Quantity"),
                         unit_price=f.money(r.get("Selling Price"), "Selling Price"), currency=self.currency,
                         name=f.optional_text(r.get("Description")), status=f.status(raw, self.statuses, "Status"),
                         raw_status=raw)

    @staticmethod
    def _sku(f: RecordFields, r: dict[str, Any]) -> str:
        """``Item`` is the SKU and ``-<userId>`` (the document's sample): the suffix is taken off."""
        item = f.text(r.get("Item"), "Item (the SKU)")
        owner = str(r.get("userId") or "").strip()
        if owner and item.endswith(f"-{owner}"):
            item = item[: -len(owner) - 1]
        return f.text(item, "Item (the SKU)")

    @staticmethod
    def _day(f: RecordFields, r: dict[str, Any]) -> date:
        """The order's day (Elryan's local day): ``dateISO``, else ``Date`` (``dd/mm/yyyy``)."""
        iso_day = str(r.get("dateISO") or "").strip()
        try:
            if iso_day:
                return date.fromisoformat(iso_day[:10])
            return datetime.strptime(str(r.get("Date") or "").strip(), "%d/%m/%Y").date()
        except ValueError:
            raise f.error("dateISO", f"{r.get('dateISO')!r} / Date {r.get('Date')!r} is not a day") from None

    def _day_start(self, f: RecordFields, r: dict[str, Any]) -> datetime:
        day = self._day(f, r)
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(UTC)
