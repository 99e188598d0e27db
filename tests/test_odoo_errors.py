"""Unreachable server, bad credentials, missing modules and bad settings: clear SourceErrors naming the
setting, never tracebacks."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from connector.errors import EXIT_UNREACHABLE, ConfigError, SourceError, UserError
from connector.model import ABSENT
from connector.sources.odoo import OdooSettings, OdooSource
from connector.sources.odoo.backend import OdooBackend
from tests.odoo_vcr import (
    JSON2_BAD_KEY,
    TARGETS,
    VERSIONS,
    Target,
    block_network,
    odoo_cassette,
    password,
    password_var,
    settings_kwargs,
)

JSON2_TARGETS = [t for t in TARGETS if t.json2]


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_bad_credentials_name_the_settings(version: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_TEST_BAD_PASSWORD", "wrong-password-for-test")
    block_network(monkeypatch)
    settings = OdooSettings(**settings_kwargs(version, password_env="CONNECTOR_TEST_BAD_PASSWORD"))
    with odoo_cassette(version, "bad_credentials"), pytest.raises(SourceError) as err:
        OdooSource(settings).read()
    msg = str(err.value)
    assert "refused the credentials" in msg and "'password_env'" in msg and "CONNECTOR_TEST_BAD_PASSWORD" in msg
    assert "wrong-password-for-test" not in msg
    assert isinstance(err.value, UserError)


@pytest.mark.parametrize("target", JSON2_TARGETS, ids=lambda t: t.id)
def test_json2_bad_key_names_the_settings(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """Odoo 19 answers a key it does not know with HTTP 401 (``Invalid apikey``) to the first call."""
    monkeypatch.setenv("CONNECTOR_TEST_BAD_KEY", JSON2_BAD_KEY)
    block_network(monkeypatch)
    settings = OdooSettings(**settings_kwargs(target, password_env="CONNECTOR_TEST_BAD_KEY"))
    with odoo_cassette(target, "bad_credentials") as cass, pytest.raises(SourceError) as err:
        OdooSource(settings).read()
    msg = str(err.value)
    assert "refused the API key" in msg and "'password_env'" in msg and "CONNECTOR_TEST_BAD_KEY" in msg
    assert "Invalid apikey" in msg  # Odoo's own reason
    assert JSON2_BAD_KEY not in msg and "Traceback" not in msg
    assert isinstance(err.value, UserError) and err.value.exit_code == 2
    assert [r.path for r in cass.requests] == ["/web/version", "/json/2/res.users/context_get"]


@pytest.mark.parametrize("target", JSON2_TARGETS, ids=lambda t: t.id)
def test_json2_unknown_database_lists_the_servers(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database the server does not serve (``X-Odoo-Database``): Odoo 19 answers JSON-2 with its plain 404
    page (the routes exist only inside a database); the message names the setting and the databases listed."""
    monkeypatch.setenv(password_var(target), password(target))
    block_network(monkeypatch)
    settings = OdooSettings(**settings_kwargs(target, db="connector_no_such_db"))
    with odoo_cassette(target, "unknown_database") as cass, pytest.raises(SourceError) as err:
        OdooSource(settings).read()
    msg = str(err.value)
    assert "database 'connector_no_such_db' does not exist" in msg and "(setting 'db'" in msg
    assert f"databases there: {settings_kwargs(target)['db']}" in msg
    assert isinstance(err.value, UserError) and err.value.exit_code == 2
    assert [r.path for r in cass.requests][-1] == "/web/database/list"


