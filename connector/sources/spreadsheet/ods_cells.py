"""Formula error cells and merged cells of an OpenDocument spreadsheet (.ods), which calamine does not report.

calamine reads a cell whose formula gave an error (``#DIV/0!``, ``#N/A``, ``#VALUE!``, LibreOffice's ``Err:502``...)
as an empty cell, and gives no merged ranges for an .ods: a price column's error read as a missing value, an
optional column's as an empty cell (sent as empty: a description cleared on the marketplace), and the cells a
merged range covers as empty.  The .xlsx path reports both (reader.py ``locate_problem_cells``, guard.py's merged
ranges); this module finds the same in ``content.xml`` so that an .ods is read the same way:

- a formula cell LibreOffice marks as an error (``calcext:value-type="error"``), or, from a writer that does not
  mark the result's type, whose text shows an error: ``(shown text, "error value in the cell (...)")``;
- a formula cell without a value (no ``office:value-type``, nothing shown): ``("=formula", FORMULA_NO_VALUE)``;
- a cell spanning columns or rows (``table:number-columns-spanned`` / ``number-rows-spanned``): its range.

Cells are placed as calamine places them: rows and cells repeated by ``number-rows-repeated`` /
``number-columns-repeated``, covered cells taking their column.  The file is parsed only when its text holds a
formula or a spanned cell at all; its size and repeats were bounded before (guard.py ``check_ods``).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from .guard import overlapping_chunks

_MARKERS = (b"formula", b"-spanned")  # (whatever the prefix; text that merely holds the word costs a parse)
_ERROR_TEXT = re.compile(r"#(?:DIV/0!|N/A|VALUE!|REF!|NAME\?|NUM!|NULL!|SPILL!|CALC!)|Err:[0-9]{3}")
_MAX_REPEATS = 10_000  # of one error or merged cell: beyond, the first ones are reported (they say enough)
_CHUNK = 1 << 20


@dataclass(slots=True)
class OdsSheetCells:
    problems: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)  # (row0, col0) -> (value, reason)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based (row, col, last row, last col)


# elements and attributes by their qualified names, as calamine reads them (an undeclared prefix is no error to it)
_T_TABLE, _T_ROW, _T_CELL, _T_COVERED = "table:table", "table:table-row", "table:table-cell", "table:covered-table-cell"
_A_NAME, _A_ROWS, _A_COLS = "table:name", "table:number-rows-repeated", "table:number-columns-repeated"
_A_FORMULA, _A_SPAN_C, _A_SPAN_R = "table:formula", "table:number-columns-spanned", "table:number-rows-spanned"
_A_TYPE, _A_CALC_TYPE = "office:value-type", "calcext:value-type"
_T_P, _T_ANNOTATION = "text:p", "office:annotation"


def _count(attrs: dict[str, str], key: str) -> int:
    value = attrs.get(key, "1").strip()
    return int(value) if value.isdigit() and int(value) > 0 else 1


def ods_cells(p: Path, zf: zipfile.ZipFile, formula_no_value: str,
              error_value: str) -> dict[str, OdsSheetCells]:
    """Per sheet (table) name, its error / uncalculated formula cells and merged ranges (see the module doc);
    sheets with none are left out.  ``formula_no_value`` and ``error_value`` (a ``{}`` for the error) are the
    reasons the .xlsx path gives."""
    if "content.xml" not in zf.NameToInfo:
        return {}
    info = zf.getinfo("content.xml")
    if not _has_markers(zf, info):
        return {}
    out: dict[str, OdsSheetCells] = {}
    state = _Walk(out, formula_no_value, error_value)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = state.start
    parser.EndElementHandler = state.end
    parser.CharacterDataHandler = state.text
    try:
        with zf.open(info) as fh:
            while True:
                block = fh.read(_CHUNK)
                parser.Parse(block, not block)
                if not block:
                    break
    except expat.ExpatError:
        return out  # not XML: calamine says so
    return {n: c for n, c in out.items() if c.problems or c.merged}


def _has_markers(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    return any(m in chunk for chunk, _first in overlapping_chunks(zf, info, 32) for m in _MARKERS)

class _Walk:
    """The expat handlers: where each cell is, and what the error / formula cells show."""

    def __init__(self, out: dict[str, OdsSheetCells], formula_no_value: str, error_value: str) -> None:
        self.out, self.formula_no_value, self.error_value = out, formula_no_value, error_value
        self.sheet: OdsSheetCells | None = None
        self.depth = 0  # table elements open (a table inside a cell is not a sheet of its own)
        self.row = 0  # rows before the current one
        self.row_repeat = 1
        self.col = 0  # columns before the current cell
        self.cell: dict[str, str] | None = None  # a formula cell's attributes, while its text is collected
        self.cell_repeat = 1
        self.shown: list[str] = []
        self.in_p = 0
        self.in_note = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _T_TABLE:
            self.depth += 1
            if self.depth == 1:
                self.sheet = self.out.setdefault(attrs.get(_A_NAME, ""), OdsSheetCells())
                self.row = self.col = 0
            return
        if self.depth != 1 or self.sheet is None:
            return
        if tag == _T_ROW:
            self.row_repeat = _count(attrs, _A_ROWS)
            self.col = 0
        elif tag in (_T_CELL, _T_COVERED):
            self.cell_repeat = _count(attrs, _A_COLS)
            if tag == _T_CELL:
                self._spanned(attrs)
                if _A_FORMULA in attrs:
                    self.cell, self.shown = attrs, []
        elif self.cell is not None:
            if tag == _T_ANNOTATION:
                self.in_note += 1
            elif tag == _T_P and not self.in_note:
                if self.in_p == 0 and self.shown:
                    self.shown.append("\n")
                self.in_p += 1

    def end(self, tag: str) -> None:
        if tag == _T_TABLE:
            self.depth -= 1
            if self.depth == 0:
                self.sheet = None
            return
        if self.depth != 1 or self.sheet is None:
            return
        if tag == _T_ROW:
            self.row += self.row_repeat
            self.row_repeat = 1
        elif tag in (_T_CELL, _T_COVERED):
            if tag == _T_CELL and self.cell is not None:
                self._formula_cell(self.cell, "".join(self.shown))
                self.cell = None
            self.col += self.cell_repeat
            self.cell_repeat = 1
        elif self.cell is not None:
            if tag == _T_ANNOTATION:
                self.in_note -= 1
            elif tag == _T_P and not self.in_note:
                self.in_p -= 1

    def text(self, data: str) -> None:
        if self.cell is not None and self.in_p and not self.in_note:
            self.shown.append(data)

    def _cells(self) -> list[tuple[int, int]]:
        """The (row, column) positions of the current cell, its repeats included (the first ``_MAX_REPEATS``)."""
        out: list[tuple[int, int]] = []
        for r in range(self.row, self.row + self.row_repeat):
            for c in range(self.col, self.col + self.cell_repeat):
                out.append((r, c))
                if len(out) >= _MAX_REPEATS:
                    return out
        return out

    def _spanned(self, attrs: dict[str, str]) -> None:
        cols, rows = _count(attrs, _A_SPAN_C), _count(attrs, _A_SPAN_R)
        if cols == 1 and rows == 1:
            return
        assert self.sheet is not None
        self.sheet.merged.extend((r, c, r + rows - 1, c + cols - 1) for r, c in self._cells())

    def _formula_cell(self, attrs: dict[str, str], shown: str) -> None:
        assert self.sheet is not None
        kind = attrs.get(_A_TYPE)
        error = _ERROR_TEXT.fullmatch(shown.strip())
        calc = attrs.get(_A_CALC_TYPE)  # LibreOffice's own type of the result: trusted when written
        if calc == "error" or (calc is None and error is not None and kind in (None, "string")):
            text = shown.strip() or "error"
            found = (shown.strip(), self.error_value.format(text))
        elif kind is None and not shown:
            formula = attrs[_A_FORMULA]
            formula = formula.split(":", 1)[1] if re.match(r"[a-z]+:=", formula) else formula
            found = (formula if formula.startswith("=") else "=" + formula, self.formula_no_value)
        else:
            return
        for cell in self._cells():
            self.sheet.problems[cell] = found
