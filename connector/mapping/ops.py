"""Whitelisted operations a mapping may apply to a value, compiled to plain Python closures.

Every operation passes ``ABSENT`` through untouched (absent means "don't touch"), except ``default``.
``None`` (an explicit empty) also passes through, except for ``default``.

Mapping files are untrusted: text arguments and number factors are bounded when the mapping loads, and the
operations whose result can outgrow their input (``join``, ``int``) check the size before building it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.mapping.limits import MAX_FACTOR_EXPONENT, MAX_OP_TEXT, MAX_TEXT
from connector.model import ABSENT, Money

Op = Callable[[Any], Any]


class OpError(ValueError):
    """A value could not be transformed; the message is shown to the user with the field name."""


WIDE_SEPARATOR = 100  # characters: a longer join separator is checked against the list's length first


class OpLimitError(OpError):
    """An operation's result would exceed a bound (see ``connector/mapping/limits.py``)."""


def _arg_text(arg: Any, name: str, *, empty: bool = True) -> str:
    if not isinstance(arg, str) or (not empty and not arg):
        kind = "text" if empty else "non-empty text"
        raise ValueError(f"'{name}' needs {kind}, got {arg!r}")
    if len(arg) > MAX_OP_TEXT:
        raise ValueError(f"'{name}' takes at most {MAX_OP_TEXT:,} characters, got {len(arg):,}")
    return arg


def _inline(fn: Op, source: str, **values: Any) -> Op:
    """Attach to operation ``fn`` its straight-line form for the compiler (``compiler._specialise``), which
    writes it into a level's generated copy function instead of calling ``fn``: no call per operation.

    ``source`` reads and assigns ``v``; ``{name}`` in it stands for ``values[name]`` (the compiler binds each
    value under a name of its own, so nothing from a mapping file is ever written into code).  It must give
    exactly what ``fn`` gives, and raise one of ``OpError``, ``ArithmeticError``, ``TypeError``, ``ValueError``
    wherever ``fn`` raises (the level then runs its fields through ``fn`` itself, which words the error);
    it may also raise where ``fn`` would not (the same fallback then gives ``fn``'s result).  ``{op}`` may
    name ``fn`` itself, for the cases it is left to."""
    fn.inline = (source, values)  # type: ignore[attr-defined]
    return fn


TEXT, PRESENT = "text", "present"
"""What an operation's result is whenever its input is present (neither ``ABSENT`` nor ``None``): ``TEXT``, a
``str`` (exactly); ``PRESENT``, some other value that is neither."""


def _inline_present(fn: Op, source: str, on_text: str | None = None, gives: str | None = None,
                    **values: Any) -> Op:
    """``_inline`` for an operation that passes ``ABSENT`` and ``None`` through: ``source`` is its form for an
    input known to be present, ``on_text`` (if given) its form for an input known to be a ``str``, ``gives``
    what its result then is (``TEXT``, ``PRESENT`` or ``None``: unknown).  The compiler writes a chain of such
    operations under one presence check, each in the form its input allows (``compiler._ops_lines``)."""
    body = "\n".join("    " + line for line in source.splitlines())
    _inline(fn, "if v is not ABSENT and v is not None:\n" + body, **values)
    fn.inline_present = (source, on_text or source, gives)  # type: ignore[attr-defined]
    return fn


def _passthrough(fn: Op) -> Op:
    def op(x: Any) -> Any:
        if x is ABSENT or x is None:
            return x
        return fn(x)

    return op


def _to_decimal(x: Any) -> Decimal:
    if isinstance(x, Money):
        return x.amount
    if isinstance(x, Decimal):
        return x
    if isinstance(x, bool):
        raise OpError(f"expected a number, got {x!r}")
    if isinstance(x, int):
        return Decimal(x)
    if isinstance(x, float):
        return Decimal(repr(x))
    if isinstance(x, str):
        try:
            return Decimal(x.strip().replace(",", "."))
        except InvalidOperation:
            raise OpError(f"expected a number, got {x!r}") from None
    raise OpError(f"expected a number, got {type(x).__name__}")


def _arg_decimal(arg: Any, name: str) -> Decimal:
    try:
        return _to_decimal(arg)
    except OpError:
        raise ValueError(f"'{name}' needs a number argument, got {arg!r}") from None


