"""The orders flow through `connector orders` / `connector sync --profile`, with a small in-test reader in place
of a marketplace's (the end-to-end tests with the sandboxes' own orders are in test_orders_e2e.py): outcomes,
reports, exit codes, cursor saved only once the destination handled the orders, missed orders, dry runs, and
the oversell guard on a real Elebne sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ConfigError,
    MarketplaceUnreachable,
    SourceError,
)
from connector.http.client import TransportError
from connector.http.stop import StopRequested
from connector.marketplaces.elebne import PLUGIN as ELEBNE
from connector.marketplaces.elebne.client import ElebneError
from connector.orders.book import OrderBook
from connector.orders.destination import DestinationBase
from connector.orders.model import OrderStatus
from connector.orders.reader import cursor_source
from connector.sync.state import StateStore
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.orders_fixtures import NOW, ListReader, make_order, moved
from tests.workbooks import write_workbook

OFFLINE = "http://127.0.0.1:9/api/v1"  # never called: the in-test reader answers


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> ListReader:
    """Elebne's orders come from a list the test controls."""
    r = ListReader("elebne")
    monkeypatch.setattr(ELEBNE, "make_order_reader", lambda http, settings, account, secret: r)
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    return r


def write_profile(tmp_path: Path, *, base_url: str = OFFLINE, orders: str = "{to: workbook, workbook: orders.xlsx}",
                  source: str = "products.xlsx") -> Path:
    profile = tmp_path / "shop.yaml"
    profile.write_text(f"name: shop\nsource: {source}\nstate: state.sqlite\n"
                       f"targets:\n  elebne: {{account: shop, base_url: '{base_url}'}}\n"
                       + (f"orders: {orders}\n" if orders else ""), encoding="utf-8")
    return profile


def orders(profile: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = profile.parent / "orders-report.json"
    report.unlink(missing_ok=True)
    code = main(["orders", "--profile", str(profile), "--no-progress", "--report", str(report), *extra])
    return code, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}


def cursor(tmp_path: Path) -> str | None:
    with StateStore.open(tmp_path / "state.sqlite") as state:
        return state.get_cursor(cursor_source("elebne"), "shop")


def workbook_rows(path: Path) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    values = list(load_workbook(path)["Orders"].iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=False)) for row in values[1:]]


def test_orders_land_in_the_workbook_once_and_every_order_is_accounted_for(
        tmp_path: Path, reader: ListReader, capsys: pytest.CaptureFixture[str]) -> None:
    reader.put(make_order("A1", ("TEE-M-BL", 2), ("SOAP-01", 1)), make_order("A2"))
    profile = write_profile(tmp_path)
    code, report = orders(profile)
    assert code == EXIT_OK
    section = report["orders"]
    assert section["counts"] == {"imported": 2, "unchanged": 0, "updated": 0, "needs_attention": 0, "failed": 0}
    assert [(o["reference"], o["result"]) for o in section["orders"]] == [("elebne:N-A1", "imported"),
                                                                         ("elebne:N-A2", "imported")]
    assert section["missed"] == [] and section["cursor"]["saved"] is True
    assert len(workbook_rows(tmp_path / "orders.xlsx")) == 3
    first_cursor = cursor(tmp_path)
    assert first_cursor is not None
    shown = capsys.readouterr().out
    assert "imported" in shown and "missed by earlier runs (expected 0)" in shown and "exit code 0" in shown

    reader.put(moved(make_order("A2"), OrderStatus.CANCELLED))
    code, report = orders(profile)
    assert code == EXIT_OK
    assert report["orders"]["counts"]["unchanged"] == 1 and report["orders"]["counts"]["updated"] == 1
    assert [r["Marketplace status"] for r in workbook_rows(tmp_path / "orders.xlsx")] == ["new", "new", "cancelled"]
    # the second pull starts at the lookback (7 days), which reaches further back than the cursor's overlap
    assert reader.asked[-1] <= datetime.now(UTC) - timedelta(days=7)
    assert cursor(tmp_path) >= first_cursor


def test_dry_run_reads_and_says_what_it_would_do_but_writes_and_saves_nothing(
        tmp_path: Path, reader: ListReader, capsys: pytest.CaptureFixture[str]) -> None:
    reader.put(make_order("A1"))
    profile = write_profile(tmp_path)
    code, report = orders(profile, "--dry-run")
    assert code == EXIT_OK
    assert report["dry_run"] is True and report["orders"]["counts"]["imported"] == 1
    assert report["orders"]["orders"][0]["reason"].startswith("dry run")
    assert "to import" in capsys.readouterr().out
    assert not (tmp_path / "orders.xlsx").exists()
    assert cursor(tmp_path) is None
    with StateStore.open(tmp_path / "state.sqlite") as state:
        assert OrderBook(state, "elebne", "shop").known() == {}


