"""JSON-2 backend for Odoo 19+ (``POST /json/2/<model>/<method>``, ``Authorization: bearer <API key>``).

Odoo 19 deprecates ``/jsonrpc`` and ``/xmlrpc`` (removal announced for Odoo 22).  JSON-2 takes named
arguments only: ``ids`` for record methods, ``context``, and the method's keyword arguments; the body of a
successful response is the method's return value, an error is an HTTP 4xx/5xx whose JSON body carries
``name`` (the exception class) and ``message``.  The version comes from ``GET /web/version``.

Built to the documented shape, then checked against a real Odoo 19.0 community server: the catalogue and stock
tests replay its recordings over JSON-2 (``cassettes/odoo19/*_json2.yaml``, the same reading as over JSON-RPC),
and so do its errors (a bad key, an unknown database, an inactive language); what a real server cannot be made
to answer on demand (gateways, cut answers, redirects) is played by a local fake server.
"""

from __future__ import annotations

import contextlib
import time
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from connector.errors import SourceError
from connector.http.deadline import answer_within, missed_deadline, watch_session
from connector.http.reasons import transport_reason
from connector.sources.odoo.backend import (
    TRANSIENT_HTTP,
    OdooBackend,
    OdooRPCError,
    OdooUnreachable,
    created_ids,
    cut_json,
    no_whole_answer,
)
from connector.sources.odoo.settings import OdooSettings
from connector.sources.odoo.version import parse_version

USER_AGENT = "connector-odoo-source/0.1"
_CUT = requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError  # an answer cut short


def _cut_short(exc: BaseException) -> str | None:
    """``N bytes of M`` when a transport error is an answer that stopped before its announced length (urllib3's or
    http.client's ``IncompleteRead`` somewhere in its chain: ``partial`` read, ``expected`` still to come), else
    None."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        if type(current).__name__ == "IncompleteRead":
            partial = getattr(current, "partial", 0)
            got = len(partial) if isinstance(partial, bytes | bytearray) else int(partial or 0)
            return f"{got} bytes of {got + int(getattr(current, 'expected', 0) or 0)}"
        inner = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = inner or current.__cause__ or current.__context__
    return None


class _NoRoute(SourceError):
    """HTTP 404 without Odoo's JSON error body: no such route (outside a database, no JSON-2 route exists)."""


