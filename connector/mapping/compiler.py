"""Compile a validated mapping into Python callables, once, and apply them to every record.

Measured in design §2: copies and whitelisted operations compiled to closures cost about 2× a hand-written
dict comprehension; one sandboxed Jinja call costs ~7 µs of context building.  So copies and operations never
touch Jinja, and all computed fields of one level are evaluated in *one* Jinja expression (a dict literal)
per record; only when that fails are they evaluated one by one, to say which field failed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any

from jinja2.exceptions import SecurityError, UndefinedError

from connector.errors import MappingError
from connector.mapping.expressions import compile_expression, resolve
from connector.mapping.limits import Evaluation, LimitError, measure
from connector.mapping.ops import TEXT, Op, OpError, OpLimitError, compile_op
from connector.mapping.records import (
    PRODUCT,
    KeyedBy,
    RecordType,
    field_class,
    known_attributes,
    record_type,
    unknown_field,
)
from connector.mapping.schema import ChildSpec, FieldSpec, FieldValue, MappingSpec, PayloadSpec
from connector.model import ABSENT

_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

Getter = Callable[[tuple[Any, ...]], Any]


class RecordMappingError(ValueError):
    """One record could not be mapped; names the payload field so the report can say what to fix."""

    def __init__(self, field_path: str, message: str) -> None:
        self.field_path = field_path
        super().__init__(f"mapping field '{field_path}': {message}")


def _step(obj: Any, name: str) -> Any:
    if obj is ABSENT or obj is None:
        return obj
    if isinstance(obj, dict):
        return obj.get(name, ABSENT)
    return getattr(obj, name, ABSENT)


RootGetter = Callable[[Any], Any]

Copy = tuple[str, int, RootGetter, RootGetter, tuple, "PathRead | None"]
"""A compiled copy/const field: name, root index, getter with ops (names the field on error), bare getter, ops,
and the path as the generated code reads it (``None`` for a constant)."""


@dataclass(frozen=True, slots=True)
class PathRead:
    """A path as the generated code reads it (``_read_lines``), once ``path_read`` has checked it."""

    idx: int  # the root's index in the context
    attr: str | None = None  # first segment when the root's class is known: one of its fields or properties
    fget: Callable[[Any], Any] | None = None  # ``attr`` is a property: its getter, for a root of exactly ``cls``
    cls: type | None = None  # the root's known class
    steps: tuple[str, ...] = ()  # the segments after those, stepped through attributes or keys (``_step``)


def compile_path(path: str, roots: tuple[str, ...], where: str,
                 root_types: dict[str, type] | None = None) -> tuple[int, RootGetter]:
    """``product.price.amount`` -> (index of the root in the context, getter applied to that root).

    ``roots`` are the record type's root and ``defaults``, then the ``as`` name of each enclosing child
    level; ``root_types`` gives the class of the roots whose class is known.  A first segment on such a root
    compiles to ``operator.attrgetter`` (C speed, and a typo is reported when the mapping is loaded); deeper
    segments step through attributes or keys, stopping at an absent or empty value.
    """
    read = path_read(path, roots, where, root_types)
    deeper = read.steps
    if read.attr is None:
        return read.idx, (lambda obj: _walk(obj, deeper)) if deeper else _identity
    first_fast = operator.attrgetter(read.attr)
    return read.idx, (lambda obj: _walk(first_fast(obj), deeper)) if deeper else first_fast


def path_read(path: str, roots: tuple[str, ...], where: str, root_types: dict[str, type] | None = None) -> PathRead:
    """``compile_path``'s checks; the path as the generated code reads it.  A first segment on a root whose
    class is known must be one of its fields or properties (a typo is reported when the mapping is loaded), and
    so must a later one on a value of known class (``product.price.amount``: ``records.FIELD_CLASSES``)."""
    parts = path.split(".")
    if parts[0] not in roots:
        raise ValueError(f"{where}: path {path!r} must start with {' or '.join(roots)}")
    for seg in parts[1:]:
        if not _SEGMENT.match(seg):
            raise ValueError(f"{where}: {seg!r} in {path!r} is not a plain name")
    idx, rest = roots.index(parts[0]), parts[1:]
    cls = (root_types or {}).get(parts[0])
    if not rest or cls is None:
        return PathRead(idx, steps=tuple(rest))
    if rest[0] not in known_attributes(cls):
        raise ValueError(f"{where}: {unknown_field(parts[0], rest[0], cls)}")
    _check_deeper(parts[:2], field_class(cls, rest[0]), rest[1:], where)
    prop = getattr(cls, rest[0], None)
    fget = prop.fget if isinstance(prop, property) and isinstance(prop.fget, FunctionType) else None
    return PathRead(idx, attr=rest[0], fget=fget, cls=cls, steps=tuple(rest[1:]))


def _check_deeper(head: list[str], inner: type | KeyedBy | None, segments: list[str], where: str) -> None:
    """The segments after ``head`` (a path whose value is of class ``inner``, when known) must name fields of the
    values of known class they step into; a dict of them (``variant.stock``) takes any key, as ``_step`` does."""
    shown = ".".join(head)
    for seg in segments:
        if inner is None:
            return
        if isinstance(inner, KeyedBy):
            inner = inner.cls
        elif seg not in known_attributes(inner):
            raise ValueError(f"{where}: {unknown_field(shown, seg, inner)}")
        else:
            inner = field_class(inner, seg)
        shown += f".{seg}"


def _walk(obj: Any, segments: tuple[str, ...]) -> Any:
    for seg in segments:
        if obj is ABSENT or obj is None:
            return obj
        obj = _step(obj, seg)
    return obj


def _identity(obj: Any) -> Any:
    return obj


def _chain(getter: RootGetter, ops: tuple[Op, ...], field_path: str) -> RootGetter:
    if not ops:
        return getter
    if len(ops) == 1:
        (op,) = ops

        def run_one(obj: Any) -> Any:
            try:
                return op(getter(obj))
            except (OpError, ArithmeticError, TypeError, ValueError) as exc:
                raise RecordMappingError(field_path, str(exc)) from None

        return run_one

    def run(obj: Any) -> Any:
        value = getter(obj)
        try:
            for op in ops:
                value = op(value)
        except (OpError, ArithmeticError, TypeError, ValueError) as exc:
            raise RecordMappingError(field_path, str(exc)) from None
        return value

    return run


def _apply_ops(value: Any, ops: tuple[Op, ...], field_path: str) -> Any:
    try:
        for op in ops:
            value = op(value)
    except (OpError, ArithmeticError, TypeError, ValueError) as exc:
        raise RecordMappingError(field_path, str(exc)) from None
    return value


def _specialise(level: _Level) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    """One straight-line function for a whole level, in ``_Level.build``'s order: the copies (getters and
    operations inline, no loop), the computed fields, each child behind its ``when``, the required fields.

    The generated source holds only identifiers made here (``g0``, ``o0_1``, ``n0``...) and the names of the
    record classes' own fields (``_read_lines``); field names, getters and operations from the mapping file
    are bound as values in the function's namespace, never written into the code.  When an operation fails,
    the copies fall back to the per-field path, which names the field.
    """
    def body(exact: bool, namespace: dict[str, Any]) -> list[str]:
        return [*_level_lines(level, "", namespace, {}, exact, None), "    return out"]

    return _generated("build", "ctx", _roots_read([level]), _exact_roots([level]), body)


def _generated(name: str, params: str, roots: set[int], exact: dict[int, type],
               body: Callable[[bool, dict[str, Any]], list[str]]) -> Callable[..., Any]:
    """Compile function ``name(params)``: it reads context roots ``roots`` into ``r<idx>``, then runs ``body``.

    ``exact``: roots whose class's property getters the body calls directly (a plain Python call, cheaper than
    going through the descriptor), which is right only for a root of exactly that class; for any other root
    the function hands over to a twin whose body reads those properties as attributes."""
    namespace: dict[str, Any] = {"ABSENT": ABSENT, "ERRORS": (OpError, ArithmeticError, TypeError, ValueError),
                                 "EMPTY": (None, "", ABSENT), "RecordMappingError": RecordMappingError,
                                 "NO_KEY": NO_KEY}
    head = [f"    r{idx} = ctx[{idx}]" if params == "ctx" else f"    r{idx} = {{}} if d is None else d"
            for idx in sorted(roots) if params == "ctx" or idx > 0]
    lines = [f"def {name}_any({params}):", *head, *body(False, namespace)]
    if exact:
        args = params.replace("=None", "")
        namespace.update({f"exact{idx}": cls for idx, cls in exact.items()})
        guard = " or ".join(f"type(r{idx}) is not exact{idx}" for idx in sorted(exact))
        lines += [f"def {name}({params}):", *head, f"    if {guard}:", f"        return {name}_any({args})",
                  *body(True, namespace)]
    exec(compile("\n".join(lines), "<mapping>" if name == "apply" else "<mapping-level>", "exec"), namespace)
    return namespace[name if exact else f"{name}_any"]


def _roots_read(levels: list[_Level]) -> set[int]:
    """The context roots the levels' own copies and children's ``when`` read."""
    return {read.idx for level in levels for read in _reads(level)}


def _exact_roots(levels: list[_Level]) -> dict[int, type]:
    """The roots on which the levels read a property through its getter (``_generated``)."""
    return {read.idx: read.cls for level in levels for read in _reads(level) if read.fget is not None}


def _reads(level: _Level) -> list[PathRead]:
    return [*(read for *_copy, read in level.plain if read is not None),
            *(child.when_read for child in level.children if child.when_read is not None)]


def _level_lines(level: _Level, p: str, namespace: dict[str, Any], whens: dict[tuple[int, str], str],
                 exact: bool, key: str | None) -> list[str]:
    """The body of a generated function for ``level`` (it leaves the level's dict in ``out``), its names
    prefixed with ``p`` and bound in ``namespace``; the roots are in ``r<idx>`` (``_generated``), the context
    in ``ctx`` or, when ``_fuse`` calls, made from ``r0`` and ``d`` where needed.  ``whens``: a child's ``when``
    already evaluated earlier in the same function (same root, same path) is not evaluated again (``_fuse``).
    ``exact``: see ``_generated``.  ``key``: the key field, left in ``<p>k`` (``_fuse``'s key check).

    A constant without operations is stored as it is."""
    plain = level.plain
    ctx = "(r0, {} if d is None else d)" if key is not None else "ctx"
    namespace.update({f"{p}slow": _slow_copy(plain), f"{p}level": level})
    keep_key = key is not None and key in {name for name, *_rest in plain} and key not in {
        child.name for child in level.children}
    lines = ["    try:", "        pass"]
    for i, (name, _idx, _chained, raw_get, ops, read) in enumerate(plain):
        namespace[f"{p}n{i}"] = name
        if read is None:  # a constant
            namespace[f"{p}g{i}"] = raw_get.const[0]
            lines.append(f"        v = {p}g{i}")
        else:
            lines += ["        " + line for line in _read_lines(read, f"{p}g{i}", namespace, exact)]
        lines += ["        " + line for line in _ops_lines(ops, f"{p}o{i}_", namespace)]
        if keep_key and name == key:
            lines.append(f"        {p}k = v")
        if read is None and not ops:
            lines.append(f"        out[{p}n{i}] = v")
        else:
            lines += ["        if v is not ABSENT:", f"            out[{p}n{i}] = v"]
    lines = ["    out = {}", *lines, "    except ERRORS:", f"        out = {p}slow({ctx})"]
    if level.exprs:
        lines.append(f"    {p}level._eval_exprs({ctx}, out)")
    for k, child in enumerate(level.children):
        namespace[f"{p}c{k}"], namespace[f"{p}cn{k}"] = child.build, child.name
        indent = "    "
        if child.when_read is not None:  # checked here: most records (simple products) have no variants to build
            seen = (int(child.when_read.idx), child.when_path)
            if seen not in whens:
                whens[seen] = f"{p}wv{k}"
                lines += [f"    {line}" for line in _read_lines(child.when_read, f"{p}w{k}", namespace, exact)]
                lines.append(f"    {p}wv{k} = v")
            lines.append(f"    if {whens[seen]}:")
            indent += "    "
        lines += [f"{indent}v = {p}c{k}({ctx})", f"{indent}if v is not ABSENT:", f"{indent}    out[{p}cn{k}] = v"]
    for k, name in enumerate(level.required):
        namespace[f"{p}q{k}"], namespace[f"{p}qp{k}"] = name, f"{level.path}{name}"
        lines += [f"    if out.get({p}q{k}) in EMPTY:",
                  f"        raise RecordMappingError({p}qp{k}, 'required value is missing')"]
    if key is not None:
        namespace[f"{p}key"] = key
        if not keep_key:
            lines.append(f"    {p}k = out.get({p}key)")
        else:  # the fast path left it in <p>k; the per-field path did not
            lines.insert(lines.index("    except ERRORS:") + 2, f"        {p}k = out.get({p}key)")
    return lines


def _ops_lines(ops: tuple[Op, ...], name: str, namespace: dict[str, Any]) -> list[str]:
    """Lines applying ``ops`` to ``v``, each in its own straight-line form where it has one (``ops._inline``),
    else as a call.  Consecutive operations that pass the empties through share one presence check, each
    written in the form its input allows (``ops._inline_present``: after ``strip``, ``truncate`` knows it
    slices a ``str``)."""
    lines: list[str] = []
    known = None  # what v is inside the open presence check (ops.TEXT, ops.PRESENT), None outside one
    for j, op in enumerate(ops):
        namespace[f"{name}{j}"] = op
        inline = getattr(op, "inline", None)
        if inline is None:
            lines.append(f"v = {name}{j}(v)")
            known = None
            continue
        source, values = inline
        present = getattr(op, "inline_present", None)
        if present is not None:
            if known is None:
                lines.append("if v is not ABSENT and v is not None:")
            source = present[1] if known == TEXT else present[0]
        names = {key: f"{name}{j}_{k}" for k, key in enumerate(values)}
        namespace.update({names[key]: value for key, value in values.items()})
        indent = "    " if present is not None else ""
        lines += [indent + line for line in source.format(**names).splitlines()]
        known = present[2] if present is not None else None
    return lines


def _read_lines(read: PathRead, name: str, namespace: dict[str, Any], exact: bool) -> list[str]:
    """Lines leaving the value of path ``read`` on root ``r<idx>`` in ``v``: what ``compile_path``'s getter
    gives, without its call.

    ``exact``: the root is known to be exactly of ``read.cls``, so a property is read by calling its getter
    (``_generated``).  A field or property is read as an attribute otherwise: its name is one of the class's
    own (``path_read`` checked it against the class), never other text from the mapping file; the segments
    after it are bound as values (``<name>s<j>``)."""
    root = f"r{int(read.idx)}"
    if read.attr is not None and not (read.attr in known_attributes(read.cls) and _SEGMENT.fullmatch(read.attr)):
        raise ValueError(f"cannot read {read.attr!r} inline")  # path_read let nothing else through
    if read.fget is not None and exact:
        namespace[f"{name}f"] = read.fget
        lines = [f"v = {name}f({root})"]
    elif read.attr is not None:
        lines = [f"v = {root}.{read.attr}"]
    else:
        lines = [f"v = {root}"]
    for j, seg in enumerate(read.steps):  # _walk's steps, inline
        namespace[f"{name}s{j}"] = seg
        lines += ["if v is not ABSENT and v is not None:",
                  f"    v = v.get({name}s{j}, ABSENT) if isinstance(v, dict) else getattr(v, {name}s{j}, ABSENT)"]
    return lines


def _fuse(steps: tuple[tuple[str, _Level, str, str], ...]) -> Callable[..., dict[str, dict[str, Any]]]:
    """``CompiledMapping.apply``'s work as one generated function ``apply(record, defaults=None)``: every
    payload level's body in turn (see ``_level_lines``), each followed by its key check, so a record costs one
    call instead of one per payload, and a ``when`` that several payloads share (``product.has_variants``)
    is read once per record."""
    levels = [level for _name, level, _key, _where in steps]

    def body(exact: bool, namespace: dict[str, Any]) -> list[str]:
        whens: dict[tuple[int, str], str] = {}
        lines = []
        for s, (name, level, key, where) in enumerate(steps):
            p = f"p{s}_"
            namespace[f"{p}name"], namespace[f"{p}where"] = name, where
            lines += _level_lines(level, p, namespace, whens, exact, key)
            lines += [f"    if {p}k is None or {p}k is ABSENT or {p}k == '':",
                      f"        raise RecordMappingError({p}where, NO_KEY)", f"    {p}out = out"]
        return [*lines, "    return {" + ", ".join(f"p{s}_name: p{s}_out" for s in range(len(steps))) + "}"]

    return _generated("apply", "r0, d=None", _roots_read(levels), _exact_roots(levels), body)


def _slow_copy(plain: tuple[Copy, ...]) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    def copy(ctx: tuple[Any, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, idx, get, _raw, _ops, _read in plain:
            value = get(ctx[idx])
            if value is not ABSENT:
                out[name] = value
        return out

    return copy


@dataclass(slots=True)
class _Level:
    """Compiled fields of one object level (the payload itself, or one child element)."""

    roots: tuple[str, ...]
    plain: tuple[Copy, ...]  # copies and constants (with ops)
    exprs: tuple[tuple[str, Callable[..., Any], tuple[Op, ...]], ...]  # per-field, for error reporting
    batch: Callable[..., Any] | None  # all expressions of the level in one call
    required: tuple[str, ...]  # in the file's order: the first missing one is the one reported
    children: tuple[_Child, ...] = ()
    path: str = ""
    # the level as one generated function (``_specialise``), made once the level is complete
    build: Callable[[tuple[Any, ...]], dict[str, Any]] = field(init=False)

    def _eval_exprs(self, ctx: tuple[Any, ...], out: dict[str, Any]) -> None:
        names = dict(zip(self.roots, ctx, strict=True))
        try:
            values = self.batch(**names) if self.batch else None
            if values is not None:
                values = {name: resolve(value) for name, value in values.items()}
        except Exception:  # re-evaluated one by one below, to name the field that failed
            values = None
        if values is None:
            values = {}
            for name, fn, _ops in self.exprs:
                try:
                    values[name] = fn(**names)
                except (UndefinedError, SecurityError, ArithmeticError, TypeError, ValueError) as exc:
                    raise RecordMappingError(f"{self.path}{name}", str(exc)) from None
                except Exception as exc:  # anything else an untrusted expression can raise (recursion...)
                    raise RecordMappingError(f"{self.path}{name}", f"{type(exc).__name__}: {exc}") from None
        for name, _fn, ops in self.exprs:
            value = values.get(name, ABSENT)
            if value is not ABSENT and ops:
                value = _apply_ops(value, ops, f"{self.path}{name}")
            if value is not ABSENT:
                out[name] = value


@dataclass(slots=True)
class _Child:
    name: str
    source: tuple[int, RootGetter]
    when: tuple[int, RootGetter] | None
    level: _Level
    match_key: str
    when_path: str = ""  # the ``when`` as written (``_fuse`` reads a shared one once per record)
    when_read: PathRead | None = None  # the ``when`` as the generated code reads it

    def build(self, ctx: tuple[Any, ...]) -> Any:
        """The child's elements; its ``when`` is checked by the level before (``_Level.build``)."""
        items = self.source[1](ctx[self.source[0]])
        if items is ABSENT:
            return ABSENT
        if items is None:
            return []
        return [self.level.build((*ctx, item)) for item in items]


@dataclass(slots=True)
class CompiledPayload:
    """One payload kind of a marketplace (e.g. Elebne ``product`` or ``stock``), built from one record."""

    name: str
    key_field: str
    create_only: frozenset[str]
    match_keys: dict[str, str]  # child collection field -> match key
    level: _Level

    def build(self, record: Any, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = self.level.build((record, defaults if defaults is not None else {}))
        if payload.get(self.key_field) in _EMPTY:
            raise RecordMappingError(f"{self.name}.{self.key_field}", NO_KEY)
        return payload


_EMPTY = (None, "", ABSENT)
NO_KEY = "the key field has no value"


@dataclass(slots=True)
class CompiledMapping:
    marketplace: str
    payloads: dict[str, CompiledPayload]
    source_files: list[str] = field(default_factory=list)
    record: str = PRODUCT.name  # the record type this mapping maps (``record:`` in the file)
    # every payload kind's level and key check as one generated function (``_fuse``): ``apply`` does what
    # ``CompiledPayload.build`` does for each, without a call of its own per payload and record
    _fused: Callable[..., dict[str, dict[str, Any]]] = field(init=False)

    def __post_init__(self) -> None:
        self._fused = _fuse(tuple((name, p.level, p.key_field, f"{p.name}.{p.key_field}")
                                  for name, p in self.payloads.items()))

    def apply(self, record: Any, defaults: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Map one record (of the mapping's record type) to every payload kind.  Raises
        ``RecordMappingError`` for this record only.

        ``defaults`` are the profile's values for fields no source has (``defaults.guarantee``...): a mapping
        marks them ``required`` so a missing one is reported, never invented.
        """
        return self._fused(record, defaults)

    def copied_from(self, attributes: frozenset[str]) -> dict[str, dict[str | None, frozenset[str]]]:
        """kind -> where (None: the payload itself; a child collection's name: each of its elements) -> the
        fields copied from one of the record's ``attributes`` as a whole (``status: {copy: product.active}``),
        for the kinds that have any.  Fields an expression computes are not looked into."""
        out: dict[str, dict[str | None, frozenset[str]]] = {}
        for kind, payload in self.payloads.items():
            found = {where: names for where, names in _copies_of(payload.level, attributes, None) if names}
            if found:
                out[kind] = found
        return out


def _copies_of(level: _Level, attributes: frozenset[str], where: str | None
               ) -> list[tuple[str | None, frozenset[str]]]:
    """(where, fields) of ``level`` and its children (``CompiledMapping.copied_from``)."""
    names = frozenset(name for name, _idx, _get, _raw, _ops, read in level.plain
                      if read is not None and read.attr in attributes and not read.steps)
    out = [(where, names)]
    for child in level.children:
        out.extend(_copies_of(child.level, attributes, child.name if where is None else f"{where}.{child.name}"))
    return out


def _compile_field(name: str, spec: FieldValue, roots: tuple[str, ...], tables: dict, where: str,
                   types: dict[str, type]
                   ) -> tuple[str, tuple[int, RootGetter, RootGetter, tuple, PathRead | None] | None,
                              tuple[Callable[..., Any], str] | None, tuple[Op, ...], bool]:
    ops = []
    for i, op_spec in enumerate(spec.ops):
        try:
            ops.append(compile_op(op_spec, tables)[1])
        except ValueError as exc:
            raise ValueError(f"{where}.ops[{i}]: {exc}") from None
    ops_t = tuple(ops)
    if spec.expr is not None:
        try:
            compiled = compile_expression(spec.expr, check_constants=True, names=roots, types=types)
            return name, None, (compiled, spec.expr), ops_t, spec.required
        except ValueError as exc:
            raise ValueError(f"{where}.expr: {exc}") from None
    if "const" in spec.model_fields_set:
        const = spec.const
        _check_constant(const, ops_t, where)
        idx, getter = 0, (lambda _obj: const)
        getter.const = (const,)  # type: ignore[attr-defined]  # written as a value by _specialise, not called
        read = None
    else:
        idx, getter = compile_path(spec.copy_ or "", roots, where, types)
        read = path_read(spec.copy_ or "", roots, where, types)
    return name, (idx, _chain(getter, ops_t, where), getter, ops_t, read), None, (), spec.required


def _check_constant(value: Any, ops: tuple[Op, ...], where: str) -> None:
    """A constant and its operations give the same value for every record: one over a bound is a mapping
    error now, not a failure of every record (other failures are left to the records, as before)."""
    try:
        measure(value)
        for op in ops:
            value = op(value)
    except (LimitError, OpLimitError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    except Exception:
        return


def _compile_level(fields: dict[str, FieldValue], children: dict[str, ChildSpec], roots: tuple[str, ...],
                   tables: dict, where: str, types: dict[str, type], rtype: RecordType, path: str = "") -> _Level:
    plain, exprs, required = [], [], []
    for name, spec in fields.items():
        fname, getter, expr, ops, req = _compile_field(name, spec, roots, tables, f"{where}.fields.{name}", types)
        if req:
            required.append(fname)
        if getter is not None:
            plain.append((fname, *getter))
        elif expr is not None:
            exprs.append((fname, expr[0], ops, expr[1]))
    batch = None
    if len(exprs) > 1:
        literal = "{" + ", ".join(f"{name!r}: ({src})" for name, _f, _o, src in exprs) + "}"
        try:
            batch = compile_expression(literal)
        except ValueError:
            batch = None  # too long together: evaluate one by one
    compiled_children = []
    for cname, child in children.items():
        cwhere = f"{where}.children.{cname}"
        croots = (*roots, child.as_)
        ctypes = dict(types)
        element_class = rtype.child_class(child.source)
        if element_class is not None:
            ctypes[child.as_] = element_class
        level = _compile_level(child.fields, child.children, croots, tables, cwhere, ctypes, rtype, f"{cname}[].")
        if child.match_key not in child.fields:
            raise ValueError(f"{cwhere}.match_key: {child.match_key!r} is not one of its fields")
        compiled_children.append(_Child(
            name=cname,
            source=compile_path(child.source, roots, f"{cwhere}.source", types),
            when=compile_path(child.when, roots, f"{cwhere}.when", types) if child.when else None,
            level=level,
            match_key=child.match_key,
            when_path=child.when or "",
            when_read=path_read(child.when, roots, f"{cwhere}.when", types) if child.when else None,
        ))
    single = tuple((n, f, o) for n, f, o, _s in exprs)
    level = _Level(roots=roots, plain=tuple(plain), exprs=single, batch=batch,
                   required=tuple(required), children=tuple(compiled_children), path=path)
    level.build = _specialise(level)
    return level


def compile_payload(name: str, spec: PayloadSpec, tables: dict, rtype: RecordType = PRODUCT) -> CompiledPayload:
    where = f"payloads.{name}"
    types = {rtype.name: rtype.cls} if rtype.cls is not None else {}
    level = _compile_level(spec.fields, spec.children, rtype.roots, tables, where, types, rtype)
    if spec.key not in spec.fields:
        raise ValueError(f"{where}.key: {spec.key!r} is not one of its fields")
    _check_key_source(spec.fields[spec.key], f"{where}.fields.{spec.key}", rtype)
    return CompiledPayload(name=name, key_field=spec.key, create_only=frozenset(spec.create_only),
                           match_keys={c: s.match_key for c, s in spec.children.items()}, level=level)


def _check_key_source(spec: FieldSpec, where: str, rtype: RecordType) -> None:
    """A key field of a record type that has a key (``product.key``) copies it: the connector finds the listing,
    its state and its stock by that key, so a key field copying another path or a constant would create listings
    under one identifier and update them under another (or map many products to one listing).  An expression, or
    ops after the copy, can only be checked per record (``plan.build_plan``)."""
    if rtype.key is None:
        return
    wanted = f"{rtype.name}.{rtype.key}"
    if "const" in spec.model_fields_set:
        raise ValueError(f"{where}: the key field is a constant ({spec.const!r}), so every {rtype.name} would be "
                         f"the same listing: copy {wanted}")
    if spec.copy_ is not None and spec.copy_.strip() != wanted:
        raise ValueError(f"{where}: the key field copies {spec.copy_}, not {wanted}: the connector finds each "
                         f"listing by {wanted}, so its updates and stock would go to another listing, or two "
                         f"{rtype.name}s to one")


def compile_mapping(spec: MappingSpec, *, file: str | None = None, doc: Any = None) -> CompiledMapping:
    """Compile a validated spec.  Errors name the file, key path and (when ``doc`` is given) the line."""
    from connector.mapping.yaml_lines import file_of, line_of

    payloads = {}
    rtype = record_type(spec.record)
    for name, pspec in spec.payloads.items():
        try:
            with Evaluation():  # one budget for every constant part of the file checked while compiling
                payloads[name] = compile_payload(name, pspec, spec.tables, rtype)
        except ValueError as exc:
            msg = str(exc)
            path, _, detail = msg.partition(": ")
            keys = tuple(int(p) if p.isdigit() else p for p in re.split(r"\.|\[(\d+)\]", path) if p)
            line = line_of(doc, keys) if doc is not None else None
            where = file_of(doc, keys, file) if doc is not None else file  # a base mapping's own problem: its file
            raise MappingError(detail or msg, file=where, path=path, line=line) from None
    return CompiledMapping(marketplace=spec.marketplace, payloads=payloads,
                           source_files=[file] if file else [], record=rtype.name)
