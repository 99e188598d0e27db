"""The merchant's orders workbook as an order destination (``orders: {to: workbook, workbook: orders.xlsx}``, or
``connector orders --to orders.xlsx``), for merchants without an ERP.

- One row per order line, the order's columns repeated on each of its lines, in an ``Orders`` sheet (a CSV
  holds the same columns).  A row is keyed by (Marketplace, Order ID, Line ID): a re-run never adds a row
  twice.
- Three columns are the merchant's: **Status**, **Tracking number**, **Courier** (``MERCHANT_COLUMNS``, read back
  by the fulfilment flow).  The connector writes them empty when it adds a row and never touches them again.
  Of a row already there, only **Marketplace status** is updated (a cancellation); every other cell, the
  merchant's own columns, formatting and other sheets are left as they are.  Columns may be moved or
  renamed in case only; a column the merchant deleted is not written, except Marketplace status, added back at
  the end of the header row (else a cancellation would be lost; the report's notes say so).
- The header row is the first of the first ``HEADER_ROWS`` rows with the key columns: rows above it (a title,
  Excel's ``sep=;``) are left as they are.
- Nothing written is a formula: text cells stay text (inert.py).  A file that exists but has no
  Marketplace / Order ID / Line ID header is not ours and is refused, never overwritten.
- Kill-safe: the new version is written beside the file and renamed over it (the old file or the new one,
  never half of one); a lock beside it keeps two runs from writing it at once (exit 5).  A file open in a
  spreadsheet program (its lock file beside it), read-only, or in a folder that is, is not written: the orders
  that would change it fail with the reason (``unwritable``) and a later run writes them.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from copy import copy
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from connector.atomic import remove_leftovers, replace_file
from connector.errors import ConfigError, UserError
from connector.orders.book import OrderBook
from connector.orders.destination import DestinationBase
from connector.orders.model import Customer, Order, OrderLine
from connector.orders.outcome import OrderOutcome, OrderResult
from connector.sources.spreadsheet.inert import csv_cell, csv_text, string_cell
from connector.sources.spreadsheet.outputs import output_format
from connector.sync.state.lock import _take as take_lock

SHEET = "Orders"
NAME = "workbook"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    width: int
    text: bool = False  # written as text: identifiers keep leading zeros and long digits
    merchant: bool = False  # the merchant's: written empty on a new row, never after


COLUMNS = (
    Column("marketplace", "Marketplace", 12, text=True),
    Column("order_id", "Order ID", 16, text=True),
    Column("order_number", "Order number", 16, text=True),
    Column("created", "Created (UTC)", 17),
    Column("marketplace_status", "Marketplace status", 12),
    Column("line_id", "Line ID", 16, text=True),
    Column("sku", "SKU", 16, text=True),
    Column("product", "Product", 28),
    Column("quantity", "Quantity", 9),
    Column("unit_price", "Unit price", 11),
    Column("currency", "Currency", 9),
    Column("shipping_fee", "Shipping fee", 11),
    Column("total", "Order total", 11),
    Column("customer", "Customer", 20),
    Column("phone", "Phone", 15, text=True),
    Column("email", "Email", 22),
    Column("address", "Address", 28),
    Column("city", "City", 14),
    Column("country", "Country", 8),
    Column("channel", "Channel", 12),
    Column("ship_by", "Ship by (UTC)", 17),
    Column("status", "Status", 12, merchant=True),
    Column("tracking", "Tracking number", 18, text=True, merchant=True),
    Column("courier", "Courier", 14, merchant=True),
)
BY_KEY = {c.key: c for c in COLUMNS}
KEY_COLUMNS = ("marketplace", "order_id", "line_id")
MERCHANT_COLUMNS = tuple(c.header for c in COLUMNS if c.merchant)
_MERCHANT_NOTE = "Yours to fill in: the connector writes this column empty on a new row and never changes it."
_TIME_FORMAT = "yyyy-mm-dd hh:mm"

RowKey = tuple[str, str, str]
_OURS_FROM = 3  # a header row with this many of our columns is our file, however a key column went missing
HEADER_ROWS = 10  # the header row is looked for in this many first rows: a merchant may add a title above it


def line_status(order: Order, line: OrderLine) -> str:
    """What the Marketplace status column says of a line: its own status where the marketplace has one."""
    return (line.status or order.status).value


def line_values(order: Order, line: OrderLine) -> dict[str, Any]:
    c = order.customer or Customer()
    return {
        "marketplace": order.marketplace, "order_id": order.remote_id, "order_number": order.channel_order_id,
        "created": order.created_at, "marketplace_status": line_status(order, line), "line_id": line.line_id,
        "sku": line.sku, "product": line.name, "quantity": line.quantity, "unit_price": line.unit_price,
        "currency": line.currency or order.currency, "shipping_fee": order.shipping_fee, "total": order.total,
        "customer": c.name, "phone": c.phone, "email": c.email,
        "address": ", ".join(x for x in (c.street, c.zip) if x) or None, "city": c.city, "country": c.country,
        "channel": order.channel, "ship_by": order.sla_deadline,
    }


def key_text(value: Any) -> str:
    """A key cell as text, however the spreadsheet program stored it (``1234.0`` typed as a number)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _norm(header: Any) -> str:
    return " ".join(str(header or "").split()).casefold()


