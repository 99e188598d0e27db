"""Canonical records: the only thing sources produce and mappings consume.

A source never knows about marketplaces and a marketplace never knows about sources (design §1).

*Absent means "don't touch"*: an optional field the source did not provide holds the sentinel
``ABSENT`` (not ``None``).  ``None`` / ``""`` is an explicit empty value that is sent as empty.
The mapping engine drops a field whose value is ``ABSENT`` from the payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

MAX_INT = 2_147_483_647
"""The largest whole number (a stock, a price in minor units) the marketplaces store: "integer" in their documents
is a signed 32-bit number, as their sandboxes enforce it; the spreadsheet reader refuses a larger quantity."""


class _Absent:
    """Singleton marking a field the source did not provide."""

    _instance: _Absent | None = None
    __slots__ = ()

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "ABSENT"


ABSENT: Final[Any] = _Absent()


@dataclass(slots=True, frozen=True)
class Money:
    """An amount in a currency.  ``amount`` is always a ``Decimal``, never a float."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money.amount must be Decimal, got {type(self.amount).__name__}")


@dataclass(slots=True)
class StockLevel:
    """Quantities of one variant at one location.  ``None`` means the source does not know it."""

    location: str
    available: int | None = None
    on_hand: int | None = None
    reserved: int | None = None
    incoming: int | None = None


@dataclass(slots=True, frozen=True)
class SourceRef:
    """Where a record came from, so the report can point the user at it (sheet + row, or model + id)."""

    origin: str  # e.g. "Products" (sheet), "product.product" (Odoo model), "aleta"
    row: int | None = None  # 1-based row number as the user sees it
    ident: str | None = None  # remote id in the source system


@dataclass(slots=True)
class Variant:
    """One sellable SKU."""

    sku: str
    attributes: dict[str, str] = field(default_factory=dict)  # {"Size": "M", "Color": "Blue"}
    barcode: Any = ABSENT  # str | None | ABSENT
    price: Any = ABSENT  # Money | None | ABSENT
    cost: Any = ABSENT  # Money | None | ABSENT
    weight: Any = ABSENT  # Decimal (kg) | None | ABSENT
    hs_code: Any = ABSENT  # str | None | ABSENT
    dimensions: Any = ABSENT  # {"length", "width", "height"} -> Decimal (cm) | ABSENT
    images: Any = ABSENT  # list[str] | ABSENT
    active: bool = True
    # location name -> StockLevel; empty dict + ``stock_known=False`` means the source says nothing on stock
    stock: dict[str, StockLevel] = field(default_factory=dict)
    stock_known: bool = False
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    ref: SourceRef | None = None
    # Listed quantity for the marketplace being mapped, computed by the stock policy before mapping
    # (design §4).  ``ABSENT`` when the source said nothing about stock.
    qty: Any = ABSENT

    @property
    def label(self) -> str:
        """Human label built from attribute values in column order ("M / Blue"), or the SKU."""
        return " / ".join(self.attributes.values()) if self.attributes else self.sku


@dataclass(slots=True)
class Product:
    """A product (template) with one or more variants.

    ``key`` identifies the product across runs (parent SKU, Odoo template default code, ...).  A simple
    product has exactly one variant whose ``attributes`` are empty.
    """

    key: str
    name: Any = ABSENT  # str | ABSENT
    description: Any = ABSENT
    brand: Any = ABSENT
    category_path: Any = ABSENT  # list[str] | ABSENT, root first
    images: Any = ABSENT  # list[str] | ABSENT
    active: bool = True
    kind: str = "stocked"  # stocked | consumable | service | combo
    translations: dict[str, dict[str, str]] = field(default_factory=dict)  # {"fr_FR": {"name": ...}}
    variants: list[Variant] = field(default_factory=list)
    ref: SourceRef | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # source-specific values a mapping may read

    @property
    def has_variants(self) -> bool:
        """True when the product has real variants (attribute values), not just its single default SKU."""
        variants = self.variants
        return len(variants) > 1 or (len(variants) == 1 and bool(variants[0].attributes))

    @property
    def price(self) -> Any:
        """Price of the first variant: what a marketplace without variant prices shows."""
        return self.variants[0].price if self.variants else ABSENT

    @property
    def barcode(self) -> Any:
        """Barcode of a simple product (its only SKU's); ``ABSENT`` for a product with real variants."""
        variants = self.variants  # has_variants spelled out: mappings read this once per product
        return variants[0].barcode if len(variants) == 1 and not variants[0].attributes else ABSENT

    @property
    def qty(self) -> Any:
        """Listed quantity of the product: the sum of its variants' known listed quantities, else ABSENT."""
        variants = self.variants
        if len(variants) == 1:  # a simple product (most): no list built; 0 + q is what sum([q]) gives
            q = variants[0].qty
            return ABSENT if q is ABSENT or q is None else 0 + q
        known = [v.qty for v in variants if v.qty is not ABSENT and v.qty is not None]
        return sum(known) if known else ABSENT


STOCK_KINDS = frozenset({"stocked"})
"""Product kinds whose stock is tracked; services, combos and non-stored consumables carry none."""


def _plain_repr(*classes: type) -> None:
    """Give the canonical records their generated ``repr`` without the guard dataclasses wrap it in (a set of
    instances being printed, kept per call, for an instance that contains itself).  Records are trees, the text
    is the same, and it is three to four times faster: a plan prints every record for its fingerprint
    (``connector.sync.fingerprint``)."""
    for cls in classes:
        cls.__repr__ = getattr(cls.__repr__, "__wrapped__", cls.__repr__)  # type: ignore[method-assign]


_plain_repr(Money, StockLevel, SourceRef, Variant, Product)
