"""The Aleta source: settings, prices, conversion, locations, incremental cursor and snapshot, secrecy."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector.errors import ConfigError
from connector.model import ABSENT
from connector.sources.aleta import AletaSettings, read_profile_source
from connector.sources.aleta.client import AletaClient, parse_time
from connector.sources.aleta.convert import ConvertOptions, convert_products
from connector.sources.aleta.incremental import CURSOR_NAME, SNAPSHOT_NAME, Snapshot
from connector.sources.aleta.pricing import PriceRule, parse_markup, parse_money
from connector.sources.aleta.sandbox import SANDBOX_KEY, AletaSandbox, create_sandbox
from connector.sync.state import StateStore
from connector.sync.stock_policy import StockPolicy


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[AletaSandbox]:
    monkeypatch.setenv("ALETA_API_KEY", SANDBOX_KEY)
    with create_sandbox(variants=120, seed=4, locations=3) as server:
        yield server


def cfg(server: AletaSandbox, **extra: object) -> dict:
    return {"type": "aleta", "base_url": server.url, **extra}


# -- prices ------------------------------------------------------------------------------------------------

def test_money_strings_stay_exact_without_markup() -> None:
    assert str(PriceRule().apply(parse_money("49.90"))) == "49.90"
    assert str(parse_money("0.10")) == "0.10" and parse_money("") is None and parse_money(None) is None
    for bad in ("12,5", "abc", "NaN", 12.5, True):
        with pytest.raises(ValueError):
            parse_money(bad)


@pytest.mark.parametrize(("markup", "base", "expected"), [
    ({"percent": 30}, "34.93", "45.41"),  # 45.409 half up
    ({"percent": 30, "ending": "0.90"}, "34.93", "45.90"),
    ({"percent": 30, "ending": "0.90"}, "10.00", "13.90"),
    ({"ending": "0.90"}, "45.90", "45.90"),  # already ends in .90: unchanged
    ({"ending": "0.90"}, "45.95", "46.90"),  # never rounds below the computed price
    ({"fixed": "2.50"}, "49.90", "52.40"),
    ({"percent": "12.5", "step": "0.05"}, "10.00", "11.25"),
    ({"percent": -10}, "49.90", "44.91"),
])
def test_markup_rules(markup: dict, base: str, expected: str) -> None:
    price = parse_markup("client_price", markup).apply(Decimal(base))
    assert isinstance(price, Decimal) and str(price) == expected


def test_bad_price_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="price_field"):
        PriceRule(field="cheapest_price")
    with pytest.raises(ConfigError, match="either 'step' or 'ending'"):
        parse_markup("retail_price", {"step": "0.05", "ending": "0.90"})
    with pytest.raises(ConfigError, match="unknown aleta markup"):
        parse_markup("retail_price", {"percentage": 3})
    with pytest.raises(ConfigError, match="'percent' must be a number"):
        parse_markup("retail_price", {"percent": "a lot"})


# -- settings ----------------------------------------------------------------------------------------------

def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALETA_BASE_URL", "https://b2b.aleta.example")
    monkeypatch.setenv("ALETA_AUTH", "query")
    monkeypatch.setenv("ALETA_PRICE_FIELD", "client_price")
    monkeypatch.setenv("ALETA_MARKUP_PERCENT", "40")
    monkeypatch.setenv("ALETA_PRICE_ENDING", "0.90")
    monkeypatch.setenv("ALETA_LOCATIONS", "Main Warehouse, Dakar Depot")
    monkeypatch.setenv("ALETA_CURRENCY", "eur")
    s = AletaSettings.from_config({"type": "aleta", "from_env": True})
    assert s.api_base == "https://b2b.aleta.example/api/v1" and s.auth == "query"
    assert s.price == PriceRule("client_price", Decimal(40), ending=Decimal("0.90"))
    assert s.locations == ["Main Warehouse", "Dakar Depot"] and s.currency == "EUR"


def test_settings_errors_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALETA_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="base_url"):
        AletaSettings.from_config({"type": "aleta", "from_env": True})
    with pytest.raises(ConfigError, match="unknown aleta setting"):
        AletaSettings.from_config({"type": "aleta", "base_url": "https://x.example", "pricefield": "x"})
    with pytest.raises(ConfigError, match="'auth'"):
        AletaSettings.from_config({"type": "aleta", "base_url": "https://x.example", "auth": "cookie"})
    with pytest.raises(ConfigError, match="query string"):
        AletaSettings.from_config({"type": "aleta", "base_url": "https://x.example/?api_key=b2b_123456789"})


def test_missing_key_is_a_config_error(sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ALETA_API_KEY")
    monkeypatch.setenv("CONNECTOR_CREDENTIALS", str(tmp_path / "none.yaml"))
    with pytest.raises(ConfigError, match="ALETA_API_KEY"):
        read_profile_source(cfg(sandbox), None, True)


# -- conversion --------------------------------------------------------------------------------------------

DOC = {
    "id": "gid://shopify/Product/1", "title": "Product Name", "handle": "product-name", "vendor": "Brand Name",
    "product_type": "Category", "status": "active", "updated_at": "2026-03-01T10:00:00Z",
    "featured_image": {"url": "https://cdn.example/main.jpg", "alt": ""},
    "images": [{"url": "https://cdn.example/main.jpg", "alt": ""}, {"url": "https://cdn.example/b.jpg"}],
    "variants": [
        {"id": "v1", "sku": "REF-001-BLK", "title": "Black / M", "retail_price": "49.90", "client_price": "34.93",
         "barcode": "3700123456789", "weight": Decimal("500"), "weight_unit": "g"},
        {"id": "v2", "sku": "REF-001-RED", "title": "Red / M", "retail_price": None, "client_price": "34.93"},
        {"id": "v3", "sku": "REF-001-BLU", "title": "Blue / M", "retail_price": "4,99", "client_price": "1"},
        {"id": "v4", "sku": "", "title": "Green / M", "retail_price": "49.90"},
    ],
}


def test_conversion_prices_weights_attributes_and_bad_variants() -> None:
    opts = ConvertOptions(price=PriceRule(), cost_field="client_price", currency="EUR", option_names=("Color",))
    out = convert_products([DOC], opts)
    [product] = out.products
    assert (product.key, product.name, product.brand, product.category_path) == (
        "product-name", "Product Name", "Brand Name", ["Category"])
    assert product.images == ["https://cdn.example/main.jpg", "https://cdn.example/b.jpg"]
    assert product.description is ABSENT  # Aleta has none: don't touch
    [v] = product.variants
    assert v.attributes == {"Color": "Black", "Option 2": "M"}
    assert str(v.price.amount) == "49.90" and v.price.currency == "EUR" and str(v.cost.amount) == "34.93"
    assert v.weight == Decimal("0.5") and v.barcode == "3700123456789"
    reasons = {r.sku: r.skipped_reason for r in out.rows}
    assert reasons["REF-001-BLK"] is None
    assert "no retail_price" in reasons["REF-001-RED"]
    assert "not a decimal number" in reasons["REF-001-BLU"]
    assert "has no SKU" in reasons[None]
    assert len(out.issues) == 3


def test_single_default_title_variant_is_a_simple_product() -> None:
    doc = {**DOC, "variants": [{**DOC["variants"][0], "title": "Default Title"}]}
    [product] = convert_products([doc], ConvertOptions(PriceRule(), None, "EUR")).products
    assert not product.has_variants and product.variants[0].cost is ABSENT


# -- reading from the sandbox --------------------------------------------------------------------------------

def test_locations_setting_keeps_only_those_and_policy_sums_them(sandbox) -> None:
    result = read_profile_source(cfg(sandbox, locations=["main warehouse", "gid://shopify/Location/3"]), None, True)
    variants = [v for p in result.products for v in p.variants]
    assert variants and all(set(v.stock) == {"Main Warehouse", "Dakar Depot"} for v in variants)
    StockPolicy().apply(result.products)
    v = variants[0]
    assert v.qty == max(0, sum(level.available for level in v.stock.values()))
    with pytest.raises(ConfigError, match=r"no active location 'Paris'.*Main Warehouse"):
        read_profile_source(cfg(sandbox, locations=["Paris"]), None, True)


def test_one_location_uses_the_server_side_filter(sandbox) -> None:
    mark = max((r["id"] for r in sandbox.requests_log()), default=0)
    result = read_profile_source(cfg(sandbox, locations=["Dakar Depot"]), None, True)
    assert all(set(v.stock) == {"Dakar Depot"} for p in result.products for v in p.variants)
    stock_calls = [r for r in sandbox.requests_log(mark) if r["path"] == "/api/v1/stock"]
    assert stock_calls and all("location_id=" in r["query"] for r in stock_calls)


def test_requests_pages_and_stock_batches(sandbox) -> None:
    mark = max((r["id"] for r in sandbox.requests_log()), default=0)
    result = read_profile_source(cfg(sandbox, page_limit=20, stock_url_limit=600), None, True)
    log = sandbox.requests_log(mark)
    products = len(result.products)
    pages = [r for r in log if r["path"] == "/api/v1/products"]
    assert len(pages) == -(-products // 20)
    skus = [v.sku for p in result.products for v in p.variants]
    stock = [r for r in log if r["path"] == "/api/v1/stock"]
    assert 1 < len(stock) < len(skus)
    assert all(len(sandbox.url) + len(r["path"]) + 1 + len(r["query"]) <= 600 for r in stock)


def test_url_too_long_splits_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALETA_API_KEY", SANDBOX_KEY)
    with create_sandbox(variants=200, seed=4, max_url_length=700) as server:
        result = read_profile_source(cfg(server), None, True)
        statuses = [r["status"] for r in server.requests_log() if r["path"] == "/api/v1/stock"]
    assert 414 in statuses
    assert all(v.stock_known and v.stock for p in result.products for v in p.variants)


def test_query_auth_never_logs_the_key(sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    result = read_profile_source(cfg(sandbox, auth="query"), None, True)
    assert result.products
    queries = [r["query"] for r in sandbox.requests_log()]
    assert all(f"api_key={SANDBOX_KEY}" in q for q in queries if q)  # it was sent in the query string...
    assert "GET /api/v1/products" in caplog.text or "/api/v1/products" in caplog.text
    assert SANDBOX_KEY not in caplog.text  # ...and never logged (urllib3 logs URLs at debug level)
    assert SANDBOX_KEY not in repr(result.warnings) + repr(result.issues)


def test_missing_stock_rows(sandbox) -> None:
    sandbox.store.query("DELETE FROM aleta_stock WHERE inventory_item_id IN (SELECT inventory_item_id FROM "
                        "aleta_variants WHERE sku = 'ALT-00001')")
    zero = read_profile_source(cfg(sandbox), None, True)
    v = next(v for p in zero.products for v in p.variants if v.sku == "ALT-00001")
    assert v.stock_known and v.stock == {} and any("no stock row" in w for w in zero.warnings)
    unknown = read_profile_source(cfg(sandbox, missing_stock="unknown"), None, True)
    v = next(v for p in unknown.products for v in p.variants if v.sku == "ALT-00001")
    assert not v.stock_known


# -- incremental ---------------------------------------------------------------------------------------------

def commit(state: StateStore, cursors: dict) -> None:
    for (src, name), value in cursors.items():
        state.set_cursor(src, name, value)


def test_incremental_cursor_overlap_snapshot_and_stock_every_run(sandbox, tmp_path: Path) -> None:
    settings = AletaSettings.from_config(cfg(sandbox))
    with StateStore.open(tmp_path / "state.sqlite") as state:
        first = read_profile_source(cfg(sandbox), state, False)
        assert state.get_cursor(settings.cursor_source, CURSOR_NAME) is None  # nothing stored by the source
        commit(state, first.cursors)
        cursor = parse_time(first.cursors[(settings.cursor_source, CURSOR_NAME)])
        snapshot = Snapshot.decode(first.cursors[(settings.cursor_source, SNAPSHOT_NAME)])
        assert snapshot is not None and len(snapshot.products) == len(first.products)

        some = first.products[0].variants[0].sku
        sandbox.update_variant(some, retail_price="12.34")
        sandbox.set_stock(first.products[-1].variants[0].sku, available=321)
        mark = max((r["id"] for r in sandbox.requests_log()), default=0)
        second = read_profile_source(cfg(sandbox), state, False)
        log = sandbox.requests_log(mark)
    listed = [r for r in log if r["path"] == "/api/v1/products"]
    since = f"updated_since={(cursor - timedelta(seconds=300)).strftime('%Y-%m-%dT%H%%3A%M%%3A%SZ')}"
    assert len(listed) == 3 and all(since in r["query"] for r in listed)  # active + draft + archived
    assert [p.key for p in second.products] == [p.key for p in first.products]  # the rest from the snapshot
    changed = next(v for p in second.products for v in p.variants if v.sku == some)
    assert str(changed.price.amount) == "12.34"
    last = second.products[-1].variants[0]
    assert last.stock["Main Warehouse"].available == 321  # stock re-read although updated_at did not move


def test_cursor_accounts_for_cached_responses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALETA_API_KEY", SANDBOX_KEY)
    with create_sandbox(variants=30, cache_ttl={"products": 600}) as server:
        read_profile_source(cfg(server), None, True)  # fills the cache
        server.advance(120)
        result = read_profile_source(cfg(server), None, True)
    settings = AletaSettings.from_config(cfg(server))
    cursor = parse_time(result.cursors[(settings.cursor_source, CURSOR_NAME)])
    assert any("from its cache" in w for w in result.warnings)
    # The cached data is 120 s old: the cursor is at least that far behind the sandbox clock.
    assert cursor is not None and server.now() - cursor.timestamp() >= 120


def test_withdrawn_products_are_disabled_with_zero_stock(sandbox, tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "state.sqlite") as state:
        first = read_profile_source(cfg(sandbox), state, False)
        commit(state, first.cursors)
        gone = first.products[1]
        sandbox.update_product(gone.extra["aleta_id"], status="archived")
        incremental = read_profile_source(cfg(sandbox), state, False)
        full = read_profile_source(cfg(sandbox), state, True)  # the committed snapshot still has it
    for result in (incremental, full):
        withdrawn = next(p for p in result.products if p.key == gone.key)
        assert not withdrawn.active and all(not v.active and v.stock_known and not v.stock
                                            for v in withdrawn.variants)
        assert any("no longer offered" in w for w in result.warnings)


def test_changed_filters_mean_a_full_read(sandbox, tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "state.sqlite") as state:
        commit(state, read_profile_source(cfg(sandbox), state, False).cursors)
        mark = max((r["id"] for r in sandbox.requests_log()), default=0)
        vendor = read_profile_source(cfg(sandbox, vendor="Atlas Home"), state, False)
    assert all(p.brand == "Atlas Home" for p in vendor.products) and vendor.products
    assert all("updated_since" not in r["query"] for r in sandbox.requests_log(mark))


def test_client_rejects_bad_limit() -> None:
    client = AletaClient.connect("http://127.0.0.1:9/api/v1", "b2b_x")
    with pytest.raises(ValueError):
        next(client.product_pages(limit=251))
    client.close()
