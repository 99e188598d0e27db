"""How a plan is pushed to Elryan: dependencies first, then products, then price & stock.

Elryan refers to categories, brands, attributes and attribute values by our ``remote_id``, and refuses a
product whose references it does not know.  So the push runs in this order:

1. categories, parents before children; 2. brands; 3. attributes; 4. attribute values; 5. products
(upsert by ``spu`` with their variants by ``sku`` and translations); 6. price & stock, in batches of
``batch_size`` SKUs across products.

The shared records come from the product payloads being sent.  Each one confirmed by Elryan is kept in the
state file under its own kind (``category``, ``brand``, ``attribute``, ``attribute_value``; key
``<kind>:<remote_id>``, with Elryan's id as remote id), so a later run sends only the ones that are new or
changed.  A record whose parent failed is not sent; a product whose category, brand, attribute or value
failed is reported *blocked*, not sent; and the price & stock of a product that was not accepted likewise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connector.errors import BudgetExhausted, MarketplaceUnreachable
from connector.http import RateLimitedTooLong, TransportError
from connector.jsonutil import canonical_json, digest
from connector.marketplaces.base import ItemResult, ResultSink
from connector.marketplaces.elryan.client import ElryanClient
from connector.marketplaces.elryan.errors import ElryanError
from connector.marketplaces.elryan.payloads import check
from connector.sync.plan import CATALOGUE, STOCK, PlannedOp

DEPENDENCY_KINDS = ("category", "brand", "attribute", "attribute_value")
TREE_FIELD = "category_tree"  # added by normalize: the category path as records, root first; never sent
_UPSERT = {"category": "upsert_category", "brand": "upsert_brand", "attribute": "upsert_attribute",
           "attribute_value": "upsert_attribute_value"}
_STOPPERS = (BudgetExhausted, RateLimitedTooLong, TransportError)


def slug(text: str) -> str:
    """The remote-id form of a name: trimmed, lower case, inner spaces as dashes (same rule as the mapping)."""
    return "-".join(str(text).strip().lower().split(" "))


def category_tree(path: list[str], prefix: str) -> list[dict[str, Any]]:
    """``["Electronics", "Phones"]`` -> one upsert body per level, root first, each naming its parent."""
    nodes: list[dict[str, Any]] = []
    parent: str | None = None
    for depth in range(len(path)):
        remote_id = prefix + "/".join(slug(p) for p in path[:depth + 1])
        nodes.append({"name": str(path[depth]).strip(), "remote_id": remote_id, "remote_parent_id": parent,
                      "is_active": True})
        parent = remote_id
    return nodes


@dataclass(slots=True)
class _Dependency:
    kind: str
    remote_id: str
    body: dict[str, Any]
    parent: tuple[str, str] | None = None  # (kind, remote_id) that must exist first
    products: list[PlannedOp] = field(default_factory=list)

    @property
    def ident(self) -> tuple[str, str]:
        return self.kind, self.remote_id

    @property
    def state_key(self) -> str:
        return f"{self.kind}:{self.remote_id}"


class ElryanAdapter:
    roles: ClassVar[dict[str, str]] = {"product": CATALOGUE, "price_stock": STOCK}

    def __init__(self, client: ElryanClient, *, account: str, batch_size: int = 100,
                 category_prefix: str = "cat-") -> None:
        if batch_size < 1:
            raise ValueError("Elryan price_stock_batch_size must be at least 1")
        self.client = client
        self.account = account
        self.batch_size = batch_size
        self.category_prefix = category_prefix

    # -- planning hooks --------------------------------------------------------------------------------------
    def normalize(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if kind == "price_stock":
            items = []
            for item in payload.get("items") or []:
                kept = {k: v for k, v in item.items() if v is not None}
                if len(kept) > 1:  # a SKU and something to update
                    items.append(kept)
            if not items:
                return None
            payload["items"] = items
            return payload
        if kind == "product":
            category = payload.get("category")
            if isinstance(category, list | tuple):
                path = [str(p) for p in category if str(p).strip()]
                if path:
                    nodes = category_tree(path, self.category_prefix)
                    leaf = nodes[-1]
                    payload["category"] = {"name": leaf["name"], "remote_id": leaf["remote_id"],
                                           "parent_remote_id": leaf["remote_parent_id"]}
                    payload[TREE_FIELD] = nodes
                else:
                    payload["category"] = None
        return payload

    def validate(self, op: PlannedOp) -> str | None:
        if op.kind == "product":
            return check("product", request_body(op.payload))
        for i, item in enumerate(op.payload.get("items") or []):
            problem = check("price_stock_item", item)
            if problem:
                return f"items[{i}] ({item.get('sku')}): {problem}"
        return None

    # -- push ------------------------------------------------------------------------------------------------
    def push(self, ops: list[PlannedOp], sink: ResultSink) -> None:
        run = _Run(self, sink)
        products = [op for op in ops if op.kind == "product" and op.action in ("create", "update")]
        stock = [op for op in ops if op.action == "stock"]
        ready = []
        for op in products:
            problem = self.validate(op)
            if problem:
                run.fail(op, problem, code="INVALID_PAYLOAD")
            else:
                ready.append(op)
        dependencies = collect_dependencies(ready)
        failed = run.push_dependencies(dependencies)
        needs = _needs_by_product(dependencies)
        for op in ready:
            broken = [d for d in needs.get(op.key, []) if d in failed]
            if run.stopped is not None:
                run.deferred([op])
            elif broken:
                kind, rid = broken[0]
                run.blocked(op, f"not sent: {kind.replace('_', ' ')} {rid} failed: {failed[broken[0]]}")
            else:
                run.each(op, self._upsert_product)
        not_accepted = {op.key for op in products} - run.accepted
        for op in stock:
            if op.key in run.deferred_keys:
                run.deferred([op])
            elif op.key in not_accepted:
                run.blocked(op, "not sent: the product was not accepted by Elryan")
        run.price_stock([op for op in stock if op.key not in not_accepted])
        run.finish()

    def _upsert_product(self, op: PlannedOp) -> ItemResult:
        data = self.client.upsert_product(request_body(op.payload)) or {}
        return ItemResult(op, ok=True, remote_id=str(data.get("id") or "") or None)


def request_body(payload: dict[str, Any]) -> dict[str, Any]:
    """The product upsert as sent: the payload without the fields only the adapter uses."""
    return {k: v for k, v in payload.items() if k != TREE_FIELD}


def collect_dependencies(ops: Iterable[PlannedOp]) -> list[_Dependency]:
    """The shared records the products refer to, in push order (categories by depth, then brands, attributes,
    values); each lists the products that need it."""
    found: dict[tuple[str, str], _Dependency] = {}

    def add(kind: str, remote_id: str, body: dict[str, Any], op: PlannedOp,
            parent: tuple[str, str] | None = None) -> None:
        dep = found.get((kind, remote_id))
        if dep is None:
            dep = found[(kind, remote_id)] = _Dependency(kind, remote_id, body, parent)
        if all(other is not op for other in dep.products):
            dep.products.append(op)

    for op in ops:
        p = op.payload
        nodes = p.get(TREE_FIELD) or []
        for node in nodes:
            parent = ("category", node["remote_parent_id"]) if node.get("remote_parent_id") else None
            add("category", node["remote_id"], dict(node), op, parent)
        brand = p.get("brand") or {}
        add("brand", brand["remote_id"], {"name": brand["name"], "remote_id": brand["remote_id"], "is_active": True},
            op)
        for variant in p.get("variants") or []:
            for a in variant.get("attributes") or []:
                attribute = {"name": a["name"], "remote_id": a["remote_attribute_id"], "is_active": True}
                add("attribute", a["remote_attribute_id"], attribute, op)
                add("attribute_value", a["remote_attribute_value_id"],
                    {"value": a["value"], "remote_id": a["remote_attribute_value_id"], "is_active": True,
                     "attribute": attribute}, op, ("attribute", a["remote_attribute_id"]))
    order = {kind: i for i, kind in enumerate(DEPENDENCY_KINDS)}
    deps = list(found.values())
    deps.sort(key=lambda d: (order[d.kind], _depth(d, found)))  # stable: first-seen order within a level
    return deps


def _depth(dep: _Dependency, found: dict[tuple[str, str], _Dependency]) -> int:
    depth, parent = 0, dep.parent
    while parent is not None and parent in found and parent[0] == dep.kind and depth < 100:
        depth += 1
        parent = found[parent].parent
    return depth


def _needs_by_product(deps: list[_Dependency]) -> dict[str, list[tuple[str, str]]]:
    needs: dict[str, list[tuple[str, str]]] = {}
    for dep in deps:
        for op in dep.products:
            needs.setdefault(op.key, []).append(dep.ident)
    return needs


class _Run:
    """One push: sends, records every outcome through the sink, and stops cleanly when it has to."""

    def __init__(self, adapter: ElryanAdapter, sink: ResultSink) -> None:
        self.adapter, self.client, self.sink = adapter, adapter.client, sink
        self.accepted: set[str] = set()
        self.deferred_keys: set[str] = set()
        self.stopped: Exception | None = None  # budget spent / unreachable / credentials refused

    # outcomes
    def fail(self, op: PlannedOp, message: str, *, code: str | None = None, journal: int = 0,
             forget: bool = False) -> None:
        self.sink.done(journal, [ItemResult(op, ok=False, code=code, message=message, forget=forget)])

    def blocked(self, op: PlannedOp, message: str) -> None:
        self.sink.done(0, [ItemResult(op, ok=False, blocked=True, message=message)])

    def deferred(self, ops: list[PlannedOp], journal: int = 0) -> None:
        reason = f"not sent: {self.stopped}"
        self.deferred_keys.update(op.key for op in ops)
        self.sink.done(journal, [ItemResult(op, ok=False, deferred=True, message=reason) for op in ops])

    def _stop_on(self, exc: Exception) -> bool:
        """Whether ``exc`` ends the push (remaining operations are deferred to the next run)."""
        if isinstance(exc, _STOPPERS):
            self.stopped = exc
            return True
        if isinstance(exc, ElryanError) and exc.auth_rejected:
            self.stopped = MarketplaceUnreachable(f"Elryan refused the credentials of {self.client.email}: "
                                                  f"{exc.message}")
            return True
        return False

    def each(self, op: PlannedOp, send: Callable[[PlannedOp], ItemResult]) -> ItemResult | None:
        if self.stopped is not None:
            self.deferred([op])
            return None
        journal = self.sink.sending(op.action, [op])
        try:
            result = send(op)
        except ElryanError as exc:
            if self._stop_on(exc):
                self.deferred([op], journal)
                return None
            result = ItemResult(op, ok=False, code=exc.code, message=exc.message, forget=False)
        except _STOPPERS as exc:
            self._stop_on(exc)
            self.deferred([op], journal)
            return None
        self.sink.done(journal, [result])
        if result.ok:
            self.accepted.add(op.key)
        return result

    # dependencies
    def push_dependencies(self, deps: list[_Dependency]) -> dict[tuple[str, str], str]:
        known = {kind: _confirmed(self.sink, kind) for kind in DEPENDENCY_KINDS}
        failed: dict[tuple[str, str], str] = {}
        for dep in deps:
            text = canonical_json(dep.body)
            h = digest(text)
            previous = known[dep.kind].get(dep.state_key)
            op = PlannedOp("create" if previous is None else "update", dep.kind, dep.state_key, dep.body, dep.body,
                           text, h, dep.products[0].product)
            if dep.parent is not None and dep.parent in failed:
                failed[dep.ident] = f"its parent {dep.parent[1]} failed"
                self.blocked(op, f"not sent: {dep.parent[0].replace('_', ' ')} {dep.parent[1]} failed")
                continue
            if previous == h:
                continue
            problem = check(dep.kind, dep.body)
            if problem:
                failed[dep.ident] = problem
                self.fail(op, problem, code="INVALID_PAYLOAD")
                continue
            result = self.each(op, self._upsert(dep.kind))
            if result is None:
                failed[dep.ident] = f"not sent ({self.stopped})"
            elif not result.ok:
                failed[dep.ident] = result.message or "refused"
        return failed

    def _upsert(self, kind: str) -> Callable[[PlannedOp], ItemResult]:
        method = getattr(self.client, _UPSERT[kind])

        def send(op: PlannedOp) -> ItemResult:
            data = method(op.body) or {}
            return ItemResult(op, ok=True, remote_id=str(data.get("id") or "") or None)

        return send

    # price & stock
    def price_stock(self, ops: list[PlannedOp]) -> None:
        valid = []
        for op in ops:
            problem = self.adapter.validate(op)
            if problem:
                self.fail(op, problem, code="INVALID_PAYLOAD")
            else:
                valid.append(op)
        for group in _batches(valid, self.adapter.batch_size):
            if self.stopped is not None:
                self.deferred(group)
                continue
            self._send_group(group)

    def _send_group(self, group: list[PlannedOp]) -> None:
        journal = self.sink.sending("stock", group)
        items = [item for op in group for item in op.payload["items"]]
        found: set[str] = set()
        not_found: set[str] = set()
        try:
            for start in range(0, len(items), self.adapter.batch_size):
                answer = self.client.update_price_stock(items[start:start + self.adapter.batch_size])
                found.update(answer.found)
                not_found.update(answer.not_found)
        except ElryanError as exc:
            if self._stop_on(exc):
                self.deferred(group, journal)
            else:
                self.sink.done(journal, [ItemResult(op, ok=False, code=exc.code, message=exc.message)
                                         for op in group])
            return
        except _STOPPERS as exc:
            self._stop_on(exc)
            self.deferred(group, journal)
            return
        results = []
        for op in group:
            skus = [str(item["sku"]) for item in op.payload["items"]]
            missing = [s for s in skus if s not in found]
            if not missing:
                results.append(ItemResult(op, ok=True))
                continue
            gone = all(s in not_found for s in skus) and op.key not in self.accepted
            results.append(ItemResult(op, ok=False, code="SKU_NOT_FOUND", forget=gone,
                                      message=f"SKU(s) not found on Elryan: {', '.join(missing)}"))
        self.sink.done(journal, results)

    def finish(self) -> None:
        if isinstance(self.stopped, MarketplaceUnreachable):
            raise self.stopped
        if isinstance(self.stopped, TransportError):
            raise MarketplaceUnreachable(str(self.stopped))


def _batches(ops: list[PlannedOp], size: int) -> list[list[PlannedOp]]:
    """Whole products packed into groups of at most ``size`` SKUs (a bigger product is a group of its own,
    sent in several requests)."""
    groups: list[list[PlannedOp]] = []
    current: list[PlannedOp] = []
    count = 0
    for op in ops:
        n = len(op.payload.get("items") or [])
        if current and count + n > size:
            groups.append(current)
            current, count = [], 0
        current.append(op)
        count += n
    if current:
        groups.append(current)
    return groups


def _confirmed(sink: ResultSink, kind: str) -> dict[str, str]:
    """What earlier runs confirmed for a dependency kind (a sink without state knows nothing: send all)."""
    confirmed = getattr(sink, "confirmed", None)
    return dict(confirmed(kind)) if callable(confirmed) else {}
