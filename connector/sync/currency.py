"""Prices are sent in the marketplace account's currency: converted with the profile's rates, or not sent.

10 EUR is never sent as 10 MRU.  Each target has an account currency: the profile's ``currency.account``
(per target or global), EcomLinx's older ``settings.currency``, or what the marketplace's document fixes
(``DOCUMENTED``).  A price in another currency is converted with ``currency.rates`` (one unit of the price's
currency in account units, a Decimal, e.g. ``{EUR: "43.2"}``) and rounded half-up to the account's minor
units; with no rate the product is not sent and each of its rows says why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.errors import ConfigError
from connector.model import ABSENT, Money, Product

# What each marketplace's document fixes (see docs/<marketplace>.md).  Elryan variants carry their own currency
# code, so without a configured account currency a price goes out labelled with the currency it has.  EcomLinx
# says "INR (or currency set on account)": the account decides, so the profile must say it; without it prices
# are sent as they are and the report warns (``unstated_warning``).
DOCUMENTED: dict[str, str] = {
    "elebne": "MRU",  # inferred: the document's examples are a Mauritanian shop (50000 = 500.00 MRU)
}
STATED_PER_PRICE = {"elryan"}  # the payload names each price's currency
DEFAULT_MINOR_UNITS = 2
MAX_MINOR_UNITS = 6


def _code(value: Any, what: str) -> str:
    code = str(value).strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ConfigError(f"{what} must be a 3-letter currency code such as MRU or EUR, not {value!r}")
    return code


@dataclass(frozen=True)
class CurrencySettings:
    account: str | None = None  # None: prices are sent with the currency they have (Elryan labels each one)
    rates: dict[str, Decimal] = field(default_factory=dict)
    minor_units: int = DEFAULT_MINOR_UNITS


def currency_settings(target: str, global_data: Any = None, target_data: Any = None,
                      settings: dict[str, Any] | None = None) -> CurrencySettings:
    """The account currency and rates of one target: per-target ``currency:`` over the global one."""
    merged: dict[str, Any] = {}
    for data, where in ((global_data, "currency"), (target_data, f"targets.{target}.currency")):
        if data is None:
            continue
        if isinstance(data, str):
            data = {"account": data}
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: must be a table, e.g. currency: {{account: MRU, rates: {{EUR: \"43.2\"}}}}")
        unknown = set(data) - {"account", "rates", "minor_units"}
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))} (known: account, rates, "
                              "minor_units)")
        rates = {**merged.get("rates", {}), **(data.get("rates") or {})}
        merged = {**merged, **data, "rates": rates}
    legacy = (settings or {}).get("currency")  # EcomLinx's settings.currency: the same account currency
    if merged.get("account") and legacy and _code(legacy, "settings.currency") != _code(merged["account"],
                                                                                          "currency.account"):
        raise ConfigError(f"{target}: currency.account ({merged['account']}) and settings.currency ({legacy}) "
                          "disagree: keep one")
    account = merged.get("account") or legacy or DOCUMENTED.get(target)
    rates: dict[str, Decimal] = {}
    for code, rate in (merged.get("rates") or {}).items():
        try:
            value = Decimal(str(rate))
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value <= 0:
            raise ConfigError(f"currency rate for {code} must be a positive number such as \"43.2\", not {rate!r}")
        rates[_code(code, "a currency.rates key")] = value
    raw = merged.get("minor_units", DEFAULT_MINOR_UNITS)
    whole = (isinstance(raw, int) and not isinstance(raw, bool)) or (isinstance(raw, str) and raw.strip().isdigit())
    minor = int(raw) if whole else -1
    if not 0 <= minor <= MAX_MINOR_UNITS:
        # (the decimals a price may have: sync/prices.py; "2.5" or -1 would refuse or pass prices at random)
        raise ConfigError(f"currency minor_units must be a whole number from 0 to {MAX_MINOR_UNITS} (2 for most "
                          f"currencies, 3 for KWD, 0 for JPY), not {raw!r}")
    return CurrencySettings(account=_code(account, "currency.account") if account else None, rates=rates,
                            minor_units=minor)


def unstated_warning(target: str, title: str, settings: CurrencySettings | None,
                     products: Iterable[Product]) -> str | None:
    """A warning for a target whose account currency nobody stated, when prices would be sent unlabelled."""
    if (settings is not None and settings.account) or target in STATED_PER_PRICE:
        return None
    codes = sorted({v.price.currency for p in products for v in p.variants if isinstance(v.price, Money)})
    if not codes:
        return None
    return (f"the {title} account currency is not set: prices go out as they are, unconverted ({', '.join(codes)}); "
            f"set currency: {{account: ...}} for this target so another currency is converted or refused")


def require_source_currency(config: dict[str, Any], explicit: str | None, environ: dict[str, str]) -> str | None:
    """A supplier feed states no currency: the profile, ``--currency`` or the environment must.

    A profile's source without one is an error.  ``--source aleta`` (settings from the environment) keeps its
    historical MRU default for compatibility, and the returned warning says so in the run's report."""
    if config.get("type") != "aleta" or config.get("currency"):
        return None
    if explicit:
        config["currency"] = _code(explicit, "--currency")
        return None
    if environ.get("ALETA_CURRENCY") or environ.get("CONNECTOR_CURRENCY"):
        return None
    if config.get("from_env"):
        return ("the Aleta feed does not say which currency its prices are in: assumed MRU; set ALETA_CURRENCY "
                "or pass --currency")
    raise ConfigError("the Aleta feed does not say which currency its prices are in: set currency: EUR (or the "
                      "right code) in the profile's source, ALETA_CURRENCY, or pass --currency; nothing was sent")


