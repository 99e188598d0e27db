"""The orders workbook as a merchant actually handles it: a deleted Marketplace status column, a title above the
header row, a file open in LibreOffice or Excel, saved by LibreOffice, a CSV with a BOM and semicolons, a
read-only file or folder, an ``odoo:`` table that a workbook profile does not use.  Each ends with a clear
message and the right exit code, never a traceback, and nothing the merchant typed is lost."""

from __future__ import annotations

import csv
import importlib.util
import os
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from connector.errors import EXIT_FAILED, EXIT_OK, ConfigError
from connector.orders.book import OrderBook
from connector.orders.model import OrderStatus
from connector.orders.outcome import OrderResult
from connector.orders.workbook import WorkbookDestination
from connector.sync.state import StateStore
from tests.orders_fixtures import ListReader, make_order, moved
from tests.test_orders_flow import orders, reader, write_profile  # noqa: F401

NOT_AS_ROOT = pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files and folders")


@pytest.fixture
def book(tmp_path: Path) -> Iterator[OrderBook]:
    with StateStore.open(tmp_path / "state.sqlite") as state:
        yield OrderBook(state, "elebne", "shop")


def grid(path: Path) -> list[list[Any]]:
    """Every row of the file as the merchant sees it (the xlsx Orders sheet, or the CSV's cells)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
        header = next(ln for ln in text.splitlines() if "Order ID" in ln)
        return list(csv.reader(text.splitlines(), delimiter=";" if header.count(";") > header.count(",") else ","))
    return [list(r) for r in load_workbook(path)["Orders"].iter_rows(values_only=True)]


def records(path: Path, header_at: int = 0) -> list[dict[str, Any]]:
    rows = grid(path)
    return [dict(zip(rows[header_at], r, strict=False)) for r in rows[header_at + 1:] if any(r)]


def rewrite(path: Path, change: Any) -> None:
    """Edit the file as a spreadsheet program would: ``change(rows)`` on the cells, then saved."""
    if path.suffix == ".csv":
        rows = grid(path)
        change(rows)
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(rows)
        return
    wb = load_workbook(path)
    change(wb["Orders"])
    wb.save(path)


# -- 2a: the Marketplace status column deleted --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_a_deleted_marketplace_status_column_is_added_back_and_the_cancellation_written(
        tmp_path: Path, book: OrderBook, name: str) -> None:
    path = tmp_path / name
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1"), make_order("A2")], book, "run1")

    def delete_status(sheet: Any) -> None:
        if isinstance(sheet, list):
            at = sheet[0].index("Marketplace status")
            for row in sheet:
                del row[at]
            sheet[0].append("My notes")
            sheet[1].append("VIP")
            sheet[1][sheet[0].index("Tracking number")] = "AWB-1"
        else:
            heads = [c.value for c in sheet[1]]
            sheet.delete_cols(heads.index("Marketplace status") + 1)
            sheet.cell(1, len(heads)).value = "My notes"
            sheet.cell(2, len(heads)).value = "VIP"
            sheet.cell(2, heads.index("Tracking number")).value = "AWB-1"

    rewrite(path, delete_status)
    dest = WorkbookDestination.open(path)
    got = dest.import_orders([moved(make_order("A1"), OrderStatus.CANCELLED)], book, "run2")
    assert got[0].result is OrderResult.UPDATED and "empty -> cancelled" in (got[0].reason or "")
    header = grid(path)[0]
    assert header[-2:] == ["My notes", "Marketplace status"]  # at the end: the merchant's columns stay put
    rows = records(path)
    assert [(r["Order ID"], r["Tracking number"] or "", r.get("My notes") or "", r.get("Marketplace status") or "")
            for r in rows] == [("A1", "AWB-1", "VIP", "cancelled"), ("A2", "", "", "")]
    notes = dest.take_notes()
    assert len(notes) == 1 and "'Marketplace status' column was missing" in notes[0] and "added back" in notes[0]
    assert dest.take_notes() == []
    again = dest.import_orders([moved(make_order("A1"), OrderStatus.CANCELLED)], book, "run3")
    assert again[0].result is OrderResult.UNCHANGED and dest.take_notes() == []


# -- 2b: a title above the header row ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_a_title_above_the_header_row_is_kept_and_the_rows_found(tmp_path: Path, book: OrderBook, name: str) -> None:
    path = tmp_path / name
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1")], book, "run1")
    if name.endswith(".csv"):
        text = path.read_text(encoding="utf-8-sig")
        path.write_text("Orders of my shop;;;\r\nprinted 2 Dec,,\r\n\r\n" + text, encoding="utf-8-sig")
    else:
        wb = load_workbook(path)
        ws = wb["Orders"]
        ws.insert_rows(1, 3)
        ws["A1"] = "Orders of my shop"
        ws["B2"] = datetime(2026, 12, 2)
        wb.save(path)
    before = path.read_bytes()
    dest = WorkbookDestination.open(path)
    got = dest.import_orders([moved(make_order("A1"), OrderStatus.SHIPPED), make_order("A2")], book, "run2")
    assert [(o.result, o.remote_id) for o in got] == [(OrderResult.UPDATED, "row 5"), (OrderResult.IMPORTED, "row 6")]
    rows = grid(path)
    if name.endswith(".csv"):
        assert path.read_bytes().startswith(before[:before.index(b"Marketplace")])  # the lines above: as they were
    else:
        assert rows[:3] == [["Orders of my shop"] + [None] * (len(rows[3]) - 1),
                            [None, datetime(2026, 12, 2)] + [None] * (len(rows[3]) - 2),
                            [None] * len(rows[3])]
    assert [(r["Order ID"], r["Marketplace status"]) for r in records(path, header_at=3)] == [
        ("A1", "shipped"), ("A2", "new")]


def test_a_header_row_further_down_than_ten_rows_is_not_looked_for(tmp_path: Path, book: OrderBook) -> None:
    path = tmp_path / "orders.csv"
    WorkbookDestination.open(path).import_orders([make_order("A1")], book, "run1")
    path.write_text("note\n" * 10 + path.read_text(encoding="utf-8-sig"), encoding="utf-8")
    with pytest.raises(ConfigError, match="not an orders file written by connector"):
        WorkbookDestination.open(path)


# -- 2c: an odoo: table the workbook destination does not use ------------------------------------------------------
def test_an_odoo_table_in_a_workbook_profile_is_warned_about_not_refused(
        tmp_path: Path, reader: ListReader, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    reader.put(make_order("A1"))
    profile = write_profile(tmp_path, orders="{to: workbook, workbook: orders.xlsx, odoo: {team: Web}}")
    code, report = orders(profile)
    assert code == EXIT_OK and report["orders"]["counts"]["imported"] == 1
    shown = " ".join(capsys.readouterr().out.split())
    assert "warning: profile" in shown and "'orders.odoo' is not used: the orders go to the workbook" in shown
    profile = write_profile(tmp_path, orders="{to: workbook, workbook: orders.xlsx}")
    assert orders(profile)[0] == EXIT_OK
    assert "orders.odoo" not in capsys.readouterr().out


# -- 3: hostile files ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "lock"), [("orders.xlsx", ".~lock.orders.xlsx#"), ("orders.csv", "~$orders.csv"),
                                            ("customer-orders.xlsx", "~$stomer-orders.xlsx")])
def test_a_file_open_in_libreoffice_or_excel_is_not_written(tmp_path: Path, book: OrderBook, name: str,
                                                            lock: str) -> None:
    """The program's next save would put back its copy without our rows: nothing is written, the orders fail
    with the reason and are written by a run once the file is closed."""
    path = tmp_path / name
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1")], book, "run1")
    (tmp_path / lock).write_text("Ada,ada-laptop,1733100000", encoding="utf-8")
    before = path.read_bytes()
    preview = dest.preview([make_order("A2")], book)
    assert preview[0].result is OrderResult.FAILED and "is open in another program" in (preview[0].reason or "")
    got = dest.import_orders([make_order("A2"), make_order("A1")], book, "run2")
    assert got[0].result is OrderResult.FAILED and got[1].result is OrderResult.UNCHANGED
    assert f"its lock file {lock} is beside it): close it, then run again" in (got[0].reason or "")
    assert path.read_bytes() == before and "A2" not in book.imported("workbook")
    assert dest.import_orders([make_order("A1")], book, "run3")[0].result is OrderResult.UNCHANGED  # nothing to write
    (tmp_path / lock).unlink()
    assert dest.import_orders([make_order("A2")], book, "run4")[0].result is OrderResult.IMPORTED
    assert [r["Order ID"] for r in records(path)] == ["A1", "A2"]


def test_connector_orders_with_the_workbook_open_exits_1_and_writes_it_once_closed(
        tmp_path: Path, reader: ListReader, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    reader.put(make_order("A1"))
    profile = write_profile(tmp_path)
    assert orders(profile)[0] == EXIT_OK
    lock = tmp_path / ".~lock.orders.xlsx#"
    lock.write_text("Ada,ada-laptop", encoding="utf-8")
    reader.put(make_order("A2"))
    code, report = orders(profile)
    assert code == EXIT_FAILED
    failed = [o for o in report["orders"]["orders"] if o["result"] == "failed"]
    assert [o["order_id"] for o in failed] == ["A2"] and "is open in another program" in failed[0]["reason"]
    out = " ".join(capsys.readouterr().out.split())
    assert "failed elebne:N-A2" in out and "Traceback" not in out
    lock.unlink()
    assert orders(profile)[0] == EXIT_OK
    assert [r["Order ID"] for r in records(tmp_path / "orders.xlsx")] == ["A1", "A2"]


@NOT_AS_ROOT
@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_a_read_only_file_or_folder_is_not_written_and_says_how_to_fix_it(tmp_path: Path, book: OrderBook,
                                                                          name: str) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / name
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1")], book, "run1")
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        got = dest.import_orders([make_order("A2")], book, "run2")
        assert got[0].result is OrderResult.FAILED and f"{path} is read-only: make it writable" in (got[0].reason or "")
        assert path.read_bytes() == before
        path.chmod(0o644)
        folder.chmod(0o555)
        got = dest.import_orders([make_order("A2")], book, "run3")
        assert got[0].result is OrderResult.FAILED and "cannot be written" in (got[0].reason or "")
        assert path.read_bytes() == before
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert dest.import_orders([make_order("A2")], book, "run4")[0].result is OrderResult.IMPORTED


def test_a_read_only_file_or_folder_is_detected_without_touching_it(tmp_path: Path, book: OrderBook,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check as a user sees it, whoever runs the tests (root may write anything): the file is only
    asked whether it can be written."""
    path = tmp_path / "orders.xlsx"
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1")], book, "run1")
    before = path.read_bytes()
    real_access = os.access
    monkeypatch.setattr("connector.orders.workbook.os.access",
                        lambda p, mode: False if Path(p) == path and mode == os.W_OK else real_access(p, mode))
    got = dest.import_orders([make_order("A2")], book, "run2")
    assert got[0].result is OrderResult.FAILED and "is read-only: make it writable (chmod u+w" in (got[0].reason or "")
    assert path.read_bytes() == before
    monkeypatch.setattr("connector.orders.workbook.os.access",
                        lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode))
    got = dest.import_orders([make_order("A2")], book, "run3")
    assert got[0].result is OrderResult.FAILED and f"the folder {tmp_path} cannot be written" in (got[0].reason or "")
    assert path.read_bytes() == before and "A2" not in book.imported("workbook")


