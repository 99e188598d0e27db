"""The sandbox reads a canonical record's fields and a table's keys without running Jinja's attribute checks
per access (expressions.MappingSandbox.getattr): every answer must be the one the checks give."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jinja2 import Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from connector.mapping.expressions import AbsentUndefined, compile_expression, sandbox
from connector.model import ABSENT, Money, Product, StockLevel, Variant

NAMES = ["key", "name", "brand", "variants", "price", "qty", "has_variants", "barcode", "label", "attributes",
         "amount", "currency", "available", "extra", "translations", "items", "pop", "get", "update", "clear",
         "__class__", "__dict__", "__slots__", "__init__", "_private", "mro", "format", "missing", "fr_FR", "x"]


def checked_answer(obj: Any, name: str) -> Any:
    """What the sandbox answered before the fast paths: Jinja's checks, then absent values made undefined."""
    env = sandbox()
    value = ImmutableSandboxedEnvironment.getattr(env, obj, name)
    return AbsentUndefined(obj=obj, name=name) if value is ABSENT else value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, Undefined) or isinstance(b, Undefined):
        return type(a) is type(b) and all(getattr(a, k) == getattr(b, k) for k in (
            "_undefined_hint", "_undefined_name", "_undefined_exception")) and a._undefined_obj is b._undefined_obj
    return a is b or (callable(a) and callable(b) and type(a) is type(b))


def test_every_attribute_answer_is_the_checked_one() -> None:
    variant = Variant(sku="S", attributes={"Size": "M"}, price=Money(Decimal("2"), "MRU"),
                      stock={"Main": StockLevel("Main", available=3)}, qty=3)
    objects = [
        Product(key="P", name="Tea", variants=[variant], translations={"fr_FR": {"name": "Thé"}},
                extra={"x": ABSENT, "items": 1}),
        Product(key="Q", name="x".format, brand=ABSENT), variant, Variant(sku="T", barcode=print),
        Money(Decimal("1"), "MRU"), StockLevel("Main", available=1),
        {"name": "n", "items": "i", "pop": 1, "fr_FR": {"name": "x"}, "x": ABSENT, "__class__": 1},
        {}, {"missing": None}, "text", ["a"], type("Other", (), {"name": "o"})(),
    ]
    for obj in objects:
        for name in NAMES:
            got = sandbox().getattr(obj, name)
            assert same(got, checked_answer(obj, name)), (obj, name, got)


def test_expressions_still_refuse_what_the_checks_refuse() -> None:
    product = Product(key="P", name="x".format, extra={"k": "v"})
    for source in ("product.name('{0:>99999}', 1)", "product.extra.pop('k')", "product.__class__.__mro__",
                   "product.extra.__class__", "product.extra.update({'k': 1})"):
        try:
            compile_expression(source)(product=product, defaults={})
        except Exception as exc:  # refused: SecurityError or an undefined used
            assert "k" in product.extra, source
            assert type(exc).__name__ in {"SecurityError", "UndefinedError", "LimitError"}, (source, exc)
        else:
            raise AssertionError(f"{source} was not refused")
    assert product.extra == {"k": "v"}
