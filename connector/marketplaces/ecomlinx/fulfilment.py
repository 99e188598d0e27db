"""EcomLinx fulfilment writer: ``PATCH /v1/orders/{id}`` with ``status``, ``awb`` and ``courier`` (docs/ecomlinx.md,
"Fulfilment").

EcomLinx has one status per order (new -> processing -> ready -> shipped -> delivered; cancelled before it
ships).  The writer walks that machine from the order's status as last read, one PATCH per move, each a step
``status:<status>`` of the step log: a step the marketplace confirmed is never sent again, and one a killed run
left unanswered is looked up (``GET /v1/orders/{id}``) before it is sent again.  An order is set to shipped when
every line shipped (``shipped_when: all_lines``; ``any_line``: at the first shipment); before that it is
unchanged, "waiting for the rest of the order".  EcomLinx holds one airway bill per order: the latest shipment's.
A refusal (400, 404, 409, 422) is ``failed`` with EcomLinx's message; anything else raises for the run to stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.fulfilment.model import FulfilOutcome, FulfilResult, OrderProgress, Shipment
from connector.fulfilment.writer import FulfilPlan, StepLog
from connector.marketplaces.ecomlinx.client import EcomLinxClient
from connector.marketplaces.ecomlinx.errors import EcomLinxError
from connector.orders.model import Order

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHAIN = ("new", "processing", "ready", "shipped", "delivered")
REFUSALS = (400, 404, 409, 422)  # the marketplace said no: the step was not applied
RESULTS = {"shipped": FulfilResult.SHIPPED, "delivered": FulfilResult.DELIVERED,
           "cancelled": FulfilResult.CANCELLED}


@dataclass(frozen=True, slots=True)
class _Step:
    status: str
    awb: str | None = None
    courier: str | None = None

    @property
    def name(self) -> str:
        return f"status:{self.status}"

    def body(self) -> dict[str, Any]:
        return {k: v for k, v in (("status", self.status), ("awb", self.awb), ("courier", self.courier)) if v}


class EcomLinxFulfilmentWriter:
    marketplace = "ecomlinx"
    needs_tracking = True  # shipped needs an awb
    needs_cancel_reason = False  # a cancellation is a status: no reason code
    shipment_steps = ("status:shipped", "status:delivered")
    cancel_steps = ("status:cancelled",)

    def __init__(self, client: EcomLinxClient, account: str) -> None:
        self.client, self.account = client, account

    # -- the protocol -------------------------------------------------------------------------------------
    def apply(self, order: Order, progress: OrderProgress, plan: FulfilPlan, steps: StepLog) -> FulfilOutcome:
        planned = self._plan(order, progress, plan, steps)
        if isinstance(planned, FulfilOutcome):
            return planned
        target, todo, note = planned
        sent: list[str] = []
        found: list[str] = []  # confirmed by looking: a killed run's PATCH had gone through, or the back office
        for step in todo:
            if steps.interrupted(order.key, step.name) and self._already(order.key, step):
                steps.confirm(order.key, step.name, step.body())
                sent.append(step.name)
                found.append(step.status)
                continue
            steps.begin(order.key, step.name)
            try:
                answer = self.client.update_order(order.key, step.status, awb=step.awb, courier=step.courier)
            except EcomLinxError as exc:
                if exc.status not in REFUSALS:
                    if exc.status < 500 and not 200 <= exc.status < 300:  # 401, 403, 429: not applied
                        steps.refused(order.key, step.name, exc.message)
                    raise  # a 5xx, or a 2xx we cannot read, may have been applied: the mark stays, looked up next
                if exc.status == 409 and self._already(order.key, step):
                    steps.confirm(order.key, step.name, step.body())  # moved there in EcomLinx's back office
                    sent.append(step.name)
                    found.append(step.status)
                    continue
                steps.refused(order.key, step.name, exc.message)
                done = f" (sent: {', '.join(sent)})" if sent else ""
                return FulfilOutcome(progress, FulfilResult.FAILED,
                                     f"EcomLinx refused {step.status}: {exc.message}{done}", sent=sent)
            steps.confirm(order.key, step.name, {**step.body(), "updated_at": answer.get("updated_at")})
            sent.append(step.name)
        if not sent:
            return FulfilOutcome(progress, FulfilResult.UNCHANGED, f"already {target} on EcomLinx")
        if found:
            looked = f"found {', '.join(found)} on EcomLinx already (an earlier call had gone through): not sent again"
            note = f"{looked}; {note}" if note else looked
        return FulfilOutcome(progress, RESULTS[target], note, sent=sent)

    def preview(self, order: Order, progress: OrderProgress, plan: FulfilPlan, steps: StepLog) -> FulfilOutcome:
        planned = self._plan(order, progress, plan, steps)
        if isinstance(planned, FulfilOutcome):
            return planned
        target, todo, note = planned
        if not todo:
            return FulfilOutcome(progress, FulfilResult.UNCHANGED, f"already {target} on EcomLinx")
        words = ", then ".join(_words(s) for s in todo)
        return FulfilOutcome(progress, RESULTS[target], f"dry run: would set {words}" + (f"; {note}" if note else ""))

    # -- what to send -------------------------------------------------------------------------------------
    def _plan(self, order: Order, progress: OrderProgress, plan: FulfilPlan, steps: StepLog
              ) -> FulfilOutcome | tuple[str, list[_Step], str | None]:
        """(the status to reach, the steps not yet confirmed, a note) or the outcome when nothing is to send."""
        current = order.raw_status if order.raw_status in CHAIN else order.status.value
        if progress.cancelled:
            step = _Step("cancelled")
            return "cancelled", [] if steps.done(order.key, step.name) else [step], None
        if not progress.shipments:
            return FulfilOutcome(progress, FulfilResult.UNCHANGED, "nothing shipped yet")
        lines = [ln for ln in order.lines if ln.status is None or ln.status.value not in ("cancelled", "returned")]
        shipped = progress.shipped_quantities()
        done_lines = sum(1 for ln in lines if shipped.get(ln.line_id, 0) >= ln.quantity)
        if plan.shipped_when != "any_line" and not progress.fully_shipped(order):
            return FulfilOutcome(progress, FulfilResult.UNCHANGED,
                                 f"waiting for the rest of the order ({done_lines} of {len(lines)} lines shipped)")
        target = "delivered" if progress.delivered else "shipped"
        if current not in CHAIN:  # cancelled or returned on EcomLinx: the core holds cancelled ones
            return FulfilOutcome(progress, FulfilResult.UNCHANGED, f"already {current} on EcomLinx")
        last = _latest(progress.shipments)
        awb, courier = last.tracking_number, plan.couriers.get(last.shipment_id)
        note = None
        if len(progress.shipments) > 1:
            others = [s.tracking_number or s.shipment_id for s in progress.shipments if s is not last]
            note = f"EcomLinx holds one airway bill per order: {awb} sent ({', '.join(others)} not)"
        path = CHAIN[CHAIN.index(current) + 1:CHAIN.index(target) + 1]
        todo: list[_Step] = []
        for status in ("shipped", *path) if current == "shipped" else path:
            step = _Step(status, awb, courier) if status == "shipped" else _Step(status)
            confirmed = steps.done(order.key, step.name)
            if status == "shipped" and confirmed is not None:
                if (confirmed.get("awb"), confirmed.get("courier")) != (awb, courier):
                    todo.append(step)  # the merchant corrected the tracking number or the courier
            elif confirmed is None and not (status == "shipped" and current == "shipped"):
                todo.append(step)
        return target, todo, note

    def _already(self, order_id: str, step: _Step) -> bool:
        """Whether EcomLinx's order is at ``step``'s status (or past it), with its airway bill."""
        remote = self.client.get_order(order_id)
        status = str(remote.get("status") or "")
        if step.status == "cancelled" or status not in CHAIN or step.status not in CHAIN:
            return status == step.status
        if CHAIN.index(status) < CHAIN.index(step.status):
            return False
        return step.awb is None or remote.get("awb") == step.awb


def _latest(shipments: tuple[Shipment, ...]) -> Shipment:
    """The shipment that completed the order: the last shipped (the last listed when times are missing)."""
    return max(enumerate(shipments), key=lambda item: (item[1].shipped_at or _EPOCH, item[0]))[1]


def _words(step: _Step) -> str:
    extra = f" (awb {step.awb}, courier {step.courier})" if step.awb or step.courier else ""
    return f"{step.status}{extra}"
