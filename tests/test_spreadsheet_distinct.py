"""Arrow columns converted once per distinct cell beyond the repeated string columns of test_spreadsheet_coded.py
(``ArrowColumns.distinct``): typed xlsx number columns (even with mostly distinct cells) and text columns whose
cells repeat.  The records are exactly the row reader's, down to each Decimal's exponent and sign."""

from __future__ import annotations

import random
import struct

import pyarrow as pa

from connector.sources.spreadsheet import columnar
from tests.fast_paths import both, same
from tests.test_spreadsheet_xlsx_table import write

# floats whose Decimals differ in representation only (-0.0 and 0.0, 1.0 and 1, tiny and huge exponents)
_NUMBERS = [0.0, -0.0, 1.0, 1, 2.5, -2.5, 12.34, 1e-7, 1e16, 1234567.891, 0.1, 3.0, None]
_TEXTS = ["Acme", " Acme", "Acme ", "acme", "\u00a0Acme\u2003", "", None, "Sahel Textiles", "x\ty"]


def _distinct_calls(monkeypatch) -> list[tuple[int, bool]]:
    """(column, whether it was taken) of each ``distinct`` call."""
    calls: list[tuple[int, bool]] = []
    real = columnar.ArrowColumns.distinct

    def spy(self, j, share, sample=True):
        got = real(self, j, share, sample)
        calls.append((j, got is not None))
        return got

    monkeypatch.setattr(columnar.ArrowColumns, "distinct", spy)
    return calls


def _same_records(fast, slow) -> None:
    same(fast, slow)
    assert repr(fast.products) == repr(slow.products)  # Decimal('-0') == Decimal('0'): compared as written too


