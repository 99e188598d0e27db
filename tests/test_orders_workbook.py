"""The orders workbook: one row per order line, idempotent, the merchant's columns never touched, CSV too,
nothing evaluated as a formula, a file that is not ours never overwritten, kill-safe writes."""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from connector.errors import ConfigError, StateLockedError
from connector.orders.book import OrderBook
from connector.orders.model import OrderStatus
from connector.orders.outcome import OrderResult
from connector.orders.workbook import MERCHANT_COLUMNS, WorkbookDestination, workbook_lock
from connector.sync.state import StateStore
from tests.orders_fixtures import make_order, moved


def rows_of(path: Path) -> list[dict[str, object]]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
    ws = load_workbook(path)["Orders"]
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=False)) for row in values[1:]]


def set_cells(path: Path, order_id: str, **cells: str) -> None:
    """Type into the rows of ``order_id`` as a merchant would (headers by name)."""
    if path.suffix == ".csv":
        rows = rows_of(path)
        for row in rows:
            if row["Order ID"] == order_id:
                row.update(cells)
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        return
    wb = load_workbook(path)
    ws = wb["Orders"]
    heads = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, heads.index("Order ID") + 1).value == order_id:
            for header, value in cells.items():
                ws.cell(r, heads.index(header) + 1).value = value
    wb.save(path)


@pytest.fixture
def book(tmp_path: Path):
    with StateStore.open(tmp_path / "state.sqlite") as state:
        yield OrderBook(state, "elebne", "shop")


@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_rows_are_added_once_and_the_merchants_columns_survive(tmp_path: Path, book: OrderBook, name: str) -> None:
    path = tmp_path / name
    dest = WorkbookDestination.open(path)
    first = [make_order("A1", ("TEE-M-BL", 2), ("SOAP-01", 1)), make_order("A2")]
    got = dest.import_orders(first, book, "run1")
    assert [o.result for o in got] == [OrderResult.IMPORTED, OrderResult.IMPORTED]
    rows = rows_of(path)
    assert [(r["Order ID"], r["Line ID"], r["SKU"], str(r["Quantity"])) for r in rows] == [
        ("A1", "A1-1", "TEE-M-BL", "2"), ("A1", "A1-2", "SOAP-01", "1"), ("A2", "A2-1", "TEE-M-BL", "1")]
    assert rows[1]["Customer"] == "Ada Lovelace" and rows[1]["Marketplace"] == "elebne"  # order columns repeated
    assert all(not r[h] for r in rows for h in MERCHANT_COLUMNS)
    assert set(book.imported("workbook")) == {"A1", "A2"}

    set_cells(path, "A1", **{"Tracking number": "0012345", "Courier": "DHL", "Status": "packed"})
    again = dest.import_orders([first[0], moved(first[1], OrderStatus.CANCELLED)], book, "run2")
    assert [o.result for o in again] == [OrderResult.UNCHANGED, OrderResult.UPDATED]
    assert "new -> cancelled" in (again[1].reason or "")
    rows = rows_of(path)
    assert len(rows) == 3  # never a duplicate
    assert [(r["Tracking number"], r["Courier"], r["Status"]) for r in rows[:2]] == [("0012345", "DHL", "packed")] * 2
    assert [r["Marketplace status"] for r in rows] == ["new", "new", "cancelled"]


def test_an_added_line_is_appended_and_the_order_is_updated(tmp_path: Path, book: OrderBook) -> None:
    dest = WorkbookDestination.open(tmp_path / "orders.xlsx")
    dest.import_orders([make_order("A1")], book, "run1")
    got = dest.import_orders([make_order("A1", ("TEE-M-BL", 1), ("CAP", 3))], book, "run2")
    assert got[0].result is OrderResult.UPDATED and "1 line(s) added" in (got[0].reason or "")
    assert [r["SKU"] for r in rows_of(tmp_path / "orders.xlsx")] == ["TEE-M-BL", "CAP"]


@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_text_that_a_spreadsheet_would_evaluate_stays_text(tmp_path: Path, book: OrderBook, name: str) -> None:
    path = tmp_path / name
    evil = '=HYPERLINK("http://evil.example","click")'
    WorkbookDestination.open(path).import_orders([make_order("A1", name=evil)], book, "run1")
    if path.suffix == ".csv":
        raw = path.read_text(encoding="utf-8-sig")
        assert f"'{evil}" in raw.replace('""', '"')
        # read back through our own reader: the apostrophe is ours, the order is found again
        again = WorkbookDestination.open(path).import_orders([make_order("A1", name=evil)], book, "run2")
        assert again[0].result is OrderResult.UNCHANGED
    else:
        ws = load_workbook(path)["Orders"]
        heads = [c.value for c in ws[1]]
        cell = ws.cell(2, heads.index("Customer") + 1)
        assert cell.value == evil and cell.data_type == "s"


