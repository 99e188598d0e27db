"""The record fingerprint (issue 16: a no-change plan skips mapping): exact -- any change of any field of a record,
of its value or its type, gives another fingerprint -- and stable -- the same values give the same fingerprint,
whichever objects hold them (the bytes depend on values, never on which objects are shared)."""

from __future__ import annotations

import copy
import marshal
import pickle
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from connector.model import ABSENT, Money, Product, SourceRef, StockLevel, Variant
from connector.sync.fingerprint import MARK_PREFIX, NATIVE_PREFIX, record_bytes, record_fingerprint


def product(**changes: Any) -> Product:
    def variant(sku: str, size: str) -> Variant:
        return Variant(sku=sku, attributes={"Size": size}, barcode="0001", price=Money(Decimal("10.50"), "MRU"),
                       cost=Money(Decimal("6.25"), "MRU"), weight=Decimal("1.250"), images=[f"https://x/{sku}.jpg"],
                       stock={"Main": StockLevel("Main", 5), "Shop": StockLevel("Shop", 2, on_hand=3)},
                       stock_known=True, translations={"fr_FR": {"name": "Mug"}}, ref=SourceRef("Products", 2),
                       qty=7)

    p = Product(key="P1", name="Mug", description="Un mug, qualité ☕", brand="House", category_path=["Home", "Mugs"],
                images=["https://x/P1.jpg"], translations={"ar_001": {"name": "كوب"}},
                variants=[variant("P1-S", "S"), variant("P1-M", "M")], ref=SourceRef("Products", 2),
                extra={"odoo_template_id": 7})
    for name, value in changes.items():
        setattr(p, name, value)
    return p


CHANGES: list[tuple[str, Callable[[Product], None]]] = [
    ("name", lambda p: setattr(p, "name", "Mug ")),
    ("name absent", lambda p: setattr(p, "name", ABSENT)),
    ("name None", lambda p: setattr(p, "name", None)),
    ("description", lambda p: setattr(p, "description", "Un mug, qualite ☕")),
    ("brand empty", lambda p: setattr(p, "brand", "")),
    ("category order", lambda p: p.category_path.reverse()),
    ("category tuple", lambda p: setattr(p, "category_path", tuple(p.category_path))),
    ("images", lambda p: p.images.append("https://x/2.jpg")),
    ("active", lambda p: setattr(p, "active", False)),
    ("active as 1", lambda p: setattr(p, "active", 1)),
    ("kind", lambda p: setattr(p, "kind", "service")),
    ("translation", lambda p: p.translations["ar_001"].update(name="كوب ")),
    ("translation key", lambda p: p.translations.update(fr_FR={})),
    ("ref row", lambda p: setattr(p, "ref", SourceRef("Products", 3))),
    ("ref ident", lambda p: setattr(p, "ref", SourceRef("Products", 2, "7"))),
    ("ref None", lambda p: setattr(p, "ref", None)),
    ("extra value", lambda p: p.extra.update(odoo_template_id=8)),
    ("extra float", lambda p: p.extra.update(odoo_template_id=7.0)),
    ("extra text", lambda p: p.extra.update(odoo_template_id="7")),
    ("extra Decimal", lambda p: p.extra.update(odoo_template_id=Decimal("7"))),
    ("extra tuple", lambda p: p.extra.update(odoo_template_id=(7,))),
    ("extra absent", lambda p: p.extra.update(odoo_template_id=ABSENT)),
    ("variant order", lambda p: p.variants.reverse()),
    ("variant dropped", lambda p: p.variants.pop()),
    ("sku", lambda p: setattr(p.variants[0], "sku", "P1-s")),
    ("attribute", lambda p: p.variants[0].attributes.update(Size="L")),
    ("barcode absent", lambda p: setattr(p.variants[0], "barcode", ABSENT)),
    ("price", lambda p: setattr(p.variants[0], "price", Money(Decimal("10.5"), "MRU"))),
    ("price currency", lambda p: setattr(p.variants[0], "price", Money(Decimal("10.50"), "EUR"))),
    ("price None", lambda p: setattr(p.variants[0], "price", None)),
    ("price absent", lambda p: setattr(p.variants[0], "price", ABSENT)),
    ("price as Decimal", lambda p: setattr(p.variants[0], "price", Decimal("10.50"))),
    ("price as text", lambda p: setattr(p.variants[0], "price", "10.50")),
    ("cost", lambda p: setattr(p.variants[1], "cost", Money(Decimal("6.26"), "MRU"))),
    ("weight", lambda p: setattr(p.variants[0], "weight", Decimal("1.25"))),
    ("weight as text", lambda p: setattr(p.variants[0], "weight", "1.250")),
    ("weight negative zero", lambda p: setattr(p.variants[0], "weight", Decimal("-0"))),
    ("hs code", lambda p: setattr(p.variants[0], "hs_code", "950300")),
    ("dimensions", lambda p: setattr(p.variants[0], "dimensions", {"length": Decimal("2")})),
    ("variant images", lambda p: setattr(p.variants[0], "images", [])),
    ("variant active", lambda p: setattr(p.variants[0], "active", False)),
    ("stock available", lambda p: setattr(p.variants[0].stock["Main"], "available", 4)),
    ("stock on hand", lambda p: setattr(p.variants[1].stock["Shop"], "on_hand", None)),
    ("stock reserved", lambda p: setattr(p.variants[0].stock["Main"], "reserved", 0)),
    ("stock incoming", lambda p: setattr(p.variants[0].stock["Main"], "incoming", 1)),
    ("stock location", lambda p: setattr(p.variants[0].stock["Main"], "location", "main")),
    ("stock dropped", lambda p: p.variants[0].stock.pop("Shop")),
    ("stock order", lambda p: setattr(p.variants[0], "stock", dict(reversed(p.variants[0].stock.items())))),
    ("stock known", lambda p: setattr(p.variants[0], "stock_known", False)),
    ("variant translations", lambda p: setattr(p.variants[0], "translations", {"fr_FR": {}})),
    ("variant ref", lambda p: setattr(p.variants[0], "ref", SourceRef("Products", 4))),
    ("listed quantity (stock policy, reservations)", lambda p: setattr(p.variants[0], "qty", 6)),
    ("listed quantity absent", lambda p: setattr(p.variants[0], "qty", ABSENT)),
    ("listed quantity bool", lambda p: setattr(p.variants[1], "qty", True)),
]


