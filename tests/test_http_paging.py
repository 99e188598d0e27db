"""The shared paging helper: page number, offset and cursor listings, their ends, the repeat guard, the page cap,
and every client's listing stopping with a clear error on a marketplace that does not advance."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.errors import MarketplaceUnreachable
from connector.http import HttpClient, Paging, PagingError, iter_items, iter_pages
from connector.marketplaces.ecomlinx.client import EcomLinxClient
from connector.marketplaces.ecomlinx.sandbox import SCALE_KEY
from connector.marketplaces.ecomlinx.sandbox import create_sandbox as create_ecomlinx
from connector.marketplaces.elebne.client import ElebneClient
from connector.marketplaces.elryan import PLUGIN as ELRYAN
from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.marketplaces.elryan.client import ElryanClient
from connector.sources.aleta.client import AletaClient, AletaError
from connector.sources.aleta.sandbox import SANDBOX_KEY as ALETA_KEY
from connector.sources.aleta.sandbox import create_sandbox as create_aleta
from tests.conftest import ELEBNE_KEY, SandboxHandle


class Server:
    """Answers in order, recording the paging parameters of every request."""

    def __init__(self, answers: list[Any] | Callable[[dict[str, Any]], Any]) -> None:
        self.answers = answers
        self.sent: list[dict[str, Any]] = []

    def __call__(self, params: dict[str, Any]) -> Any:
        self.sent.append(dict(params))
        if callable(self.answers):
            return self.answers(params)
        return self.answers[len(self.sent) - 1]


# -- page numbers ------------------------------------------------------------------------------------------------

def test_page_style_sends_page_and_size_and_ends_when_has_more_is_false() -> None:
    server = Server([{"items": [1, 2], "hasMore": True}, {"items": [3], "hasMore": False}])
    paging = Paging("page", items="items", size=2, has_more="hasMore")
    assert list(iter_items(paging, server)) == [1, 2, 3]
    assert server.sent == [{"page": 1, "limit": 2}, {"page": 2, "limit": 2}]


def test_page_style_ends_on_an_empty_page_even_if_it_says_more() -> None:
    server = Server([{"items": [1], "hasMore": True}, {"items": [], "hasMore": True}])
    assert list(iter_items(Paging("page", items="items", has_more="hasMore"), server)) == [1]
    assert len(server.sent) == 2


def test_page_style_ends_at_the_total_or_on_a_page_shorter_than_the_server_s_limit() -> None:
    paging = Paging("page", items="data", size=100, total="meta.total", answer_size="meta.limit")
    by_total = Server([{"data": [1, 2], "meta": {"total": 4, "limit": 2}},
                       {"data": [3, 4], "meta": {"total": 4, "limit": 2}}])
    assert list(iter_items(paging, by_total)) == [1, 2, 3, 4] and len(by_total.sent) == 2
    short = Server([{"data": [1, 2], "meta": {"limit": 2}}, {"data": [3], "meta": {"limit": 2}}])
    assert list(iter_items(paging, short)) == [1, 2, 3] and len(short.sent) == 2
    assert short.sent[1] == {"page": 2, "limit": 100}


def test_pages_carry_their_token_answer_and_next_token() -> None:
    server = Server([{"items": ["a"], "hasMore": True, "n": 1}, {"items": ["b"], "hasMore": False, "n": 2}])
    pages = list(iter_pages(Paging("page", items="items", has_more="hasMore", first=0, param="p"), server))
    assert [(p.number, p.token, p.items, p.has_more, p.next_token) for p in pages] == [
        (1, 0, ["a"], True, 1), (2, 1, ["b"], False, None)]
    assert pages[1].answer["n"] == 2
    assert server.sent == [{"p": 0}, {"p": 1}]


class Contradicted(Exception):
    pass


CHECKED = Paging("page", items="data", size=2, total="meta.total", answer_size="meta.limit", checked=True,
                 contradiction=Contradicted)


def _page(items: list[int], total: Any) -> dict[str, Any]:
    return {"data": items, "meta": {"total": total, "limit": 2}}


def test_a_checked_listing_reads_past_its_total_to_an_empty_page() -> None:
    server = Server([_page([1, 2], 4), _page([3, 4], 4), _page([], 4)])
    assert list(iter_items(CHECKED, server)) == [1, 2, 3, 4] and len(server.sent) == 3


@pytest.mark.parametrize(("pages", "said"), [
    ([_page([1, 2], 5), _page([], 5)], "2 items read, total said 5 (page 2 was empty before the total was read)"),
    ([_page([1, 2], 5), _page([3], 5)], "3 items read, total said 5 (page 2 (1 items) ended the listing before"),
    ([_page([1, 2], 3), _page([3, 4], 3)], "4 items read, total said 3 (page 2 went past the total)"),
])
def test_a_checked_listing_whose_pages_contradict_its_total_is_an_error(pages: list[Any], said: str) -> None:
    with pytest.raises(Contradicted, match=re.escape(f"the server's listing of items contradicted itself: {said}")) \
            as caught:
        list(iter_items(CHECKED, Server(pages)))
    assert caught.value.contradicted is True  # type: ignore[attr-defined]  # a run defers it (sync.answers)


def test_a_checked_listing_whose_total_changes_while_it_is_read_is_read_to_its_end() -> None:
    """An order placed while a busy account's listing is read changes its total: not an error (it would defer
    that account's every orders read), but its count is no longer held to a total (the next run reads again)."""
    server = Server([_page([1, 2], 4), _page([3, 4], 6), _page([5], 7)])
    assert list(iter_items(CHECKED, server)) == [1, 2, 3, 4, 5] and len(server.sent) == 3