class Json2Backend(OdooBackend):
    """``OdooBackend`` over Odoo 19's JSON-2 API with an API key."""

    def __init__(self, settings: OdooSettings, api_key: str, session: requests.Session | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._session = session or requests.Session()
        watch_session(self._session)  # its connections can be shut at an answer's deadline (``answer_within``)
        self._session.headers.update({
            "Authorization": f"bearer {api_key}",
            "X-Odoo-Database": settings.db,
            "User-Agent": USER_AGENT,
        })
        self._base = settings.url.rstrip("/")

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 what: str = "") -> requests.Response:
        """One round trip; ``what`` (``model.method``) names the call in the error of an answer lost on the way,
        as the JSON-RPC backend names it."""
        s = self.settings
        url = s.url
        deadline = time.monotonic() + s.answer_seconds  # the whole answer's (a dripped one is cut there)
        try:
            if method == "GET":
                resp = answer_within(deadline, lambda: self._session.get(self._base + path, timeout=s.timeout))
            else:
                resp = answer_within(deadline, lambda: self._session.post(
                    self._base + path, json=body or {}, timeout=s.timeout,
                    allow_redirects=False))  # a redirect (to a login page) is no answer
        except requests.RequestException as exc:  # refused, reset, timed out, an answer cut short...
            if missed_deadline(exc):  # lost like any answer: a read is sent again, a write never
                raise OdooUnreachable(no_whole_answer(s, what or path)) from exc
            cut = _cut_short(exc)
            if cut is not None:
                raise OdooUnreachable(f"the answer of Odoo at {url} to {what or path} was cut short ({cut})") from exc
            lost = isinstance(exc, requests.ConnectionError | requests.Timeout | _CUT)
            call = f" for {what}" if what else ""
            raise (OdooUnreachable if lost else SourceError)(
                f"cannot reach Odoo at {url}{call} (setting 'url'): {transport_reason(exc)}") from exc
        self.count_call()
        if self.first_response_date is None and resp.headers.get("Date"):
            with contextlib.suppress(TypeError, ValueError):
                self.first_response_date = parsedate_to_datetime(resp.headers["Date"])
        return resp

    def connect(self) -> None:
        s = self.settings
        resp = self._request("GET", "/web/version")
        self._check_lost(resp, "/web/version")
        if resp.status_code != 200:
            raise SourceError(f"{s.url} answered HTTP {resp.status_code} to /web/version: is it an Odoo 19+ "
                              f"server? (settings 'url', 'backend')")
        info = self._json(resp, "/web/version", f"{s.url} did not answer like an Odoo server (setting 'url')")
        if not isinstance(info, dict):
            raise SourceError(f"{s.url} did not answer like an Odoo server (setting 'url')")
        self.server_version = str(info.get("version") or info.get("server_version") or "")
        try:
            self.version_info = parse_version(self.server_version, info.get("version_info"))
        except ValueError as exc:
            raise SourceError(f"{s.url}: unrecognised Odoo version {self.server_version!r}") from exc
        if self.version_info[0] < 19:
            raise SourceError(f"Odoo {self.server_version} at {s.url} has no JSON-2 API (19.0+); set "
                              f"'backend: jsonrpc' in the odoo settings")
        # context_get doubles as the credentials check: a bad key answers 401 here, and an unknown database
        # (X-Odoo-Database) a plain 404: the JSON-2 routes exist only inside a database
        try:
            self.user_context = dict(self.send("res.users", "context_get", [], {}) or {})  # (``open`` retries)
        except _NoRoute:
            raise SourceError(self._unknown_database()) from None
        self.uid = self.user_context.get("uid")

    def _unknown_database(self) -> str:
        """Why a 19+ server has no JSON-2 route for us: the database is unknown (or hidden by its dbfilter)."""
        s = self.settings
        names: list[str] | None = None
        with contextlib.suppress(SourceError, ValueError):  # list_db may be disabled: then it cannot be listed
            resp = self._request("POST", "/web/database/list", {"jsonrpc": "2.0", "method": "call", "params": {}})
            listed = resp.json().get("result") if resp.status_code == 200 else None
            names = [str(n) for n in listed] if isinstance(listed, list) else None
        if names is not None:
            known = ", ".join(names) or "none"
            return f"database {s.db!r} does not exist on {s.url} (setting 'db'; databases there: {known})"
        return (f"database {s.db!r} does not exist on {s.url}, or the server's dbfilter hides it (setting 'db'; "
                f"the server does not list its databases)")

    def send(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        """JSON-2 has no positional arguments: ``args`` may only hold the record ids (``[ids]``)."""
        body: dict[str, Any] = dict(kwargs or {})
        if args:
            if len(args) != 1 or not isinstance(args[0], list):
                raise ValueError(f"JSON-2 {model}.{method}: positional arguments other than ids are not supported")
            body["ids"] = args[0]
        path = f"/json/2/{model}/{method}"
        resp = self._request("POST", path, body, what=f"{model}.{method}")
        s = self.settings
        if resp.status_code == 200:
            return self._json(resp, f"{model}.{method}", f"Odoo at {s.url} answered {path} with something that is "
                                                         f"not JSON (settings 'url', 'backend')")
        self._check_lost(resp, path)
        if 300 <= resp.status_code < 400:  # outside a database Odoo redirects unknown routes (to a login page)
            raise _NoRoute(f"Odoo at {s.url} redirected /json/2/{model}/{method} (HTTP {resp.status_code}; "
                           f"settings 'url', 'db', 'backend')")
        try:
            err = resp.json()
        except ValueError:
            err = {}
        name = err.get("name") if isinstance(err, dict) else None
        message = (err.get("message") if isinstance(err, dict) else None) or resp.reason or "error"
        if resp.status_code == 401 or (name or "").endswith("AccessDenied"):
            raise SourceError(f"Odoo refused the API key for database {s.db!r} (setting 'password_env': check "
                              f"${s.password_env}): {message}")
        if name is None and resp.status_code >= 500:  # Odoo's errors carry their exception's name: a gateway's
            # (its JSON or its page): the call may have been done behind it, so never a refusal (``OdooRPCError``,
            # which the orders' batches answer by sending the records again one by one)
            raise (OdooUnreachable if resp.status_code in TRANSIENT_HTTP else SourceError)(
                f"Odoo at {s.url} answered HTTP {resp.status_code} to {path} without an Odoo error: {message} "
                f"(a proxy in front of it?)")
        if resp.status_code == 404 and name is None:
            raise _NoRoute(f"Odoo at {s.url} has no JSON-2 endpoint /json/2/{model}/{method} (HTTP 404; "
                           f"settings 'url', 'db', 'backend')")
        raise OdooRPCError(f"Odoo {model}.{method}: {message}", name=name)

    def _json(self, resp: requests.Response, what: str, not_json: str) -> Any:
        """The JSON of an answer (to ``what``: a path or ``model.method``); one cut short is ``OdooUnreachable`` (a
        read is sent again), another body that is not JSON the ``SourceError`` ``not_json``."""
        try:
            return resp.json()
        except ValueError:
            if cut_json(resp.text):
                raise OdooUnreachable(f"the answer of Odoo at {self.settings.url} to {what} was cut short (not "
                                      f"whole JSON)") from None
            raise SourceError(not_json) from None

    def _check_lost(self, resp: requests.Response, path: str) -> None:
        """A gateway's 429/502/503/504 (or a server restarting), not an answer of Odoo's: ``OdooUnreachable``."""
        if resp.status_code in TRANSIENT_HTTP and not resp.headers.get("Content-Type", "").startswith(
                "application/json"):
            raise OdooUnreachable(f"Odoo at {self.settings.url} answered HTTP {resp.status_code} to {path}")

    def create(self, model: str, vals_list: list[dict[str, Any]],
               context: dict[str, Any] | None = None) -> list[int]:
        """JSON-2 takes named arguments only: ``vals_list``."""
        kwargs: dict[str, Any] = {"vals_list": vals_list}
        if context is not None:
            kwargs["context"] = context
        return created_ids(self.call(model, "create", [], kwargs))

    def write(self, model: str, ids: list[int], vals: dict[str, Any]) -> Any:
        """JSON-2 takes named arguments only: ``vals`` (``ids`` beside it)."""
        return self.call(model, "write", [ids], {"vals": vals})

    def close(self) -> None:
        self._session.close()
