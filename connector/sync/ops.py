"""The operation types shared by the sync engine and every marketplace plugin, and the protocols between them.

This module sits *below* both: plugins import it, ``answers`` and ``executor`` (how to classify and send)
and the state interface, nothing else of ``connector.sync``; the runner imports plugins.  A
``PlannedOp`` carries any record (a canonical product today, an order or a shipment tomorrow); ``ItemResult``
is a marketplace's verdict on one op; a ``ResultSink`` (the push engine) journals and records those verdicts;
an ``Adapter`` declares every hook the runner calls, optional ones included (``AdapterBase`` gives the
defaults).
"""

from __future__ import annotations

import marshal
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from connector.jsonutil import canonical_json
from connector.shown import first_few

if TYPE_CHECKING:
    from connector.marketplaces.wording import FieldProblem
    from connector.model import Product
    from connector.sync.state import StateStore

CATALOGUE, STOCK = "catalogue", "stock"  # payload roles: what a payload kind holds
INVALID_PAYLOAD = "INVALID_PAYLOAD"  # the default code of an op refused by ``validate`` before sending


@dataclass(slots=True)
class PlannedOp:
    """One thing to send: ``body`` (the changed fields, or the whole payload) for the record ``key``."""

    action: str  # create | update | stock | refresh (state only, nothing to send)
    kind: str  # payload kind, e.g. "product" or "stock"
    key: str
    body: dict[str, Any]  # what to send: the full payload, or only the changed fields for an update
    payload: dict[str, Any]  # the full new payload
    # canonical JSON of the state body to store once confirmed; "" for a create or stock op planned without it:
    # then it is the payload's own canonical JSON, encoded when confirmed (``stored_text``)
    canonical: str
    digest: str
    record: Any  # the source record the op was planned from (a canonical Product for catalogue flows)

    @property
    def product(self) -> Product:
        """The record, for product flows (catalogue and stock)."""
        return self.record


@dataclass(slots=True)
class ItemResult:
    """The marketplace's verdict on one planned operation."""

    op: PlannedOp
    ok: bool
    remote_id: str | None = None
    message: str | None = None  # the marketplace's own message on failure
    code: str | None = None
    deferred: bool = False  # not attempted: budget spent / rate limited for long; the next run carries on
    blocked: bool = False  # not attempted because something it depends on failed
    forget: bool = False  # the remote record is gone: drop our binding so the next run re-creates it
    skipped: bool = False  # deliberately not sent, not a failure (e.g. "not on EcomLinx: create it there first")


RELEASED: dict = {}
"""What a released op's payload (and body) is once it was sent, or the dry run's preview is over; never changed."""


def stored_text(op: PlannedOp) -> str:
    """What the state stores once ``op`` is confirmed: its canonical text (an update's merged body, a payload the
    missing policy rebuilt, ...) or, for a create or stock op planned without one, its payload's canonical JSON,
    encoded only now: the plan does not hold both a payload and its text for the whole push (about 40 MB for
    100,000 products).  The payload is never changed between planning and confirmation (adapters send copies),
    so this is the text whose ``digest`` the plan computed."""
    return op.canonical or canonical_json(op.payload)


_PAYLOAD_SLOT = PlannedOp.__dict__["payload"]  # the slots themselves (``PackedOp`` reads them without unpacking)
_BODY_SLOT = PlannedOp.__dict__["body"]


