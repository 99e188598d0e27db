"""The text fast paths of the number converters (finiteness and sign read from the joined text, the size bound
from the texts' lengths) decide as the per-cell way does: a column of texts converted with ``all_str`` gives
the same numbers and the same problems as the same cells converted one by one."""

import itertools
from decimal import Decimal

import pytest

from connector.sources.spreadsheet.cells import (
    AMOUNT_TOO_LARGE,
    DECIMAL,
    INTEGER,
    MAX_AMOUNT,
    MAX_QUANTITY,
    QUANTITY_TOO_LARGE,
    converter_for,
)

TRICKY = ["1e3", "1E3", "-0", "0", "NaN", "nan", "sNaN", "Infinity", "-inf", "INF", " 1.50", "1_000", "\u0661\u0662",
          "\uff11\uff12", "999999999999", "999999999999.99", "9999999999999", "-999999999999", "-9999999999999",
          "1E12", "1e-3", "0.000000000001", "12,50", "-3", "12.5", "1" * 40, "-" + "9" * 30, "2147483647",
          "2147483648", "999999999", "-1", " -2 ", "abc", "", "1.0", "1e99999999999"]


def _both(kind: str, negative: str | None, limited: bool, values: list[str]):
    convert = converter_for(kind, negative, limited)
    fast = convert(list(values), True)
    per_cell = [convert([v], False) for v in values]
    slow = ([o[0] for o, _ in per_cell], {i: b[0] for i, (_, b) in enumerate(per_cell) if b})
    return fast, slow


COLUMNS = [[v] for v in TRICKY] + [list(p) for p in itertools.combinations(TRICKY, 2)] + [
    ["1.50", "2", "3.25"], ["1.50", "-2", "3.25"], ["999999999999", "0.01"], ["-0", "-0.00", "5"]]


@pytest.mark.parametrize("negative", [None, "negative"])
@pytest.mark.parametrize("limited", [False, True])
def test_decimal_text_columns_convert_as_cell_by_cell(negative: str | None, limited: bool) -> None:
    for values in COLUMNS:
        fast, slow = _both(DECIMAL, negative, limited, values)
        assert fast == slow, values


@pytest.mark.parametrize("kind, limit", [(DECIMAL, MAX_AMOUNT), (INTEGER, MAX_QUANTITY)])
@pytest.mark.parametrize("negative", [None, "negative"])
def test_the_size_bound_from_lengths_agrees_with_comparing(kind: str, limit, negative: str | None) -> None:
    """The bound skipped by the texts' lengths: same result as the unbounded column bounded number by number."""
    for values in COLUMNS:
        if "1e99999999999" in values:  # the integer converter cannot hold it; the decimal one cannot compare it
            continue
        out, bad = converter_for(kind, negative, False)(list(values), True)
        bad = dict(bad)
        for i, x in enumerate(out):
            if x is not None and abs(x) > limit:
                out[i] = None
                bad[i] = AMOUNT_TOO_LARGE if kind == DECIMAL else QUANTITY_TOO_LARGE
        assert converter_for(kind, negative, True)(list(values), True) == (out, bad), values


def test_the_fast_paths_still_refuse_what_they_must() -> None:
    convert = converter_for(DECIMAL, "negative", True)
    out, bad = convert(["1.5", "-0", "-2", "9999999999999", "Infinity", "12"], True)
    assert out[0] == Decimal("1.5") and out[1] == 0 and out[5] == 12
    assert bad == {2: "negative", 3: bad[3], 4: bad[4]} and bad[3] != bad[4]
    assert converter_for(DECIMAL, None, True)(["-9999999999999"], True)[1]
    assert not converter_for(DECIMAL, None, True)(["-999999999999"], True)[1]
