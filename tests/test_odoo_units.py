"""Version parsing, settings, kinds, the JSON-2 backend against a local fake server, and cassette hygiene."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from connector.errors import ConfigError, SourceError
from connector.model import ABSENT
from connector.sources.odoo import OdooSettings, OdooSource, parse_version
from connector.sources.odoo.json2_backend import Json2Backend
from connector.sources.odoo.reader import product_kind
from tests import odoo_vcr
from tests.odoo_vcr import CASSETTES, JSON2_BAD_KEY, PLACEHOLDER


@pytest.mark.parametrize(("text", "expected"), [
    ("16.0", (16, 0)), ("18.0+e-20241005", (18, 0)), ("saas~18.2", (18, 2)), ("saas~17.4+e", (17, 4)),
    ("17.0-20240101", (17, 0)), ("19.0alpha1", (19, 0)), ("19.0", (19, 0)), (" 16.0 ", (16, 0)),
])
def test_parse_version(text: str, expected: tuple[int, int]) -> None:
    assert parse_version(text) == expected


def test_parse_version_falls_back_to_version_info() -> None:
    assert parse_version("", [18, 0, 0, "final", 0, ""]) == (18, 0)
    assert parse_version(None, ["saas~18", 3, 0, "final", 0, ""]) == (18, 3)
    with pytest.raises(ValueError):
        parse_version("master")


@pytest.mark.parametrize(("row", "storable", "kind"), [
    ({"type": "product"}, False, "stocked"), ({"type": "consu"}, False, "consumable"),
    ({"type": "service"}, False, "service"), ({"type": "consu", "is_storable": True}, True, "stocked"),
    ({"type": "consu", "is_storable": False}, True, "consumable"), ({"type": "combo"}, True, "combo"),
])
def test_product_kind(row: dict[str, Any], storable: bool, kind: str) -> None:
    assert product_kind(row, storable) == kind


def test_settings_from_dict_and_validation() -> None:
    s = OdooSettings.from_dict({"type": "odoo", "url": "https://erp.example.com", "db": "prod",
                                "warehouses": "WH", "languages": ["fr_FR"]})
    assert s.warehouses == ["WH"] and s.port == 443 and s.ssl and s.cursor_source == "odoo:prod"
    with pytest.raises(ConfigError, match="unknown key"):
        OdooSettings.from_dict({"url": "http://x", "db": "d", "pasword": "oops"})
    with pytest.raises(ConfigError, match="'url'"):
        OdooSettings(url="erp.example.com", db="d")
    with pytest.raises(ConfigError, match="missing db"):
        OdooSettings.from_dict({"url": "http://x"})


# -- JSON-2 against a local fake (NOT a real Odoo 19) -------------------------------------------------------------
class _FakeOdoo19(BaseHTTPRequestHandler):
    log: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.log.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
        if self.path == "/web/version":
            return self._send(200, {"version": "19.0", "version_info": [19, 0, 0, "final", 0, ""]})
        self._send(404, {})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        self.log.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
        if self.path == "/web/database/list":
            return self._send(200, {"jsonrpc": "2.0", "id": None, "result": ["shop19"]})
        if self.headers.get("X-Odoo-Database") == "shop92":  # the other answer seen for unknown routes: a redirect
            self.send_response(303)
            self.send_header("Location", "/web/login?redirect=" + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if self.headers.get("X-Odoo-Database") != "shop19":  # outside a database no JSON-2 route exists
            return self._send(404, {})
        if self.headers.get("Authorization") != "bearer good-key":
            return self._send(401, {"name": "odoo.exceptions.AccessDenied", "message": "Access Denied"})
        model, method = self.path.split("/")[3:5]
        if (model, method) == ("res.users", "context_get"):
            return self._send(200, {"lang": "en_US", "tz": "UTC", "uid": 2})
        if (model, method) == ("product.product", "fields_get"):
            return self._send(200, {"id": {"type": "integer"}, "is_storable": {"type": "boolean"},
                                    "qty_available": {"type": "float"}, "free_qty": {"type": "float"},
                                    "lst_price": {"type": "float", "digits": [16, 2]}})
        if (model, method) == ("stock.warehouse", "search_read"):
            return self._send(200, [{"id": 1, "name": "San Francisco", "code": "WH",
                                     "view_location_id": [11, "WH"]}])
        if (model, method) == ("product.product", "search_read"):
            if "virtual_available" in body["fields"]:
                return self._send(200, [{"id": 7, "free_qty": 3.0, "qty_available": 5.0, "virtual_available": 5.0,
                                         "incoming_qty": 1.0, "outgoing_qty": 2.0}])
            if body["domain"][-1][1] == ">" and body["domain"][-1][2] > 0:
                return self._send(200, [])
            return self._send(200, [{"id": 7, "default_code": "J2", "name": "Json two", "barcode": False,
                                     "product_tmpl_id": [4, "Json two"], "lst_price": 9.99, "standard_price": 4,
                                     "weight": 0, "categ_id": [1, "Goods"], "active": True, "type": "consu",
                                     "is_storable": True, "product_template_attribute_value_ids": [],
                                     "currency_id": [1, "USD"], "qty_available": 5.0, "free_qty": 3.0}])
        self._send(404, {"name": "werkzeug.exceptions.NotFound", "message": f"no {model}.{method}"})


@pytest.fixture
def fake19() -> Iterator[str]:
    _FakeOdoo19.log = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOdoo19)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_json2_backend_reads_through_the_documented_shape(fake19: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_TEST_KEY", "good-key")
    settings = OdooSettings(url=fake19, db="shop19", backend="json2", password_env="CONNECTOR_TEST_KEY",
                            warehouses=["WH"])
    source = OdooSource(settings)
    result = source.read()
    [product] = result.products
    v = product.variants[0]
    assert (v.sku, str(v.price.amount), v.stock["WH"].available, v.stock["WH"].reserved) == ("J2", "9.99", 3, 2)
    assert v.hs_code is ABSENT
    posts = [r for r in _FakeOdoo19.log if r["method"] == "POST"]
    assert all(r["path"].startswith("/json/2/") for r in posts)
    assert all(r["headers"]["Authorization"] == "bearer good-key" for r in posts)
    assert all(r["headers"]["X-Odoo-Database"] == "shop19" for r in posts)
    stock = [r for r in posts if "virtual_available" in r["body"].get("fields", [])]
    assert stock and stock[0]["body"]["context"]["warehouse_id"] == 1  # 19 uses the 18 key
    assert source.backend is not None and source.backend.calls == len(_FakeOdoo19.log)


def test_json2_bad_key(fake19: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_TEST_KEY", "bad-key")
    settings = OdooSettings(url=fake19, db="shop19", backend="json2", password_env="CONNECTOR_TEST_KEY")
    with pytest.raises(SourceError, match=r"refused the API key.*CONNECTOR_TEST_KEY"):
        Json2Backend(settings, "bad-key").connect()


@pytest.mark.parametrize("db", ["shop91", "shop92"], ids=["404", "redirect"])
def test_json2_unknown_database_says_so(db: str, fake19: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_TEST_KEY", "good-key")
    settings = OdooSettings(url=fake19, db=db, backend="json2", password_env="CONNECTOR_TEST_KEY")
    with pytest.raises(SourceError, match=rf"database '{db}' does not exist on {fake19} .*shop19") as exc:
        OdooSource(settings).read()
    assert exc.value.exit_code == 2


# -- cassette hygiene -------------------------------------------------------------------------------------------
def _odoo_cassettes() -> list[Path]:
    return sorted(p for d in CASSETTES.glob("odoo*") for p in d.glob("*.yaml"))


def test_odoo_cassettes_exist_for_both_versions() -> None:
    names = {p.parent.name for p in _odoo_cassettes()}
    assert {"odoo16", "odoo18"} <= names


def test_a_json2_recording_keeps_no_key_and_leaves_the_data_alone() -> None:
    """What ``tests/odoo_vcr.py`` writes of a JSON-2 exchange: no ``Authorization`` header (the bearer key), the
    body and the answer as sent (an ``id`` there is data, not JSON-RPC's id), an error's traceback dropped; and
    what it matches on does not hold the key."""
    from vcr.request import Request

    key = "3f9a1c0e5b7d2a4c6e8f0a1b3c5d7e9f1a2b3c4d"
    body = json.dumps({"ids": [7], "fields": ["id"], "context": {"lang": "en_US"}})
    request = Request("POST", "http://127.0.0.1:8069/json/2/product.product/read", body,
                      {"Authorization": f"bearer {key}", "X-Odoo-Database": "shop"})
    kept = odoo_vcr.before_record_request(request)
    assert {h.lower() for h in kept.headers} == {"x-odoo-database"}
    assert json.loads(kept.body) == json.loads(body)
    other_key = Request("POST", request.uri, body, {"Authorization": "bearer ***"})
    odoo_vcr.match_odoo_body(request, other_key)  # raises when they differ
    answer = {"status": {"code": 200}, "headers": {}, "body": {"string": b'{"id": {"type": "integer"}}'}}
    assert json.loads(odoo_vcr.before_record_response(answer)["body"]["string"]) == {"id": {"type": "integer"}}
    error = {"status": {"code": 401}, "headers": {"Set-Cookie": ["session_id=abc"]},
             "body": {"string": b'{"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey", '
                                b'"debug": "Traceback (most recent call last): ..."}'}}
    recorded = odoo_vcr.before_record_response(error)
    assert recorded["headers"] == {}
    assert json.loads(recorded["body"]["string"]) == {"name": "werkzeug.exceptions.Unauthorized",
                                                       "message": "Invalid apikey", "debug": PLACEHOLDER}
    assert key not in repr(kept.headers) + str(kept.body)


@pytest.mark.parametrize("path", _odoo_cassettes(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cassette_has_no_password_cookie_or_authorization(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for interaction in data["interactions"]:
        req, resp = interaction["request"], interaction["response"]
        assert not {h.lower() for h in req["headers"]} & {"cookie", "authorization"}
        assert "set-cookie" not in {h.lower() for h in resp["headers"]}
        body = json.loads(req["body"]) if req["body"] else {}
        if "/json/2/" in req["uri"]:  # JSON-2: the key goes in the Authorization header only (checked above)
            assert "jsonrpc" not in body and "password" not in body
            continue
        params = body.get("params", {})
        assert params.get("password", PLACEHOLDER) == PLACEHOLDER
        if params.get("service") in ("common", "object"):
            assert params["args"][2] == PLACEHOLDER, f"password not scrubbed in {path.name}"
        assert body.get("id", 0) == 0
        resp_body = resp["body"]["string"]
        resp_json = json.loads(resp_body) if resp_body else {}
        if isinstance(resp_json, dict):
            assert resp_json.get("id", 0) == 0
    assert "session_id=" not in text
    # the passwords and keys our own tests use, and the key a JSON-2 recording is made with
    for secret in ("wrong-password-for-test", JSON2_BAD_KEY, os.environ.get("ODOO19_JSON2_KEY")):
        assert not secret or secret not in text
