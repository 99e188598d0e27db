"""What a marketplace's fulfilment writer provides, and the step log that makes each of its calls exactly once.

A writer turns an order's progress into the calls its marketplace documents (EcomLinx: ``PATCH /v1/orders/{id}``
through ready -> shipped -> delivered; Elryan: prepare the items, create a package with its items and tracking,
cancel with a reason code).  Each call is a *step* named by the writer (``status:shipped``,
``package:<shipment id>``, ``cancel``).  Before a step is sent, ``StepLog.begin`` records it as being sent (and
journals it); once the marketplace answers, ``confirm`` keeps what the writer needs later (a package id) and
``refused`` drops the mark.  A run killed in between leaves the mark: the next run's writer sees
``interrupted(...)`` and looks on the marketplace (Elryan: a package search by ``remote_id``) before sending
again, so a package is never created twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connector.fulfilment.model import FulfilOutcome, OrderProgress, Shipment
from connector.orders.model import Order
from connector.sync.state import StateStore

STEP = "fulfil.step"  # key "<order key>|<step>": confirmed by the marketplace; body: what it answered
SENDING = "fulfil.sending"  # key "<order key>|<step>": sent, answer not recorded (a run killed mid-call)
PROGRESS = "fulfil.progress"  # key order key: the progress last read from the source (hash: its fingerprint)
CONFIRMED = "fulfil.confirmed"  # key order key: the progress whose every step the marketplace confirmed


@dataclass(frozen=True, slots=True)
class FulfilPlan:
    """What the profile adds to an order's progress for one marketplace: the marketplace's courier name for each
    shipment (mapped from the source's carrier by ``orders.fulfilment.carriers``), the cancellation reason code
    (``orders.fulfilment.cancel_reasons``) and the writer's settings from the profile."""

    couriers: dict[str, str] = field(default_factory=dict)  # shipment id -> marketplace courier name
    cancel_reason: str | None = None
    shipped_when: str = "all_lines"  # order-level marketplaces (EcomLinx): "all_lines" or "any_line"


class StepLog:
    """The steps of one marketplace account's fulfilment calls, in the state (kinds ``fulfil.step`` and
    ``fulfil.sending``; the journal gets one entry per call with action ``fulfil:<step kind>``)."""

    def __init__(self, state: StateStore, marketplace: str, account: str, run_id: str) -> None:
        self.state, self.marketplace, self.account, self.run_id = state, marketplace, account, run_id
        self._journal: dict[str, int] = {}
        self._confirmed: dict[str, list[str]] | None = None  # order key -> its confirmed steps (``confirmed``)

    @staticmethod
    def key(order_key: str, step: str) -> str:
        return f"{order_key}|{step}"

    def done(self, order_key: str, step: str) -> dict[str, Any] | None:
        """What the marketplace answered when it confirmed ``step`` (None: not confirmed)."""
        key = self.key(order_key, step)
        return self.state.bodies(self.marketplace, self.account, STEP, [key]).get(key)

    def confirmed(self, order_key: str, prefixes: tuple[str, ...]) -> list[str]:
        """The steps of ``order_key`` the marketplace confirmed whose names start with one of ``prefixes``
        (by any run: ``package:`` finds every package sent for the order, whatever its shipment)."""
        if not prefixes:
            return []
        if self._confirmed is None:  # one read per run, indexed by order (the key up to its first "|")
            self._confirmed = {}
            for key in self.state.hashes(self.marketplace, self.account, STEP):
                order, _, step = key.partition("|")
                self._confirmed.setdefault(order, []).append(step)
        if "|" in order_key:  # (an order id with a "|" in it: its steps are not under the index's key)
            head, _, rest = order_key.partition("|")
            steps = [step.removeprefix(rest + "|") for step in self._confirmed.get(head, ())
                     if step.startswith(rest + "|")]
        else:
            steps = self._confirmed.get(order_key, [])
        return sorted(step for step in steps if step.startswith(prefixes))

    def done_many(self, order_key: str, steps: list[str]) -> dict[str, dict[str, Any]]:
        """``done`` of several steps of one order in one read: step -> its answer (confirmed steps only)."""
        keys = {self.key(order_key, step): step for step in steps}
        if not keys:
            return {}
        return {keys[k]: body for k, body in self.state.bodies(self.marketplace, self.account, STEP, keys).items()}

    def interrupted(self, order_key: str, step: str) -> bool:
        """``step`` was sent by a run that died before recording the answer: look before sending again."""
        key = self.key(order_key, step)
        return key in self.state.bodies(self.marketplace, self.account, SENDING, [key])

    def begin(self, order_key: str, step: str) -> None:
        key = self.key(order_key, step)
        with self.state.atomic():
            self.state.confirm(self.marketplace, self.account, SENDING, [(key, "", _dump({"run": self.run_id}), None)])
            self._journal[key] = self.state.journal_sent(self.run_id, self.marketplace, self.account,
                                                         f"fulfil:{step.split(':', 1)[0]}", [order_key])

    def confirm(self, order_key: str, step: str, body: dict[str, Any] | None = None,
                remote_id: str | None = None) -> None:
        key = self.key(order_key, step)
        with self.state.atomic():
            self.state.confirm(self.marketplace, self.account, STEP, [(key, "", _dump(body or {}), remote_id)])
            if self._confirmed is not None:
                self._confirmed.setdefault(order_key, []).append(step)
            self.state.forget(self.marketplace, self.account, SENDING, key)
            entry = self._journal.pop(key, None)
            if entry is not None:
                self.state.journal_done(entry, ok=True)

    def refused(self, order_key: str, step: str, message: str) -> None:
        """The marketplace answered no: the step was not applied, nothing to look up next run."""
        key = self.key(order_key, step)
        with self.state.atomic():
            self.state.forget(self.marketplace, self.account, SENDING, key)
            entry = self._journal.pop(key, None)
            if entry is not None:
                self.state.journal_done(entry, ok=False, message=message)


class FulfilmentWriter(Protocol):
    """Registered as ``MarketplacePlugin.make_fulfilment_writer(http, settings, account, secret)``."""

    marketplace: str
    needs_tracking: bool  # a shipment without a tracking number is held as needs attention, never sent
    # a cancellation the profile maps no reason code for (``orders.fulfilment.cancel_reasons``) is held as needs
    # attention, never sent (Elryan); optional: a writer without it takes cancellations without a code
    needs_cancel_reason: bool
    # optional: the names (prefixes) of the steps that put an order's shipment on the marketplace, and of those
    # that cancel it: a cancellation after one of the first, or a shipment after one of the second, confirmed by
    # an earlier run, is held as needs attention (the order as last read may not show it yet)
    shipment_steps: tuple[str, ...]
    cancel_steps: tuple[str, ...]

    def cancels_of(self, shipments: Sequence[Shipment], cancelled: list[str]) -> list[str]:
        """Optional: of the confirmed cancel steps ``cancelled``, those that cancelled what ``shipments`` ship (a
        marketplace that cancels line by line: a shipment is held only for a cancelled line of its own, the
        order's other lines may still ship); without it, any cancel step of the order holds its shipments."""
        ...

    def apply(self, order: Order, progress: OrderProgress, plan: FulfilPlan, steps: StepLog) -> FulfilOutcome:
        """Send what ``progress`` says that the step log does not hold as confirmed; one outcome.  ``order`` is
        the order as last read from the marketplace (its status decides where the status machine starts).
        A refusal is ``FAILED`` with the marketplace's message; an unreachable marketplace raises (the run stops
        for this account, exit 4)."""
        ...

    def preview(self, order: Order, progress: OrderProgress, plan: FulfilPlan, steps: StepLog) -> FulfilOutcome:
        """What ``apply`` would send (a dry run): nothing sent, nothing recorded."""
        ...


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
