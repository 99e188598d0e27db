"""Sandboxed Jinja2 expressions for computed mapping fields.

Mapping files are untrusted input (design §2): expressions run in Jinja2's *immutable* sandbox with
``StrictUndefined`` (a typo is an error, not an empty string), without globals that can burn resources,
with ``**``, ``*`` and ``%`` intercepted (a big exponent burns CPU, ``'x' * 10**8`` allocates 100 MB,
``'%999999999d' % 1`` likewise), padding methods removed, and a cap on expression length.
There is no escape hatch to Python; custom filters come only from installed code (entry points group
``connector.filters``), never from the YAML.

Time and memory are bounded too (``limits.py``): every filter, method call, ``+``, ``*`` and ``~`` result is
measured and charged to the evaluation's budget, and the filters and methods whose result can be far larger
than their input (``replace``, ``join``, ``batch``, ``slice``, ``sum``) are checked *before* they run.
Jinja's own compile-time constant folding is off (it would run filters while compiling, unbounded); instead
the constant parts of an expression are evaluated once, under the same bounds, when the mapping is loaded, so
``connector mapping check`` refuses ``range(10**9)`` or a join that would make a gigabyte.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Mapping
from decimal import Decimal
from importlib.metadata import entry_points
from itertools import islice
from typing import Any

from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from connector.mapping.limits import (
    ITEM_COST,
    MAX_ITEMS,
    Evaluation,
    LimitError,
    charge,
    check_text_growth,
    checked,
    join_growth,
    measure,
    replace_growth,
)
from connector.mapping.records import KeyedBy, field_class, known_attributes, unknown_field
from connector.model import ABSENT, Money, Product, StockLevel, Variant

MAX_EXPRESSION_LENGTH = 2000
MAX_EXPRESSION_DEPTH = 48  # nodes nested in one expression's syntax tree
MAX_EXPONENT = 64
MAX_BASE = 10**9
MAX_SEQUENCE = MAX_ITEMS

# str methods that allocate a result as large as an argument says.
_BLOCKED_ATTRIBUTES = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map",
                                 "translate", "maketrans"})
# Filters that pad or format to a caller-given width, or that are not needed in mappings.
_BLOCKED_FILTERS = ("center", "format", "indent", "wordwrap", "xmlattr", "pprint", "urlize", "filesizeformat")


class AbsentUndefined(StrictUndefined):
    """An undefined that stands for a canonical value the source did not provide (``ABSENT``).

    Like any ``StrictUndefined`` it fails when used, but an expression whose whole value is absent yields an
    absent field (not sent), whereas a misspelt name stays an error.
    """

    __slots__ = ()


def resolve(value: Any) -> Any:
    """Turn an expression's value into a payload value: absent -> ``ABSENT``; other undefined -> error."""
    if isinstance(value, AbsentUndefined):
        return ABSENT
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def _materialised(value: Any) -> Any:
    """An iterable as a list of at most ``MAX_ITEMS`` items (strings and tables are returned as they are)."""
    if isinstance(value, str | dict | list | tuple):
        return value
    items = list(islice(value, MAX_ITEMS + 1))
    if len(items) > MAX_ITEMS:
        raise LimitError(f"a list of more than {MAX_ITEMS:,} items")
    return items


def _pre_replace(s: Any, old: Any = "", new: Any = "", count: Any = None, *_: Any, **__: Any) -> None:
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str):
        check_text_growth(replace_growth(s, old, new, count if isinstance(count, int) else None), "replace")


def _pre_count(_value: Any, n: Any = 1, *_: Any, **__: Any) -> None:
    if isinstance(n, int) and n > MAX_ITEMS:
        raise LimitError(f"{n:,} is over the limit of {MAX_ITEMS:,} items")


def _pre_sum(_value: Any, attribute: Any = None, start: Any = 0, **kwargs: Any) -> None:
    start = kwargs.get("start", start)
    if isinstance(start, bool) or not isinstance(start, int | float):
        raise LimitError("'sum' adds numbers only")


# Filters that look the items of their input up one by one (sandboxed attribute access): charged per item.
_ITEMWISE = frozenset({"sort", "unique", "groupby", "dictsort", "map", "select", "reject", "selectattr",
                       "rejectattr", "sum", "min", "max"})

# Filters whose result can be far larger than their input, and the check that runs before them.
_PRECHECKS: dict[str, Callable[..., None]] = {
    "replace": _pre_replace, "batch": _pre_count, "slice": _pre_count, "sum": _pre_sum,
}


