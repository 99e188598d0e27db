"""The Elryan sandbox's packages and deliveries: what the merchant sends once an order is ready to leave, and the
order-line moves that follow (docs/elryan.md, "Fulfilment").

The document gives the package's shape (``order_id``, ``remote_id``, ``items`` of ``order_item_id`` and
``quantity``, ``tracking``...) but not its rules; the sandbox enforces the ones a marketplace must have
(inferred, listed in docs/elryan.md):

- ``order_id`` is the order's ``Purchase Order ID`` (the document's integer order id; the ``Order Number`` is
  not a number) and every item's ``order_item_id`` a ``POlineID`` of that order;
- an item's line must be prepared (``Ready to Ship``, after ``Order Items Prepare``): a pending, cancelled,
  shipped or delivered line cannot be packed;
- a line's quantity over every package not cancelled never exceeds what was ordered;
- once a line's whole quantity is packed it becomes ``Shipped`` (the order reader sees it shipped); cancelling a
  package gives its lines back (``Ready to Ship``), and a package with tracking (``fulfilled``) cannot be
  cancelled;
- ``remote_id`` is unique (a second create with it is refused) and searchable;
- a delivery is the package's (``GET /deliveries/{package id}/``); its status moves ``pending`` ->
  ``in_transit`` -> ``delivered``, and a line whose every package is delivered becomes ``Delivered``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.marketplaces.elryan.errors import NOT_FOUND, UNKNOWN_REFERENCE, VALIDATION
from connector.sandbox.records import Collection
from connector.sandbox.states import StatusMachine
from connector.sandbox.validation import Rejected

from .orders import CANCELLED, DELIVERED, LINE_STATUSES, READY, SHIPPED

CREATED, FULFILLED, PACKAGE_CANCELLED = "created", "fulfilled", "cancelled"
PENDING_DELIVERY, IN_TRANSIT, DELIVERY_DONE = "pending", "in_transit", "delivered"

#: a cancelled package gives its shipped lines back: the one move back the merchant's calls may cause.
UNPACK = StatusMachine({SHIPPED: [READY]}, code=VALIDATION, same_state_ok=False,
                       refusal="order line {subject} is {current}: its package cannot be cancelled")
DELIVERY = StatusMachine({PENDING_DELIVERY: [IN_TRANSIT, DELIVERY_DONE], IN_TRANSIT: [DELIVERY_DONE]},
                         code=VALIDATION, same_state_ok=True,
                         refusal="delivery {subject} is {current}: it cannot become {target}")
TRACKED = ("tracking_barcode", "tracking_link", "tracking_pdf", "base64_file")


def is_blank(value: Any) -> bool:
    """The document's own sample sends ``"null"`` (a string) for "none"."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "null"))


