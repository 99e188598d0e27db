"""vcrpy set-up for the Odoo cassettes (cassettes/odoo16, cassettes/odoo18, cassettes/odoo19).

Replay (the default, CI): record mode ``none``, the network blocked; the tests never need a server.
Record: ``ODOO_RECORD=1`` plus, per version, ``ODOO16_URL`` / ``ODOO18_URL`` (default the loopback servers),
``ODOO16_DB`` / ``ODOO18_DB``, ``ODOO_USER`` and ``ODOO_PASSWORD`` (or ``ODOO16_PASSWORD`` / ``ODOO18_PASSWORD``);
see docs/odoo.md.  Odoo 19 (``ODOO19_URL`` / ``ODOO19_DB`` / ``ODOO19_PASSWORD``) is recorded only with
``ODOO19=1`` beside ``ODOO_RECORD=1``, so that 16 and 18 can be recorded without a 19 server; its cassettes
always replay.  Odoo 19 over JSON-2 (``backend: json2``, the target ``odoo19-json2``, cassettes
``cassettes/odoo19/<name>_json2.yaml``) is recorded only with ``ODOO19_JSON2=1`` beside ``ODOO_RECORD=1``, with
the API key of the user in ``ODOO19_JSON2_KEY`` (same ``ODOO19_URL`` / ``ODOO19_DB``).

What is scrubbed at record time (and applied to live requests before matching, so replays match whatever
password or API key the test uses):
- the password / API key in JSON-RPC bodies: ``params.args[2]`` of ``common.login`` and ``object.execute(_kw)``
  calls, and ``params.password`` of ``/web/session/authenticate``;
- odoorpc's random JSON-RPC ``id`` (requests and responses) -> 0;
- ``Cookie``, ``Authorization`` request headers (JSON-2's bearer API key); ``Set-Cookie`` response headers;
  ``session_id`` in bodies; the ``debug`` traceback of an error answer (JSON-2: HTTP 4xx/5xx; JSON-RPC: ``error.data``).
Only JSON-RPC bodies (those with a ``jsonrpc`` member) are scrubbed: a JSON-2 body is the method's named
arguments and its answer the method's value, where an ``id`` is data (``fields_get`` describes the field ``id``).
Requests match on method + path + the JSON-normalised (key-sorted, id- and password-scrubbed) body; headers are
never matched, so a replay matches whatever key or database header it sends.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import vcr

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
PLACEHOLDER = "***"
RECORDING = os.environ.get("ODOO_RECORD") == "1"
BASE_VERSIONS = (16, 18)  # recorded together whenever ODOO_RECORD=1
# the versions the catalogue and stock tests run on: 19 always replays, and is recorded on request only
VERSIONS = (*BASE_VERSIONS, 19) if not RECORDING or os.environ.get("ODOO19") == "1" else BASE_VERSIONS
DEFAULTS = {16: ("http://127.0.0.1:8016", "odoo16"), 18: ("http://127.0.0.1:8069", "odoo18"),
            19: ("http://127.0.0.1:8069", "odoo19_cat")}
_SECRET_HEADERS = ("cookie", "authorization", "x-openerp-session-id")
JSON2 = "json2"
JSON2_BAD_KEY = "0badc0de" * 5  # shaped like an Odoo API key (40 hex digits), known to no server
# Odoo 19 over JSON-2 (bearer API key): always replayed, recorded with ODOO19_JSON2=1 beside ODOO_RECORD=1
JSON2_VERSIONS = (19,) if not RECORDING or os.environ.get("ODOO19_JSON2") == "1" else ()


@dataclass(frozen=True)
class Target:
    """One recorded server: an Odoo version read over one backend (``jsonrpc``, or ``json2`` on 19+)."""

    version: int
    backend: str = "jsonrpc"

    @property
    def json2(self) -> bool:
        return self.backend == JSON2

    @property
    def id(self) -> str:
        """The pytest id: ``odoo19``, ``odoo19-json2``."""
        return f"odoo{self.version}" + ("-json2" if self.json2 else "")

    def cassette(self, name: str) -> str:
        """JSON-2's cassettes sit beside the version's JSON-RPC ones: ``<name>_json2``."""
        return f"{name}_json2" if self.json2 else name


# every server the catalogue and stock tests read: 16, 18 and 19 over JSON-RPC, 19 over JSON-2
TARGETS = (*(Target(v) for v in VERSIONS), *(Target(v, JSON2) for v in JSON2_VERSIONS))


def as_target(version: int | Target) -> Target:
    return version if isinstance(version, Target) else Target(version)


def load_fixture_module(name: str) -> Any:
    """The script ``tests/fixtures/<name>.py`` (a seed that also runs on its own) loaded as module ``name``."""
    path = Path(__file__).resolve().parent / "fixtures" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


seed_data = load_fixture_module("odoo_seed")


# -- scrubbing ---------------------------------------------------------------------------------------------------
def scrub_payload(data: Any) -> Any:
    """Mask the password and normalise the id of one JSON-RPC request body (a parsed dict); anything else (a
    JSON-2 body: the method's named arguments) is left as it is."""
    if not isinstance(data, dict) or "jsonrpc" not in data:
        return data
    if "id" in data:
        data["id"] = 0
    params = data.get("params")
    if isinstance(params, dict):
        if "password" in params:
            params["password"] = PLACEHOLDER
        args = params.get("args")
        if params.get("service") in ("common", "object") and isinstance(args, list) and len(args) > 2:
            method = params.get("method")
            if method in ("login", "authenticate", "execute", "execute_kw"):
                args[2] = PLACEHOLDER
    return data


def _scrub_response_payload(data: Any) -> Any:
    if isinstance(data, dict) and "jsonrpc" in data:  # a JSON-2 answer is the method's value: data, kept
        if "id" in data:
            data["id"] = 0
        result = data.get("result")
        if isinstance(result, dict) and "session_id" in result:
            result["session_id"] = PLACEHOLDER
        error = data.get("error")
        details = error.get("data") if isinstance(error, dict) else None
        if isinstance(details, dict) and details.get("debug"):
            details["debug"] = PLACEHOLDER  # the server's traceback: Odoo's paths and lines of its source
    return data


def normalised_body(body: bytes | str | None) -> str:
    if body is None:
        return ""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        return json.dumps(scrub_payload(json.loads(text)), sort_keys=True, ensure_ascii=False)
    except ValueError:
        return text


def before_record_request(request: Any) -> Any:
    request = copy.deepcopy(request)
    for name in list(request.headers):
        if name.lower() in _SECRET_HEADERS:
            del request.headers[name]
    if request.body:
        request.body = normalised_body(request.body).encode("utf-8")
    return request


def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    response = copy.deepcopy(response)
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in ("set-cookie", "x-openerp-session-id"):
            del headers[name]
    body = response.get("body", {}).get("string")
    if body:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        try:
            data = _scrub_response_payload(json.loads(text))
            if response.get("status", {}).get("code", 200) >= 400 and isinstance(data, dict) and "debug" in data:
                data["debug"] = PLACEHOLDER  # a JSON-2 error's server traceback (Odoo's paths and source lines)
            scrubbed = json.dumps(data, ensure_ascii=False)
        except ValueError:
            scrubbed = text
        response["body"]["string"] = scrubbed.encode("utf-8")
    return response


def match_odoo_body(r1: Any, r2: Any) -> None:
    a, b = normalised_body(r1.body), normalised_body(r2.body)
    assert a == b, "JSON bodies differ"


def make_vcr(version: int) -> vcr.VCR:
    v = vcr.VCR(
        cassette_library_dir=str(CASSETTES / f"odoo{version}"),
        record_mode="all" if RECORDING else "none",
        match_on=["method", "path", "odoo_body"],
        before_record_request=before_record_request,
        before_record_response=before_record_response,
        decode_compressed_response=True,
        serializer="yaml",
    )
    v.register_matcher("odoo_body", match_odoo_body)
    return v


@contextmanager
def odoo_cassette(version: int | Target, name: str) -> Iterator[Any]:
    """Replay (or, with ODOO_RECORD=1, record afresh) ``cassettes/odoo<version>/<name>.yaml`` (JSON-2's:
    ``<name>_json2.yaml``)."""
    target = as_target(version)
    name = target.cassette(name)
    if RECORDING:  # vcrpy's "all" mode appends to an existing cassette: start from an empty one
        (CASSETTES / f"odoo{target.version}" / f"{name}.yaml").unlink(missing_ok=True)
    with make_vcr(target.version).use_cassette(f"{name}.yaml", allow_playback_repeats=False) as cass:
        yield cass


# -- settings for the tests ------------------------------------------------------------------------------------
def server(version: int | Target) -> tuple[str, str]:
    version = as_target(version).version
    url, db = DEFAULTS[version]
    return os.environ.get(f"ODOO{version}_URL", url), os.environ.get(f"ODOO{version}_DB", db)


def password(version: int | Target) -> str:
    """The password (JSON-2: the API key) while recording; the placeholder in replays."""
    target = as_target(version)
    if RECORDING and target.json2:
        value = os.environ.get(f"ODOO{target.version}_JSON2_KEY")
        if not value:
            raise RuntimeError(f"recording JSON-2 needs the user's API key in ODOO{target.version}_JSON2_KEY")
        return value
    if RECORDING:
        value = os.environ.get(f"ODOO{target.version}_PASSWORD") or os.environ.get("ODOO_PASSWORD")
        if not value:
            raise RuntimeError(f"recording needs ODOO_PASSWORD (or ODOO{target.version}_PASSWORD)")
        return value
    return PLACEHOLDER


def password_var(version: int | Target) -> str:
    """The variable the tests' settings read the password (JSON-2: the API key) from (``password_env``)."""
    target = as_target(version)
    return f"CONNECTOR_TEST_ODOO{target.version}_" + ("JSON2_KEY" if target.json2 else "PASSWORD")


def settings_kwargs(version: int | Target, **kw: Any) -> dict[str, Any]:
    target = as_target(version)
    url, db = server(target)
    # parallel_calls 1: vcrpy is not thread-safe (its connection stub briefly un-patches http.client while it
    # builds the real connection, so a concurrent request escapes the cassette); tests/test_odoo_parallel.py
    # covers the parallel path
    base: dict[str, Any] = {"url": url, "db": db, "user": os.environ.get("ODOO_USER", "admin"),
                            "password_env": password_var(target), "parallel_calls": 1}
    if target.json2:
        base["backend"] = JSON2
    base.update(kw)
    return base


def seed_rpc(version: int | Target) -> Any:
    """A live RPC connection for the recording-time fixture actions (inventory adjustments).  Over JSON-RPC
    whatever the target's backend: Odoo takes the API key as the password there."""
    url, db = server(version)
    return seed_data.Rpc(url, db, os.environ.get("ODOO_USER", "admin"), password(version))


@dataclass
class Call:
    """One recorded call of a model's method, whichever backend sent it."""

    model: str
    method: str
    args: list[Any]  # positional: JSON-2 sends only ``ids`` (as ``[ids]``)
    kwargs: dict[str, Any]


def recorded_calls(requests: list[Any]) -> list[Call]:
    """The model calls among recorded requests: JSON-RPC's ``object.execute_kw`` and JSON-2's
    ``POST /json/2/<model>/<method>`` (the connection's version, login and ``context_get`` are left out)."""
    calls = []
    for r in requests:
        body = json.loads(r.body) if r.body else {}
        if r.path.startswith("/json/2/") and r.path != "/json/2/res.users/context_get":
            model, method = r.path[len("/json/2/"):].split("/", 1)
            kwargs = dict(body)
            ids = kwargs.pop("ids", None)
            calls.append(Call(model, method, [ids] if ids is not None else [], kwargs))
            continue
        params = body.get("params", {}) if isinstance(body, dict) else {}
        if params.get("method") == "execute_kw":
            args = params["args"]
            calls.append(Call(args[3], args[4], list(args[5]), dict(args[6]) if len(args) > 6 else {}))
    return calls


def block_network(mp: pytest.MonkeyPatch) -> None:
    """Replays must not touch the network: any socket connect fails (nothing is blocked while recording)."""
    if RECORDING:
        return

    def refuse(self: socket.socket, address: Any) -> None:
        raise RuntimeError(f"network blocked in replay tests (connect to {address!r})")

    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket.socket, "connect_ex", refuse)


@contextmanager
def odoo_test_env(version: int | Target, setup: Any = None) -> Iterator[pytest.MonkeyPatch]:
    """A recorded test's set-up: the password's variable set; at record time ``setup(seed_rpc(version))`` first
    (records the test needs on the server), else (replay) the network blocked."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(password_var(version), password(version))
        if RECORDING:
            if setup is not None:
                setup(seed_rpc(version))
        else:
            block_network(mp)
        yield mp
