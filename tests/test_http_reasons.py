"""A transport error is told in the words of the operating system, so that an admin reading a cron log sees
"Connection refused" or "read timed out", not urllib3's wrappers around it."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from connector.http.reasons import not_json_reason, transport_reason


def test_a_refused_connection_and_a_server_that_never_answers() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once it is closed
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(f"http://127.0.0.1:{port}/x", timeout=2)
    assert "HTTPConnectionPool" in str(refused.value)
    assert transport_reason(refused.value) == "[Errno 111] Connection refused"

    with socket.socket() as silent:  # accepts, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        held: list[socket.socket] = []
        accept = threading.Thread(target=lambda: held.append(silent.accept()[0]), daemon=True)
        accept.start()
        with pytest.raises(requests.Timeout) as slow:
            requests.get(f"http://127.0.0.1:{silent.getsockname()[1]}/x", timeout=(2, 0.2))
        accept.join(2)
        for conn in held:
            conn.close()
    assert transport_reason(slow.value) == "read timed out"


def test_the_odoo_json2_backend_says_why_in_one_short_reason() -> None:
    from connector.sources.odoo.backend import OdooUnreachable
    from connector.sources.odoo.json2_backend import Json2Backend
    from connector.sources.odoo.settings import OdooSettings

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = OdooSettings.from_dict({"url": f"http://127.0.0.1:{port}", "db": "d", "user": "u"})
    backend = Json2Backend(settings, "key")
    with pytest.raises(OdooUnreachable) as lost:
        backend._request("GET", "/web/version")
    assert str(lost.value) == (f"cannot reach Odoo at http://127.0.0.1:{port} (setting 'url'): "
                               "[Errno 111] Connection refused")


def test_a_reason_without_an_errno_is_the_innermost_text() -> None:
    inner = ValueError("certificate verify failed: self-signed certificate")
    outer = requests.exceptions.SSLError(inner)
    assert transport_reason(outer) == "certificate verify failed: self-signed certificate"
    assert transport_reason(OSError()) == "OSError"


def test_a_page_is_said_by_its_words_not_its_markup() -> None:
    """A gateway's error page (a 502 after the retries, or a 200 in place of JSON) reaches the report by what it
    says, not as ``<html><head><title>...``."""
    page = (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{color:red}</style>"
            b"<script>var x = 1;</script></head><body><!-- edge 7 --><center><h1>502 Bad Gateway</h1></center>"
            b"<hr><center>nginx</center></body></html>")
    assert not_json_reason(502, "text/html; charset=utf-8", page) == \
        "the answer is not JSON: HTTP 502 text/html: '502 Bad Gateway 502 Bad Gateway nginx'"
    assert not_json_reason(200, "text/plain", b"Service  temporarily\nunavailable") == \
        "the answer is not JSON: HTTP 200 text/plain: 'Service temporarily unavailable'"
