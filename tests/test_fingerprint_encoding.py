"""The record fingerprint's generated encoders against a plain reference (issue 16: a no-change plan skips
mapping).  The fast encoding is made of functions generated per shape, reading fields in place; a reference
written straight from the documented encoding (``connector.sync.fingerprint``'s docstring) must give the very
same bytes for many generated records -- every field varied, types swapped, ABSENT / None, values of every
kind, children outside the usual shapes -- and a plan must map again a record of which one field changed."""

from __future__ import annotations

import marshal
import random
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.mapping import load_mapping, shipped_mapping
from connector.marketplaces.elebne.adapter import ElebneAdapter
from connector.model import ABSENT, Money, Product, SourceRef, StockLevel, Variant
from connector.sync.fingerprint import FORMAT, _generic, _Unfit, mapping_context, record_bytes, record_fingerprint
from connector.sync.plan import build_plan, save_record_marks
from connector.sync.state import StateStore
from connector.sync.stock_policy import StockPolicy


class Unfit(Exception):
    pass


def reference_value(value: Any) -> tuple[int, Any]:
    """(code, written value) of one field, as the module's docstring says."""
    kind = type(value)
    if value is ABSENT:
        return 1, None
    if kind is Money:
        if type(value.amount) is not Decimal:
            raise Unfit
        return 2, tuple(str(value.amount) if f.name == "amount" else getattr(value, f.name) for f in fields(Money))
    if kind is Decimal:
        return 3, str(value)
    if kind is SourceRef:
        return 4, tuple(getattr(value, f.name) for f in fields(SourceRef))
    return 0, value


def reference_object(obj: Any, children_field: str, container: type, children: Any) -> tuple[bytes, tuple, Any]:
    codes, values, kids = [], [], None
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.name == children_field and type(value) is container:
            codes.append(0)
            values.append(None)
            kids = children(value)
        else:
            code, written = reference_value(value)
            codes.append(code)
            values.append(written)
    return bytes(codes), tuple(values), kids


def reference_stock(stock: dict) -> list:
    out = []
    for key, level in stock.items():
        if type(level) is not StockLevel:
            raise Unfit
        out.append((key, *(getattr(level, f.name) for f in fields(StockLevel))))
    return out


def reference_variants(variants: list) -> list:
    out = []
    for variant in variants:
        if type(variant) is not Variant:
            raise Unfit
        out.append(reference_object(variant, "stock", dict, reference_stock))
    return out


def reference_bytes(record: Any) -> bytes | None:
    if type(record) is Product:
        try:
            return marshal.dumps((0, reference_object(record, "variants", list, reference_variants)), FORMAT)
        except (Unfit, ValueError):
            pass
    try:
        return marshal.dumps((1, _generic(record)), FORMAT)
    except (_Unfit, ValueError):  # a value no encoding knows
        return None


def odd_money() -> Money:
    money = Money(Decimal("1"), "MRU")
    object.__setattr__(money, "amount", 1.0)  # not a Decimal: outside the fast encoding
    return money


SCALARS: list[Any] = [
    "", "x", "é ☕ كوب", "1.5", "None", 0, 1, -1, 2**40, True, False, 1.5, -0.0, None, ABSENT, Decimal("1.5"),
    Decimal("1.50"), Decimal("-0"), Decimal("1E+2"), Money(Decimal("10.50"), "MRU"), Money(Decimal("10.5"), "MRU"),
    Money(Decimal("10.50"), "EUR"), SourceRef("Products", 2), SourceRef("Products", 2, "7"), SourceRef("x"),
    b"raw",
]
CONTAINERS: list[Any] = [
    [], ["a", "b"], ("a", "b"), {"fr_FR": {"name": "N"}}, {"Size": "M", "Color": "Blue"}, {1: "a"}, {"k": [1, 2]},
    [Decimal("1")], {"k": ABSENT}, frozenset({1, 2}), [SourceRef("x")],
]


class Opaque:
    """A value no encoding knows."""


def some_value(rng: random.Random) -> Any:
    if rng.random() < 0.01:
        return Opaque()
    pool = SCALARS if rng.random() < 0.8 else CONTAINERS
    value = rng.choice(pool)
    if isinstance(value, (list, dict)):
        value = type(value)(value)  # a fresh copy: the bytes never depend on which objects are shared
    return value


def some_level(rng: random.Random, location: str) -> Any:
    if rng.random() < 0.03:
        return {"available": 1}  # not a StockLevel
    return StockLevel(location, *(rng.choice([None, 0, 1, 7, True, "3", Decimal("2")]) for _ in range(4)))


def some_variant(rng: random.Random, i: int) -> Any:
    if rng.random() < 0.02:
        return {"sku": "not a variant"}
    v = Variant(sku=f"V{i}", attributes={"Size": rng.choice("SML")}, barcode=rng.choice(["0001", None, ABSENT]),
                price=rng.choice([Money(Decimal("10.50"), "MRU"), Money(Decimal("10.51"), "MRU"), ABSENT, None]),
                cost=ABSENT, weight=rng.choice([Decimal("1.250"), ABSENT, "1.250"]), images=["https://x/1.jpg"],
                stock={loc: some_level(rng, loc) for loc in rng.sample(["Main", "Shop", "Depot"], rng.randint(0, 3))},
                stock_known=rng.random() < 0.5, ref=SourceRef("Products", i), qty=rng.choice([0, 5, ABSENT, None]))
    for _ in range(rng.randint(0, 3)):  # a few fields of any value or type
        name = rng.choice([f.name for f in fields(Variant)])
        value = some_value(rng)
        if name == "price" and rng.random() < 0.1:
            value = odd_money()
        setattr(v, name, value)
    return v


