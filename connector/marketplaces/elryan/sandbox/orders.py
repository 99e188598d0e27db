"""The Elryan sandbox's orders: per-line records (one per ``POlineID``) in the documented shape, created by the
sandbox-only control call, moved through their statuses, searched by date, and tied to Elryan's own stock.

What the document shows and we follow: every order line is its own record (``POlineID``, ``Order Number``,
``Purchase Order ID``, ``Item``, ``Quantity``, ``Selling Price``, ``Total Amount``, ``Net Amount``,
``Status``...), with every value a string; ``Item`` is the SKU followed by ``-<userId>``; ``Date`` is
``dd/mm/yyyy`` and ``dateISO`` the same day at midnight without an offset; ``updatedTime`` is UTC and
``updatedLocalTime`` is the same moment in Elryan's local time (three hours later in the sample: Baghdad,
UTC+3) though it is written with a ``Z``.

Inferred (docs/elryan.md, "Orders"): the statuses beyond the documented ``Pending Confirmation`` and
``Delivered`` and the moves between them (``LINE_STATUSES``); that an order takes the units from the
variant's stock on Elryan and refuses more than there is (error_code 1005), and that a cancellation gives them
back; the search filters ``updatedFrom``/``updatedTo`` (ISO times, on ``updatedTime``) and
``dateFrom``/``dateTo`` (``YYYY-MM-DD`` local days, on ``dateISO``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from connector.marketplaces.elryan.errors import INSUFFICIENT_STOCK, UNKNOWN_REFERENCE, VALIDATION
from connector.sandbox.records import Collection, object_id
from connector.sandbox.states import StatusMachine
from connector.sandbox.validation import Rejected

PENDING, READY, SHIPPED = "Pending Confirmation", "Ready to Ship", "Shipped"
DELIVERED, CANCELLED, RETURNED = "Delivered", "Cancelled", "Returned"
UNFULFILLED = (PENDING, READY)
STATUS_AR = {PENDING: "بانتظار التأكيد", READY: "جاهز للشحن", SHIPPED: "تم الشحن", DELIVERED: "تم التوصيل",
             CANCELLED: "ملغى", RETURNED: "مرتجع"}

#: every move an order line may make (the control call enforces it; issue 14's fulfilment calls will too).
LINE_STATUSES = StatusMachine({PENDING: [READY, CANCELLED], READY: [SHIPPED, CANCELLED], SHIPPED: [DELIVERED],
                               DELIVERED: [RETURNED]}, code=VALIDATION, same_state_ok=False,
                              refusal="order line {subject} is {current}: it cannot become {target}")
#: the subsets the merchant's own calls may make: ``PUT /orders/cancel/{id}`` and ``GET /orders/prepare/{id}``.
CANCEL = StatusMachine({s: [CANCELLED] for s in UNFULFILLED}, code=VALIDATION, same_state_ok=False,
                       refusal="order line {subject} is {current}: it cannot be cancelled")
PREPARE = StatusMachine({PENDING: [READY]}, code=VALIDATION, same_state_ok=False,
                        refusal="order line {subject} is {current}: only a pending one can be prepared")

LOCAL_TIME = timezone(timedelta(hours=3), "Asia/Baghdad")
"""Elryan's local time: ``updatedLocalTime`` is ``updatedTime`` + 3 h in the document's sample."""
COMMISSION = Decimal("0.10")  # the sample's "Elryan Commission": "10.0%"
IQD_RATE = "1485"  # the sample's "Magento IQD Exchange Rate"
CUSTOMER_CANCEL = "cancelled_by_customer"
DATE_FILTERS = ("dateFrom", "dateTo")
TIME_FILTERS = ("updatedFrom", "updatedTo")

#: units an order line took from a variant's stock (given back once when the line is cancelled); kept beside
#: the order records so the records keep the document's shape.
TAKEN = Collection("elryan_sandbox_stock_taken", key="POlineID", key_column="key")


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def plain(value: Decimal) -> str:
    """``25`` rather than ``25.00``, as the sample's ``Selling Price``."""
    return format(value.normalize(), "f")