_HEADER_KEYS = {_norm(c.header): c.key for c in COLUMNS}


def header_columns(headers: Sequence[Any]) -> dict[str, int]:
    """Column key -> 0-based index of a header row (case and spacing ignored; the first of duplicates)."""
    found: dict[str, int] = {}
    for i, h in enumerate(headers):
        key = _HEADER_KEYS.get(_norm(h))
        if key is not None:
            found.setdefault(key, i)
    return found


class Sheet(Protocol):
    """The rows of an orders file, loaded: read, change, append, then written back whole.  ``rows()`` are the
    data rows under the header row; ``first_row`` is the row number the merchant sees for the first of them."""

    columns: dict[str, int]
    first_row: int
    lost_on_save: str | None  # what saving would drop of the file (pictures, shapes...): then it is not written

    def rows(self) -> list[list[Any]]: ...

    def add_column(self, key: str) -> str:
        """Add our column ``key`` at the end of the header row (a column the merchant deleted); says where."""
        ...

    def set_cell(self, row: int, key: str, value: Any) -> None: ...

    def append(self, values: dict[str, Any]) -> int: ...

    def save(self, path: Path) -> None: ...


# -- xlsx --------------------------------------------------------------------------------------------------------
class XlsxSheet:
    def __init__(self, workbook: Any, sheet: Any, columns: dict[str, int], header_row: int = 1) -> None:
        self.workbook, self.sheet, self.columns, self.header_row = workbook, sheet, columns, header_row
        self.first_row = header_row + 1
        self.lost_on_save: str | None = None  # what of the file saving it would drop (``unkept_parts``)
        self._next: int | None = None  # the row ``append`` writes next
        self.notes: list[str] = []  # for the run's report: merged cells split to write a row

    @classmethod
    def new(cls) -> XlsxSheet:
        from openpyxl import Workbook
        from openpyxl.comments import Comment
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        wb = Workbook()
        ws = wb.active
        ws.title = SHEET
        for i, col in enumerate(COLUMNS, start=1):
            cell = string_cell(ws.cell(row=1, column=i, value=col.header))
            cell.font = Font(bold=True)
            if col.merchant:
                cell.comment = Comment(_MERCHANT_NOTE, "connector")
            ws.column_dimensions[get_column_letter(i)].width = col.width
        ws.freeze_panes = "A2"
        return cls(wb, ws, {c.key: i for i, c in enumerate(COLUMNS)})

    @classmethod
    def load(cls, path: Path) -> XlsxSheet:
        """The ``Orders`` sheet (else the first sheet with our key columns), its header row being the first of
        its first ``HEADER_ROWS`` rows with our key columns: rows above it (a title) are left as they are."""
        from openpyxl import load_workbook

        from connector.sources.spreadsheet.guard import check_archive

        try:
            with zipfile.ZipFile(path) as zf:
                check_archive(path, zf)
                lost = unkept_parts(zf)
            wb = load_workbook(path)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            if _encrypted(path):
                raise ConfigError(f"orders workbook {path} is password-protected (or an old .xls file): save it "
                                  "without a password as .xlsx, or give another file name") from None
            raise ConfigError(f"orders workbook {path} cannot be read ({exc}): is it an .xlsx file?") from None
        names = [SHEET, *(n for n in wb.sheetnames if n != SHEET)]
        closest: dict[str, int] = {}
        for name in names:
            if name not in wb.sheetnames or not hasattr(wb[name], "iter_rows"):  # a chart sheet has no cells
                continue
            ws = wb[name]
            for number, values in enumerate(ws.iter_rows(min_row=1, max_row=HEADER_ROWS, values_only=True), 1):
                columns = header_columns(list(values))
                if all(k in columns for k in KEY_COLUMNS):
                    sheet = cls(wb, ws, columns, number)
                    sheet.lost_on_save = lost
                    return sheet
                if len(columns) > len(closest):
                    closest = columns
        raise not_ours(path, closest)

    def add_column(self, key: str) -> str:
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        index = self.sheet.max_column + 1  # beyond every cell the merchant filled, with a header or not
        cell = string_cell(self.sheet.cell(row=self.header_row, column=index, value=BY_KEY[key].header))
        cell.font = Font(bold=True)
        self.sheet.column_dimensions[get_column_letter(index)].width = BY_KEY[key].width
        self.columns[key] = index - 1
        return f"column {get_column_letter(index)}"

    def rows(self) -> list[list[Any]]:
        """The data rows as the merchant sees them: a cell merged down with the ones above (an order's Order ID
        merged over its rows) holds the value the merged cells show, not the empty cell the file stores.  Cells
        merged across columns are read as stored (the value in the first column only)."""
        rows = [list(r) for r in self.sheet.iter_rows(min_row=self.first_row, values_only=True)]
        for rng in self.sheet.merged_cells.ranges:
            if rng.min_row < self.first_row:  # from the header down: not an order's value
                continue
            shown, col = self.sheet.cell(rng.min_row, rng.min_col).value, rng.min_col - 1
            for r in range(rng.min_row, min(rng.max_row, self.first_row + len(rows) - 1) + 1):
                cells = rows[r - self.first_row]
                # a row of the range holding nothing else is no order's row (a merge drawn down past the data)
                if col < len(cells) and any(v not in (None, "") for i, v in enumerate(cells) if i != col):
                    cells[col] = shown
        return rows

    def set_cell(self, row: int, key: str, value: Any) -> None:
        self._put(self._writable(row + self.first_row, self.columns[key] + 1), BY_KEY[key], value)

    def _writable(self, row: int, column: int) -> Any:
        """The cell at (row, column).  When it is part of merged cells they are split first, as ``rows`` read them
        (the first column's cells each keep the value shown, with the range's style): a merged cell holds no value
        of its own (writing it fails), and writing the range's first cell would change the rows under it too."""
        for rng in list(self.sheet.merged_cells.ranges):
            if rng.min_row <= row <= rng.max_row and rng.min_col <= column <= rng.max_col:
                first = self.sheet.cell(rng.min_row, rng.min_col)
                shown, style, coord = first.value, copy(first._style), rng.coord
                self.sheet.unmerge_cells(coord)
                for r in range(rng.min_row, rng.max_row + 1):
                    for c in range(rng.min_col, rng.max_col + 1):
                        cell = self.sheet.cell(r, c)
                        cell._style = copy(style)
                        if c == rng.min_col and rng.min_row >= self.first_row and (r == rng.min_row or any(
                                self.sheet.cell(r, k).value not in (None, "")
                                for k in range(1, self.sheet.max_column + 1) if k != c)):
                            cell.value = shown  # (as ``rows`` reads it: not into a row holding nothing else)
                self.notes.append(f"sheet {self.sheet.title}: the merged cells {coord} were split to write row {row} "
                                  f"(each row keeps the value they showed)")
        return self.sheet.cell(row=row, column=column)

    def append(self, values: dict[str, Any]) -> int:
        """Under the last row holding a value: rows the merchant only formatted (borders down to row 500) are
        filled, not left as a gap above the new ones."""
        if self._next is None:
            filled = [i for i, r in enumerate(self.sheet.iter_rows(min_row=self.first_row, values_only=True))
                      if any(v is not None and v != "" for v in r)]
            self._next = self.first_row + (filled[-1] + 1 if filled else 0)
        row, self._next = self._next, self._next + 1
        for key, index in self.columns.items():
            self._put(self._writable(row, index + 1), BY_KEY[key], values.get(key))
        self._grow_tables(row)
        return row - self.first_row

    def _grow_tables(self, row: int) -> None:
        """An Excel table (Insert > Table) from the header row down to the row above ``row`` takes ``row`` in, as
        Excel does with a row typed right under a table: left below it, a new order is outside its sorting, its
        filters' view and any pivot table or formula over it.  A table with a totals row, or one not from the header
        row, is left as it is."""
        from openpyxl.utils import get_column_letter, range_boundaries

        for table in self.sheet.tables.values():
            min_col, min_row, max_col, max_row = range_boundaries(table.ref)
            if min_row == self.header_row and max_row == row - 1 and not table.totalsRowCount:
                table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{row}"
                if table.autoFilter is not None:
                    table.autoFilter.ref = table.ref

    @staticmethod
    def _put(cell: Any, column: Column, value: Any) -> None:
        if isinstance(value, datetime):
            value = value.replace(tzinfo=None)  # UTC, as the header says (Excel has no time zones)
            cell.number_format = _TIME_FORMAT
        elif isinstance(value, Decimal):
            cell.number_format = "0.00"
        elif column.text and value is not None:
            value = str(value)
            cell.number_format = "@"
        elif column.text and column.merchant:  # an empty cell the merchant types into (Tracking number): as Text,
            cell.number_format = "@"  # so Excel keeps 0012345, 1-3 or 20 digits as typed, never a number or a date
        cell.value = value
        string_cell(cell)  # text starting with '=' stays text

    def save(self, path: Path) -> None:
        self.workbook.save(path)


