"""Elryan's fulfilment writer (``connector.fulfilment.writer.FulfilmentWriter``): shipments become packages,
cancellations cancel the order lines with a reason code from Elryan's list (docs/elryan.md, "Fulfilment").

For each shipment of an order's progress, in order:

1. ``prepare:<POlineID>`` — *Order Items Prepare* for every line of the shipment still pending on Elryan;
2. ``package:<shipment id>`` — *Create Package* with the shipment's lines (``order_item_id`` = POlineID,
   ``quantity``), ``order_id`` = the order's ``Purchase Order ID``, ``remote_id`` = ``package_remote_id``
   (stable: derived from the order and the shipment id) and ``tracking`` {``tracking_barcode``, ``provider``};
3. ``fulfill:<shipment id>`` — *Fulfill Package* when the package was created without the tracking number
   (``needs_tracking: false`` and the number came later);
4. ``delivery:<shipment id>`` / ``delivered:<shipment id>`` — the delivery's *Update Status* (setting
   ``delivery_statuses``; the delivery is the package's).

A cancellation is ``cancel:<POlineID>`` (*Order Cancel* with ``{"reason": <code>}``) for every line not yet
cancelled, the code checked against *Order Cancellation Reason List* (read once per writer, i.e. per run).

Exactly once: each call is a ``StepLog`` step, begun before it is sent and confirmed with what Elryan answered
(the package id).  A step a killed run left begun is *looked up* before anything is sent again: a package by
``POST /packages/search`` on its ``remote_id``, a line by its current status (*Get Order Details*), a delivery
by its status; found means confirmed, nothing sent.  A refusal (a non-zero ``error_code``) is looked up the same
way (a line someone already prepared in the back office is adopted), then the order is ``FAILED`` with Elryan's
message; 5xx, a 2xx whose body cannot be read, unreachable and refused credentials raise (the run defers or
stops), the step's mark kept for the next run to look up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connector.errors import ConfigError
from connector.fulfilment.model import FulfilOutcome, FulfilResult, OrderProgress, Shipment
from connector.fulfilment.writer import FulfilPlan, StepLog
from connector.marketplaces.elryan.client import ElryanClient
from connector.marketplaces.elryan.errors import ElryanError
from connector.marketplaces.elryan.orders import DEFAULT_ORDER_STATUSES, MARKETPLACE
from connector.orders.fields import fold_status, status_table
from connector.orders.model import Order, OrderStatus

DEFAULT_DELIVERY_STATUSES: dict[str, str | None] = {"shipped": "in_transit", "delivered": "delivered"}
"""The delivery status set after a package is created (``shipped``) and once the source says the order was
delivered (``delivered``); ``None`` sends none.  ``in_transit`` is the document's own sample; ``delivered`` is
inferred."""

UNPREPARED = frozenset({OrderStatus.NEW, OrderStatus.PROCESSING})
"""Line statuses that still need *Order Items Prepare* before the line can be packed."""
GONE = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED})
"""Line statuses past packing: such a line cannot be packed again nor cancelled."""


def package_remote_id(order_key: str, shipment_id: str) -> str:
    """Our ``remote_id`` of a shipment's package: the same order and shipment give the same id on every run."""
    return "conn-" + hashlib.sha256(f"{order_key}|{shipment_id}".encode()).hexdigest()[:24]


def _number(value: str) -> int | str:
    """Elryan's ids are integers in package bodies; a POlineID is digits."""
    text = str(value).strip()
    return int(text) if text.isdigit() else text


class _Refused(Exception):
    def __init__(self, step: str, error: ElryanError) -> None:
        super().__init__(f"{step}: Elryan refused ({error.code}): {error.message}")


class _Held(Exception):
    """The order is held as needs attention: nothing was sent."""


@dataclass
class _Run:
    """One ``apply`` / ``preview`` of one order."""

    order: Order
    steps: StepLog
    dry: bool
    sent: list[str] = field(default_factory=list)  # steps confirmed by this run
    would: list[tuple[str, str]] = field(default_factory=list)  # dry run: (step, what it would send)

    @property
    def key(self) -> str:
        return self.order.key