def libreoffice_copy(source: Path, target: Path) -> None:
    """``source`` as LibreOffice Calc saves it (openpyxl writes text inline, Calc does not): every text in the
    shared strings table, dates as serial day numbers with a date style, LibreOffice's own package parts."""
    from xml.sax.saxutils import escape

    from openpyxl.utils import get_column_letter

    strings: list[str] = []
    rows_xml = []
    for r, row in enumerate(load_workbook(source)["Orders"].iter_rows(values_only=True), start=1):
        cells = []
        for c, value in enumerate(row, start=1):
            ref = f"{get_column_letter(c)}{r}"
            if value is None:
                continue
            if isinstance(value, datetime):
                delta = value - datetime(1899, 12, 30)
                cells.append(f'<c r="{ref}" s="1" t="n"><v>{delta.days + delta.seconds / 86400}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{ref}" s="0" t="n"><v>{value}</v></c>')
            else:
                strings.append(str(value))
                cells.append(f'<c r="{ref}" s="0" t="s"><v>{len(strings) - 1}</v></c>')
        rows_xml.append(f'<row r="{r}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName='
            '"/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'extended-properties+xml"/></Types>'),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/extended-properties" Target="docProps/app.xml"/></Relationships>'),
        "docProps/app.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/'
            'officeDocument/2006/extended-properties"><Application>LibreOffice/7.6.4.1$Linux_X86_64 LibreOffice_'
            'project/e19e193f88cd6c0525a17fb7a176ed8e6a3e2aa1</Application></Properties>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet '
            f'name="Orders" sheetId="1" state="visible" r:id="rId2"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{rel}/styles" Target="styles.xml"/><Relationship '
            f'Id="rId2" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId3" Type="{rel}/'
            f'sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
        "xl/styles.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{main}"><numFmts count="1"><numFmt '
            f'numFmtId="164" formatCode="YYYY-MM-DD HH:MM"/></numFmts><fonts count="1"><font><sz val="10"/>'
            f'<name val="Arial"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill>'
            f'</fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
            f'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" '
            f'borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
            f'applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Default" xfId="0" '
            f'builtinId="0"/></cellStyles></styleSheet>'),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{len(strings)}" uniqueCount='
            f'"{len(strings)}">' + "".join(f'<si><t xml:space="preserve">{escape(t)}</t></si>' for t in strings)
            + "</sst>"),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}" xmlns:r="{rel}"><sheetData>'
            + "".join(rows_xml) + "</sheetData></worksheet>"),
    }
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, text in parts.items():
            zout.writestr(name, text)


