"""`connector sync` from Aleta (behind the fault proxy, tests/fault_proxy.py) to the Elebne sandbox, with a state
where the catalogue was already pushed once.  A later page of the product listing (or a stock batch) that cannot
be read or contradicts itself, after the retries, used to end the run with exit 2 (a configuration error to cron,
which then waits for a person); nothing was sent.  It is an answer to read again: the run is deferred (exit 3),
nothing is written on the marketplace (no product taken for withdrawn, no stock 0), the message names the page,
and the cursors stay where they were, so the next run reads what this one could not."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_OK, EXIT_PARTIAL
from connector.marketplaces.elebne import PLUGIN as ELEBNE
from connector.sources.aleta.sandbox import AletaSandbox
from connector.sync.state import StateStore
from tests.conftest import SandboxHandle, running_aleta
from tests.fault_proxy import REWRITE, FaultProxy

pytestmark = pytest.mark.sandbox
Rewrite = Callable[[Any], Any]


@pytest.fixture
def aleta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AletaSandbox]:
    with running_aleta(monkeypatch, tmp_path / "aleta.sqlite", variants=30, seed=2, locations=2) as server:
        yield server


@pytest.fixture
def proxy(aleta: AletaSandbox, elebne_sandbox: SandboxHandle, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """The proxy in front of Aleta, after a first sync that pushed the catalogue to Elebne (exit 0)."""
    monkeypatch.setattr("connector.http.client.backoff_seconds", lambda *_args: 0.01)
    server = FaultProxy(aleta.api_url)
    monkeypatch.setenv("ALETA_BASE_URL", server.url)
    monkeypatch.setenv("ALETA_PAGE_LIMIT", "4")  # 3 pages of active products
    monkeypatch.setenv("ALETA_CURRENCY", "MRU")
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE.sandbox_key)
    try:
        assert sync(elebne_sandbox, tmp_path) == EXIT_OK
        yield server
    finally:
        server.close()


def sync(elebne: SandboxHandle, tmp_path: Path, *extra: str) -> int:
    return main(["sync", "--source", "aleta", "--target", "elebne", "--base-url", elebne.base_url,
                 "--state", str(tmp_path / "state.sqlite"), "--no-progress", "--report", str(tmp_path / "r.json"),
                 *extra])


def cursors(tmp_path: Path) -> dict[tuple[str, str], str | None]:
    with StateStore.open(tmp_path / "state.sqlite") as state:
        sources = [row[0] for row in state._conn.execute("SELECT DISTINCT source FROM cursors")]
        return {(src, name): state.get_cursor(src, name) for src in sources for name in ("updated_since", "catalogue")}


def _pagination(**fields: Any) -> Rewrite:
    return lambda body: {**body, "pagination": {**body["pagination"], **fields}}


PAGES: dict[str, tuple[str, Rewrite | None, str]] = {
    # a fault on page 2 of the active products, every time it is asked: (kind, rewrite, what the message says)
    "a 200 HTML page": ("html-200", None, "page 2 of active products) with something that is not JSON"),
    "a body cut behind its length": ("cut-framed", None, "page 2 of active products) with something that is not"),
    "a gateway's 502 page": ("html-502", None, "still answered HTTP 502 on GET /products (page 2 of active"),
    "an empty list before the end": (REWRITE, lambda body: {**body, "data": []}, "page 2 of products"),
    "a product fewer than total_fetched counts": (REWRITE, lambda body: {**body, "data": body["data"][1:]},
                                                  "page 2 of products with 3 product(s) (7 so far) but "
                                                  "pagination.total_fetched 8"),
    "total_fetched past what was sent": (REWRITE, _pagination(total_fetched=9), "pagination.total_fetched 9"),
    "a list where the object is": (REWRITE, lambda body: body["data"], "page 2 of active products) with no JSON "
                                                                       "object"),
    "no data list": (REWRITE, lambda body: {k: v for k, v in body.items() if k != "data"},
                     "page 2 of active products) without a 'data' list"),
    "an item that is no product": (REWRITE, lambda body: {**body, "data": [*body["data"][:-1], "x"]},
                                   "page 2 of products with item 4 that is not a product object"),
}


@pytest.mark.parametrize("page", PAGES)
def test_a_later_page_that_cannot_be_read_defers_the_run(page: str, proxy: FaultProxy, elebne_sandbox: SandboxHandle,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kind, rewrite, said = PAGES[page]
    before, mark = cursors(tmp_path), elebne_sandbox.last_id()
    proxy.fail(kind, method="GET", path="/products$", query=r"status=active.*&cursor=", rewrite=rewrite, count=100)
    capsys.readouterr()
    code = sync(elebne_sandbox, tmp_path, "--full")  # a full read: a product not listed is taken for withdrawn
    err = " ".join(capsys.readouterr().err.split())
    assert proxy.faulted(), "page 2 was not faulted"
    assert code == EXIT_PARTIAL, err  # was 2: "unusable configuration" to cron
    assert said in err and "nothing sent, the next run reads again" in err, err
    assert elebne_sandbox.writes(mark) == []  # nothing disabled, nothing zeroed
    assert cursors(tmp_path) == before


def test_a_stock_batch_that_cannot_be_read_defers_the_run(proxy: FaultProxy, elebne_sandbox: SandboxHandle,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before, mark = cursors(tmp_path), elebne_sandbox.last_id()
    proxy.fail("html-200-after", method="GET", path="/stock$", count=100)
    capsys.readouterr()
    code = sync(elebne_sandbox, tmp_path)
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_PARTIAL and "GET /stock with something that is not JSON" in err, err
    assert elebne_sandbox.writes(mark) == [] and cursors(tmp_path) == before


def test_an_incremental_read_failing_mid_way_keeps_its_cursor(aleta: AletaSandbox, proxy: FaultProxy,
                                                              elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    """Page 2 of the products changed since the cursor cannot be read: the cursor (and the catalogue snapshot)
    stays, nothing is sent, and the next run reads every change again, those of page 3 included."""
    rows = aleta.store.query("SELECT doc FROM aleta_products WHERE status = 'active' ORDER BY seq")
    products = [json.loads(row["doc"]) for row in rows]
    aleta.advance(60)
    for doc in products:  # every active product changed: 3 pages of changes
        aleta.update_product(doc["id"], title=doc["title"] + " v2")
    before, mark = cursors(tmp_path), elebne_sandbox.last_id()
    proxy.fail("html-200", method="GET", path="/products$", query=r"status=active.*&cursor=", count=100)
    assert sync(elebne_sandbox, tmp_path) == EXIT_PARTIAL  # was 2
    assert elebne_sandbox.writes(mark) == [] and cursors(tmp_path) == before
    proxy.faults.clear()
    assert sync(elebne_sandbox, tmp_path) == EXIT_OK
    assert cursors(tmp_path) != before
    names = {p["name"] for p in elebne_sandbox.products().values()}
    assert {doc["title"] + " v2" for doc in products} <= names  # the last page's changes too


def _first_location(field: str, value: Any) -> Rewrite:
    def rewrite(body: Any) -> Any:
        location = body["data"][0]["locations"][0]
        if field == "location_id":
            location["location_id"] = value
        elif field == "quantities":
            location["quantities"] = value
        else:
            location["quantities"][field] = value
        return body

    return rewrite


STOCK_VALUES: dict[str, tuple[str, Any, str]] = {
    "a fraction": ("available", 2.5, "available at location 'gid://shopify/Location/1' is 2.5, not a "
                                     "whole number"),
    "text": ("available", "lots", "available at location 'gid://shopify/Location/1' is 'lots', not a whole number"),
    "a number as text": ("on_hand", "12", "on_hand at location 'gid://shopify/Location/1' is '12', not a whole"),
    "true": ("available", True, "available at location 'gid://shopify/Location/1' is True, not a whole number"),
    "a location id that is a number": ("location_id", 1, "a location whose id is no text (location_id 1)"),
    "no location id": ("location_id", None, "a location whose id is no text (location_id None)"),
    "quantities that are a list": ("quantities", [1], "has no 'quantities' object ([1])"),
}


@pytest.mark.parametrize("spoil", STOCK_VALUES)
def test_a_stock_value_of_the_wrong_type_leaves_that_sku_as_it_is(
        spoil: str, proxy: FaultProxy, elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    """Was: 2.5 listed as 2, "12" as 12, text or true as unknown (0 once summed), a location without its id text
    summed under a made-up name or dropped (exit 0)."""
    field, value, said = STOCK_VALUES[spoil]
    mark = elebne_sandbox.last_id()
    proxy.fail(REWRITE, method="GET", path="/stock$", rewrite=_first_location(field, value))
    assert sync(elebne_sandbox, tmp_path, "--full") == 1
    assert elebne_sandbox.writes(mark) == []  # the SKU's quantity left as it was, the others unchanged
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    skipped = [r for r in report["rows"] if r["status"] == "skipped"]
    assert len(skipped) == 1 and skipped[0]["sku"], report["rows"]
    sku = skipped[0]["sku"]
    reason = skipped[0]["reason"]
    assert reason.startswith(f"stock of '{sku}' at Aleta: ") and said in reason, reason
    assert reason.endswith("; left as the marketplaces have it"), reason
    assert [r["status"] for r in report["rows"] if r["sku"] == sku] == ["unchanged", "skipped"]  # its product row


def _second_variant(field: str, value: Any) -> Rewrite:
    def rewrite(body: Any) -> Any:
        product = next(p for p in body["data"] if len(p["variants"]) > 1)
        product["variants"][1][field] = value
        return body

    return rewrite


VARIANT_VALUES: dict[str, tuple[str, Any, str]] = {
    "a SKU that is a fraction": ("sku", 1.5, "has a SKU that is not text"),
    "a SKU that is true": ("sku", True, "has a SKU that is not text"),
    "no SKU": ("sku", None, "has no SKU"),
    "a price that is text": ("retail_price", "abc", "retail_price: not a decimal number: 'abc'"),
    "a price that is NaN": ("retail_price", "NaN", "retail_price: not a finite number: 'NaN'"),
}


@pytest.mark.parametrize("spoil", VARIANT_VALUES)
def test_a_variant_value_of_the_wrong_type_skips_it_and_takes_nothing_off_sale(
        spoil: str, proxy: FaultProxy, elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    """The second variant of a product answered with a SKU of the wrong type (or none): its SKU used to be taken
    for one that left the source, and its quantity set to 0 on Elebne (exit 1, the skipped row the only sign).
    Now the SKU it carried before is left as it is (the spreadsheet's rule for a row refused for its SKU cell).
    A price of the wrong type skips the variant, its SKU left as it is (guarded here: the reason names the field).
    """
    field, value, said = VARIANT_VALUES[spoil]
    before = elebne_sandbox.products()
    proxy.fail(REWRITE, method="GET", path="/products$", query=r"^limit=4&status=active(?!.*cursor)",
               rewrite=_second_variant(field, value))
    assert sync(elebne_sandbox, tmp_path, "--full") == 1
    assert proxy.faulted()
    assert elebne_sandbox.products() == before  # no quantity set to 0
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    reasons = [str(r["reason"]) for r in report["rows"] if r["status"] == "skipped"]
    assert any(said in r for r in reasons), reasons
    assert not [r for r in report["rows"] if r["reason"] == "no longer in source"], report["rows"]


@pytest.mark.parametrize("cut", ["an empty list", "a row dropped"])
def test_a_stock_answer_cut_short_lists_no_sku_at_0(cut: str, proxy: FaultProxy, elebne_sandbox: SandboxHandle,
                                                    tmp_path: Path) -> None:
    """Every /stock batch answered without (some of) its rows: those SKUs were taken for SKUs without a stock
    row, listed at 0 (``missing_stock: zero``).  Now each SKU left out is asked again alone (GET /stock/{sku}),
    which answers its row: nothing changes."""
    before, mark = elebne_sandbox.products(), elebne_sandbox.last_id()
    rewrite = (lambda body: {**body, "data": []}) if cut == "an empty list" else (
        lambda body: {**body, "data": body["data"][1:]})
    proxy.fail(REWRITE, method="GET", path="/stock$", rewrite=rewrite, count=100)
    assert sync(elebne_sandbox, tmp_path) == EXIT_OK
    assert proxy.faulted()
    assert elebne_sandbox.products() == before and elebne_sandbox.writes(mark) == []


def test_a_listing_that_says_it_ended_too_soon_takes_nothing_off_sale(
        proxy: FaultProxy, elebne_sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Page 2 of a full read says ``has_next_page: false`` (its ``total_fetched`` consistent): Aleta's paging fields
    cannot show that the listing ended early, and the products of page 3 were disabled and zeroed (exit 0).  Each
    product a full read no longer lists is now asked for by one of its SKUs: one still active means the listing
    was cut short, and the run is deferred."""
    before, mark = cursors(tmp_path), elebne_sandbox.last_id()
    proxy.fail(REWRITE, method="GET", path="/products$", query=r"status=active.*&cursor=", count=100,
               rewrite=_pagination(has_next_page=False))
    capsys.readouterr()
    code = sync(elebne_sandbox, tmp_path, "--full")
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_PARTIAL, err
    assert "Aleta's listing of active products ended without product" in err and "cut short" in err, err
    assert elebne_sandbox.writes(mark) == [] and cursors(tmp_path) == before
