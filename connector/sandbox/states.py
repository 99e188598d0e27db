"""A small state machine for records with a status (orders, packages), as moto keeps one per resource.

``StatusMachine({"ready": ["shipped", "cancelled"], "shipped": ["delivered"]}, code="conflict")`` knows the
states, which moves are allowed and refuses the others with ``Rejected(code, message)`` — which each sandbox's
envelope turns into its own error shape.  Asking for the state a record is already in is allowed (a retried
request changes nothing) unless ``same_state_ok=False``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connector.sandbox.validation import Rejected

DEFAULT_MESSAGE = "{subject} is {current}: it cannot become {target}"


class StatusMachine:
    """States and allowed transitions; ``refusal`` words a refused move (``{subject}``, ``{current}``,
    ``{target}`` are filled in) under ``code``."""

    def __init__(self, transitions: Mapping[str, Iterable[str]], *, code: str | int = "conflict",
                 refusal: str = DEFAULT_MESSAGE, same_state_ok: bool = True) -> None:
        self.transitions = {state: frozenset(targets) for state, targets in transitions.items()}
        self.states = frozenset(self.transitions).union(*self.transitions.values())
        self.code = code
        self.refusal = refusal
        self.same_state_ok = same_state_ok

    def targets(self, current: str) -> frozenset[str]:
        """Where a record in ``current`` may go next (nothing from a final state)."""
        return self.transitions.get(current, frozenset())

    def is_final(self, state: str) -> bool:
        return state in self.states and not self.targets(state)

    def allows(self, current: str | None, target: str) -> bool:
        if target not in self.states or current is None:
            return False
        return (self.same_state_ok and current == target) or target in self.targets(current)

    def check(self, current: str | None, target: str, subject: str = "the record") -> None:
        """Nothing if the move is allowed, else ``Rejected`` with this machine's code and message."""
        if not self.allows(current, target):
            raise Rejected(self.code, self.refusal.format(subject=subject, current=current, target=target))

    def move(self, record: dict[str, Any], target: str, *, field: str = "status", subject: str = "the record"
             ) -> bool:
        """Set ``record[field]`` to ``target`` if allowed (else ``Rejected``); whether it changed."""
        current = record.get(field)
        self.check(current, target, subject)
        record[field] = target
        return current != target