def test_a_workbook_saved_by_libreoffice_is_read_and_updated(tmp_path: Path, book: OrderBook) -> None:
    path = tmp_path / "orders.xlsx"
    WorkbookDestination.open(path).import_orders([make_order("A1", ("TEE-M-BL", 2)), make_order("1234")], book,
                                                 "run1")
    saved = tmp_path / "saved.xlsx"
    libreoffice_copy(path, saved)
    saved.replace(path)
    with zipfile.ZipFile(path) as zf:
        assert b't="s"' in zf.read("xl/worksheets/sheet1.xml") and b"inlineStr" not in zf.read(
            "xl/worksheets/sheet1.xml")
    created = load_workbook(path)["Orders"]["D2"].value
    dest = WorkbookDestination.open(path)
    got = dest.import_orders([moved(make_order("A1", ("TEE-M-BL", 2)), OrderStatus.CANCELLED), make_order("1234"),
                              make_order("A3")], book, "run2")
    assert [o.result for o in got] == [OrderResult.UPDATED, OrderResult.UNCHANGED, OrderResult.IMPORTED]
    assert [(r["Order ID"], r["Marketplace status"]) for r in records(path)] == [
        ("A1", "cancelled"), ("1234", "new"), ("A3", "new")]
    assert load_workbook(path)["Orders"]["D2"].value == created  # the merchant's cells are left as they are


