"""Record types a mapping file can map, keyed by the name the file gives in ``record:``.

A record type names the root every path and expression of the file starts with (``product.name``,
``order.number``; ``defaults.*`` is always there too), the record's class when it is known (a misspelt
attribute is then a load error, not a runtime one) and its child collections with the class of their
elements (``product.variants`` holds ``Variant``s, ``order.lines`` holds order lines), so a child level
declared with ``source: order.lines`` and ``as: line`` is checked like ``variant.*`` is.

A new flow registers its type once (``register_record_type``); the engine itself knows no record type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from connector.model import Product, Variant

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


PRODUCT = register_record_type(RecordType(
    "product", Product, {"variants": Variant}, key="key",
    description="a catalogue product (template) with its variants: paths product.*, and e.g. variant.*"))

ORDER = register_record_type(RecordType(
    "order", None, {"lines": None},
    description="an order with its lines: paths order.*, and line.* in a child level over order.lines"))
"""Orders have no canonical class yet: their attributes are checked when a record is mapped, not at load."""