def test_to_on_the_command_line_writes_a_csv_without_an_orders_section(tmp_path: Path, reader: ListReader) -> None:
    reader.put(make_order("A1"))
    profile = write_profile(tmp_path, orders="")
    assert orders(profile)[0] == EXIT_USAGE  # no section and no --to: nothing to do
    assert orders(profile, "--to", str(tmp_path / "out.csv"))[0] == EXIT_OK
    assert (tmp_path / "out.csv").read_text(encoding="utf-8-sig").count("\n") == 2


@pytest.mark.parametrize(("error", "code", "words"), [
    (ElebneError(401, "unauthorized", "Invalid API key"), EXIT_UNREACHABLE, "refused the credentials"),
    (TransportError("GET /orders: connection error after 6 attempt(s)"), EXIT_UNREACHABLE, "connection error"),
    (ElebneError(503, "unavailable", "try later"), EXIT_PARTIAL, "not read to the end"),
    (StopRequested("SIGTERM received"), EXIT_PARTIAL, "SIGTERM received"),
    (ElebneError(400, "bad_request", "unknown filter 'updatedSince'"), EXIT_FAILED, "unknown filter"),
])
def test_a_read_that_fails_keeps_the_cursor_and_says_why(tmp_path: Path, reader: ListReader, error: Exception,
                                                        code: int, words: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    reader.error = error
    got, report = orders(write_profile(tmp_path))
    assert got == code
    assert report["exit_code"] == code
    assert words in capsys.readouterr().out
    assert cursor(tmp_path) is None and not (tmp_path / "orders.xlsx").exists()


def test_a_destination_that_cannot_be_written_fails_the_orders_but_they_are_still_held_back(
        tmp_path: Path, reader: ListReader, monkeypatch: pytest.MonkeyPatch) -> None:
    reader.put(make_order("A1", ("TEA-500", 1)))

    def refuse(self, orders, book, run_id):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr("connector.orders.workbook.WorkbookDestination.import_orders", refuse)
    code, report = orders(write_profile(tmp_path))
    assert code == EXIT_FAILED
    assert report["orders"]["orders"][0]["result"] == "failed"
    assert "Permission denied" in report["orders"]["orders"][0]["reason"]
    assert cursor(tmp_path) is None  # the next run reads them again
    with StateStore.open(tmp_path / "state.sqlite") as state:
        assert [o.key for o in OrderBook(state, "elebne", "shop").open_orders()] == ["A1"]


def test_an_order_an_earlier_run_missed_is_imported_and_reported(tmp_path: Path, reader: ListReader,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    profile = write_profile(tmp_path)
    reader.put(make_order("A1"))
    assert orders(profile)[0] == EXIT_OK
    late = make_order("LATE", created=NOW - timedelta(days=2))  # the marketplace's index showed it late
    reader.put(late)
    code, report = orders(profile)
    assert code == EXIT_OK
    assert report["orders"]["missed"] == ["elebne:N-LATE"]
    assert report["orders"]["counts"]["imported"] == 1
    assert "found by the lookback" in capsys.readouterr().out


@pytest.mark.parametrize(("orders_yaml", "words"), [
    ("{to: workbook, workbook: orders.xlsx, lookback: 3}", "unknown key(s) orders.lookback"),
    ("{to: workbook}", "needs 'orders.workbook"),
    ("{to: erp, workbook: orders.xlsx}", "'orders.to' must be one of odoo, workbook"),
    ("{to: workbook, workbook: orders.ods}", "must end in .xlsx or .csv"),
    ("{to: workbook, workbook: orders.xlsx, from: [amazon]}", "not a target of this profile"),
    ("{to: workbook, workbook: orders.xlsx, lookback_days: 0}", "'orders.lookback_days' must be a number"),
    ("{to: workbook, workbook: orders.xlsx, overlap_minutes: ten}", "'orders.overlap_minutes' must be a number"),
    ("{to: workbook, workbook: orders.xlsx, reserve_open_orders: maybe}", "must be true or false"),
    ("[workbook]", "'orders' must be a table"),
    ("{to: workbook, workbook: products.xlsx}", "is the input file"),  # the catalogue is never overwritten
    ("{to: workbook, workbook: no/such/folder/orders.xlsx}", "does not exist"),
])
def test_profile_mistakes_in_the_orders_section_exit_2_with_the_key(tmp_path: Path, reader: ListReader,
                                                                     orders_yaml: str, words: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["orders", "--profile", str(write_profile(tmp_path, orders=orders_yaml)), "--no-progress"])
    assert code == EXIT_USAGE
    captured = capsys.readouterr()
    assert words in " ".join(captured.err.split()) and "Traceback" not in captured.err


def test_command_line_mistakes_exit_2(tmp_path: Path, reader: ListReader, capsys: pytest.CaptureFixture[str]) -> None:
    profile = write_profile(tmp_path)
    assert main(["orders", "--profile", str(profile), "--to", "orders.txt"]) == EXIT_USAGE
    assert main(["orders", "--profile", str(profile), "--target", "ecomlinx"]) == EXIT_USAGE
    assert main(["orders", "--profile", str(profile), "--to", str(profile.with_suffix(".csv")),
                 "--report", str(profile)]) == EXIT_USAGE
    err = " ".join(capsys.readouterr().err.split())
    assert "give 'odoo' or an orders workbook" in err and "Traceback" not in err


def test_a_marketplace_without_an_order_reader_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(ELEBNE, "make_order_reader", None)
    assert main(["orders", "--profile", str(write_profile(tmp_path))]) == EXIT_USAGE
    assert "has an order reader" in " ".join(capsys.readouterr().err.split())


# -- the oversell guard on a real sandbox ------------------------------------------------------------------------
LAST_UNIT = [{"SKU": "TEA-500", "Name": "Thé vert 500 g", "Price": 8.9}, {"SKU": "SOAP-01", "Name": "Savon",
                                                                          "Price": 12.5}]


@pytest.fixture
def shop(tmp_path: Path, elebne_sandbox: SandboxHandle, reader: ListReader) -> Iterator[Path]:
    write_workbook(tmp_path / "products.xlsx", LAST_UNIT, {"Warehouse": {"TEA-500": 1, "SOAP-01": 5}})
    yield write_profile(tmp_path, base_url=elebne_sandbox.base_url)


def sync(profile: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = profile.parent / "sync-report.json"
    code = main(["sync", "--profile", str(profile), "--no-progress", "--report", str(report), *extra])
    return code, json.loads(report.read_text(encoding="utf-8"))


@pytest.mark.sandbox
def test_sync_pulls_orders_first_and_holds_back_what_they_sold(
        shop: Path, elebne_sandbox: SandboxHandle, reader: ListReader, capsys: pytest.CaptureFixture[str]) -> None:
    assert sync(shop)[0] == EXIT_OK
    assert elebne_sandbox.products()["TEA-500"]["quantity"] == 1

    sold = make_order("S1", ("TEA-500", 1), ("SOAP-01", 2), created=datetime.now(UTC))  # sold after that run
    reader.put(sold)
    code, dry = sync(shop, "--dry-run")
    assert code == EXIT_OK
    assert dry["reserved"] == {"TEA-500": {"reserved": 1, "listed": 0}, "SOAP-01": {"reserved": 2, "listed": 3}}
    assert elebne_sandbox.products()["TEA-500"]["quantity"] == 1  # a dry run sends nothing
    shown = capsys.readouterr().out
    assert "TEA-500: reserved 1 for open orders, listed 0" in shown

    code, report = sync(shop)
    assert code == EXIT_OK, report
    assert elebne_sandbox.products()["TEA-500"]["quantity"] == 0
    assert elebne_sandbox.products()["SOAP-01"]["quantity"] == 3
    assert len(workbook_rows(shop.parent / "orders.xlsx")) == 2
    orders_report = json.loads((shop.parent / "sync-report-orders-elebne.json").read_text(encoding="utf-8"))
    assert orders_report["orders"]["counts"]["imported"] == 1 and orders_report["orders"]["missed"] == []

    reader.put(moved(sold, OrderStatus.CANCELLED))
    assert sync(shop)[0] == EXIT_OK
    assert elebne_sandbox.products()["TEA-500"]["quantity"] == 1  # back on sale
    assert elebne_sandbox.products()["SOAP-01"]["quantity"] == 5


@pytest.mark.sandbox
def test_shipped_orders_and_reserve_open_orders_off_hold_nothing_back(
        shop: Path, elebne_sandbox: SandboxHandle, reader: ListReader) -> None:
    reader.put(make_order("S1", ("TEA-500", 1), status=OrderStatus.SHIPPED))
    assert sync(shop)[0] == EXIT_OK
    assert elebne_sandbox.products()["TEA-500"]["quantity"] == 1  # the source's count already left with it
    reader.put(make_order("S2", ("SOAP-01", 1)))
    shop.write_text(shop.read_text(encoding="utf-8").replace("orders.xlsx}", "orders.xlsx, reserve_open_orders: "
                                                                           "false}"), encoding="utf-8")
    code, report = sync(shop)
    assert code == EXIT_OK and report.get("reserved") is None
    assert elebne_sandbox.products()["SOAP-01"]["quantity"] == 5


@pytest.mark.sandbox
def test_sync_reports_an_unreadable_orders_marketplace_and_still_pushes_stock(
        tmp_path: Path, elebne_sandbox: SandboxHandle, reader: ListReader) -> None:
    write_workbook(tmp_path / "products.xlsx", LAST_UNIT, {"Warehouse": {"TEA-500": 1, "SOAP-01": 5}})
    profile = write_profile(tmp_path, base_url=elebne_sandbox.base_url)
    reader.error = ElebneError(400, "bad_request", "unknown filter")
    code, report = sync(profile)
    assert code == EXIT_FAILED  # the orders part failed; the stock push itself went through
    assert report["exit_code"] == EXIT_OK and elebne_sandbox.products()["TEA-500"]["quantity"] == 1


class HalfwayDestination(DestinationBase):
    """Imports like Odoo does, but the first time leaves every order unconfirmed (a run killed in between)."""

    name = "odoo"
    reserves_imported = True

    def __init__(self) -> None:
        self.handed: list[list[str]] = []

    def import_orders(self, orders, book, run_id):
        from connector.orders.outcome import OrderOutcome, OrderResult

        self.handed.append([o.key for o in orders])
        confirmed = len(self.handed) > 1
        for o in orders:
            book.mark_imported(self.name, o, "7", {"reference": o.reference, "confirmed": confirmed})
        return [OrderOutcome(o, OrderResult.IMPORTED, remote_id="7") for o in orders]


def test_orders_the_destination_holds_are_not_handed_again_unless_unfinished(tmp_path: Path,
                                                                               reader: ListReader) -> None:
    from connector.orders.reader import PullSettings
    from connector.orders.run import run_orders
    from connector.sync.session import SyncOptions

    reader.put(make_order("A1"))
    dest = HalfwayDestination()
    opts = SyncOptions(target="elebne", state_path=tmp_path / "state.sqlite", secret=ELEBNE_KEY, base_url=OFFLINE,
                       account="shop")
    with StateStore.open(opts.state_path) as state:
        for _ in range(3):
            result = run_orders([opts], dest, state, pull=PullSettings(), label="Odoo", report_to=tmp_path / "r.json")
            assert result.exit_code == EXIT_OK
        assert dest.handed == [["A1"], ["A1"]]  # handed again while unconfirmed, then never
        assert [o.result.value for o in result.runs[0].outcomes] == ["unchanged"]
        reader.put(moved(make_order("A1"), OrderStatus.CANCELLED))  # a new version is handed on
        run_orders([opts], dest, state, pull=PullSettings(), label="Odoo", report_to=tmp_path / "r.json")
        assert dest.handed[-1] == ["A1"]


@pytest.mark.parametrize(("error", "code"), [
    (ConfigError("orders.odoo.team: no sales team 'Web'"), EXIT_USAGE),
    (MarketplaceUnreachable("Odoo is down"), EXIT_UNREACHABLE),
    (SourceError("Odoo refused: AccessError"), EXIT_FAILED),
])
def test_a_destination_that_refuses_says_why_with_the_exit_code_of_its_reason(
        tmp_path: Path, reader: ListReader, monkeypatch: pytest.MonkeyPatch, error: Exception, code: int,
        capsys: pytest.CaptureFixture[str]) -> None:
    reader.put(make_order("A1"))

    def refuse(self, orders, book, run_id):
        raise error

    monkeypatch.setattr("connector.orders.workbook.WorkbookDestination.import_orders", refuse)
    got, report = orders(write_profile(tmp_path))
    assert got == code and report["orders"]["orders"][0]["result"] == "failed"
    assert str(error) in report["orders"]["orders"][0]["reason"] and str(error) in capsys.readouterr().out
    assert cursor(tmp_path) is None


def test_orders_an_earlier_run_put_in_another_file_are_written_to_this_one(tmp_path: Path, reader: ListReader) -> None:
    """The book remembers that the workbook destination holds an order, but of which file: a run with ``--to
    another.csv``, or after the merchant deleted or moved the orders workbook, writes the lookback's orders there
    instead of calling them unchanged and writing nothing."""
    reader.put(make_order("A1"), make_order("A2"))
    profile = write_profile(tmp_path)
    assert orders(profile)[0] == EXIT_OK
    assert len(workbook_rows(tmp_path / "orders.xlsx")) == 2

    code, report = orders(profile, "--to", str(tmp_path / "other.csv"))
    assert code == EXIT_OK and report["orders"]["counts"]["imported"] == 2
    assert (tmp_path / "other.csv").read_text(encoding="utf-8-sig").count("\n") == 3

    (tmp_path / "orders.xlsx").rename(tmp_path / "orders-old.xlsx")
    code, report = orders(profile)
    assert code == EXIT_OK and report["orders"]["counts"]["imported"] == 2
    assert len(workbook_rows(tmp_path / "orders.xlsx")) == 2

    code, report = orders(profile)  # and the file that holds them: unchanged, not asked
    assert code == EXIT_OK and report["orders"]["counts"]["unchanged"] == 2
    assert len(workbook_rows(tmp_path / "orders.xlsx")) == 2
