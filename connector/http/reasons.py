"""Why a connection failed, in the words of the operating system (``[Errno 111] Connection refused``, ``[Errno -2]
Name or service not known``), not in those of the HTTP libraries' wrappers (``HTTPConnectionPool(host=...,
port=...): Max retries exceeded with url: ... (Caused by NewConnectionError(...)``), which an admin reading a cron
log has to take apart to find the one part that says what to fix."""

from __future__ import annotations

import re

_ERRNO = re.compile(r"\[Errno -?\d+\][^\"')\]]*")
_TIMEOUT = re.compile(r"(Read|Connect|Connection) timed out", re.IGNORECASE)


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