class PackedOp(PlannedOp):
    """A create or stock op of a real run whose payload (its body too: the same dict) is held as ``marshal``
    bytes until something reads it, then as the dict they give back, which is the planned payload exactly: the
    same types, the same key order, the same sharing inside it (``packed`` packs only payloads of plain built-in
    types, which ``marshal`` writes by type and gives back as they were).

    Why: a first sync of 100,000 products plans 134,000 payloads at once and sends them over a quarter of an hour
    (each let go of once confirmed); as dicts they hold about 61 MB, as bytes 36 (the bytes copy the strings a
    dict shares with its record).  Read through ``payload`` or ``body``, it is an op like any other; ``released``
    and ``release`` never unpack it.  The push gives back what released ops held (``push.GIVE_BACK_EVERY``): the
    bytes are partly in the C heap, which the objects made afterwards cannot reuse."""

    __slots__ = ()

    def _unpack(self) -> Any:
        raw = _PAYLOAD_SLOT.__get__(self)
        if type(raw) is bytes:  # (a payload is never bytes: bytes here are its packed form)
            value = marshal.loads(raw)
            _PAYLOAD_SLOT.__set__(self, value)
            if _BODY_SLOT.__get__(self) is raw:
                _BODY_SLOT.__set__(self, value)
            return value
        return raw

    @property  # type: ignore[override]
    def payload(self) -> dict[str, Any]:
        return self._unpack()

    @payload.setter
    def payload(self, value: dict[str, Any]) -> None:
        _PAYLOAD_SLOT.__set__(self, value)

    @property  # type: ignore[override]
    def body(self) -> dict[str, Any]:
        if type(_BODY_SLOT.__get__(self)) is bytes:
            self._unpack()
        return _BODY_SLOT.__get__(self)

    @body.setter
    def body(self, value: dict[str, Any]) -> None:
        _BODY_SLOT.__set__(self, value)


def read_once(op: PlannedOp) -> PlannedOp:
    """``op`` to read once and let go of: a ``PackedOp`` still packed gives an equal plain op of its payload
    unpacked, and stays packed itself (read in place, it would hold the dict until it is sent: 38 MB more for the
    100,000 stock ops of a first sync, all read before the push begins)."""
    raw = _PAYLOAD_SLOT.__get__(op)
    if type(op) is PackedOp and type(raw) is bytes:
        payload = marshal.loads(raw)
        return PlannedOp(op.action, op.kind, op.key, payload, payload, op.canonical, op.digest, op.record)
    return op


def packed(op: PlannedOp) -> PlannedOp:
    """``op`` (a create or stock op whose body is its payload) as a ``PackedOp``, or ``op`` itself when its
    payload holds anything but dicts, lists, tuples, ``str``, ``int``, ``float``, ``bool`` and None, of exactly
    these types (``marshal`` would give back a set in another order, a ``bytearray`` as ``bytes``)."""
    if not _plain(op.payload):
        return op
    try:
        data = marshal.dumps(op.payload)
    except ValueError:  # (nested too deep)
        return op
    return PackedOp(op.action, op.kind, op.key, data, data, op.canonical, op.digest, op.record)


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is dict:
        return all(type(k) in _PLAIN_SCALARS for k in value) and all(map(_plain, value.values()))
    if kind is list or kind is tuple:
        return all(map(_plain, value))
    return False


class CompactOps(MutableSequence[PlannedOp]):
    """A plan's operations held compactly: read as a list, each released one is made again
    (``released_ops.ReleasedOps``, a dry run's; defined there, which imports this module).  ``kept`` and
    ``entries`` read them without making the released ones."""

    __slots__ = ()

    @abstractmethod
    def kept(self) -> list[PlannedOp]:
        """The operations held as they are (not released), in their order."""

    @abstractmethod
    def entries(self) -> Iterator[tuple[PlannedOp | None, str, str, str]]:
        """(op, action, kind, key) of each operation: op None for one held released, not made."""


def kept_ops(ops: Sequence[PlannedOp]) -> Sequence[PlannedOp]:
    """The operations of ``ops`` that may still carry a payload: all of a list, the kept ones of a ``CompactOps``
    (a released op was found valid when planned and carries nothing to check or let go of)."""
    return ops.kept() if isinstance(ops, CompactOps) else ops


def op_entries(ops: Sequence[PlannedOp]) -> Iterator[tuple[PlannedOp | None, str, str, str]]:
    """(op, action, kind, key) of each of ``ops``; op None for one a dry run's plan holds as released without
    making it (``CompactOps``: ``ops[i]`` makes it)."""
    if isinstance(ops, CompactOps):
        return ops.entries()
    return ((op, op.action, op.kind, op.key) for op in ops)