def _bounded_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its result measured and charged; ``join`` and the filters in ``_PRECHECKS`` checked first."""
    passes_arg = getattr(fn, "jinja_pass_arg", None) is not None
    precheck = _PRECHECKS.get(name)
    itemwise = name in _ITEMWISE

    @functools.wraps(fn)  # keeps ``jinja_pass_arg``: Jinja still hands the filter its context
    def bounded(*args: Any, **kwargs: Any) -> Any:
        at = 1 if passes_arg else 0
        if itemwise and len(args) > at and isinstance(args[at], list | tuple | dict | range):
            charge(len(args[at]) * ITEM_COST)
        if name == "join" and len(args) > at:
            items = _materialised(args[at])
            if not isinstance(items, str | dict) and "attribute" not in kwargs and None in items:
                raise ValueError(f"'join' joins an empty value (None), which would be sent as the text 'None': "
                                 f"leave it out (| select) or {_OR_EMPTY}")
            sep = args[at + 1] if len(args) > at + 1 else kwargs.get("d", "")
            if not isinstance(items, str) and isinstance(sep, str):
                check_text_growth(join_growth(sep, list(items)), "join")
            args = (*args[:at], items, *args[at + 1:])
        elif precheck is not None and len(args) > at:
            precheck(*args[at:], **kwargs)
        return checked(fn(*args, **kwargs))  # a lazy result (map, select...) counts as one

    return bounded


def _chained(*checks: Callable[..., None]) -> Callable[..., None]:
    def precheck(*args: Any, **kwargs: Any) -> None:
        for check in checks:
            check(*args, **kwargs)

    return precheck


# what a message about an empty value joined as text says to do instead
_OR_EMPTY = "write (value or '') to join it as nothing, or test it with 'if'"


# Jinja's filters that make text of their input as ``str`` does: an empty value (an empty cell, None) would
# become the text 'None' ('NONE', 'none'...)
_TEXT_FILTERS = ("string", "trim", "lower", "upper", "title", "capitalize", "replace", "truncate", "striptags",
                 "urlencode", "escape", "e", "forceescape")


def _no_none_text(name: str) -> Callable[..., None]:
    def precheck(value: Any = "", *_args: Any, **_kwargs: Any) -> None:
        if value is None:
            raise ValueError(f"'{name}' of an empty value (None) would be sent as the text 'None': {_OR_EMPTY}")

    return precheck


for _name in _TEXT_FILTERS:
    _PRECHECKS[_name] = _chained(_PRECHECKS[_name], _no_none_text(_name)) if _name in _PRECHECKS \
        else _no_none_text(_name)


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` to a call the environment bounds (Jinja joins the parts inline)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


# The canonical record classes' public fields and properties (plain data): the sandbox's checks allow every one
# of them (not internal, not a mutating method, not ``str.format``), so ``getattr`` reads them without running
# the checks per access; anything else, and a field holding a callable, goes through the checks.
_PUBLIC = {cls: known_attributes(cls) for cls in (Product, Variant, Money, StockLevel)}
# What a plain dict has as attributes: any other ``table.name`` is the key ``name``, as Jinja reads it after
# ``getattr`` fails.
_DICT_NAMES = frozenset(dir(dict))


class MappingSandbox(ImmutableSandboxedEnvironment):
    """The only environment mapping expressions run in."""

    intercepted_binops = frozenset({"**", "*", "%", "+", "-", "/", "//"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self) -> None:
        # optimized=False: no constant folding while compiling (see the module docstring).
        super().__init__(undefined=StrictUndefined, autoescape=False, optimized=False)
        self.globals.clear()
        self.globals["range"] = self._small_range
        for name in _BLOCKED_FILTERS:
            self.filters.pop(name, None)
        for ep in entry_points(group="connector.filters"):
            self.filters[ep.name] = ep.load()
        self.filters = {name: _bounded_filter(name, fn) for name, fn in self.filters.items()}

    @staticmethod
    def _small_range(*args: int) -> range:
        r = range(*args)
        if len(r) > MAX_SEQUENCE:
            raise SecurityError(f"range too big ({len(r):,} > {MAX_SEQUENCE:,})")
        return r

    def concat(self, parts: tuple[Any, ...]) -> str:
        if None in parts:  # (an empty cell: ``product.name ~ ' by ' ~ product.brand``)
            raise ValueError(f"'~' joins an empty value (None), which would be sent as the text 'None': {_OR_EMPTY}")
        texts = [p if type(p) is str else str(p) for p in parts]
        check_text_growth(sum(map(len, texts)), "'~'")
        return checked("".join(texts))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and args:
            method = getattr(__obj, "__name__", "")
            if method == "replace" and len(args) >= 2:
                _pre_replace(owner, *args)
            elif method == "join":
                items = _materialised(args[0])
                if not isinstance(items, str):
                    check_text_growth(join_growth(owner, list(items)), "join")
                args = (items, *args[1:])
        return checked(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        # an amount (Decimal: a price) and a number written with a point (a float: ``* 1.1``) are computed as
        # decimals, the float as it is written (1.1 is Decimal('1.1')): Python refuses to mix them, and the row
        # failed with "unsupported operand type(s) for *: 'decimal.Decimal' and 'float'"
        if left is None or right is None:  # (an empty cell, an untracked stock: ``product.qty - 2``)
            raise ValueError(f"'{operator}' of an empty value (None): the source has no value there; test it with "
                             f"'if', or write (value or 0) to count it as 0")
        if type(left) is Decimal and type(right) is float:
            right = Decimal(repr(right))
        elif type(right) is Decimal and type(left) is float:
            left = Decimal(repr(left))
        if operator == "**":
            if not isinstance(right, int | float) or abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent too large (limit {MAX_EXPONENT})")
            if isinstance(left, int | float) and abs(left) > MAX_BASE:
                raise SecurityError(f"base too large for '**' (limit {MAX_BASE})")
        elif operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
                    raise SecurityError(f"sequence repetition too large (limit {MAX_SEQUENCE} items)")
        elif operator == "%" and isinstance(left, str):
            raise SecurityError("'%' string formatting is not allowed in mappings; use '~' to join text")
        return checked(super().call_binop(context, operator, left, right))

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str | bytes | bytearray) and attr in _BLOCKED_ATTRIBUTES:
            return False
        return super().is_safe_attribute(obj, attr, value)

    # Absent canonical values look undefined to expressions: ``product.brand | default('none')`` works and a
    # bare use of an absent value is an error instead of the text "ABSENT".
    def getattr(self, obj: Any, attribute: str) -> Any:
        public = _PUBLIC.get(type(obj))
        if public is not None and attribute in public:  # a canonical record's field: what the checks allow
            value = getattr(obj, attribute)
            if callable(value):  # never a field's value from a source; the full checks decide
                value = super().getattr(obj, attribute)
        elif type(obj) is dict and attribute not in _DICT_NAMES:  # ``a.b`` on a table: its key, as Jinja reads it
            try:
                value = obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        else:
            value = super().getattr(obj, attribute)
        return AbsentUndefined(obj=obj, name=attribute) if value is ABSENT else value

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        return AbsentUndefined(obj=obj, name=argument) if value is ABSENT else value

    def wrap_str_format(self, value: Any) -> Any:
        """``str.format`` can pad to any width: refuse it instead of wrapping it."""
        if super().wrap_str_format(value) is not None:
            def refused(*_args: Any, **_kwargs: Any) -> str:
                raise SecurityError("str.format is not allowed in mappings; use '~' to join text")

            return refused
        return None


_ENV: MappingSandbox | None = None


def sandbox() -> MappingSandbox:
    global _ENV
    if _ENV is None:
        _ENV = MappingSandbox()
    return _ENV


def _tree_depth(node: nodes.Node) -> int:
    """Depth of a syntax tree, measured without recursion (the tree may be too deep to recurse into)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_EXPRESSION_DEPTH:
            break
        stack.extend((child, depth + 1) for child in current.iter_child_nodes())
    return deepest


