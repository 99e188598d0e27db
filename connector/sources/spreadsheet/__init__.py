"""Spreadsheet source: templates a merchant fills in, and a fast, strict reader (design §6).

Public API:

- ``read_spreadsheet(path, *, currency="MRU") -> SourceResult``: .xlsx/.xlsm/.xlsb/.xls/.ods (python-calamine)
  and .csv/.tsv/.txt (csv module) into validated canonical products, issues and one ``RowRef`` per input row.
  Unreadable input raises ``connector.errors.SourceError``.
- ``write_template(path, *, lang="en", locations=("Main",), example=True)``: the blank template.
- ``write_error_copy(source_path, issues, out_path) -> int``: the merchant's file with bad cells in red.
- ``write_sample(path)``: the bundled demo catalogue.

Example rows: a row whose SKU starts with ``EXAMPLE-`` (also ``EXEMPLE-`` / ``مثال-``; any case) is ignored,
in the Products sheet and in stock sheets.  It is not a data row and gets no ``RowRef``.
"""

from __future__ import annotations

import gc
from pathlib import Path

from connector.sources.base import SourceResult

from .build import build_result
from .columns import EXAMPLE_PREFIXES
from .error_copy import write_error_copy
from .reader import read_raw
from .sample import write_sample
from .template import write_template

__all__ = ["EXAMPLE_PREFIXES", "read_spreadsheet", "write_error_copy", "write_sample", "write_template"]


def read_spreadsheet(path: str | Path, *, currency: str = "MRU") -> SourceResult:
    """Read a catalogue workbook or CSV into canonical products, issues and row references."""
    # Reading allocates millions of small objects that are all kept: cyclic GC passes over the growing heap
    # would triple the time, and nothing here creates reference cycles worth collecting.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return build_result(read_raw(path), currency=currency.strip().upper() or "MRU")
    finally:
        if was_enabled:
            gc.enable()