def _arg_int(arg: Any, name: str, lo: int = 0, hi: int = 10**6) -> int:
    if isinstance(arg, bool) or not isinstance(arg, int) or not lo <= arg <= hi:
        raise ValueError(f"'{name}' needs a whole number from {lo} to {hi}, got {arg!r}")
    return arg


def op_default(arg: Any, _tables: dict) -> Op:
    def op(x: Any) -> Any:
        return arg if x is ABSENT or x is None or x == "" or x == [] else x

    return _inline(op, 'if v is ABSENT or v is None or v == "" or v == []:\n    v = {arg}', arg=arg)


def op_if_empty(arg: Any, _tables: dict) -> Op:
    """Replace an explicit empty (``None``) by ``arg``; an absent value stays absent (not sent)."""

    def op(x: Any) -> Any:
        return arg if x is None else x

    return _inline(op, "if v is None:\n    v = {arg}", arg=arg)


def op_multiply(arg: Any, _tables: dict) -> Op:
    factor = _arg_decimal(arg, "multiply")
    if not factor.is_finite() or (factor and abs(factor.adjusted()) > MAX_FACTOR_EXPONENT):
        raise ValueError(f"'multiply' takes a factor between 1e-{MAX_FACTOR_EXPONENT} and 1e{MAX_FACTOR_EXPONENT}, "
                         f"got {arg!r}")
    return _passthrough(lambda x: _to_decimal(x) * factor)


def op_round(arg: Any, _tables: dict) -> Op:
    """Round half up to ``arg`` places: for an amount the mapping computed itself (after ``multiply``).  A price as
    the source has it is never rounded silently: use ``pad_decimals``, which writes its places without rounding."""
    places = _arg_int(2 if arg is None else arg, "round", 0, 12)
    quantum = Decimal(1).scaleb(-places)
    return _passthrough(lambda x: _to_decimal(x).quantize(quantum, rounding=ROUND_HALF_UP))


def op_pad_decimals(arg: Any, _tables: dict) -> Op:
    """Money or number -> ``Decimal`` written with at least ``arg`` places (``12.5`` -> ``12.50``); one with more
    keeps them (``12.345``), never rounded: how many a price may have is the account currency's to say
    (``connector/sync/prices.py`` refuses one with more before it is mapped)."""
    places = _arg_int(2 if arg is None else arg, "pad_decimals", 0, 12)
    quantum = Decimal(1).scaleb(-places)

    def fn(x: Any) -> Decimal:
        amount = _to_decimal(x)
        exponent = amount.as_tuple().exponent
        return amount.quantize(quantum) if isinstance(exponent, int) and exponent > -places else amount

    return _passthrough(fn)


def _needs_rounding(amount: Decimal, places: int) -> OpError:
    return OpError(f"{amount} has more than {places} decimal(s): it would have to be rounded, and a price is never "
                   "changed silently (fix it in the source, or the mapping's minor_units)")


def op_minor_units(arg: Any, _tables: dict) -> Op:
    """Money or number -> integer count of minor units (``12.50`` with exponent 2 -> ``1250``); an amount with
    more decimals (``12.345``) is refused, never rounded."""
    exponent = _arg_int(2 if arg is None else arg, "minor_units", 0, 6)
    scale, one = Decimal(10) ** exponent, Decimal(1)

    def op(x: Any) -> Any:
        if x is ABSENT or x is None:
            return x
        amount = x.amount if type(x) is Money else _to_decimal(x)
        units = amount * scale
        if units != units.to_integral_value() and units.is_finite():  # (``int`` refuses NaN and the infinities)
            raise _needs_rounding(amount, exponent)
        return int(units.quantize(one))  # (more digits than the context holds: InvalidOperation, as it was)

    return _inline_present(op, "v = (v.amount if type(v) is {money} else {to_decimal}(v)) * {scale}\n"
                               "if v != v.to_integral_value():\n    raise {error}('')\nv = int(v.quantize({one}))",
                           gives=PRESENT, money=Money, to_decimal=_to_decimal, scale=scale, one=one, error=OpError)


