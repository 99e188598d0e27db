"""Aleta answering 200 with JSON that does not hold what it says (found by a fault-proxy campaign rewriting its
answers): a product listing cut short must stop the read, never be taken for products withdrawn (disabled and
zeroed on every marketplace)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.sources.aleta import read_profile_source
from connector.sources.aleta.client import AletaError
from connector.sources.aleta.sandbox import SANDBOX_KEY, AletaSandbox
from connector.sync.state import StateStore
from tests.conftest import running_aleta

pytestmark = pytest.mark.sandbox


@pytest.fixture
def aleta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AletaSandbox]:
    with running_aleta(monkeypatch, tmp_path / "aleta.sqlite", variants=60, seed=2, locations=1) as server:
        yield server


def cfg(server: AletaSandbox) -> dict[str, Any]:
    return {"type": "aleta", "base_url": server.url, "currency": "MRU", "page_limit": 5}


def first_pages(server: AletaSandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pages 1 and 2 of the active listing, as the sandbox answers them (5 products a page)."""
    headers = {"Authorization": f"Bearer {SANDBOX_KEY}"}
    first = requests.get(f"{server.api_url}/products", params={"limit": 5, "status": "active"}, headers=headers,
                         timeout=5).json()
    return first, requests.get(f"{server.api_url}/products", headers=headers, timeout=5,
                               params={"limit": 5, "status": "active", "cursor": first["pagination"]["cursor"]}).json()


@pytest.mark.parametrize("spoil", ["one product dropped", "data emptied", "an item that is not an object"])
def test_a_page_that_does_not_hold_what_it_announces_stops_the_read(aleta: AletaSandbox, tmp_path: Path,
                                                                    spoil: str) -> None:
    first_page, second_page = first_pages(aleta)
    odd = copy.deepcopy(second_page)
    assert odd["pagination"]["has_next_page"] and odd["pagination"]["total_fetched"] == 10
    if spoil == "one product dropped":
        del odd["data"][2]
    elif spoil == "data emptied":
        odd["data"] = []
    else:
        odd["data"][2] = None
    with StateStore.open(tmp_path / "state.sqlite") as state:
        first = read_profile_source(cfg(aleta), state, True)
        for (source, name), value in first.cursors.items():
            state.set_cursor(source, name, value)
        # the sandbox answers queued faults in order: page 1 as it is, then the spoilt page 2
        aleta.add_fault(method="GET", path="/products$", status=200, body=first_page, count=1)
        aleta.add_fault(method="GET", path="/products$", status=200, body=odd, count=1)
        with pytest.raises(AletaError, match="page 2 of products"):
            read_profile_source(cfg(aleta), state, True)


def test_pages_that_add_up_are_read_whole(aleta: AletaSandbox, tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "state.sqlite") as state:
        result = read_profile_source(cfg(aleta), state, True)
    assert len(result.products) > 10 and not any("no longer offered" in w for w in result.warnings)


@pytest.mark.parametrize("meaning", ["a grand total", "a count before filtering"])
def test_a_total_fetched_that_means_something_else_is_not_checked(aleta: AletaSandbox, tmp_path: Path,
                                                                  meaning: str) -> None:
    """The document's one example cannot tell what ``total_fetched`` counts: a server whose first page says it
    counts something else than the products returned is read whole, never refused for it."""
    pages = list(first_pages(aleta))
    for n, page in enumerate(pages, 1):
        page["pagination"]["total_fetched"] = 60 if meaning == "a grand total" else 7 * n
        aleta.add_fault(method="GET", path="/products$", status=200, body=page, count=1)
    with StateStore.open(tmp_path / "state.sqlite") as state:
        result = read_profile_source(cfg(aleta), state, True)
    assert len(result.products) > 10 and not any("no longer offered" in w for w in result.warnings)


def answer(server: AletaSandbox, path: str) -> dict[str, Any]:
    return requests.get(f"{server.api_url}{path}", headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
                        timeout=5).json()


