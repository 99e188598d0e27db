"""JSON-RPC backend through ``odoorpc`` (Odoo 8 to 19; 19 logs JSON-RPC as deprecated).

odoorpc speaks JSON-RPC over ``urllib``: we hand it our own opener so that every HTTP round trip is counted
and the server's ``Date`` header (its clock, used for incremental cursors) is captured, and so that each call's
whole answer has a deadline (``answer_deadline``): its handlers note the connection in use
(``connector.http.urllib_deadline``), whose socket the shared deadline thread shuts when the answer, dripped inside
the per-read ``timeout``, is still not whole; the call's answer is then lost (``OdooUnreachable``).  We call
``execute_kw`` directly, never odoorpc's record proxies, which would issue one request per attribute access.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar
from typing import Any

from connector.errors import SourceError
from connector.http.deadline import Attempt, within
from connector.http.urllib_deadline import watched_handlers
from connector.sources.odoo.backend import (
    TRANSIENT_HTTP,
    OdooBackend,
    OdooRPCError,
    OdooUnreachable,
    cut_json,
    no_whole_answer,
)
from connector.sources.odoo.settings import OdooSettings
from connector.sources.odoo.version import parse_version


class _Observer(urllib.request.BaseHandler):
    """Counts responses and remembers the first ``Date`` header."""

    handler_order = 100  # before HTTPErrorProcessor, so error responses are counted too

    def __init__(self, backend: OdooBackend) -> None:
        self.backend = backend

    def http_response(self, request: urllib.request.Request, response: Any) -> Any:
        self.backend.count_call()
        if self.backend.first_response_date is None:
            date = response.headers.get("Date") if getattr(response, "headers", None) is not None else None
            if date:
                with contextlib.suppress(TypeError, ValueError):
                    self.backend.first_response_date = parsedate_to_datetime(date)
        return response

    https_response = http_response


def _rpc_message(exc: Exception) -> tuple[str, str | None]:
    info = getattr(exc, "info", None)
    if isinstance(info, dict):
        data = info.get("data") or {}
        return str(data.get("message") or info.get("message") or exc), data.get("name")
    return str(exc), None


class OdooRPCBackend(OdooBackend):
    """``OdooBackend`` over JSON-RPC with odoorpc."""

    def __init__(self, settings: OdooSettings, password: str) -> None:
        super().__init__()
        self.settings = settings
        self._password = password
        self._odoo: Any = None

    def _unreachable(self, exc: BaseException, what: str = "") -> SourceError:
        reason = getattr(exc, "reason", None) or exc
        call = f" for {what}" if what else ""
        return OdooUnreachable(f"cannot reach Odoo at {self.settings.url}{call} (setting 'url'): {reason}")

    def _round_trip(self) -> contextlib.AbstractContextManager[Attempt]:
        """One call's round trips (odoorpc's, through the opener's watched handlers), ended at its
        ``answer_deadline`` by shutting the socket of the connection in use; the attempt says so (``shut``) once
        the block is left."""
        return within(time.monotonic() + self.settings.answer_seconds)

    def _lost(self, exc: BaseException, what: str, cut: bool = False) -> SourceError | None:
        """The error of an answer lost on the way (``OdooUnreachable``: reads are sent again; one its deadline
        ``cut`` too), a gateway's HTTP error (``SourceError``), or None: not a transport error."""
        if cut and not isinstance(exc, urllib.error.HTTPError):  # (an HTTP error is a status: the answer came)
            return OdooUnreachable(no_whole_answer(self.settings, what))
        if isinstance(exc, urllib.error.HTTPError):  # Odoo answers its own errors with HTTP 200: a proxy's
            message = f"Odoo at {self.settings.url} answered HTTP {exc.code} to {what}"
            return OdooUnreachable(message) if exc.code in TRANSIENT_HTTP else SourceError(
                f"{message} (settings 'url', 'db')")
        if isinstance(exc, http.client.IncompleteRead):
            return OdooUnreachable(f"the answer of Odoo at {self.settings.url} to {what} was cut short "
                                   f"({len(exc.partial)} bytes of {len(exc.partial) + (exc.expected or 0)})")
        if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
            # (a character cut in two, or JSON that stops)
            if isinstance(exc, UnicodeDecodeError) or cut_json(getattr(exc, "doc", "") or ""):
                return OdooUnreachable(f"the answer of Odoo at {self.settings.url} to {what} was cut short "
                                       f"(not whole JSON)")
            return SourceError(f"{self.settings.url} answered {what} with something that is not JSON: is it an "
                               f"Odoo server? (setting 'url')")
        if isinstance(exc, urllib.error.URLError | OSError | http.client.HTTPException):
            return self._unreachable(exc, what)
        return None

    def connect(self) -> None:
        try:
            import odoorpc
        except ImportError as exc:  # an optional dependency (the 'odoo' extra); never a package named connector
            raise SourceError("the Odoo source (backend: jsonrpc) needs the 'odoorpc' package: pip install odoorpc "
                              "(or install the connector with its extra: pip install '/path/to/connector[odoo]'); "
                              "Odoo 19+ can use backend: json2 instead") from exc
        s = self.settings
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _Observer(self),
                                             *watched_handlers())
        attempt = Attempt()
        try:
            # version given so odoorpc does not fetch it itself (its SSL connector would fetch it twice)
            self._odoo = odoorpc.ODOO(s.host, protocol="jsonrpc+ssl" if s.ssl else "jsonrpc", port=s.port,
                                      timeout=s.timeout, version="0.0", opener=opener)
            with self._round_trip() as attempt:
                info = self._odoo.json("/web/webclient/version_info", {}).get("result") or {}
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            lost = self._lost(exc, "/web/webclient/version_info", attempt.shut)
            if isinstance(exc, urllib.error.HTTPError) and not isinstance(lost, OdooUnreachable):
                raise SourceError(f"{s.url} answered HTTP {exc.code} to /web/webclient/version_info: is it an "
                                  f"Odoo server? (setting 'url')") from exc
            if lost is not None:
                raise lost from exc
            raise SourceError(f"{s.url} did not answer like an Odoo server (setting 'url'): {exc}") from exc
        self.server_version = str(info.get("server_version") or "")
        try:
            self.version_info = parse_version(self.server_version, info.get("server_version_info"))
        except ValueError as exc:
            raise SourceError(f"{s.url}: unrecognised Odoo version {self.server_version!r}") from exc
        self._odoo._connector.version = f"{self.version_info[0]}.{self.version_info[1]}"
        attempt = Attempt()
        try:
            with self._round_trip() as attempt:
                self._odoo.login(s.db, s.user, self._password)
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            lost = self._lost(exc, f"the login to database {s.db!r}", attempt.shut)
            if lost is None:
                raise
            raise lost from exc
        except odoorpc.error.RPCError as exc:
            message, name = _rpc_message(exc)
            if "does not exist" in message or "database" in message.lower() or "KeyError" in str(name):
                raise SourceError(f"Odoo at {s.url} has no usable database {s.db!r} (setting 'db'): "
                                  f"{message}") from exc
            raise SourceError(
                f"Odoo refused the credentials of user {s.user!r} on database {s.db!r} (settings 'user' and "
                f"'password_env': check the password or API key in ${s.password_env}): {message}") from exc
        self.uid = self._odoo.env.uid
        self.user_context = dict(self._odoo.env.context)

    def send(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        import odoorpc

        attempt = Attempt()
        try:
            with self._round_trip() as attempt:
                return self._odoo.execute_kw(model, method, args or [], kwargs or {})
        except odoorpc.error.RPCError as exc:
            message, name = _rpc_message(exc)
            raise OdooRPCError(f"Odoo {model}.{method}: {message}", name=name) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            lost = self._lost(exc, f"{model}.{method}", attempt.shut)
            if lost is None:
                raise
            raise lost from exc

    def close(self) -> None:
        self._odoo = None

