"""The native encoding of canonical records (``connector/sync/_record_bytes.c``), which fingerprints them about
three times faster than the Python encoding (issue 16: the plan of 100,000 unchanged records).

Its bytes are checked against a reference written here from the encoding's description (the C file's comment),
for thousands of generated records: every model field varied, values of every type, records it must leave to the
Python encoding.  Its SHA-256 (x86 SHA extensions) is checked against hashlib's.  The tests of what a
fingerprint must tell apart (tests/test_record_fingerprint.py) run under each encoding."""

from __future__ import annotations

import hashlib
import random
import struct
from collections.abc import Iterator
from dataclasses import fields
from decimal import Decimal
from typing import Any

import pytest

from connector.model import ABSENT, Money, Product, SourceRef, StockLevel, Variant
from connector.sync import _record_bytes as native  # built by setup.py (where a C compiler is: here)
from connector.sync import fingerprint
from connector.sync.fingerprint import MARK_PREFIX, NATIVE_CLASSES, NATIVE_PREFIX, NATIVE_VERSION, record_fingerprint
from tests.test_fingerprint_encoding import some_product
from tests.test_record_fingerprint import product


class Unfit(Exception):
    """A value the native encoding leaves to the Python one."""


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def kind_of(text: str) -> int:
    """The PEP 393 kind of a str: the narrowest unit that holds its largest character."""
    top = max(map(ord, text), default=0)
    return 1 if top < 256 else 2 if top < 65536 else 4


def reference(value: Any, depth: int = 0) -> bytes:
    """The encoding as the C file's comment describes it."""
    if depth > native.MAX_DEPTH:
        raise Unfit
    kind = type(value)
    if kind is str:
        k = kind_of(value)
        data = value.encode({1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}[k])
        return b"s" + bytes([k]) + varint(len(value)) + data
    if value is None:
        return b"N"
    if value is True:
        return b"T"
    if value is False:
        return b"F"
    if value is ABSENT:
        return b"A"
    if kind is int:
        if not -2**63 <= value < 2**63:
            raise Unfit
        return b"i" + struct.pack("<q", value)
    if kind is Decimal:
        text = str(value).encode("ascii")
        return b"d" + varint(len(text)) + text
    if kind in NATIVE_CLASSES:
        index = NATIVE_CLASSES.index(kind)
        return b"o" + bytes([index]) + b"".join(reference(getattr(value, f.name), depth + 1) for f in fields(kind))
    if kind is list or kind is tuple:
        return (b"[" if kind is list else b"(") + varint(len(value)) + b"".join(reference(v, depth + 1)
                                                                               for v in value)
    if kind is dict:
        return b"{" + varint(len(value)) + b"".join(reference(k, depth + 1) + reference(v, depth + 1)
                                                    for k, v in value.items())
    if kind is float:
        return b"f" + struct.pack("=d", value)
    if kind is bytes:
        return b"b" + varint(len(value)) + value
    raise Unfit


def reference_or_none(value: Any) -> bytes | None:
    try:
        return reference(value)
    except Unfit:
        return None


def test_the_module_built_is_the_encoding_this_code_knows_and_reads_every_field_from_its_slot() -> None:
    assert native.VERSION == NATIVE_VERSION
    assert fingerprint._native is native.encode
    assert native.slots() == [len(fields(cls)) for cls in NATIVE_CLASSES]  # no field read by name


def test_the_native_bytes_are_the_documented_encoding() -> None:
    rng = random.Random(41)
    records = [some_product(rng, i) for i in range(3000)]
    unfit = 0
    for record in records:
        expected = reference_or_none(record)
        assert native.encode(record) == expected, record
        unfit += expected is None
    assert 0 < unfit < len(records)  # both met: written natively, and left to the Python encoding
    odd: list[Any] = ["", "é", "☕", "😀 x", "\x00", 0, -1, 2**63 - 1, -2**63, 1.5, -0.0, float("inf"), Decimal("-0"),
                      Decimal("NaN"), Decimal("1E+2"), b"", b"\x00\xff", (), [], {}, {"k": (1, [2, {"x": None}])},
                      [ABSENT, True, False, None], Money(Decimal("1.50"), "MRU"), SourceRef("x", None, "7")]
    for value in odd:
        assert native.encode(value) == reference(value), value
    for value in (2**63, -2**63 - 1, {1, 2}, frozenset(), bytearray(b"x"), object(), type("S", (str,), {})("x"),
                  type("I", (int,), {})(1), type("L", (list,), {})(), type("D", (dict,), {})(), Decimal,
                  _nested(native.MAX_DEPTH + 1)):
        assert native.encode(value) is None, value
    assert native.encode(_nested(native.MAX_DEPTH)) == reference(_nested(native.MAX_DEPTH))


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def test_values_that_print_alike_are_written_apart() -> None:
    same_text = ["1", 1, 1.0, True, Decimal("1"), Decimal("1.0"), b"1", ["1"], ("1",), {"1": None}]
    written = [native.encode(v) for v in same_text]
    assert len(set(written)) == len(same_text)
    assert native.encode(Money(Decimal("1"), "MRU")) != native.encode(SourceRef("1", None, "MRU"))
    assert native.encode("é") != native.encode("e\u0301")  # (two strings that look alike)


