"""Typed cell conversion, one whole column at a time.

calamine gives ``str``, ``float`` (every number), ``bool``, ``date``/``datetime`` and ``''`` for empty cells;
the csv module gives ``str`` only.  Each column is converted by its *declared* type (never inferred from the
data).  A converter takes the list of raw cells of one column and returns the converted list plus a dict
``{position: reason}`` of the cells it rejected.  An empty cell converts to ``None``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from itertools import repeat
from math import isfinite
from operator import is_
from typing import Any

from connector.model import MAX_INT

from .columns import BOOL, CURRENCY, DECIMAL, INTEGER, LIST, PATH, TEXT

Converted = tuple[list, dict[int, str]]
Converter = Callable[..., Converted]  # (cells of one column, all_str: every cell is a str) -> Converted

TEXT_IN_NUMBER = "text in a number column"
NOT_WHOLE = "not a whole number"
DATE_IN_NUMBER = "a date in a number column"
NOT_YES_NO = "expected Yes or No"
BAD_CURRENCY = "currency must be a 3-letter code such as MRU"

# Beyond these a number is a typo (or hostile): no marketplace stores it, and minor units of a larger amount
# overflow the 64-bit integers of their APIs and of the state file.
MAX_AMOUNT = Decimal("999999999999.99")
MAX_QUANTITY = MAX_INT
TOO_LARGE = "number too large (at most {:,})"
AMOUNT_TOO_LARGE = TOO_LARGE.format(MAX_AMOUNT)
QUANTITY_TOO_LARGE = TOO_LARGE.format(MAX_QUANTITY)

YES = frozenset({"yes", "y", "true", "1", "oui", "o", "vrai", "نعم", "x"})
NO = frozenset({"no", "n", "false", "0", "non", "faux", "لا"})
_SPACES = ("\xa0", "\u202f", "\u2009", " ")
AMBIGUOUS_COMMA = ("ambiguous number: a comma followed by three digits may separate thousands (1,500 = 1500) or "
                   "decimals (1,500 = 1.5), and nothing else in the column says which: type it without the "
                   "thousands comma (1500) or with a decimal point (1.5)")
_GROUPED_POINT = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+|(?<=,[0-9]{3},[0-9]{3}))\Z")
_GROUPED_COMMA = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+\Z")
_THOUSANDS_OR_DECIMAL = re.compile(r"[+-]?[1-9][0-9]{0,2},[0-9]{3}\Z")
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+\Z")  # (tested after the three above: a decimal comma for sure)
_DECIMAL_POINT = re.compile(r"\s*[+-]?[0-9]*\.[0-9]+\s*\Z")
_THOUSANDS_OR_DECIMAL_POINT = re.compile(r"\s*[+-]?[1-9][0-9]{0,2}\.[0-9]{3}\s*\Z")  # 1.500: either, as 1,500
COMMA_DECIMAL, COMMA_THOUSANDS = "decimal", "thousands"  # what a comma is, as a file or a column says (``comma_of``)


def comma_evidence(texts: Iterable[str]) -> tuple[bool, bool]:
    """What a column's texts show of its comma, in one pass: (decimals: ``12,5``, ``0,125``, ``1.234,50``;
    thousands: ``1,234.50``, ``1,234,567`` or a decimal point, ``12.50``).  ``1,500`` and ``1.500`` show nothing."""
    decimals = thousands = False
    for text in texts:
        if "," not in text:
            if "." in text and _DECIMAL_POINT.match(text) and not _THOUSANDS_OR_DECIMAL_POINT.match(text):
                thousands = True  # 12.50: the decimal sign is the point, so a comma groups thousands
            continue
        for sp in _SPACES:
            text = text.replace(sp, "")
        if _GROUPED_POINT.match(text):
            thousands = True
        elif _THOUSANDS_OR_DECIMAL.match(text):
            continue
        elif _GROUPED_COMMA.match(text) or _DECIMAL_COMMA.match(text):
            decimals = True
    return decimals, thousands


def comma_of(evidence: tuple[bool, bool], default: str | None = None) -> str | None:
    """What the comma of an ambiguous ``1,500`` means in a column whose texts show ``evidence``
    (``comma_evidence``); ``default`` (the file's word: a CSV separated by ``;`` writes decimal commas) when they
    show neither.  None when they show both, neither without a ``default``, or the opposite of the ``default`` (a
    ``;`` file whose prices read 12.50): the ambiguous texts are then refused (``AMBIGUOUS_COMMA``), never
    guessed."""
    decimals, thousands = evidence
    if decimals != thousands:
        found = COMMA_DECIMAL if decimals else COMMA_THOUSANDS
        return found if default in (None, found) else None  # the column says otherwise than its file: refused
    return default if not decimals else None


_NOT_FOUND = object()


class Bad:
    """A rejected cell inside a converted column (replaced by ``None`` before the column is returned)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def text_of(v: object) -> str | None:
    """A non-string cell as text: 12.0 -> "12", 1.5 -> "1.5", dates in ISO form; empty -> None."""
    if v.__class__ is str:
        return v.strip() or None  # type: ignore[union-attr]
    if v is None:
        return None
    if v.__class__ is float:
        if v.is_integer():  # type: ignore[union-attr]
            return str(int(v))  # type: ignore[call-overload]
        return repr(v)
    if v.__class__ is bool:
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return v.date().isoformat()
    if isinstance(v, dt.date | dt.datetime | dt.time):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    return str(v).strip() or None


def _finish(out: list, nbad: int | bool) -> Converted:
    if not nbad:
        return out, {}
    bad: dict[int, str] = {}
    for i, x in enumerate(out):
        if x.__class__ is Bad:
            bad[i] = x.reason
            out[i] = None
    return out, bad


_EMPTY_TO_NONE = {"": None}.get


def _mark_negative(out: list, reason: str) -> bool:
    """Replace negative numbers of a converted column by ``Bad(reason)``; True when any was found."""
    found = False
    for i, x in enumerate(out):
        if x < 0:
            out[i] = Bad(reason)
            found = True
    return found


def convert_text(values: list, all_str: bool = False) -> Converted:
    try:  # fast path: every cell is a string (always so for CSV); "" -> None by a dict lookup
        stripped = list(map(str.strip, values))
        return list(map(_EMPTY_TO_NONE, stripped, stripped)), {}
    except TypeError:
        return [(v.strip() or None) if v.__class__ is str else text_of(v) for v in values], {}


def parse_decimal(s: str, comma: str | None = None) -> Decimal | Bad | None:
    """Text to Decimal: ``12.50``, ``12,50``, ``1 234,50``, ``1,234.50``, ``1.234,50``, ``-3``; anything else is
    "text in a number".  A single comma followed by three digits (``1,500``) is refused as ambiguous: an English
    export writes one thousand five hundred so, a French one 1.5 with three decimals), unless ``comma`` says what
    the comma is in this column (``comma_of``)."""
    s = s.strip()
    if not s:
        return None
    for sp in _SPACES:
        if sp in s:
            s = s.replace(sp, "")
    if "_" in s:  # Decimal() reads "1_500" as 1500; a spreadsheet shows it as text
        return Bad(TEXT_IN_NUMBER)
    if "," in s:
        if _GROUPED_POINT.match(s):  # 1,234.50 or 1,234,567: commas group thousands
            s = s.replace(",", "")
        elif _GROUPED_COMMA.match(s):  # 1.234,50: points group thousands
            s = s.replace(".", "").replace(",", ".")
        elif "." in s or s.count(",") > 1:
            return Bad(TEXT_IN_NUMBER)
        elif _THOUSANDS_OR_DECIMAL.match(s) and comma != COMMA_DECIMAL:
            if comma != COMMA_THOUSANDS:
                return Bad(AMBIGUOUS_COMMA)
            s = s.replace(",", "")
        else:
            s = s.replace(",", ".")
    try:
        d = Decimal(s)
    except InvalidOperation:
        return Bad(TEXT_IN_NUMBER)
    if not d.is_finite():
        return Bad(TEXT_IN_NUMBER)
    return d


_FLOAT_STR = frozenset({float, str})
_FLOAT = frozenset({float})
_STR = frozenset({str})


def _has_bad(table: dict) -> bool:
    return any(x.__class__ is Bad for x in table.values())


def _decimal_table(uniq: set, negative_reason: str | None, slow: Callable) -> tuple[dict, bool] | None:
    """Distinct cells (floats and strings only) -> Decimal | Bad | None, converted once each; and whether
    any is Bad."""
    table: dict = {"": None} if "" in uniq else {}
    types = set(map(type, uniq))
    if types == _STR:
        floats: list = []
        strings = list(uniq)
        if "" in table:
            strings.remove("")
    elif types == _FLOAT:
        floats, strings = list(uniq), []
    else:
        floats = [v for v in uniq if v.__class__ is float]
        strings = [v for v in uniq if v.__class__ is str and v]
    has_bad = False
    try:
        table.update(zip(floats, map(Decimal, map(str.removesuffix, map(repr, floats), repeat(".0"))),
                         strict=True))
        if not all(map(isfinite, floats)):
            return None
    except (ValueError, OverflowError):  # inf / nan
        return None
    negative = bool(floats) and min(floats) < 0
    if strings:
        joined = "\x00".join(strings)
        # Decimal() also takes NaN and Infinity: those go the slow way
        fast = "n" not in joined and "N" not in joined and "_" not in joined  # (Decimal reads 1_500)
        if fast:
            try:
                table.update(zip(strings, map(Decimal, strings), strict=True))
            except InvalidOperation:  # decimal comma, spaces, text...
                fast = False
        if not fast:
            converted = {v: slow(v) for v in strings}
            has_bad = any(x.__class__ is Bad for x in converted.values())
            table.update(converted)
        negative = negative or "-" in joined
    if negative_reason and negative:
        for k, d in table.items():
            if d.__class__ is Decimal and d < 0:
                table[k] = Bad(negative_reason)
                has_bad = True
    return table, has_bad


def _decimal_converter(negative_reason: str | None, comma: str | None = None) -> Converter:
    # the column being converted: its distinct cells, and what its texts show of its comma (``comma_evidence``),
    # read from them only when an ambiguous text needs it: the other columns pay no pass over their cells for it
    column: list[Any] = [(), None]

    def evidence() -> tuple[bool, bool]:
        if column[1] is None:
            column[1] = comma_evidence(v for v in column[0] if v.__class__ is str)
        return column[1]  # type: ignore[no-any-return]

    def slow(v: object) -> Decimal | Bad | None:
        if v is None or v == "":
            return None
        if v.__class__ is str:
            d = parse_decimal(v)  # type: ignore[arg-type]
            if d.__class__ is Bad and d.reason is AMBIGUOUS_COMMA:  # type: ignore[union-attr]
                d = parse_decimal(v, comma_of(evidence(), comma))  # type: ignore[arg-type]
            elif d.__class__ is Decimal and "." in v and _THOUSANDS_OR_DECIMAL_POINT.match(v) \
                    and comma_of(evidence()) == COMMA_DECIMAL:  # 1.500 beside 2,50 (German): one thousand five hundred
                d = Decimal(v.strip().replace(".", ""))
        elif v.__class__ is bool:
            d = Bad(TEXT_IN_NUMBER)
        elif isinstance(v, int):
            d = Decimal(v)
        elif isinstance(v, dt.date | dt.time | dt.timedelta):
            d = Bad(DATE_IN_NUMBER)
        else:
            d = Bad(TEXT_IN_NUMBER)
        if negative_reason and d.__class__ is Decimal and d < 0:  # type: ignore[operator]
            return Bad(negative_reason)
        return d

    def general(values: list) -> Converted:
        fcache: dict[float, object] = {}
        scache: dict[str, object] = {}
        out: list = []
        append = out.append
        has_bad = False
        for v in values:
            c = v.__class__
            if c is float:
                d = fcache.get(v)
                if d is None:
                    if not isfinite(v):
                        d = Bad(TEXT_IN_NUMBER)
                    else:
                        d = Decimal(int(v)) if v.is_integer() else Decimal(repr(v))
                    if negative_reason and d.__class__ is Decimal and d < 0:
                        d = Bad(negative_reason)
                    fcache[v] = d
                append(d)
            elif c is str and v:
                d = scache.get(v)
                if d is None:
                    try:
                        if "_" in v:
                            raise InvalidOperation
                        d = Decimal(v)
                        if not d.is_finite():
                            d = Bad(TEXT_IN_NUMBER)
                        elif negative_reason and d < 0:
                            d = Bad(negative_reason)
                    except InvalidOperation:
                        d = slow(v)
                    scache[v] = d
                append(d)
            elif v == "":
                append(None)
            else:
                d = slow(v)
                has_bad = has_bad or d.__class__ is Bad
                append(d)
        if not has_bad:
            has_bad = any(x.__class__ is Bad for x in fcache.values()) or \
                any(x.__class__ is Bad for x in scache.values())
        return _finish(out, has_bad)

    def convert(values: list, all_str: bool = False) -> Converted:
        # Fast paths, one C-level pass over the cells (touching cells is what costs on 100k rows):
        # a CSV column parsed by Decimal(); a workbook column of numbers through repr() (12.0 -> "12").
        # Anything unusual (empty cells, decimal comma, text, NaN...) raises and takes the general way.
        # Texts: Decimal() spells NaN and the infinities with an n or N (in any case), a negative number with a
        # minus sign; a column whose joined text has neither is finite and not negative, without comparing.
        out: list | None = None
        lo = None
        try:
            if all_str:
                text = "".join(values)
                if "_" in text:  # Decimal() reads "1_500" as 1500
                    raise InvalidOperation
                out = list(map(Decimal, values))
                special, signed = "n" in text or "N" in text, "-" in text
            else:
                out = list(map(Decimal, map(str.removesuffix, map(repr, values), repeat(".0"))))
                special = signed = True
            if out and special:
                lo, hi = min(out), max(out)  # NaN raises; infinities are caught below
                if not (lo.is_finite() and hi.is_finite()):
                    out = None
        except InvalidOperation:
            out = None
        if out is not None:
            has_bad = False
            if negative_reason and out and signed:
                has_bad = (lo if lo is not None else min(out)) < 0 and _mark_negative(out, negative_reason)
            return _finish(out, has_bad)
        uniq = set(values)
        column[0], column[1] = uniq, None
        types = set(map(type, values))
        if types <= _FLOAT_STR:
            found = _decimal_table(uniq, negative_reason, slow)
            if found is not None:
                table, has_bad = found
                return _finish(list(map(table.__getitem__, values)), has_bad)
        return general(values)

    return convert


def _integer_converter(negative_reason: str | None, comma: str | None = None) -> Converter:
    to_decimal = _decimal_converter(None, comma)

    def general(values: list) -> Converted:
        out: list = []
        slow: list[int] = []
        for v in values:
            if v.__class__ is float and v.is_integer():
                out.append(int(v))
            elif v == "":
                out.append(None)
            elif v.__class__ is str and v.isdigit() and v.isascii():
                out.append(int(v))
            else:
                slow.append(len(out))
                out.append(v)
        nbad = 0
        # converted together: what a comma is, the column's texts say (``comma_of``)
        conv, bad = to_decimal([out[i] for i in slow]) if slow else ([], {})
        for j, i in enumerate(slow):
            d = conv[j]
            if j in bad:
                out[i] = Bad(bad[j])
                nbad += 1
            elif d is None:
                out[i] = None
            elif d != d.to_integral_value():
                out[i] = Bad(NOT_WHOLE)
                nbad += 1
            else:
                out[i] = int(d)
        if negative_reason and any(x.__class__ is int and x < 0 for x in out):
            for i, x in enumerate(out):
                if x.__class__ is int and x < 0:
                    out[i] = Bad(negative_reason)
                    nbad += 1
        return _finish(out, nbad)

    def convert(values: list, all_str: bool = False) -> Converted:
        out: list | None = None
        try:
            if (all_str and "_" not in "".join(values)) or all(map(float.is_integer, values)):
                out = list(map(int, values))  # (int() reads "1_500" as 1500: such texts go the general way)
        except (ValueError, TypeError):  # empty cells, decimals, text...
            out = None
        if out is not None:
            has_bad = bool(negative_reason and out and min(out) < 0) and _mark_negative(out, negative_reason)
            return _finish(out, has_bad)
        types = set(map(type, values))
        if types <= _FLOAT_STR:
            uniq = set(values)
            try:
                table: dict | None = {v: int(v) for v in uniq
                                      if v != "" and (v.__class__ is str or v.is_integer())}
                if any(v.__class__ is str and "_" in v for v in uniq):
                    table = None
            except ValueError:
                table = None
            if table is not None and len(table) + ("" in uniq) == len(uniq):
                if "" in uniq:
                    table[""] = None
                has_bad = False
                if negative_reason and min((q for q in table.values() if q is not None), default=0) < 0:
                    for k, q in table.items():
                        if q is not None and q < 0:
                            table[k] = Bad(negative_reason)
                            has_bad = True
                return _finish(list(map(table.__getitem__, values)), has_bad)
        return general(values)

    return convert


_BOOL_WORDS: dict[object, bool] = {w: True for w in YES} | {w: False for w in NO}
_BOOL_CELLS: dict[object, object] = {
    **{k: v for w, v in _BOOL_WORDS.items() for k in (w, w.upper(), w.capitalize())},
    "": None, True: True, False: False,  # True == 1.0 and False == 0.0 as keys: same meaning
}


def convert_bool(values: list, all_str: bool = False) -> Converted:
    """Yes/No in English, French or Arabic (also true/false, 1/0, x); empty -> None."""
    cells = _BOOL_CELLS
    miss = _NOT_FOUND
    out = list(map(cells.get, values, repeat(miss)))
    if miss not in out:
        return out, {}
    nbad = 0
    for i, x in enumerate(out):
        if x is miss:
            t = (text_of(values[i]) or "").casefold()
            if not t:
                out[i] = None
            elif t in _BOOL_WORDS:
                out[i] = _BOOL_WORDS[t]
            else:
                out[i] = Bad(NOT_YES_NO)
                nbad += 1
    return _finish(out, nbad)


def split_list(s: str) -> list[str]:
    """Images: URLs separated by spaces, commas or line breaks."""
    return s.replace(",", " ").split()


def convert_list(values: list, all_str: bool = False) -> Converted:
    """Image URLs; an empty cell gives an empty list (a new list per cell).  Each list is copied to its exact
    size: ``str.split`` leaves room for 12 items (152 bytes instead of 72 for two URLs, per variant kept)."""
    try:
        return list(map(list, map(str.split, map(str.replace, values, repeat(","), repeat(" "))))), {}
    except TypeError:  # not all strings
        pass
    return [list(split_list(v if v.__class__ is str else text_of(v) or "")) for v in values], {}


def split_path(s: str) -> list[str]:
    """Category path "Home > Kitchen" -> ["Home", "Kitchen"] (empty levels dropped)."""
    return [p for p in (x.strip() for x in s.split(">")) if p]


def _hashable_cells(values: list, all_str: bool) -> set | None:
    """The distinct cells of a column, or ``None`` when bools hide among them (True == 1.0 in a set)."""
    return set(values) if all_str or bool not in set(map(type, values)) else None


def convert_path(values: list, all_str: bool = False) -> Converted:
    """Category paths; empty -> None.  Equal cells share one list (callers copy before handing it out)."""
    uniq = _hashable_cells(values, all_str)
    if uniq is None:
        return [split_path(text_of(v) or "") or None for v in values], {}
    table = {v: split_path(v if v.__class__ is str else text_of(v) or "") or None for v in uniq}
    return list(map(table.__getitem__, values)), {}


def _currency(v: object) -> object:
    t = (v.strip() if v.__class__ is str else text_of(v)) or None  # type: ignore[attr-defined]
    if t is None:
        return None
    t = t.upper()
    return t if len(t) == 3 and t.isascii() and t.isalpha() else Bad(BAD_CURRENCY)


def convert_currency(values: list, all_str: bool = False) -> Converted:
    """3-letter currency codes, upper-cased; empty -> None (True and 1.0 are both rejected alike)."""
    uniq: set | None = set(values)
    if uniq is None:
        out = [_currency(v) for v in values]
        return _finish(out, any(x.__class__ is Bad for x in out))
    table = {v: _currency(v) for v in uniq}
    return _finish(list(map(table.__getitem__, values)), _has_bad(table))


def _too_large(x: Decimal | int, limit: Decimal | int) -> bool:
    if isinstance(x, Decimal) and x.adjusted() > 20:
        return True
    return abs(x) > limit


def _bounded(convert: Converter, limit: Decimal | int, reason: str, negative_reason: str | None) -> Converter:
    """``convert``, then every number whose magnitude exceeds ``limit`` rejected with ``reason`` (one C pass
    over the column in the usual case).  A column of texts of at most ``digits`` characters without an exponent
    cannot exceed ``limit`` (each character is at most one digit; 10 ** digits - 1 <= limit): not compared."""
    digits = len(str(int(limit) + 1)) - 1

    def bounded(values: list, all_str: bool = False) -> Converted:
        out, bad = convert(values, all_str)
        if all_str and max(map(len, values), default=0) <= digits:
            text = "".join(values)
            if "e" not in text and "E" not in text:
                return out, bad
        present = out if not any(map(is_, out, repeat(None))) else [x for x in out if x is not None]
        try:
            beyond = bool(present) and (max(present) > limit or (negative_reason is None and min(present) < -limit))
        except ArithmeticError:  # a Decimal beyond the context's exponent range (1E+99999999) cannot compare
            beyond = True
        if beyond:
            bad = dict(bad)
            for i, x in enumerate(out):
                if x is not None and _too_large(x, limit):
                    out[i] = None
                    bad[i] = reason
        return out, bad

    return bounded


def converter_for(kind: str, negative_reason: str | None = None, limited: bool = False,
                  comma: str | None = None) -> Converter:
    """The column converter for a declared column kind (built once per sheet).  ``limited``: numbers beyond
    ``MAX_AMOUNT`` (decimal) or ``MAX_QUANTITY`` (integer) are rejected (prices and stock: what is sent).
    ``comma``: what a comma is in the whole file, when it says (``comma_of``)."""
    if kind == TEXT:
        return convert_text
    if kind == DECIMAL:
        dec = _decimal_converter(negative_reason, comma)
        return _bounded(dec, MAX_AMOUNT, AMOUNT_TOO_LARGE, negative_reason) if limited else dec
    if kind == INTEGER:
        whole = _integer_converter(negative_reason, comma)
        return _bounded(whole, MAX_QUANTITY, QUANTITY_TOO_LARGE, negative_reason) if limited else whole
    if kind == BOOL:
        return convert_bool
    if kind == LIST:
        return convert_list
    if kind == PATH:
        return convert_path
    if kind == CURRENCY:
        return convert_currency
    raise ValueError(f"unknown column kind {kind!r}")


# --- identifiers typed as numbers -----------------------------------------------------------------------

# A spreadsheet keeps a number as a double: Excel keeps 15 significant digits (the rest become zeros), a double
# beyond 2**53 loses the last digits.  An identifier typed as a number of more than 15 digits is therefore
# already wrong in the file; read as text it would be pushed as another SKU/barcode.
MAX_EXACT_NUMBER = 10 ** 15
LONG_NUMBER = ("a number this long cannot be stored exactly by a spreadsheet: format the column as Text and "
               "type it again")
_NUMBERS = frozenset({float, int})


def long_numbers(values: list, all_str: bool = False) -> list[int]:
    """Positions of the number cells of an identifier column with more than 15 digits before the point."""
    if all_str or not _NUMBERS & set(map(type, values)):
        return []  # CSV, or a column of text: nothing was stored as a number
    numbers = [abs(v) for v in values if v.__class__ is float or v.__class__ is int]
    if max(numbers) < MAX_EXACT_NUMBER:
        return []
    return [i for i, v in enumerate(values)
            if (v.__class__ is float or v.__class__ is int) and abs(v) >= MAX_EXACT_NUMBER]


# Excel turns some codes into dates as they are typed in a cell not formatted as Text ("1-3" and "MAR-1" become
# the 1st of March, "12:30" a time): what was typed is gone, and the date read as text ("2026-03-01") would be
# pushed as a new SKU or barcode.  A code column holds no dates: such a cell is refused.
DATE_IN_CODE = ("a date, not a code: Excel turns codes such as 1-3 or MAR-1 into dates as they are typed; format "
                "the column as Text and type the code again")
_DATE_TYPES = (dt.date, dt.time, dt.timedelta)  # (a datetime is a date)


def date_cells(values: list, all_str: bool = False) -> list[int]:
    """Positions of the date, time and duration cells of an identifier column (none in a CSV)."""
    if all_str or not any(issubclass(t, _DATE_TYPES) for t in set(map(type, values))):
        return []
    return [i for i, v in enumerate(values) if isinstance(v, _DATE_TYPES)]


# --- barcodes -------------------------------------------------------------------------------------------

BARCODE_LENGTHS = (8, 12, 13, 14)


def gs1_check_digit(body: str) -> int:
    """GS1 check digit for the digits before it (EAN-8/UPC-A/EAN-13/GTIN-14 share the algorithm)."""
    total = 0
    for k, ch in enumerate(reversed(body)):
        total += (ord(ch) - 48) * (3 if k % 2 == 0 else 1)
    return (10 - total % 10) % 10


def barcode_problem(code: str, was_number: bool = False) -> str | None:
    """Why ``code`` is not a valid EAN-13/EAN-8/UPC-A/GTIN-14, or ``None`` when it is."""
    if not (code.isascii() and code.isdigit()):
        return "barcode must contain only digits"
    if len(code) not in BARCODE_LENGTHS:
        hint = (" (typed as a number, it may have lost leading zeros: format the column as text)"
                if was_number else "")
        return f"barcode must have 8, 12, 13 or 14 digits, not {len(code)}{hint}"
    expected = gs1_check_digit(code[:-1])
    if ord(code[-1]) - 48 != expected:
        return f"bad barcode check digit (expected {expected})"
    return None
