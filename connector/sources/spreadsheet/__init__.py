"""Spreadsheet source: templates a merchant fills in, and a fast, strict reader (design §6).

Public API:

- ``read_spreadsheet(path, *, currency="MRU") -> SourceResult``: .xlsx/.xlsm/.xlsb/.xls/.ods (python-calamine;
  an .xlsx Products sheet through fastexcel's Arrow columns when that reads it exactly alike) and
  .csv/.tsv/.txt (Arrow's CSV parser, or the csv module for what Arrow would read differently) into validated
  canonical products, issues and one ``RowRef`` per input row.
  Unreadable input raises ``connector.errors.SourceError``.
- ``write_template(path, *, lang="en", locations=("Main",), example=True)``: the blank template.
- ``write_error_copy(source_path, issues, out_path) -> int``: the merchant's file with bad cells in red (.xlsx),
  or its Products rows with a Problems column (.csv); nothing written is a formula (inert.py).
- ``write_sample(path)``: the bundled demo catalogue.

Example rows: a row whose SKU starts with ``EXAMPLE-`` (also ``EXEMPLE-`` / ``مثال-``; any case) is ignored,
in the Products sheet and in stock sheets.  It is not a data row and gets no ``RowRef``.  Blank rows neither.

Issue reasons (``Issue.reason``; sheet, 1-based row, header as written, raw value and 0-based column index
are set on every cell issue; a row-level issue is put on the SKU column):

- ``missing required value`` (SKU, Price, Name on a product's first row, stock SKU/Quantity)
- ``text in a number column``, ``a date in a number column``, ``not a whole number``, ``ambiguous number: a comma
  followed by three digits ...`` (``1,500``: thousands or decimals)
- ``negative price`` / ``negative cost`` / ``negative weight`` / ``negative stock``
- ``duplicate SKU (first seen on row N)`` (second and later occurrences of a row copied whole; in stock sheets
  too); ``duplicate SKU (first seen on row N, with other values: ...)`` and ``(seen again on row N, ...)`` on the
  first: a SKU on rows that differ refuses them all (which is right is not known); in a stock sheet, ``with
  another quantity``: that SKU's stock is not sent;
  ``duplicate SKU (first seen on row N: the same characters, encoded differently; ...)`` (equal once NFC-normalized)
- ``bad barcode check digit (expected D)``, ``barcode must contain only digits``,
  ``barcode must have 8, 12, 13 or 14 digits, not N`` (+ a leading-zero hint when typed as a number)
- ``differs from row N of Parent SKU 'P' ('value'); leave it blank to inherit`` (Name, Description, Brand,
  Category and translation columns of variant rows)
- ``SKU 'X' is also used as Parent SKU (row N)`` and ``Parent SKU 'X' is also the SKU of another product
  (row N)``
- ``SKU not found in sheet 'Products'`` (stock rows; with the words of ``build.ORPHAN_KEPT`` when a Products
  row was refused for its SKU cell: the SKU is then not taken for deleted)
- ``formula without a cached value (open the file in Excel or LibreOffice and save it again)``, ``formula never
  calculated: ...`` (the workbook asks for a full calculation when opened: its values are placeholders),
  ``error value in the cell (#N/A)``
- ``expected Yes or No``, ``currency must be a 3-letter code such as MRU``,
  ``stock of 'X' at 'L' is also given in sheet 'Products' with a different quantity (N)``
- ``number too large (at most 999,999,999,999.99)`` (prices) and
  ``number too large (at most 2,147,483,647)`` (stock)
- ``merged cells A2:A4: unmerge them and type the value in every cell`` (every data row under the range)
- ``invisible character (zero width space, U+200B) at position 3: delete it and type the value again`` (SKU,
  Parent SKU; zero-width characters, bidi controls, soft hyphen, BOM, control characters...)
- ``control character (end-of-file mark, U+001A) at position 9: invisible in the cell; ...`` and ``line break
  (...) at position 5: a Name holds one line; ...`` (Name, Description, Brand, Category, HS code, attribute and
  translated texts: ``controls.py``; a description may hold line breaks and tabs), the value shown with
  ``<U+001A>`` in place of the character
- ``look-alike character (no-break space, U+00A0) at position 4: it looks like a plain space but is another
  character; type a plain space instead`` (SKU, Parent SKU; other spaces, full-width letters, Arabic
  presentation forms)
- ``line N is not in UTF-8 like the rest of the file (...)`` (a CSV mixing encodings: the cells with
  non-ASCII text of that line)
- ``a number with decimals, which the cell's format 000000 shows rounded (090230): ...`` (Barcode, HS code)

Identifiers typed as numbers in a cell whose format pads them with zeros (``00000``; .xlsx/.xlsm: formats.py):
Barcode and HS code read as the cell shows them (``00123``); SKU and Parent SKU (stock sheets too) read as
typed, the key of a synced listing, with one warning per sheet and column (``build.PADDED_SKU``).

Hostile files are refused (``SourceError``, exit 2) before a native reader sees them: see guard.py for the
bounds (inflated size, compression ratio, sheets, rows, grid, cells, shared strings), measured however the XML
writes its references, and for encrypted or oddly compressed zip parts and a row written twice.  So is a file that
changed while it was read (its size, time or inode): still being written, it may be a catalogue cut short.

A product whose rows all lack a name: the first row gets the issue, the others ``skipped_reason`` "product 'P'
has no name (row N)".  A stock row whose SKU was skipped in Products gets ``skipped_reason`` only.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.errors import SourceError
from connector.memory import release_freed_memory
from connector.sources.base import SourceResult

from .build import build_result, prepare_stock
from .columns import EXAMPLE_PREFIXES
from .reader import read_raw

if TYPE_CHECKING:
    import threading

# the writers load openpyxl (about a second on a busy machine): imported when first used, not by every read
_WRITERS = {"write_error_copy": ".error_copy", "write_sample": ".sample", "write_template": ".template"}


def __getattr__(name: str) -> Any:
    if name in _WRITERS:
        import importlib

        return getattr(importlib.import_module(_WRITERS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["EXAMPLE_PREFIXES", "read_spreadsheet", "write_error_copy", "write_sample", "write_template"]


def read_spreadsheet(path: str | Path, *, currency: str = "MRU",
                     loading: threading.Event | None = None) -> SourceResult:
    """Read a catalogue workbook or CSV into canonical products, issues and row references.  ``loading`` is set
    when the Products sheet of an ``.xlsx`` starts to load in native code (background.py)."""
    # Reading allocates millions of small objects that are all kept: cyclic GC passes over the growing heap
    # would triple the time, and nothing here creates reference cycles worth collecting.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = _stamp(path)
        try:
            book = read_raw(path, prepare_stock, columnar=True, loading=loading)
            try:
                result = build_result(book, currency=currency.strip().upper() or "MRU")
            finally:  # the stock sheets load while the Products sheet is built; their error, if any, comes first
                book.stock  # noqa: B018 (joins the loading thread)
            del book
        except SourceError:
            _same_file(path, before)  # (a half-written file's own error says less)
            raise
        _same_file(path, before)
        release_freed_memory()  # the build's columns were freed outside Python's allocator too (connector/memory.py)
        result.full_read = True  # a workbook is the whole catalogue (issue 12: what leaves it leaves the shop)
        return result
    finally:
        if was_enabled:
            _promote_to_old_generation()
            gc.enable()


def _same_file(path: str | Path, before: tuple[int, int, int] | None) -> None:
    """Raise ``SourceError`` if the file changed since ``before`` (``_stamp``): a file still being written (an
    export running, a copy not finished) reads as a catalogue cut short, whose products past the cut would look
    deleted."""
    if _stamp(path) != before:
        raise SourceError(f"{Path(path).name}: the file changed while it was read (is another program still "
                          "writing it?); nothing was sent: run again once it is saved")


def _stamp(path: str | Path) -> tuple[int, int, int] | None:
    """The file's size, modification time and inode (a file renamed over it is another file), or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


def _promote_to_old_generation() -> None:
    """Move the objects the read allocated (all still in the young generation, as the collector was paused) to
    the oldest generation without traversing them: the first young collection after the read would otherwise
    walk every record, variant and dict just built (a tenth of the read), only to find them all alive.
    ``gc.freeze()`` then ``gc.unfreeze()`` does that move and nothing else; skipped when the program keeps
    frozen objects of its own (they would be unfrozen)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
