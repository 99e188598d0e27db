"""``urllib`` handlers whose connections the answer's deadline can shut (``connector.http.deadline.within``).

A client on ``urllib`` (odoorpc) reads with a per-read socket timeout only: an answer dripped a byte at a time,
each inside the timeout, held it as long as the drip lasted.  These handlers note each connection they open in
the thread's current attempt (``note_connection``), so the one shared deadline thread can shut its socket while the
status line, the headers or the body are awaited.  The connection class is the one ``urllib`` picks when the
request is sent (``http.client.HTTPConnection`` as it is then: a recorder such as vcrpy that replaces it still
serves the request), only wrapped to be noted.
"""

from __future__ import annotations

import urllib.request
from typing import Any

from connector.http.deadline import note_connection


def _noted(http_class: Any) -> Any:
    """``http_class`` (a connection class, or what stands for it) whose instances are noted as made."""

    def make(*args: Any, **kwargs: Any) -> Any:
        conn = http_class(*args, **kwargs)
        note_connection(conn)
        return conn

    return make


class WatchedHTTPHandler(urllib.request.HTTPHandler):
    """``HTTPHandler`` noting its connections for the answer's deadline."""

    def do_open(self, http_class: Any, req: urllib.request.Request, **http_conn_args: Any) -> Any:
        return super().do_open(_noted(http_class), req, **http_conn_args)


class WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    """``HTTPSHandler`` noting its connections for the answer's deadline."""

    def do_open(self, http_class: Any, req: urllib.request.Request, **http_conn_args: Any) -> Any:
        return super().do_open(_noted(http_class), req, **http_conn_args)


def watched_handlers() -> list[urllib.request.BaseHandler]:
    """Handlers for ``urllib.request.build_opener`` in place of its plain HTTP and HTTPS ones."""
    return [WatchedHTTPHandler(), WatchedHTTPSHandler()]
