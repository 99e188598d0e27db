"""Orders whose rows the merchant deleted from the orders workbook, or whose file was emptied, are written again
by the next `connector orders`, with a note: the run used to call them `unchanged` (exit 0, "every order read is
in the destination") because the state said the file held them, and an open order was gone from the workbook
for good (nothing to ship it from) until the marketplace changed it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from connector.cli import main
from connector.errors import EXIT_OK
from tests.test_fulfilment_ecomlinx_e2e import ecomlinx, keys, write_shop  # noqa: F401

pytestmark = pytest.mark.sandbox


def orders(profile: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = profile.parent / "orders.json"
    report.unlink(missing_ok=True)
    code = main(["orders", "--profile", str(profile), "--no-progress", "--report", str(report), *extra])
    return code, json.loads(report.read_text(encoding="utf-8"))


def keys_in(path: Path) -> list[tuple[str, str]]:
    if path.suffix == ".csv":
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        return [(line.split(",")[1], line.split(",")[6]) for line in lines[1:] if line]
    ws = load_workbook(path)["Orders"]
    return [(r[1], r[6]) for r in ws.iter_rows(min_row=2, values_only=True) if r[1]]


def delete_rows(path: Path, order_id: str, sku: str | None = None) -> None:
    """The merchant deletes the rows of ``order_id`` (of its ``sku`` line only, if given)."""
    wb = load_workbook(path)
    ws = wb["Orders"]
    for row in range(ws.max_row, 1, -1):
        if ws.cell(row, 2).value == order_id and sku in (None, ws.cell(row, 7).value):
            ws.delete_rows(row, 1)
    wb.save(path)


def two_orders(tmp_path: Path, server: Any, name: str) -> tuple[Path, list[str]]:
    shop = write_shop(tmp_path, server, f"{{to: workbook, workbook: {name}, from: [ecomlinx]}}")
    assert main(["sync", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    placed = [server.create_order({"items": [{"sku": "TEA-500", "qty": 1}, {"sku": "SOAP-01", "qty": 1}]})["id"],
              server.create_order({"items": [{"sku": "SOAP-01", "qty": 2}]})["id"]]
    assert orders(shop)[0] == EXIT_OK
    assert len(keys_in(tmp_path / name)) == 3
    return shop, placed


def test_an_order_whose_rows_were_deleted_is_written_again(tmp_path: Path, ecomlinx: Any) -> None:  # noqa: F811
    shop, placed = two_orders(tmp_path, ecomlinx, "orders.xlsx")
    delete_rows(tmp_path / "orders.xlsx", placed[0])  # the first order's two rows
    code, report = orders(shop)
    assert code == EXIT_OK
    assert sorted(keys_in(tmp_path / "orders.xlsx")) == sorted(
        [(placed[0], "TEA-500"), (placed[0], "SOAP-01"), (placed[1], "SOAP-01")])
    counts = report["orders"]["counts"]
    assert (counts["imported"], counts["unchanged"]) == (1, 1)
    assert any("no row" in n and "written again" in n for n in report["notes"]), report["notes"]
    assert orders(shop)[1]["orders"]["counts"]["unchanged"] == 2  # and then it holds them


def test_a_line_whose_row_was_deleted_is_written_again(tmp_path: Path, ecomlinx: Any) -> None:  # noqa: F811
    shop, placed = two_orders(tmp_path, ecomlinx, "orders.xlsx")
    delete_rows(tmp_path / "orders.xlsx", placed[0], "SOAP-01")
    code, report = orders(shop)
    assert code == EXIT_OK and report["orders"]["counts"]["updated"] == 1
    assert sorted(keys_in(tmp_path / "orders.xlsx")) == sorted(
        [(placed[0], "TEA-500"), (placed[0], "SOAP-01"), (placed[1], "SOAP-01")])


@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
def test_an_emptied_orders_file_gets_every_order_back(tmp_path: Path, ecomlinx: Any, name: str) -> None:  # noqa: F811
    shop, placed = two_orders(tmp_path, ecomlinx, name)
    (tmp_path / name).write_bytes(b"")  # truncated to 0 bytes
    code, report = orders(shop)
    assert code == EXIT_OK and report["orders"]["counts"]["imported"] == 2
    assert sorted(keys_in(tmp_path / name)) == sorted(
        [(placed[0], "TEA-500"), (placed[0], "SOAP-01"), (placed[1], "SOAP-01")])


def test_a_dry_run_says_the_rows_would_be_written_again_and_writes_nothing(tmp_path: Path,
                                                                          ecomlinx: Any) -> None:  # noqa: F811
    shop, _ = two_orders(tmp_path, ecomlinx, "orders.csv")
    (tmp_path / "orders.csv").write_bytes(b"")
    code, report = orders(shop, "--dry-run")
    assert code == EXIT_OK and report["orders"]["counts"]["imported"] == 2
    assert any("would be written again" in n for n in report["notes"])
    assert (tmp_path / "orders.csv").read_bytes() == b""


def test_a_closed_orders_rows_deleted_stay_deleted_and_the_file_is_parsed_once(
        tmp_path: Path, ecomlinx: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """A merchant who clears a cancelled (or shipped) order's rows keeps them cleared: only an open order, which
    still has to ship from the file, is written again.  And the run that looks for the rows hands the sheet it
    parsed to the merge (a 50,000-row .xlsx takes seconds to parse), instead of parsing the file twice."""
    from connector.orders import workbook

    shop, placed = two_orders(tmp_path, ecomlinx, "orders.xlsx")
    ecomlinx.set_order_status(placed[0], "cancelled")
    assert orders(shop)[0] == EXIT_OK
    delete_rows(tmp_path / "orders.xlsx", placed[0])
    ecomlinx.create_order({"items": [{"sku": "TEA-500", "qty": 1}]})  # something new: the file is merged
    loads = []
    real = workbook.XlsxSheet.load
    monkeypatch.setattr(workbook.XlsxSheet, "load", classmethod(lambda cls, path: loads.append(path) or real(path)))
    code, report = orders(shop)
    assert code == EXIT_OK
    assert placed[0] not in {order_id for order_id, _ in keys_in(tmp_path / "orders.xlsx")}
    assert [order_id for order_id, _ in keys_in(tmp_path / "orders.xlsx")].count(placed[1]) == 1
    assert len(keys_in(tmp_path / "orders.xlsx")) == 2  # the open order's row and the new one
    assert "written again" not in json.dumps(report)
    assert len(loads) == 1  # opened (checked to be ours), looked at for the rows, merged: one parse


def test_rows_deleted_while_the_file_is_open_elsewhere_are_not_said_to_be_written_again(
        tmp_path: Path, ecomlinx: Any) -> None:  # noqa: F811
    """The note said "written again" although the file was open in another program and nothing was written: it
    now says they were not, and the next run (the file closed) writes them."""
    shop, placed = two_orders(tmp_path, ecomlinx, "orders.xlsx")
    delete_rows(tmp_path / "orders.xlsx", placed[0])
    lock = tmp_path / ".~lock.orders.xlsx#"  # LibreOffice has it open
    lock.write_text("merchant,host,,01.12.2026 10:00,\n", encoding="utf-8")
    code, report = orders(shop)
    assert code != EXIT_OK
    note = next(n for n in report["notes"] if "no row" in n)
    assert note.startswith("1 order(s)") and "NOT written again" in note, note
    assert placed[0] not in {order_id for order_id, _ in keys_in(tmp_path / "orders.xlsx")}
    lock.unlink()
    code, report = orders(shop)
    assert code == EXIT_OK
    assert any("no row" in n and ": written again" in n for n in report["notes"]), report["notes"]
    assert [order_id for order_id, _ in keys_in(tmp_path / "orders.xlsx")].count(placed[0]) == 2
