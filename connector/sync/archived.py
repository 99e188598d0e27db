"""An archived product is not created on a marketplace that never listed it.

A product archived in the source (Odoo ``active`` false on the template, or on all its variants; the workbook's
Active column "No" on all its rows; Aleta's status not ``active``) that the state does not know on a target (no
payload kind of it was ever confirmed there) is left out of that target's plan: nothing of it is sent, and each of
its rows is *skipped* with ``archived in the source and never listed on <marketplace>: not created`` and the code
``ARCHIVED_NOT_LISTED``.  Nothing bad happened, so the rows need no attention (exit 0).  A product the state knows
is planned as before: its listing is taken off sale (status inactive, stock 0).  Once it is active again, it is
planned as any new product and created.

An active product's archived variants that the marketplace does not have are left out of its payloads the same way
(their rows skipped with the same reason), so a product is created, or later updated, with its sellable variants
only.  Whether the marketplace has a variant is read from what it last confirmed for the product: the variants (by
SKU) of the confirmed payloads whose variants carry their SKU (``payload_shape.KindShape.sku_paths``).  When no
payload kind says (a mapping that sends no variant SKU), every variant of a known product is taken as listed and
sent as before: a variant that is on sale is never left out of its product's stock.

Before an archived product the state does not know is left out, a marketplace whose adapter can tell whether it
lists it (``has_listing``: Elebne, Elryan) is asked (``archived_check.py``): listed, the product is planned as a
known one (taken off sale, adopted); not listed, left out as above (the answer remembered for
``archived_check_hours``); the lookup failed, left out with its rows *deferred* (``ARCHIVED_LOOKUP_DEFERRED``,
exit 3), never skipped as never listed.

A marketplace that matches listings it already has by SKU (EcomLinx: ``AdapterBase.matches_listings``) decides at
push time, once its listing is read: the sift leaves its archived products in the plan, and the adapter skips the
ones the listing does not have with the same reason and code (``skip_archived``).

``defaults: {create_archived: true}`` in a target's settings keeps the old behaviour: archived products and
variants are created (as inactive listings) like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any

from connector.errors import ConfigError
from connector.model import Product
from connector.sync.archived_check import ListingLookup, check_hours
from connector.sync.ops import ItemResult, PlannedOp

ARCHIVED_NOT_LISTED = "ARCHIVED_NOT_LISTED"
ARCHIVED_LOOKUP_DEFERRED = "ARCHIVED_LOOKUP_DEFERRED"
CREATE_ARCHIVED = "create_archived"  # the key under the target's ``defaults``
_ACTIVE = attrgetter("active")


def not_listed_reason(title: str) -> str:
    return f"archived in the source and never listed on {title}: not created"


def create_archived(settings: dict[str, Any]) -> bool:
    """The target's ``defaults.create_archived`` (default false); anything but true or false is a config error."""
    defaults = settings.get("defaults")
    value = defaults.get(CREATE_ARCHIVED, False) if isinstance(defaults, dict) else False
    if not isinstance(value, bool):
        raise ConfigError(f"defaults.{CREATE_ARCHIVED} must be true or false, not {value!r}")
    return value


def all_on_sale(product: Product) -> bool:
    """The product and every variant of it active (the usual case, told without a list)."""
    return product.active and all(map(_ACTIVE, product.variants))


def archived(product: Product) -> bool:
    """Nothing of the product is on sale: the product archived, or every variant of it."""
    return not product.active or not any(map(_ACTIVE, product.variants))