def released(op: PlannedOp) -> bool:
    """Whether ``op`` let go of its payload (``release``); a packed op is not unpacked to tell."""
    return _PAYLOAD_SLOT.__get__(op) is RELEASED


def release(op: PlannedOp) -> None:
    """Let go of what ``op`` carried for sending (its payload, canonical text and, but for an update, its body),
    once nothing sends it any more; an update's body is kept: its changed fields are listed."""
    op.payload, op.canonical = RELEASED, ""
    if op.action != "update":
        op.body = RELEASED


class ResultSink(Protocol):
    """Given by the push engine to an adapter: journals batches and records outcomes as they come."""

    def sending(self, action: str, ops: Sequence[PlannedOp], idempotency_key: str | None = None) -> int:
        """Journal the intent before a request; returns the journal id to hand back to ``done``."""
        ...

    def done(self, journal_id: int, results: Sequence[ItemResult]) -> None:
        """Record outcomes (``journal_id`` 0: nothing was sent for them)."""
        ...

    def confirmed(self, kind: str) -> dict[str, str]:
        """key -> hash of what the marketplace last confirmed for ``kind``: lets an adapter skip shared records
        (e.g. Elryan categories and brands) that an earlier run already created."""
        ...


class PlanningAdapter(Protocol):
    """What the plan needs from a marketplace adapter."""

    roles: dict[str, str]  # payload kind -> CATALOGUE | STOCK

    def normalize(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None: ...


class Adapter(PlanningAdapter, Protocol):
    """Marketplace-specific planning hooks and push strategy; every hook the runner calls is declared here."""

    invalid_code: str  # the code of an op refused by ``validate`` (as ``push`` and ``preview`` record it)
    # what the marketplace shows for a product sent without a quantity (``{title}``: its name), said in the rows of
    # products whose stock the source does not track (``connector.sync.untracked``)
    untracked_stock_left: str
    # a dry run validates each new create and stock op as it is planned and lets go of a valid one's payload at
    # once (``plan.build_plan``'s ``check``); its ``preview`` takes a released op as valid
    checks_when_planned: bool
    # the marketplace matches the listings it already has by SKU when a record is first pushed (EcomLinx): an
    # archived record the state does not know is left to the adapter, which knows after reading its listing
    # whether the marketplace has it (``connector.sync.archived``)
    matches_listings: bool

    def prepare(self, records: list[Any], state: StateStore) -> list[Any]:
        """Reshape the source records before planning (EcomLinx: one product per SKU); may keep the state for
        the adapter's own caches."""
        ...

    def validate(self, op: PlannedOp) -> str | None:
        """Why ``op`` cannot be sent as it is (the merchant's words), or None."""
        ...

    def problems(self, op: PlannedOp) -> list[FieldProblem]:
        """Every reason ``op`` cannot be sent, one per value, located for the merchant (``validate`` is their
        text); what ``connector validate --target`` lists."""
        ...

    def preview(self, ops: list[PlannedOp], can_read: bool) -> list[ItemResult]:
        """For a dry run: the results ``push`` would give without sending anything (refused as invalid, blocked
        by a refused op, skipped...), as far as they can be known; ``can_read``: credentials are given and the
        adapter may read from the marketplace (never write).  Ops without a result would be sent."""
        ...

    def push(self, ops: list[PlannedOp], sink: ResultSink) -> None:
        """Send ``ops`` in the marketplace's order, giving every one of them a result through ``sink``."""
        ...

    def report_extras(self) -> tuple[dict[str, int], list[str]]:
        """Marketplace-specific counts and notes for the run report (after a push)."""
        ...

    def calls_needed(self, ops: Sequence[PlannedOp]) -> dict[str, int] | None:
        """How many calls of each budget class (the plugin's ``limits`` keys) sending ``ops`` takes, batching
        included: the time estimate of a dry run and of a long first sync.  None: the adapter cannot say."""
        ...


CREATE_HELD = "created_without_stock_held"
"""The code of a stocked product's create held back because its stock would not go with it (``held_without_stock``)."""


class AdapterBase:
    """Defaults of the optional ``Adapter`` hooks: records planned as they are, nothing extra to report, a
    dry run foresees the ops ``validate`` refuses and the stock of a product whose create is refused."""

    invalid_code = INVALID_PAYLOAD  # the code of an op refused by ``validate`` (as ``push`` records it)
    # which refused catalogue ops block the stock of the same record, and what the stock op then says
    stock_blocked_by: tuple[str, ...] = ("create",)
    stock_blocked_message = "not sent: the product could not be created"
    untracked_stock_left = "{title} keeps whatever quantity it has for them"
    # True only for an adapter whose ``preview`` is this one (it reads a create's or a stock op's payload only
    # through ``validate``) and whose ``calls_needed`` reads no such payload: a dry run may then validate those
    # ops as they are planned and let go of a valid one's payload at once (``Adapter.checks_when_planned``)
    checks_when_planned = False
    matches_listings = False  # (``Adapter.matches_listings``)
    # the marketplace sells a product created without a quantity uncounted (Elebne): a stocked product is created
    # only with its stock in the same push (``held_without_stock``); a product whose source does not track its stock is
    # created without, as documented (``untracked_stock_left``)
    creates_need_stock = False
    # False for a source that gives no stock at all (a workbook without any stock column or sheet, an Odoo read
    # without stock): its products are created without, as before (set by the runner from
    # ``SourceResult.provided_fields``)
    source_gives_stock = True
    # product key -> the SKUs of its variants on sale whose stock the source does not give, for the products of
    # several variants (set by the runner: ``runner.partly_unknown_stock``): when some variants have a quantity,
    # the product's stock op carries those only, and its create would put the others on sale uncounted
    unknown_variants: Mapping[str, list[str]] = MappingProxyType({})
    # product key -> the SKUs of the variants the marketplace has of it, read from what it last confirmed; None
    # when the confirmed payloads do not say (a mapping whose variants carry no SKU).  Set by the runner
    # (``archived.listed_skus_reader``): an update adding one of ``unknown_variants`` is held as a create is
    listed_variants: Callable[[str], set[str] | None] | None = None
    # the marketplace reads a price as a whole number of minor units of the account currency (Elebne): a mapping
    # giving prices in another unit is refused (``price_unit.py``)
    prices_in_minor_units = False
    create_held_message = ("not created without its stock: {why}; {title} would sell it uncounted (give it a "
                           "quantity, 0 if sold out)")
    update_held_message = ("not updated: its new variant(s) {skus} would be added without their stock, which is not "
                           "known (no quantity in the source), and {title} would sell them uncounted (give each a "
                           "quantity, 0 if sold out); the stock of its other variants is sent, its other changes "
                           "wait for them")
    title = "the marketplace"

    def held_without_stock(self, ops: Sequence[PlannedOp]) -> dict[str, ItemResult]:
        """key -> the result of each create op of a stocked product that would go without its stock (none planned:
        the source gave no quantity, for it or for one of its variants; or refused by ``validate``), and of each
        update op that would add to a listed product a variant whose stock the source does not give
        (``unknown_variants`` the marketplace does not have: ``listed_variants``), when ``creates_need_stock``, in
        the order of the ops.  A held update's stock op still goes (it carries the variants with a quantity).  A
        dry run's released ops are told apart without being made again, but for the held ones."""
        if not self.creates_need_stock or not self.source_gives_stock:
            return {}
        from connector.model import STOCK_KINDS

        creates: dict[str, int] = {}  # key -> where its create op is
        updates: list[int] = []  # where the updates of products with variants of unknown stock are
        stocked = set()
        for i, (_op, action, _kind, key) in enumerate(op_entries(ops)):
            if action == "create":
                creates[key] = i
            elif action == "stock":
                stocked.add(key)
            elif action == "update" and key in self.unknown_variants:
                updates.append(i)
        why = {key: "its stock is not known (no quantity in the source)" for key in creates if key not in stocked}
        for key in creates.keys() & self.unknown_variants.keys() - why.keys():
            why[key] = (f"the stock of its variant(s) {first_few(self.unknown_variants[key])} is not known (no "
                        "quantity in the source)")
        for op in kept_ops(ops):
            if op.action == "stock" and op.key in creates and not released(op) and (
                    problem := self.validate(read_once(op))):
                why[op.key] = f"its stock cannot be sent ({problem})"
        messages: dict[int, str] = {}  # where a held op is -> why
        for key, i in creates.items():
            if key in why:
                messages[i] = self.create_held_message.format(why=why[key], title=self.title)
        for i in updates:
            if added := self.added_without_stock(ops[i]):
                messages[i] = self.update_held_message.format(skus=first_few(added), title=self.title)
        held = {}
        for i in sorted(messages):
            if getattr((op := ops[i]).product, "kind", "stocked") in STOCK_KINDS:
                held[op.key] = ItemResult(op, ok=False, blocked=True, code=CREATE_HELD, message=messages[i])
        return held

    def added_without_stock(self, op: PlannedOp) -> list[str]:
        """The SKUs of the variants the update ``op`` of a listed product would add without a quantity: planned
        with it (not left out before planning, as ``active_column.hold_new_variants`` may), their stock not given
        by the source (``unknown_variants``), and not among those the marketplace has (``listed_variants``).  None
        of them when what the marketplace has is not known (``listed_variants`` gives None: every variant is taken as
        listed, as ``archived.py`` and ``active_column.py`` take it then)."""
        unknown = self.unknown_variants.get(op.key)
        listed = self.listed_variants(op.key) if unknown and self.listed_variants is not None else None
        if not unknown or listed is None:
            return []
        planned = {v.sku for v in getattr(op.record, "variants", ())}
        return [sku for sku in unknown if sku not in listed and sku in planned]

    def validate(self, op: PlannedOp) -> str | None:
        problems = self.problems(op)
        if not problems:  # the usual answer, without the import and the text of ``describe``
            return None
        from connector.marketplaces.wording import describe

        return describe(problems)

    def problems(self, op: PlannedOp) -> list[FieldProblem]:
        return []

    def preview(self, ops: list[PlannedOp], can_read: bool) -> list[ItemResult]:
        results: list[ItemResult] = []
        blocked: set[str] = set()  # keys whose stock waits: their create is refused or held
        refused: set[str] = set()  # keys whose catalogue op is refused as invalid
        # (a dry run's plan holding most ops as released, ``released_ops``: only the others are read, unless a
        # refused create blocks a stock op)
        kept = kept_ops(ops)
        held = self.held_without_stock(ops)
        for op in kept:
            if op.action == "stock":
                continue
            problem = None if released(op) else self.validate(op)  # released: found valid when planned
            if problem:
                results.append(ItemResult(op, ok=False, code=self.invalid_code, message=problem))
                refused.add(op.key)
                if op.action in self.stock_blocked_by:
                    blocked.add(op.key)
        for key, result in held.items():
            if key not in refused:
                results.append(result)
                if result.op.action == "create":  # (a held update's stock goes, as ``push`` sends it)
                    blocked.add(key)
        for op in kept if not blocked else ops:
            if op.action != "stock":
                continue
            # said even when blocked: the merchant fixes both at once (released: found valid when planned)
            problem = None if released(op) else self.validate(op)
            if problem:
                results.append(ItemResult(op, ok=False, code=self.invalid_code, message=problem))
            elif op.key in blocked:
                results.append(ItemResult(op, ok=False, blocked=True, message=self.stock_blocked_message))
        return results

    def prepare(self, records: list[Any], state: StateStore) -> list[Any]:
        return records

    def report_extras(self) -> tuple[dict[str, int], list[str]]:
        return {}, []

    def calls_needed(self, ops: Sequence[PlannedOp]) -> dict[str, int] | None:
        return None