@pytest.mark.parametrize("target", JSON2_TARGETS, ids=lambda t: t.id)
def test_json2_inactive_language_names_the_setting(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(password_var(target), password(target))
    block_network(monkeypatch)
    settings = OdooSettings(**settings_kwargs(target, languages=["fr_FR", "de_DE"]))
    with odoo_cassette(target, "inactive_language"), pytest.raises(SourceError) as err:
        OdooSource(settings).read()
    assert "'languages': de_DE" in str(err.value)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_server_names_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_TEST_PW", "x")
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(SourceError) as err:
        OdooSource(OdooSettings(url=url, db="odoo18", password_env="CONNECTOR_TEST_PW", timeout=5, retries=1)).read()
    assert "cannot reach Odoo" in str(err.value) and url in str(err.value) and "'url'" in str(err.value)
    assert err.value.exit_code == EXIT_UNREACHABLE  # as for a marketplace: cron may try again later


def test_missing_password_env_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONNECTOR_TEST_UNSET", raising=False)
    with pytest.raises(ConfigError, match="CONNECTOR_TEST_UNSET"):
        OdooSource(OdooSettings(url="http://127.0.0.1:1", db="x", password_env="CONNECTOR_TEST_UNSET")).read()


class FakeBackend(OdooBackend):
    """Canned answers per (model, method); records every call."""

    def __init__(self, version: tuple[int, int], answers: dict[tuple[str, str], Any]) -> None:
        super().__init__()
        self.version_info = version
        self.answers = answers
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def connect(self) -> None:
        self.calls += 3
        self.user_context = {"lang": "en_US", "tz": False, "uid": 2}

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        self.calls += 1
        self.sent.append((model, method, kwargs or {}))
        answer = self.answers.get((model, method), [])
        return answer(kwargs or {}) if callable(answer) else answer


NO_STOCK_FIELDS = {"id": {"type": "integer"}, "default_code": {"type": "char"}, "lst_price": {"type": "float"}}


def test_missing_stock_module_names_the_setting() -> None:
    backend = FakeBackend((18, 0), {("product.product", "fields_get"): NO_STOCK_FIELDS})
    with pytest.raises(SourceError) as err:
        OdooSource(OdooSettings(url="http://odoo.example", db="shop"), backend=backend).read()
    assert "'stock'" in str(err.value) and "read_stock: false" in str(err.value)


def test_catalogue_only_without_stock_module() -> None:
    rows = [{"id": 1, "default_code": "A1", "name": "A", "product_tmpl_id": [1, "A"], "lst_price": 2.5,
             "standard_price": 1.0, "weight": 0.0, "categ_id": [1, "All / Goods"], "active": True,
             "product_template_attribute_value_ids": [], "type": "consu", "currency_id": [2, "EUR"],
             "barcode": False, "description_sale": False, "write_date": "2025-01-01 00:00:00"}]
    backend = FakeBackend((17, 0), {("product.product", "fields_get"): NO_STOCK_FIELDS,
                                    ("product.product", "search_read"): rows})
    result = OdooSource(OdooSettings(url="http://odoo.example", db="shop", read_stock=False),
                        backend=backend).read()
    [product] = result.products
    assert product.key == "A1" and product.category_path == ["All", "Goods"] and product.kind == "consumable"
    assert product.variants[0].stock_known is False and "stock" not in result.provided_fields
    assert product.variants[0].hs_code is ABSENT and "hs_code" not in result.provided_fields


STOCK_FIELDS = {**NO_STOCK_FIELDS, "qty_available": {"type": "float"}, "free_qty": {"type": "float"}}


def test_unknown_warehouse_and_inactive_language_name_the_setting() -> None:
    whs = [{"id": 1, "name": "My Company", "code": "WH", "view_location_id": [11, "WH"]}]
    backend = FakeBackend((18, 0), {("product.product", "fields_get"): STOCK_FIELDS,
                                    ("stock.warehouse", "search_read"): whs,
                                    ("res.lang", "search_read"): [{"code": "fr_FR", "active": True}]})
    with pytest.raises(SourceError, match=r"'warehouses'.*'Nowhere'"):
        OdooSource(OdooSettings(url="http://o.example", db="d", warehouses=["Nowhere"]), backend=backend).read()
    with pytest.raises(SourceError, match="'languages': ar_001"):
        OdooSource(OdooSettings(url="http://o.example", db="d", languages=["fr_FR", "ar_001"]),
                   backend=backend).read()


@pytest.mark.parametrize(("version", "key"), [((16, 0), "warehouse"), ((17, 0), "location"),
                                              ((18, 0), "warehouse_id"), ((19, 0), "warehouse_id")])
def test_stock_context_key_per_version(version: tuple[int, int], key: str) -> None:
    whs = [{"id": 1, "name": "My Company", "code": "WH", "view_location_id": [11, "WH"]}]
    rows = [{"id": 5, "default_code": "S1", "name": "S", "product_tmpl_id": [3, "S"], "lst_price": 1.0,
             "standard_price": 0.5, "weight": 0.0, "categ_id": False, "active": True,
             "product_template_attribute_value_ids": [], "type": "product" if version[0] < 18 else "consu",
             "is_storable": True, "currency_id": [1, "USD"], "qty_available": 9.0, "free_qty": 9.0}]

    def products(kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        if "free_qty" in kwargs["fields"] and "virtual_available" in kwargs["fields"]:
            return [{"id": 5, "free_qty": 4.0, "qty_available": 6.0, "virtual_available": 6.0,
                     "incoming_qty": 0.0, "outgoing_qty": 2.0}]
        return rows

    fields = dict(STOCK_FIELDS)
    if version[0] >= 18:
        fields["is_storable"] = {"type": "boolean"}
    backend = FakeBackend(version, {("product.product", "fields_get"): fields,
                                    ("stock.warehouse", "search_read"): whs,
                                    ("product.product", "search_read"): products})
    result = OdooSource(OdooSettings(url="http://o.example", db="d", warehouses=["WH"]), backend=backend).read()
    level = result.products[0].variants[0].stock["WH"]
    assert (level.available, level.on_hand, level.reserved) == (4, 6, 2)
    stock_ctx = [kw["context"] for m, meth, kw in backend.sent
                 if m == "product.product" and "virtual_available" in kw.get("fields", [])]
    assert stock_ctx and all(key in c for c in stock_ctx)
    others = {"warehouse", "warehouse_id", "location"} - {key}
    assert not any(o in c for c in stock_ctx for o in others)
    assert stock_ctx[0][key] == (11 if key == "location" else 1)


def test_a_server_that_ignores_the_page_domain_is_an_error_not_an_endless_read() -> None:
    """The variant pages go through the shared paging helper: ``id > last id`` per page (the calls the
    cassettes hold), and the same page answered again ends the read with a message instead of looping."""
    row = {"id": 7, "default_code": "A1", "name": "A", "product_tmpl_id": [1, "A"], "lst_price": 2.5,
           "standard_price": 1.0, "weight": 0.0, "categ_id": False, "active": True,
           "product_template_attribute_value_ids": [], "type": "consu", "currency_id": [2, "EUR"],
           "barcode": False, "description_sale": False, "write_date": "2025-01-01 00:00:00"}
    backend = FakeBackend((17, 0), {("product.product", "fields_get"): NO_STOCK_FIELDS,
                                    ("product.product", "search_read"): [row]})
    settings = OdooSettings(url="http://odoo.example", db="shop", read_stock=False, page_size=1)
    with pytest.raises(SourceError, match=r"Odoo at http://odoo\.example.*same items as page 1"):
        OdooSource(settings, backend=backend).read()
    pages = [kw for m, meth, kw in backend.sent if (m, meth) == ("product.product", "search_read")]
    assert [kw["domain"][-1] for kw in pages] == [("id", ">", 0), ("id", ">", 7)]
    assert all(kw["limit"] == 1 and kw["order"] == "id" for kw in pages)


@pytest.mark.parametrize(("key", "value", "words"), [
    ("page_size", "500x", "a whole number"), ("timeout", "ten", "a number"), ("retries", 2.5, "a whole number"),
    ("read_stock", "no way", "true or false"), ("parallel_calls", True, "a whole number"), ("db", 42, "a text")])
def test_a_setting_of_the_wrong_kind_is_named(key: str, value: Any, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        OdooSettings.from_dict({"url": "http://odoo.example", "db": "shop", key: value})
    assert f"odoo setting {key!r}: expected {words}, got {value!r}" == str(err.value)


@pytest.mark.parametrize(("key", "value"), [("retries", -1), ("retries", 11), ("timeout", 0)])
def test_a_setting_out_of_its_range_is_named(key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=f"odoo setting '{key}' must be"):
        OdooSettings.from_dict({"url": "http://odoo.example", "db": "shop", key: value})


def _row(pid: int, code: Any, tmpl: int) -> dict[str, Any]:
    return {"id": pid, "default_code": code, "name": f"P{pid}", "product_tmpl_id": [tmpl, f"P{pid}"],
            "lst_price": 2.5, "standard_price": 1.0, "weight": 0.0, "categ_id": False, "active": True,
            "product_template_attribute_value_ids": [], "type": "consu", "currency_id": [2, "EUR"],
            "barcode": False, "description_sale": False, "write_date": "2025-01-01 00:00:00"}


def test_an_internal_reference_with_spaces_around_is_read_without_them_and_said() -> None:
    """As the workbook reads a SKU: an order of 'A1' must reserve the stock of the product Odoo holds as ' A1 ',
    and two variants whose references differ by spaces only are the same SKU."""
    rows = [_row(1, "  A1\u00a0", 1), _row(2, "B2 ", 2), _row(3, "B2", 3), _row(4, "   ", 4), _row(5, "C 3", 5)]
    backend = FakeBackend((17, 0), {("product.product", "fields_get"): NO_STOCK_FIELDS,
                                    ("product.product", "search_read"): lambda kw: rows if kw["domain"][-1][2] == 0
                                    else []})
    result = OdooSource(OdooSettings(url="http://odoo.example", db="shop", read_stock=False),
                        backend=backend).read()
    assert [p.key for p in result.products] == ["A1", "C 3"]  # B2 twice: a duplicate; "   ": no reference
    said = [i.reason for i in result.issues]
    assert any("Internal Reference '  A1\\xa0' has spaces around it: read as 'A1'" in r for r in said), said
    assert any("duplicate SKU 'B2'" in r for r in said), said
    assert any("id 4" in r and "no Internal Reference" in r for r in said), said