def stamp_times(line: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The three "last modified" fields of a line, as the document writes them."""
    local = now.astimezone(LOCAL_TIME)
    line["POLastModified"] = local.strftime("%d/%m/%Y %I:%M %p")
    line["updatedLocalTime"] = local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}Z"
    line["updatedTime"] = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    return line


def parse_iso(value: Any, field: str) -> datetime:
    """An ISO 8601 time (``Z``, an offset, or naive = UTC) or ``Rejected``."""
    try:
        raw = str(value).strip()
        parsed = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise Rejected(VALIDATION, f"{field}: must be an ISO 8601 time, got {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def parse_day(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise Rejected(VALIDATION, f"{field}: must be a day as YYYY-MM-DD, got {value!r}") from None


def window_filter(search: dict[str, Any]) -> tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]:
    """The search without its date filters, and a test a line must pass for them (bounds are inclusive)."""
    rest = {k: v for k, v in search.items() if k not in (*DATE_FILTERS, *TIME_FILTERS)}
    given = {k: search[k] for k in (*DATE_FILTERS, *TIME_FILTERS) if search.get(k) not in (None, "")}
    days = {k: parse_day(given[k], f"search.{k}") for k in DATE_FILTERS if k in given}
    times = {k: parse_iso(given[k], f"search.{k}") for k in TIME_FILTERS if k in given}

    def keep(line: dict[str, Any]) -> bool:
        if days:
            day = line_day(line)
            if day is None or not days.get("dateFrom", day) <= day <= days.get("dateTo", day):
                return False
        if times:
            raw = line.get("updatedTime")
            if not raw:
                return False
            moment = parse_iso(raw, "updatedTime")
            if not times.get("updatedFrom", moment) <= moment <= times.get("updatedTo", moment):
                return False
        return True

    return rest, keep


def line_day(line: dict[str, Any]) -> date | None:
    raw = str(line.get("dateISO") or "")[:10]
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


class OrderDesk:
    """Creates order lines and moves them; ``backend`` is the sandbox's ``ElryanBackend`` (records, variants)."""

    def __init__(self, backend: Any, orders: Collection,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.backend, self.orders, self.clock = backend, orders, clock
        backend.records.create(TAKEN)

    # -- the control call ----------------------------------------------------------------------------------
    def place(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """One order (one record per line) for variants that exist, taking the units from their stock."""
        b = self.backend
        now = self.clock()
        created = parse_iso(body["created_at"], "created_at") if body.get("created_at") else now
        with b.records.transaction():
            wanted: dict[str, int] = {}
            variants: dict[str, dict[str, Any]] = {}
            for i, line in enumerate(body["lines"]):
                variant = b.get("variant", line["sku"])
                if variant is None:
                    raise Rejected(UNKNOWN_REFERENCE, f"lines[{i}].sku: unknown variant {line['sku']!r}")
                if variant.get("is_active") is False:
                    raise Rejected(VALIDATION, f"lines[{i}].sku: variant {line['sku']!r} is disabled")
                variants[line["sku"]] = variant
                wanted[line["sku"]] = wanted.get(line["sku"], 0) + line["quantity"]
            for sku, quantity in wanted.items():
                stock = int(variants[sku].get("stock") or 0)
                if stock < quantity:
                    raise Rejected(INSUFFICIENT_STOCK, f"sku {sku!r}: {stock} in stock, {quantity} ordered")
            number = body.get("order_number") or self._next_number()
            if b.records.exists(self.orders, "json_extract(doc, '$.\"Order Number\"') = ?", (number,)):
                raise Rejected(VALIDATION, f"order_number: order {number!r} already exists")
            purchase = self._next_purchase_id(len(body["lines"]))
            lines = []
            for i, line in enumerate(body["lines"], start=1):
                variant = variants[line["sku"]]
                price = Decimal(str(line["price"] if line.get("price") is not None else variant.get("price") or 0))
                lines.append(b.put("order", self._line(purchase, i, number, created, variant, line["quantity"], price)))
                b.records.put(TAKEN, {"POlineID": f"{purchase}{i}", "sku": line["sku"], "quantity": line["quantity"]})
            for sku, quantity in wanted.items():
                variant = b.get("variant", sku)
                b.put("variant", {**variant, "stock": int(variant.get("stock") or 0) - quantity})
            return lines

    def move(self, key: str, status: str, reason: str | None = None) -> dict[str, Any]:
        """The control call's status move (any move ``LINE_STATUSES`` allows)."""
        return self.set_status(key, status, LINE_STATUSES, reason=reason or CUSTOMER_CANCEL)

    def set_status(self, key: str, status: str, machine: StatusMachine, *, reason: str | None = None
                   ) -> dict[str, Any]:
        """Move one line (``machine`` says which moves this caller may make); a cancellation gives the units
        the line took back to the variant's stock."""
        b = self.backend
        with b.records.transaction():
            line = b.get_or_refuse("order", key)
            machine.move(line, status, field="Status", subject=key)
            line["Status (AR)"] = STATUS_AR.get(status, line.get("Status (AR)", ""))
            if status == CANCELLED:
                line["cancelReason"] = reason
                self._give_back(key)
            return b.put("order", stamp_times(line, self.clock()))

    def _give_back(self, key: str) -> None:
        b = self.backend
        taken = b.records.get(TAKEN, key)
        if taken is None:
            return  # a seeded line: it never took stock
        b.records.delete(TAKEN, key)
        variant = b.get("variant", taken["sku"])
        if variant is not None:
            b.put("variant", {**variant, "stock": int(variant.get("stock") or 0) + int(taken["quantity"])})

    # -- the record ----------------------------------------------------------------------------------------
    def _line(self, purchase: str, index: int, number: str, created: datetime,
              variant: dict[str, Any], quantity: int, price: Decimal) -> dict[str, Any]:
        total = price * quantity
        day = created.astimezone(LOCAL_TIME)
        arabic = next((t.get("name") for t in variant.get("translations") or [] if t.get("language") == "ar"), "")
        line = {
            "POlineID": f"{purchase}{index}", "Date": day.strftime("%d/%m/%Y"),
            "Description": variant.get("name") or variant["sku"], "Description (AR)": arabic or "",
            "Elryan Commission": f"{COMMISSION * 100:.1f}%", "Item": f"{variant['sku']}-{variant.get('userId', '')}",
            "Net Amount": money(total * (1 - COMMISSION)), "Order Number": number, "Purchase Order ID": purchase,
            "Quantity": str(quantity), "Selling Price": plain(price), "Status": PENDING,
            "Status (AR)": STATUS_AR[PENDING], "Total Amount": money(total),
            "dateISO": day.strftime("%Y-%m-%dT00:00:00"), "id": object_id(), "recordType": "salesorder",
            "userId": variant.get("userId", ""), "exported": True, "Magento IQD Exchange Rate": IQD_RATE,
        }
        return stamp_times(line, created)  # an order placed in the past was last modified then

    def _next_purchase_id(self, lines: int) -> str:
        """A purchase order id whose line ids (id + line number) are all free."""
        b = self.backend
        candidate = 7723133 + b.records.count(self.orders)
        while any(b.get("order", f"{candidate}{i}") for i in range(1, lines + 1)):
            candidate += 1
        return str(candidate)

    def _next_number(self) -> str:
        b = self.backend
        n = 110038645 + b.records.count(self.orders)
        while b.records.exists(self.orders, "json_extract(doc, '$.\"Order Number\"') = ?", (f"PO{n}",)):
            n += 1
        return f"PO{n}"