def op_amount(_arg: Any, _tables: dict) -> Op:
    return _passthrough(_to_decimal)


def op_currency(_arg: Any, _tables: dict) -> Op:
    def fn(x: Any) -> Any:
        if not isinstance(x, Money):
            raise OpError(f"'currency' needs a money value, got {type(x).__name__}")
        return x.currency

    return _passthrough(fn)


def op_truncate(arg: Any, _tables: dict) -> Op:
    n = _arg_int(arg, "truncate", 1)

    def op(x: Any) -> Any:
        if x is ABSENT or x is None:
            return x
        return (x if type(x) is str else str(x))[:n]

    return _inline_present(op, "v = (v if type(v) is str else str(v))[:{n}]", "v = v[:{n}]", TEXT, n=n)


def op_join(arg: Any, _tables: dict) -> Op:
    sep = _arg_text(", " if arg is None else arg, "join")
    width = len(sep)

    def op(x: Any) -> Any:
        if x is ABSENT or x is None or type(x) is str:
            return x
        try:
            out = sep.join(x)  # the usual case: a list of text
        except TypeError:
            out = sep.join([i if type(i) is str else str(i) for i in x if i is not None and i is not ABSENT])
        if len(out) > MAX_TEXT:
            raise OpLimitError(f"'join' made a text of {len(out):,} characters (limit {MAX_TEXT:,})")
        return out

    # a list holding other than text raises TypeError inline: the level then runs ``op``, which joins it
    _inline_present(op, "if type(v) is not str:\n    v = {sep}.join(v)\n"
                        "    if len(v) > {limit}:\n        raise {error}('')",
                    "pass", TEXT, sep=sep, limit=MAX_TEXT, error=OpLimitError)

    def wide(x: Any) -> Any:
        """A long separator could multiply a long list: refused before the text is built."""
        if hasattr(x, "__len__") and type(x) is not str and width * len(x) > MAX_TEXT:
            raise OpLimitError(f"'join' of {len(x):,} items would make a text over {MAX_TEXT:,} characters")
        return op(x)

    return wide if width > WIDE_SEPARATOR else op


def op_split(arg: Any, _tables: dict) -> Op:
    sep = _arg_text("," if arg is None else arg, "split", empty=False)
    return _passthrough(lambda x: [p.strip() for p in str(x).split(sep) if p.strip()])


def op_first(_arg: Any, _tables: dict) -> Op:
    def fn(x: Any) -> Any:
        if isinstance(x, str | dict):
            return x
        for item in x:
            return item
        return None

    return _passthrough(fn)


def op_values(_arg: Any, _tables: dict) -> Op:
    def op(x: Any) -> Any:
        if x is ABSENT or x is None:
            return x
        if not isinstance(x, dict):
            raise OpError(f"'values' needs a table of values, got {type(x).__name__}")
        return list(x.values())

    return _inline_present(op, "v = list(v.values()) if isinstance(v, dict) else {op}(v)", gives=PRESENT, op=op)


def op_lookup(arg: Any, tables: dict) -> Op:
    """Look the value up in a table declared under ``tables:``; ``{lookup: name}`` or
    ``{lookup: {table: name, default: value}}``."""
    if isinstance(arg, dict):
        name, has_default, fallback = arg.get("table"), "default" in arg, arg.get("default")
        unknown = set(arg) - {"table", "default"}
        if unknown:
            raise ValueError(f"'lookup' takes table and default, not {', '.join(sorted(unknown))}")
    else:
        name, has_default, fallback = arg, False, None
    if not isinstance(name, str):
        raise ValueError(f"'lookup' needs a table name, or {{table: name, default: value}}, got {arg!r}")
    if name not in tables:
        known = ", ".join(sorted(tables)) or "none declared"
        raise ValueError(f"'lookup' names table {name!r}, which is not under tables: ({known})")
    table = {_table_key(k): v for k, v in tables[name].items()}
    exact = {True: table["true"]} if "true" in table else {}
    if "false" in table:
        exact[False] = table["false"]

    def op(x: Any) -> Any:
        if x is ABSENT or x is None:
            return x
        if type(x) is bool and x in exact:
            return exact[x]
        k = _table_key(x)
        if k in table:
            return table[k]
        if has_default:
            return fallback
        raise OpError(f"{x!r} is not in table '{name}'")

    if len(exact) == 2:  # a yes/no table (the usual one): no table lookup for a bool, and ``op`` passes the empties
        return _inline(op, "v = {yes} if v is True else {no} if v is False else {op}(v)",
                       yes=exact[True], no=exact[False], op=op)
    return _inline_present(op, "v = {exact}[v] if type(v) is bool and v in {exact} else {op}(v)", exact=exact, op=op)


