"""Marketplace orders into Odoo: one confirmed ``sale.order`` per order, exactly once, in a few calls per page.

Looked up together for up to 1,000 new orders (``LOOKUP_SIZE``), one call each: the sale orders already
holding their references (``client_order_ref``), the products by SKU (SKUs not seen earlier in the run), the
partners by key, the countries of new customers; then one ``create`` of the new partners.  Per page of
``page_size`` orders (default 100): one ``create`` of all the page's sale orders (lines as ``(0, 0, {...})``)
and one ``action_confirm`` of their ids.  Before the
first page: the connection (3 calls with JSON-RPC), ``fields_get`` of the order lines and one lookup per kind
of record the settings name (``resolve.py``).  An order the book already holds costs nothing.

Exactly once:
- the book (``import.odoo``) says which orders Odoo holds; those are never looked at again;
- every other order is first looked up in Odoo by its reference, so a sale order created by a run that was
  killed before it could record it is found, recorded, and confirmed if it was left in draft;
- the create is journalled (``journal_sent`` before the call, ``journal_done`` with the recorded ids after),
  and the ids are recorded as drafts (``import.odoo.draft``) before the confirmation; a confirmed order moves
  to ``import.odoo``: a run killed between create and confirm confirms on the next run.

``OrderBook.imported("odoo")`` holds confirmed sale orders only, so the oversell guard (``reserves_imported``)
never counts on a reservation Odoo does not hold: a draft whose confirmation Odoo refused is still reserved
by the guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.errors import ConnectorError
from connector.orders.book import OrderBook, import_kind
from connector.orders.destination import DestinationBase
from connector.orders.model import Order, OrderStatus
from connector.orders.odoo.addresses import Ownership
from connector.orders.odoo.batch import call_each, create_page
from connector.orders.odoo.cache import IdCache
from connector.orders.odoo.partners import Partners
from connector.orders.odoo.resolve import Resolved, company_id, resolve, tax_disagrees
from connector.orders.odoo.settings import PREFIX, OdooOrderSettings
from connector.orders.outcome import OrderOutcome, OrderResult
from connector.sources.odoo.backend import OdooBackend, OdooRPCError, OdooUnreachable, open_backend
from connector.sources.odoo.settings import OdooSettings

SALE_ORDER = "sale.order"
PRODUCT = "product.product"
CREATE_ACTION = "odoo:sale.order.create"
DRAFT = "odoo.draft"  # the book's import kind of sale orders created but not confirmed yet (no reservation)
LOOKUP_SIZE = 1000  # orders whose sale orders, products and partners are looked up together
CANCEL_CONTEXT = {"disable_cancel_warning": True}  # action_cancel cancels instead of opening its wizard (16, 18)
PRICE_PRECISION = "Product Price"  # the decimal.precision of sale.order.line.price_unit
DEFAULT_PRICE_DIGITS = 2  # Odoo's own default: prices with no more decimals than this never ask Odoo


@dataclass(slots=True)
class _Product:
    id: int
    taxes: list[int]


def decimals(amount: Decimal) -> int:
    """How many decimals ``amount`` needs (``12.340`` needs 2)."""
    exponent = amount.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _prices(o: Order) -> list[tuple[str, Decimal]]:
    """(what, amount) of every amount of ``o`` that becomes a ``price_unit``."""
    out = [(f"line {ln.line_id} ({ln.sku})", ln.unit_price) for ln in o.lines]
    if o.shipping_fee > 0:
        out.append(("the shipping fee", o.shipping_fee))
    return out


def typed_with_spaces(backend: OdooBackend, skus: list[str], fields: list[str]
                       ) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The variants whose Internal Reference is one of ``skus`` with spaces around it (``' OR-7 '``): the catalogue
    read takes a SKU without them (as the workbook does), so the marketplace sells it, and its orders come back,
    as ``OR-7``.  Asked only for SKUs the exact lookup did not find; Odoo's ``ilike`` also matches other
    references containing the SKU, which are dropped here.

    Also returned: SKU -> the references of the same answer that differ from it in case only (Odoo holds
    ``x-case``, the marketplace sells ``X-CASE``).  Those are not taken (two products may differ so), but the
    order's attention names them: "not in Odoo" alone sent the merchant looking for a product that is there."""
    return spaced_matches(containing(backend, skus, fields), skus)


def containing(backend: OdooBackend, skus: list[str], fields: list[str]) -> list[dict[str, Any]]:
    """The variants whose Internal Reference contains one of ``skus``, in any case (Odoo's ``ilike``): one call."""
    domain: list[Any] = ["|"] * (len(skus) - 1) + [("default_code", "ilike", s) for s in skus]
    return backend.search_read(PRODUCT, domain, fields, order="id")