def _encrypted(path: Path) -> bool:
    """A password-protected .xlsx (and an old .xls) is an OLE2 compound file, not a zip."""
    try:
        with path.open("rb") as fh:
            return fh.read(8) == bytes.fromhex("D0CF11E0A1B11AE1")
    except OSError:
        return False


def unkept_parts(zf: zipfile.ZipFile) -> str | None:
    """What saving the workbook with openpyxl would drop, in the merchant's words, or None: shapes and text
    boxes, form controls, slicers, threaded comments, and pictures when Pillow is not installed."""
    names = zf.namelist()
    found = []
    try:
        from PIL import Image  # noqa: F401  (openpyxl keeps pictures only with Pillow)
    except ImportError:
        if any(n.startswith("xl/media/") for n in names):
            found.append("pictures")
    drawings = [n for n in names if n.startswith("xl/drawings/") and n.endswith(".xml")]
    if any(tag in zf.read(n) for n in drawings for tag in (b":sp>", b":sp ", b":grpSp", b":cxnSp")):
        found.append("shapes or text boxes")
    for prefix, words in (("xl/ctrlProps/", "form controls"), ("xl/slicers/", "slicers"),
                          ("xl/threadedComments/", "threaded comments")):
        if any(n.startswith(prefix) for n in names):
            found.append(words)
    # openpyxl drops every extension of a worksheet (``<extLst>``): Excel keeps there the drop-down lists that
    # refer to another sheet, its newer conditional formats (data bars, icon sets) and sparklines
    sheets = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    extensions = {uri for n in sheets for uri in _SHEET_EXTENSIONS if uri in zf.read(n).upper()}
    found += [_SHEET_EXTENSIONS[uri] for uri in sorted(extensions)]
    return " and ".join(found) or None