def test_a_file_that_is_not_ours_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    wb = Workbook()
    wb.active.append(["Name", "Phone"])
    wb.active.append(["my customer list", "123"])
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="not an orders file written by connector"):
        WorkbookDestination.open(path)
    assert path.read_bytes() == before
    csv_path = tmp_path / "orders.csv"
    csv_path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an orders file"):
        WorkbookDestination.open(csv_path)
    with pytest.raises(ConfigError, match=r"\.xlsx or \.csv"):
        WorkbookDestination.open(tmp_path / "orders.txt")
    with pytest.raises(ConfigError, match="is the input file"):
        WorkbookDestination.open(csv_path, inputs=[csv_path])


def test_a_merchant_sheet_with_moved_columns_and_own_columns_is_kept(tmp_path: Path, book: OrderBook) -> None:
    path = tmp_path / "orders.xlsx"
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1")], book, "run1")
    wb = load_workbook(path)
    ws = wb["Orders"]
    ws.insert_cols(1)
    ws.cell(1, 1).value = "My notes"
    ws.cell(2, 1).value = "call first"
    wb.create_sheet("Summary").append(["kept"])
    wb.save(path)
    dest.import_orders([moved(make_order("A1"), OrderStatus.SHIPPED), make_order("A2")], book, "run2")
    wb = load_workbook(path)
    assert wb["Summary"]["A1"].value == "kept"
    rows = rows_of(path)
    assert [(r["My notes"], r["Order ID"], r["Marketplace status"]) for r in rows] == [
        ("call first", "A1", "shipped"), (None, "A2", "new")]


def test_csv_saved_by_excel_with_semicolons_keeps_its_separator(tmp_path: Path, book: OrderBook) -> None:
    path = tmp_path / "orders.csv"
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1")], book, "run1")
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text.replace(",", ";"), encoding="cp1252")  # what a French Excel writes
    dest.import_orders([make_order("A2")], book, "run2")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 3 and all(";" in ln for ln in lines)


def test_a_write_killed_halfway_leaves_the_old_file(tmp_path: Path, book: OrderBook,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "orders.xlsx"
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1")], book, "run1")
    before = path.read_bytes()

    def half_then_fail(self, target: Path) -> None:
        target.write_bytes(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("connector.orders.workbook.XlsxSheet.save", half_then_fail)
    got = dest.import_orders([make_order("A2")], book, "run2")
    assert got[0].result is OrderResult.FAILED and "No space left on device" in (got[0].reason or "")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".orders.xlsx.") and
                  not p.name.endswith(".lock")) == []  # no temporary file left behind
    assert "A2" not in book.imported("workbook")


def test_a_second_writer_is_refused_with_exit_5(tmp_path: Path, book: OrderBook) -> None:
    path = tmp_path / "orders.xlsx"
    dest = WorkbookDestination.open(path)
    with workbook_lock(path), pytest.raises(StateLockedError, match="another run is writing the orders workbook"):
        dest.import_orders([make_order("A1")], book, "run1")
    assert not path.exists()


def test_preview_writes_nothing(tmp_path: Path, book: OrderBook) -> None:
    path = tmp_path / "orders.xlsx"
    dest = WorkbookDestination.open(path)
    got = dest.preview([make_order("A1")], book)
    assert got[0].result is OrderResult.IMPORTED and got[0].reason.startswith("dry run")
    assert not path.exists() and book.imported("workbook") == {}


def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path: Path, book: OrderBook) -> None:
    real = tmp_path / "shared" / "orders.xlsx"
    real.parent.mkdir()
    link = tmp_path / "orders.xlsx"
    link.symlink_to(real)
    WorkbookDestination.open(link).import_orders([make_order("A1")], book, "run1")
    assert link.is_symlink() and [r["Order ID"] for r in rows_of(real)] == ["A1"]


