"""A page's detail reads are sent together (``parallel_calls``), and the result is the one of sending them one
after the other: on a fake backend, and on the recorded answers of real Odoo 18 and 19 (19 over JSON-RPC and over
JSON-2) served over real HTTP (``tests/test_odoo_lost_answers.RecordedOdoo``: vcrpy's replays are not
thread-safe)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from connector.errors import ConfigError
from connector.sources.odoo import OdooSettings, OdooSource
from tests.odoo_vcr import Target, password, password_var
from tests.test_odoo_errors import STOCK_FIELDS, FakeBackend
from tests.test_odoo_lost_answers import TARGETS, clean_read, recorded_odoo, settings_at

WAREHOUSES = [{"id": 1, "name": "WH", "code": "WH", "view_location_id": [11, "WH"], "active": True},
              {"id": 2, "name": "Shop", "code": "SHOP", "view_location_id": [21, "SHOP"], "active": True}]
ROWS = [{"id": pid, "default_code": f"S{pid}", "name": f"Shirt {pid}", "product_tmpl_id": [3, "Shirt"],
         "lst_price": 10.0, "standard_price": 4.0, "weight": 0.0, "categ_id": [1, "All"], "active": True,
         "product_template_attribute_value_ids": [pid * 10], "type": "product", "currency_id": [1, "USD"],
         "barcode": False, "description_sale": "Soft", "qty_available": 5.0, "free_qty": 5.0}
        for pid in (5, 6)]


def _answers(barrier: threading.Barrier | None) -> dict[tuple[str, str], Any]:
    def products(kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        if "virtual_available" in kwargs["fields"]:  # one context read per warehouse (17: no grouped reads)
            wh = 1 if kwargs["context"]["location"] == 11 else 2
            return [{"id": r["id"], "free_qty": float(wh), "qty_available": wh + 1.0, "virtual_available": wh + 1.0,
                     "incoming_qty": 0.0, "outgoing_qty": 0.0} for r in ROWS]
        return [] if kwargs["domain"][-1][2] > 0 else ROWS

    def templates(kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        if barrier is not None:
            barrier.wait()  # both languages' reads must be under way at once, else this breaks (BrokenBarrierError)
        lang = kwargs["context"]["lang"]
        return [{"id": 3, "name": f"Shirt {lang}", "description_sale": f"Soft {lang}"}]

    return {("product.product", "fields_get"): STOCK_FIELDS, ("stock.warehouse", "search_read"): WAREHOUSES,
            ("res.lang", "search_read"): [{"code": "fr_FR", "active": True}, {"code": "ar_001", "active": True}],
            ("product.product", "search_read"): products, ("product.template", "search_read"): templates,
            ("product.template.attribute.value", "search_read"): [{"id": 50, "attribute_id": [1, "Size"], "name": "S"},
                                                                  {"id": 60, "attribute_id": [1, "Size"], "name": "M"}]}


def _read(parallel: int, barrier: threading.Barrier | None = None) -> tuple[Any, FakeBackend]:
    backend = FakeBackend((17, 0), _answers(barrier))
    settings = OdooSettings(url="http://odoo.example", db="shop", languages=["fr_FR", "ar_001"],
                            warehouses=["WH", "Shop"], parallel_calls=parallel)
    return OdooSource(settings, backend=backend).read(), backend


def test_detail_reads_are_under_way_together() -> None:
    result, _ = _read(4, threading.Barrier(2, timeout=10))
    [product] = result.products
    assert product.translations["fr_FR"]["name"] == "Shirt fr_FR"


def test_parallel_and_sequential_reads_agree() -> None:
    (par, par_backend), (seq, seq_backend) = _read(4), _read(1)
    assert par.products == seq.products and par.issues == seq.issues
    assert par_backend.calls == seq_backend.calls
    assert sorted(map(repr, par_backend.sent)) == sorted(map(repr, seq_backend.sent))
    levels = {v.sku: {w: (s.on_hand, s.available) for w, s in v.stock.items()} for v in par.products[0].variants}
    assert levels == {"S5": {"WH": (2, 1), "Shop": (3, 2)}, "S6": {"WH": (2, 1), "Shop": (3, 2)}}


def test_sequential_reads_keep_their_order() -> None:
    _, backend = _read(1)
    detail_models = ("product.template.attribute.value", "product.template")
    details = [(m, kw["context"].get("lang"), kw["context"].get("location")) for m, meth, kw in backend.sent
               if (meth == "search_read" and m in detail_models) or "virtual_available" in kw.get("fields", [])]
    assert details == [("product.template.attribute.value", "en_US", None), ("product.template", "fr_FR", None),
                       ("product.template", "ar_001", None), ("product.product", "en_US", 11),
                       ("product.product", "en_US", 21)]


def test_parallel_calls_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="'parallel_calls'"):
        OdooSettings(url="http://odoo.example", db="shop", parallel_calls=0)


def _translation_read(path: str, body: str) -> bool:
    """The catalogue's two translation reads (fr_FR, ar_001) of ``product.template``, over either wire."""
    template = path == "/json/2/product.template/search_read" or '"product.template", "search_read"' in body
    return template and ('"lang": "fr_FR"' in body or '"lang": "ar_001"' in body)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_a_real_servers_answers_read_in_parallel_make_the_same_catalogue(target: Target,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    clean = clean_read(target)  # sent one after the other (parallel_calls 1), replayed by vcrpy
    monkeypatch.setenv(password_var(target), password(target))
    barrier = threading.Barrier(2, timeout=10)  # the two translation reads must be under way at once
    with recorded_odoo(target, {}, together=_translation_read, barrier=barrier) as server:
        result = OdooSource(settings_at(target, server.url, parallel_calls=4, retries=0)).read()
    assert [repr(p) for p in result.products] == clean
    assert not barrier.broken and sum(_translation_read(path, body) for path, body, _ in server.seen) == 2
    sent = [(path, body) for path, body, _ in server.seen]
    assert len(sent) == len(set(sent)) == len(server.answers)  # each recorded call sent once, none other
