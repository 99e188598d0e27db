"""How a plan is pushed to EcomLinx.

EcomLinx is flat: one product per SKU, matched by SKU (``prepare`` splits canonical products into one per
SKU before planning).  There is no create endpoint, so a planned "create" means "first time we push this
SKU": it PATCHes the existing product with the whole payload.  A SKU EcomLinx does not have is *skipped*
("not on EcomLinx: create it there first"), remembered in the state, and re-checked only when the product
listing is next refreshed; an archived one is skipped as "archived in the source and never listed on EcomLinx"
(``ARCHIVED_NOT_LISTED``: nothing to create, so nothing to ask of the merchant), and one the listing has is
pushed as today (taken off sale, ``inactive``).

Order: stock first (``PATCH /inventory/{sku}``, absolute quantity), then catalogue (``PATCH /products/{id}``).
Every call shares one per-key budget, so every request goes in one lane of the shared executor: when the
budget is spent (or EcomLinx keeps answering 429 after the HTTP layer's retries), everything not yet sent is
deferred to the next run.  401/403 and network failure stop the run as "unreachable" after accounting for
every operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from connector.errors import ConnectorError, MarketplaceUnreachable
from connector.http import RateLimitedTooLong, TransportError
from connector.marketplaces.ecomlinx.allocations import Share, allocate, parse_policy
from connector.marketplaces.ecomlinx.client import OP_CLASS, EcomLinxClient
from connector.marketplaces.ecomlinx.errors import EcomLinxError, NotFound
from connector.marketplaces.ecomlinx.matching import Match, SkuIndex
from connector.marketplaces.ecomlinx.payloads import problems, product_body
from connector.marketplaces.wording import FieldProblem, explain
from connector.model import Product
from connector.sync.answers import Classifier, Verdict
from connector.sync.archived import skip_archived
from connector.sync.executor import Executor
from connector.sync.ops import CATALOGUE, STOCK, AdapterBase, ItemResult, PlannedOp, ResultSink
from connector.sync.state import StateStore

NOT_ON_ECOMLINX = "not on EcomLinx: create it there first"
NOT_ON_ECOMLINX_CODE = "not_on_ecomlinx"
# a dry run without credentials cannot read the SKU listing: what it says of a SKU pushed for the first time
MATCH_AT_PUSH = "would be matched by SKU at push time"
MATCH_AT_PUSH_CODE = "match_at_push"
LISTING_READ = "reading the EcomLinx product listing (to match SKUs)"  # what a row says when that read failed
# what a dry run that read the listing says of a SKU pushed for the first time and found there (no code: it is
# counted as the "create" the real run performs, a PATCH of every field of the product EcomLinx has)
MATCHED = "matched by SKU: every field would be sent"
# What EcomLinx's answers mean: the rules every marketplace shares (a refused key, 429s after the retries...),
# and any other error answer fails the item.
CLASSIFIER = Classifier(errors=(EcomLinxError,))


def split_by_sku(products: Sequence[Product]) -> list[Product]:
    """One canonical product per SKU, keyed by the SKU, as EcomLinx stores them.

    A variant's product is named "<product name> – <variant label>" (EcomLinx's own style, e.g. "Premium
    Cotton T-Shirt – Blue / M"); the parent's name and the label stay in ``extra`` for mappings that want
    another form.  A variant is active only if its product is.
    """
    out: list[Product] = []
    for p in products:
        for v in p.variants:
            name = p.name
            label = v.label if v.attributes else None
            if label and isinstance(name, str) and name:
                name = f"{name} – {label}"
            images = v.images if v.images else p.images
            out.append(Product(
                key=v.sku, name=name, description=p.description, brand=p.brand, category_path=p.category_path,
                images=images, active=p.active and v.active, kind=p.kind, translations=p.translations,
                variants=[v], ref=v.ref or p.ref,
                extra={**p.extra, "parent_key": p.key, "parent_name": p.name, "variant_label": label}))
    return out


class EcomLinxAdapter(AdapterBase):
    roles: ClassVar[dict[str, str]] = {"product": CATALOGUE, "stock": STOCK}
    untracked_stock_left = "EcomLinx keeps the quantity it has for the SKU"
    invalid_code = "invalid_payload"
    matches_listings = True  # an archived SKU the state does not know is skipped only if the listing lacks it

    def __init__(self, client: EcomLinxClient, *, account: str, settings: dict[str, Any] | None = None,
                 state: StateStore | None = None) -> None:
        from datetime import timedelta

        settings = self.settings = settings or {}
        self.client, self.account = client, account
        self.read_only = bool(settings.get("read_only"))
        self.plan_name = str(settings.get("plan") or "")
        self.currency = settings.get("currency") or None
        self._max_age_minutes = float(settings.get("listing_max_age_minutes", 60))
        self.max_age = timedelta(minutes=self._max_age_minutes)
        self.state = state
        self._index: SkuIndex | None = None
        self._listing_error: EcomLinxError | None = None  # the listing read failed in this run (``_lookup``)
        self.not_on_ecomlinx: set[str] = set()
        self.unmatched_in_dry_run = 0  # first pushes a dry run could not match (no credentials, listing unread)
        self.listing_unread: str | None = None  # why a dry run could not read the listing

    # -- optional runner hooks --------------------------------------------------------------------------------
    def full_run(self) -> None:
        """``--full``: the SKU listing is read again whatever its age (a product just created on EcomLinx is
        matched now, not once the cached listing is ``listing_max_age_minutes`` old)."""
        from datetime import timedelta

        self.max_age = timedelta(0)

    def prepare(self, products: list[Product], state: StateStore) -> list[Product]:
        """Before planning: keep the state (SKU map cache) and split products per SKU."""
        self.state = state
        return split_by_sku(products)

    def report_extras(self) -> tuple[dict[str, int], list[str]]:
        """Counts and notes for the run summary."""
        n = len(self.not_on_ecomlinx)
        notes = []
        if n:
            notes.append(f"{n} SKU(s) are not on EcomLinx: create them there first; they are checked again when "
                         f"the product listing is next refreshed (every {self._max_age_minutes:.0f} min, after a "
                         "404, or now with --full)")
        if self.unmatched_in_dry_run:
            why = f"the listing could not be read ({self.listing_unread})" if self.listing_unread else \
                "no credentials to read the listing"
            notes.append(f"{self.unmatched_in_dry_run} SKU(s) would be matched by SKU at push time ({why}): "
                         "EcomLinx has no create call, so a SKU it does not have will be skipped as "
                         f"'{NOT_ON_ECOMLINX}'")
        return {NOT_ON_ECOMLINX_CODE: n}, notes

    @property
    def index(self) -> SkuIndex:
        if self._index is None:
            if self.state is None:
                self.state = StateStore.open(":memory:")
            self._index = SkuIndex(self.client, self.state, self.account, max_age=self.max_age)
        return self._index

    # -- planning hooks --------------------------------------------------------------------------------------
    def normalize(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Stock without a known quantity is not sent; an allocation policy becomes concrete numbers."""
        if kind != "stock":
            return payload
        quantity = payload.get("quantity")
        if quantity is None:
            return None
        policy = payload.pop("allocations", None)
        if policy and isinstance(quantity, int) and quantity >= 0:
            shares: tuple[Share, ...] = parse_policy(policy, "defaults.allocations")
            payload["allocations"] = allocate(quantity, shares)
        return payload

    def problems(self, op: PlannedOp) -> list[FieldProblem]:
        found = explain(problems(op.action, op.body), op.body, op.record)
        if not found and op.kind == "product" and self.currency:
            currency = op.payload.get("currency")
            if currency not in (None, self.currency):
                found.append(FieldProblem(op.key, "", None, f"price is in {currency} but the EcomLinx account "
                                          f"sells in {self.currency} (settings.currency): not sent"))
        return found

    def preview(self, ops: list[PlannedOp], can_read: bool) -> list[ItemResult]:
        """What ``push`` would give, without writing: invalid ops, and with credentials the SKUs the listing
        (read, and cached as a real run caches it) does not have; without them, first pushes are matched at
        push time.  An answer that would stop the real run (a refused key, no answer at all) raises
        ``MarketplaceUnreachable``, as the push does."""
        if self.read_only:  # the push would stop before sending anything
            return [ItemResult(op, ok=False, deferred=True, message=f"not sent: {self._read_only_reason()}")
                    for op in ops]
        results = []
        for op in [op for op in ops if op.action == "stock"] + [op for op in ops if op.action != "stock"]:
            problem = self.validate(op)
            if problem:
                results.append(ItemResult(op, ok=False, code=self.invalid_code, message=problem))
                continue
            match = None
            if can_read and self.listing_unread is None:
                try:
                    match = self.index.lookup(op.key)
                except (EcomLinxError, ConnectorError, TransportError, RateLimitedTooLong) as exc:
                    rule = CLASSIFIER.classify(exc)
                    if rule is not None and rule.verdict is Verdict.STOP:  # a refused key: the real run stops
                        raise MarketplaceUnreachable(rule.describe(exc)) from exc
                    self.listing_unread = str(exc)
            if match is None:
                if op.action == "create":
                    self.unmatched_in_dry_run += 1
                    results.append(ItemResult(op, ok=True, code=MATCH_AT_PUSH_CODE, message=MATCH_AT_PUSH))
            elif match.found:
                if op.action == "create":
                    results.append(ItemResult(op, ok=True, remote_id=match.product_id, message=MATCHED))
            else:
                result = self._unmatched(op, match)
                if result.code == NOT_ON_ECOMLINX_CODE:
                    self.not_on_ecomlinx.add(op.key)
                results.append(result)
        return results

    def calls_needed(self, ops: Sequence[PlannedOp]) -> dict[str, int]:
        """One call per SKU (stock or product fields), plus at least one page of the product listing when the
        SKU map is not cached; every call spends the one budget class."""
        n = sum(1 for op in ops if op.action in ("create", "update", "stock"))
        return {OP_CLASS: n + (1 if n else 0)}

    # -- push ------------------------------------------------------------------------------------------------
    def push(self, ops: list[PlannedOp], sink: ResultSink) -> None:
        ordered = [op for op in ops if op.action == "stock"] + [op for op in ops if op.action != "stock"]
        ex = Executor(sink, CLASSIFIER)
        if self.read_only and ordered:
            ex.stop(ordered, self._read_only_reason())
            ex.finish()
        missing: list[str] = []
        try:
            for op in ordered:
                result = self._push_one(ex, op)
                if result is not None and result.skipped and result.code == NOT_ON_ECOMLINX_CODE:
                    missing.append(op.key)
        finally:
            self.not_on_ecomlinx.update(missing)
            if missing and self.state is not None:
                self.index.note_missing(sorted(set(missing)))
        ex.finish()

    def _read_only_reason(self) -> str:
        return f"EcomLinx {self.plan_name or 'this'} plan keys are read-only: writes need a Scale plan key " \
               "(settings.plan)"

    def _push_one(self, ex: Executor, op: PlannedOp) -> ItemResult | None:
        halted = ex.halt_reason(OP_CLASS)
        if halted is not None:
            # SKUs the loaded map already says EcomLinx lacks are still reported as such, not deferred
            if self._index is not None and self._index.known_missing(op.key):
                return ex.record(self._unmatched(op, Match(op.key, None)))
            ex.defer([op], halted)
            return None
        problem = self.validate(op)
        if problem:
            return ex.record(ItemResult(op, ok=False, code=self.invalid_code, message=problem))
        looked_up, match = ex.read([op], lambda: self._lookup(op.key), lane=OP_CLASS, what=LISTING_READ)
        if not looked_up or match is None:
            return None
        if not match.found:
            return ex.record(self._unmatched(op, match))
        results = ex.send(op.action, [op], lambda: self._send_or_refresh(op, match), lane=OP_CLASS)
        return results[0] if results else None

    def _lookup(self, sku: str) -> Match:
        """``index.lookup``; once the listing read failed in this run, its error again for every later SKU
        instead of reading every page again for each (the first error tells each row what failed)."""
        if self._listing_error is not None:
            raise self._listing_error
        try:
            return self.index.lookup(sku)
        except EcomLinxError as exc:
            self._listing_error = exc
            raise

    def _send_or_refresh(self, op: PlannedOp, match: Match) -> ItemResult:
        try:
            return self._send(op, match)
        except NotFound:
            return self._after_404(op)

    def _after_404(self, op: PlannedOp) -> ItemResult:
        """The cached id (or SKU) is gone: read the listing again (once per run) and retry once."""
        try:
            if self.index.refresh_after_404():
                match = self.index.lookup(op.key)
                if match.found:
                    return self._send(op, match)
            else:
                match = self.index.lookup(op.key)
        except NotFound:
            match = Match(op.key, None)
        if match.found:  # listed, yet 404 again: not something a new listing fixes
            return ItemResult(op, ok=False, code="not_found",
                              message=f"EcomLinx lists SKU {op.key} as {match.product_id} but answers 404 for it")
        return self._unmatched(op, match)

    def _unmatched(self, op: PlannedOp, match: Match) -> ItemResult:
        if match.duplicate_ids:
            return ItemResult(op, ok=False, code="duplicate_sku",
                              message=f"{len(match.duplicate_ids)} EcomLinx products have SKU {op.key} "
                                      f"({', '.join(match.duplicate_ids)}): keep one there")
        # forget: if it had been pushed before, it was deleted there; re-created later, it is pushed in full again
        archived = skip_archived(op, "EcomLinx", self.settings, forget=True)  # nothing to create: nothing to ask
        if archived is not None:
            return archived
        return ItemResult(op, ok=False, skipped=True, forget=True, code=NOT_ON_ECOMLINX_CODE,
                          message=NOT_ON_ECOMLINX)

    def _send(self, op: PlannedOp, match: Match) -> ItemResult:
        if op.action == "stock":
            body = op.body
            self.client.set_inventory(op.key, int(body["quantity"]), body.get("allocations"))
            return ItemResult(op, ok=True, remote_id=match.product_id)
        fields = product_body(op.body)
        if fields:
            self.client.update_product(str(match.product_id), fields)
        return ItemResult(op, ok=True, remote_id=match.product_id)
