"""How a plan is pushed to Elebne.

Order (design §5, "stock first, catalogue edits after"): stock of products Elebne already has, in bulk
requests of up to 200 products; then creates (one request each, with an idempotency key derived from the
content so a retried create is the same create); then stock of the products just created; then updates
(changed fields only).  Each operation class has its own budget: when one is spent, its remaining operations
are deferred to the next run and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from connector.errors import BudgetExhausted, MarketplaceUnreachable
from connector.http import RateLimitedTooLong, TransportError
from connector.jsonutil import digest
from connector.marketplaces.base import ItemResult, ResultSink
from connector.marketplaces.elebne.client import ElebneClient, ElebneError
from connector.marketplaces.elebne.payloads import check
from connector.sync.plan import CATALOGUE, STOCK, PlannedOp


class ElebneAdapter:
    roles: ClassVar[dict[str, str]] = {"product": CATALOGUE, "stock": STOCK}

    def __init__(self, client: ElebneClient, *, account: str, bulk_max_items: int = 200) -> None:
        self.client = client
        self.account = account
        self.bulk_max_items = bulk_max_items

    # -- planning hooks --------------------------------------------------------------------------------------
    def normalize(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Stock payloads keep only the variants whose quantity is known; none known -> nothing to send."""
        if kind != "stock":
            return payload
        variants = [v for v in payload.get("variants") or [] if v.get("quantity") is not None]
        if variants:
            payload["variants"] = variants
        else:
            payload.pop("variants", None)
        if payload.get("quantity") is None and not variants:
            return None
        return payload

    def validate(self, op: PlannedOp) -> str | None:
        return check(op.action, op.body)

    def idempotency_key(self, op: PlannedOp) -> str:
        return "create-" + digest(f"{self.account}\n{op.key}\n{op.digest}")

    # -- push ------------------------------------------------------------------------------------------------
    def push(self, ops: list[PlannedOp], sink: ResultSink) -> None:
        creates = [op for op in ops if op.action == "create"]
        updates = [op for op in ops if op.action == "update"]
        creating = {op.key for op in creates}
        stock_now = [op for op in ops if op.action == "stock" and op.key not in creating]
        stock_later = [op for op in ops if op.action == "stock" and op.key in creating]
        guard = _Guard(sink)

        guard.run(stock_now, self._push_stock_batches)
        created = guard.run(creates, self._push_each(self._create))
        ready = [op for op in stock_later if op.key in created]
        waiting = [op for op in stock_later if op.key not in created]
        sink.done(0, [_dependent(op, guard.deferred) for op in waiting])
        guard.run(ready, self._push_stock_batches)
        guard.run(updates, self._push_each(self._update))
        guard.raise_if_unreachable()

    def _push_each(self, send: Callable[[PlannedOp], ItemResult]) -> Callable[[list[PlannedOp], ResultSink], set]:
        def run(ops: list[PlannedOp], sink: ResultSink) -> set[str]:
            done: set[str] = set()
            for i, op in enumerate(ops):
                problem = self.validate(op)
                if problem:
                    sink.done(0, [ItemResult(op, ok=False, code="INVALID_PAYLOAD", message=problem)])
                    continue
                key = self.idempotency_key(op) if op.action == "create" else None
                jid = sink.sending(op.action, [op], key)
                try:
                    result = send(op)
                except (BudgetExhausted, RateLimitedTooLong, TransportError) as exc:
                    sink.done(jid, [ItemResult(op, ok=False, message=str(exc), deferred=True)])
                    raise _Stop(exc, ops[i + 1:], done) from None
                sink.done(jid, [result])
                if result.ok:
                    done.add(op.key)
            return done

        return run

    def _create(self, op: PlannedOp) -> ItemResult:
        try:
            data = self.client.create_product(op.body, self.idempotency_key(op))
            return ItemResult(op, ok=True, remote_id=str(data.get("id") or "") or None)
        except ElebneError as exc:
            if exc.code == "DUPLICATE_EXTERNAL_ID":
                return self._adopt(op)
            return _failed(op, exc)

    def _adopt(self, op: PlannedOp) -> ItemResult:
        """The product already exists on Elebne (created by hand, or by a run killed before it saved its
        state): take it over and bring it in line with the payload instead of failing."""
        try:
            existing = self.client.get_product(op.key)
            body = {k: v for k, v in op.payload.items() if k != "externalId"}
            self.client.update_product(op.key, body)
            return ItemResult(op, ok=True, remote_id=str(existing.get("id") or "") or None,
                              message="already on Elebne: adopted and updated")
        except ElebneError as exc:
            return _failed(op, exc)

    def _update(self, op: PlannedOp) -> ItemResult:
        body = {k: v for k, v in op.body.items() if k != "externalId"}
        try:
            data = self.client.update_product(op.key, body)
            return ItemResult(op, ok=True, remote_id=str(data.get("id") or "") or None)
        except ElebneError as exc:
            result = _failed(op, exc)
            result.forget = exc.code == "PRODUCT_NOT_FOUND"
            return result

    def _push_stock_batches(self, ops: list[PlannedOp], sink: ResultSink) -> set[str]:
        done: set[str] = set()
        valid = []
        for op in ops:
            problem = self.validate(op)
            if problem:
                sink.done(0, [ItemResult(op, ok=False, code="INVALID_PAYLOAD", message=problem)])
            else:
                valid.append(op)
        for start in range(0, len(valid), self.bulk_max_items):
            batch = valid[start:start + self.bulk_max_items]
            jid = sink.sending("stock", batch)
            try:
                result = self.client.bulk_inventory([op.body for op in batch])
            except (BudgetExhausted, RateLimitedTooLong, TransportError) as exc:
                sink.done(jid, [ItemResult(op, ok=False, message=str(exc), deferred=True) for op in batch])
                raise _Stop(exc, valid[start + self.bulk_max_items:], done) from None
            except ElebneError as exc:
                sink.done(jid, [_failed(op, exc) for op in batch])
                continue
            errors = {str(e.get("externalId")): e for e in result.errors}
            results = []
            for op in batch:
                err = errors.get(op.key)
                if err is None:
                    results.append(ItemResult(op, ok=True))
                    done.add(op.key)
                else:
                    code = str(err.get("code") or "")
                    results.append(ItemResult(op, ok=False, code=code or None,
                                              message=str(err.get("error") or err.get("message") or code),
                                              forget=_product_gone(code, str(err.get("error", "")))))
            sink.done(jid, results)
        return done