_SHEET_EXTENSIONS = {  # extension uri (upper case) -> what the merchant sees
    b"{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}": "drop-down lists (data validation) that refer to another sheet",
    b"{78C0D931-6437-407D-A8EE-F0AAD7539E65}": "conditional formats of Excel 2010 and later (data bars, icon sets)",
    b"{05C60535-1F16-4FD2-B633-F4F36F0B64E0}": "sparklines",
}


# -- csv ---------------------------------------------------------------------------------------------------------
class CsvSheet:
    """A CSV orders file: read with the dialect it has (a merchant may save it from Excel with ';'), written
    back in UTF-8 with a BOM and the same separator; text a spreadsheet would evaluate is escaped (inert.py).
    Lines above the header row (a title, Excel's ``sep=;``) are written back as they were."""

    def __init__(self, header: list[str], data: list[list[Any]], delimiter: str = ",", above: str = "") -> None:
        self.header, self.data, self.delimiter, self.above = header, data, delimiter, above
        self.columns = header_columns(header)
        self.lost_on_save: str | None = None
        self.first_row = above.count("\n") + 2

    @classmethod
    def new(cls) -> CsvSheet:
        return cls([c.header for c in COLUMNS], [])

    @classmethod
    def load(cls, path: Path) -> CsvSheet:
        """The header row is the first of the first ``HEADER_ROWS`` lines with our key columns."""
        from connector.sources.spreadsheet.reader import TextProblem, decode_text, sniff_delimiter

        try:
            text = decode_text(path.read_bytes())[0]
        except OSError as exc:
            raise ConfigError(f"orders file {path} cannot be read: {exc.strerror}") from None
        except TextProblem as exc:  # never guessed: the file is written back, and its texts with it
            raise ConfigError(f"orders file {path}: {exc}; open it in a spreadsheet program and save it again as "
                              "CSV UTF-8 (or put back a good copy): it is left as it is, nothing read or written "
                              "from it") from None
        lines = text.splitlines(keepends=True)
        closest: dict[str, int] = {}
        found: tuple[int, str] | None = None
        for i, line in enumerate(lines[:HEADER_ROWS]):
            delimiter = sniff_delimiter(line)
            columns = header_columns(next(csv.reader([line], delimiter=delimiter), []))
            if all(k in columns for k in KEY_COLUMNS):
                found = i, delimiter
                break
            closest = columns if len(columns) > len(closest) else closest
        if found is None:
            raise not_ours(path, closest)
        i, delimiter = found
        try:
            rows = [[csv_text(c) for c in r] for r in csv.reader(io.StringIO("".join(lines[i:]), newline=""),
                                                                 delimiter=delimiter)]
        except csv.Error as exc:
            raise ConfigError(f"orders file {path} is not a readable CSV: {exc}") from None
        while len(rows) > 1 and not any(c.strip() for c in rows[-1]):
            rows.pop()  # blank lines at the end; a blank row between others is kept: the rows keep their numbers
        above = "".join(lines[:i])
        return cls(rows[0], rows[1:], delimiter, above if not above or above.endswith("\n") else above + "\n")

    def add_column(self, key: str) -> str:
        self.header.append(BY_KEY[key].header)
        self.columns[key] = len(self.header) - 1
        return f"column {len(self.header)}"

    def rows(self) -> list[list[Any]]:
        return self.data

    def set_cell(self, row: int, key: str, value: Any) -> None:
        cells = self.data[row]
        index = self.columns[key]
        cells.extend([""] * (index + 1 - len(cells)))
        cells[index] = _csv_value(value)

    def append(self, values: dict[str, Any]) -> int:
        cells = [""] * len(self.header)
        for key, index in self.columns.items():
            cells[index] = _csv_value(values.get(key))
        self.data.append(cells)
        return len(self.data) - 1

    def save(self, path: Path) -> None:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            fh.write(self.above)
            w = csv.writer(fh, delimiter=self.delimiter)
            w.writerow([csv_cell(h) for h in self.header])
            w.writerows([csv_cell(c) for c in row] for row in self.data)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def not_ours(path: Path, found: dict[str, int] | None = None) -> UserError:
    """The refusal of a file without the key columns: when it has some of ours (the merchant deleted or renamed
    a key column of our file), the missing ones are named; else it is someone else's file."""
    headers = ", ".join(BY_KEY[k].header for k in KEY_COLUMNS)
    missing = [BY_KEY[k].header for k in KEY_COLUMNS if k not in (found or {})]
    if found and len(found) >= _OURS_FROM:
        names = " and ".join(f"'{h}'" for h in missing)
        return ConfigError(f"orders workbook {path} has no {names} column{'s' if len(missing) > 1 else ''} (deleted "
                           f"or renamed?): {headers} identify each row, so the file is left as it is; put the column "
                           "back with that header")
    return ConfigError(f"orders workbook {path} exists but is not an orders file written by connector (no "
                       f"{headers} columns): it is left as it is; give another file name")