class PackageDesk:
    """Creates, fulfils and cancels packages, and moves their deliveries; ``backend`` is the sandbox's
    ``ElryanBackend`` (records, the order desk)."""

    def __init__(self, backend: Any, packages: Collection,
                 stamp: Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]) -> None:
        self.backend, self.packages, self._stamp = backend, packages, stamp

    # -- what a line carries ---------------------------------------------------------------------------------
    def live(self) -> list[dict[str, Any]]:
        return [p for p in self.backend.all("package") if p.get("status") != PACKAGE_CANCELLED]

    def packed(self, line_id: str, packages: list[dict[str, Any]] | None = None) -> int:
        """Units of ``line_id`` in packages not cancelled."""
        return sum(int(item["quantity"]) for p in (self.live() if packages is None else packages)
                   for item in p.get("items") or [] if str(item.get("order_item_id")) == line_id)

    # -- packages ------------------------------------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        b = self.backend
        with b.records.transaction():
            if b.records.exists(self.packages, "json_extract(doc, '$.remote_id') = ?", (body["remote_id"],)):
                raise Rejected(VALIDATION, f"remote_id: package {body['remote_id']!r} already exists")
            lines = self._order_lines(body.get("order_id"))
            live = self.live()
            wanted: dict[str, int] = {}
            for i, item in enumerate(body["items"]):
                line_id = str(item["order_item_id"])
                line = lines.get(line_id)
                if line is None:
                    raise Rejected(UNKNOWN_REFERENCE, f"items[{i}].order_item_id: {line_id} is not a line of order "
                                                      f"{body['order_id']}")
                if line["Status"] != READY:
                    hint = " (prepare it first)" if line["Status"] not in (CANCELLED, SHIPPED, DELIVERED) else ""
                    raise Rejected(VALIDATION, f"items[{i}].order_item_id: order line {line_id} is "
                                               f"{line['Status']}: it cannot be packed{hint}")
                if int(item["quantity"]) <= 0:
                    raise Rejected(VALIDATION, f"items[{i}].quantity: must be 1 or more")
                wanted[line_id] = wanted.get(line_id, 0) + int(item["quantity"])
                room = int(line["Quantity"]) - self.packed(line_id, live)
                if wanted[line_id] > room:
                    raise Rejected(VALIDATION, f"items[{i}].quantity: order line {line_id} has {room} unit(s) left "
                                               f"to pack ({line['Quantity']} ordered), {wanted[line_id]} sent")
            tracking = {k: v for k, v in (body.get("tracking") or {}).items() if not is_blank(v)}
            status = body.get("status")
            if is_blank(status):
                status = FULFILLED if any(tracking.get(k) for k in TRACKED) else CREATED
            doc = b.put("package", self._stamp(None, {**body, "status": status, "tracking": tracking,
                                                      "invoice": body.get("invoice") or {},
                                                      "delivery": {"status": PENDING_DELIVERY, "delivery_info": {}}}))
            for line_id in wanted:
                if self.packed(line_id) >= int(lines[line_id]["Quantity"]):
                    b.orders.set_status(line_id, SHIPPED, LINE_STATUSES)
            return self.shown(doc)

    def _order_lines(self, order_id: Any) -> dict[str, dict[str, Any]]:
        """The lines of the order ``order_id`` names (its ``Purchase Order ID``), by ``POlineID``."""
        if is_blank(order_id):
            raise Rejected(VALIDATION, "order_id: is required (the order's Purchase Order ID)")
        lines = {o["POlineID"]: o for o in self.backend.all("order")
                 if str(o.get("Purchase Order ID")) == str(order_id)}
        if not lines:
            raise Rejected(UNKNOWN_REFERENCE, f"order_id: unknown order {order_id}")
        return lines

    def cancel(self, key: str) -> dict[str, Any]:
        b = self.backend
        with b.records.transaction():
            doc = b.get_or_refuse("package", key)
            if doc["status"] == FULFILLED:
                raise Rejected(VALIDATION, "a fulfilled package cannot be cancelled")
            if doc["status"] == PACKAGE_CANCELLED:
                raise Rejected(VALIDATION, f"package {key} is already cancelled")
            doc = b.put("package", self._stamp(doc, {"status": PACKAGE_CANCELLED}))
            for item in doc.get("items") or []:
                line = b.get("order", str(item.get("order_item_id")))
                if line is not None and line["Status"] == SHIPPED:
                    b.orders.set_status(line["POlineID"], READY, UNPACK)
            return self.shown(doc)

    def fulfill(self, key: str, tracking: dict[str, Any]) -> dict[str, Any]:
        b = self.backend
        with b.records.transaction():
            doc = b.get_or_refuse("package", key)
            if doc["status"] == PACKAGE_CANCELLED:
                raise Rejected(VALIDATION, "a cancelled package cannot be fulfilled")
            given = {k: v for k, v in tracking.items() if not is_blank(v)}
            return self.shown(b.put("package", self._stamp(doc, {"status": FULFILLED,
                                                                 "tracking": {**doc.get("tracking", {}), **given}})))

    @staticmethod
    def shown(doc: dict[str, Any]) -> dict[str, Any]:
        """A package as Elryan shows it (its delivery is under ``/deliveries``)."""
        return {k: v for k, v in doc.items() if k != "delivery"}

    # -- deliveries ----------------------------------------------------------------------------------------
    def delivery(self, key: str) -> dict[str, Any]:
        doc = self.backend.get("package", key)
        if doc is None:
            raise Rejected(NOT_FOUND, f"delivery {key!r} not found")
        return self._delivery(doc)

    @staticmethod
    def _delivery(doc: dict[str, Any]) -> dict[str, Any]:
        delivery = doc.get("delivery") or {}
        return {"id": doc["id"], "package_id": doc["id"], "order_id": doc.get("order_id"),
                "remote_id": doc.get("remote_id"), "status": delivery.get("status", PENDING_DELIVERY),
                "delivery_info": delivery.get("delivery_info", {}), "updated_at": doc.get("updated_at")}

    def set_delivery_status(self, key: str, status: str) -> dict[str, Any]:
        b = self.backend
        with b.records.transaction():
            doc = b.get_or_refuse("package", key)
            if doc["status"] == PACKAGE_CANCELLED:
                raise Rejected(VALIDATION, f"delivery {key}: its package is cancelled")
            delivery = dict(doc.get("delivery") or {"status": PENDING_DELIVERY, "delivery_info": {}})
            if status not in DELIVERY.states:
                raise Rejected(VALIDATION, f"status: must be one of {', '.join(sorted(DELIVERY.states))}")
            DELIVERY.move(delivery, status, subject=key)
            doc = b.put("package", self._stamp(doc, {"delivery": delivery}))
            if status == DELIVERY_DONE:
                self._deliver_lines(doc)
            return self._delivery(doc)

    def _deliver_lines(self, doc: dict[str, Any]) -> None:
        """A shipped line of ``doc`` whose every live package is delivered becomes ``Delivered``."""
        b, live = self.backend, self.live()
        for item in doc.get("items") or []:
            line_id = str(item.get("order_item_id"))
            line = b.get("order", line_id)
            if line is None or line["Status"] != SHIPPED:
                continue
            carrying = [p for p in live if any(str(i.get("order_item_id")) == line_id for i in p.get("items") or [])]
            if all((p.get("delivery") or {}).get("status") == DELIVERY_DONE for p in carrying):
                b.orders.set_status(line_id, DELIVERED, LINE_STATUSES)
