"""Odoo answers lost on the way: a dropped connection, a body cut short, a gateway's 502.

The recorded answers of a real Odoo 18 and 19 (``cassettes/odoo18/catalogue_full.yaml``, and on 19 over JSON-RPC and
over JSON-2 ``cassettes/odoo19/catalogue_full.yaml`` / ``catalogue_full_json2.yaml``) are served over real HTTP on
127.0.0.1 by ``RecordedOdoo``, which loses chosen answers; the connector's JSON-RPC backend (odoorpc, urllib) or its
JSON-2 backend (requests) reads through it. A read whose answer was lost is sent again and the catalogue is the one
read without faults; a read that keeps failing stops the run with exit 4 and a message naming the call, never a
traceback; a write is never sent twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector.cli import main
from connector.errors import EXIT_UNREACHABLE
from connector.sources.odoo import OdooSettings, OdooSource
from connector.sources.odoo import backend as backend_module
from connector.sources.odoo.backend import OdooBackend, OdooUnreachable
from tests.odoo_vcr import (
    CASSETTES,
    Target,
    block_network,
    normalised_body,
    odoo_cassette,
    password,
    password_var,
)
from tests.odoo_vcr import TARGETS as ALL_TARGETS
from tests.test_odoo_catalogue import catalogue_settings

# 18, 19 and 19 over JSON-2 (while recording, those being recorded: see tests/odoo_vcr.py)
TARGETS = [t for t in ALL_TARGETS if t.version in (18, 19)]


def cassette(target: Target) -> Path:
    return CASSETTES / f"odoo{target.version}" / f"{target.cassette('catalogue_full')}.yaml"


def index_of(target: Target, path_or_call: str) -> int:
    """The index of the first request of the read without faults that calls ``model.method`` (or has the path)."""
    for index, item in enumerate(yaml.safe_load(cassette(target).read_text(encoding="utf-8"))["interactions"]):
        request = item["request"]
        path = "/" + request["uri"].split("/", 3)[3]
        if path == path_or_call or path == "/json/2/" + path_or_call.replace(".search_read", "/search_read"):
            return index
        if f'"{path_or_call.rsplit(".", 1)[0]}", "{path_or_call.rsplit(".", 1)[1]}"' in (request["body"] or ""):
            return index
    raise AssertionError(f"{path_or_call} not in {cassette(target)}")


def is_read(path: str, body: str) -> bool:
    """A model read of the catalogue (not the connection's version, login and context calls)."""
    return '"execute_kw"' in body or (path.startswith("/json/2/") and not path.endswith("/context_get"))


class RecordedOdoo(http.server.ThreadingHTTPServer):
    """Serves a cassette's recorded answers (matched on path and scrubbed body, as the replays match them);
    ``faults[i]`` spoils the answer to the i-th request: ``cut`` (the body stops half way, its Content-Length
    promising the whole), ``drop`` (the connection closes without an answer), ``gateway`` (a proxy's 502).
    ``together``: requests (by path and scrubbed body) answered only once ``barrier`` saw them all under way."""

    def __init__(self, cassette: Path, faults: dict[int, str],
                 together: Callable[[str, str], bool] | None = None, barrier: threading.Barrier | None = None) -> None:
        self.answers: dict[tuple[str, str], dict[str, Any]] = {}
        for item in yaml.safe_load(cassette.read_text(encoding="utf-8"))["interactions"]:
            path = "/" + item["request"]["uri"].split("/", 3)[3]
            self.answers.setdefault((path, normalised_body(item["request"]["body"])), item["response"])
        self.faults = faults
        self.together, self.barrier = together, barrier
        self.seen: list[tuple[str, str, str | None]] = []  # (path, scrubbed body, fault)
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: RecordedOdoo

    def do_GET(self) -> None:  # JSON-2's /web/version
        self.do_POST()

    def do_POST(self) -> None:
        body = normalised_body(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None)
        with self.server.lock:
            fault = self.server.faults.get(len(self.server.seen))
            self.server.seen.append((self.path, body, fault))
        if self.server.barrier is not None and self.server.together and self.server.together(self.path, body):
            self.server.barrier.wait()  # broken (an error, no answer) unless the others are under way too
        if fault == "drop":
            self.close_connection = True
            return
        if fault == "gateway":
            self._answer(502, b"<html><body>502 Bad Gateway</body></html>", "text/html")
            return
        answer = self.server.answers[(self.path, body)]
        data = answer["body"]["string"]
        data = data.encode("utf-8") if isinstance(data, str) else data
        self._answer(answer["status"]["code"], data, "application/json; charset=utf-8",
                     cut=fault == "cut")

    def _answer(self, status: int, data: bytes, kind: str, cut: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if cut else data)
        self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def recorded_odoo(target: Target, faults: dict[int, str], together: Callable[[str, str], bool] | None = None,
                  barrier: threading.Barrier | None = None) -> Iterator[RecordedOdoo]:
    server = RecordedOdoo(cassette(target), faults, together, barrier)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_waits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The resends' pauses skipped (their attempts noted): the tests need not sleep."""
    attempts: list[int] = []
    monkeypatch.setattr(backend_module, "backoff_seconds", lambda attempt: attempts.append(attempt) or 0.0)
    for target in TARGETS:
        monkeypatch.setenv(password_var(target), password(target))
    return attempts


def settings_at(target: Target, url: str, **kw: Any) -> OdooSettings:
    return dataclasses.replace(catalogue_settings(target), url=url, **kw)


def clean_read(target: Target) -> list[str]:
    """The catalogue as the cassette replays it without faults."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(password_var(target), password(target))
        block_network(mp)
        with odoo_cassette(target, "catalogue_full"):
            return [repr(p) for p in OdooSource(catalogue_settings(target)).read().products]


# the requests of the read (JSON-RPC): 0 version, 1 login, 2 context, 3 fields_get, 4 languages, 5 warehouses,
# 6 locations, 7 products, 8 attribute values, 9-10 translations, 11 quants, 12 moves, 13 images (JSON-2: no
# login); counted as sent, resends included: the connection's calls, then the reads, spoiled in turn
FAULTS = {0: "cut", 2: "drop", 4: "gateway", 8: "cut", 9: "cut", 10: "drop", 13: "gateway", 15: "cut", 17: "drop"}


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_answers_lost_or_cut_short_are_read_again(target: Target, no_waits: list[int]) -> None:
    clean = clean_read(target)
    with recorded_odoo(target, FAULTS) as server:
        result = OdooSource(settings_at(target, server.url)).read()
    assert [repr(p) for p in result.products] == clean
    assert sum(1 for *_, fault in server.seen if fault) == len(FAULTS)
    answered = [(path, body) for path, body, fault in server.seen if not fault]
    for index, (path, body, fault) in enumerate(server.seen):
        if fault:  # each spoiled request was sent again and answered
            assert (path, body) in [(p, b) for p, b, f in server.seen[index + 1:] if not f], (index, fault)
    reads = [(path, body) for path, body in answered if is_read(path, body)]  # (not the connections' calls)
    assert len(reads) == len(set(reads)) == 11  # each read answered once: none sent again needlessly
    assert len(no_waits) == len(FAULTS) and 2 in no_waits  # a pause per resend, longer when one fails again


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_a_read_that_keeps_failing_stops_with_exit_4_naming_the_call(target: Target, no_waits: list[int]) -> None:
    page = index_of(target, "product.product.search_read")
    with recorded_odoo(target, dict.fromkeys(range(page, page + 3), "cut")) as server, \
            pytest.raises(OdooUnreachable) as err:
        OdooSource(settings_at(target, server.url, retries=2)).read()
    message = str(err.value)
    assert "product.product.search_read" in message and "cut short" in message and server.url in message
    assert re.search(r"\((\d+) bytes of (\d+)\)", message), message  # how much came of what was announced
    assert err.value.exit_code == EXIT_UNREACHABLE
    assert [fault for _path, _body, fault in server.seen][page:] == ["cut", "cut", "cut"]  # 1 + 2 resends, no more
    assert server.seen[page][0] in ("/jsonrpc", "/json/2/product.product/search_read")


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_the_command_says_so_and_exits_4(target: Target, tmp_path: Path, no_waits: list[int],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    page = index_of(target, "product.product.search_read")
    with recorded_odoo(target, dict.fromkeys(range(page, page + 13), "drop")) as server:
        s = settings_at(target, server.url)
        profile = tmp_path / "shop.yaml"
        profile.write_text(yaml.safe_dump({
            "name": "shop", "state": str(tmp_path / "state.sqlite"),
            "source": {"type": "odoo", "backend": s.backend, "url": s.url, "db": s.db, "user": s.user,
                       "password_env": s.password_env,
                       "languages": s.languages, "warehouses": s.warehouses, "image_base_url": s.image_base_url,
                       "domain": s.domain, "parallel_calls": 1, "retries": 3},
            "targets": {"elebne": {"account": "shop", "api_key_env": "CONNECTOR_TEST_UNUSED_KEY"}}}))
        code = main(["sync", "--profile", str(profile), "--dry-run", "--no-progress"])
    out = capsys.readouterr()
    assert code == EXIT_UNREACHABLE
    assert "cannot reach Odoo" in out.err and "Traceback" not in out.err + out.out


class _Flaky(OdooBackend):
    """Every answer lost, the calls counted."""

    def __init__(self, retries: int) -> None:
        super().__init__()
        self.settings = OdooSettings(url="http://odoo.example", db="shop", retries=retries)
        self.sent: list[str] = []

    def connect(self) -> None:
        self.sent.append("connect")
        raise OdooUnreachable("cannot reach Odoo (test)")

    def send(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        self.sent.append(method)
        raise OdooUnreachable("the answer was cut short (test)")


@pytest.mark.parametrize("method", ["search_read", "read", "search_count", "fields_get", "read_group"])
def test_a_read_is_sent_again(method: str, no_waits: list[int]) -> None:
    flaky = _Flaky(retries=3)
    with pytest.raises(OdooUnreachable):
        flaky.call("product.product", method, [], {})
    assert flaky.sent == [method] * 4 and no_waits == [0, 1, 2]


@pytest.mark.parametrize("method", ["create", "write", "action_confirm", "button_validate", "unlink"])
def test_a_write_whose_answer_is_lost_is_never_sent_twice(method: str, no_waits: list[int]) -> None:
    flaky = _Flaky(retries=5)
    with pytest.raises(OdooUnreachable):
        flaky.call("sale.order", method, [[1]], {})
    assert flaky.sent == [method] and no_waits == []


def test_connecting_is_tried_again(no_waits: list[int]) -> None:
    flaky = _Flaky(retries=2)
    with pytest.raises(OdooUnreachable):
        flaky.open()
    assert flaky.sent == ["connect"] * 3
