"""Why a connection failed, in the words of the operating system (``[Errno 111] Connection refused``, ``[Errno -2]
Name or service not known``), not in those of the HTTP libraries' wrappers (``HTTPConnectionPool(host=...,
port=...): Max retries exceeded with url: ... (Caused by NewConnectionError(...)``), which an admin reading a cron
log has to take apart to find the one part that says what to fix."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (requests is imported by the HTTP layer when a request is sent: a dry run needs none)
    import requests

_ERRNO = re.compile(r"\[Errno -?\d+\][^\"')\]]*")
_TIMEOUT = re.compile(r"(Read|Connect|Connection) timed out", re.IGNORECASE)
_UNSHOWN = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def transport_reason(exc: BaseException) -> str:
    """The innermost reason of a transport error: the wrapped exceptions (``reason``, an exception as the first
    argument, ``__cause__``) followed to the last, then its ``[Errno N] text`` when it has one, ``read timed
    out``-like words for a timeout, else its text."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = inner if inner is not None else current.__cause__
    texts = [str(e) for e in reversed(chain)]  # the innermost first
    for pattern in (_ERRNO, _TIMEOUT):
        for text in texts:
            found = pattern.search(text)
            if found:
                return found.group(0).strip().rstrip(",;:") if pattern is _ERRNO else found.group(0).lower()
    return texts[0] or type(chain[-1]).__name__


def not_json_reason(status: int, content_type: str | None, body: bytes) -> str:
    """What a success status answered when its body is not the JSON every marketplace API sends: an empty body,
    or an HTML page (a gateway's maintenance page, a captive portal), shown by its type and first words, so the
    report says the answer was odd instead of passing the page off as the marketplace's message (``create failed:
    OK``, ``create failed: <html>...``, ``error_code None without a message``)."""
    if not body.strip():
        return f"the answer is not JSON: HTTP {status} with an empty body"
    kind = (content_type or "no Content-Type").split(";")[0].strip()
    return f"the answer is not JSON: HTTP {status} {kind}: {_first_words(body)!r}"


def _first_words(body: bytes) -> str:
    """The first words a page says: without its markup (tags, scripts, styles, comments) when it is HTML, so a
    gateway's ``<html><head><title>502 Bad Gateway</title>...`` reads ``502 Bad Gateway ...``."""
    text = body[:4000].decode("utf-8", "replace")
    if "<" in text:
        text = _TAG.sub(" ", _UNSHOWN.sub(" ", text))
    return " ".join(text.split())[:80] or " ".join(body[:200].decode("utf-8", "replace").split())[:80]


def error_text(resp: requests.Response, parsed: Any) -> str:
    """What an error answer says when it is not in the marketplace's envelope: a page (a gateway's 502, a proxy's
    HTML) by its type and first words (``not_json_reason``), never its markup; JSON of another shape as it is;
    nothing at all: the status's reason phrase."""
    if parsed is None and resp.content.strip():
        return not_json_reason(resp.status_code, resp.headers.get("Content-Type"), resp.content)
    return (resp.text or "")[:300] or resp.reason or "no message"


SENT_ONCE = "connector_sent_once"
"""Attribute the HTTP layer sets on the response it returns: True when the request was not safe to repeat (a POST
without idempotency key), so an answer that failed or could not be read came from the one attempt made."""


def answer_facts(resp: requests.Response, parsed: Any) -> tuple[bool, bool]:
    """(unread, sent_once) of an answer a marketplace client turns into its error: ``unread`` when a success status
    came with a body that is not JSON (a gateway's page, an empty or cut body: the request may have been done,
    like a 502's), ``sent_once`` when the request was not repeated because it was not safe to (see ``SENT_ONCE``).
    The shared answer rules (``connector.sync.answers``) defer both instead of failing the row."""
    unread = resp.ok and parsed is None and resp.status_code not in (204, 205)
    return unread, bool(getattr(resp, SENT_ONCE, False))