def _parse(env: MappingSandbox, source: str) -> nodes.Expr:
    parser = Parser(env, source, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno, None, None)
    depth = _tree_depth(expr)
    if depth > MAX_EXPRESSION_DEPTH:
        raise ValueError(f"expression nested too deeply (more than {MAX_EXPRESSION_DEPTH} levels)")
    expr.set_environment(env)
    return expr


def _compile_node(env: MappingSandbox, expr: nodes.Expr) -> TemplateExpression:
    body = [nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)]
    return TemplateExpression(env.from_string(nodes.Template(body, lineno=1)), False)


def _constant_parts(env: MappingSandbox, expr: nodes.Expr) -> Iterator[nodes.Expr]:
    """The largest sub-expressions that use no record value (only literals and the sandbox's globals)."""
    stack: list[nodes.Node] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, nodes.Expr) and not isinstance(node, nodes.Const | nodes.Name) and all(
                n.name in env.globals for n in node.find_all(nodes.Name)):
            yield node
        else:
            stack.extend(node.iter_child_nodes())


def _check_constant_parts(env: MappingSandbox, expr: nodes.Expr) -> None:
    """Evaluate the constant parts once, under the bounds: one that breaks a bound (or that the sandbox
    refuses) does so for every record, so it is a mapping error now.  Other failures are left to the
    records (the part may sit in a branch that is never taken)."""
    for part in _constant_parts(env, expr):
        try:
            with Evaluation(shared=True):
                measure(_compile_node(env, part)())
        except SecurityError as exc:  # a bound, or an operation the sandbox refuses
            raise ValueError(f"expression exceeds a limit: {exc}") from None
        except (MemoryError, RecursionError):
            raise ValueError("expression exceeds a limit: too much memory or recursion") from None
        except Exception:
            continue


