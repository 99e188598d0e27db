"""A refused price (``prices.py``) of a product the marketplace already has holds back only what carries the price:
its stock is still sent, so a unit sold elsewhere is never left on sale while nobody fixes the price.

A refused product (as the target's adapter prepares it: EcomLinx has one per SKU) is planned for its stock alone
(``build_plan``'s ``stock_only``) when, for that target,

- the state holds a confirmed catalogue payload of it: the marketplace has the product, nothing is to be created;
- no stock payload carries the price: mapped with two other prices instead of its own, each stock payload is the
  same (Elebne's bulk inventory, EcomLinx's inventory; not Elryan's price & stock, which would send the price);
- every child of its stock payloads (an Elebne variant, by its label) was sent to the marketplace before, in a
  confirmed stock or catalogue payload: a new or renamed variant comes with the catalogue update held back, and
  stock naming it would fail.

Otherwise nothing of it is sent, as before.  Its catalogue payload is not even mapped (the refused price never
reaches a payload: a ``minor_units`` op would refuse it and fail the stock with it), nor remembered as sent: the
next run plans the update again, and sends it once the price is fixed.  Only refused products are looked at (none
in most runs): the 100,000 others cost nothing here.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from connector.mapping import CompiledMapping, RecordMappingError
from connector.model import Money, Product
from connector.sync.ops import CATALOGUE, STOCK
from connector.sync.payload_shape import match_value
from connector.sync.prices import PriceRefusals
from connector.sync.state import StateStore

Bodies = dict[str, dict[str, dict[str, Any]]]  # kind -> key -> confirmed body


def hold_prices(refused: list[Product], refusals: PriceRefusals, mapping: CompiledMapping, adapter: Any,
                state: StateStore, marketplace: str, account: str, defaults: dict[str, Any]) -> list[Product]:
    """Those of ``refused`` (prepared for the target) whose stock alone is planned; their SKUs move from
    ``refusals.reasons`` (nothing sent) to ``refusals.held`` (what is wrong with the price, held back, and the
    sheet of the product's own rows)."""
    catalogue = [k for k in mapping.payloads if adapter.roles.get(k) == CATALOGUE]
    stock = [k for k in mapping.payloads if adapter.roles.get(k) == STOCK]
    if not refused or not catalogue or not stock:
        return []
    keys = [p.key for p in refused]
    known: Bodies = {kind: state.bodies(marketplace, account, kind, keys) for kind in (*catalogue, *stock)}
    said = {v.sku: problem for p, problem in refusals.products for v in p.variants}
    out: list[Product] = []
    for product in refused:
        if not all(product.key in known[kind] for kind in catalogue) or \
                not _stock_alone(product, stock, catalogue, mapping, adapter, defaults, known):
            continue
        out.append(product)
        refusals.hold(product, said.get(product.variants[0].sku, "price refused") if product.variants else "")
    return out


def _stock_alone(product: Product, stock: list[str], catalogue: list[str], mapping: CompiledMapping, adapter: Any,
                 defaults: dict[str, Any], known: Bodies) -> bool:
    """Whether the stock payloads of ``product`` carry no price and name no child the marketplace lacks."""
    payloads = _priced(product, Decimal(1), stock, mapping, adapter, defaults)
    if payloads is None or payloads != _priced(product, Decimal(2), stock, mapping, adapter, defaults):
        return False  # the price is in a stock payload (or it does not map: the plan would say so, nothing sent)
    return children_sent(product.key, payloads, catalogue, mapping, known)


def children_sent(key: str, payloads: dict[str, Any], catalogue: list[str], mapping: CompiledMapping,
                  known: Bodies) -> bool:
    """Whether every child of ``payloads`` (kind -> payload of ``key``: an Elebne variant, by its label) was sent to
    the marketplace before, in a confirmed payload of its kind or of a catalogue kind matching it by the same key
    (``known`` holds them: kind -> key -> body): stock naming a variant whose catalogue update is held back fails."""
    for kind, payload in payloads.items():
        for name, mk in mapping.payloads[kind].match_keys.items():
            new = [match_value(c, mk) for c in (payload or {}).get(name) or [] if isinstance(c, dict)]
            if not new:
                continue
            sent = _children(known.get(kind, {}).get(key), name, mk)
            for other in catalogue:
                if mapping.payloads[other].match_keys.get(name) == mk:
                    sent |= _children(known.get(other, {}).get(key), name, mk)
            if not sent.issuperset(new):
                return False
    return True


def _priced(product: Product, price: Decimal, kinds: list[str], mapping: CompiledMapping, adapter: Any,
            defaults: dict[str, Any]) -> dict[str, Any] | None:
    """The payloads of ``kinds`` of ``product`` with every price of it at ``price``; None if it does not map."""
    variants = [dataclasses.replace(v, price=Money(price, v.price.currency)) if isinstance(v.price, Money) else v
                for v in product.variants]
    copy = dataclasses.replace(product, variants=variants)
    try:
        return {kind: adapter.normalize(kind, mapping.payloads[kind].build(copy, defaults)) for kind in kinds}
    except (RecordMappingError, ArithmeticError, ValueError, TypeError, KeyError):
        return None


def _children(body: dict[str, Any] | None, name: str, match_key: str) -> set[str]:
    return {match_value(c, match_key) for c in (body or {}).get(name) or [] if isinstance(c, dict)}
