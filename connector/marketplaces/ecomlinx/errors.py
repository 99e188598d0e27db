"""EcomLinx's error envelope as typed exceptions.

Every error answer carries ``{"error": {"code", "message", "status"}}`` (docs/ecomlinx.md).  The code picks
the exception class, so callers catch what they can act on (``NotFound`` -> refresh the SKU map,
``RateLimited`` -> defer, ``Unauthorized``/``Forbidden`` -> stop the run) instead of parsing messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connector.http.reasons import answer_facts, error_text, not_json_reason

if TYPE_CHECKING:  # (requests is imported by the HTTP layer when a request is sent: a dry run needs none)
    import requests


class EcomLinxError(Exception):
    """An error answer from EcomLinx: HTTP status, the documented code and EcomLinx's own message."""

    unread = False  # a success status whose body is not JSON (``reasons.answer_facts``)
    sent_once = False  # the request was not safe to repeat: the answer is that of its one attempt

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"{code} ({status}): {message}")

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


class BadRequest(EcomLinxError):
    """400 ``bad_request``: missing or invalid parameters."""


class Unauthorized(EcomLinxError):
    """401 ``unauthorized``: invalid or missing API key."""


class Forbidden(EcomLinxError):
    """403 ``forbidden``: API keys are a Scale plan feature (Pro keys are read-only)."""


class NotFound(EcomLinxError):
    """404 ``not_found``: the product, SKU, order, channel or webhook does not exist."""


class Conflict(EcomLinxError):
    """409 ``conflict``: duplicate resource or conflicting state."""


class RateLimited(EcomLinxError):
    """429 ``rate_limited`` still answered after the HTTP layer's retries (each honouring Retry-After)."""


class ServerError(EcomLinxError):
    """500 ``internal_error`` (or any 5xx) still answered after retries."""


BY_CODE: dict[str, type[EcomLinxError]] = {
    "bad_request": BadRequest,
    "unauthorized": Unauthorized,
    "forbidden": Forbidden,
    "not_found": NotFound,
    "conflict": Conflict,
    "rate_limited": RateLimited,
    "internal_error": ServerError,
}
BY_STATUS: dict[int, type[EcomLinxError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 429: RateLimited,
}


def error_class(status: int, code: str | None) -> type[EcomLinxError]:
    """The documented code wins; an unknown code falls back on the HTTP status."""
    if code and code in BY_CODE:
        return BY_CODE[code]
    if status >= 500:
        return ServerError
    return BY_STATUS.get(status, EcomLinxError)


def raise_for_error(resp: requests.Response) -> Any:
    """The parsed JSON of a 2xx answer, or the typed error of any other."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.ok and (body is not None or resp.status_code == 204):
        return body
    exc = _error(resp, body)
    exc.unread, exc.sent_once = answer_facts(resp, body)
    raise exc


def _error(resp: requests.Response, body: Any) -> EcomLinxError:
    if resp.ok:  # an empty 200 is no answer either: the call may not be done
        return EcomLinxError(resp.status_code, "invalid_response",
                             not_json_reason(resp.status_code, resp.headers.get("Content-Type"), resp.content))
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code = str(err.get("code") or f"http_{resp.status_code}")
        message = str(err.get("message") or resp.reason or "no message")
    else:
        code, message = f"http_{resp.status_code}", error_text(resp, body)
    return error_class(resp.status_code, code)(resp.status_code, code, message)
