"""Which number goes to the marketplace is policy, and must be explicit (design §4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from connector.errors import ConfigError
from connector.model import ABSENT, MAX_INT, STOCK_KINDS, Product, Variant

QUANTITY_FIELDS = ("available", "on_hand", "incoming_total")
UNTRACKED_SETTING = "defaults.untracked_stock"
"""The target setting giving the quantity listed for products whose stock the source does not track (Odoo
services, consumables, combos); unset, their stock is not sent (``connector.sync.untracked``)."""


def untracked_stock(settings: Mapping[str, object]) -> int | None:
    """The target's ``defaults.untracked_stock`` (a whole number from 0), or None when it is not set."""
    defaults = settings.get("defaults")
    value = defaults.get("untracked_stock") if isinstance(defaults, Mapping) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise ConfigError(f"target setting {UNTRACKED_SETTING} must be a whole number from 0 (the quantity listed "
                          f"for products whose stock the source does not track), not {value!r}")
    return value


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

    def apply(self, products: Iterable[Product], untracked: int | None = None) -> None:
        """Set ``Variant.qty`` on every variant: what this marketplace will be told.  ``untracked`` (the target's
        ``defaults.untracked_stock``): what a product whose stock the source does not track lists (its archived
        variants 0), as it is: no buffer, maximum, percentage or reservation applies to a number the source did
        not give; None: nothing (``ABSENT``)."""
        shared: dict[int, int] = {}
        for product in products:
            if untracked is not None and product.kind not in STOCK_KINDS:
                for variant in product.variants:
                    variant.qty = untracked if variant.active else 0
                continue
            for variant in product.variants:
                q = self.listed(variant, product.kind)
                # equal quantities share one int (a sum above 256 is a new object per variant: 2.5 MB for 100,000
                # variants, held to the run's end)
                variant.qty = shared.setdefault(q, q) if q.__class__ is int else q

    def reservations(self, products: Iterable[Product]) -> dict[str, dict[str, int]]:
        """SKU -> ``{"reserved": n, "listed": quantity}`` for every SKU whose listed stock the open orders
        lowered (after ``apply``): what the report and the dry run show."""
        out: dict[str, dict[str, int]] = {}
        if not self.reserved:  # (no open orders: nothing to look up for each variant)
            return out
        for product in products:
            if product.kind not in STOCK_KINDS:  # (an untracked product's listed quantity is not lowered)
                continue
            for variant in product.variants:
                n = self.reserved.get(variant.sku, 0)
                if n and isinstance(variant.qty, int) and variant.active:
                    out[variant.sku] = {"reserved": n, "listed": variant.qty}
        return out