def test_a_checked_listing_with_an_empty_page_that_says_more_is_an_error() -> None:
    paging = Paging("page", items="items", has_more="hasMore", checked=True, contradiction=Contradicted)
    with pytest.raises(Contradicted, match=r"1 items read \(page 2 was empty yet said there are more\)"):
        list(iter_items(paging, Server([{"items": [1], "hasMore": True}, {"items": [], "hasMore": True}])))


def test_a_checked_listing_whose_total_is_no_whole_number_is_an_error_not_skipped() -> None:
    with pytest.raises(Contradicted, match=r"page 1 of items with the total '4', not a whole number") as caught:
        list(iter_items(CHECKED, Server([_page([1, 2], "4")])))
    assert not getattr(caught.value, "contradicted", False)  # a misread answer, not a listing that changed


# -- offsets -----------------------------------------------------------------------------------------------------

def test_offset_style_advances_by_the_items_received_and_ends_on_a_short_page() -> None:
    data = list(range(5))
    server = Server(lambda p: data[p["start"]:p["start"] + p["length"]])
    paging = Paging("offset", param="start", size=2, size_param="length", short_page_ends=True)
    assert list(iter_items(paging, server)) == data
    assert server.sent == [{"start": 0, "length": 2}, {"start": 2, "length": 2}, {"start": 4, "length": 2}]


def test_offset_style_with_an_exact_multiple_reads_one_empty_page() -> None:
    data = list(range(4))
    server = Server(lambda p: data[p["start"]:p["start"] + p["length"]])
    paging = Paging("offset", param="start", size=2, size_param="length", short_page_ends=True)
    assert list(iter_items(paging, server)) == data
    assert [p["start"] for p in server.sent] == [0, 2, 4]


# -- cursors -----------------------------------------------------------------------------------------------------

def test_cursor_style_follows_the_cursor_and_sends_none_on_the_first_request() -> None:
    server = Server([{"data": [1], "pagination": {"has_next_page": True, "cursor": "c1"}},
                     {"data": [], "pagination": {"has_next_page": True, "cursor": "c2"}},
                     {"data": [2], "pagination": {"has_next_page": False, "cursor": "c3"}}])
    paging = Paging("cursor", items="data", size=50, has_more="pagination.has_next_page",
                    next_cursor="pagination.cursor", empty_page_ends=False)
    pages = list(iter_pages(paging, server))
    assert [p.items for p in pages] == [[1], [], [2]]
    assert pages[-1].next_token is None
    assert server.sent == [{"limit": 50}, {"cursor": "c1", "limit": 50}, {"cursor": "c2", "limit": 50}]