class ElryanFulfilmentWriter:
    """Sends one Elryan account's shipments and cancellations (settings: docs/elryan.md, "Fulfilment")."""

    marketplace = MARKETPLACE
    shipment_steps = ("package:",)
    cancel_steps = ("cancel:",)

    def __init__(self, client: ElryanClient, *, account: str, settings: dict[str, Any] | None = None) -> None:
        settings = settings or {}
        self.client, self.account = client, account
        self.needs_tracking = bool(settings.get("needs_tracking", True))
        statuses = settings.get("delivery_statuses")
        if statuses is not None and (not isinstance(statuses, dict) or set(statuses) - set(DEFAULT_DELIVERY_STATUSES)):
            raise ConfigError("Elryan setting delivery_statuses maps shipped / delivered to a delivery status (or "
                              f"null for none), got {statuses!r}")
        self.delivery_statuses = {**DEFAULT_DELIVERY_STATUSES, **(statuses or {})}
        self.statuses = status_table(DEFAULT_ORDER_STATUSES, settings.get("order_statuses"), setting="order_statuses")
        self._reasons: list[str] | None = None

    # -- FulfilmentWriter ----------------------------------------------------------------------------------
    def apply(self, order: Order, progress: OrderProgress, plan: FulfilPlan, steps: StepLog) -> FulfilOutcome:
        return self._run(_Run(order, steps, dry=False), progress, plan)

    def preview(self, order: Order, progress: OrderProgress, plan: FulfilPlan, steps: StepLog) -> FulfilOutcome:
        """What ``apply`` would send; only reads (the reason list) reach Elryan, nothing is recorded."""
        return self._run(_Run(order, steps, dry=True), progress, plan)

    def reasons(self) -> list[str]:
        """Elryan's cancellation reason codes, read once per writer."""
        if self._reasons is None:
            self._reasons = self.client.cancellation_reasons()
        return self._reasons

    # -- one order -----------------------------------------------------------------------------------------
    def _run(self, run: _Run, progress: OrderProgress, plan: FulfilPlan) -> FulfilOutcome:
        try:
            if progress.problems:
                raise _Held("; ".join(progress.problems))
            send = self._cancel if progress.cancelled else self._ship
            result = send(run, progress, plan)
        except _Held as held:
            return FulfilOutcome(progress, FulfilResult.ATTENTION, str(held), sent=run.sent)
        except _Refused as refused:
            return FulfilOutcome(progress, FulfilResult.FAILED, str(refused), sent=run.sent)
        if run.dry:
            if not run.would:
                return FulfilOutcome(progress, FulfilResult.UNCHANGED, "nothing to send")
            return FulfilOutcome(progress, result, "would send: " + "; ".join(d for _, d in run.would),
                                 sent=[step for step, _ in run.would])
        return FulfilOutcome(progress, result if run.sent else FulfilResult.UNCHANGED, sent=run.sent)

    def _step(self, run: _Run, step: str, describe: str, send: Callable[[], Any],
              keep: Callable[[Any], dict[str, Any]], lookup: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        """One call, exactly once: the body Elryan confirmed (``{"dry_run": True}`` in a dry run for a step not
        yet sent)."""
        done = run.steps.done(run.key, step)
        if done is not None:
            return done
        interrupted = run.steps.interrupted(run.key, step)
        if run.dry:
            run.would.append((step, describe + (" (looked up first: a killed run sent it)" if interrupted else "")))
            return {"dry_run": True}
        if interrupted:
            found = lookup()
            if found is not None:
                run.steps.confirm(run.key, step, found, remote_id=found.get("id"))
                run.sent.append(step)
                return found
        run.steps.begin(run.key, step)
        try:
            answer = send()
        except ElryanError as exc:
            if exc.retryable or exc.auth_rejected:
                raise  # the mark stays: the next run looks it up before sending again
            found = lookup()  # already so on Elryan (done in its back office, or by a run whose state was lost)
            if found is not None:
                run.steps.confirm(run.key, step, found, remote_id=found.get("id"))
                run.sent.append(step)
                return found
            if exc.unread:
                raise  # a 2xx page or cut body is no refusal: the mark stays, the next run looks it up again
            run.steps.refused(run.key, step, exc.message)
            raise _Refused(step, exc) from None
        body = keep(answer if isinstance(answer, dict) else {})
        run.steps.confirm(run.key, step, body, remote_id=body.get("id"))
        run.sent.append(step)
        return body

    # -- shipments -----------------------------------------------------------------------------------------
    def _ship(self, run: _Run, progress: OrderProgress, plan: FulfilPlan) -> FulfilResult:
        if not progress.shipments and progress.delivered:
            raise _Held("delivered, but no shipment of it is known: nothing to tell Elryan")
        # every shipment is checked before anything is sent: a held order sends nothing
        for shipment in progress.shipments:
            package = run.steps.done(run.key, f"package:{shipment.shipment_id}") or {}
            if (shipment.tracking_number and package.get("tracking_barcode") != shipment.tracking_number
                    and not plan.couriers.get(shipment.shipment_id)):
                raise _Held(f"shipment {shipment.shipment_id}: carrier {shipment.carrier or '(none)'} has no Elryan "
                            "courier mapped")
        self._not_packed_twice(run, progress)
        to_send = [s for s in progress.shipments if self._packed(run, s.shipment_id)
                   or not self._shipped_elsewhere(run.order, s)]
        for shipment in to_send:
            self._send_shipment(run, shipment, plan, delivered=progress.delivered)
        sent = run.sent + [step for step, _ in run.would]
        return FulfilResult.DELIVERED if any(s.startswith("delivered:") for s in sent) else FulfilResult.SHIPPED

    @staticmethod
    def cancels_of(shipments: Sequence[Shipment], cancelled: list[str]) -> list[str]:
        """Elryan cancels line by line (step ``cancel:<POlineID>``): only a cancelled line of ``shipments``
        holds them."""
        lines = {ln.line_id for s in shipments for ln in s.lines}
        return [step for step in cancelled if step.removeprefix("cancel:") in lines]

    def _not_packed_twice(self, run: _Run, progress: OrderProgress) -> None:
        """``_Held`` for a shipment not packed yet whose line an earlier run's package already holds whole, under
        another shipment id: a tracking number corrected in the workbook after its package was sent (the
        workbook's shipment id is its tracking number), or the line typed into a second parcel.  Elryan refuses
        to pack a shipped line again, on every run; the merchant is told what to do instead."""
        before: dict[str, list[tuple[str, Any, int, Any]]] = {}  # line id -> (shipment, tracking, quantity, id)
        packages = run.steps.confirmed(run.key, ("package:",))
        bodies = run.steps.done_many(run.key, packages)  # one read of every earlier package of the order
        for step in packages:
            body = bodies.get(step) or {}
            for item in body.get("items") or []:
                quantity = item.get("quantity")
                before.setdefault(str(item.get("order_item_id")), []).append(
                    (step.removeprefix("package:"), body.get("tracking_barcode"),
                     quantity if isinstance(quantity, int) else 0, body.get("id")))
        ordered = {ln.line_id: ln.quantity for ln in run.order.lines}
        cancelled: dict[Any, bool] = {}  # package id -> cancelled since (in Elryan's back office): it holds nothing

        def live(package_id: Any) -> bool:
            if package_id is None:
                return True
            if package_id not in cancelled:
                info = self._read(lambda: self.client.package_info(package_id)) or {}
                cancelled[package_id] = str(info.get("status") or "").lower() == "cancelled"
            return not cancelled[package_id]

        for shipment in progress.shipments:
            if self._packed(run, shipment.shipment_id):
                continue
            for ln in shipment.lines:
                earlier = before.get(ln.line_id, [])
                if earlier and sum(q for _, _, q, _ in earlier) >= ordered.get(ln.line_id, 0):
                    earlier = [e for e in earlier if live(e[3])]  # read only when it would hold
                if earlier and sum(q for _, _, q, _ in earlier) >= ordered.get(ln.line_id, 0):
                    sent = ", ".join(f"tracking {t}" if t else f"shipment {name}" for name, t, _, _ in earlier)
                    raise _Held(f"line {ln.line_id} ({ln.sku}) went to Elryan in a package already ({sent}); "
                                f"shipment {shipment.shipment_id} would pack it again, which Elryan refuses: if the "
                                "tracking number was corrected, change it in Elryan's back office and type the "
                                "number sent back in the workbook")

    @staticmethod
    def _packed(run: _Run, name: str) -> bool:
        """The shipment's package was sent: confirmed, or begun by a killed run (then looked up)."""
        step = f"package:{name}"
        return run.steps.done(run.key, step) is not None or run.steps.interrupted(run.key, step)

    def _shipped_elsewhere(self, order: Order, shipment: Shipment) -> bool:
        """Checks a shipment not yet packed: ``_Held`` when it cannot be sent; True when Elryan already shows
        every line of it shipped (packed in its back office: nothing to send)."""
        lines = {ln.line_id: ln for ln in order.lines}
        name = shipment.shipment_id
        if self.needs_tracking and not shipment.tracking_number:
            raise _Held(f"shipment {name}: no tracking number (an Elryan package needs one)")
        gone = []
        for ln in shipment.lines:
            line = lines.get(ln.line_id)
            if line is None:
                raise _Held(f"shipment {name}: line {ln.line_id} ({ln.sku}) is not a line of Elryan order "
                            f"{order.remote_id}")
            if line.status is OrderStatus.CANCELLED:
                raise _Held(f"shipment {name}: line {ln.line_id} ({ln.sku}) was cancelled on Elryan")
            if line.status in GONE:
                gone.append(ln.line_id)
        if gone and len(gone) < len(shipment.lines):
            raise _Held(f"shipment {name}: line(s) {', '.join(gone)} already shipped on Elryan, the others not")
        return bool(gone)

    def _send_shipment(self, run: _Run, shipment: Shipment, plan: FulfilPlan, *, delivered: bool) -> None:
        order, name = run.order, shipment.shipment_id
        status_of = {ln.line_id: ln.status for ln in order.lines}
        quantities: dict[str, int] = {}
        for ln in shipment.lines:
            quantities[ln.line_id] = quantities.get(ln.line_id, 0) + ln.quantity
        if run.steps.done(run.key, f"package:{name}") is None:
            for line_id in quantities:
                if status_of.get(line_id) in UNPREPARED or status_of.get(line_id) is None:
                    self._step(run, f"prepare:{line_id}", f"prepare line {line_id}",
                               send=lambda i=line_id: self.client.prepare_order_items(i),
                               keep=lambda data: {"status": data.get("Status")},
                               lookup=lambda i=line_id: self._line_past(i, UNPREPARED | {OrderStatus.CANCELLED}))
        tracking = self._tracking(shipment, plan)
        remote_id = package_remote_id(order.key, name)
        body: dict[str, Any] = {
            "order_id": _number(self._purchase_order_id(run)), "remote_id": remote_id,
            "items": [{"order_item_id": _number(i), "quantity": q} for i, q in quantities.items()]}
        if tracking:
            body["tracking"] = tracking
        package = self._step(run, f"package:{name}",
                             f"package {remote_id} ({', '.join(f'{i} x{q}' for i, q in quantities.items())}"
                             f"{', tracking ' + shipment.tracking_number if tracking else ''})",
                             send=lambda: self.client.create_package(body), keep=_package_body,
                             lookup=lambda: self._package(remote_id))
        package_id = package.get("id") or f"<package {remote_id}>"
        if tracking and not package.get("dry_run") and package.get("tracking_barcode") != tracking["tracking_barcode"]:
            self._step(run, f"fulfill:{name}", f"tracking {shipment.tracking_number} on package {package_id}",
                       send=lambda: self.client.fulfill_package(package_id, tracking), keep=_package_body,
                       lookup=lambda: self._tracked(package_id, tracking["tracking_barcode"]))
        for which, step in (("shipped", "delivery"), ("delivered", "delivered")):
            status = self.delivery_statuses.get(which)
            if not status or (which == "shipped" and delivered) or (which == "delivered" and not delivered):
                continue
            self._step(run, f"{step}:{name}", f"delivery {package_id} status {status}",
                       send=lambda s=status: self.client.update_delivery_status(package_id, s),
                       keep=lambda data: {"id": data.get("id"), "status": data.get("status")},
                       lookup=lambda s=status: self._delivery_at(package_id, s))

    def _tracking(self, shipment: Shipment, plan: FulfilPlan) -> dict[str, str]:
        if not shipment.tracking_number:
            return {}
        return {"tracking_barcode": shipment.tracking_number, "provider": plan.couriers[shipment.shipment_id]}

    def _purchase_order_id(self, run: _Run) -> str:
        """The order's ``Purchase Order ID`` (the package's ``order_id``): kept by the reader, else read from
        the first line's details."""
        known = run.order.extra.get("purchase_order_id")
        if known or run.dry:
            return str(known or "?")
        details = self.client.order_details(run.order.lines[0].line_id)
        return str(details.get("Purchase Order ID") or "")

    # -- cancellation --------------------------------------------------------------------------------------
    def _cancel(self, run: _Run, progress: OrderProgress, plan: FulfilPlan) -> FulfilResult:
        order = run.order
        if progress.shipments:
            packed = [s.shipment_id for s in progress.shipments
                      if run.steps.done(run.key, f"package:{s.shipment_id}") is not None]
            what = (f"cancelled after shipping (package(s) sent for {', '.join(packed)})" if packed
                    else "cancelled, but the source also records shipments of it")
            raise _Held(f"{what}: an Elryan package is not cancelled by the connector; settle it in Elryan's back "
                        "office")
        gone = [ln.line_id for ln in order.lines if ln.status in GONE]
        if gone:
            raise _Held(f"cancelled, but line(s) {', '.join(gone)} already shipped on Elryan")
        open_lines = [ln.line_id for ln in order.lines if ln.status is not OrderStatus.CANCELLED
                      and run.steps.done(run.key, f"cancel:{ln.line_id}") is None]
        if not open_lines:
            return FulfilResult.UNCHANGED  # already cancelled on Elryan (by us, the customer or Elryan)
        reason = plan.cancel_reason
        if not reason:
            raise _Held(f"cancelled, but no Elryan cancellation reason is mapped for {progress.cancel_reason!r} "
                        f"(orders.fulfilment.cancel_reasons); Elryan accepts: {', '.join(self.reasons())}")
        if reason not in self.reasons():
            raise _Held(f"cancellation reason {reason!r} is not one Elryan accepts: {', '.join(self.reasons())}")
        for line_id in open_lines:
            self._step(run, f"cancel:{line_id}", f"cancel line {line_id} ({reason})",
                       send=lambda i=line_id: self.client.cancel_order(i, reason),
                       keep=lambda data: {"status": data.get("Status"), "reason": data.get("cancelReason")},
                       lookup=lambda i=line_id: self._line_at(i, OrderStatus.CANCELLED))
        return FulfilResult.CANCELLED

    # -- lookups (what Elryan holds now) -------------------------------------------------------------------
    def _read(self, call: Callable[[], Any]) -> Any:
        """A lookup's read: None when Elryan refuses it (not found...); 5xx, an unreadable 2xx and unreachable
        raise (no answer is not "not there": a step looked up in vain is sent again)."""
        try:
            return call()
        except ElryanError as exc:
            if exc.retryable or exc.auth_rejected or exc.unread:
                raise
            return None

    def _line_status(self, line_id: str) -> tuple[OrderStatus | None, str]:
        details = self._read(lambda: self.client.order_details(line_id))
        raw = str((details or {}).get("Status") or "")
        return self.statuses.get(fold_status(raw)) if raw else None, raw

    def _line_at(self, line_id: str, wanted: OrderStatus) -> dict[str, Any] | None:
        status, raw = self._line_status(line_id)
        return {"status": raw, "looked_up": True} if status is wanted else None

    def _line_past(self, line_id: str, before: frozenset[OrderStatus]) -> dict[str, Any] | None:
        status, raw = self._line_status(line_id)
        return {"status": raw, "looked_up": True} if status is not None and status not in before else None

    def _package(self, remote_id: str) -> dict[str, Any] | None:
        found = self._read(lambda: self.client.package_by_remote_id(remote_id))
        return None if found is None else {**_package_body(found), "looked_up": True}

    def _tracked(self, package_id: str, barcode: str) -> dict[str, Any] | None:
        info = self._read(lambda: self.client.package_info(package_id))
        body = _package_body(info or {})
        return {**body, "looked_up": True} if body.get("tracking_barcode") == barcode else None

    def _delivery_at(self, package_id: str, status: str) -> dict[str, Any] | None:
        info = self._read(lambda: self.client.delivery_info(package_id)) or {}
        at = info.get("status")
        if at == status or at == "delivered":  # there, or past it
            return {"id": info.get("id"), "status": at, "looked_up": True}
        return None


def _package_body(data: Any) -> dict[str, Any]:
    """What the step log keeps of a package: its id, remote id, status, tracking number and items."""
    data = data if isinstance(data, dict) else {}
    tracking = data.get("tracking") if isinstance(data.get("tracking"), dict) else {}
    return {"id": data.get("id"), "remote_id": data.get("remote_id"), "status": data.get("status"),
            "tracking_barcode": tracking.get("tracking_barcode") or None,
            "items": [{"order_item_id": i.get("order_item_id"), "quantity": i.get("quantity")}
                      for i in data.get("items") or [] if isinstance(i, dict)]}