def spaced_matches(rows: list[dict[str, Any]], skus: list[str]
                   ) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """``typed_with_spaces`` of the answer of ``containing``."""
    wanted = set(skus)
    by_case = {s.casefold(): s for s in skus}
    cased: dict[str, list[str]] = {}
    for r in rows:
        code = r.get("default_code")
        if isinstance(code, str) and code.strip() not in wanted and code.strip().casefold() in by_case:
            cased.setdefault(by_case[code.strip().casefold()], []).append(code)
    return [r for r in rows if isinstance(r.get("default_code"), str) and r["default_code"] != r["default_code"].strip()
            and r["default_code"].strip() in wanted], cased


class OdooOrderDestination(DestinationBase):
    """``OrderDestination`` into one Odoo database (settings: ``orders.odoo``)."""

    name = "odoo"
    reserves_imported = True  # a confirmed sale order is in Odoo's free quantity: never subtract it twice

    def __init__(self, settings: OdooOrderSettings, backend: OdooBackend | None = None) -> None:
        self.settings = settings
        self._backend = backend
        self._connected = False
        self._handed_over = False  # the connection now belongs to the stock read (hand_over)
        self.backend: OdooBackend | None = backend
        self._resolved: Resolved | None = None
        self._cache: IdCache | None = None  # the ids earlier runs resolved on this Odoo (cache.py)
        self._partners: Partners | None = None
        self._products: dict[str, list[_Product]] = {}  # SKU -> variants holding it (empty: unknown)
        self._tax_included: dict[int, tuple[str, bool]] = {}  # tax id -> (name, price_include)
        self._cased: dict[str, list[str]] = {}  # SKU not found -> Odoo references differing from it in case only
        self._price_digits: int | None = None  # Odoo's "Product Price" decimals, asked only when a price needs more
        self.interrupted = 0  # journalled creates of an earlier run whose outcome was never recorded

    # -- connection ---------------------------------------------------------------------------------------
    def _connect(self, book: OrderBook) -> OdooBackend:
        if not self._connected:
            if self._backend is None:
                self.backend = open_backend(self.settings.connection)
            else:
                self._backend.open()
            self._connected = True
        assert self.backend is not None
        if self._cache is None or self._cache.state is not book.state:
            conn = self.settings.connection
            self._cache = IdCache(book.state, IdCache.key_for(conn.url, conn.db, self.backend.server_version,
                                                              conn.user, conn.company))
            self._partners = Partners(self.backend, self._cache, Ownership(book.state, conn.url, conn.db))
            if conn.company is not None:  # every call of the run in that company (resolve.company_id)
                cid = company_id(self.backend, conn.company, self._cache)
                self.backend.default_context = {**self.backend.default_context, "allowed_company_ids": [cid]}
        return self.backend

    def _resolve(self, orders: Sequence[Order]) -> Resolved:
        """The ids the orders' marketplaces need (their routing, a pricelist per currency), from the cache or
        looked up; kept for the rest of the run."""
        assert self.backend is not None and self._cache is not None
        self._resolved = resolve(self.backend, self.settings, cache=self._cache, into=self._resolved,
                                 marketplaces={o.marketplace for o in orders},
                                 currencies={(o.marketplace, o.currency) for o in orders})
        return self._resolved

    def _fresh_values(self, ready: list[tuple[Order, dict[str, Any]]]) -> list[dict[str, Any]] | None:
        """Odoo refused a page: when ids from an earlier run went into it (one may have been deleted since),
        they are dropped, looked up again, and the page's values built anew; None when every id was looked up
        by this run (then the ids are not the cause)."""
        assert self._cache is not None
        if not self._cache.used:
            return None
        self._cache.drop()
        self._resolved = None
        resolved = self._resolve([o for o, _ in ready])
        return [self._order_values(o, vals["partner_id"], resolved, vals.get("partner_shipping_id"))
                for o, vals in ready]

    def hand_over(self, settings: OdooSettings) -> OdooBackend | None:
        """This run's logged-in connection, for a stock read of the same Odoo with the same ``settings`` (then
        ``close`` leaves it open for its new owner); None when not connected or another Odoo."""
        if not self._connected or self.backend is None or settings != self.settings.connection:
            return None
        self._handed_over = True
        return self.backend

    def close(self) -> None:
        if self.backend is not None and not self._handed_over:
            self.backend.close()

    # -- the contract -------------------------------------------------------------------------------------
    def preview(self, orders: Sequence[Order], book: OrderBook) -> list[OrderOutcome]:
        """As ``DestinationBase.preview``; an imported order cancelled on the marketplace says what a run does."""
        out = super().preview(orders, book)
        for outcome in out:
            if outcome.result is OrderResult.UPDATED and outcome.order.status is OrderStatus.CANCELLED:
                outcome.reason = ("dry run: cancelled on the marketplace: its sale order would be cancelled in Odoo, "
                                  "unless a delivery of it is done (then it needs attention)")
        return out

    def import_orders(self, orders: Sequence[Order], book: OrderBook, run_id: str) -> list[OrderOutcome]:
        unique = list({o.key: o for o in orders}.values())
        imported = book.imported(self.name)
        drafts = book.imported(DRAFT)
        outcomes: dict[str, OrderOutcome] = {}
        new: list[Order] = []
        unconfirmed: list[tuple[Order, int]] = []
        cancelled: list[Order] = []
        for o in unique:
            if o.key in imported:
                if o.status is OrderStatus.CANCELLED:
                    cancelled.append(o)
                else:
                    outcomes[o.key] = OrderOutcome(o, OrderResult.UNCHANGED, remote_id=imported[o.key])
            elif o.key in drafts:
                if o.is_open:
                    unconfirmed.append((o, int(drafts[o.key])))
                else:
                    outcomes[o.key] = OrderOutcome(o, OrderResult.UNCHANGED, remote_id=drafts[o.key], reason=(
                        f"left unconfirmed in Odoo: {o.status.value} on the marketplace"))
            elif not o.is_open:
                outcomes[o.key] = OrderOutcome(o, OrderResult.UNCHANGED, reason=(
                    f"not imported: {o.status.value} on the marketplace before it reached Odoo"))
            else:
                new.append(o)
        if new or unconfirmed:
            self._connect(book)
            self._close_interrupted(book)
            chunks = [new[i:i + LOOKUP_SIZE] for i in range(0, len(new), LOOKUP_SIZE)] or [[]]
            try:
                for n, chunk in enumerate(chunks):
                    self._import_chunk(chunk, unconfirmed if n == 0 else [], book, run_id, outcomes)
            except (ConnectorError, OSError) as exc:  # Odoo stopped answering: the pages done are said as they are
                exc.outcomes = dict(outcomes)  # type: ignore[union-attr]  # (orders.run reports them)
                raise
        if cancelled:
            self._cancel(cancelled, imported, book, outcomes)
        return [outcomes[o.key] for o in orders]

    # -- orders cancelled on the marketplace after they were imported -------------------------------------
    def _cancel(self, orders: list[Order], imported: dict[str, str], book: OrderBook,
                outcomes: dict[str, OrderOutcome]) -> None:
        """Cancel the sale orders of ``orders`` (cancelled on the marketplace) that have shipped nothing.

        Orders whose import record already says cancelled cost nothing.  The others, together: one read of the
        sale orders' states, one of their done outgoing deliveries, one ``action_cancel`` of those to cancel
        (with ``disable_cancel_warning``: no confirmation wizard on 16 and 18) and one read of the states again
        (Odoo's answer, not the call's, says it is cancelled).  A sale order Odoo shows cancelled already is
        unchanged; one with a done delivery needs attention (a person decides: a return, a refund).  Each
        outcome but attention records the order's new version, so the run hands it no more."""
        bodies = book.imported_bodies(self.name, [o.key for o in orders])
        todo: list[Order] = []
        for o in orders:
            body = bodies.get(o.key) or {}
            if body.get("cancelled"):
                book.mark_imported(self.name, o, imported[o.key], body)
                outcomes[o.key] = OrderOutcome(o, OrderResult.UNCHANGED, remote_id=imported[o.key],
                                               reason="sale order already cancelled in Odoo")
            else:
                todo.append(o)
        if not todo:
            return
        backend = self._connect(book)
        ids = sorted({int(imported[o.key]) for o in todo})
        sales = {r["id"]: r for r in backend.search_read(SALE_ORDER, [("id", "in", ids)], ["id", "name", "state"])}
        shipped: dict[int, list[str]] = {}
        for p in backend.search_read("stock.picking", [("sale_id", "in", ids), ("picking_type_code", "=", "outgoing"),
                                                       ("state", "=", "done")], ["name", "sale_id"], order="id"):
            shipped.setdefault(int(p["sale_id"][0]), []).append(str(p["name"]))
        to_cancel = [i for i in ids if i in sales and sales[i]["state"] != "cancel" and i not in shipped]
        refused: dict[int, str] = {}
        states: dict[int, str] = {}
        if to_cancel:
            results = call_each(backend, SALE_ORDER, "action_cancel", to_cancel, context=CANCEL_CONTEXT)
            refused = {i: str(r) for i, r in zip(to_cancel, results, strict=True) if isinstance(r, OdooRPCError)}
            states = {r["id"]: r["state"] for r in backend.search_read(SALE_ORDER, [("id", "in", to_cancel)],
                                                                        ["id", "state"])}
        with book.state.atomic():
            for o in todo:
                sid = int(imported[o.key])
                result, reason = self._cancel_outcome(sid, sales.get(sid), shipped.get(sid), refused.get(sid),
                                                      states.get(sid))
                if result in (OrderResult.UPDATED, OrderResult.UNCHANGED):  # Odoo shows it cancelled: recorded
                    book.mark_imported(self.name, o, str(sid), {"reference": o.reference, "name": sales[sid]["name"],
                                                                "confirmed": True, "cancelled": True})
                outcomes[o.key] = OrderOutcome(o, result, remote_id=str(sid), reason=reason)

    @staticmethod
    def _cancel_outcome(sid: int, sale: dict[str, Any] | None, shipped: list[str] | None, refused: str | None,
                        state_after: str | None) -> tuple[OrderResult, str]:
        if sale is None:
            return OrderResult.ATTENTION, f"cancelled on the marketplace, but its sale order {sid} is no longer in Odoo"
        name = sale["name"]
        if sale["state"] == "cancel":
            return OrderResult.UNCHANGED, f"cancelled on the marketplace; {name} already cancelled in Odoo"
        if shipped:
            return OrderResult.ATTENTION, (f"cancelled on the marketplace after it shipped: {name} has done "
                                           f"deliveries {', '.join(shipped)}; not cancelled in Odoo")
        if refused is not None:
            return OrderResult.FAILED, (f"cancelled on the marketplace, but Odoo refused to cancel {name} (tried "
                                        f"again next run): {refused}")
        if state_after != "cancel":
            return OrderResult.FAILED, (f"cancelled on the marketplace; Odoo took the cancellation of {name} but "
                                        f"shows it {state_after} (tried again next run)")
        return OrderResult.UPDATED, f"cancelled on the marketplace: {name} cancelled in Odoo"

    def _close_interrupted(self, book: OrderBook) -> None:
        state = book.state
        for entry in state.journal_open(book.marketplace, book.account):
            if entry["action"] == CREATE_ACTION:
                self.interrupted += 1
                state.journal_done(entry["id"], ok=False, message=(
                    "interrupted run: outcome unknown; its orders are looked up by reference in Odoo"))

    # -- a chunk of orders: looked up together, created and confirmed page by page ------------------------
    def _import_chunk(self, chunk: list[Order], unconfirmed: list[tuple[Order, int]], book: OrderBook, run_id: str,
                      outcomes: dict[str, OrderOutcome]) -> None:
        backend = self._connect(book)
        to_confirm: list[tuple[Order, int, str | None]] = [(o, sid, "created by an earlier run; confirmed now")
                                                           for o, sid in unconfirmed]
        creatable = self._found_in_odoo(backend, chunk, book, outcomes, to_confirm) if chunk else []
        if creatable:
            self._look_up_products(backend, creatable)
            self._look_up_price_digits(backend, creatable)
            self._resolve(creatable)
        resolved = self._resolved
        reasons = {o.key: self._attention(o, resolved) for o in creatable}
        valid = [o for o in creatable if reasons[o.key] is None]
        assert self._partners is not None
        partners = self._partners.for_page(valid, {m: r.partner for m, r in self._routings(valid).items()}) \
            if valid else {}
        ready: list[tuple[Order, dict[str, Any]]] = []
        for o in creatable:
            why = reasons[o.key]
            if why is not None:
                outcomes[o.key] = OrderOutcome(o, OrderResult.ATTENTION, reason=why)
                continue
            partner = partners[o.key]
            if isinstance(partner, str):
                refused = partner.startswith("Odoo refused")
                outcomes[o.key] = OrderOutcome(o, OrderResult.FAILED if refused else OrderResult.ATTENTION,
                                               reason=partner)
                continue
            ready.append((o, self._order_values(o, partner, resolved, self._partners.shipping.get(o.key))))
        size = self.settings.page_size
        for i in range(0, max(len(ready), 1), size):
            page = ready[i:i + size]
            if page:
                self._create(backend, page, book, run_id, outcomes, to_confirm)
            if to_confirm:
                self._confirm(backend, to_confirm, book, outcomes)
                to_confirm = []

    def _found_in_odoo(self, backend: OdooBackend, page: list[Order], book: OrderBook,
                       outcomes: dict[str, OrderOutcome], to_confirm: list[tuple[Order, int, str | None]]
                       ) -> list[Order]:
        """Record the page's orders Odoo already holds (created by a run that could not record them); the
        others are returned, to be created."""
        rows = backend.search_read(SALE_ORDER, [("client_order_ref", "in", [o.reference for o in page])],
                                   ["id", "name", "state", "client_order_ref"], order="id")
        by_ref: dict[str, dict[str, Any]] = {}
        for r in rows:
            by_ref.setdefault(str(r["client_order_ref"]), r)  # the oldest, should a person have copied one
        left = []
        for o in page:
            r = by_ref.get(o.reference)
            if r is None:
                left.append(o)
                continue
            state = str(r.get("state"))
            draft = state in ("draft", "sent")
            book.mark_imported(DRAFT if draft else self.name, o, str(r["id"]),
                               {"reference": o.reference, "name": r.get("name"), "confirmed": not draft})
            if draft:
                to_confirm.append((o, int(r["id"]), f"{r.get('name')} was created by an interrupted run; "
                                                    f"confirmed now"))
            else:
                note = "cancelled in Odoo" if state == "cancel" else "already in Odoo"
                outcomes[o.key] = OrderOutcome(o, OrderResult.UNCHANGED, remote_id=str(r["id"]),
                                               reason=f"{note} as {r.get('name')}")
        return left

    def _settled(self, to_confirm: list[tuple[Order, int, str | None]], results: list[Any],
                 states: dict[int, dict[str, Any]], book: OrderBook, outcomes: dict[str, OrderOutcome]
                 ) -> tuple[list[tuple[Order, int, str | None]], list[Any]]:
        """Of the refused confirmations, record those Odoo shows confirmed (imported) or cancelled (unchanged), as
        ``_found_in_odoo`` records an order found by reference; the rest (still drafts: a real refusal) are given
        back with their results."""
        left: list[tuple[tuple[Order, int, str | None], Any]] = []
        with book.state.atomic():
            for item, result in zip(to_confirm, results, strict=True):
                o, sid, _note = item
                r = states.get(sid) if isinstance(result, OdooRPCError) else None
                state = str(r.get("state")) if r is not None else ""
                if state not in ("sale", "done", "cancel"):
                    left.append((item, result))
                    continue
                assert r is not None
                book.mark_imported(self.name, o, str(sid), {"reference": o.reference, "name": r.get("name"),
                                                            "confirmed": True})
                book.state.forget(book.marketplace, book.account, import_kind(DRAFT), o.key)
                if state == "cancel":
                    outcomes[o.key] = OrderOutcome(o, OrderResult.UNCHANGED, remote_id=str(sid),
                                                   reason=f"cancelled in Odoo as {r.get('name')}")
                else:
                    outcomes[o.key] = OrderOutcome(o, OrderResult.IMPORTED, remote_id=str(sid), reason=(
                        f"{r.get('name')} was confirmed in Odoo already (the answer to an earlier confirmation "
                        f"was lost)"))
        return [item for item, _ in left], [result for _, result in left]

    def _look_up_products(self, backend: OdooBackend, orders: list[Order]) -> None:
        skus = {ln.sku for o in orders for ln in o.lines}
        if self.settings.delivery_product and any(o.shipping_fee > 0 for o in orders):
            skus.add(self.settings.delivery_product)
        wanted = sorted(s for s in skus if s not in self._products)
        if not wanted:
            return
        fields = ["id", "default_code"]
        check_taxes = self.settings.tax_included is not None and self.settings.explicit_taxes is None
        if check_taxes:
            fields.append("taxes_id")
        rows = backend.search_read(PRODUCT, [("default_code", "in", wanted)], fields, order="id")
        found = {str(r["default_code"]) for r in rows}
        if missing := [s for s in wanted if s not in found]:
            spaced, cased = typed_with_spaces(backend, missing, fields)
            rows += spaced
            self._cased.update(cased)
        for sku in wanted:
            self._products[sku] = []
        for r in rows:
            product = _Product(r["id"], list(r.get("taxes_id") or []))
            self._products.setdefault(str(r["default_code"]).strip(), []).append(product)
        if check_taxes:
            unknown = sorted({t for r in rows for t in (r.get("taxes_id") or []) if t not in self._tax_included})
            if unknown:
                for t in backend.search_read("account.tax", [("id", "in", unknown)], ["id", "name", "price_include"],
                                             context={"active_test": False}):
                    self._tax_included[t["id"]] = (str(t["name"]), bool(t.get("price_include")))

    def _look_up_price_digits(self, backend: OdooBackend, orders: list[Order]) -> None:
        """Odoo rounds ``price_unit`` to the decimals of its "Product Price" precision (2 unless changed): a
        marketplace price of 12.345 became 12.35 and the sale order's total was not what the customer paid
        (found on a real Odoo 18).  The precision is asked (one call, kept with the other ids) only when a price
        has more decimals than Odoo's default, once per run (never kept: the order waits for a person to raise it, and
        the next run must see it raised); a database whose precision is below 2 is not checked."""
        if self._price_digits is not None:
            return
        if not any(decimals(amount) > DEFAULT_PRICE_DIGITS for o in orders for _, amount in _prices(o)):
            return
        rows = backend.search_read("decimal.precision", [("name", "=", PRICE_PRECISION)], ["digits"])
        self._price_digits = int(rows[0]["digits"]) if rows else DEFAULT_PRICE_DIGITS

    # -- what makes an order importable -------------------------------------------------------------------
    def _routings(self, orders: Sequence[Order]) -> dict[str, Any]:
        return {o.marketplace: self.settings.routing(o.marketplace) for o in orders}

    def _product(self, sku: str) -> tuple[_Product | None, str | None]:
        found = self._products.get(sku) or []
        if not found:
            why = f"SKU {sku} is not in Odoo (no active product variant with Internal Reference {sku!r})"
            if cased := self._cased.get(sku):
                why += (f"; Odoo has {', '.join(repr(c) for c in sorted(set(cased)))}, which differs in case only: "
                        f"use the same reference in Odoo and on the marketplace")
            return None, why
        if len(found) > 1:
            return None, (f"SKU {sku} is the Internal Reference of {len(found)} Odoo variants (ids "
                          f"{', '.join(str(p.id) for p in found)}): keep it on one")
        return found[0], None

    def _attention(self, o: Order, resolved: Resolved) -> str | None:
        """Why ``o`` cannot be imported as it is (a person must act), or None."""
        reasons: list[str] = []
        if not o.lines:
            reasons.append("the order has no lines")
        for ln in o.lines:
            product, why = self._product(ln.sku)
            if why:
                reasons.append(why)
            elif product is not None:
                reasons.extend(self._tax_problems(ln.sku, product))
            if ln.quantity <= 0:
                reasons.append(f"line {ln.line_id} ({ln.sku}) has quantity {ln.quantity}")
            if ln.currency and ln.currency != o.currency:
                reasons.append(f"line {ln.line_id} ({ln.sku}) is in {ln.currency}, the order in {o.currency}")
        if o.shipping_fee > 0:
            code = self.settings.delivery_product
            if code is None:
                reasons.append(f"shipping fee {o.shipping_fee} {o.currency} and no {PREFIX}.delivery_product to put "
                               f"it on")
            else:
                product, why = self._product(code)
                if why:
                    reasons.append(f"{PREFIX}.delivery_product: {why}")
                elif product is not None:
                    reasons.extend(self._tax_problems(code, product))
        digits = self._price_digits if self._price_digits is not None else DEFAULT_PRICE_DIGITS
        for what, amount in _prices(o):
            if decimals(amount) > digits:
                stored = amount.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
                reasons.append(f"{what}: {amount} {o.currency} has {decimals(amount)} decimals but Odoo keeps "
                               f"{digits} for prices (Decimal Accuracy {PRICE_PRECISION!r}): it would store {stored} "
                               f"and the sale order's total would not be the marketplace's; raise that precision in "
                               f"Odoo (Settings > Technical > Decimal Accuracy)")
        _, why = resolved.pricelist_for(self.settings.routing(o.marketplace).pricelist, o.currency)
        if why:
            reasons.append(why)
        return "; ".join(dict.fromkeys(reasons)) or None

    def _tax_problems(self, sku: str, product: _Product) -> list[str]:
        wanted = self.settings.tax_included
        if wanted is None or self.settings.explicit_taxes is not None:
            return []
        out = []
        for t in product.taxes:
            name, included = self._tax_included.get(t, (str(t), wanted))
            if included != wanted:
                out.append(f"{sku}: {tax_disagrees(name, included, wanted)}")
        return out

    # -- values -------------------------------------------------------------------------------------------
    def _line(self, product_id: int, quantity: int, price: Decimal, resolved: Resolved,
              delivery: bool = False) -> tuple[int, int, dict[str, Any]]:
        vals: dict[str, Any] = {"product_id": product_id, "product_uom_qty": quantity, "price_unit": float(price),
                                "discount": 0.0}
        if resolved.taxes is not None:
            vals[resolved.line.tax] = [(6, 0, list(resolved.taxes))]
        if delivery and resolved.line.is_delivery:
            vals["is_delivery"] = True
        return (0, 0, vals)

    def _order_values(self, o: Order, partner_id: int, resolved: Resolved,
                      shipping_id: int | None = None) -> dict[str, Any]:
        """``shipping_id``: the delivery contact the order ships to, when it is not the partner (addresses.py)."""
        routing = self.settings.routing(o.marketplace)
        pricelist, _ = resolved.pricelist_for(routing.pricelist, o.currency)
        assert pricelist is not None  # checked in _attention
        lines = []
        for ln in o.lines:
            product, _ = self._product(ln.sku)
            assert product is not None
            lines.append(self._line(product.id, ln.quantity, ln.unit_price, resolved))
        if o.shipping_fee > 0 and self.settings.delivery_product:
            ship, _ = self._product(self.settings.delivery_product)
            assert ship is not None
            lines.append(self._line(ship.id, 1, o.shipping_fee, resolved, delivery=True))
        vals: dict[str, Any] = {"partner_id": partner_id, "client_order_ref": o.reference, "origin": o.reference,
                                "pricelist_id": pricelist.id, "order_line": lines}
        if shipping_id is not None:
            vals["partner_shipping_id"] = shipping_id
        if routing.team is not None:
            vals["team_id"] = resolved.teams[routing.team]
        if routing.warehouse is not None:
            vals["warehouse_id"] = resolved.warehouses[routing.warehouse]
        if routing.tags:
            vals["tag_ids"] = [(6, 0, [resolved.tags[t] for t in routing.tags])]
        if o.sla_deadline is not None:
            vals["commitment_date"] = o.sla_deadline.strftime("%Y-%m-%d %H:%M:%S")
        return vals

    # -- create and confirm -------------------------------------------------------------------------------
    def _create(self, backend: OdooBackend, ready: list[tuple[Order, dict[str, Any]]], book: OrderBook, run_id: str,
                outcomes: dict[str, OrderOutcome], to_confirm: list[tuple[Order, int, str | None]]) -> None:
        state = book.state
        journal_id = state.journal_sent(run_id, book.marketplace, book.account, CREATE_ACTION,
                                        [o.key for o, _ in ready])
        results = create_page(backend, SALE_ORDER, [vals for _, vals in ready], lambda: self._fresh_values(ready))
        refused = []
        with state.atomic():
            for (o, _), result in zip(ready, results, strict=True):
                if isinstance(result, OdooRPCError):
                    refused.append(f"{o.key}: {result}")
                    outcomes[o.key] = OrderOutcome(o, OrderResult.FAILED, reason=f"Odoo refused the sale order: "
                                                                               f"{result}")
                    continue
                book.mark_imported(DRAFT, o, str(result), {"reference": o.reference, "confirmed": False})
                to_confirm.append((o, result, self._partners.notes.get(o.key) if self._partners else None))
            state.journal_done(journal_id, ok=not refused, message="; ".join(refused[:5]) or None)

    def _confirm(self, backend: OdooBackend, to_confirm: list[tuple[Order, int, str | None]], book: OrderBook,
                 outcomes: dict[str, OrderOutcome]) -> None:
        if self.settings.tax_included is not None:
            to_confirm = self._totals_checked(backend, to_confirm, book, outcomes)
            if not to_confirm:
                return
        try:
            results = call_each(backend, SALE_ORDER, "action_confirm", [sid for _, sid, _ in to_confirm])
        except OdooUnreachable as exc:  # one by one, an answer was lost: those before it went through, recorded
            done = getattr(exc, "partial", None) or []
            if done:
                self._confirmed(backend, to_confirm[:len(done)], done, book, outcomes)
            raise
        self._confirmed(backend, to_confirm, results, book, outcomes)

    def _totals_checked(self, backend: OdooBackend, to_confirm: list[tuple[Order, int, str | None]],
                        book: OrderBook, outcomes: dict[str, OrderOutcome]) -> list[tuple[Order, int, str | None]]:
        """With ``tax_included`` set, the drafts whose amount in Odoo is not the marketplace's are never confirmed.

        The product's tax may agree with ``tax_included`` while the sale order gets another one: a fiscal position
        Odoo applies from the customer's country maps a price-included tax to one added on top (found on a real
        Odoo 18: 27,950.00 MRU paid, 30,745.00 in Odoo, imported with exit code 0).  Odoo's own amounts say it:
        ``amount_total`` (prices include tax) or ``amount_untaxed`` (they exclude it) against the sum of the lines
        and the shipping fee, one read per page before the confirmation.  Such a draft is left as it is, never
        deleted (it may be a quotation a person made, found by its reference; and a draft made again on every run
        would take a sale order number each time): the order needs attention, and every run checks the same draft
        again until its total is the marketplace's.  Returns the orders to confirm."""
        field = "amount_total" if self.settings.tax_included else "amount_untaxed"
        ids = [sid for _, sid, _ in to_confirm]
        rows = {int(r["id"]): r for r in backend.search_read(SALE_ORDER, [("id", "in", ids)],
                                                              ["id", "name", "state", field, "fiscal_position_id"])}
        ok: list[tuple[Order, int, str | None]] = []
        wrong: list[tuple[tuple[Order, int, str | None], str]] = []
        for item in to_confirm:
            o, sid, _ = item
            r = rows.get(sid)
            if r is None or r.get("state") not in ("draft", "sent"):
                ok.append(item)  # gone or confirmed meanwhile: the confirmation says what it is (_settled)
                continue
            expected = sum((ln.unit_price * ln.quantity for ln in o.lines), Decimal(0))
            if o.shipping_fee > 0 and self.settings.delivery_product:
                expected += o.shipping_fee
            got = Decimal(str(r.get(field) or 0))
            if abs(got - expected) <= Decimal("0.01") * (len(o.lines) + 1):  # Odoo rounds each line
                ok.append(item)
                continue
            places = Decimal(1).scaleb(-max(2, decimals(expected)))
            got, expected = got.quantize(places), expected.quantize(places)
            fp = r.get("fiscal_position_id")
            via = f" (fiscal position {fp[1]!r})" if isinstance(fp, list | tuple) and len(fp) > 1 else ""
            what = "total" if self.settings.tax_included else "untaxed amount"
            included = "include" if self.settings.tax_included else "exclude"
            wrong.append((item, f"Odoo's {what} of {r.get('name')} is {got} {o.currency}, not the marketplace's "
                                f"{expected}{via}: its taxes do not treat the prices as {PREFIX}.tax_included says "
                                f"(marketplace prices {included} tax)"))
        for (o, sid, _), why in wrong:  # left as they are: the book still holds each draft, checked every run
            outcomes[o.key] = OrderOutcome(o, OrderResult.ATTENTION, remote_id=str(sid), reason=(
                f"{why}; not confirmed: the draft waits in Odoo, checked again by every run: correct its taxes there "
                f"(a fiscal position's tax mapping, the product's taxes) and the next run confirms it"))
        return ok

    def _confirmed(self, backend: OdooBackend, to_confirm: list[tuple[Order, int, str | None]], results: list[Any],
                   book: OrderBook, outcomes: dict[str, OrderOutcome]) -> None:
        """Record what the confirmations of ``to_confirm`` gave (``results``, one per order)."""
        refused = [sid for (_o, sid, _n), r in zip(to_confirm, results, strict=True) if isinstance(r, OdooRPCError)]
        if refused:  # confirmed already (the answer to an earlier confirmation was lost), or cancelled in Odoo
            states = {int(r["id"]): r for r in backend.search_read(SALE_ORDER, [("id", "in", refused)],
                                                                    ["id", "name", "state"])}
            to_confirm, results = self._settled(to_confirm, results, states, book, outcomes)
        if self._cache is not None and self._cache.used and any(isinstance(r, OdooRPCError) for r in results):
            self._cache.drop()  # the refused orders are confirmed again next run, with every id looked up afresh
        with book.state.atomic():
            for (o, sid, note), result in zip(to_confirm, results, strict=True):
                if isinstance(result, OdooRPCError):
                    outcomes[o.key] = OrderOutcome(o, OrderResult.FAILED, remote_id=str(sid), reason=(
                        f"sale order {sid} created but Odoo refused to confirm it (tried again next run): {result}"))
                    continue
                book.mark_imported(self.name, o, str(sid), {"reference": o.reference, "confirmed": True})
                book.state.forget(book.marketplace, book.account, import_kind(DRAFT), o.key)
                outcomes[o.key] = OrderOutcome(o, OrderResult.IMPORTED, remote_id=str(sid), reason=note)