def test_cursor_style_without_a_flag_ends_when_no_cursor_comes_back() -> None:
    server = Server([{"items": [1], "next": "x"}, {"items": [2], "next": None}])
    assert list(iter_items(Paging("cursor", items="items", next_cursor="next"), server)) == [1, 2]
    assert server.sent == [{}, {"cursor": "x"}]


# -- repeat guard, page cap ----------------------------------------------------------------------------------------

def test_a_cursor_that_repeats_is_an_error_not_a_loop() -> None:
    server = Server(lambda p: {"data": [p.get("cursor") or "first"], "more": True, "next": "same"})
    paging = Paging("cursor", items="data", has_more="more", next_cursor="next", source="Shop", what="orders")
    with pytest.raises(PagingError, match="Shop said there is a next page of orders but sent no new cursor"):
        list(iter_items(paging, server))
    assert len(server.sent) == 2


def test_more_pages_without_a_cursor_is_an_error() -> None:
    server = Server([{"data": [1], "more": True, "next": ""}])
    with pytest.raises(PagingError, match="no new cursor"):
        list(iter_items(Paging("cursor", items="data", has_more="more", next_cursor="next"), server))


def test_a_page_that_repeats_earlier_items_is_an_error() -> None:
    """A server that ignores the page parameter answers page 1 forever."""
    server = Server(lambda p: {"items": [{"id": 1}, {"id": 2}], "hasMore": True})
    paging = Paging("page", items="items", has_more="hasMore", source="Elebne", what="products")
    got: list[Any] = []
    with pytest.raises(PagingError, match="page 2 of products with the same items as page 1"):
        for item in iter_items(paging, server):
            got.append(item)
    assert got == [{"id": 1}, {"id": 2}]  # the repeated page is not handed out
    assert len(server.sent) == 2


def test_a_cycle_back_to_an_older_page_is_caught_too() -> None:
    answers = [{"items": [1], "more": True}, {"items": [2], "more": True}, {"items": [1], "more": True}]
    with pytest.raises(PagingError, match="page 3 of items with the same items as page 1"):
        list(iter_items(Paging("page", items="items", has_more="more"), Server(answers)))


def test_an_offset_that_does_not_advance_is_an_error() -> None:
    server = Server(lambda p: {"rows": [], "more": True})
    paging = Paging("offset", items="rows", has_more="more", empty_page_ends=False)
    with pytest.raises(PagingError, match=r"no way past offset 0 .*the next offset \(0\) was already read"):
        list(iter_items(paging, server))
    assert len(server.sent) == 1


def test_the_page_cap_stops_an_endless_listing() -> None:
    server = Server(lambda p: {"items": [p["page"]], "hasMore": True})
    paging = Paging("page", items="items", has_more="hasMore", max_pages=5, source="X", what="rows")
    with pytest.raises(PagingError, match="X still had more rows after 5 pages"):
        list(iter_items(paging, server))
    assert len(server.sent) == 5


def test_a_listing_of_exactly_max_pages_reads_fine() -> None:
    server = Server(lambda p: {"items": [p["page"]], "hasMore": p["page"] < 5})
    assert list(iter_items(Paging("page", items="items", has_more="hasMore", max_pages=5), server)) == [1, 2, 3, 4, 5]


def test_the_client_chooses_the_error_class() -> None:
    class MyError(Exception):
        pass

    server = Server(lambda p: {"items": [1], "hasMore": True})
    with pytest.raises(MyError):
        list(iter_items(Paging("page", items="items", has_more="hasMore", error=MyError), server))


def test_items_that_are_not_a_list_are_an_error() -> None:
    with pytest.raises(PagingError, match="'data' is not a list"):
        list(iter_items(Paging("page", items="data"), Server([{"data": {"a": 1}}])))