def _check_names(env: MappingSandbox, expr: nodes.Expr, names: Collection[str],
                 types: Mapping[str, type]) -> None:
    """What fails for every record, refused when the mapping is loaded (file, key path and line) instead of
    failing each record with a message that names no file: a Python internal (``__class__``, ``__globals__``:
    the sandbox refuses it, or a table answers it as an unknown key), a name the expression cannot see
    (``__import__``, a misspelt ``prodcut``: the context holds only ``names`` and the sandbox's globals), and
    an attribute a record or value of known class does not have (``product.nmae``, ``product.price.amout``: as a
    copy path's typo is; ``_static_class``)."""
    kinds = (nodes.Getattr, nodes.Getitem, nodes.Name)
    for node in [*([expr] if isinstance(expr, kinds) else []), *expr.find_all(kinds)]:  # find_all skips expr
        if isinstance(node, nodes.Name):
            if node.name not in names and node.name not in env.globals:
                known = ", ".join([*names, *sorted(env.globals)])
                raise ValueError(f"unknown name {node.name!r} (an expression can use: {known})")
            continue
        attr = node.attr if isinstance(node, nodes.Getattr) else (
            node.arg.value if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) else None)
        if attr is None:
            continue
        if attr.startswith("__"):
            raise ValueError(f"{attr!r} is a Python internal: a mapping expression cannot reach it")
        cls = _static_class(node.node, types) if isinstance(node, nodes.Getattr) else None
        if isinstance(cls, type) and attr not in known_attributes(cls) and not callable(getattr(cls, attr, None)):
            raise ValueError(unknown_field(_shown(node.node), attr, cls))


def _static_class(node: nodes.Node, types: Mapping[str, type]) -> type | KeyedBy | None:
    """The class of what ``node`` gives, when it is sure: a name of known class (``product``), a field of one
    whose value is of known class (``product.price``: ``records.FIELD_CLASSES``), or a key of a dict of them
    (``variant.stock.Warehouse``; not a dict's own method, ``variant.stock.values``, which Jinja reads first)."""
    if isinstance(node, nodes.Name):
        return types.get(node.name)
    if not isinstance(node, nodes.Getattr):
        return None
    outer = _static_class(node.node, types)
    if isinstance(outer, KeyedBy):
        return None if node.attr in _DICT_NAMES else outer.cls
    return field_class(outer, node.attr) if outer is not None else None


def _shown(node: nodes.Node) -> str:
    """``node`` as the mapping writes it (``product.price``), for a name or a chain of attributes."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_shown(node.node)}.{node.attr}"
    return "the value"


def compile_expression(source: str, *, check_constants: bool = False, names: Collection[str] | None = None,
                       types: Mapping[str, type] | None = None) -> Callable[..., Any]:
    """Compile once; the callable takes the context names as keyword arguments.

    Raises ``ValueError`` with a readable message on a syntax error, an over-long or over-nested expression,
    (``names``: the context's names, ``types``: the class of those whose class is known, as the mapping
    loader gives them) a Python internal, an unknown name or a known record's unknown field (``_check_names``),
    or (``check_constants``, as the mapping loader asks) a constant part that exceeds a bound.  The result
    of calling it is ``ABSENT`` when the expression's value is an absent canonical value; any other undefined
    value (a misspelt name) raises ``UndefinedError``; a value over a bound raises ``LimitError``.
    """
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"expression is {len(source)} characters long (limit {MAX_EXPRESSION_LENGTH})")
    env = sandbox()
    try:
        expr = _parse(env, source)
        if names is not None:
            _check_names(env, expr, names, types or {})
        if check_constants:
            _check_constant_parts(env, expr)
        compiled = _compile_node(env, expr)
    except TemplateSyntaxError as exc:
        raise ValueError(f"expression syntax error: {exc.message}") from None
    except RecursionError:
        raise ValueError("expression nested too deeply") from None

    def run(**context: Any) -> Any:
        with Evaluation():
            return checked(resolve(compiled(**context)))

    return run