@pytest.mark.parametrize("variants", ["missing", None, "x", {}])
def test_a_product_without_a_variants_list_stops_the_read(aleta: AletaSandbox, variants: Any) -> None:
    page = answer(aleta, "/products?limit=250&status=active")
    if variants == "missing":
        del page["data"][0]["variants"]
    else:
        page["data"][0]["variants"] = variants
    aleta.add_fault(method="GET", path="/products$", status=200, body=page, count=1)
    with pytest.raises(AletaError, match="without a 'variants' list"):  # was: its SKUs gone, zeroed
        read_profile_source(cfg(aleta) | {"page_limit": 250}, None, True)


@pytest.mark.parametrize("row", [None, 7, {"sku": None, "locations": []}, {"sku": "x"}, {"sku": "x", "locations": 3}])
def test_a_stock_row_that_cannot_be_read_stops_the_read(aleta: AletaSandbox, row: Any) -> None:
    skus = [v["sku"] for p in answer(aleta, "/products?limit=3&status=active")["data"] for v in p["variants"]]
    body = answer(aleta, "/stock?sku=" + ",".join(skus))
    if isinstance(row, dict) and row.get("sku") == "x":
        row = {**row, "sku": body["data"][0]["sku"]}
    body["data"][0] = row
    aleta.add_fault(method="GET", path="/stock$", status=200, body=body, count=1)
    with pytest.raises(AletaError, match="stock row"):  # was: dropped or read as no location, its SKU listed 0
        read_profile_source(cfg(aleta), None, True)


def test_odd_types_in_a_product_are_no_traceback(aleta: AletaSandbox) -> None:
    page = answer(aleta, "/products?limit=250&status=active")
    page["data"][0]["id"] = ["gid://shopify/Product/1"]
    page["data"][1]["images"] = 7
    aleta.add_fault(method="GET", path="/products$", status=200, body=page, count=1)
    result = read_profile_source(cfg(aleta) | {"page_limit": 250}, None, True)  # was: TypeError
    assert {v.sku for v in result.products[0].variants} == {v["sku"] for v in page["data"][0]["variants"]}
    assert result.products[1].images == [page["data"][1]["featured_image"]["url"]]


SPOILS = {"no status": ("status", None), "an empty status": ("status", ""), "another status": ("status", "published"),
          "ACTIVE": ("status", "ACTIVE"), "a price that is no number": ("client_price", "12,5 MRU"),
          "a SKU that is not text": ("sku", 7)}


@pytest.mark.parametrize("spoil", list(SPOILS))
def test_a_product_held_back_is_left_as_the_marketplace_has_it(aleta: AletaSandbox, tmp_path: Path,
                                                               spoil: str) -> None:
    """A product of one variant in the active listing whose status the document does not list was read as
    inactive (disabled and zeroed on every marketplace, exit 0); one whose only variant is skipped for a data
    problem (a price that is no number) was taken for a product gone, as its key (Aleta's handle) is none of its
    SKUs: zeroed.  Both are skipped with a reason and left as the marketplace has them; a status in other letter
    case is read as the status it spells."""
    from connector.marketplaces.elebne import PLUGIN as ELEBNE
    from connector.sync.runner import SyncOptions, run_sync
    from tests.conftest import running_elebne

    page = answer(aleta, "/products?limit=250&status=active")
    doc = next(p for p in page["data"] if len(p["variants"]) == 1)
    field, value = SPOILS[spoil]
    with running_elebne(tmp_path / "elebne.sqlite") as elebne, StateStore.open(tmp_path / "s.sqlite") as state:
        opts = SyncOptions(target="elebne", state_path=tmp_path / "s.sqlite", secret=ELEBNE.sandbox_key,
                           base_url=elebne.base_url, account="a")
        assert run_sync(read_profile_source(cfg(aleta), state, True), opts, state=state).report.exit_code == 0
        before = elebne.products()
        assert before[doc["handle"]]["quantity"] > 0
        (doc if field == "status" else doc["variants"][0])[field] = value
        aleta.add_fault(method="GET", path="/products$", status=200, body=page, count=1)
        source = read_profile_source(cfg(aleta) | {"page_limit": 250}, state, True)
        report = run_sync(source, opts, state=state).report
        after = elebne.products()
    assert after == before  # nothing disabled, nothing zeroed
    if spoil == "ACTIVE":
        assert report.exit_code == 0
    else:
        assert report.exit_code == 1 and [r.skipped_reason for r in source.rows if r.skipped_reason]
