"""Elryan's answer envelope: ``{"data": ..., "error_code": 0}``; anything else is a failure.

Almost every Elryan response carries ``error_code``.  A success is an HTTP 2xx whose ``error_code`` is 0 (or
absent, for the few documented bodies without one).  **A 200 with a non-zero ``error_code`` is a failure**,
never a success: ``unwrap`` raises ``ElryanError`` with the HTTP status, the code and Elryan's own message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connector.http.reasons import answer_facts, error_text, not_json_reason

if TYPE_CHECKING:  # (requests is imported by the HTTP layer when a request is sent: a dry run needs none)
    import requests

# error_code values the sandbox uses for a refused login / token (inferred, see docs/elryan.md); an HTTP 401
# or 403 means the same whatever the code.
AUTH_CODES = frozenset({401, 403, 1401, 1403})
INVALID_TOKEN = 1401
BAD_CREDENTIALS = 1403
VALIDATION = 1001
UNKNOWN_REFERENCE = 1002
NOT_FOUND = 1004
INSUFFICIENT_STOCK = 1005  # the sandbox's order control call: more units ordered than the variant has


class ElryanError(Exception):
    """An error answer from Elryan (HTTP error, or a 200 whose ``error_code`` is not 0)."""

    unread = False  # a success status whose body is not JSON (``reasons.answer_facts``)
    sent_once = False  # the request was not safe to repeat: the answer is that of its one attempt

    def __init__(self, status: int, error_code: int | str | None, message: str, data: Any = None) -> None:
        self.status, self.error_code, self.message, self.data = status, error_code, message, data
        shown = f"error_code {error_code}" if error_code is not None else f"HTTP {status}"
        super().__init__(f"{shown} (HTTP {status}): {message}")

    @property
    def code(self) -> str:
        """A text code for reports: ``"1002"`` or ``"HTTP_502"``."""
        return str(self.error_code) if self.error_code not in (None, 0) else f"HTTP_{self.status}"

    @property
    def auth_rejected(self) -> bool:
        """The token (or the login) was refused: renew the token once, then give up."""
        return self.status in (401, 403) or _as_int(self.error_code) in AUTH_CODES

    @property
    def not_found(self) -> bool:
        return self.status == 404 or _as_int(self.error_code) == NOT_FOUND

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def error_code_of(body: Any) -> int | str | None:
    """The envelope's ``error_code`` (``"0"`` counts as 0); ``None`` when the body has none."""
    if not isinstance(body, dict) or "error_code" not in body:
        return None
    raw = body["error_code"]
    as_int = _as_int(raw)
    return as_int if as_int is not None else raw


def message_of(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    for candidate in (body.get("message"), body.get("error"),
                      body.get("data", {}).get("message") if isinstance(body.get("data"), dict) else None):
        if isinstance(candidate, str) and candidate:
            return candidate
        if isinstance(candidate, dict) and candidate.get("message"):
            return str(candidate["message"])
    return ""


def unwrap(resp: requests.Response) -> Any:
    """The ``data`` of a successful answer, else ``ElryanError``."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    code = error_code_of(body)
    if resp.ok and isinstance(body, dict) and code in (None, 0):
        return body.get("data")
    message = message_of(body)
    if resp.ok and body is None:  # not JSON: a gateway's page, an empty answer (the request may have been done)
        message = not_json_reason(resp.status_code, resp.headers.get("Content-Type"), resp.content)
    if not message:
        message = f"error_code {code} without a message" if resp.ok else error_text(resp, body)
    exc = ElryanError(resp.status_code, code, message, body.get("data") if isinstance(body, dict) else None)
    exc.unread, exc.sent_once = answer_facts(resp, body)
    return _raise(exc)


def _raise(exc: ElryanError) -> Any:
    raise exc
