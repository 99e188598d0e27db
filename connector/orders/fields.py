"""Reading the fields of one marketplace order record into the canonical types, with errors that name the order.

A marketplace that sends an unparsable price, a fractional quantity or a time without a date stops the read with
``OrderRecordError`` ("EcomLinx order ord_8FZ2K: items[0].price 'abc' is not a number"; for a marketplace that
lists order lines, "Elryan order PO55, line 5501: Quantity 'two' is not a whole number of units"), never a
traceback: the order cannot be imported as it is, and a person must look at it on the marketplace (or map its
status).

One error and one exit code for every marketplace: ``EXIT_FAILED`` (1).  The pull of that account stops at the
bad record, so nothing is imported from the account; the orders run reports that account's read as failed
(needs attention) and carries on with the other accounts and the stock push, so the run as a whole is "finished,
something failed" (1), not "nothing sent" (2).  The marketplace answered, so it is not "unreachable" (4); and the
next run meets the same record until a person acts, so it is not "resumable" (3).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.errors import EXIT_FAILED, ConfigError, ConnectorError
from connector.orders.model import Customer, OrderStatus, parse_time


class OrderRecordError(ConnectorError):
    """An order record from a marketplace that cannot be read (a bad or missing field): the account's pull stops."""

    exit_code = EXIT_FAILED

    def __init__(self, source: str, order_id: str | None, problem: str, *, line: str | None = None) -> None:
        self.source, self.order_id, self.line, self.problem = source, order_id, line, problem
        which = f"order {order_id}" if order_id else "order without an id"
        if line:
            which += f", line {line}"
        super().__init__(f"{source} {which}: {problem}")


def fold_status(raw: Any) -> str:
    """A raw status as a status table keys it: blanks collapsed and case folded (``" Ready to  Ship"`` is
    ``"ready to ship"``), so a marketplace's or a profile's spelling never hides an entry."""
    return " ".join(str(raw).split()).casefold()