@dataclass
class ArchivedSift:
    """What a target's plan leaves out (``build_plan``'s ``sift``).  ``listed_skus``: product key -> the SKUs of its
    variants the marketplace has, or None when the confirmed payloads do not say (read only for a known product
    with an archived variant).  ``left_out``: SKU -> (reason, code), for the report's rows (one tuple shared)."""

    title: str
    listed_skus: Callable[[str], set[str] | None]
    matches_listings: bool = False  # the adapter matches existing listings by SKU: it decides (``skip_archived``)
    left_out: dict[str, tuple[str, str]] = field(default_factory=dict)
    lookup: ListingLookup | None = None  # asks the marketplace before an unknown archived product is left out
    deferred: int = 0  # products left out because the lookup failed (their rows deferred)

    def __post_init__(self) -> None:
        self.reason = (not_listed_reason(self.title), ARCHIVED_NOT_LISTED)
        self.unasked = (f"archived in the source and not known on {self.title} here: a real run looks it up there "
                        "first (taken off sale if it is listed, else not created); a dry run asks nothing",
                        ARCHIVED_NOT_LISTED)

    def __call__(self, product: Product, known: bool) -> Product | None:
        """``product`` as the plan takes it (``known``: a payload kind of it was confirmed on the target): itself,
        without the archived variants the marketplace does not have, or None (left out)."""
        if archived(product):
            if known or self.matches_listings:
                return product
            if self.lookup is not None and not self.lookup.write and not self.lookup.remembered(product.key):
                self.left_out.update(dict.fromkeys((v.sku for v in product.variants), self.unasked))
                return None  # a dry run asks nothing (archived_check.py)
            found = self.lookup(product.key) if self.lookup is not None else False
            if found:
                return product  # listed all the same: taken off sale (and adopted) as a known one
            if found is None:
                self.deferred += 1
                reason = (f"deferred to the next run: could not look it up on {self.title} "
                          f"({self.lookup.failure if self.lookup else ''})", ARCHIVED_LOOKUP_DEFERRED)
                self.left_out.update(dict.fromkeys((v.sku for v in product.variants), reason))
                return None
            self._leave_out(v.sku for v in product.variants)
            return None
        if self.matches_listings:  # (one product per SKU: no variants to leave out)
            return product
        listed = self.listed_skus(product.key) if known else set()
        if listed is None:
            return product
        kept = [v for v in product.variants if v.active or v.sku in listed]
        if len(kept) == len(product.variants):
            return product
        self._leave_out(v.sku for v in product.variants if not (v.active or v.sku in listed))
        return replace(product, variants=kept)

    def _leave_out(self, skus: Iterable[str]) -> None:
        self.left_out.update(dict.fromkeys(skus, self.reason))


def listed_skus_reader(state: Any, marketplace: str, account: str, shapes: Callable[[], dict[str, Any]]
                       ) -> Callable[[str], set[str] | None]:
    """product key -> the variant SKUs the confirmed payloads of the product hold (``ArchivedSift.listed_skus``),
    from the payload kinds whose children carry their SKU; None when no kind's do (``shapes``: the probed shapes,
    asked for only when a known product has an archived variant)."""
    paths: list[tuple[str, tuple[str, ...]]] | None = None

    def listed(key: str) -> set[str] | None:
        nonlocal paths
        if paths is None:
            paths = variant_sku_paths(shapes())
        if not paths:
            return None
        found: set[str] = set()
        for kind, path in paths:
            found |= child_skus(state.bodies(marketplace, account, kind, [key]).get(key), path)
        return found

    return listed


def variant_sku_paths(shapes: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """(kind, (children, "*", SKU field)) of the payload kinds whose matched children carry their variant's SKU."""
    return [(kind, path) for kind, shape in shapes.items() for path in shape.sku_paths
            if len(path) == 3 and path[1] == "*" and path[0] in shape.match_keys]


def child_skus(body: Any, path: tuple[str, ...]) -> set[str]:
    """The SKUs a confirmed body's children hold at ``path`` (``variant_sku_paths``)."""
    name, _star, sku_field = path
    children = body.get(name) if isinstance(body, dict) else None
    return {c[sku_field] for c in children or () if isinstance(c, dict) and isinstance(c.get(sku_field), str)}


def target_sift(settings: dict[str, Any], title: str, state: Any, marketplace: str, account: str,
                adapter: Any, shapes: Callable[[], dict[str, Any]], *, dry_run: bool = False) -> ArchivedSift | None:
    """The sift of a target's plan; None when its ``defaults.create_archived`` asks for the old behaviour.  An
    adapter with ``has_listing`` is asked about unknown archived products not remembered as not listed
    (``dry_run``: none is asked)."""
    if create_archived(settings):
        return None
    has_listing = getattr(adapter, "has_listing", None)
    lookup = ListingLookup(state, marketplace, account, has_listing, hours=check_hours(settings),
                           write=not dry_run) if has_listing is not None else None
    return ArchivedSift(title, listed_skus_reader(state, marketplace, account, shapes),
                        matches_listings=bool(getattr(adapter, "matches_listings", False)), lookup=lookup)


def skip_archived(op: PlannedOp, title: str, settings: dict[str, Any], *, forget: bool = False
                  ) -> ItemResult | None:
    """For an adapter that matches listings by SKU (``matches_listings``): the result of an op of an archived
    record the marketplace does not have (skipped, ``ARCHIVED_NOT_LISTED``), or None (not archived, or
    ``create_archived``: the adapter says what it says of any record it does not have).  ``forget``: the binding
    is dropped, as for any record the marketplace no longer has."""
    if not archived(op.product) or create_archived(settings):
        return None
    return ItemResult(op, ok=False, skipped=True, forget=forget, code=ARCHIVED_NOT_LISTED,
                      message=not_listed_reason(title))
