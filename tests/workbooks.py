"""Build merchant workbooks for tests, the way a merchant fills the template (English headers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

HEADERS = ["Parent SKU", "SKU", "Name", "Description", "Brand", "Category", "Price", "Barcode",
           "Attribute: Size", "Attribute: Color"]

CATALOGUE: list[dict[str, Any]] = [
    {"SKU": "SOAP-01", "Name": "Savon d'Alep", "Description": "Olive & laurel", "Brand": "Alep",
     "Category": "Beauty > Soap", "Price": 12.5, "Barcode": "4006381333931"},
    {"Parent SKU": "TEE", "SKU": "TEE-M-BL", "Name": "T-shirt", "Brand": "Sahel", "Category": "Clothes > Tops",
     "Price": 25, "Attribute: Size": "M", "Attribute: Color": "Blue"},
    {"Parent SKU": "TEE", "SKU": "TEE-L-BL", "Name": "T-shirt", "Price": 26, "Attribute: Size": "L",
     "Attribute: Color": "Blue"},
    {"Parent SKU": "TEE", "SKU": "TEE-L-RD", "Name": "T-shirt", "Price": 26, "Attribute: Size": "L",
     "Attribute: Color": "Red"},
    {"SKU": "TEA-500", "Name": "Thé vert 500 g", "Category": "Food > Tea", "Price": 8.9},
]

STOCK = {
    "Warehouse": {"SOAP-01": 10, "TEE-M-BL": 4, "TEE-L-BL": 0, "TEE-L-RD": 7, "TEA-500": 30},
    "Shop": {"SOAP-01": 2, "TEE-M-BL": 1, "TEE-L-RD": 1},
}


def write_workbook(path: Path, rows: list[dict[str, Any]] | None = None,
                   stock: dict[str, dict[str, Any]] | None = None, headers: list[str] | None = None) -> Path:
    rows = CATALOGUE if rows is None else rows
    stock = STOCK if stock is None else stock
    headers = headers or HEADERS
    wb = Workbook()
    ws = wb.active
    ws.title = "Products"
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    for location, quantities in stock.items():
        sheet = wb.create_sheet(f"Stock - {location}")
        sheet.append(["SKU", "Quantity"])
        for sku, qty in quantities.items():
            sheet.append([sku, qty])
    wb.save(path)
    return path


def set_cell(path: Path, sheet: str, sku: str, header: str, value: Any) -> None:
    """Change one cell of the row whose SKU is ``sku`` (as a merchant would in Excel)."""
    wb = load_workbook(path)
    ws = wb[sheet]
    heads = [c.value for c in ws[1]]
    sku_col, col = heads.index("SKU") + 1, heads.index(header) + 1
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, sku_col).value == sku:
            ws.cell(r, col).value = value
            wb.save(path)
            return
    raise KeyError(sku)


def rows_workbook(path: Path, rows: list[list[Any]], stock: list[list[Any]] | None = None) -> Path:
    """A workbook whose Products sheet is ``rows`` as given (header first, cells of any type a program may store:
    numbers, dates...) and, with ``stock``, a ``Stock - Main`` sheet of those rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Products"
    for row in rows:
        ws.append(row)
    if stock is not None:
        sheet = wb.create_sheet("Stock - Main")
        for row in stock:
            sheet.append(row)
    wb.save(path)
    return path
