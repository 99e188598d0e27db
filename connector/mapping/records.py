"""Record types a mapping file can map, keyed by the name the file gives in ``record:``.

A record type names the root every path and expression of the file starts with (``product.name``,
``order.number``; ``defaults.*`` is always there too), the record's class when it is known (a misspelt
attribute is then a load error, not a runtime one) and its child collections with the class of their
elements (``product.variants`` holds ``Variant``s, ``order.lines`` holds order lines), so a child level
declared with ``source: order.lines`` and ``as: line`` is checked like ``variant.*`` is.

A new flow registers its type once (``register_record_type``); the engine itself knows no record type.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache

from connector.model import Money, Product, SourceRef, StockLevel, Variant

DEFAULTS_ROOT = "defaults"
"""The profile's values for fields no source has; every record type's paths may start with it."""


@dataclass(frozen=True, slots=True)
class RecordType:
    """What the mapping engine needs to know about one kind of canonical record."""

    name: str  # the value of ``record:`` and the first segment of its paths
    cls: type | None = None  # the record's class, when attributes can be checked at load time
    children: dict[str, type | None] = field(default_factory=dict)  # child collection -> element class
    description: str = ""
    # the attribute that identifies a record to the flow that maps it (``product.key``: the state, the
    # marketplace's listing and every later update are found by it), or None when the flow keys records by what
    # the mapping gives.  A payload's key field of a type that has one must give that value (``compile_payload``
    # refuses a copy or constant of anything else; ``plan.build_plan`` a record whose key field gives another)
    key: str | None = None

    @property
    def roots(self) -> tuple[str, ...]:
        """Names a path or expression can start with (the record first: it is index 0 of the context)."""
        return (self.name, DEFAULTS_ROOT)

    def child_class(self, source: str) -> type | None:
        """The element class of a child collection given by its source path (``product.variants``)."""
        head, _, attr = source.partition(".")
        return self.children.get(attr) if head == self.name else None


_REGISTRY: dict[str, RecordType] = {}


def register_record_type(record_type: RecordType) -> RecordType:
    if record_type.name == DEFAULTS_ROOT or not record_type.name.isidentifier():
        raise ValueError(f"{record_type.name!r} cannot name a record type")
    _REGISTRY[record_type.name] = record_type
    return record_type


def record_type(name: str) -> RecordType:
    """The registered type called ``name``; ``ValueError`` names the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown record type {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


@cache
def known_attributes(cls: type) -> frozenset[str]:
    """Public dataclass fields and properties of ``cls``: what a path may name on it."""
    fields = set(getattr(cls, "__dataclass_fields__", {}))
    props = {n for n in dir(cls) if isinstance(getattr(cls, n, None), property)}
    return frozenset(f for f in fields | props if not f.startswith("_"))


@dataclass(frozen=True, slots=True)
class KeyedBy:
    """A dict whose keys are free text (a stock location's name) and whose values are of class ``cls``."""

    cls: type


# The class of the value a field of a known class holds, when that value is itself of a known class (the model's
# annotations say ``Any``: a field may also be None or absent): a path or expression naming a field of it is
# checked when the mapping loads too (``product.price.amout``, ``variant.stock.Warehouse.availble``).  A field not
# listed here (``product.extra``, attributes, translations, dimensions, text, lists) is not looked into.
FIELD_CLASSES: dict[tuple[type, str], type | KeyedBy] = {
    (Product, "price"): Money, (Variant, "price"): Money, (Variant, "cost"): Money,
    (Product, "ref"): SourceRef, (Variant, "ref"): SourceRef,
    (Variant, "stock"): KeyedBy(StockLevel),  # location -> its quantities
}


def field_class(cls: type, name: str) -> type | KeyedBy | None:
    """The class of what the field ``name`` of a ``cls`` holds, when known (``FIELD_CLASSES``)."""
    return FIELD_CLASSES.get((cls, name))


def unknown_field(owner: str, name: str, cls: type) -> str:
    """What a mapping is told of a field ``name`` that ``owner`` (a path, of class ``cls``) does not have: the
    fields it has, and the one most likely meant when one is close (``nmae``: ``name``)."""
    known = sorted(known_attributes(cls))
    close = difflib.get_close_matches(name, known, n=1)
    return (f"{owner} has no field {name!r} (known: {', '.join(known)})"
            + (f"; did you mean {close[0]!r}?" if close else ""))


PRODUCT = register_record_type(RecordType(
    "product", Product, {"variants": Variant}, key="key",
    description="a catalogue product (template) with its variants: paths product.*, and e.g. variant.*"))

ORDER = register_record_type(RecordType(
    "order", None, {"lines": None},
    description="an order with its lines: paths order.*, and line.* in a child level over order.lines"))
"""Orders have no canonical class yet: their attributes are checked when a record is mapped, not at load."""
