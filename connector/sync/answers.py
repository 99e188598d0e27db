"""What an answer means: one declarative classification of errors, shared by every marketplace.

A plugin declares ``Rule``s (exception types, HTTP statuses, the marketplace's error codes -> a ``Verdict``);
the rules every marketplace shares (``SHARED_RULES``) follow them, and any other error of the plugin's own
answer types fails the item.  The executor (``connector.sync.executor``) applies the verdict, so stop /
defer / fail rules are written once, not once per adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from connector.errors import BudgetExhausted
from connector.http import RateLimitedTooLong, TransportError
from connector.http.client import RETRY_STATUSES


class Verdict(Enum):
    RETRY = "retry"  # send the same request again (up to ``Classifier.max_retries``), then defer
    DEFER = "defer"  # not sent now: this op and the rest of its lane wait for the next run (exit 3)
    STOP = "stop"  # nothing more can go through in this run: everything left is deferred (exit 4)
    FAIL = "fail"  # the marketplace refused this item: reported with its own message
    FORGET = "forget"  # refused because the remote record is gone: fail and drop the binding (re-created later)


@dataclass(frozen=True, slots=True)
class Rule:
    """``verdict`` for an error that is one of ``errors`` and matches every condition given."""

    verdict: Verdict
    errors: tuple[type[BaseException], ...] = (Exception,)
    statuses: frozenset[int] | None = None  # the error's ``status`` (HTTP) is one of these
    codes: frozenset[str] | None = None  # the error's ``code`` (the marketplace's error code) is one of these
    when: Callable[[BaseException], bool] | None = None  # anything a status or a code cannot say
    reason: str | None = None  # message for what is not sent, ``{exc}`` being the error; default: the error

    def matches(self, exc: BaseException) -> bool:
        if not isinstance(exc, self.errors):
            return False
        if self.statuses is not None and getattr(exc, "status", None) not in self.statuses:
            return False
        if self.codes is not None and getattr(exc, "code", None) not in self.codes:
            return False
        return self.when is None or self.when(exc)

    def describe(self, exc: BaseException) -> str:
        return self.reason.format(exc=exc) if self.reason else str(exc)


# Every marketplace: a spent daily budget, a "come back in hours", or a call still rate-limited or failing
# (429, 5xx) after the HTTP layer's retries waits for the next run (the lane, i.e. the budget class, is
# deferred: exit 3); no answer at all after the retries ends the run as unreachable; a refused key (HTTP
# 401/403) stops the run at the first refusal, before it spends the day's budget on refusals.
#
# A success status whose body is not JSON (``unread``: a gateway's page, an empty or cut body) says no more than a
# 502 page does: the request may or may not have been done.  It is deferred like the 502, never failed (a failed
# row reads as the marketplace refusing it).  An answer to a request that was not safe to repeat (``sent_once``: a
# POST without idempotency key) came from its one attempt: a 500/502/504 or an unreadable answer may follow a
# request that was applied, so it is deferred saying so, and nothing sends it again in this run.
MAY_HAVE_APPLIED = frozenset({500, 502, 504})


def _unread(exc: BaseException) -> bool:
    return bool(getattr(exc, "unread", False))


def _sent_once_unknown(exc: BaseException) -> bool:
    return bool(getattr(exc, "sent_once", False)) and (_unread(exc) or getattr(exc, "status", None)
                                                         in MAY_HAVE_APPLIED)


UNKNOWN_OUTCOME: tuple[Rule, ...] = (
    Rule(Verdict.DEFER, when=_sent_once_unknown,
         reason="outcome unknown: sent once, it may have been applied ({exc}); not sent again in this run, the "
                "next run finds out"),
    Rule(Verdict.DEFER, when=_unread, reason="no readable answer after retries ({exc})"),
)
"""The answers that say neither done nor refused (see above): deferred, never failed."""


def contradicted(exc: BaseException) -> bool:
    """A listing whose pages contradicted each other (``connector.http.paging``, a ``checked`` listing): it may
    have changed while it was read, so what needed it is deferred and the next run reads it again."""
    return bool(getattr(exc, "contradicted", False))


SHARED_RULES: tuple[Rule, ...] = (
    Rule(Verdict.DEFER, (BudgetExhausted, RateLimitedTooLong)),
    *UNKNOWN_OUTCOME,
    Rule(Verdict.DEFER, when=contradicted),
    Rule(Verdict.DEFER, statuses=RETRY_STATUSES, reason="still refused after retries ({exc})"),
    Rule(Verdict.STOP, (TransportError,), reason="marketplace unreachable ({exc})"),
    Rule(Verdict.STOP, statuses=frozenset({401, 403}), reason="the marketplace refused the credentials: {exc}"),
)


@dataclass(frozen=True)
class Classifier:
    """A plugin's declaration: its own rules first, then ``SHARED_RULES``; any other error of one of ``errors``
    (the plugin's answer types) fails the item; anything else is a bug and propagates."""

    rules: tuple[Rule, ...] = ()
    errors: tuple[type[BaseException], ...] = ()
    max_retries: int = 1

    def classify(self, exc: BaseException) -> Rule | None:
        for rule in (*self.rules, *SHARED_RULES):
            if rule.matches(exc):
                return rule
        if isinstance(exc, self.errors):
            return _FAIL
        return None


_FAIL = Rule(Verdict.FAIL)


def unknown_outcome(exc: BaseException) -> str | None:
    """Why ``exc`` is deferred when its answer says neither done nor refused (``UNKNOWN_OUTCOME``); None for any
    other error.  For flows that classify errors without a ``Classifier`` (orders, fulfilment)."""
    rule = next((r for r in UNKNOWN_OUTCOME if r.matches(exc)), None)
    return None if rule is None else rule.describe(exc)


def describe_error(exc: BaseException) -> tuple[str | None, str]:
    """(code, message) of an error answer for the report: the marketplace's own code and message."""
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None)
    return (str(code) if code is not None else None), str(message or exc)