def some_product(rng: random.Random, i: int) -> Product:
    p = Product(key=f"P{i}", name=f"Name {i}", description="Desc", brand="B", category_path=["Home", "Mugs"],
                images=["https://x/p.jpg"], translations={"fr_FR": {"name": f"Nom {i}"}},
                variants=[some_variant(rng, 10 * i + j) for j in range(rng.randint(0, 3))],
                ref=SourceRef("Products", i + 2), extra={})
    for _ in range(rng.randint(0, 3)):
        setattr(p, rng.choice([f.name for f in fields(Product)]), some_value(rng))
    return p


def test_the_generated_encoders_write_what_the_documented_encoding_says() -> None:
    rng = random.Random(16)
    records = [some_product(rng, i) for i in range(3000)]
    tags = {0: 0, 1: 0, None: 0}
    for record in records:
        expected = reference_bytes(record)
        assert record_bytes(record) == expected, record
        tags[None if expected is None else marshal.loads(expected)[0]] += 1
    assert all(tags.values()), tags  # the fast encoding, the generic walk and "no fingerprint" were all met
    again = [record_bytes(r) for r in records]  # shapes met before: their functions are reused
    assert again == [reference_bytes(r) for r in records]


def test_each_field_varied_alone_gives_another_fingerprint_and_the_same_values_the_same_one() -> None:
    def base() -> Product:
        return catalogue()[1]

    fingerprint = record_fingerprint(base(), "ctx")
    assert fingerprint is not None and record_fingerprint(base(), "ctx") == fingerprint
    seen = {fingerprint: "base"}
    for cls, target in ((Product, lambda p: p), (Variant, lambda p: p.variants[1]),
                        (StockLevel, lambda p: p.variants[1].stock["Shop"]),
                        (Money, lambda p: p.variants[1].price), (SourceRef, lambda p: p.variants[1].ref)):
        for f in fields(cls):
            for value in SCALARS + CONTAINERS:
                p = base()
                obj = target(p)
                if getattr(obj, f.name) == value and type(getattr(obj, f.name)) is type(value):
                    continue  # the same value
                object.__setattr__(obj, f.name, value)  # (Money and SourceRef are frozen)
                changed = record_fingerprint(p, "ctx")
                if changed is None:
                    continue  # a value no encoding knows: the record is mapped every time
                label = (cls.__name__, f.name, repr(value))
                assert changed not in seen, (label, seen.get(changed))
                seen[changed] = label
    assert len(seen) > 500


def catalogue() -> list[Product]:
    products = []
    for i in range(6):
        variants = [Variant(sku=f"S{i}-{j}", attributes={"Size": size} if i % 2 else {},
                            price=Money(Decimal(f"{10 + i}.50"), "MRU"),
                            stock={"Main": StockLevel("Main", 5 + j), "Shop": StockLevel("Shop", 1)}, stock_known=True,
                            ref=SourceRef("Products", 2 + 10 * i + j))
                    for j, size in enumerate(["S", "M"] if i % 2 else [""])]
        products.append(Product(key=f"S{i}", name=f"Product {i}", translations={"fr_FR": {"name": f"Produit {i}"}},
                                variants=variants, ref=SourceRef("Products", 2 + 10 * i)))
    StockPolicy().apply(products)
    return products


CHANGES = [
    ("one cent of price", lambda p: setattr(p.variants[-1], "price", Money(p.variants[-1].price.amount
                                                                            + Decimal("0.01"), "MRU"))),
    ("one unit of stock", lambda p: setattr(p.variants[0].stock["Shop"], "available", 2)),
    ("a translation", lambda p: p.translations["fr_FR"].update(name="Produit modifié")),
    ("the listed quantity", lambda p: setattr(p.variants[0], "qty", p.variants[0].qty - 1)),
    ("a source reference", lambda p: setattr(p.variants[0], "ref", SourceRef("Products", 99))),
    ("a price's type", lambda p: setattr(p.variants[0], "price", ABSENT)),
]


@pytest.mark.parametrize("label, change", CHANGES, ids=[label for label, _ in CHANGES])
def test_a_plan_maps_again_exactly_the_record_of_which_one_field_changed(tmp_path: Path, mapped: list[str],
                                                                         label: str, change: Any) -> None:
    mapping = load_mapping(shipped_mapping("elebne"))
    adapter = ElebneAdapter(client=None, account="shop")  # type: ignore[arg-type]
    context = mapping_context(mapping, adapter, {}, {})
    assert context is not None
    with StateStore.open(tmp_path / "state.sqlite") as state:
        first = build_plan(catalogue(), mapping, adapter, state, "elebne", "shop", context=context)
        for kind in {op.kind for op in first.ops}:
            state.confirm("elebne", "shop", kind, [(op.key, op.digest, op.canonical, None)
                                                   for op in first.ops if op.kind == kind])
        save_record_marks(first, state)
        mapped.clear()
        assert build_plan(catalogue(), mapping, adapter, state, "elebne", "shop", context=context).ops == []
        assert mapped == []
        for key in ("S0", "S3"):  # a simple product and one with variants
            products = catalogue()
            change(next(p for p in products if p.key == key))
            plan = build_plan(products, mapping, adapter, state, "elebne", "shop", context=context,
                              note_marks=False)
            assert mapped == [key], label
            failed = {p.key for p, _message in plan.mapping_failures}
            assert set(plan.products) | failed == {p.key for p in products} and failed <= {key}
            mapped.clear()