def test_paging_error_stops_a_run_like_an_unreachable_marketplace() -> None:
    assert issubclass(PagingError, MarketplaceUnreachable)


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(ValueError, match="style"):
        Paging("pages")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="next cursor"):
        Paging("cursor")
    with pytest.raises(ValueError, match="page size"):
        Paging("offset", short_page_ends=True)


# -- every client, against a marketplace that answers the same page whatever is asked -------------------------------

REPEATS = 5  # the sandbox repeats its answer this many times; the guard must stop at the second


@pytest.mark.sandbox
def test_elebne_listing_that_does_not_advance_stops(elebne_sandbox: SandboxHandle) -> None:
    body = {"success": True, "data": {"items": [{"id": "p1"}, {"id": "p2"}], "hasMore": True}}
    elebne_sandbox.fault(method="GET", path="/products$", kind="status", status=200, body=body, count=REPEATS)
    http = HttpClient(elebne_sandbox.base_url, auth=lambda: {"Authorization": f"Bearer {ELEBNE_KEY}"},
                      max_retries=0)
    mark = elebne_sandbox.last_id()
    try:
        with pytest.raises(PagingError, match="Elebne answered page 2 of products with the same items"):
            list(ElebneClient(http).iter_products())
    finally:
        http.close()
    assert len(elebne_sandbox.requests(mark)) == 2


@pytest.fixture
def ecomlinx_server(tmp_path: Path) -> Iterator[Any]:
    server = create_ecomlinx(port=0, db_path=str(tmp_path / "ecomlinx.sqlite")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.sandbox
def test_ecomlinx_listing_that_does_not_advance_stops(ecomlinx_server: Any) -> None:
    body = {"data": [{"id": "a", "sku": "A"}, {"id": "b", "sku": "B"}], "meta": {"total": 1000, "page": 1,
                                                                              "limit": 2}}
    ecomlinx_server.add_fault(method="GET", path="/products$", status=200, body=body, count=REPEATS)
    http = HttpClient(ecomlinx_server.api_url, auth=lambda: {"Authorization": f"Bearer {SCALE_KEY}"},
                      max_retries=0)
    try:
        with pytest.raises(PagingError, match="EcomLinx answered page 2 of products with the same items"):
            list(EcomLinxClient(http).iter_products())
    finally:
        http.close()
    assert sum(r["path"].endswith("/products") for r in ecomlinx_server.requests_log()) == 2


@pytest.mark.sandbox
def test_elryan_search_that_does_not_advance_stops(tmp_path: Path) -> None:
    server = ELRYAN.create_sandbox(port=0, db_path=str(tmp_path / "elryan.sqlite")).start()
    http = HttpClient(server.api_url, max_retries=0)
    try:
        body = {"data": [{"remote_id": "c1"}, {"remote_id": "c2"}], "error_code": 0}
        server.add_fault(method="POST", path="/categories/search", status=200, body=body, count=REPEATS)
        client = ElryanClient(http, email=SANDBOX_EMAIL, password=SANDBOX_PASSWORD, page_length=2)
        with pytest.raises(PagingError, match="Elryan answered page 2 of categories results with the same items"):
            list(client.iter_search("search_categories"))
        assert sum(r["path"].endswith("/categories/search") for r in server.requests_log()) == 2
    finally:
        http.close()
        server.stop()


@pytest.mark.sandbox
def test_aleta_new_cursors_over_the_same_products_stop() -> None:
    with create_aleta(variants=20, seed=3, locations=1) as server:
        for cursor in ("c-1", "c-2", "c-3"):
            server.add_fault(method="GET", path="/products$", status=200, count=1,
                             body={"data": [{"id": "gid://1", "variants": []}],
                                   "pagination": {"has_next_page": True, "cursor": cursor}})
        client = AletaClient.connect(server.api_url, ALETA_KEY, max_retries=0)
        try:
            with pytest.raises(AletaError, match="Aleta answered page 2 of products with the same items as page 1"):
                client.products()
        finally:
            client.close()
        assert sum(r["path"].endswith("/products") for r in server.requests_log()) == 2