def test_every_change_of_a_field_changes_the_fingerprint_and_no_two_records_share_one() -> None:
    base = record_fingerprint(product(), "ctx")
    assert base is not None and base.startswith((MARK_PREFIX, NATIVE_PREFIX))  # (an encoding's mark)
    seen = {base: "unchanged"}
    for label, change in CHANGES:
        p = product()
        change(p)
        fingerprint = record_fingerprint(p, "ctx")
        assert fingerprint is not None, label
        assert fingerprint not in seen, (label, seen.get(fingerprint))
        seen[fingerprint] = label


def test_the_mapping_context_changes_the_fingerprint() -> None:
    assert record_fingerprint(product(), "ctx") != record_fingerprint(product(), "other")


def test_the_same_values_give_the_same_fingerprint_whatever_objects_hold_them() -> None:
    base = record_fingerprint(product(), "ctx")
    shared = product()
    shared.variants[0].images = shared.images  # one list held twice
    shared.variants[1].images = list(shared.images)
    plain = product()
    plain.variants[0].images = list(plain.images)
    plain.variants[1].images = list(plain.images)
    assert record_fingerprint(shared, "ctx") == record_fingerprint(plain, "ctx")
    for same in (copy.deepcopy(product()), pickle.loads(pickle.dumps(product())),
                 product(name="".join(["M", "ug"]), key=str(int("1") * 1).join(["P", ""]))):
        assert record_fingerprint(same, "ctx") == base
    held = product()
    keep = [held.name, held.variants[0].sku, held.variants]  # more references to the same objects
    assert record_fingerprint(held, "ctx") == base and keep


def test_a_record_the_fast_encoding_cannot_write_is_walked_exactly() -> None:
    """A Decimal inside a list is outside the usual shapes: the record falls back as a whole to the generic walk,
    tagged apart from the fast encoding, and every change still gives another fingerprint."""

    def unusual(p: Product) -> Product:
        p.extra["sizes"] = [Decimal("1.5"), (1, "a")]
        return p

    assert marshal.loads(record_bytes(product()) or b"")[0] == 0  # the fast encoding
    assert marshal.loads(record_bytes(unusual(product())) or b"")[0] == 1  # the generic walk
    seen = {record_fingerprint(product(), "ctx"): "usual"}
    base = record_fingerprint(unusual(product()), "ctx")
    assert base is not None and base not in seen
    seen[base] = "unchanged"
    for label, change in CHANGES:
        p = unusual(product())
        change(p)
        fingerprint = record_fingerprint(p, "ctx")
        assert fingerprint is not None, label
        assert fingerprint not in seen, (label, seen.get(fingerprint))
        seen[fingerprint] = label
    assert record_fingerprint(unusual(product()), "ctx") == base


def test_a_value_no_encoding_knows_gives_no_fingerprint_and_the_record_is_mapped() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "Opaque()"

    p = product()
    p.extra["raw"] = Opaque()
    assert record_fingerprint(p, "ctx") is None
    sub = product()
    sub.name = type("Name", (str,), {})("Mug")  # a str subclass: not written as a str
    assert record_fingerprint(sub, "ctx") is None


def test_a_mark_of_the_earlier_format_never_equals_a_fingerprint() -> None:
    from connector.jsonutil import digest

    old = digest("ctx" + repr(product()))  # what marks held before
    assert record_fingerprint(product(), "ctx") != old
    assert len(old) == 32 and not old.startswith((MARK_PREFIX, NATIVE_PREFIX))
