"""The Aleta client against recorded traffic (cassettes/aleta), replayed with record mode ``none``.

Re-record against the sandbox with ``rm cassettes/aleta/*.yaml; CONNECTOR_RECORD=1 .venv/bin/pytest -p no:cacheprovider
tests/test_aleta_client_cassettes.py``; against a real account add ``ALETA_RECORD_URL=https://.../api/v1`` and
``ALETA_API_KEY=b2b_...``.  Keys are scrubbed in both forms: the ``Authorization`` header is dropped and
``api_key=`` in URLs becomes ``api_key=***`` (tests/vcr_support.py), also when requests are matched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.errors import MarketplaceUnreachable
from connector.sources.aleta.client import AletaClient
from connector.sources.aleta.sandbox import SANDBOX_KEY, create_sandbox
from connector.sources.aleta.sandbox_catalogue import generate
from tests.vcr_support import CASSETTES, RECORDING, make_vcr

CANONICAL_BASE = "https://b2b.aleta.example/api/v1"


@pytest.fixture
def recorder() -> Iterator[Any]:
    """(make_client(auth, key=None), vcr): a client bound to the sandbox when recording, to nothing otherwise."""
    server = None
    base, key = CANONICAL_BASE, "b2b_replayonly_0000"
    if RECORDING:
        base = os.environ.get("ALETA_RECORD_URL", "")
        key = os.environ.get("ALETA_API_KEY", SANDBOX_KEY)
        if not base:
            server = create_sandbox(variants=30, seed=2).start()
            base = server.api_url
    clients: list[AletaClient] = []

    def make(auth: str = "header", wrong_key: bool = False, stock_url_limit: int = 4000) -> AletaClient:
        client = AletaClient.connect(base, "b2b_bad" if wrong_key else key, auth=auth, max_retries=0,
                                     stock_url_limit=stock_url_limit)
        clients.append(client)
        return client

    try:
        yield make, make_vcr("aleta", rewrite_base=(base, CANONICAL_BASE))
    finally:
        for c in clients:
            c.close()
        if server is not None:
            server.stop()


def test_health_locations_pages_single_sku_and_stock(recorder) -> None:
    make, v = recorder
    client = make("header")
    with v.use_cassette("header_auth.yaml") as cassette:
        health = client.health()
        locations = client.locations()
        pages = client.product_pages(limit=3)
        first, second = next(pages), next(pages)
        sku = first.products[0]["variants"][0]["sku"]
        single = client.product(sku)
        missing = client.product("NOPE-404")
        rows = client.stock([v["sku"] for p in first.products for v in p["variants"]])
        one = client.stock_one(sku)
    assert health["status"] == "ok" and health["version"].startswith("1.")
    assert [loc["name"] for loc in locations] == ["Main Warehouse", "Nouakchott Store"]
    assert len(first.products) == 3 and first.has_next_page and first.cursor
    assert {p["id"] for p in first.products}.isdisjoint(p["id"] for p in second.products)
    assert single is not None and [x["sku"] for x in single["variants"]] == [sku]
    assert isinstance(single["variants"][0]["retail_price"], str)  # money as strings, untouched
    assert missing is None
    assert {r["sku"] for r in rows} == {x["sku"] for p in first.products for x in p["variants"]}
    assert one is not None and one["sku"] == sku
    assert client.stats.requests == {"health": 1, "locations": 1, "products": 2, "product": 2, "stock": 2}
    stock_calls = [r for r in cassette.requests if r.path.endswith("/stock")]
    assert len(stock_calls) == 1 and "," in stock_calls[0].uri  # many SKUs, one request
    assert all("Authorization" not in r.headers for r in cassette.requests)


def test_query_auth_and_stock_batched_by_url_length(recorder) -> None:
    make, v = recorder
    client = make("query", stock_url_limit=300)
    with v.use_cassette("query_auth.yaml") as cassette:
        products = client.products(limit=250)
        skus = [x["sku"] for p in products for x in p["variants"]]
        rows = client.stock(skus)
    _locs, generated, _stock = generate(30, seed=2)
    assert skus == [x["sku"] for p in generated if p["status"] == "active" for x in p["variants"]]
    assert all(p["status"] == "active" for p in products)
    assert {r["sku"] for r in rows} == set(skus)
    stock_calls = [r for r in cassette.requests if r.path.endswith("/stock")]
    assert len(stock_calls) == len(client.stock_batches(skus)) > 1
    assert all(len(r.uri) - len(CANONICAL_BASE) + len(client.http.base_url) <= 300 for r in stock_calls)
    assert all("api_key=***" in r.uri for r in cassette.requests)  # scrubbed, and matched scrubbed


def test_refused_key_is_reported_without_the_key(recorder) -> None:
    make, v = recorder
    client = make("query", wrong_key=True)
    with v.use_cassette("refused_key.yaml"), pytest.raises(MarketplaceUnreachable) as exc:
        client.locations()
    assert "HTTP 401" in str(exc.value) and "b2b_bad" not in str(exc.value) and "api_key=" not in str(exc.value)


def test_cassettes_hold_no_key() -> None:
    files = sorted((CASSETTES / "aleta").glob("*.yaml"))
    assert {f.name for f in files} >= {"header_auth.yaml", "query_auth.yaml", "refused_key.yaml"}
    for f in files:
        text = Path(f).read_text(encoding="utf-8")
        assert "b2b_" not in text and "Bearer" not in text and "authorization" not in text.lower(), f.name
