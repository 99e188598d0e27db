"""The small RPC interface the reader needs, so JSON-RPC (odoorpc) and JSON-2 (Odoo 19+) are interchangeable.

Backends implement ``connect()`` and ``call()``; the model helpers below are written once on top of ``call``
with keyword arguments only (the shape JSON-2 requires, and one that JSON-RPC's ``execute_kw`` accepts).
Every backend counts its HTTP round trips in ``calls`` so tests and the bench can assert O(pages) reading.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from connector.errors import EXIT_UNREACHABLE, SourceError
from connector.http.client import backoff_seconds
from connector.sources.odoo.settings import OdooSettings

log = logging.getLogger(__name__)

# Methods that only read: one whose answer is lost or cut short is sent again (``OdooBackend.call``).  Anything
# else (create, write, action_confirm...) is sent once: its answer lost, the server may have done it.
READ_METHODS = frozenset({
    "search_read", "read", "search", "search_count", "fields_get", "read_group", "formatted_read_group",
    "context_get", "name_search", "check_access_rights", "default_get", "get_views", "web_search_read", "web_read"})
TRANSIENT_HTTP = frozenset({429, 502, 503, 504})  # a gateway's, or a server restarting: a read is sent again


class OdooRPCError(SourceError):
    """Odoo answered with an error (access rights, unknown field, server exception...)."""

    def __init__(self, message: str, *, name: str | None = None) -> None:
        self.name = name  # Odoo's exception class, e.g. "odoo.exceptions.AccessError"
        super().__init__(message)


class OdooUnreachable(SourceError):
    """The server could not be reached, or its answer was lost or cut short (a dropped connection, a truncated
    body, a gateway's 502/503/504): exit 4, as for a marketplace that cannot be reached.  Reads are sent again
    first (``OdooBackend.call``)."""

    exit_code = EXIT_UNREACHABLE


class OdooBackend(ABC):
    """One logged-in connection to one Odoo database."""

    def __init__(self) -> None:
        self.calls = 0  # HTTP round trips, login and version included
        self._calls_lock = threading.Lock()  # a page's calls may be sent from several threads (parallel_calls)
        self.server_version = ""  # as reported, e.g. "18.0+e-20241005"
        self.version_info: tuple[int, int] = (0, 0)
        self.user_context: dict[str, Any] = {}
        self.uid: int | None = None
        self.first_response_date: datetime | None = None  # server clock (HTTP Date) at the first response
        # context keys sent with every call (a call's own keys win), e.g. the orders destination's
        # ``allowed_company_ids`` when the connection names its ``company``
        self.default_context: dict[str, Any] = {}

    @abstractmethod
    def connect(self) -> None:
        """Fetch the version, log in and load the user context.  Raises ``SourceError`` naming the setting."""

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        """Call ``model.method(*args, **kwargs)`` on the server (one HTTP round trip, ``send``).  A read
        (``READ_METHODS``) whose answer is lost or cut short (``OdooUnreachable``) is sent again, up to the
        setting ``retries`` times; anything else is sent once.  ``default_context`` goes into its context."""
        retries = getattr(getattr(self, "settings", None), "retries", 0) if method in READ_METHODS else 0
        defaults = getattr(self, "default_context", None)
        if defaults:
            kwargs = dict(kwargs or {})
            kwargs["context"] = {**defaults, **(kwargs.get("context") or {})}
        return with_retries(lambda: self.send(model, method, args, kwargs), retries, f"Odoo {model}.{method}")

    def open(self) -> None:
        """``connect()``, done again while the server's answers are lost (its calls only read)."""
        settings = getattr(self, "settings", None)
        with_retries(self.connect, getattr(settings, "retries", 0), f"Odoo at {getattr(settings, 'url', '?')}")

    def send(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        """One HTTP round trip of ``call``; a backend raises ``OdooUnreachable`` when the answer is lost."""
        raise NotImplementedError

    def count_call(self) -> None:
        with self._calls_lock:
            self.calls += 1

    # -- helpers built on call() ----------------------------------------------------------------------------
    def version(self) -> tuple[int, int]:
        return self.version_info

    def search_read(self, model: str, domain: list[Any], fields: list[str], offset: int = 0,
                    limit: int | None = None, order: str | None = None,
                    context: dict[str, Any] | None = None, ids_only: bool = False) -> list[dict[str, Any]]:
        """``ids_only``: many2one values come back as bare ids (``load=''``), so the server never computes the
        related records' display names (a product's costs a read of its attribute values)."""
        kwargs: dict[str, Any] = {"domain": domain, "fields": fields}
        if ids_only:
            kwargs["load"] = ""
        if offset:
            kwargs["offset"] = offset
        if limit:
            kwargs["limit"] = limit
        if order:
            kwargs["order"] = order
        if context is not None:
            kwargs["context"] = context
        return self.call(model, "search_read", [], kwargs) or []

    def search_count(self, model: str, domain: list[Any], context: dict[str, Any] | None = None) -> int:
        kwargs: dict[str, Any] = {"domain": domain}
        if context is not None:
            kwargs["context"] = context
        return int(self.call(model, "search_count", [], kwargs))

    def fields_get(self, model: str, attributes: list[str] | None = None,
                   context: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        kwargs: dict[str, Any] = {"attributes": attributes or ["type", "string", "relation"]}
        if context is not None:
            kwargs["context"] = context
        return self.call(model, "fields_get", [], kwargs) or {}

    def read_group(self, model: str, domain: list[Any], fields: list[str], groupby: list[str],
                   context: dict[str, Any] | None = None, lazy: bool = False) -> list[dict[str, Any]]:
        """``read_group`` as in 16-18 (19 keeps it, deprecated in favour of ``formatted_read_group``)."""
        kwargs: dict[str, Any] = {"domain": domain, "fields": fields, "groupby": groupby, "lazy": lazy}
        if context is not None:
            kwargs["context"] = context
        return self.call(model, "read_group", [], kwargs) or []

    def create(self, model: str, vals_list: list[dict[str, Any]],
               context: dict[str, Any] | None = None) -> list[int]:
        """Create many records in one call (``create`` takes a list of values since 12); their ids, in order.
        JSON-RPC passes the list positionally: Odoo's ``call_kw`` looks at ``args[0]`` to shape the answer."""
        return created_ids(self.call(model, "create", [vals_list], {} if context is None else {"context": context}))

    def write(self, model: str, ids: list[int], vals: dict[str, Any]) -> Any:
        """``model.write(vals)`` on ``ids`` in one call (JSON-RPC passes ``[ids, vals]`` positionally)."""
        return self.call(model, "write", [ids, vals])

    def call_on(self, model: str, method: str, ids: list[int], context: dict[str, Any] | None = None) -> Any:
        """A record method on ``ids`` in one call, e.g. ``sale.order.action_confirm``."""
        return self.call(model, method, [ids], {} if context is None else {"context": context})

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release the connection (nothing to do for stateless HTTP backends)."""


def no_whole_answer(settings: OdooSettings, what: str) -> str:
    """Why a call ended at its ``answer_deadline``: its answer (or a proxy's) still coming, a byte at a time or not
    at all, each wait inside ``timeout``.  Raised as ``OdooUnreachable``: a lost answer, a write maybe done."""
    return (f"Odoo at {settings.url} gave no whole answer to {what} within {settings.answer_seconds:g} s (setting "
            f"'answer_deadline'; a proxy or the network dripping it, or a server stuck in the middle of it)")


def created_ids(value: Any) -> list[int]:
    """What ``create`` answered (an id, or a list of ids) as a list of ids."""
    return [int(i) for i in (value if isinstance(value, list) else [value])]


def open_backend(settings: OdooSettings) -> OdooBackend:
    """A connected backend for ``settings`` (an ``OdooSettings``): odoorpc, or JSON-2 with ``backend: json2``."""
    password = settings.password()
    backend: OdooBackend
    if settings.backend == "json2":
        from connector.sources.odoo.json2_backend import Json2Backend

        backend = Json2Backend(settings, password)
    else:
        from connector.sources.odoo.odoorpc_backend import OdooRPCBackend

        backend = OdooRPCBackend(settings, password)
    backend.open()
    return backend


def with_retries(send: Callable[[], Any], retries: int, what: str) -> Any:
    """``send()``, done again up to ``retries`` times while it raises ``OdooUnreachable``."""
    for attempt in range(retries):
        try:
            return send()
        except OdooUnreachable as exc:
            wait = backoff_seconds(attempt)  # as the marketplaces' clients wait
            log.warning("%s: %s; sent again in %.1f s (%d of %d)", what, exc, wait, attempt + 1, retries)
            time.sleep(wait)
    return send()


def run_reads(tasks: dict[str, Callable[[], Any]], workers: int) -> dict[str, Any]:
    """Run independent reads, up to ``workers`` at a time: a page's calls then cost about the slowest of them
    instead of their sum (each round trip also pays Odoo's per-request overhead).  With one worker, or a single
    task, they are sent one after the other, in the order given."""
    workers = min(workers, len(tasks))
    if workers <= 1:
        return {key: task() for key, task in tasks.items()}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="odoo-read") as pool:
        futures = {key: pool.submit(task) for key, task in tasks.items()}
        return {key: future.result() for key, future in futures.items()}


def cut_json(text: str) -> bool:
    """Whether an answer that does not parse as JSON was cut short (empty, or JSON that stops) rather than a page
    that is not JSON at all (an HTML page: not an Odoo server)."""
    text = text.lstrip()
    return not text or text[:1] in ("{", "[", '"')
