"""A copy of the merchant's file with every bad cell in red, a comment giving the reason, and an Errors sheet.

An .xlsx/.xlsm file is re-opened with openpyxl (formatting, formulas and other sheets are kept).  Any other
input (.csv, .xls, .ods, .xlsb) is rewritten as an .xlsx of the data as read.  A row-level issue (no
column) marks the row's SKU cell.  An output named .csv gets the Products rows with a Problems column.
Nothing written is a formula: text starting with ``=`` is a string cell, and a CSV escapes it (inert.py).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from connector.errors import SourceError
from connector.sources.base import Issue

from .columns import PRODUCT_ALIASES, STOCK_ALIASES, header_text, match_headers, normalize
from .inert import csv_cell, string_cell
from .outputs import output_format
from .reader import read_raw

ERRORS_SHEET = "Errors"
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
BAD_FONT = Font(color="9C0006")
WARN_FILL = PatternFill("solid", fgColor="FFEB9C")
ERROR_HEADERS = ("Sheet", "Row", "Column", "Value", "SKU", "Problem", "Severity")


def write_error_copy(source_path: str | Path, issues: list[Issue], out_path: str | Path) -> int:
    """Write ``out_path`` marking the cells of ``issues`` in ``source_path``; return the number of cells marked.
    The suffix of ``out_path`` says the format: .xlsx/.xlsm (cells in red with a comment, and an Errors
    sheet) or .csv (the Products rows as read, plus a ``Problems`` column).  Text that a spreadsheet program
    would evaluate is written inert (inert.py).  Raises ``ConfigError`` for another suffix or when
    ``out_path`` is ``source_path``."""
    src, out = Path(source_path), Path(out_path)
    if output_format(out, "error copy", [src], xlsm=src.suffix.lower() == ".xlsm") == "csv":
        return _write_csv_copy(src, issues, out)
    if src.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            wb = openpyxl.load_workbook(src, keep_vba=src.suffix.lower() == ".xlsm" == out.suffix.lower())
        except Exception as e:
            raise SourceError(f"{src.name}: cannot open the workbook to mark errors ({e})") from None
    else:
        wb = _workbook_from_raw(src)
    where = _mark(wb, issues)
    _errors_sheet(wb, issues, where)
    wb.save(out)
    return len(set(where.values()))


def _workbook_from_raw(src: Path) -> Workbook:
    book = read_raw(src)
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for sheet in (book.products, *(s for _, s in book.stock)):
        ws = wb.create_sheet(sheet.name[:31])
        for row in sheet.rows:
            ws.append([None if v == "" else v for v in row])
            for cell in ws[ws.max_row]:
                string_cell(cell)
        ws.freeze_panes = "A2"
    return wb


PROBLEMS_HEADER = "Problems"


def _write_csv_copy(src: Path, issues: list[Issue], out: Path) -> int:
    """The Products rows as read, each with its problems in a last column; problems of other sheets (stock
    sheets) follow in rows of their own.  Written UTF-8 with a BOM (Excel then reads it as UTF-8)."""
    book = read_raw(src)
    rows = [list(r) for r in book.products.rows]
    width = max(map(len, rows), default=0)
    per_row: dict[int, list[str]] = {}
    others: list[str] = []
    for issue in issues:
        text = f"{issue.column}: {issue.reason}" if issue.column else issue.reason
        if issue.sheet == book.products.name and issue.row is not None and 1 <= issue.row <= len(rows):
            per_row.setdefault(issue.row, []).append(text)
        else:
            where = f"{issue.sheet} row {issue.row}: " if issue.sheet and issue.row is not None else ""
            others.append(where + text)
    header_row = next((r for r in range(1, len(rows) + 1) if _has_sku_header(rows[r - 1])), 1)
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        for r, row in enumerate(rows, start=1):
            last = PROBLEMS_HEADER if r == header_row else "; ".join(dict.fromkeys(per_row.get(r, ())))
            w.writerow([csv_cell(_csv_value(v)) for v in [*row, *[""] * (width - len(row)), last]])
        for text in others:
            w.writerow([*[""] * width, csv_cell(text)])
    return len(per_row) + len(others)


def _has_sku_header(row: list) -> bool:
    return "sku" in match_headers(row, PRODUCT_ALIASES, dynamic=True).fields


def _csv_value(v: Any) -> Any:
    """A cell as read (calamine: 12.0 for 12) as the merchant typed it."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return "" if v is None else v


