"""How a plan is pushed to Elebne.

Order (design §5, "stock first, catalogue edits after"): stock of products Elebne already has, in bulk
requests of up to 200 products; then creates (one request each, with an idempotency key derived from the
content so a retried create is the same create); then stock of the products just created; then updates
(changed fields only); then the stock of the products whose update touches their variants.  Elebne finds a
variant by its label, so when the source renames one (an attribute value "Silk" becomes "Satin") the stock
naming the new label can only go once the update has given Elebne that label.  Each operation class has its
own budget: when one is spent, its remaining operations are deferred to the next run and the others go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from connector.jsonutil import digest
from connector.marketplaces.elebne.client import ElebneClient, ElebneError
from connector.marketplaces.elebne.payloads import problems
from connector.marketplaces.wording import FieldProblem, explain, sibling_problems
from connector.sync.answers import Classifier, Rule, Verdict
from connector.sync.archived_check import LookupFailed
from connector.sync.executor import Executor
from connector.sync.ops import (
    CATALOGUE,
    STOCK,
    AdapterBase,
    ItemResult,
    PlannedOp,
    ResultSink,
    op_entries,
)

# What Elebne's answers mean (the rules every marketplace shares follow): an update of a product Elebne no
# longer has drops our binding so the next run re-creates it; any other error answer fails the item.
CLASSIFIER = Classifier(
    rules=(Rule(Verdict.FORGET, (ElebneError,), codes=frozenset({"PRODUCT_NOT_FOUND"})),),
    errors=(ElebneError,),
)
WRITE, BULK = "write", "bulk"  # lanes: the budget classes the requests spend


class ElebneAdapter(AdapterBase):
    roles: ClassVar[dict[str, str]] = {"product": CATALOGUE, "stock": STOCK}
    checks_when_planned = True  # its preview only validates; ``calls_needed`` reads only an update's body
    # documented: Elebne's inventory holds the products "with quantity set" (a variant's null quantity likewise
    # counts nothing: inferred, as the sandbox does)
    creates_need_stock = True  # a product created without a quantity is sold uncounted (docs/elebne.md)
    prices_in_minor_units = True  # (inferred: docs/elebne.md; a mapping in another unit is refused: price_unit.py)
    title = "Elebne"
    untracked_stock_left = ("Elebne tracks the stock of a product or variant only once it is given a quantity, so "
                            "one created without is sold uncounted; one given a quantity before keeps it")

    def __init__(self, client: ElebneClient, *, account: str, bulk_max_items: int = 200,
                 archived_lookup_gets: int = 100) -> None:
        self.client = client
        self.account = account
        self.bulk_max_items = bulk_max_items
        self.archived_lookup_gets = archived_lookup_gets  # then the listing is read instead (``has_listing``)
        self._lookup_gets = 0
        self._listed: set[str] | None = None  # the externalIds of Elebne's listing, once read

    # -- planning hooks --------------------------------------------------------------------------------------
    def normalize(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Stock payloads keep only the variants whose quantity is known; none known -> nothing to send."""
        if kind != "stock":
            return payload
        variants = [v for v in payload.get("variants") or [] if v.get("quantity") is not None]
        if variants:
            payload["variants"] = variants
        else:
            payload.pop("variants", None)
        if payload.get("quantity") is None and not variants:
            return None
        return payload

    def problems(self, op: PlannedOp) -> list[FieldProblem]:
        """The request's problems (lengths, integer ranges, URLs, unique labels...) and, when variants are sent,
        the rules of sibling variants, in the merchant's words."""
        found = explain(problems(op.action, op.body), op.body, op.record)
        if op.action != "stock" and op.body.get("variants") and op.kind == "product":
            siblings = sibling_problems(op.product)
            if siblings:  # they say better than the shape's "labels must be unique" which variants clash
                found = [p for p in found if p.field] + siblings
        return found

    def calls_needed(self, ops: Sequence[PlannedOp]) -> dict[str, int]:
        """Stock in bulk requests of ``bulk_max_items`` (existing products, the ones just created, the ones whose
        variants an update touches: see ``_stock_groups``); one write per create and per update."""
        # the sizes of ``_stock_groups``' lists, told without listing the ops (a dry run's ops are made as they are
        # read: ``released_ops``)
        creating: set[str] = set()
        relabelling: set[str] = set()
        stock: list[str] = []
        writes = 0
        for i, (op, action, _kind, key) in enumerate(op_entries(ops)):
            if action == "create":
                creating.add(key)
            elif action == "update" and "variants" in (op if op is not None else ops[i]).body:
                relabelling.add(key)
            elif action == "stock":
                stock.append(key)
            writes += action in ("create", "update")
        sizes = [0, 0, 0]
        for key in stock:
            sizes[1 if key in creating else 2 if key in relabelling else 0] += 1
        return {BULK: sum(-(-n // self.bulk_max_items) for n in sizes), WRITE: writes}

    def idempotency_key(self, op: PlannedOp) -> str:
        return "create-" + digest(f"{self.account}\n{op.key}\n{op.digest}")

    def has_listing(self, key: str) -> bool:
        """Whether Elebne lists the product ``key``, for an archived product the state does not know
        (``archived_check.py``): ``GET /products/{externalId}`` (404: not) for the first ``archived_lookup_gets``
        of a run, then the product listing read once (``page_limit`` products a request) and asked instead: at
        most that many requests more than the cheaper of the two.  An error answer after retries fails it."""
        try:
            if self._listed is None and self._lookup_gets >= self.archived_lookup_gets:
                self._listed = {str(p.get("externalId")) for p in self.client.iter_products()}
            if self._listed is not None:
                return key in self._listed
            self._lookup_gets += 1
            self.client.get_product(key)
        except ElebneError as exc:
            if exc.status == 404:
                return False
            raise LookupFailed(str(exc)) from exc
        return True

    # -- push ------------------------------------------------------------------------------------------------
    def push(self, ops: list[PlannedOp], sink: ResultSink) -> None:
        held = self.held_without_stock(ops)
        creates = [op for op in ops if op.action == "create" and op.key not in held]
        updates = [op for op in ops if op.action == "update" and op.key not in held]  # (its stock goes)
        stock_now, stock_later, stock_after_update = _stock_groups(ops)
        ex = Executor(sink, CLASSIFIER)
        for result in held.values():  # nothing goes on sale uncounted (``AdapterBase.held_without_stock``)
            sink.done(0, [result])

        self._push_stock(ex, stock_now)
        created = ex.each(creates, self._create, lane=WRITE, validate=self.validate,
                          idempotency_key=self.idempotency_key)
        ready = [op for op in stock_later if op.key in created]
        waiting = [op for op in stock_later if op.key not in created]
        ex.defer([op for op in waiting if op.key in ex.deferred_keys], "the product's creation was deferred")
        ex.block([op for op in waiting if op.key not in ex.deferred_keys], self.stock_blocked_message)
        self._push_stock(ex, ready)
        ex.each(updates, self._update, lane=WRITE, validate=self.validate)
        # sent even when the update did not go (deferred, refused): most variant updates rename nothing, and stock
        # is what stops overselling; a label Elebne does not know then fails that product's stock with its message
        self._push_stock(ex, stock_after_update)
        ex.finish()

    def _create(self, op: PlannedOp) -> ItemResult:
        try:
            data = self.client.create_product(op.body, self.idempotency_key(op))
        except ElebneError as exc:
            if exc.code == "DUPLICATE_EXTERNAL_ID":
                return self._adopt(op)
            raise
        return ItemResult(op, ok=True, remote_id=str(data.get("id") or "") or None)

    def _adopt(self, op: PlannedOp) -> ItemResult:
        """The product already exists on Elebne (created by hand, or by a run killed before it saved its
        state): take it over and bring it in line with the payload instead of failing."""
        existing = self.client.get_product(op.key)
        body = {k: v for k, v in op.payload.items() if k != "externalId"}
        self.client.update_product(op.key, body)
        return ItemResult(op, ok=True, remote_id=str(existing.get("id") or "") or None,
                          message="already on Elebne: adopted and updated")

    def _update(self, op: PlannedOp) -> ItemResult:
        body = {k: v for k, v in op.body.items() if k != "externalId"}
        data = self.client.update_product(op.key, body)
        return ItemResult(op, ok=True, remote_id=str(data.get("id") or "") or None)

    def _push_stock(self, ex: Executor, ops: list[PlannedOp]) -> None:
        """Absolute stock in bulk requests of up to ``bulk_max_items`` valid ops, in order; each op is checked as
        its batch fills (an invalid one fails there), not all before the first request: a packed payload
        (``PackedOp``) is read only when its batch is near."""
        batch: list[PlannedOp] = []
        for op in ops:
            if ex.valid([op], self.validate):
                batch.append(op)
            if len(batch) == self.bulk_max_items:
                ex.send("stock", batch, lambda batch=batch: self._bulk(batch), lane=BULK)
                batch = []
        if batch:
            ex.send("stock", batch, lambda batch=batch: self._bulk(batch), lane=BULK)

    def _bulk(self, batch: list[PlannedOp]) -> list[ItemResult]:
        result = self.client.bulk_inventory([op.body for op in batch])
        errors = {str(e.get("externalId")): e for e in result.errors}
        results = []
        for op in batch:
            err = errors.get(op.key)
            if err is None:
                results.append(ItemResult(op, ok=True))
            else:
                code = str(err.get("code") or "")
                results.append(ItemResult(op, ok=False, code=code or None,
                                          message=str(err.get("error") or err.get("message") or code),
                                          forget=_product_gone(code, str(err.get("error", "")))))
        return results


def _stock_groups(ops: Sequence[PlannedOp]) -> tuple[list[PlannedOp], list[PlannedOp], list[PlannedOp]]:
    """Stock ops in the order they are sent: products Elebne has (first), products being created (after their
    create), products whose update touches their variants (after that update: a renamed variant is known to
    Elebne by its new label only once the update is through)."""
    creating = {op.key for op in ops if op.action == "create"}
    relabelling = {op.key for op in ops if op.action == "update" and "variants" in op.body}
    stock = [op for op in ops if op.action == "stock"]
    return ([op for op in stock if op.key not in creating and op.key not in relabelling],
            [op for op in stock if op.key in creating],
            [op for op in stock if op.key in relabelling and op.key not in creating])


def _product_gone(code: str, message: str) -> bool:
    """A bulk item error saying the product itself no longer exists on Elebne (not one of its variants): the
    binding is dropped so the next run re-creates it.  The documented error has only a message; the sandbox
    adds a code, which is trusted when present."""
    if code:
        return code == "PRODUCT_NOT_FOUND"
    text = message.lower()
    return "not found" in text and "variant" not in text
