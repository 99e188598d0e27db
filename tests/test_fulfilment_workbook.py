"""The orders workbook as a fulfilment source: the merchant's Status / Tracking number / Courier cells per order
line row become shipments (grouped by tracking number), a cancellation, or a problem naming the cell."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connector.atomic import replace_file
from connector.config import load_profile
from connector.errors import EXIT_USAGE
from connector.fulfilment.source import ImportedOrder
from connector.fulfilment.workbook import WorkbookSource
from connector.orders.model import Order, OrderLine, OrderStatus
from connector.orders.workbook import BY_KEY, CsvSheet, XlsxSheet, line_values

NOW = datetime(2026, 5, 2, tzinfo=UTC)


def order(key: str, *skus: str, marketplace: str = "ecomlinx") -> Order:
    lines = tuple(OrderLine(f"{key}-{i}", sku, i, Decimal("3"), "INR") for i, sku in enumerate(skus, start=1))
    return Order(marketplace, "main", key, OrderStatus.NEW, "new", datetime(2026, 5, 1, tzinfo=UTC), "INR", lines)


def write(path: Path, orders: list[Order], merchant: dict[tuple[str, str], tuple[str, str, str]]) -> None:
    """The orders file as "Orders in" writes it, with the merchant's cells typed in: (order, line id) ->
    (Status, Tracking number, Courier)."""
    sheet = CsvSheet.new() if path.suffix == ".csv" else XlsxSheet.new()
    for o in orders:
        for line in o.lines:
            status, tracking, courier = merchant.get((o.remote_id, line.line_id), ("", "", ""))
            sheet.append({**line_values(o, line), "status": status, "tracking": tracking, "courier": courier})
    replace_file(path, sheet.save)


def read(path: Path, *orders: Order) -> dict[str, object]:
    got = WorkbookSource(path).read([ImportedOrder(o, "row", {"workbook": str(path)}) for o in orders], None, NOW)
    assert got.cursor is None
    return {p.order_key: p for p in got.progress}


@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_shipped_rows_are_grouped_by_tracking_number(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    a, b = order("A", "TEA", "SOAP", "MUG"), order("B", "TEA")
    write(path, [a, b], {("A", "A-1"): ("Shipped", "T1", "DHL"), ("A", "A-2"): ("delivered", "T1", "dhl"),
                         ("A", "A-3"): ("SHIPPED", "", "")})
    progress = read(path, a, b)
    assert list(progress) == ["A"]  # B: nothing typed yet
    p = progress["A"]
    assert [(s.shipment_id, s.tracking_number, s.carrier, [(ln.line_id, ln.sku, ln.quantity) for ln in s.lines])
            for s in p.shipments] == [
        ("workbook:untracked", None, None, [("A-3", "MUG", 3)]),
        ("workbook:T1", "T1", "DHL", [("A-1", "TEA", 1), ("A-2", "SOAP", 2)])]
    assert not p.cancelled and not p.delivered and p.problems == () and p.fully_shipped(a)
    assert read(path, a, b)["A"].fingerprint() == p.fingerprint()  # read again: the same progress


def test_cancelled_rows_cancel_the_order_only_when_all_its_lines_are(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    a, b, c = order("A", "TEA", "SOAP"), order("B", "TEA", "SOAP"), order("C", "TEA")
    write(path, [a, b, c], {("A", "A-1"): ("cancelled", "", ""), ("A", "A-2"): ("Cancelled", "", ""),
                            ("B", "B-1"): ("cancelled", "", ""), ("C", "C-1"): ("delivered", "T9", "DHL")})
    progress = read(path, a, b, c)
    assert progress["A"].cancelled and progress["A"].shipments == () and progress["A"].problems == ()
    assert not progress["B"].cancelled
    assert progress["B"].problems == ("sheet Orders, row(s) 4: only some lines of order ecomlinx:B are cancelled: "
                                      "cancel the whole order (every line's Status cancelled), or ship the other "
                                      "lines",)
    assert progress["C"].delivered and progress["C"].shipments[0].tracking_number == "T9"


def test_a_bad_status_is_a_problem_naming_the_cell_and_other_files_orders_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    a, b = order("A", "TEA"), order("B", "TEA")
    write(path, [a, b], {("A", "A-1"): ("sent off", "T1", "DHL"), ("B", "B-1"): ("shipped", "T2", "DHL")})
    elsewhere = ImportedOrder(b, "row", {"workbook": str(tmp_path / "other.xlsx")})
    got = WorkbookSource(path).read([ImportedOrder(a, "row", {"workbook": str(path)}), elsewhere], None, NOW)
    [p] = got.progress
    assert p.order_key == "A" and p.problems == (
        f"sheet Orders, row 2, column {BY_KEY['status'].header}: 'sent off' is not a status (write shipped, "
        "delivered, cancelled, or leave it empty)",)
    assert got.notes == ["1 order(s) with a Status in orders.xlsx are not orders this connector imported into it, "
                         "ignored: ecomlinx:B"]


def test_a_missing_file_is_nothing_to_send(tmp_path: Path) -> None:
    got = WorkbookSource(tmp_path / "orders.xlsx").read([], None, NOW)
    assert got.progress == [] and "does not exist yet" in got.notes[0]


def profile(tmp_path: Path, fulfilment: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text("source: {type: spreadsheet, path: products.xlsx}\ntargets: {ecomlinx: {}, elryan: {}}\n"
                    f"orders: {{to: workbook, workbook: orders.xlsx, fulfilment: {fulfilment}}}\n", encoding="utf-8")
    return path


def test_the_fulfilment_table_is_read_from_the_profile(tmp_path: Path) -> None:
    section = load_profile(profile(tmp_path, "{carriers: {ecomlinx: {' DHL  Express': Delhivery}}, "
                                             "cancel_reasons: {elryan: {Out of stock: '3', default: '9'}}, "
                                             "shipped_when: {ecomlinx: any_line}}")).orders
    assert section is not None
    f = section.fulfilment
    assert f.enabled and f.carriers == {"ecomlinx": {"dhl express": "Delhivery"}}
    assert f.cancel_reasons == {"elryan": {"out of stock": "3", "default": "9"}}
    assert f.shipped_when == {"ecomlinx": "any_line"}
    assert load_profile(profile(tmp_path, "{enabled: false}")).orders.fulfilment.enabled is False  # type: ignore


@pytest.mark.parametrize(("table", "words"), [
    ("{carier: {}}", "unknown key(s) orders.fulfilment.carier"),
    ("{carriers: {elebne: {DHL: X}}}", "'orders.fulfilment.carriers' names 'elebne', not a target"),
    ("{carriers: {ecomlinx: {DHL: 3}}}", "'orders.fulfilment.carriers.ecomlinx' must map text to text"),
    ("{shipped_when: {ecomlinx: some_lines}}", "must be one of all_lines, any_line, not 'some_lines'"),
    ("{enabled: maybe}", "'orders.fulfilment.enabled' must be true or false"),
    ("[carriers]", "'orders.fulfilment' must be a table"),
])
def test_a_bad_fulfilment_table_is_refused_with_exit_2(tmp_path: Path, table: str, words: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from connector.cli import main

    assert main(["fulfil", "--profile", str(profile(tmp_path, table))]) == EXIT_USAGE
    assert words in " ".join(capsys.readouterr().err.split())


def test_without_the_odoo_fulfilment_source_fulfil_says_so_and_sync_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from connector.cli import fulfil_step
    from connector.fulfilment.profile import SourceUnavailable, open_source

    monkeypatch.setitem(sys.modules, "connector.fulfilment.odoo", None)  # an installation without it
    path = tmp_path / "shop.yaml"
    path.write_text("source: {type: spreadsheet, path: products.xlsx}\ntargets: {ecomlinx: {}}\n"
                    "orders: {to: odoo, odoo: {delivery_product: SHIP}}\n", encoding="utf-8")
    shop = load_profile(path)
    assert shop.orders is not None
    with pytest.raises(SourceUnavailable, match="fulfilment from Odoo is not available in this installation"):
        open_source(shop.orders, shop)
    from connector.cli import main

    assert main(["fulfil", "--profile", str(path)]) == EXIT_USAGE
    assert "fulfilment from Odoo is not available" in " ".join(capsys.readouterr().err.split())
    assert fulfil_step(shop, None, lambda target: None) is None  # sync: a note, and the rest of the run
    assert "no shipments or cancellations are sent back by this run" in " ".join(capsys.readouterr().out.split())
