"""`connector fulfil` through a fault-injecting proxy (tests/fault_proxy.py) to the EcomLinx and Elryan sandboxes.

Every fulfilment call (EcomLinx's status PATCH; Elryan's prepare, package, delivery status and cancel) answered
badly: a connection reset part way through the answer, a gateway's 502 page after the call went through or
instead of it, a 200 cut short, a 200 HTML page.  Whatever the answer, the marketplace ends with one package per
shipment (Elryan), its tracking number, the order's status set once per move, and the run's exit code says what
happened: a call whose outcome is unknown is deferred (exit 3), never failed (exit 1: the marketplace refusing the
order); the next run, through a proxy that behaves, looks before sending and finishes the order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
from tests.conftest import running_ecomlinx
from tests.fault_proxy import FaultProxy
from tests.test_fulfilment_ecomlinx_e2e import CATALOGUE, STOCK, mark
from tests.test_orders_elryan import Shop
from tests.workbooks import write_workbook

pytestmark = pytest.mark.sandbox

APPLIED = ("reset-body", "cut-unframed", "cut-framed", "html-502-after", "html-200-after")
"""Faults after the marketplace did the call: only its answer is lost."""
NOT_SENT = ("html-502", "html-200")
"""Faults before the call reached the marketplace."""


def _exit(kind: str) -> int:
    """A fault on every attempt: no whole answer at all (the connection reset or closed part way) is unreachable
    (4), as for ``connector sync``; any other answer is deferred (3)."""
    return EXIT_UNREACHABLE if kind in ("reset-body", "cut-unframed") else EXIT_PARTIAL


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connector.http.client.backoff_seconds", lambda *_args: 0.01)
    monkeypatch.setenv("ECOMLINX_API_KEY", ECOMLINX.sandbox_key)
    monkeypatch.setenv("ELRYAN_PASSWORD", SANDBOX_PASSWORD)


def _fulfil(profile: Path) -> tuple[int, dict[str, Any]]:
    report = profile.parent / "fulfil.json"
    report.unlink(missing_ok=True)
    code = main(["fulfil", "--profile", str(profile), "--no-progress", "--report", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8"))


def _profile(tmp_path: Path, rest: str) -> Path:
    """The shop's profile (``rest``: its targets and orders sections) and its products workbook."""
    write_workbook(tmp_path / "products.xlsx", CATALOGUE, STOCK)
    profile = tmp_path / "shop.yaml"
    profile.write_text("name: shop\nsource: {type: spreadsheet, path: products.xlsx, currency: MRU}\n"
                       f"state: state.sqlite\n{rest}", encoding="utf-8")
    return profile


def _results(report: dict[str, Any]) -> list[str]:
    return [row["result"] for row in report["fulfilment"]["orders"]]


# -- EcomLinx: PATCH /v1/orders/{id}, one per status move ---------------------------------------------------------

class EcomLinxShop:
    def __init__(self, tmp_path: Path, server: Any) -> None:
        self.server, self.proxy = server, FaultProxy(server.api_url)
        self.profile = _profile(
            tmp_path, "currency: {account: MRU}\ntargets:\n"
            f"  ecomlinx: {{account: main, base_url: '{self.proxy.url}'}}\n"
            "orders: {to: workbook, workbook: orders.xlsx, from: [ecomlinx], "
            "fulfilment: {carriers: {ecomlinx: {'DHL Express': Delhivery}}}}\n")
        assert main(["sync", "--profile", str(self.profile), "--no-progress"]) == EXIT_OK
        self.order = server.create_order({"items": [{"sku": "SOAP-01", "qty": 1}], "customer": {"name": "C"}})
        assert main(["orders", "--profile", str(self.profile), "--no-progress"]) == EXIT_OK
        self.book = tmp_path / "orders.xlsx"

    def remote(self) -> dict[str, Any]:
        return next(o for o in self.server.dump_state()["orders"] if o["id"] == self.order["id"])


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[EcomLinxShop]:
    with running_ecomlinx(tmp_path / "ecomlinx.sqlite", listed=[r["SKU"] for r in CATALOGUE]) as server:
        shop = EcomLinxShop(tmp_path, server)
        try:
            yield shop
        finally:
            shop.proxy.close()