def test_a_csv_with_a_bom_semicolons_and_excels_sep_line_is_read_and_written_back_alike(
        tmp_path: Path, book: OrderBook) -> None:
    path = tmp_path / "orders.csv"
    WorkbookDestination.open(path).import_orders([make_order("A1")], book, "run1")
    rows = grid(path)
    rows[1][rows[0].index("Tracking number")] = "AWB;7"  # a separator inside a cell: quoted
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write("sep=;\r\n")
        csv.writer(fh, delimiter=";").writerows(rows)
    got = WorkbookDestination.open(path).import_orders([moved(make_order("A1"), OrderStatus.CANCELLED),
                                                        make_order("A2")], book, "run2")
    assert [o.result for o in got] == [OrderResult.UPDATED, OrderResult.IMPORTED]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfsep=;\r\n") and raw.count(b"\xef\xbb\xbf") == 1
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("Marketplace;Order ID;")
    data = [dict(zip(lines and next(csv.reader([lines[1]], delimiter=";")), next(csv.reader([ln], delimiter=";")),
                     strict=False)) for ln in lines[2:]]
    assert [(d["Order ID"], d["Marketplace status"], d["Tracking number"]) for d in data] == [
        ("A1", "cancelled", "AWB;7"), ("A2", "new", "")]