def _sku_column(ws: Worksheet) -> tuple[int, int] | None:
    """(header row, 1-based column) of the SKU header of a Products or stock sheet."""
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=10, values_only=True), start=1):
        values = list(row)
        for aliases in (PRODUCT_ALIASES, STOCK_ALIASES):
            hm = match_headers(values, aliases, dynamic=aliases is PRODUCT_ALIASES)
            if "sku" in hm.fields:
                return r, hm.fields["sku"].index + 1
    return None


def _column_by_header(ws: Worksheet, header: str) -> int | None:
    target = normalize(header)
    for row in ws.iter_rows(min_row=1, max_row=10):
        for cell in row:
            if cell.value is not None and normalize(header_text(cell.value)) == target:
                return int(cell.column)  # type: ignore[arg-type]
    return None


def _mark(wb: Workbook, issues: list[Issue]) -> dict[int, tuple[str, int, int]]:
    """Fill and comment the cells of ``issues``; return id(issue) -> (sheet, row, 1-based column)."""
    cells: dict[tuple[str, int, int], list[Issue]] = {}
    where: dict[int, tuple[str, int, int]] = {}
    sku_cols: dict[str, int | None] = {}
    for issue in issues:
        if not issue.sheet or issue.row is None or issue.sheet not in wb.sheetnames:
            continue
        ws = wb[issue.sheet]
        if issue.col_index is not None:
            col: int | None = issue.col_index + 1
        elif issue.column:
            col = _column_by_header(ws, issue.column)
        else:
            if issue.sheet not in sku_cols:
                found = _sku_column(ws)
                sku_cols[issue.sheet] = found[1] if found else None
            col = sku_cols[issue.sheet]
        if col is None:
            col = 1
        cells.setdefault((issue.sheet, issue.row, col), []).append(issue)
        where[id(issue)] = (issue.sheet, issue.row, col)
    for (sheet, row, col), found in cells.items():
        cell = wb[sheet].cell(row=row, column=col)
        is_error = any(i.severity == "error" for i in found)
        cell.fill = BAD_FILL if is_error else WARN_FILL
        if is_error:
            cell.font = BAD_FONT
        text = "\n".join(dict.fromkeys(i.reason for i in found))
        comment = Comment(text, "connector")
        comment.width, comment.height = 320, 60 + 20 * text.count("\n")
        cell.comment = comment
    return where


def _errors_sheet(wb: Workbook, issues: list[Issue], where: dict[int, tuple[str, int, int]]) -> None:
    if ERRORS_SHEET in wb.sheetnames:
        wb.remove(wb[ERRORS_SHEET])
    ws = wb.create_sheet(ERRORS_SHEET, 0)
    ws.append(list(ERROR_HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for issue in issues:
        value: Any = issue.value
        if value is not None and not isinstance(value, str | int | float | bool):
            value = str(value)
        ws.append([issue.sheet, issue.row, issue.column, value, issue.sku, issue.reason, issue.severity])
        for cell in ws[ws.max_row]:
            string_cell(cell)
        if id(issue) in where:
            sheet, row, col = where[id(issue)]
            link = ws.cell(row=ws.max_row, column=2)
            link.hyperlink = f"#'{sheet}'!{get_column_letter(col)}{row}"
            link.font = Font(color="0563C1", underline="single")
    for letter, width in zip("ABCDEFG", (22, 8, 22, 24, 20, 70, 10), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    wb.active = 0