def test_typed_number_columns_read_as_the_row_reader_reads_them(tmp_path, monkeypatch):
    calls = _distinct_calls(monkeypatch)
    texts: list[bool] = []
    real = columnar.decimal_texts
    monkeypatch.setattr("connector.sources.spreadsheet.build.decimal_texts",
                        lambda values: texts.append(real(values) is not None) or real(values))
    rng = random.Random(1616)
    for k in range(8):
        numbers = _NUMBERS if k % 2 else [x for x in _NUMBERS if str(x) != "-0.0"]  # -0.0 leaves it to repr
        n = rng.choice([30, 200, 700])
        spread = [round(rng.uniform(0, 5000), 2) for _ in range(n // 2)]  # mostly distinct prices
        rows = [["SKU", "Name", "Price", "Cost", "Weight (kg)", "Stock: Main", "Brand", "Attribute: Size"]]
        for i in range(n):
            rows.append([f"S{i}", f"Name {i}", rng.choice(spread + numbers[:-1]), rng.choice(numbers),
                         rng.choice([*numbers, -1.0]), rng.choice([1, 2, 3.0, 0, None]), rng.choice(_TEXTS),
                         rng.choice(_TEXTS)])
        path = write(tmp_path / f"n{k}.xlsx", rows, like_excel=k % 4 > 1)
        fast, slow, used = both(path)
        assert used
        _same_records(fast, slow)
    assert {j for j, taken in calls if taken} >= {2, 3, 4}  # the number columns, mostly distinct prices too
    assert True in texts and False in texts  # Arrow wrote the numbers' texts, except beside a -0.0


def _doubles(rng: random.Random, n: int) -> list[float]:
    out = []
    for _ in range(n):
        k = rng.random()
        if k < 0.3:
            x = round(10 ** rng.uniform(-6, 17), rng.randint(0, 6))
        elif k < 0.5:
            x = float(rng.randint(0, 10 ** rng.randint(1, 17)))
        elif k < 0.6:
            x = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        elif k < 0.8:
            x = rng.randint(0, 10 ** 7) / 100
        else:
            x = 10 ** rng.uniform(-6, 17)
        out.append(-x if rng.random() < 0.5 else x)
    return out


def test_arrow_writes_doubles_as_the_decimal_converter_does():
    rng = random.Random(2026)
    edges = [0.0, 1e-4, 0.00010000000000000002, 9.999999999999999e-05, 5e-05, 1e15, 1e15 - 1, 999999999999999.9,
             1e16, 1234567890123456.0, 5e-324, 1.7976931348623157e308, 0.1, 1 / 3, 3.0, 100.0, 1857.29, 1857.3]
    for k in range(4):
        values = [*edges, *_doubles(rng, 50_000)] if k else edges
        values = [x for x in values if x == x and abs(x) != float("inf") and str(x) != "-0.0"]
        got = columnar.decimal_texts(pa.array([*values, None]))
        assert got == [*(repr(x).removesuffix(".0") for x in values), ""]
    assert columnar.decimal_texts(pa.array([1.5, -0.0])) is None  # left to the converter (see its doc)
    assert columnar.decimal_texts(pa.array([1.5, float("nan")])) is None
    assert columnar.decimal_texts(pa.array([1.5, float("inf")])) is None
    assert columnar.decimal_texts(pa.array([1, 2])) is None  # not doubles


def test_equal_cells_share_one_object(tmp_path):
    rows = [["SKU", "Name", "Price", "Weight (kg)", "Brand"]]
    rows += [[f"S{i}", f"N{i}", float(i + 1), 1.5 if i % 2 else -0.0, " Acme " if i % 3 else "Dune"] for i in range(40)]
    fast, slow, used = both(write(tmp_path / "w.xlsx", rows))
    assert used
    _same_records(fast, slow)
    variants = [v for p in fast.products for v in p.variants]
    assert len({id(v.weight) for v in variants}) == 2 and str(variants[0].weight) == "-0"
    assert len({id(p.brand) for p in fast.products}) == 2 and fast.products[1].brand == "Acme"


def _quoted_csv(path, header: str, rows: list[tuple[str, ...]]):
    """A CSV file of ``header`` and ``rows``, every cell quoted."""
    lines = [header] + [",".join(f'"{c}"' for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_repeated_csv_texts_are_stripped_like_the_csv_module(tmp_path, monkeypatch):
    calls = _distinct_calls(monkeypatch)
    rng = random.Random(61)
    for k in range(5):
        n = rng.choice([20, 150, 600])
        path = _quoted_csv(tmp_path / f"t{k}.csv", "SKU,Name,Price,Brand,HS code,Attribute: Color,Description",
                           [(f"S{i}", f"N{i}", "1", rng.choice(_TEXTS[:-1]) or "",
                             rng.choice(["950300", " 950300", ""]), rng.choice(_TEXTS[:-1]) or "", f"d{i}")
                            for i in range(n)])
        fast, slow, used = both(path)
        assert used
        _same_records(fast, slow)
    taken = {j for j, t in calls if t}
    assert {3, 4, 5} <= taken and not taken & {0, 1, 6}  # repeated texts coded; distinct ones left to Arrow's text


def _number_text(rng: random.Random) -> str:
    """A CSV number cell: mostly a distinct price, else one of the cells a converter treats apart."""
    if rng.random() < 0.75:
        return f"{rng.uniform(0, 99999):.{rng.randint(0, 3)}f}"
    return rng.choice(["1e-5", "1E-05", "-0", "-0.0", "0", "1,5", " 2.50 ", "\u00a03\u2003", "", "vingt",
                       "123456789012345678901234567890", "1e20", "NaN", "-inf", "-3", "٣", "12.", ".5", "+7"])


def test_mostly_distinct_csv_number_columns_read_as_the_csv_module_reads_them(tmp_path, monkeypatch):
    """A CSV number column with up to 90% distinct cells (prices: two thirds) is converted once per distinct
    cell: the same records, Decimals written alike, issues on their own rows."""
    calls = _distinct_calls(monkeypatch)
    rng = random.Random(2616)
    for k in range(6):
        n = rng.choice([60, 250, 800])
        stocks = [str(rng.randint(0, 10 ** 6)), "-1", "2.5", " 4 ", "", "3000000000", "x"]
        path = _quoted_csv(tmp_path / f"m{k}.csv", "SKU,Name,Price,Cost,Weight (kg),Stock: Main",
                           [(f"S{i}", f"N{i}", _number_text(rng), _number_text(rng), _number_text(rng),
                             rng.choice(stocks)) for i in range(n)])
        fast, slow, used = both(path)
        assert used
        _same_records(fast, slow)
        assert fast.issues
    taken = {j for j, t in calls if t}
    assert {2, 3, 4, 5} <= taken  # every number column, though most of its cells are distinct


def test_each_number_column_is_encoded_once(tmp_path, monkeypatch):
    """A number column is dictionary-encoded whole once, whatever its top rows look like: it was encoded a second
    time when its top rows looked repeated but the column was not (or its top rows were sampled first for
    nothing).  Its zero prices are refused as before, beside blank ones."""
    calls = _distinct_calls(monkeypatch)
    rng = random.Random(4)
    rows = [(f"S{i}", f"N{i}", "5" if i < 2500 else f"{i}.{rng.randint(0, 99)}",
             rng.choice(["0", "0.00", "-0", "", "7"]) if i % 50 == 0 else f"{i % 40}.5", str(i % 7))
            for i in range(6000)]  # prices: the top rows repeated, the column 58% distinct
    path = _quoted_csv(tmp_path / "p.csv", "SKU,Name,Price,Cost,Stock: Main", rows)
    fast, slow, used = both(path)
    assert used
    _same_records(fast, slow)
    assert [j for j, _ in calls if j in (2, 3, 4)] == [2, 3, 4]
    path = _quoted_csv(tmp_path / "z.csv", "SKU,Name,Price", [("A", "a", "0"), ("B", "b", ""), ("C", "c", "-0"),
                                                               ("D", "d", "0.00"), ("E", "e", "3")])
    fast, slow, used = both(path)
    assert used
    _same_records(fast, slow)
    assert [(i.row, i.reason.split(":")[0]) for i in fast.issues] == [
        (2, "price 0"), (3, "missing required value"), (4, "price 0"), (5, "price 0")]
    assert [p.key for p in fast.products] == ["E"]
