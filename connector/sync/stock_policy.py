"""Which number goes to the marketplace is policy, and must be explicit (design §4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from connector.errors import ConfigError
from connector.model import ABSENT, STOCK_KINDS, Product, Variant

QUANTITY_FIELDS = ("available", "on_hand", "incoming_total")


@dataclass(frozen=True, slots=True)
class Hold:
    """Why no listed quantity may go up this run (some marketplace's orders are unknown: ``connector.sync.hold``),
    and the product keys and SKUs listed on those marketplaces (only they can have been sold there; None: not
    known, any may be)."""

    reason: str
    listed: frozenset[str] | None = frozenset()


@dataclass(frozen=True, slots=True)
class StockPolicy:
    """``quantity``: ``available`` (free to sell: on hand minus reserved, the usual choice), ``on_hand``, or
    ``incoming_total`` (available plus incoming, like Odoo's forecast).  ``locations``: which locations count
    (None = all).  A listed quantity at or below ``buffer`` shows 0; ``maximum`` caps it; ``percent`` of it is
    listed, rounded down; never below 0.  ``reserved``: SKU -> quantity of open marketplace orders the source
    does not account for yet (the oversell guard, ``connector.orders.reservation``), taken off before the
    buffer, the maximum and the percentage.  ``hold``: no listed quantity may go up this run (some
    marketplace's orders are unknown): the runner caps each at what the marketplace last confirmed
    (``connector.sync.hold``)."""

    quantity: str = "available"
    locations: tuple[str, ...] | None = None
    buffer: int = 0
    maximum: int | None = None
    percent: int = 100
    reserved: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)
    hold: Hold | None = field(default=None, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.quantity not in QUANTITY_FIELDS:
            raise ConfigError(f"stock quantity must be one of {', '.join(QUANTITY_FIELDS)}, not {self.quantity!r}")
        if not 0 <= self.percent <= 100:
            raise ConfigError(f"stock percent must be between 0 and 100, not {self.percent}")
        if self.buffer < 0 or (self.maximum is not None and self.maximum < 0):
            raise ConfigError("stock buffer and maximum cannot be negative")

    def listed(self, variant: Variant, kind: str = "stocked") -> int | None:
        """The quantity to list, or ``ABSENT`` when the source said nothing about this variant's stock.

        An archived (inactive) stocked variant lists 0: that is how a single archived variant of an active
        product is disabled on marketplaces whose variants have no status of their own.
        """
        if kind not in STOCK_KINDS:
            return ABSENT
        if not variant.active:
            return 0
        if not variant.stock_known:
            return ABSENT
        total = 0
        for name, level in variant.stock.items():
            if self.locations is not None and name not in self.locations:
                continue
            if self.quantity == "on_hand":
                q = level.on_hand if level.on_hand is not None else level.available
            else:
                q = level.available if level.available is not None else level.on_hand
                if self.quantity == "incoming_total":
                    q = (q or 0) + (level.incoming or 0)
            total += q or 0
        total = max(0, total - self.reserved.get(variant.sku, 0))
        if total <= self.buffer:
            return 0
        if self.maximum is not None:
            total = min(total, self.maximum)
        return total * self.percent // 100

    def apply(self, products: Iterable[Product]) -> None:
        """Set ``Variant.qty`` on every variant: what this marketplace will be told."""
        for product in products:
            for variant in product.variants:
                variant.qty = self.listed(variant, product.kind)

    def reservations(self, products: Iterable[Product]) -> dict[str, dict[str, int]]:
        """SKU -> ``{"reserved": n, "listed": quantity}`` for every SKU whose listed stock the open orders
        lowered (after ``apply``): what the report and the dry run show."""
        out: dict[str, dict[str, int]] = {}
        if not self.reserved:  # (no open orders: nothing to look up for each variant)
            return out
        for product in products:
            for variant in product.variants:
                n = self.reserved.get(variant.sku, 0)
                if n and isinstance(variant.qty, int) and variant.active:
                    out[variant.sku] = {"reserved": n, "listed": variant.qty}
        return out