def add_parts(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as zin:
        old = {n: zin.read(n) for n in zin.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in {**old, **parts}.items():
            zout.writestr(name, data)


SHAPE = (b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"><xdr:twoCellAnchor>'
         b'<xdr:sp macro="" textlink=""><xdr:txBody/></xdr:sp></xdr:twoCellAnchor></xdr:wsDr>')


@pytest.mark.parametrize(("parts", "words"), [
    ({"xl/drawings/drawing1.xml": SHAPE}, "shapes or text boxes"),
    ({"xl/threadedComments/threadedComment1.xml": b"<ThreadedComments/>"}, "threaded comments"),
    ({"xl/media/image1.png": b"\x89PNG\r\n\x1a\n"}, "pictures"),
])
def test_a_workbook_holding_what_a_save_would_drop_is_not_written(tmp_path: Path, book: OrderBook,
                                                                  parts: dict[str, bytes], words: str) -> None:
    """openpyxl drops shapes, threaded comments (and pictures without Pillow) when it saves: the merchant's
    text box or logo would vanish, so the file is not written and the orders say why."""
    if words == "pictures" and importlib.util.find_spec("PIL") is not None:
        pytest.skip("Pillow is installed: openpyxl keeps pictures")
    path = tmp_path / "orders.xlsx"
    dest = WorkbookDestination.open(path)
    dest.import_orders([make_order("A1")], book, "run1")
    add_parts(path, parts)
    before = path.read_bytes()
    dest = WorkbookDestination.open(path)
    assert dest.preview([make_order("A2")], book)[0].result is OrderResult.FAILED
    got = dest.import_orders([make_order("A2"), make_order("A1")], book, "run2")
    assert [o.result for o in got] == [OrderResult.FAILED, OrderResult.UNCHANGED]
    assert f"holds {words}, which the connector cannot keep" in (got[0].reason or "")
    assert path.read_bytes() == before


def test_a_password_protected_workbook_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(1024))  # an encrypted package is an OLE2 file
    with pytest.raises(ConfigError, match="is password-protected"):
        WorkbookDestination.open(path)


def test_the_column_added_back_is_in_the_report_and_the_summary(
        tmp_path: Path, reader: ListReader, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    reader.put(make_order("A1"))
    profile = write_profile(tmp_path)
    assert orders(profile)[0] == EXIT_OK
    path = tmp_path / "orders.xlsx"
    rewrite(path, lambda ws: ws.delete_cols([c.value for c in ws[1]].index("Marketplace status") + 1))
    reader.put(moved(make_order("A1"), OrderStatus.CANCELLED))
    code, report = orders(profile)
    assert code == EXIT_OK and report["orders"]["counts"]["updated"] == 1
    assert any("'Marketplace status' column was missing" in n for n in report["notes"])
    assert "note:" in capsys.readouterr().out
    assert records(path)[0]["Marketplace status"] == "cancelled"


def test_new_rows_go_under_the_last_filled_row_not_under_formatted_empty_ones(tmp_path: Path,
                                                                             book: OrderBook) -> None:
    from openpyxl.styles import Border, Side

    path = tmp_path / "orders.xlsx"
    WorkbookDestination.open(path).import_orders([make_order("A1")], book, "run1")
    wb = load_workbook(path)
    ws = wb["Orders"]
    for r in range(3, 60):  # borders drawn down the sheet, ready for more orders
        ws.cell(r, 1).border = Border(bottom=Side(style="thin"))
    wb.save(path)
    got = WorkbookDestination.open(path).import_orders([make_order("A2"), make_order("A3")], book, "run2")
    assert [o.remote_id for o in got] == ["row 3", "row 4"]
    assert [r[1] for r in grid(path)[1:4]] == ["A1", "A2", "A3"]