def status_table(defaults: Mapping[str, str], override: Any, *, setting: str) -> dict[str, OrderStatus]:
    """The raw -> normalised status table, keyed by ``fold_status``: ``defaults`` with a profile's entries
    (``override``) on top (its ``Pending`` replaces a default ``PENDING``); a value that is no canonical status
    is a ``ConfigError`` naming ``setting``."""
    if override is not None and not isinstance(override, Mapping):
        raise ConfigError(f"settings.{setting} must be a mapping of marketplace status -> canonical status")
    table: dict[str, OrderStatus] = {}
    for raw, value in {**defaults, **(override or {})}.items():
        try:
            table[fold_status(raw)] = OrderStatus(str(value).strip().lower())
        except ValueError:
            known = ", ".join(s.value for s in OrderStatus)
            raise ConfigError(f"settings.{setting}: {raw!r} maps to {value!r}, not one of {known}") from None
    return table


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class RecordFields:
    """The field readers for one order record of ``source`` (the marketplace's title), naming its order and, for
    a marketplace that lists order lines, the ``line``.  ``thousands``: a separator between digit groups that
    the marketplace writes in amounts (Elryan's ``"1,250.00"``); none by default (a plain number)."""

    def __init__(self, source: str, order_id: str | None, *, line: str | None = None, thousands: str = "") -> None:
        self.source, self.order_id, self.line, self.thousands = source, order_id, line, thousands

    def error(self, where: str, problem: str) -> OrderRecordError:
        return OrderRecordError(self.source, self.order_id, f"{where} {problem}", line=self.line)

    def money(self, value: Any, where: str, *, default: Decimal | None = None) -> Decimal:
        """A non-negative amount as ``Decimal`` (a JSON number or a numeric string; a float through its text, so
        899.9 stays 899.9)."""
        if _blank(value):
            if default is not None:
                return default
            raise self.error(where, "is missing")
        text = str(value).strip()
        if self.thousands:
            text = text.replace(self.thousands, "")
        try:
            amount = None if isinstance(value, bool) else Decimal(text)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            expected = f"an amount (like '1{self.thousands}250.00')" if self.thousands else "a number"
            raise self.error(where, f"{value!r} is not {expected}")
        if amount < 0:
            raise self.error(where, f"{value!r} is negative")
        return amount

    def optional_money(self, value: Any, where: str) -> Decimal | None:
        """``money``, or None when the field is absent or blank."""
        return None if _blank(value) else self.money(value, where)

    def quantity(self, value: Any, where: str) -> int:
        """A whole number of units, at least 1 (``2``, ``2.0`` and ``"2"`` are 2; ``1.5`` is refused)."""
        if isinstance(value, bool) or value is None:
            raise self.error(where, f"{value!r} is not a whole number of units")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.error(where, f"{value!r} is not a whole number of units") from None
        if not number.is_finite() or number != number.to_integral_value() or number < 1:
            raise self.error(where, f"{value!r} is not a whole number of units (1 or more)")
        return int(number)

    def time(self, value: Any, where: str, *, required: bool = False) -> datetime | None:
        """An ISO 8601 time as aware UTC (a time without an offset is taken as UTC)."""
        try:
            moment = parse_time(value)
        except (TypeError, ValueError):
            raise self.error(where, f"{value!r} is not an ISO 8601 time") from None
        if moment is None and required:
            raise self.error(where, "is missing")
        return moment

    def text(self, value: Any, where: str) -> str:
        """A text field (an id, a status, a SKU): a JSON text, or a whole number as its digits (``1234`` is
        ``"1234"``).  A fraction, true/false, an object or a list is an error naming ``where``: taken as text,
        ``1.5`` or ``True`` would be an id, a status or a SKU no one wrote."""
        if _blank(value):
            raise self.error(where, "is missing")
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self.error(where, f"{value!r} is not a text or a whole number"[:200])

    def first_text(self, record: Mapping[str, Any], keys: list[str], where: str) -> str:
        """``text`` of the first of ``keys`` that holds a value in ``record``, named ``<where>.<key>``."""
        key = next((k for k in keys if not _blank(record.get(k))), None)
        if key is None:
            raise self.error(f"{where}.{'/'.join(keys)}", "is missing")
        return self.text(record[key], f"{where}.{key}")

    def optional_text(self, value: Any) -> str | None:
        if value is None or isinstance(value, dict | list):
            return None
        text = str(value).strip()
        return text or None

    def status(self, raw: Any, table: Mapping[str, OrderStatus], where: str = "status") -> OrderStatus:
        """The canonical status of ``raw`` in a ``status_table`` (blanks and case do not matter); an unknown one
        names the setting to extend."""
        text = self.text(raw, where)
        status = table.get(fold_status(text))
        if status is None:
            raise self.error(where, f"{text!r} is not in the status table (unknown status {text!r}; add it to the "
                                    f"target setting order_statuses, e.g. {{{text!r}: processing}})")
        return status

    def lines(self, value: Any, where: str, order_id: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """The line objects of a record that holds its lines in a list (``items``): each with its place
        (``items[0]``) and its line id (its ``id``, read with ``text``, else ``<order id>-<n>``, n from 1).  A list
        that is missing or empty, or an entry that is no object, is an error."""
        if not isinstance(value, list) or not value:
            raise self.error(where, "is missing or empty")
        for n, item in enumerate(value):
            place = f"{where}[{n}]"
            if not isinstance(item, dict):
                raise self.error(place, "is not an object")
            line_id = f"{order_id}-{n + 1}" if _blank(item.get("id")) else self.text(item["id"], f"{place}.id")
            yield place, line_id, item


def record_fields(source: str, raw: Any, *, id_key: str = "id", line_key: str | None = None,
                  thousands: str = "") -> tuple[RecordFields, dict[str, Any]]:
    """The field readers for one record of ``source`` and the record: the readers name the order by the
    record's ``id_key`` and, where each record is an order line, the line by its ``line_key``.  A record that
    is not an object is an ``OrderRecordError``."""

    def named(key: str | None) -> str | None:
        value = raw.get(key) if key and isinstance(raw, dict) else None
        return None if _blank(value) else str(value).strip()

    f = RecordFields(source, named(id_key), line=named(line_key), thousands=thousands)
    if not isinstance(raw, dict):
        raise f.error("record", f"is not an object: {raw!r}"[:200])
    return f, raw


@dataclass(frozen=True, slots=True)
class RecordHead:
    """What an order record given as one JSON object (EcomLinx, Elebne) starts with: the field readers naming
    the order, the record, its ``id``, its ``status`` (raw and canonical) and its ``currency`` (else the
    reader's)."""

    fields: RecordFields
    record: dict[str, Any]
    remote_id: str
    raw_status: str
    status: OrderStatus
    currency: str


def read_head(source: str, raw: Any, statuses: Mapping[str, OrderStatus], currency: str) -> RecordHead:
    f, record = record_fields(source, raw)
    raw_status = f.text(record.get("status"), "status")
    return RecordHead(fields=f, record=record, remote_id=f.text(record.get("id"), "id"), raw_status=raw_status,
                      status=f.status(raw_status, statuses),
                      currency=f.optional_text(record.get("currency")) or currency)


#: A record's customer object as the readers infer it where a document shows none: ``Customer`` field -> key.
CUSTOMER_KEYS = {"remote_id": "id", "name": "name", "phone": "phone", "email": "email", "street": "address",
                 "city": "city", "zip": "zip", "country": "country"}


def read_customer(raw: Any, f: RecordFields, keys: Mapping[str, str]) -> Customer | None:
    """A ``Customer`` from a record's customer object; ``keys`` maps each ``Customer`` field to the marketplace's
    key.  None when the record has no customer or none of its fields."""
    if not isinstance(raw, Mapping):
        return None
    found = {name: f.optional_text(raw.get(key)) for name, key in keys.items()}
    return Customer(**found) if any(v is not None for v in found.values()) else None