@pytest.mark.skipif(not getattr(native, "HAS_SHA", False), reason="no SHA extensions on this processor")
def test_the_native_sha256_is_hashlibs() -> None:
    rng = random.Random(7)
    for length in [*range(0, 260), *(rng.randint(0, 20_000) for _ in range(200))]:
        text = "".join(chr(rng.randint(32, 0x10FFFF if rng.random() < 0.1 else 0x2FF)) for _ in range(length))
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        prefix = rng.randbytes(rng.randint(0, 200))
        mark = rng.choice(["", "n1:", "x" * 40])
        expected = mark + hashlib.sha256(prefix + native.encode(text)).hexdigest()[:32]
        assert native.fingerprint(text, prefix, mark) == expected
    assert native.fingerprint(_nested(native.MAX_DEPTH + 1), b"", "n1:") is None


def test_a_record_the_native_encoding_cannot_write_gets_the_python_encodings_mark() -> None:
    usual = record_fingerprint(product(), "ctx")
    assert usual is not None and usual.startswith(NATIVE_PREFIX)
    for change in (lambda p: p.extra.update(big=2**70), lambda p: p.extra.update(tags={"a"}),
                   lambda p: setattr(p, "name", type("Name", (str,), {})("Mug"))):
        p = product()
        change(p)
        mark = record_fingerprint(p, "ctx")
        assert mark is None or mark.startswith(MARK_PREFIX)
        assert mark != usual
    p = product()
    p.extra["big"] = 2**70
    mark = record_fingerprint(p, "ctx")
    assert mark is not None and mark == record_fingerprint(p, "ctx")  # (stable)


def test_a_mark_of_one_encoding_never_equals_a_fingerprint_of_the_other() -> None:
    marks = set()
    for natively, hashed in ((True, True), (True, False), (False, False)):
        with fingerprint.encoding(natively, hashed):
            marks.add(record_fingerprint(product(), "ctx"))
    assert len(marks) == 2  # hashed natively or by hashlib: the same mark; the Python encoding's: another


ENCODINGS = {"native": (True, True), "native bytes, hashlib": (True, False), "python": (False, False)}


@pytest.fixture(params=list(ENCODINGS))
def encoding(request: pytest.FixtureRequest) -> Iterator[str]:
    with fingerprint.encoding(*ENCODINGS[request.param]):
        yield str(request.param)


def test_every_change_tells_apart_under_each_encoding(encoding: str) -> None:
    from tests import test_record_fingerprint as t

    t.test_every_change_of_a_field_changes_the_fingerprint_and_no_two_records_share_one()
    t.test_the_same_values_give_the_same_fingerprint_whatever_objects_hold_them()
    t.test_the_mapping_context_changes_the_fingerprint()
    t.test_a_value_no_encoding_knows_gives_no_fingerprint_and_the_record_is_mapped()
    mark = record_fingerprint(product(), "ctx")
    assert mark is not None and mark.startswith(MARK_PREFIX if encoding == "python" else NATIVE_PREFIX)


def test_every_field_varied_tells_apart_under_each_encoding(encoding: str) -> None:
    from tests import test_fingerprint_encoding as t

    t.test_each_field_varied_alone_gives_another_fingerprint_and_the_same_values_the_same_one()


def test_every_model_field_is_written(encoding: str) -> None:
    """A new field of a model class is covered without a change here: each field of each class, changed alone,
    changes the record's fingerprint."""
    base = record_fingerprint(product(), "ctx")
    targets = {Product: lambda p: p, Variant: lambda p: p.variants[0],
               StockLevel: lambda p: p.variants[0].stock["Main"], Money: lambda p: p.variants[0].price,
               SourceRef: lambda p: p.variants[0].ref}
    for cls, target in targets.items():
        for f in fields(cls):
            p = product()
            object.__setattr__(target(p), f.name, "changed")
            assert record_fingerprint(p, "ctx") not in (None, base), (cls.__name__, f.name)
