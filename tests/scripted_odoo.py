"""A scripted Odoo 18 for ``connector watch`` measurements: answers the reader's calls from a small in-memory
catalogue whose stock can change while a watcher runs, and counts every round trip like a real backend.

Recorded cassettes (``tests/odoo_vcr.py``) replay one fixed conversation (dates included), so a stock change
at a random moment cannot be replayed from them; this backend answers the same calls the cassettes hold (the
reader's own domains, fields and contexts) from data instead.  ``install()`` makes every ``OdooSource`` of
the process use it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.sources.odoo.backend import OdooBackend

ODOO_DT = "%Y-%m-%d %H:%M:%S"
FIELDS = {name: {"type": "float", "digits": [16, 2]} for name in ("qty_available", "free_qty", "lst_price")}
FIELDS["is_storable"] = {"type": "boolean"}


class ScriptedCatalogue:
    """Variants ``sku -> quantity``; ``set_stock`` is what an Odoo user validating a picking does."""

    def __init__(self, stock: dict[str, int]) -> None:
        self.lock = threading.Lock()
        self.offset = timedelta(0)  # the server's clock ahead of this machine's: ``advance`` in a test
        now = self.now()
        self.rows = [{"id": n + 1, "sku": sku, "qty": qty, "changed": now}
                     for n, (sku, qty) in enumerate(stock.items())]
        self.calls = 0

    def set_stock(self, sku: str, qty: int) -> None:
        with self.lock:
            for r in self.rows:
                if r["sku"] == sku:
                    r["qty"], r["changed"] = qty, self.now()

    def clock(self) -> datetime:
        return (datetime.now(UTC) + self.offset).replace(microsecond=0)

    def now(self) -> str:
        return self.clock().strftime(ODOO_DT)

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def _since(domain: list[Any]) -> str | None:
    return next((t[2] for t in domain if isinstance(t, tuple | list) and str(t[0]).endswith("write_date")), None)


def _ids(domain: list[Any]) -> tuple[list[int] | None, int]:
    ids, after = None, 0
    for t in domain:
        if isinstance(t, tuple | list) and t[0] in ("id", "product_tmpl_id") and t[1] == "in":
            ids = list(t[2])
        if isinstance(t, tuple | list) and t[0] == "id" and t[1] == ">":
            after = int(t[2])
    return ids, after


class ScriptedOdoo(OdooBackend):
    catalogue: Any = None  # the ScriptedCatalogue, set by install()

    def __init__(self, *_args: Any) -> None:
        super().__init__()
        self.version_info = (18, 0)
        self.server_version = "18.0"

    def connect(self) -> None:
        self.calls += 3  # version, login, user context
        self.catalogue.calls += 3
        self.user_context = {"lang": "en_US", "tz": False, "uid": 2}
        self.first_response_date = self.catalogue.clock()

    def call(self, model: str, method: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> Any:
        self.calls += 1
        self.catalogue.calls += 1
        kw = kwargs or {}
        if method == "fields_get":
            return FIELDS
        if model == "stock.warehouse":
            return [{"id": 1, "name": "WH", "code": "WH", "view_location_id": [11, "WH"]}]
        if model != "product.product" or method != "search_read":
            return []
        domain, fields = kw.get("domain", []), kw.get("fields", [])
        with self.catalogue.lock:
            rows = list(self.catalogue.rows)
        since = _since(domain)
        if since is not None:
            rows = [r for r in rows if r["changed"] >= since]
        ids, after = _ids(domain)
        rows = [r for r in rows if (ids is None or r["id"] in ids) and r["id"] > after]
        if kw.get("limit"):
            rows = rows[: kw["limit"]]
        if fields == ["id"]:
            return [{"id": r["id"]} for r in rows]
        if fields == ["product_tmpl_id"]:
            return [{"id": r["id"], "product_tmpl_id": [r["id"], r["sku"]]} for r in rows]
        if "free_qty" in fields and "default_code" not in fields:
            return [{"id": r["id"], "free_qty": r["qty"], "qty_available": r["qty"], "virtual_available": r["qty"],
                     "incoming_qty": 0, "outgoing_qty": 0} for r in rows]
        return [{"id": r["id"], "default_code": r["sku"], "barcode": False, "name": f"Item {r['sku']}",
                 "description_sale": False, "product_tmpl_id": [r["id"], r["sku"]], "lst_price": 10.0,
                 "standard_price": 5.0, "weight": 0.0, "categ_id": [1, "All"],
                 "product_template_attribute_value_ids": [], "active": True, "type": "consu", "is_storable": True,
                 "currency_id": [1, "MRU"], "write_date": r["changed"], "qty_available": r["qty"],
                 "free_qty": r["qty"]} for r in rows]


def install(catalogue: ScriptedCatalogue, patch: Any = setattr) -> None:
    """Every ``OdooSource`` of this process talks to ``catalogue`` (JSON-RPC and JSON-2 alike); in a test pass
    ``monkeypatch.setattr`` as ``patch`` so the real backends come back afterwards."""
    from connector.sources.odoo import json2_backend, odoorpc_backend

    patch(ScriptedOdoo, "catalogue", catalogue)
    patch(odoorpc_backend, "OdooRPCBackend", ScriptedOdoo)
    patch(json2_backend, "Json2Backend", ScriptedOdoo)