# -- the destination ---------------------------------------------------------------------------------------------
class WorkbookDestination(DestinationBase):
    """``OrderDestination`` writing the orders workbook (see the module's docstring)."""

    name = NAME
    reserves_imported = False  # a row in a workbook reserves nothing: every open order is held back

    def __init__(self, path: Path) -> None:
        self.path = path
        self.csv = path.suffix.lower() == ".csv"
        self.notes: list[str] = []  # for the run's report (``take_notes``)
        self._present: tuple[tuple[int, int, int], set[RowKey]] | None = None  # (file version, row keys)
        self._rows_gone: list[str] = []  # orders ``holds`` found without their rows: handed again
        self._parsed: tuple[tuple[int, int, int], Sheet] | None = None  # (file version, the sheet last parsed)

    @classmethod
    def open(cls, path: Path, inputs: Sequence[Path] = ()) -> WorkbookDestination:
        """Checked before anything is read or sent: a .xlsx or .csv name, not one of ``inputs`` (the catalogue,
        the state, the profile), in a folder that exists, and, when it exists, a file of ours."""
        output_format(path, "orders workbook", list(inputs))
        dest = cls(path)
        if path.exists():
            version = cls._version(path)
            sheet = dest._load()
            dest._parsed = None if version is None else (version, sheet)  # for ``holds`` and the merge
        return dest

    @property
    def label(self) -> str:
        return str(self.path)

    def holds(self, body: dict[str, Any], order: Order | None = None) -> bool:
        """Whether the import record ``body`` is of this file, the file is still there and (given ``order``)
        it still has a row for each of the order's lines: orders an earlier run wrote to another file (``--to``),
        or to this one before the merchant deleted or moved it, emptied it or deleted their rows, are written
        again rather than called unchanged (the report's notes name those whose rows were gone)."""
        written = body.get("workbook")
        if not (isinstance(written, str) and self.path.exists()
                and os.path.realpath(written) == os.path.realpath(self.path)):
            return False
        if order is None or not order.is_open:  # a closed order's rows may go (the merchant clears shipped ones)
            return True
        present = self._present_keys()
        if all((order.marketplace, order.remote_id, line.line_id) in present for line in order.lines):
            return True
        self._rows_gone.append(order.reference)
        return False

    def _present_keys(self) -> set[RowKey]:
        """The (marketplace, order id, line id) of every row in the file as it is now (read once per version of
        the file: a write of this run, or the merchant's, reads it again)."""
        version = self._version(self.path)
        if self._present is None or self._present[0] != version:
            parsed = self._parsed if self._parsed is not None and self._parsed[0] == version else None
            sheet = parsed[1] if parsed is not None else self._load()
            cols = sheet.columns
            keys = {tuple(key_text(row[cols[k]]) if cols[k] < len(row) else "" for k in KEY_COLUMNS)
                    for row in sheet.rows()}
            self._present = (version, keys)  # type: ignore[assignment]
            self._parsed = (version, sheet)  # the merge of this run takes it instead of parsing the file again
        return self._present[1]

    @staticmethod
    def _version(path: Path) -> tuple[int, int, int] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _gone_note(self, outcome: str) -> None:
        """The note naming the orders ``holds`` found without their rows; ``outcome`` says what became of them:
        ``they would be written again`` (a dry run), ``written again``, or that they were not (the file could not
        be written: the orders' own reasons say why)."""
        if self._rows_gone:
            names = ", ".join(self._rows_gone[:10]) + (", ..." if len(self._rows_gone) > 10 else "")
            self.notes.append(f"{len(self._rows_gone)} order(s) imported earlier had no row (or not every line's "
                              f"row) in {self.path} any more (rows deleted, or the file emptied or replaced?): "
                              f"{outcome}: {names}")
            self._rows_gone = []

    def _load(self) -> Sheet:
        """The file as it is, or a new sheet when there is none yet or it is empty (nothing in it to keep).  The
        sheet ``open`` (or ``holds``) parsed is taken once, while the file is still at that version (a 50,000-row
        .xlsx takes seconds to parse): one parse per run unless the file changes meanwhile."""
        parsed, self._parsed = self._parsed, None
        if parsed is not None and parsed[0] == self._version(self.path):
            return parsed[1]
        if not self.path.exists() or (self.path.is_file() and self.path.stat().st_size == 0):
            return CsvSheet.new() if self.csv else XlsxSheet.new()
        return CsvSheet.load(self.path) if self.csv else XlsxSheet.load(self.path)

    def _merge(self, orders: Sequence[Order], *, dry_run: bool) -> tuple[Sheet, list[OrderOutcome], bool]:
        """Load and merge; a Marketplace status column the merchant deleted is added back at the end of the header
        row first (the merchant's columns and data stay where they are), else a cancellation would be lost."""
        sheet = self._load()
        restored = None
        if "marketplace_status" not in sheet.columns and orders:
            restored = sheet.add_column("marketplace_status")
            self.notes.append(f"{self.path}: the 'Marketplace status' column was missing (deleted?): "
                              + ("it would be added back" if dry_run else "added back")
                              + f" at the end of the header row ({restored}), so that a cancellation is written; "
                              "your other columns and data are left as they are")
        outcomes, changed = merge(sheet, orders)
        self.notes.extend(getattr(sheet, "notes", []))
        return sheet, outcomes, changed or restored is not None

    def preview(self, orders: Sequence[Order], book: OrderBook) -> list[OrderOutcome]:
        """What ``import_orders`` would do, nothing written (a dry run)."""
        sheet, outcomes, changed = self._merge(orders, dry_run=True)
        self._gone_note("they would be written again")
        blocked = (kept(self.path, sheet) or unwritable(self.path)) if changed else None
        for o in outcomes:
            if blocked and o.result in (OrderResult.IMPORTED, OrderResult.UPDATED):
                o.result, o.reason = OrderResult.FAILED, f"dry run: {blocked}"
            else:
                o.reason = f"dry run: {o.reason}" if o.reason else "dry run"
        return outcomes

    def import_orders(self, orders: Sequence[Order], book: OrderBook, run_id: str) -> list[OrderOutcome]:
        self.not_taken = None
        if not orders:
            return []
        blocked = unwritable(self.path, folder_only=True)  # our own lock file is made there
        if blocked:
            self._gone_note(_NOT_WRITTEN)
            self.not_taken = blocked
            return [OrderOutcome(o, OrderResult.FAILED, blocked) for o in orders]
        with workbook_lock(self.path):
            remove_leftovers(self.path)
            sheet, outcomes, changed = self._merge(orders, dry_run=False)
            message = (kept(self.path, sheet) or unwritable(self.path)) if changed else None
            if changed and message is None:
                try:
                    replace_file(self.path, sheet.save)
                except OSError as exc:
                    message = (f"{self.path} could not be written ({exc.strerror or exc}); is it open in another "
                               "program?")
            self._gone_note(_NOT_WRITTEN if message else "written again")
            if message:
                self.not_taken = message
                for o in outcomes:
                    if o.result in (OrderResult.IMPORTED, OrderResult.UPDATED):
                        o.result, o.reason = OrderResult.FAILED, message
        with book.state.atomic():
            for o in outcomes:
                if o.ok:
                    book.mark_imported(NAME, o.order, o.remote_id or "", {
                        "workbook": os.path.realpath(self.path), "lines": len(o.order.lines),
                        "status": o.order.status.value})
        return outcomes

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes


