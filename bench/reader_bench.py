"""The reader and mapping rows of ``make bench`` (issue 16), each beside the anchor it is compared with.

- ``.csv`` read -> validated canonical, against Python's csv module just splitting the same file;
- ``.xlsx`` read -> validated canonical, against fastexcel reading the same sheets as text (Arrow columns, no
  Python object per cell), with openpyxl ``read_only`` beside it (the reader of Odoo's own importer);
- the mapping engine against the hand-written floor (run.py's ``floor_map``).

The machine is shared and noisy, so an anchor is always timed in the same process as what it anchors, the two
alternating, best of N; a read runs in a fresh interpreter (``python -m bench.reader_bench FILE``), away from
the generator's garbage.  The targets are ratios, so a slow moment slows both sides alike.

Each side is timed until it holds its result (the anchor's rows or Arrow tables, the read's canonical records);
the result is freed after the timed window, as the mapping row's lists are, and as the command itself never
frees its records (it leaves them to the process's exit: ``sync/collector.py``).  What freeing takes is timed
apart and shown beside the read (the records are five times the objects of the anchor's rows).
"""

from __future__ import annotations

import csv
import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.verdict import met

Row = tuple[str, str, str, str]  # (measure, value, target, met)
READ_TARGET = 2.0  # read -> validated canonical, at most this many times its anchor
MAPPING_TARGET = 2.0  # mapping engine, at most this many times the hand-written floor
PAIRS = 5  # alternating (anchor, read) pairs per file, best of each
MAPPING_PAIRS = 15  # alternating (floor, engine) runs: a second each, so more of them to find quiet moments
OPENPYXL_RUNS = 1  # openpyxl is an order of magnitude slower: one run tells where it stands




def csv_split(path: Path) -> list[list[str]]:
    """Python's csv module splitting the file into rows of strings, nothing else (the CSV anchor)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def fastexcel_text(path: Path) -> list[Any]:
    """fastexcel reading every sheet of the workbook as text columns (the .xlsx anchor): its Arrow tables."""
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    return [reader.load_sheet(name, header_row=None, dtypes="string").to_arrow() for name in reader.sheet_names]


def openpyxl_read_only(path: Path) -> int:
    """openpyxl in ``read_only`` mode, every cell's value of every sheet (what Odoo's importer uses)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(sum(1 for _ in ws.iter_rows(values_only=True)) for ws in wb.worksheets)
    finally:
        wb.close()


def read_canonical(path: Path) -> Any:
    """The connector's read: the file into validated canonical products (what ``validate`` does)."""
    from connector.sources.spreadsheet import read_spreadsheet

    result = read_spreadsheet(path)
    if result.errors:
        raise AssertionError([str(e) for e in result.errors[:3]])
    return result


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one call; garbage of the previous call is collected before, outside the timed window."""
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def time_pairs(path: Path, anchors: list[str], pairs: int) -> dict[str, Any]:
    """Seconds of each anchor and of the read, alternating ``pairs`` times (the slower anchors fewer times)."""
    funcs = {f.__name__: f for f in (csv_split, fastexcel_text, openpyxl_read_only, read_canonical)}
    times: dict[str, list[float]] = {name: [] for name in [*anchors, "read_canonical"]}
    frees: dict[str, list[float]] = {name: [] for name in times}  # freeing each result, after its timed window
    variants = 0
    for k in range(pairs):
        for name in times:
            if name == "openpyxl_read_only" and k >= OPENPYXL_RUNS:
                continue
            seconds, out = _timed(lambda name=name: funcs[name](path))
            times[name].append(seconds)
            if name == "read_canonical":
                variants = sum(len(p.variants) for p in out.products)
            start = time.perf_counter()
            del out
            frees[name].append(time.perf_counter() - start)
    return {"times": times, "frees": frees, "variants": variants}


def _measure(path: Path, anchors: list[str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "bench.reader_bench", str(path), ",".join(anchors)],
                          capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(proc.stdout)


def _seconds(times: list[float]) -> str:
    return f"{min(times):.2f} s (median {sorted(times)[len(times) // 2]:.2f})"


def bench_reads(rows: int, tmp: Path) -> list[Row]:
    """The .csv and .xlsx rows: each read beside its anchors, ratio to the first anchor."""
    from bench.spreadsheet_data import generate

    out: list[Row] = []
    cases = (("csv", ["csv_split"], "Python's csv module splitting the same file (csv.reader, all rows)"),
             ("xlsx", ["fastexcel_text", "openpyxl_read_only"],
              "fastexcel raw read of the same sheets as text (Arrow columns)"))
    for fmt, anchors, anchor_label in cases:
        path = generate(tmp / f"reads.{fmt}", rows, fmt)
        got = _measure(path, anchors)
        times = got["times"]
        anchor = min(times[anchors[0]])
        read = min(times["read_canonical"])
        ratio = read / anchor
        out.append((f"  anchor: {anchor_label}", _seconds(times[anchors[0]]), "", ""))
        if "openpyxl_read_only" in anchors:
            opx = min(times["openpyxl_read_only"])
            out.append(("  anchor: openpyxl read_only, every cell (the reader of Odoo's own importer)",
                        f"{opx:.2f} s = {opx / anchor:.1f}x fastexcel, {opx / read:.1f}x the read below", "", ""))
        freed = (f"; freeing after: records {min(got['frees']['read_canonical']):.2f} s, "
                 f"anchor's {min(got['frees'][anchors[0]]):.2f} s")
        out.append((f"read {rows:,} rows .{fmt} -> validated canonical ({got['variants']:,} variants)",
                    f"{_seconds(times['read_canonical'])} = {ratio:.2f}x anchor{freed}",
                    f"<= {READ_TARGET:g}x anchor", met(ratio <= READ_TARGET)))
    return out


def bench_mapping(n: int) -> list[Row]:
    """The mapping engine beside the hand-written floor, alternating, best of ``MAPPING_PAIRS`` each."""
    from bench.run import floor_map, make_products
    from connector.mapping import load_mapping, shipped_mapping

    products = make_products(n)
    engine = load_mapping(shipped_mapping("elebne")).apply
    for p in products[1::97]:  # the floor writes what the engine maps, on records all through the catalogue
        assert engine(p) == floor_map(p), (engine(p), floor_map(p))
    floor: list[float] = []
    mapped: list[float] = []
    for _ in range(MAPPING_PAIRS):
        floor.append(_timed(lambda: [floor_map(p) for p in products])[0])
        mapped.append(_timed(lambda: [engine(p) for p in products])[0])
    ratio = min(mapped) / min(floor)
    return [
        (f"  anchor: mapping floor (hand-written dicts), {n:,} records", f"{min(floor) / n * 1e6:.2f} µs/record",
         "", ""),
        ("mapping engine, shipped elebne.yaml (copies + ops)",
         f"{min(mapped) / n * 1e6:.2f} µs/record = {ratio:.2f}x floor", f"<= {MAPPING_TARGET:g}x floor",
         met(ratio <= MAPPING_TARGET)),
    ]


def main(argv: list[str]) -> int:
    """``python -m bench.reader_bench FILE ANCHOR[,ANCHOR]``: JSON of the alternating timings (internal)."""
    print(json.dumps(time_pairs(Path(argv[1]), argv[2].split(","), PAIRS)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
