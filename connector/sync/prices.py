"""A price the marketplace would show wrongly is never sent: the product is refused for that target instead.

Called by ``safety.before_plan`` after the prices were converted to the account currency (``currency.py``).
The price of a variant on sale is refused when it is

- at or below 0: a typo, or an empty Odoo list price, never puts a product on sale for nothing;
- more precise than the account currency allows: more decimals than its minor units (``currency.minor_units``
  of the target in the profile, default 2), which the marketplace would round or cut.

A refused price refuses its whole product for that target: nothing of it is planned or sent (its stock neither),
each of its rows is skipped with the reason (SKU, value, limit) and the code ``price_refused``, and the run needs
attention (exit 1).  Except where the marketplace already has the product and takes its stock apart from its
price (``price_hold.py``): there only the price is held back, and its stock is still sent (a unit sold elsewhere
is never left on sale while nobody fixes a price).  An incremental Odoo read reads such a product again on its
next run (``SourceResult.recheck``) until it is sent.  The price of a variant that is not on sale (archived, or its
product) is not checked: it is shown nowhere, and refusing it (or leaving it out: Elryan requires a variant's
price) would keep the listing on sale instead of taking it off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connector.model import Money, Product, Variant
from connector.sources.base import PRICE_REFUSED
from connector.sync.report import own_sheet

__all__ = ["PRICE_REFUSED", "PriceRefusals", "decimals", "price_issue", "price_problem", "refuse_prices"]


@dataclass
class PriceRefusals:
    reasons: dict[str, str] = field(default_factory=dict)  # SKU -> reason, every SKU of a refused product
    issues: list[dict[str, Any]] = field(default_factory=list)  # one per refused price, for the report's issues
    # each refused product and what is wrong ("price 26.125 MRU of SKU X has ..."): its stock may still go
    products: list[tuple[Product, str]] = field(default_factory=list)
    # SKU -> (what is wrong, the sheet of its product's own rows) of products whose price alone is held back
    # (``price_hold.py``): their stock is planned and sent, and their SKUs are no longer in ``reasons``
    held: dict[str, tuple[str, Any]] = field(default_factory=dict)

    def refuse(self, product: Product, said: str) -> None:
        """Nothing of ``product`` is sent: each of its SKUs' rows says why (``said``: what is wrong)."""
        reason = f"{said}: {'product' if len(product.variants) > 1 else 'SKU'} not sent (fix the price in the source)"
        self.reasons.update(dict.fromkeys((v.sku for v in product.variants), reason))

    def hold(self, product: Product, said: str) -> None:
        """Only the price of ``product`` is held back: its stock goes (``price_hold.py``)."""
        own = own_sheet(product) if product.ref is not None else None
        for v in product.variants:
            self.reasons.pop(v.sku, None)
            self.held[v.sku] = (said, own)


def decimals(amount: Decimal) -> int:
    """How many decimals a finite ``amount`` has besides trailing zeros (``12.340``: 2), without the context's
    precision (a 30-digit price is counted, not rounded)."""
    _sign, digits, exponent = amount.as_tuple()
    significant = bytes(digits).rstrip(b"\0")
    return max(0, -int(exponent) - (len(digits) - len(significant))) if significant else 0


def price_problem(amount: Decimal, minor_units: int, currency: str) -> str | None:
    """What is wrong with a price of ``amount`` for an account selling in ``currency``; None when nothing is."""
    if not amount.is_finite():
        return "is not a number"
    if amount <= 0:
        return "is not above 0 (a product is never put on sale for nothing)"
    if decimals(amount) > minor_units:
        return (f"has more decimals than {currency or 'the account currency'} allows (at most {minor_units}: a "
                "price is never rounded silently)")
    return None


def _plain(amount: Decimal, step: Decimal) -> bool:
    """The usual price, above 0 and exact to ``step``, told without counting its decimals (100,000 products)."""
    try:
        return amount > 0 and amount == amount.quantize(step)
    except ArithmeticError:  # NaN, or more digits than the context holds: ``price_problem`` tells
        return False


def refuse_prices(products: Iterable[Product], minor_units: int, target: str) -> tuple[list[Product], PriceRefusals]:
    """The products whose prices may be sent, and what was refused."""
    out: list[Product] = []
    refused = PriceRefusals()
    step = Decimal(1).scaleb(-minor_units)
    for product in products:
        on_sale = [(v, problem) for v in product.variants
                   if product.active and v.active and isinstance(v.price, Money) and not _plain(v.price.amount, step)
                   and (problem := price_problem(v.price.amount, minor_units, v.price.currency))]
        if not on_sale:
            out.append(product)
            continue
        first, problem = on_sale[0]
        said = f"price {first.price.amount} {first.price.currency} of SKU {first.sku} {problem}"
        refused.refuse(product, said)
        refused.products.append((product, said))
        refused.issues += [price_issue(v, f"price {p}", target) for v, p in on_sale]
    return out, refused


def price_issue(variant: Variant, reason: str, target: str) -> dict[str, Any]:
    """The report's issue for the price cell of ``variant`` (its value as the source gave it, converted)."""
    ref = variant.ref
    return {"sheet": ref.origin if ref else None, "row": ref.row if ref else None, "column": "Price",
            "value": str(variant.price.amount), "reason": reason, "sku": variant.sku, "severity": "error",
            "target": target}