_NOT_WRITTEN = "NOT written again: the file could not be written this run (each order's reason says why)"


def kept(path: Path, sheet: Sheet) -> str | None:
    """Why the file is not written although it could be: saving it would drop what the merchant put in it."""
    if sheet.lost_on_save is None:
        return None
    return (f"{path} holds {sheet.lost_on_save}, which the connector cannot keep when it saves the file: move them to "
            "another workbook (or give the orders another file name), then run again")


def lock_files(path: Path) -> list[Path]:
    """The lock files a spreadsheet program leaves beside a file it has open: LibreOffice's ``.~lock.<name>#``,
    Excel's ``~$<name>`` (``~$`` over the first two characters of a longer name)."""
    names = [f".~lock.{path.name}#", f"~${path.name}", f"~${path.name[2:]}"]
    return [path.with_name(n) for n in dict.fromkeys(names)]


def unwritable(path: Path, *, folder_only: bool = False) -> str | None:
    """Why the orders file cannot be written now, or None: it is open in a spreadsheet program (whose next save
    would put back its own copy, without the rows written meanwhile), it is read-only, or its folder is.  The
    orders then fail with this reason and are written by a run once it can (nothing is lost: the stock push
    still holds them back)."""
    real = Path(os.path.realpath(path))
    # lock files beside the name the program opened: the file, or a link to it
    held = None if folder_only else next(
        (f for f in [*lock_files(Path(os.path.abspath(path))), *lock_files(real)] if f.exists()), None)
    if held is not None:
        return (f"{path} is open in another program (its lock file {held.name} is beside it): close it, then run "
                f"again (if no program has it open, delete {held})")
    if not folder_only and real.exists() and not os.access(real, os.W_OK):
        return f"{path} is read-only: make it writable (chmod u+w {path}), then run again"
    if not os.access(real.parent, os.W_OK | os.X_OK):
        return (f"the folder {real.parent} cannot be written (the new version of {path.name} is written beside it "
                "and renamed over it): make it writable, then run again")
    return None


