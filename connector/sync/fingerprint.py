"""Fingerprints of canonical records, so a plan maps again only the records that changed.

A confirmed payload in the state is marked with the fingerprint of the record it was mapped from
(``StateStore.mark_records``).  The fingerprint covers everything that feeds the payload:

- the record as the plan receives it, every field of it (stock levels, the listed quantity the stock policy and
  any reservation left in ``Variant.qty``, prices after currency conversion, the source reference), and
- the mapping context: the mapping files' content (``extends`` included), the profile's defaults, the target's
  settings, the adapter and the connector version.

A record whose fingerprint equals the mark of every payload kind maps, by construction, to the payloads already
confirmed: it is unchanged without being mapped.

How a record becomes bytes: two encodings, each injective, each with a mark prefix of its own, so that a mark
written by one never equals a fingerprint of the other (a record whose mark the other wrote is mapped once more).

The native encoding (``_record_bytes.c``, marks ``n1:``; setup.py builds it where a C compiler is): a tag byte
per value, lengths before contents, the model objects' fields in declaration order (read from their slots), exact
types only.  A record holding anything else (a subclass, a set, an int past 64 bits, an object it does not know)
is left to the Python encoding.  The module also hashes what it writes where the processor has the x86 SHA
extensions (the same SHA-256 as hashlib's: the same mark).  The plan of 100,000 unchanged records spends most
of its time here: about 0.18 s for 67,000 products, against 0.55 s for the Python encoding (issue 16).

The Python encoding (``record_bytes``, marks ``r2:``; the only one where the module is not built): an
*injective* encoding into values ``marshal`` writes (format 2: no references between objects, so the bytes
depend on the values only, never on which objects are shared), then one hash.  ``marshal`` itself refuses any
type it cannot write exactly (a ``str`` or ``int`` subclass, a ``Decimal`` left inside a container, any other
object), and a record it refuses is encoded by the generic walk; a value that walk does not know either gives
no fingerprint (None): the record is mapped, as before fingerprints.  The one thing written by content rather
than by type is a bytes-like value (``bytes`` and ``bytearray`` of the same content write the same bytes);
canonical records hold none.

- The fast encoding (the shapes every source produces): a model object is ``(codes, values, children)``:
  ``values`` are its fields in declaration order (``dataclasses.fields``: a new field is covered without a
  change here), ``codes`` one byte per field saying how its value is written: 0 as it is, 1 ``ABSENT`` (written
  as None), 2 a ``Money`` (its fields, the amount as the exact text of its ``Decimal``), 3 a ``Decimal`` (its
  exact text: ``str`` keeps sign, digits and exponent), 4 a ``SourceRef`` (its fields).  ``children``: a
  product's variants, a variant's stock levels (location key and the level's fields), or None when that field
  is not the usual list / dict of model objects (it is then written by its code like any other).
- The generic walk (``_generic``): scalars as they are, anything else as a tuple whose first item says what it
  is; records fall back to it as a whole, tagged apart from the fast encoding.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Any

from connector.code_identity import code_identity
from connector.jsonutil import digest
from connector.mapping import CompiledMapping
from connector.model import ABSENT, Money, Product, SourceRef, StockLevel, Variant

try:
    from connector.sync import _record_bytes as _native_module
except ImportError:  # not built (no C compiler where it was installed): the Python encoding alone
    _native_module = None

FORMAT = 2  # marshal format: no object references
MARK_PREFIX = "r2:"  # marks of this encoding; earlier marks (bare hex) never equal one: their records map again
_SCHEME = f"{MARK_PREFIX}python{sys.version_info[0]}.{sys.version_info[1]}:marshal{FORMAT}:".encode()
NATIVE_VERSION = 1  # the native encoding this module was written for (``VERSION`` in _record_bytes.c)
NATIVE_PREFIX = f"n{NATIVE_VERSION}:"  # marks of the native encoding
_NATIVE_SCHEME = f"{NATIVE_PREFIX}native{NATIVE_VERSION}:".encode()
NATIVE_CLASSES = (Product, Variant, StockLevel, Money, SourceRef)  # a model object's class index is its place here


def _native_encoder() -> tuple[Any, Any]:
    """``encode(record) -> bytes | None`` of the native module, told the model classes, and its
    ``fingerprint(record, prefix, mark)`` where the processor lets it hash too (``HAS_SHA``); None for what is not
    there: the module not built, or built from another version of the encoding than this file knows."""
    module = _native_module
    if module is None or getattr(module, "VERSION", None) != NATIVE_VERSION:
        return None, None
    try:
        module.setup(tuple((cls, tuple(f.name for f in fields(cls))) for cls in NATIVE_CLASSES), ABSENT, Decimal)
    except (TypeError, ValueError):  # (a model class it cannot take, e.g. past 64 fields): the Python encoding
        return None, None
    return module.encode, getattr(module, "fingerprint", None) if getattr(module, "HAS_SHA", False) else None


_native, _native_fingerprint = _native_encoder()


def mapping_context(mapping: CompiledMapping, adapter: Any, defaults: dict[str, Any] | None,
                    settings: dict[str, Any] | None, untouched: frozenset[str] = frozenset()) -> str | None:
    """The fingerprint of what, besides the record, decides its payloads (``untouched``: the plan's, which keeps
    confirmed values of some fields); None when the mapping's files are not known (a mapping compiled in memory):
    records are then always mapped."""
    if not mapping.source_files:
        return None
    files = []
    for name in mapping.source_files:
        try:
            files.append(digest(Path(name).read_bytes().decode("utf-8", "replace")))
        except OSError:
            return None
    kind = type(adapter)
    text = json.dumps([code_identity(), f"{kind.__module__}.{kind.__qualname__}", mapping.marketplace, mapping.record,
                       files, defaults or {}, settings or {}, *([sorted(untouched)] if untouched else [])],
                      sort_keys=True, default=repr, ensure_ascii=False)
    return digest(text)


def record_fingerprint(record: Any, context: str) -> str | None:
    """The fingerprint of one canonical record under a mapping context (see the module's docstring); None when the
    record holds a value neither encoding knows (the record is then always mapped)."""
    return fingerprinter(context)(record)


def fingerprinter(context: str) -> Callable[[Any], str | None]:
    """``record_fingerprint`` under one context, with everything it needs bound once (a plan calls it for each of
    100,000 records)."""
    made = _FINGERPRINTERS.get(context)
    if made is not None:
        return made
    python_mark = _marker(_SCHEME, context, MARK_PREFIX)

    def python_fingerprint(record: Any) -> str | None:
        data = record_bytes(record)
        return python_mark(data) if data is not None else None

    native, hashed_natively = _native, _native_fingerprint
    if native is None:
        made = python_fingerprint
    elif hashed_natively is not None:  # encoded and hashed in one call: the same mark as hashlib's below
        scheme = _scheme_bytes(_NATIVE_SCHEME, context)

        def native_fingerprint(record: Any) -> str | None:
            mark = hashed_natively(record, scheme, NATIVE_PREFIX)
            return mark if mark is not None else python_fingerprint(record)

        made = native_fingerprint
    else:
        native_mark = _marker(_NATIVE_SCHEME, context, NATIVE_PREFIX)

        def hashed_by_hashlib(record: Any) -> str | None:
            data = native(record)  # None: a value the native encoding does not write: the Python encoding's mark
            return native_mark(data) if data is not None else python_fingerprint(record)

        made = hashed_by_hashlib
    if len(_FINGERPRINTERS) >= 64:  # (a long-lived process planning many mappings)
        _FINGERPRINTERS.clear()
    _FINGERPRINTERS[context] = made
    return made


def _marker(scheme: bytes, context: str, mark_prefix: str) -> Callable[[bytes], str]:
    """``mark(data)``: ``mark_prefix`` and the first 32 hex digits of SHA-256 of the scheme, the context and
    ``data`` (a record's bytes in that scheme's encoding); the scheme and context hashed once."""
    copy = hashlib.sha256(_scheme_bytes(scheme, context)).copy

    def mark(data: bytes) -> str:
        hashed = copy()
        hashed.update(data)
        return mark_prefix + hashed.hexdigest()[:32]

    return mark


def _scheme_bytes(scheme: bytes, context: str) -> bytes:
    """What a record's fingerprint hashes before the record's bytes: the encoding's scheme and the context."""
    text = context.encode()
    return scheme + len(text).to_bytes(8, "big") + text


_FINGERPRINTERS: dict[str, Callable[[Any], str | None]] = {}  # context -> fingerprinter(context)


def encoding_in_use() -> str:
    """Which encoding fingerprints records in this process, in words (``make bench``)."""
    if _native is None:
        return "the Python encoding (the native module is not built)"
    return "native, hashed " + ("natively" if _native_fingerprint is not None else "by hashlib")


@contextmanager
def encoding(native: bool, hashed_natively: bool = True) -> Iterator[None]:
    """Inside the block, records are fingerprinted by the native encoding (hashed by the module where
    ``hashed_natively`` and the processor lets it, else by hashlib) or, ``native`` false, by the Python encoding
    alone: ``make bench``'s anchor beside the native one, and the tests of each path."""
    global _native, _native_fingerprint
    kept = _native, _native_fingerprint, dict(_FINGERPRINTERS)
    built, built_hashing = _native_encoder()
    _native = built if native else None
    _native_fingerprint = built_hashing if native and hashed_natively else None
    _FINGERPRINTERS.clear()
    try:
        yield
    finally:
        _native, _native_fingerprint = kept[0], kept[1]
        _FINGERPRINTERS.clear()
        _FINGERPRINTERS.update(kept[2])


def record_bytes(record: Any) -> bytes | None:
    """The record's exact bytes (an injective encoding, see the module's docstring), or None."""
    if type(record) is Product:
        try:
            return marshal.dumps((0, _product(record)), FORMAT)
        except (_Unfit, ValueError):
            pass  # a value outside the usual shapes: the generic walk
    try:
        return marshal.dumps((1, _generic(record)), FORMAT)
    except (_Unfit, ValueError):
        return None


class _Unfit(Exception):
    """A value the encoding does not write exactly."""


# -- the fast encoding --------------------------------------------------------------------------------------------
_RAW, _ABSENT, _MONEY, _DECIMAL, _REF = range(5)
_CODE_OF_TYPE = {type(ABSENT): _ABSENT, Money: _MONEY, Decimal: _DECIMAL, SourceRef: _REF}
_MAX_SHAPES = 4096  # shapes (the types of an object's fields) encoded by a function made for them; past it, generic


def _money_expression() -> str:
    """A ``Money`` at ``v[{i}]``: the exact text of its amount (a ``Decimal``, else the generic walk), then its other
    fields as they are."""
    amount = "(str(v[{i}].amount) if type(v[{i}].amount) is Decimal else _unfit())"
    return "(" + "".join((amount if f.name == "amount" else f"v[{{i}}].{f.name}") + ", " for f in fields(Money)) + ")"


def _fields_expression(cls: type, obj: str, first: str = "") -> str:
    """``(first, obj.a, obj.b, ...)``: the fields of a model object in declaration order, read in the functions made
    here (where the interpreter reads a slot directly) instead of by an ``attrgetter``."""
    items = ([first] if first else []) + [f"{obj}.{f.name}" for f in fields(cls)]
    return "(" + "".join(f"{item}, " for item in items) + ")"


_VALUE = {_RAW: "v[{i}]", _ABSENT: "None", _MONEY: _money_expression(), _DECIMAL: "str(v[{i}])",
          _REF: _fields_expression(SourceRef, "v[{i}]")}


def _shape_encoder(cls: type, children_at: int, container: type, children: str) -> Any:
    """``encode(obj)``: ``(codes, values, children)`` of one model object, by a function made (once) for each
    shape, i.e. the types of its fields: the codes are the shape's and each value is written by its code with no
    test left to run.  ``children`` is the expression of the children when the field at ``children_at`` holds
    them (the usual list / dict); they are then None in ``values``."""
    made: dict[tuple[type, ...], Any] = {}
    env: dict[str, Any] = {"Decimal": Decimal, "_unfit": _unfit, "StockLevel": StockLevel, "Variant": Variant}

    def first_of(values: tuple[Any, ...]) -> Any:
        """The function of a shape not met yet."""
        shape = tuple(map(type, values))
        if len(made) >= _MAX_SHAPES:
            raise _Unfit
        fn = made[shape] = _make(shape)
        return fn

    # encode(obj): its fields read in place (the interpreter reads a slot directly), then its shape's function
    source = (f"def encode(o):\n    v = {_fields_expression(cls, 'o')}\n"
              "    fn = _made_get(tuple(map(type, v)))\n    if fn is None:\n        fn = _first_of(v)\n"
              "    return fn(v)\n")
    scope: dict[str, Any] = {"_made_get": made.get, "_first_of": first_of}
    exec(source, scope)  # the text is made here from the model's field names
    encode = scope["encode"]

    def _make(shape: tuple[type, ...]) -> Any:
        codes = bytes(_CODE_OF_TYPE.get(t, _RAW) for t in shape)
        items = [_VALUE[c].format(i=i) for i, c in enumerate(codes)]
        kids = "None"
        if shape[children_at] is container:
            items[children_at], kids = "None", children.format(i=children_at)
        source = f"lambda v: ({codes!r}, ({', '.join(items)},), {kids})"
        return eval(source, env)  # the text is made here from field positions and fixed templates

    return encode, env


def _unfit() -> Any:
    raise _Unfit


_variant, _ = _shape_encoder(
    Variant, [f.name for f in fields(Variant)].index("stock"),
    dict, f"[{_fields_expression(StockLevel, 's', 'k')} if type(s) is StockLevel else _unfit() "
    "for k, s in v[{i}].items()]")
_product, _product_env = _shape_encoder(
    Product, [f.name for f in fields(Product)].index("variants"),
    list, "[_variant(x) if type(x) is Variant else _unfit() for x in v[{i}]]")
_product_env["_variant"] = _variant


# -- the generic walk ---------------------------------------------------------------------------------------------
_SCALARS = frozenset({str, int, float, bool, type(None), bytes})
_MODEL = {cls: (i, attrgetter(*(f.name for f in fields(cls))))
          for i, cls in enumerate((Product, Variant, StockLevel, Money, SourceRef))}
_G_ABSENT, _G_DECIMAL, _G_LIST, _G_TUPLE, _G_DICT, _G_SET, _G_FROZENSET, _G_MODEL = range(1, 9)


def _generic(value: Any) -> Any:
    """Scalars as they are; anything else a tuple whose first item says what it is (see the module's docstring)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if value is ABSENT:
        return (_G_ABSENT,)
    if kind is Decimal:
        return (_G_DECIMAL, str(value))
    if kind is list:
        return (_G_LIST, [_generic(v) for v in value])
    if kind is tuple:
        return (_G_TUPLE, [_generic(v) for v in value])
    if kind is dict:
        return (_G_DICT, [(_generic(k), _generic(v)) for k, v in value.items()])
    if kind is set or kind is frozenset:  # written in iteration order: the same set may write differently (safe)
        return (_G_SET if kind is set else _G_FROZENSET, [_generic(v) for v in value])
    model = _MODEL.get(kind)
    if model is not None:
        return (_G_MODEL, model[0], [_generic(v) for v in model[1](value)])
    raise _Unfit
