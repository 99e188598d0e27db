"""The plan: compare what the mapping produced with what the marketplace last confirmed (design §1).

Each product yields, per payload kind, one of: create, update (changed fields only), stock, unchanged.
Nothing is sent here; ``--dry-run`` stops after planning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import Any

from connector.jsonutil import canonical_json, digest
from connector.mapping import CompiledMapping, RecordMappingError
from connector.model import Product
from connector.sync.archived import ArchivedSift, all_on_sale
from connector.sync.fingerprint import fingerprinter
from connector.sync.ops import CATALOGUE, STOCK, PlannedOp, PlanningAdapter, packed, release
from connector.sync.released_ops import ReleasedOps, op_fields
from connector.sync.state import StateStore
from connector.sync.state.store import STALE_HASH


@dataclass
class Plan:
    marketplace: str
    account: str
    # (a dry run's whose adapter checks ops as they are planned: a ``released_ops.ReleasedOps``, read as a list)
    ops: list[PlannedOp] = field(default_factory=list)
    unchanged: dict[str, set[str]] = field(default_factory=dict)  # kind -> keys
    mapping_failures: list[tuple[Product, str]] = field(default_factory=list)
    products: dict[str, Product] = field(default_factory=dict)  # key -> product (planned ones)
    no_stock: set[str] = field(default_factory=set)  # keys whose source said nothing about stock
    roles: dict[str, str] = field(default_factory=dict)  # payload kind -> CATALOGUE | STOCK (from the adapter)
    # kind -> key -> hash of what the marketplace last confirmed, as the plan read it (read once per run: the
    # missing policy and the guard use it too)
    confirmed: dict[str, dict[str, str]] = field(default_factory=dict)
    # key -> (record fingerprint, then for each payload kind of ``mark_kinds`` the hash of its mapped payload, or
    # None: no payload of that kind) of mapped records whose mark in the state is not that fingerprint yet: saved
    # after a real run (``save_record_marks``) where the confirmed hash is that hash.  One small tuple per record
    # (not a tuple key and a tuple value per payload): about 14 MB less for 100,000 products
    new_marks: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    mark_kinds: tuple[str, ...] = ()  # the payload kinds of ``new_marks``' hashes, in their order
    # SKU -> why it was left out of the plan by ``build_plan``'s ``sift`` (archived.py: an archived product or
    # variant never listed on the marketplace), with the code of its rows: they are skipped with that reason
    left_out: dict[str, tuple[str, str]] = field(default_factory=dict)
    left_out_deferred: int = 0  # products of ``left_out`` whose lookup failed (counted as deferred operations)

    def take_out(self, held: dict[str, str], reasons: dict[str, str]) -> None:
        """Leave the products of ``held`` (key -> why) out of the plan: their operations, planned product, record
        marks (mapped again next run) and unchanged kinds; ``reasons`` gets the why of each of their SKUs (a SKU
        already there keeps its own)."""
        for key, reason in held.items():
            product = self.products.pop(key, None)
            for sku in [key, *(v.sku for v in product.variants if v.sku)] if product else [key]:
                reasons.setdefault(sku, reason)
            self.new_marks.pop(key, None)
            self.no_stock.discard(key)
            for keys in self.unchanged.values():  # (a listed product unchanged in some kind)
                keys.discard(key)
        if held:
            self.ops[:] = [op for op in self.ops if op.key not in held]

    def drop_ops(self, ops: Iterable[PlannedOp]) -> None:
        """Take ``ops`` (these objects) out of the plan, in one pass over it: a ``remove`` per op is one pass each
        (and a dry run's ``released_ops.ReleasedOps`` makes its ops again for each)."""
        gone = {id(op) for op in ops}  # (the ops are alive in the caller's hands: no other op has their ids)
        if gone:
            self.ops[:] = [op for op in self.ops if id(op) not in gone]

    def by_action(self, action: str) -> list[PlannedOp]:
        return [op for op in self.ops if op.action == action]

    def counts(self) -> dict[str, int]:
        out = {a: 0 for a in ("create", "update", "stock", "refresh")}
        for action, _kind, _key in op_fields(self.ops):
            out[action] += 1
        out["unchanged"] = sum(len(keys) for kind, keys in self.unchanged.items() if self.roles.get(kind) == CATALOGUE)
        out["stock_unchanged"] = sum(len(keys) for kind, keys in self.unchanged.items()
                                     if self.roles.get(kind) != CATALOGUE)
        out["mapping_failed"] = len(self.mapping_failures)
        return out


def diff_payload(old: dict[str, Any], new: dict[str, Any], create_only: frozenset[str],
                 match_keys: dict[str, str]) -> dict[str, Any]:
    """Fields of ``new`` that differ from ``old`` (both in canonical JSON form).

    A field missing from ``new`` is absent ("don't touch") and is not sent.  Child collections with a match
    key send only the elements that are new or changed.
    """
    changes: dict[str, Any] = {}
    for name, value in new.items():
        if name in create_only:
            continue
        if name in match_keys and isinstance(value, list):
            mk = match_keys[name]
            before = {_mkey(item.get(mk)): item for item in old.get(name) or [] if isinstance(item, dict)}
            changed = [item for item in value if before.get(_mkey(item.get(mk))) != item]
            if changed:
                changes[name] = changed
        elif old.get(name, _MISSING) != value:
            changes[name] = value
    return changes


_MISSING = object()


def _mkey(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _merge_body(old: dict[str, Any], new: dict[str, Any], match_keys: dict[str, str]) -> dict[str, Any]:
    """The confirmed view after an update: old fields the source no longer provides are kept (untouched)."""
    merged = {**old, **new}
    for name, mk in match_keys.items():
        if isinstance(new.get(name), list) and isinstance(old.get(name), list):
            items = {_mkey(i.get(mk)): i for i in old[name] if isinstance(i, dict)}
            items.update({_mkey(i.get(mk)): i for i in new[name] if isinstance(i, dict)})
            merged[name] = list(items.values())
    return merged


def build_plan(products: Iterable[Product], mapping: CompiledMapping, adapter: PlanningAdapter,
               state: StateStore, marketplace: str, account: str,
               defaults: dict[str, Any] | None = None, context: str | None = None,
               note_marks: bool = True, keep_texts: bool = True,
               check: Callable[[PlannedOp], str | None] | None = None, pack: bool = False,
               stale: dict[str, list[str]] | None = None, stock_only: Container[str] = frozenset(),
               sift: ArchivedSift | None = None, untouched: frozenset[str] = frozenset()) -> Plan:
    """Map each product and compare its payloads with what the marketplace last confirmed.

    ``context`` (``fingerprint.mapping_context``): a product whose fingerprint under it is the mark of every
    payload kind in the state is unchanged without being mapped; None maps every product.  ``note_marks``: keep
    the fingerprints of mapped products for ``save_record_marks`` (a dry run saves nothing: it need not).
    ``keep_texts``: keep the canonical text of each new payload (creates and stock: ``PlannedOp.canonical``), what
    the state stores once it is confirmed; without it (the runner's plans: about 40 MB less for 100,000
    products) the push encodes the payload again when it is confirmed (``ops.stored_text``).  ``check`` (a dry
    run's, for an adapter whose preview only validates: ``AdapterBase.checks_when_planned``): a create or stock op
    of a record no payload kind has confirmed is validated as soon as it is planned, and a valid one lets go of its
    payload there and then (``ops.release``; its preview takes it as valid), and is not even encoded for its digest
    (a dry run confirms nothing; 1 s and 10 MB of 100,000 products): nothing after the plan reads them (the
    missing policy and the guard read the ops of confirmed records only), and the plan of 100,000 products does
    not hold every payload until the preview (about 65 MB).  ``pack`` (a real run's): each create or stock op holds
    its payload as ``marshal`` bytes until the push reads it (``ops.PackedOp``: about 25 MB less for 100,000
    products, held for the whole push).  ``stale`` (a dry run's, kind -> keys): payloads planned as
    ``StateStore.mark_stale`` would leave them, which a real run does before it plans (the state is not touched).
    ``stock_only``: keys of products whose stock payloads alone are mapped and planned (a refused price held back:
    ``price_hold.py``).  ``sift`` (``archived.ArchivedSift``): a product not wholly on sale is planned as it
    returns it (``known``: a payload kind of it is confirmed), without the variants it leaves out, or not at all
    (None).  ``untouched``: record fields the source does not provide although they have a default (a workbook
    without an Active column: every product reads active); an update keeps what the marketplace was last sent for
    the payload fields copied from them (``keep_values``), as for any field a source leaves absent; a create
    gets the default.  The caller puts them in ``context`` too: the same record maps otherwise with them."""
    plan = Plan(marketplace, account, roles=dict(adapter.roles))
    if check is not None:  # most ops let go of their payload as they are planned: held as little (released_ops.py)
        plan.ops = ReleasedOps()  # type: ignore[assignment]
    kinds = list(mapping.payloads)
    plan.mark_kinds = tuple(kinds)
    kind_index = {kind: i for i, kind in enumerate(kinds, 1)}  # where a kind's hash is in a ``new_marks`` entry
    if context:  # hashes and marks in one read of the confirmed payloads
        both = {kind: state.hashes_and_marks(marketplace, account, kind) for kind in kinds}
        confirmed = plan.confirmed = {kind: hashes for kind, (hashes, _marks) in both.items()}
        marks, partial = _common_marks({kind: marks for kind, (_hashes, marks) in both.items()})
    else:
        confirmed = plan.confirmed = {kind: state.hashes(marketplace, account, kind) for kind in kinds}
        marks, partial = None, {}
    for kind, keys in (stale or {}).items():
        hashes = confirmed.get(kind)
        for key in keys if hashes is not None else ():
            if key in hashes:
                hashes[key] = STALE_HASH
                if marks is not None:
                    marks.pop(key, None)
    catalogue_kinds = [k for k in kinds if adapter.roles.get(k) == CATALOGUE]
    key_fields = {kind: mapping.payloads[kind].key_field for kind in kinds}
    for kind in kinds:
        plan.unchanged[kind] = set()
    unchanged_everywhere: list[str] = []  # records unchanged in every kind: added to each kind's set at the end
    pending_updates: list[tuple[str, str, dict[str, Any], str, Product, dict[str, Any]]] = []
    known_products = confirmed[catalogue_kinds[0]] if catalogue_kinds else {}
    planned_products = plan.products
    confirmed_maps = list(confirmed.values())
    fingerprint_of = fingerprinter(context) if marks is not None else None  # type: ignore[arg-type]
    for product in products:
        if sift is not None and not all_on_sale(product):
            sifted = sift(product, any(product.key in hashes for hashes in confirmed_maps))
            if sifted is None:
                continue
            product = sifted
        key = product.key
        fingerprint = None
        if marks is not None:
            # computed only to compare with a mark, or to save it
            mark = marks.get(key)
            if mark is not None or note_marks:
                fingerprint = fingerprint_of(product)  # type: ignore[misc]
                if fingerprint is not None and fingerprint == mark:
                    planned_products[key] = product  # mapped before to what is confirmed: unchanged
                    if key in partial:  # (as when mapped: unchanged in the kinds it has a payload of)
                        for kind in kinds:
                            if kind not in partial[key]:
                                plan.unchanged[kind].add(key)
                        continue
                    unchanged_everywhere.append(key)
                    continue
        try:
            payloads = mapping.apply(product, defaults) if key not in stock_only else {
                kind: mapping.payloads[kind].build(product, defaults) for kind in kinds
                if adapter.roles.get(kind) == STOCK}
            for kind, payload in payloads.items():
                if payload.get(key_fields[kind]) != key:
                    raise _other_key(kind, key_fields[kind], payload.get(key_fields[kind]), key)
        except RecordMappingError as exc:
            plan.mapping_failures.append((product, str(exc)))
            continue
        plan.products[key] = product
        # a kind the whole mapping gave no payload of is noted as such (NO_PAYLOAD), so that the record still skips
        # mapping next time; a stock-only record's other kinds were not mapped (None: nothing known of them)
        new_mark: list[str | None] | None = \
            [fingerprint, *([NO_PAYLOAD if key not in stock_only else None] * len(kinds))] \
            if fingerprint is not None and note_marks else None
        # a dry run's record that no kind confirmed: its ops are checked as planned, and only an invalid one is kept
        # (and encoded for its digest): nothing to compare a valid one's text with, nor to store
        checked_new = check is not None and not any(key in hashes for hashes in confirmed_maps)
        for kind, payload in payloads.items():
            payload = adapter.normalize(kind, payload)
            if payload is None:
                plan.no_stock.add(key)
                continue
            if checked_new:
                op = PlannedOp("stock" if adapter.roles.get(kind) == STOCK else "create", kind, key, payload, payload,
                               "", "", product)
                invalid = check(op)
                if invalid or new_mark is not None:  # (a mark to note, or problems: kept, as the whole plan has it)
                    text = canonical_json(payload)
                    h = digest(text)
                    if new_mark is not None:
                        new_mark[kind_index[kind]] = h
                    if invalid:
                        op.canonical, op.digest = text if keep_texts else "", h
                if not invalid:  # nothing reads its payload before the preview, which takes it as valid
                    release(op)
                    plan.ops.add_released(op.action, kind, key, product)  # type: ignore[attr-defined]
                else:
                    plan.ops.append(op)
                continue
            text = canonical_json(payload)
            h = digest(text)
            kept = text if keep_texts else ""
            if new_mark is not None:
                new_mark[kind_index[kind]] = h
            prev = confirmed[kind].get(key)
            if prev == h:
                plan.unchanged[kind].add(key)
                continue
            if adapter.roles.get(kind) == STOCK:
                op = PlannedOp("stock", kind, key, payload, payload, kept, h, product)
            elif prev is None and key not in known_products:
                op = PlannedOp("create", kind, key, payload, payload, kept, h, product)
            else:
                pending_updates.append((kind, key, payload, text, product, {"hash": h}))
                continue
            plan.ops.append(packed(op) if pack else op)
        if new_mark is not None and any(new_mark[1:]):  # (a payload hash: NO_PAYLOAD and None are false)
            plan.new_marks[key] = tuple(new_mark)
    for keys in plan.unchanged.values():
        keys.update(unchanged_everywhere)
    _plan_updates(plan, pending_updates, mapping, state, mapping.copied_from(untouched) if untouched else {})
    if sift is not None:
        plan.left_out, plan.left_out_deferred = sift.left_out, sift.deferred
    return plan


def _other_key(kind: str, field_name: str, value: Any, key: str) -> RecordMappingError:
    """A product whose payload's key field gives another value than its key: its listing is created, found,
    updated and stocked by its key, so the payload would create (or overwrite) another listing than the one the
    state and the stock updates name, or two products would become one listing (an expression such as
    ``product.brand``).  The product is not planned; ``compiler._check_key_source`` refuses the plain cases when
    the mapping loads."""
    return RecordMappingError(f"payloads.{kind}.fields.{field_name}",
                              f"the mapping's key field {field_name} gives {value!r}, not the product's key "
                              f"{key!r}: a listing is found by its product's key, so the field must map to it "
                              f"unchanged (copy product.key)")


NO_PAYLOAD = ""  # in a ``new_marks`` entry: the mapping gave no payload of that kind (a catalogue-only source's stock)
_NONE_OF = "|"  # a mark is the fingerprint, then this and the JSON list of the kinds its record has no payload of


def _common_marks(mark_maps: dict[str, dict[str, str]]) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """key -> the fingerprint every payload kind is marked with, a record being unchanged when its fingerprint is
    that; and key -> the kinds its record has no payload of, when it lacks some (a workbook without stock, an Odoo
    service).  A kind with no payload is said so in the marks of the others (``save_record_marks``), so such a
    record still skips mapping; any other kind without that mark leaves the key out (mapped again)."""
    if not mark_maps:
        return {}, {}
    first, *others = mark_maps.values()
    if not others:
        common = dict(first)
    elif len(others) == 1:  # (the usual two kinds: one comparison per key, no generator)
        second = others[0]
        common = {key: mark for key, mark in first.items() if second.get(key) == mark}
    else:
        common = {key: mark for key, mark in first.items() if all(other.get(key) == mark for other in others)}
    partial: dict[str, frozenset[str]] = {}
    # a mark saying which kinds have no payload is on the other kinds' rows only: its key is not in ``common``
    # (looked for only among those keys: none in most runs)
    for marks in mark_maps.values():
        for key in marks.keys() - common.keys() if len(marks) > len(common) else ():
            mark = marks[key]
            if _NONE_OF not in mark or key in partial:
                continue
            fingerprint, _, listed = mark.partition(_NONE_OF)
            try:
                none_of = frozenset(json.loads(listed))
            except (ValueError, TypeError):
                continue  # (not a mark this code wrote: mapped again)
            if all(kind in none_of or kinds_marks.get(key) == mark for kind, kinds_marks in mark_maps.items()) \
                    and not none_of.issuperset(mark_maps):
                common[key], partial[key] = fingerprint, none_of
    return common, partial


def _mark_text(mark: tuple[str | None, ...], kinds: tuple[str, ...]) -> str | None:
    """What ``save_record_marks`` writes for a ``new_marks`` entry: its fingerprint, and the kinds it has no payload
    of (see ``_common_marks``)."""
    none_of = [kind for kind, h in zip(kinds, mark[1:], strict=True) if h == NO_PAYLOAD]
    return mark[0] if not none_of else f"{mark[0]}{_NONE_OF}{json.dumps(none_of, ensure_ascii=False)}"


def save_record_marks(plan: Plan, state: StateStore) -> None:
    """After a real run: mark the confirmed payloads with the fingerprint of the record that maps to them (only
    where the state's hash is the mapped one: a payload the missing policy changed, or one not confirmed, is
    left unmarked and its record mapped again next time).  The marks are then let go of: saved once, they are
    not read again, and the report built next would otherwise hold them (about 13 MB for 100,000 products)."""
    marks, plan.new_marks = plan.new_marks, {}
    kinds = plan.mark_kinds
    partial = {key: _mark_text(mark, kinds) for key, mark in marks.items() if NO_PAYLOAD in mark[1:]}
    for i, kind in enumerate(kinds, 1):
        if any(mark[i] for mark in marks.values()):  # (the items made as they are written, not a list of 100,000
            # tuples beside the state's own: about 7 MB)
            state.mark_records(plan.marketplace, plan.account, kind,
                               ((key, mark[i], partial.get(key, mark[0])) for key, mark in marks.items() if mark[i]))


def _plan_updates(plan: Plan, pending: list, mapping: CompiledMapping, state: StateStore,
                  keep: dict[str, dict[str | None, frozenset[str]]]) -> None:
    """Load the confirmed bodies of changed products only, and keep just the changed fields.  ``keep`` (kind ->
    ``CompiledMapping.copied_from``): fields whose confirmed value stays (``keep_values``)."""
    by_kind: dict[str, list] = {}
    for item in pending:
        by_kind.setdefault(item[0], []).append(item)
    for kind, items in by_kind.items():
        compiled = mapping.payloads[kind]
        kept = keep.get(kind)
        confirmed = plan.confirmed.get(kind, {})
        old_bodies = state.bodies(plan.marketplace, plan.account, kind, [i[1] for i in items])
        for _kind, key, payload, text, product, meta in items:
            old = old_bodies.get(key, {})
            h = meta["hash"]
            if kept and old:
                kept_payload = keep_values(old, payload, kept, compiled.match_keys)  # (what an upsert sends whole)
                if kept_payload is not payload:
                    payload, text = kept_payload, canonical_json(kept_payload)
                    h = digest(text)
                    _note_hash(plan, key, kind, h)
                    if confirmed.get(key) == h:  # only kept fields differed: nothing to send
                        plan.unchanged[kind].add(key)
                        continue
            new = json.loads(text)
            changes = diff_payload(old, new, compiled.create_only, compiled.match_keys)
            merged = canonical_json(_merge_body(old, new, compiled.match_keys))
            action = "update" if changes else "refresh"
            if changes:
                changes[compiled.key_field] = new[compiled.key_field]
            plan.ops.append(PlannedOp(action, kind, key, changes, payload, merged, h, product))


def keep_values(old: dict[str, Any], new: dict[str, Any], fields: dict[str | None, frozenset[str]],
                match_keys: dict[str, str]) -> dict[str, Any]:
    """``new`` with the values ``old`` has of ``fields`` (None: the payload's own; a child collection's name: its
    elements', matched by their match key): a copy where one differs, else ``new`` itself.  An element or field
    ``old`` lacks keeps its new value (a new variant is created active)."""
    out = new
    for name in fields.get(None, ()):
        if name in old and name in new and old[name] != new[name]:
            out = out if out is not new else dict(new)
            out[name] = old[name]
    for child, names in fields.items():
        mk = match_keys.get(child) if child is not None else None
        if mk is None or not isinstance(new.get(child), list) or not isinstance(old.get(child), list):
            continue
        before = {_mkey(item.get(mk)): item for item in old[child] if isinstance(item, dict)}
        items = new[child]
        for i, item in enumerate(items):
            was = before.get(_mkey(item.get(mk))) if isinstance(item, dict) else None
            if was is None or not any(n in was and n in item and was[n] != item[n] for n in names):
                continue
            if items is new[child]:
                items = list(items)
                out = out if out is not new else dict(new)
                out[child] = items
            items[i] = {**item, **{n: was[n] for n in names if n in was and n in item}}
    return out


def _note_hash(plan: Plan, key: str, kind: str, h: str) -> None:
    """The hash of the payload ``key`` now maps to, once ``keep_values`` changed it: the mark saved with it must
    name what the state then holds, or the record would be mapped again on every run."""
    mark = plan.new_marks.get(key)
    if mark is not None and kind in plan.mark_kinds:
        at = plan.mark_kinds.index(kind) + 1
        plan.new_marks[key] = (*mark[:at], h, *mark[at + 1:])