def _product_gone(code: str, message: str) -> bool:
    """A bulk item error saying the product itself no longer exists on Elebne (not one of its variants): the
    binding is dropped so the next run re-creates it.  The documented error has only a message; the sandbox
    adds a code, which is trusted when present."""
    if code:
        return code == "PRODUCT_NOT_FOUND"
    text = message.lower()
    return "not found" in text and "variant" not in text


def _dependent(op: PlannedOp, deferred: set[str]) -> ItemResult:
    """Stock of a product that was not created: deferred with it, or blocked by its failure."""
    if op.key in deferred:
        return ItemResult(op, ok=False, deferred=True, message="not sent: the product's creation was deferred")
    return ItemResult(op, ok=False, blocked=True, message="not sent: the product could not be created")


def _failed(op: PlannedOp, exc: ElebneError) -> ItemResult:
    return ItemResult(op, ok=False, code=exc.code, message=exc.message or str(exc))


class _Stop(Exception):
    """Internal: a class of operations cannot go on (budget spent, network down)."""

    def __init__(self, cause: Exception, rest: Sequence[PlannedOp], done: set[str]) -> None:
        self.cause, self.rest, self.done = cause, list(rest), done
        super().__init__(str(cause))


class _Guard:
    """Runs one class of operations; on a stop, defers what is left of that class (budget) or stops the
    whole push (the marketplace is unreachable) after accounting for every remaining operation."""

    def __init__(self, sink: ResultSink) -> None:
        self.sink = sink
        self.unreachable: TransportError | None = None
        self.deferred: set[str] = set()  # keys whose operation was deferred (budget, long rate limit, network)

    def run(self, ops: list[PlannedOp], fn: Callable[[list[PlannedOp], ResultSink], set[str]]) -> set[str]:
        if not ops:
            return set()
        if self.unreachable is not None:
            self.deferred.update(op.key for op in ops)
            self.sink.done(0, [ItemResult(op, ok=False, deferred=True,
                                          message=f"not sent: marketplace unreachable ({self.unreachable})")
                               for op in ops])
            return set()
        try:
            return fn(ops, self.sink)
        except _Stop as stop:
            done = stop.done
            self.deferred.update(op.key for op in ops if op.key not in done)
            self.sink.done(0, [ItemResult(op, ok=False, deferred=True, message=f"not sent: {stop.cause}")
                               for op in stop.rest])
            if isinstance(stop.cause, TransportError):
                self.unreachable = stop.cause
            return done

    def raise_if_unreachable(self) -> None:
        if self.unreachable is not None:
            raise MarketplaceUnreachable(str(self.unreachable))
