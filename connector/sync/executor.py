"""The one executor of sends: journal ``sending``, send, classify the answer, record ``done``.

Adapters keep their own order (what goes first, what depends on what, how ops are batched) and hand each
request to ``Executor.send``.  Whatever the marketplace answers, every op ends with a result:

- a verdict ``FAIL`` / ``FORGET`` fails the ops of that request (with the marketplace's code and message);
- ``DEFER`` defers them and *halts their lane* (the budget class the request spends): later sends in that
  lane are deferred without being tried, other lanes go on;
- ``STOP`` defers them and halts every lane; ``finish`` then raises ``MarketplaceUnreachable`` (exit 4);
- ``RETRY`` sends again, up to the classifier's ``max_retries``, then defers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from connector.errors import MarketplaceUnreachable
from connector.sync.answers import UNKNOWN_OUTCOME, Classifier, Verdict, describe_error
from connector.sync.ops import INVALID_PAYLOAD, ItemResult, PlannedOp, ResultSink

T = TypeVar("T")
Sent = Callable[[], ItemResult | Sequence[ItemResult]]


class Executor:
    """Sends the requests of one push through a ``ResultSink``, applying one plugin's ``Classifier``."""

    def __init__(self, sink: ResultSink, classifier: Classifier) -> None:
        self.sink, self.classifier = sink, classifier
        self.halted: dict[str, str] = {}  # lane -> why nothing more is sent in it
        self.stopped: str | None = None  # why nothing more is sent at all
        self.deferred_keys: set[str] = set()  # keys of every op deferred so far

    # -- what is not sent -------------------------------------------------------------------------------------
    def halt_reason(self, lane: str) -> str | None:
        """Why nothing more goes out in ``lane`` (None: it is open)."""
        return self.stopped or self.halted.get(lane)

    def defer(self, ops: Sequence[PlannedOp], reason: str, journal_id: int = 0, *, sent: bool = False) -> None:
        """``sent``: the ops' own request went out and its outcome is unknown (``UNKNOWN_OUTCOME``): the reason
        says so, not "not sent"."""
        self.deferred_keys.update(op.key for op in ops)
        message = reason if sent else f"not sent: {reason}"
        self.sink.done(journal_id, [ItemResult(op, ok=False, deferred=True, message=message) for op in ops])

    def record(self, result: ItemResult) -> ItemResult:
        """An outcome the adapter decided without sending anything (e.g. "not on the marketplace")."""
        self.sink.done(0, [result])
        return result

    def block(self, ops: Sequence[PlannedOp], message: str) -> None:
        """Not sent because something they depend on failed."""
        self.sink.done(0, [ItemResult(op, ok=False, blocked=True, message=message) for op in ops])

    def fail(self, ops: Sequence[PlannedOp], message: str, *, code: str | None = None) -> None:
        self.sink.done(0, [ItemResult(op, ok=False, code=code, message=message) for op in ops])

    def valid(self, ops: Iterable[PlannedOp], validate: Callable[[PlannedOp], str | None],
              code: str = INVALID_PAYLOAD) -> list[PlannedOp]:
        """The ops ``validate`` accepts; the others fail here with ``code`` and the problem."""
        out = []
        for op in ops:
            problem = validate(op)
            if problem:
                self.fail([op], problem, code=code)
            else:
                out.append(op)
        return out

    def stop(self, ops: Sequence[PlannedOp], reason: str) -> None:
        """Nothing can go through in this run (decided by the adapter): defer ``ops``; ``finish`` raises."""
        self.stopped = self.stopped or reason
        self.defer(ops, reason)

    def finish(self) -> None:
        if self.stopped is not None:
            raise MarketplaceUnreachable(self.stopped)

    # -- sending ----------------------------------------------------------------------------------------------
    def send(self, action: str, ops: Sequence[PlannedOp], call: Sent, *, lane: str,
             idempotency_key: str | None = None) -> list[ItemResult] | None:
        """One journalled request for ``ops``; ``call`` returns their results, recorded and returned (an error
        answer that fails them gives their failed results).  None when the ops were deferred instead (their
        lane was halted, or the answer said so)."""
        reason = self.halt_reason(lane)
        if reason is not None:
            self.defer(ops, reason)
            return None
        journal_id = self.sink.sending(action, ops, idempotency_key)
        answered, value = self._attempt(ops, call, lane, journal_id)
        if not answered:
            return value
        results = [value] if isinstance(value, ItemResult) else list(value)
        self.sink.done(journal_id, results)
        return results

    def each(self, ops: Sequence[PlannedOp], send_one: Callable[[PlannedOp], ItemResult], *, lane: str,
             validate: Callable[[PlannedOp], str | None] | None = None,
             idempotency_key: Callable[[PlannedOp], str | None] | None = None) -> set[str]:
        """One request per op, in order; returns the keys the marketplace accepted."""
        accepted: set[str] = set()
        for op in ops:
            if self.halt_reason(lane) is None and validate is not None and not self.valid([op], validate):
                continue
            key = idempotency_key(op) if idempotency_key is not None else None
            results = self.send(op.action, [op], lambda op=op: send_one(op), lane=lane, idempotency_key=key)
            if results and results[0].ok:
                accepted.add(op.key)
        return accepted

    def read(self, ops: Sequence[PlannedOp], call: Callable[[], T], *, lane: str,
             what: str | None = None) -> tuple[bool, T | None]:
        """A call made on behalf of ``ops`` before sending them (e.g. a lookup), not journalled: (True, value),
        or (False, None) when the answer was classified and the ops' results recorded.  ``what`` names the read
        (``reading the product listing``): an op it fails is *blocked* (never sent) with a message naming it,
        not reported as its own action failing."""
        reason = self.halt_reason(lane)
        if reason is not None:
            self.defer(ops, reason)
            return False, None
        answered, value = self._attempt(ops, call, lane, 0, what)
        return (True, value) if answered else (False, None)

    def _attempt(self, ops: Sequence[PlannedOp], call: Callable[[], Any], lane: str,
                 journal_id: int, what: str | None = None) -> tuple[bool, Any]:
        """(True, what ``call`` returned), or (False, the ops' failed results | None when deferred)."""
        tries = 0
        while True:
            try:
                return True, call()
            except Exception as exc:
                rule = self.classifier.classify(exc)
                if rule is None:
                    raise
                verdict = rule.verdict
                if verdict is Verdict.RETRY and tries < self.classifier.max_retries:
                    tries += 1
                    continue
                if verdict in (Verdict.FAIL, Verdict.FORGET):
                    code, message = describe_error(exc)
                    if what is not None:  # the op was never sent: what failed is the read made for it
                        said = f"{what} failed: {message}"
                        results = [ItemResult(op, ok=False, code=code, blocked=True, message=said) for op in ops]
                    else:
                        forget = verdict is Verdict.FORGET
                        results = [ItemResult(op, ok=False, code=code, message=message, forget=forget)
                                   for op in ops]
                    self.sink.done(journal_id, results)
                    return False, results
                reason = rule.describe(exc) if what is None else f"{what}: {rule.describe(exc)}"
                # the request went out and may have been applied: its ops say so, the ops held back behind it
                # say which request they wait for (not "not sent: ... sent once")
                sent = what is None and rule in UNKNOWN_OUTCOME
                held = f"held back behind {_which(ops)}: {reason}" if sent else reason
                if verdict is Verdict.STOP:
                    self.stopped = self.stopped or held
                else:
                    self.halted.setdefault(lane, held)
                self.defer(ops, reason, journal_id, sent=sent)
                return False, None


def _which(ops: Sequence[PlannedOp]) -> str:
    """The request of ``ops`` in words: ``SOAP-01's create``, or ``a request of 12 operations``."""
    return f"{ops[0].key}'s {ops[0].action}" if len(ops) == 1 else f"a request of {len(ops)} operations"