@pytest.mark.parametrize("kind", APPLIED + NOT_SENT)
def test_ecomlinx_a_status_patch_answered_badly_once_is_asked_again_and_the_order_ships_once(
        ecomlinx: EcomLinxShop, kind: str) -> None:
    mark(ecomlinx.book, "SOAP-01", "shipped", "AWB-1", "DHL Express")
    ecomlinx.proxy.fail(kind, method="PATCH", path="/orders/", count=1)
    code, report = _fulfil(ecomlinx.profile)
    assert [f[2] for f in ecomlinx.proxy.faulted()] == [kind]
    assert (code, _results(report)) == (EXIT_OK, ["shipped"]), report
    remote = ecomlinx.remote()
    assert (remote["status"], remote["awb"], remote["courier"]) == ("shipped", "AWB-1", "Delhivery")


@pytest.mark.parametrize("kind", APPLIED + NOT_SENT)
@pytest.mark.parametrize("cancel", [False, True], ids=["ship", "cancel"])
def test_ecomlinx_a_status_patch_answered_badly_every_time_is_deferred_and_the_next_run_finishes(
        ecomlinx: EcomLinxShop, kind: str, cancel: bool) -> None:
    if cancel:
        mark(ecomlinx.book, "SOAP-01", "cancelled")
    else:
        mark(ecomlinx.book, "SOAP-01", "shipped", "AWB-1", "DHL Express")
    ecomlinx.proxy.fail(kind, method="PATCH", path="/orders/", count=1000)
    code, report = _fulfil(ecomlinx.profile)
    assert code == _exit(kind), report  # never exit 1: EcomLinx refused nothing
    assert "failed" not in _results(report), report
    ecomlinx.proxy.faults.clear()
    code, report = _fulfil(ecomlinx.profile)
    assert code == EXIT_OK, report
    remote = ecomlinx.remote()
    assert (remote["status"], remote.get("awb")) == (("cancelled", None) if cancel else ("shipped", "AWB-1"))
    code, report = _fulfil(ecomlinx.profile)
    assert code == EXIT_OK and report["fulfilment"]["orders"] == []  # nothing left to send


# -- Elryan: prepare (GET), package (POST, not safe to repeat), delivery status (POST), cancel (PUT) --------------

ELRYAN_CALLS = {"prepare": ("GET", "/orders/prepare/"), "package": ("POST", "/packages/create$"),
                "delivery": ("POST", "/deliveries/[^/]+/status$")}


class ElryanShop:
    def __init__(self, tmp_path: Path, server: Any) -> None:
        self.server, self.proxy = server, FaultProxy(server.api_url)
        self.shop = Shop(server)
        self.shop.stock_up({"EDP-50": (10, 25), "EDP-100": (10, 24.99)})
        self.lines = self.shop.place(("EDP-50", 2), ("EDP-100", 1))
        self.profile = _profile(
            tmp_path, f"targets:\n  elryan: {{account: main, base_url: '{self.proxy.url}', settings: {{email: "
            f"'{SANDBOX_EMAIL}'}}}}\norders: {{to: workbook, workbook: orders.xlsx, from: [elryan], fulfilment: "
            "{carriers: {elryan: {'DHL Express': pts}}, cancel_reasons: {elryan: {default: out_of_stock}}}}\n")
        assert main(["orders", "--profile", str(self.profile), "--no-progress"]) == EXIT_OK
        self.book = tmp_path / "orders.xlsx"

    def mark_all(self, status: str, tracking: str | None = None, courier: str | None = None) -> None:
        for sku in ("EDP-50", "EDP-100"):
            mark(self.book, sku, status, tracking, courier)

    def packages(self) -> list[dict[str, Any]]:
        return self.server.backend.all("package")

    def statuses(self) -> list[str]:
        return [self.shop.client.order_details(line["POlineID"])["Status"] for line in self.lines]