def merge(sheet: Sheet, orders: Sequence[Order]) -> tuple[list[OrderOutcome], bool]:
    """Add the rows of new lines, update the Marketplace status of rows already there; one outcome per order and
    whether anything changed."""
    index: dict[RowKey, int] = {}
    cols = sheet.columns
    existing = [list(r) for r in sheet.rows()]
    for i, row in enumerate(existing):
        key = tuple(key_text(row[cols[k]]) if cols[k] < len(row) else "" for k in KEY_COLUMNS)
        index.setdefault(key, i)  # type: ignore[arg-type]
    outcomes: list[OrderOutcome] = []
    changed = False
    for order in orders:
        if not order.lines:
            outcomes.append(OrderOutcome(order, OrderResult.ATTENTION, "the marketplace gave this order no lines"))
            continue
        added, updated, rows = 0, [], []
        for line in order.lines:
            key = (order.marketplace, order.remote_id, line.line_id)
            row = index.get(key)
            if row is None:
                row = index[key] = sheet.append(line_values(order, line))
                added += 1
            elif "marketplace_status" in cols and row < len(existing):
                now = line_status(order, line)
                cells = existing[row]
                before = key_text(cells[cols["marketplace_status"]]) if cols["marketplace_status"] < len(cells) else ""
                if before != now:
                    sheet.set_cell(row, "marketplace_status", now)
                    updated.append(f"{line.sku}: {before or 'empty'} -> {now}")
            rows.append(row + sheet.first_row)
        where = f"row {rows[0]}" if len(rows) == 1 else f"rows {min(rows)}-{max(rows)}"
        if added == len(order.lines):
            outcome = OrderOutcome(order, OrderResult.IMPORTED, f"{added} line(s) added", remote_id=where)
        elif added or updated:
            words = [f"{added} line(s) added"] if added else []
            words += [f"marketplace status {u}" for u in updated]
            outcome = OrderOutcome(order, OrderResult.UPDATED, "; ".join(words), remote_id=where)
        else:
            outcome = OrderOutcome(order, OrderResult.UNCHANGED, remote_id=where)
        changed = changed or bool(added or updated)
        outcomes.append(outcome)
    return outcomes, changed


@contextmanager
def workbook_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``.<file>.lock`` beside the orders file while it is read and written: a second run
    writing the same file gets exit 5 instead of losing the first one's rows."""
    path = Path(os.path.realpath(path))  # two names of one file take one lock
    lock = path.with_name(f".{path.name}.lock")
    fd = take_lock(lock, lambda holder: (
        f"another run is writing the orders workbook {path} (pid {holder}); wait for it to finish"))
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