def _table_key(x: Any) -> str:
    """Tables are keyed by text so YAML's ``true``/``"true"``/``True`` all match a bool value."""
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x).strip().casefold()


def _str_method(name: str) -> Callable[[Any, dict], Op]:
    def factory(_arg: Any, _tables: dict) -> Op:
        method = getattr(str, name)

        def op(x: Any) -> Any:
            if x is ABSENT or x is None:
                return x
            return method(x if type(x) is str else str(x))

        return _inline_present(op, "v = {method}(v if type(v) is str else str(v))", "v = {method}(v)", TEXT,
                               method=method)

    return factory


def op_str(_arg: Any, _tables: dict) -> Op:
    def fn(x: Any) -> str:
        if isinstance(x, Money):
            return str(x.amount)
        return str(x)

    return _passthrough(fn)


def op_int(_arg: Any, _tables: dict) -> Op:
    def fn(x: Any) -> int:
        d = _to_decimal(x)
        if d.is_finite() and d and d.adjusted() > MAX_FACTOR_EXPONENT:
            raise OpLimitError(f"{x!r} is too large for a whole number (limit 1e{MAX_FACTOR_EXPONENT})")
        if d != d.to_integral_value():
            raise OpError(f"{x!r} is not a whole number")
        return int(d)

    return _passthrough(fn)


def op_decimal(_arg: Any, _tables: dict) -> Op:
    return _passthrough(_to_decimal)


def op_bool(_arg: Any, _tables: dict) -> Op:
    return _passthrough(bool)


def op_prefix(arg: Any, _tables: dict) -> Op:
    text = _arg_text(arg, "prefix")
    return _passthrough(lambda x: text + str(x))


def op_suffix(arg: Any, _tables: dict) -> Op:
    text = _arg_text(arg, "suffix")
    return _passthrough(lambda x: str(x) + text)


def op_count(_arg: Any, _tables: dict) -> Op:
    return _passthrough(len)


OPS: dict[str, Callable[[Any, dict], Op]] = {
    "default": op_default,
    "if_empty": op_if_empty,
    "multiply": op_multiply,
    "round": op_round,
    "minor_units": op_minor_units,
    "pad_decimals": op_pad_decimals,
    "amount": op_amount,
    "currency": op_currency,
    "truncate": op_truncate,
    "upper": _str_method("upper"),
    "lower": _str_method("lower"),
    "strip": _str_method("strip"),
    "title": _str_method("title"),
    "join": op_join,
    "split": op_split,
    "first": op_first,
    "values": op_values,
    "lookup": op_lookup,
    "str": op_str,
    "int": op_int,
    "decimal": op_decimal,
    "bool": op_bool,
    "prefix": op_prefix,
    "suffix": op_suffix,
    "count": op_count,
}


def compile_op(spec: str | dict[str, Any], tables: dict[str, dict[str, Any]]) -> tuple[str, Op]:
    """``"upper"`` or ``{"truncate": 80}`` -> (name, closure).  Raises ValueError on a bad spec."""
    if isinstance(spec, str):
        name, arg = spec, None
    elif isinstance(spec, dict) and len(spec) == 1:
        ((name, arg),) = spec.items()
    else:
        raise ValueError("an operation is a name (upper) or a one-key table ({truncate: 80})")
    factory = OPS.get(name) if isinstance(name, str) else None
    if factory is None:
        raise ValueError(f"unknown operation {name!r} (known: {', '.join(sorted(OPS))})")
    try:
        return name, factory(arg, tables)
    except (TypeError, ArithmeticError) as exc:  # an argument of the wrong kind ({lookup: [a]}...)
        raise ValueError(f"'{name}' cannot take {arg!r}: {exc}") from None
