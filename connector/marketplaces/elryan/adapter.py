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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from connector.jsonutil import canonical_json, digest
from connector.marketplaces.elryan.client import ElryanClient
from connector.marketplaces.elryan.errors import ElryanError
from connector.marketplaces.elryan.payloads import problems
from connector.marketplaces.shapes import join_problems
from connector.marketplaces.wording import FieldProblem, explain, sibling_problems
from connector.sync.answers import Classifier, Rule, Verdict
from connector.sync.archived_check import LookupFailed
from connector.sync.executor import Executor
from connector.sync.ops import CATALOGUE, INVALID_PAYLOAD, STOCK, AdapterBase, ItemResult, PlannedOp, ResultSink

DEPENDENCY_KINDS = ("category", "brand", "attribute", "attribute_value")
TREE_FIELD = "category_tree"  # added by normalize: the category path as records, root first; never sent
_UPSERT = {"category": "upsert_category", "brand": "upsert_brand", "attribute": "upsert_attribute",
           "attribute_value": "upsert_attribute_value"}
LANE = "api"  # Elryan documents no budget classes: whatever halts one request halts them all
_DEPENDENCY_FIELDS = {"category": "Category", "brand": "Brand", "attribute": "Attribute column",
                      "attribute_value": "Attribute"}


def answer_classifier(email: str) -> Classifier:
    """What Elryan's answers mean (the rules every marketplace shares follow): a refused login or token (after
    the client renewed it once) stops the run; any other error answer fails the item."""
    shown = email.replace("{", "{{").replace("}", "}}")
    refused = Rule(Verdict.STOP, (ElryanError,), when=lambda exc: getattr(exc, "auth_rejected", False),
                   reason=f"Elryan refused the credentials of {shown}: {{exc.message}}")
    return Classifier(rules=(refused,), errors=(ElryanError,))


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