def convert(money: Money, settings: CurrencySettings, title: str) -> Money:
    """``money`` in the account currency; ``ValueError`` (the reason, in the merchant's words) without a rate."""
    account = settings.account
    if account is None or money.currency == account:
        return money
    rate = settings.rates.get(money.currency)
    if rate is None:
        raise ValueError(f"price is in {money.currency} but the {title} account sells in {account} and the profile "
                         f"has no rate for {money.currency} (currency: {{rates: {{{money.currency}: ...}}}}): "
                         "not sent")
    step = Decimal(1).scaleb(-settings.minor_units)
    return Money((money.amount * rate).quantize(step, rounding=ROUND_HALF_UP), account)


def convert_products(products: Iterable[Product], settings: CurrencySettings | None,
                     title: str) -> tuple[list[Product], dict[str, str]]:
    """Products with every price and cost in the account currency (copies: the source is shared by targets),
    and SKU -> reason for the products that cannot be converted (left out)."""
    products = list(products)
    if settings is None or settings.account is None:
        return products, {}
    out: list[Product] = []
    refused: dict[str, str] = {}
    account = settings.account
    for product in products:
        if all((not isinstance(v.price, Money) or v.price.currency == account)
               and (not isinstance(v.cost, Money) or v.cost.currency == account) for v in product.variants):
            out.append(product)  # the usual product, priced in the account's currency: what ``_convert_variant``
            continue  # would leave as it is, without a call and a dict per variant
        try:
            variants = [_convert_variant(v, settings, title) for v in product.variants]
        except ValueError as exc:
            refused.update({v.sku: str(exc) for v in product.variants})
            continue
        if all(a is b for a, b in zip(variants, product.variants, strict=True)):
            out.append(product)
        else:
            out.append(dataclasses.replace(product, variants=variants))
    return out, refused


def _convert_variant(variant: Any, settings: CurrencySettings, title: str) -> Any:
    changes: dict[str, Any] = {}
    price, cost = variant.price, variant.cost
    if isinstance(price, Money) and price.currency != settings.account:
        changes["price"] = convert(price, settings, title)
    if isinstance(cost, Money) and cost.currency != settings.account:
        try:
            changes["cost"] = convert(cost, settings, title)
        except ValueError:
            changes["cost"] = ABSENT  # a cost without a rate is not sent rather than sent as the same number
    return dataclasses.replace(variant, **changes) if changes else variant