@pytest.fixture
def elryan(tmp_path: Path, elryan_sandbox: Any) -> Iterator[ElryanShop]:
    shop = ElryanShop(tmp_path, elryan_sandbox)
    try:
        yield shop
    finally:
        shop.proxy.close()
        shop.shop.http.close()


def _one_package(elryan: ElryanShop) -> None:
    [package] = elryan.packages()  # never a second one
    assert package["tracking"]["tracking_barcode"] == "TRK-1"
    assert package["delivery"]["status"] == "in_transit"
    assert sorted(i["quantity"] for i in package["items"]) == [1, 2]
    assert elryan.statuses() == ["Shipped", "Shipped"]


@pytest.mark.parametrize("count", [1, 1000], ids=["once", "every-time"])
@pytest.mark.parametrize("kind", APPLIED + NOT_SENT)
@pytest.mark.parametrize("call", ELRYAN_CALLS)
def test_elryan_a_shipment_call_answered_badly_never_makes_a_second_package_nor_fails_the_order(
        elryan: ElryanShop, call: str, kind: str, count: int) -> None:
    """A prepare (GET) is asked again; a package or a delivery status (POST, not safe to repeat) is sent once:
    found by its lookup when it went through, else deferred (exit 3, or 4 without any answer) for the next run to
    look up before sending."""
    elryan.mark_all("shipped", "TRK-1", "DHL Express")
    method, path = ELRYAN_CALLS[call]
    elryan.proxy.fail(kind, method=method, path=path, count=count)
    code, report = _fulfil(elryan.profile)
    assert count > 1 or [f[2] for f in elryan.proxy.faulted()] == [kind]
    assert "failed" not in _results(report), report  # Elryan refused nothing
    assert code in (EXIT_OK, _exit(kind)), report  # (a lost answer the lookup finds applied is no fault)
    elryan.proxy.faults.clear()
    code, report = _fulfil(elryan.profile)
    assert code == EXIT_OK, report
    _one_package(elryan)
    code, report = _fulfil(elryan.profile)
    assert code == EXIT_OK and report["fulfilment"]["orders"] == []


@pytest.mark.parametrize("kind", APPLIED + NOT_SENT)
def test_elryan_a_cancel_answered_badly_every_time_is_deferred_and_the_next_run_finishes(
        elryan: ElryanShop, kind: str) -> None:
    elryan.mark_all("cancelled")
    elryan.proxy.fail(kind, method="PUT", path="/orders/cancel/", count=1000)
    code, report = _fulfil(elryan.profile)
    assert "failed" not in _results(report), report
    assert code in (EXIT_OK, _exit(kind)), report
    elryan.proxy.faults.clear()
    code, report = _fulfil(elryan.profile)
    assert code == EXIT_OK, report
    assert elryan.statuses() == ["Cancelled", "Cancelled"]


def test_elryan_a_package_lookup_answered_unreadably_is_no_not_found_and_sends_nothing_twice(
        elryan: ElryanShop) -> None:
    """The package went through but its answer was a 502 page: deferred, its mark kept.  The next run looks for it
    (``POST /packages/search`` by remote id) and gets a proxy's page every time: that is no "not there", so the
    package is not sent again (deferred again); the run after finds it."""
    elryan.mark_all("shipped", "TRK-1", "DHL Express")
    elryan.proxy.fail("html-502-after", method="POST", path="/packages/create$", count=1000)
    code, report = _fulfil(elryan.profile)
    assert code == EXIT_PARTIAL and "failed" not in _results(report), report
    elryan.proxy.faults.clear()
    elryan.proxy.fail("html-200", method="POST", path="/packages/search$", count=1000)
    code, report = _fulfil(elryan.profile)
    assert code == EXIT_PARTIAL and "failed" not in _results(report), report
    creates = [r for r in elryan.shop.requests() if r["method"] == "POST" and r["path"].endswith("/packages/create")]
    assert len(creates) == 1, creates  # sent once, by the first run
    elryan.proxy.faults.clear()
    code, report = _fulfil(elryan.profile)
    assert code == EXIT_OK, report
    _one_package(elryan)