class ElryanAdapter(AdapterBase):
    roles: ClassVar[dict[str, str]] = {"product": CATALOGUE, "price_stock": STOCK}
    stock_blocked_by = ("create", "update")  # price & stock waits for its product's upsert, create or update
    stock_blocked_message = "not sent: the product was not accepted by Elryan"
    untracked_stock_left = ("a variant Elryan creates without stock lists 0 (inferred), so it cannot be bought until "
                            "a quantity is sent; one already listed keeps its stock")

    def __init__(self, client: ElryanClient, *, account: str, batch_size: int = 100,
                 category_prefix: str = "cat-") -> None:
        if batch_size < 1:
            raise ValueError("Elryan price_stock_batch_size must be at least 1")
        self.client = client
        self.account = account
        self.batch_size = batch_size
        self.category_prefix = category_prefix
        self.classifier = answer_classifier(client.email)

    def has_listing(self, key: str) -> bool:
        """Whether Elryan lists the product ``key``: the documented product search by ``spu`` (exact match kept),
        for an archived product the state does not know (``archived_check.py``); an error answer fails it."""
        try:  # (pages read until the exact one: should Elryan match a part of the spu, as it does names)
            return any(p.get("spu") == key for p in self.client.iter_search("search_products", {"spu": key}))
        except ElryanError as exc:
            raise LookupFailed(str(exc)) from exc

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

    def problems(self, op: PlannedOp) -> list[FieldProblem]:
        """The product (with the categories, brand and attribute values it needs, and the rules of sibling
        variants) or each price & stock item, in the merchant's words."""
        if op.kind == "product":
            body = request_body(op.payload)
            found = explain(problems("product", body), body, op.record)
            for dep in collect_dependencies([op]) if not found else ():  # built from a valid product only
                field = _DEPENDENCY_FIELDS[dep.kind]
                if dep.kind == "attribute_value":
                    field = f"Attribute: {dep.body['attribute'].get('name')}"
                shown = dep.body.get("name", dep.body.get("value"))
                found.extend(FieldProblem(None, field, shown, p.reason if p.field in ("name", "value") else
                                          f"makes an Elryan {dep.kind.replace('_', ' ')} it refuses: {p}",
                                          op.product.ref, op.key)
                             for p in problems(dep.kind, dep.body))
            found.extend(p for p in sibling_problems(op.product) if p not in found)
            return found
        found = []
        for i, item in enumerate(op.payload.get("items") or []):
            found.extend(explain([replace(p, path=("items", i, *p.path)) for p in problems("price_stock_item", item)],
                                 op.payload, op.record))
        return found

    def calls_needed(self, ops: Sequence[PlannedOp]) -> dict[str, int]:
        """At most: one login, one upsert per shared record the products refer to (those an earlier run sent
        are skipped when pushing) and per product, and price & stock in requests of ``batch_size`` SKUs."""
        products = [op for op in ops if op.kind == "product" and op.action in ("create", "update")]
        stock = [op for op in ops if op.action == "stock"]
        writes = len(collect_dependencies(products)) + len(products)
        stock_calls = sum(-(-max(1, sum(len(op.payload.get("items") or []) for op in group)) // self.batch_size)
                          for group in _batches(stock, self.batch_size))
        return {"auth": 1 if writes or stock_calls else 0, "write": writes, "stock": stock_calls}

    # -- push ------------------------------------------------------------------------------------------------
    def push(self, ops: list[PlannedOp], sink: ResultSink) -> None:
        ex = Executor(sink, self.classifier)
        products = [op for op in ops if op.kind == "product" and op.action in ("create", "update")]
        stock = [op for op in ops if op.action == "stock"]
        ready = ex.valid(products, self.validate)
        dependencies = collect_dependencies(ready)
        failed = self._push_dependencies(ex, dependencies, sink)
        needs = _needs_by_product(dependencies)
        accepted: set[str] = set()
        for op in ready:
            broken = [d for d in needs.get(op.key, []) if d in failed]
            if broken and ex.halt_reason(LANE) is None:
                kind, rid = broken[0]
                ex.block([op], f"not sent: {kind.replace('_', ' ')} {rid} failed: {failed[broken[0]]}")
            else:
                accepted |= ex.each([op], self._upsert_product, lane=LANE)
        not_accepted = {op.key for op in products} - accepted
        for op in stock:
            if op.key in ex.deferred_keys:
                ex.defer([op], ex.halt_reason(LANE) or "the product was deferred")
            elif op.key in not_accepted:
                ex.block([op], self.stock_blocked_message)
        valid = ex.valid([op for op in stock if op.key not in not_accepted], self.validate)
        for group in _batches(valid, self.batch_size):
            ex.send("stock", group, lambda group=group: self._price_stock(group, accepted), lane=LANE)
        ex.finish()

    def _upsert_product(self, op: PlannedOp) -> ItemResult:
        data = self.client.upsert_product(request_body(op.payload)) or {}
        return ItemResult(op, ok=True, remote_id=str(data.get("id") or "") or None)

    def _push_dependencies(self, ex: Executor, deps: list[_Dependency],
                           sink: ResultSink) -> dict[tuple[str, str], str]:
        """Send the shared records that are new or changed; returns those that failed, with why."""
        known = {kind: sink.confirmed(kind) for kind in DEPENDENCY_KINDS}
        failed: dict[tuple[str, str], str] = {}
        for dep in deps:
            text = canonical_json(dep.body)
            h = digest(text)
            previous = known[dep.kind].get(dep.state_key)
            op = PlannedOp("create" if previous is None else "update", dep.kind, dep.state_key, dep.body, dep.body,
                           text, h, dep.products[0].record)
            if dep.parent is not None and dep.parent in failed:
                failed[dep.ident] = f"its parent {dep.parent[1]} failed"
                ex.block([op], f"not sent: {dep.parent[0].replace('_', ' ')} {dep.parent[1]} failed")
                continue
            if previous == h:
                continue
            problem = join_problems(problems(dep.kind, dep.body))
            if problem:
                failed[dep.ident] = problem
                ex.fail([op], problem, code=INVALID_PAYLOAD)
                continue
            results = ex.send(op.action, [op], lambda op=op, kind=dep.kind: self._upsert(kind, op), lane=LANE)
            if results is None:
                failed[dep.ident] = f"not sent ({ex.halt_reason(LANE)})"
            elif not results[0].ok:
                failed[dep.ident] = results[0].message or "refused"
        return failed

    def _upsert(self, kind: str, op: PlannedOp) -> ItemResult:
        data = getattr(self.client, _UPSERT[kind])(op.body) or {}
        return ItemResult(op, ok=True, remote_id=str(data.get("id") or "") or None)

    def _price_stock(self, group: list[PlannedOp], accepted: set[str]) -> list[ItemResult]:
        """One group of whole products, in requests of at most ``batch_size`` SKUs."""
        items = [item for op in group for item in op.payload["items"]]
        found: set[str] = set()
        not_found: set[str] = set()
        for start in range(0, len(items), self.batch_size):
            answer = self.client.update_price_stock(items[start:start + self.batch_size])
            found.update(answer.found)
            not_found.update(answer.not_found)
        results = []
        for op in group:
            skus = [str(item["sku"]) for item in op.payload["items"]]
            missing = [s for s in skus if s not in found]
            if not missing:
                results.append(ItemResult(op, ok=True))
                continue
            gone = all(s in not_found for s in skus) and op.key not in accepted
            results.append(ItemResult(op, ok=False, code="SKU_NOT_FOUND", forget=gone,
                                      message=f"SKU(s) not found on Elryan: {', '.join(missing)}"))
        return results


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