@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_a_key_column_the_merchant_deleted_or_renamed_is_named(tmp_path: Path, book: OrderBook, name: str) -> None:
    """Our file with its Line ID column deleted (or renamed) is refused, saying which column is missing, not
    that the file is not ours."""
    path = tmp_path / name
    WorkbookDestination.open(path).import_orders([make_order("A1")], book, "run-1")
    if name.endswith(".xlsx"):
        wb = load_workbook(path)
        ws = wb["Orders"]
        ws.delete_cols([c.value for c in ws[1]].index("Line ID") + 1)
        wb.save(path)
    else:
        rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
        rows[0][rows[0].index("Line ID")] = "Line number"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(rows)
    before = path.read_bytes()
    with pytest.raises(ConfigError) as refused:
        WorkbookDestination.open(path)
    message = str(refused.value)
    assert "has no 'Line ID' column" in message and "not an orders file" not in message
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_an_empty_file_is_started_as_a_new_orders_file(tmp_path: Path, book: OrderBook, name: str) -> None:
    """A merchant who created the file empty (``touch orders.csv``, a new file in a file manager) gets the
    orders in it: an empty file holds nothing to lose, so it is not refused as someone else's."""
    path = tmp_path / name
    path.touch()
    outcomes = WorkbookDestination.open(path).import_orders([make_order("A1")], book, "run-1")
    assert [o.result for o in outcomes] == [OrderResult.IMPORTED]
    assert [r["Order ID"] for r in rows_of(path)] == ["A1"]


def _utf16_damaged(text: str, how: str) -> bytes:
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return {"cut-mid-character": data[:-1], "lone-surrogate": data + b"\x00\xd8A\x00",
            "reversed-surrogates": data + b"\x00\xdc\x00\xd8"}[how]


@pytest.mark.parametrize("how", ["cut-mid-character", "lone-surrogate", "reversed-surrogates"])
def test_a_damaged_utf16_orders_csv_is_refused_in_words_and_left_as_it_is(tmp_path: Path, book: OrderBook,
                                                                          how: str) -> None:
    """A UTF-16 orders CSV (as Excel's "Unicode text" saves it) cut short or holding half a surrogate pair: the
    decoder's UnicodeDecodeError came out of the orders and fulfilment commands as a traceback."""
    from connector.fulfilment.workbook import load_sheet

    path = tmp_path / "orders.csv"
    WorkbookDestination.open(path).import_orders([make_order("A1")], book, "run1")
    path.write_bytes(_utf16_damaged(path.read_text(encoding="utf-8-sig").replace(",", "\t"), how))
    before = path.read_bytes()
    for read in (WorkbookDestination.open, load_sheet):
        with pytest.raises(ConfigError) as e:
            read(path)
        assert re.match(rf"orders file {re.escape(str(path))}: line [23] is not valid UTF-16", str(e.value)), e.value
        assert "save it again" in str(e.value)
    assert path.read_bytes() == before


def test_an_orders_csv_mixing_utf8_and_another_encoding_is_refused_not_garbled(tmp_path: Path,
                                                                               book: OrderBook) -> None:
    """One line pasted in Windows-1252 into a UTF-8 orders CSV: with a BOM the strict decoder raised a traceback;
    without one the whole file was taken for Windows-1252, and the connector wrote its UTF-8 names back garbled."""
    path = tmp_path / "orders.csv"
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1"), make_order("A2")], book, "run1")
    set_cells(path, "A1", Courier="Müller Logistik")
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    for bom in (b"\xef\xbb\xbf", b""):
        pasted = lines[2].replace("new", "nouvé").encode("cp1252")
        path.write_bytes(bom + lines[0].encode() + lines[1].encode() + pasted)
        before = path.read_bytes()
        with pytest.raises(ConfigError, match="line 3 is not in UTF-8 like the rest of the file"):
            WorkbookDestination.open(path).import_orders([make_order("A3")], book, "run2")
        assert path.read_bytes() == before


@pytest.mark.parametrize("ending", ["\x1a\r\n", "\x1a"], ids=["own-line", "no-line-break"])
def test_an_orders_csv_ending_with_a_dos_end_of_file_mark_reads_without_it(tmp_path: Path, book: OrderBook,
                                                                           ending: str) -> None:
    path = tmp_path / "orders.csv"
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1")], book, "run1")
    path.write_bytes(path.read_text(encoding="utf-8-sig").encode("cp1252") + ending.encode())
    dest.import_orders([make_order("A2")], book, "run2")
    assert [r["Order ID"] for r in rows_of(path)] == ["A1", "A2"]
    assert b"\x1a" not in path.read_bytes()
