"""What every source returns: canonical products plus the problems found while reading."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.errors import EXIT_FAILED, EXIT_OK
from connector.model import Product, SourceRef


@dataclass(slots=True)
class Issue:
    """A problem with one input cell/row/record.

    Spreadsheet issues carry sheet, row, column header and the raw value; other sources fill ``sheet`` with
    their origin (e.g. ``product.product``) and leave ``column`` empty.
    """

    reason: str
    sheet: str | None = None
    row: int | None = None  # 1-based, as the user sees it in the spreadsheet
    column: str | None = None  # the header text as written in the file
    value: Any = None  # raw value as read
    sku: str | None = None
    severity: str = "error"  # error: the row is skipped; warning: the row goes on
    col_index: int | None = None  # 0-based column index, for highlighting cells

    @property
    def shown_value(self) -> str:
        """The raw value as the user typed it: a spreadsheet number 2.0 is shown as 2."""
        v = self.value
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        val = f" (value: {self.shown_value!r})" if self.shown_value else ""
        return f"{self.where()}: {self.reason}{val}" if self.where() else f"{self.reason}{val}"

    def to_json(self) -> dict[str, Any]:
        """The issue as ``connector validate --json`` prints it and a run report lists it."""
        return {"sheet": self.sheet, "row": self.row, "column": self.column,
                "value": self.shown_value if self.value is not None else None, "reason": self.reason,
                "sku": self.sku, "severity": self.severity}


@dataclass(slots=True)
class RowRef:
    """One input row and what became of it at the source level."""

    sku: str | None
    ref: SourceRef
    skipped_reason: str | None = None


@dataclass
class SourceResult:
    """Products that passed validation, every issue found, and every input row (for the report)."""

    products: list[Product] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows: list[RowRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Which canonical fields the source provided at all (absent column => "don't touch").
    provided_fields: set[str] = field(default_factory=set)
    # Incremental cursors to save once every target confirmed the push: {(source, name): value}.
    # Saving them earlier would lose the changes of a run that failed (design §10, Singer).
    cursors: dict[tuple[str, str], str] = field(default_factory=dict)
    # True when the read returned the whole catalogue (a workbook, a --full or first Odoo read, the supplier
    # feed with its snapshot): a product the marketplace holds that is not here left the source.
    full_read: bool = False
    # SKUs mentioned only on rows that name a product the source does not have (a stock sheet row whose SKU is
    # not in the Products sheet): such a row does not keep the SKU's listing on sale (sync/missing.py).
    orphan_skus: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def cursors_may_advance(self, report: Any) -> bool:
        """Whether one target's run report lets the incremental cursors advance: every *valid* row was
        confirmed.

        Rows this source skipped for data problems (no SKU, duplicate, bad barcode...) do not hold the cursor
        back: holding it would make every later run read everything again and never see archivals.  The
        source remembers those rows next to its cursors (Odoo: the catalogue index; Aleta: the snapshot) and
        reports them again on every run until they are fixed.  Anything else that is not ``ok`` (a failed or
        deferred push, an unreachable marketplace) keeps the cursor where it was, so the next run reads the same
        changes again.
        """
        code = getattr(report, "exit_code", None)
        if code == EXIT_OK:
            return True
        if code != EXIT_FAILED or getattr(report, "unreachable", None) or getattr(report, "deferred", 0):
            return False
        ours = {(r.sku, r.skipped_reason) for r in self.rows if r.skipped_reason}
        for row in getattr(report, "rows", []):
            if row.status == "failed":
                return False
            if row.attention and (row.sku, row.reason) not in ours:
                return False
        return True

