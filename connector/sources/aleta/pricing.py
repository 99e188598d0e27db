"""Which Aleta B2B price becomes the canonical price, and the reseller's markup rule.  All ``Decimal``.

Aleta sends several prices per variant, as strings (``"49.90"``): ``retail_price`` (the supplier's shop
price), ``client_price`` (what this reseller pays), ``public_price``, ``direct_delivery_price`` and
``compare_at_price``.  ``parse_money("49.90")`` is ``Decimal("49.90")`` exactly: no float ever touches money.

The rule, applied in this order::

    price = base × (1 + percent / 100) + fixed        # skipped entirely when there is no markup
    price = rounded to a multiple of ``step`` (half up), or up to the next price ending in ``ending``
    price = quantized to the base's decimal places (at least cents)

Without a markup the base is returned untouched (``"49.90"`` stays ``Decimal("49.90")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.errors import ConfigError

PRICE_FIELDS = ("retail_price", "client_price", "public_price", "direct_delivery_price", "compare_at_price")
CENT = Decimal("0.01")


class MoneyError(ValueError):
    """A money value that is not a decimal number."""


def parse_money(value: Any) -> Decimal | None:
    """A money string (or, against the contract, a JSON number already parsed as Decimal) to ``Decimal``.

    ``None`` and ``""`` mean "no price".  Anything else that is not a finite decimal raises ``MoneyError``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise MoneyError(f"not a money value: {value!r}")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise MoneyError(f"not a decimal number: {value!r}") from None
    if not amount.is_finite():
        raise MoneyError(f"not a finite number: {value!r}")
    return amount


def _decimal(name: str, value: Any) -> Decimal:
    try:
        amount = parse_money(str(value) if isinstance(value, int | float) and not isinstance(value, bool)
                             else value)
    except MoneyError:
        amount = None
    if amount is None:
        raise ConfigError(f"aleta markup '{name}' must be a number, got {value!r}")
    return amount


@dataclass(frozen=True, slots=True)
class PriceRule:
    """``field``: which Aleta price is the base; then the optional markup (see module doc)."""

    field: str = "retail_price"
    percent: Decimal = Decimal(0)
    fixed: Decimal = Decimal(0)
    step: Decimal | None = None  # e.g. 0.05: round half up to a multiple of it
    ending: Decimal | None = None  # e.g. 0.90: round up to the next price ending in .90

    def __post_init__(self) -> None:
        if self.field not in PRICE_FIELDS:
            raise ConfigError(f"aleta setting 'price_field' must be one of {', '.join(PRICE_FIELDS)}, "
                              f"got {self.field!r}")
        if self.percent <= -100:
            raise ConfigError("aleta markup 'percent' must be above -100")
        if self.step is not None and self.step <= 0:
            raise ConfigError("aleta markup 'step' must be a positive amount such as 0.05")
        if self.ending is not None and not Decimal(0) <= self.ending < Decimal(1):
            raise ConfigError("aleta markup 'ending' must be a fraction between 0 and 1, such as 0.90")
        if self.step is not None and self.ending is not None:
            raise ConfigError("aleta markup: use either 'step' or 'ending', not both")

    @property
    def has_markup(self) -> bool:
        return bool(self.percent or self.fixed or self.step is not None or self.ending is not None)

    def apply(self, base: Decimal) -> Decimal:
        """The selling price for ``base`` (never negative)."""
        if not self.has_markup:
            return base
        exponent = base.as_tuple().exponent
        quantum = min(CENT, Decimal(1).scaleb(exponent)) if isinstance(exponent, int) else CENT
        price = base * (1 + self.percent / 100) + self.fixed
        if self.step is not None:
            price = (price / self.step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * self.step
        elif self.ending is not None:
            candidate = price.to_integral_value(rounding=ROUND_FLOOR) + self.ending
            price = candidate if candidate >= price else candidate + 1
        return max(Decimal(0), price).quantize(quantum, rounding=ROUND_HALF_UP)

    def describe(self) -> str:
        parts = [self.field]
        if self.percent:
            parts.append(f"{self.percent:+}%")
        if self.fixed:
            parts.append(f"{self.fixed:+}")
        if self.step is not None:
            parts.append(f"rounded to {self.step}")
        if self.ending is not None:
            parts.append(f"ending in {self.ending}")
        return " ".join(parts)


def parse_markup(price_field: str, markup: dict[str, Any]) -> PriceRule:
    """A ``PriceRule`` from the profile's ``price_field`` and ``markup:`` table."""
    unknown = sorted(set(markup) - {"percent", "fixed", "step", "ending"})
    if unknown:
        raise ConfigError(f"unknown aleta markup setting(s): {', '.join(unknown)} (known: percent, fixed, step, "
                          "ending)")
    return PriceRule(
        field=price_field,
        percent=_decimal("percent", markup["percent"]) if markup.get("percent") not in (None, "") else Decimal(0),
        fixed=_decimal("fixed", markup["fixed"]) if markup.get("fixed") not in (None, "") else Decimal(0),
        step=_decimal("step", markup["step"]) if markup.get("step") not in (None, "") else None,
        ending=_decimal("ending", markup["ending"]) if markup.get("ending") not in (None, "") else None,
    )
