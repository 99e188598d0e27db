"""The orders flow into a real Odoo, as a merchant runs it: `connector orders --profile` and `connector sync
--profile` with an Odoo source and `orders: {to: odoo}`, orders placed on the EcomLinx sandbox with its control
call, the stock pushed to Elebne and EcomLinx.

Only Odoo is recorded (cassettes/odoo16|odoo18/flow_*.yaml, from the orders lab databases: see
tests/orders_odoo_fixtures.py); the sandboxes run live on loopback.  Replayed in CI with record mode ``none``: an
Odoo request the cassette does not hold fails the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import vcr

from connector.cli import main
from connector.errors import EXIT_FAILED, EXIT_OK
from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.conftest import running_ecomlinx as ecomlinx_sandbox
from tests.odoo_vcr import CASSETTES, RECORDING, make_vcr, normalised_body, password
from tests.orders_odoo_fixtures import ORDERS_VERSIONS, calls, orders_seed, password_env, reset_database, server

pytestmark = pytest.mark.sandbox

SKUS = orders_seed.SKUS[:3]  # the stock the profile reads: OR-001..OR-003, 1000 each in WH
UNKNOWN = "NOT-IN-ODOO"  # listed on EcomLinx, never in Odoo
SLA = "2026-12-10T12:00:00Z"


@contextmanager
def odoo_only(version: int, name: str) -> Iterator[Any]:
    """``cassettes/odoo<version>/<name>.yaml`` for the requests to the orders Odoo; every other request (the
    sandboxes) is sent for real."""
    netloc = urlsplit(server(version)[0]).netloc
    base = make_vcr(version)
    recorded = base.before_record_request

    def odoo_requests_only(request: Any) -> Any:
        return recorded(request) if urlsplit(request.uri).netloc == netloc else None

    cass_vcr = vcr.VCR(cassette_library_dir=base.cassette_library_dir, record_mode=base.record_mode,
                       match_on=base.match_on, before_record_request=odoo_requests_only,
                       before_record_response=base.before_record_response, decode_compressed_response=True,
                       serializer="yaml")
    cass_vcr.matchers.update(base.matchers)
    cass_vcr.register_matcher("odoo_body", _same_body_but_times)
    if RECORDING:
        (CASSETTES / f"odoo{version}" / f"{name}.yaml").unlink(missing_ok=True)
    with cass_vcr.use_cassette(f"{name}.yaml", allow_playback_repeats=False) as cass:
        yield cass
    if not RECORDING:
        assert cass.all_played, f"{name}: recorded Odoo calls this run did not make"


_ODOO_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def _same_body_but_times(r1: Any, r2: Any) -> None:
    """As ``match_odoo_body``, Odoo datetimes aside: the fulfilment read's window starts at the sandbox order's
    creation time (the clock of the run), which differs from the recording's; the calls and their order stay
    asserted (``all_played``, no repeats)."""
    a, b = (_ODOO_TIME.sub("<time>", normalised_body(r.body)) for r in (r1, r2))
    assert a == b, "JSON bodies differ (times aside)"


@pytest.fixture(params=ORDERS_VERSIONS, ids=lambda v: f"odoo{v}")
def version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    v = int(request.param)
    monkeypatch.setenv(password_env(v), password(v))
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    monkeypatch.setenv("ECOMLINX_API_KEY", ECOMLINX.sandbox_key)
    return v


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[Any]:
    with ecomlinx_sandbox(tmp_path / "ecomlinx.sqlite", listed=SKUS) as sandbox:
        sandbox.seed_products([{"sku": UNKNOWN, "name": "Sold on EcomLinx only", "price": 4, "stock": 5,
                                "status": "live"}])
        yield sandbox


def write_profile(tmp_path: Path, version: int, elebne: SandboxHandle, ecomlinx: Any) -> Path:
    url, db = server(version)
    profile = tmp_path / "shop.yaml"
    profile.write_text(
        "name: shop\n"
        f"source: {{type: odoo, url: '{url}', db: {db}, user: admin, password_env: {password_env(version)}, "
        f"warehouses: [WH], domain: [[default_code, in, [{', '.join(SKUS)}]]]}}\n"
        "state: state.sqlite\n"
        "currency: {account: USD, rates: {EUR: \"1.08\"}}\n"  # Odoo 16 sells in EUR

        "missing: keep\n"
        "targets:\n"
        f"  elebne: {{account: shop, base_url: '{elebne.base_url}'}}\n"
        f"  ecomlinx: {{account: main, base_url: '{ecomlinx.api_url}', settings: {{order_currency: USD}}}}\n"
        "orders:\n"
        "  to: odoo\n"
        "  from: [ecomlinx]\n"
        "  odoo:\n"
        f"    delivery_product: {orders_seed.SHIP}\n"
        f"    marketplaces: {{ecomlinx: {{pricelist: Marketplace USD, partner: {orders_seed.WALK_IN}}}}}\n",
        encoding="utf-8")
    return profile


def run(command: str, profile: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    for old in profile.parent.glob("report*.json"):
        old.unlink()
    report = profile.parent / "report.json"
    code = main([command, "--profile", str(profile), "--no-progress", "--report", str(report), *extra])
    found = {p.stem.removeprefix("report-"): json.loads(p.read_text(encoding="utf-8"))
             for p in profile.parent.glob("report*.json")}
    return code, found


def order_results(report: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {o["order_number"]: (o["result"], o["reason"]) for o in report["orders"]["orders"]}


def elebne_stock(sandbox: SandboxHandle) -> dict[str, int]:
    return {k: p["quantity"] for k, p in sandbox.products().items()}


def ecomlinx_stock(sandbox: Any) -> dict[str, int]:
    return {p["sku"]: p["stock"] for p in sandbox.dump_state()["products"]}


def place(sandbox: Any, number: str, sku: str, qty: int) -> dict[str, Any]:
    return sandbox.create_order({"channel": "amazon_in", "channel_order_id": number, "sla_deadline": SLA,
                                 "items": [{"sku": sku, "qty": qty, "price": 12.5}],
                                 "customer": {"name": f"Buyer of {number}", "email": f"{number.lower()}@example.com"}})


def sale_orders(version: int, cass_name: str, references: list[str]) -> list[dict[str, Any]]:
    """The sale orders Odoo holds for ``references`` (recorded too)."""
    from connector.sources.odoo import OdooSettings
    from connector.sources.odoo.backend import open_backend

    url, db = server(version)
    with odoo_only(version, cass_name):
        backend = open_backend(OdooSettings(url=url, db=db, password_env=password_env(version)))
        try:
            return backend.search_read("sale.order", [("client_order_ref", "in", references)],
                                       ["client_order_ref", "state", "amount_untaxed"], order="id")
        finally:
            backend.close()


def test_orders_into_odoo_through_the_cli_and_the_stock_that_follows(
        version: int, tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    reset_database(version, password(version))
    shop = write_profile(tmp_path, version, elebne_sandbox, ecomlinx)

    with odoo_only(version, "flow_1_sync"):
        code, reports = run("sync", shop)
    assert code == EXIT_OK, reports
    assert elebne_stock(elebne_sandbox) == dict.fromkeys(SKUS, orders_seed.STOCK)
    assert {k: v for k, v in ecomlinx_stock(ecomlinx).items() if k in SKUS} == dict.fromkeys(SKUS, orders_seed.STOCK)

    # a customer buys 2 of OR-001 on EcomLinx; `connector orders` brings it into Odoo as a confirmed sale order
    place(ecomlinx, "FLOW-1", SKUS[0], 2)
    with odoo_only(version, "flow_2_orders") as cass:
        code, reports = run("orders", shop)
    assert code == EXIT_OK, reports
    assert order_results(reports["report"]) == {"FLOW-1": ("imported", None)}
    made = calls(cass)
    assert [(m, meth) for m, meth, _ in made if meth in ("create", "action_confirm")] == [
        ("res.partner", "create"), ("sale.order", "create"), ("sale.order", "action_confirm")]
    vals = next(arg for m, meth, arg in made if (m, meth) == ("sale.order", "create"))[0]
    assert vals["client_order_ref"] == "ecomlinx:FLOW-1" and vals["commitment_date"] == "2026-12-10 12:00:00"
    assert vals["order_line"][0][2]["product_uom_qty"] == 2 and vals["order_line"][0][2]["price_unit"] == 12.5
    out = " ".join(capsys.readouterr().out.split())
    assert "Orders EcomLinx (main) -> Odoo" in out and "imported │ 1" in out
    assert sale_orders(version, "flow_2_check", ["ecomlinx:FLOW-1"]) == [
        {"id": int(reports["report"]["orders"]["orders"][0]["destination_id"]), "client_order_ref": "ecomlinx:FLOW-1",
         "state": "sale", "amount_untaxed": 25.0}]

    # again: nothing new, Odoo is not even asked
    with odoo_only(version, "flow_3_orders_again") as cass:
        code, reports = run("orders", shop)
    assert code == EXIT_OK
    assert order_results(reports["report"]) == {"FLOW-1": ("unchanged", None)}
    assert len(cass.requests) == 0

    # another order, for 3 of OR-002; `connector sync` imports it, then reads Odoo's stock, which holds both
    place(ecomlinx, "FLOW-2", SKUS[1], 3)
    with odoo_only(version, "flow_4_sync") as cass:
        code, reports = run("sync", shop)
    assert code == EXIT_OK, reports
    # one connection for the orders and the stock read of the same Odoo (the orders step hands it over)
    assert [c[0] for c in calls(cass)].count("/web/webclient/version_info") == 1
    assert order_results(reports["orders-ecomlinx"])["FLOW-2"] == ("imported", None)
    assert "FLOW-1" not in order_results(reports["orders-ecomlinx"]) or \
        order_results(reports["orders-ecomlinx"])["FLOW-1"][0] == "unchanged"
    # Odoo's free quantity already holds what was sold: the guard does not subtract it a second time
    assert reports["elebne"].get("reserved") in (None, {})
    want = {SKUS[0]: orders_seed.STOCK - 2, SKUS[1]: orders_seed.STOCK - 3, SKUS[2]: orders_seed.STOCK}
    assert elebne_stock(elebne_sandbox) == want
    assert {k: v for k, v in ecomlinx_stock(ecomlinx).items() if k in SKUS} == want
    out = " ".join(capsys.readouterr().out.split())
    assert "Orders EcomLinx (main) -> Odoo" in out
    assert "open orders: 0 hold back 0 unit(s) of 0 SKU(s) on every marketplace (2 more already reserved by the " \
           "source, not counted twice)" in out

    # an order of a SKU Odoo does not know: needs attention (exit 1), on every run until it imports
    place(ecomlinx, "FLOW-3", UNKNOWN, 1)
    for n in (5, 6):
        with odoo_only(version, f"flow_{n}_attention"):
            code, reports = run("sync", shop)
        assert code == EXIT_FAILED, reports
        section = reports["orders-ecomlinx"]["orders"]
        result, reason = order_results(reports["orders-ecomlinx"])["FLOW-3"]
        assert result == "needs_attention" and f"SKU {UNKNOWN} is not in Odoo" in reason
        assert section["counts"]["needs_attention"] == 1 and section["attention"] == 1
        out = " ".join(capsys.readouterr().out.split())
        assert "needs attention" in out and UNKNOWN in out
        assert elebne_stock(elebne_sandbox) == want  # the other SKUs' stock is as Odoo says


def test_shipped_or_cancelled_in_odoo_reaches_ecomlinx_once(
        version: int, tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any) -> None:
    """The ERP admin's round trip: two EcomLinx orders come into Odoo; one delivery is validated with a tracking
    reference and a carrier, the other sale order is cancelled; `connector sync` sends EcomLinx the shipment
    (awb, the carrier mapped to EcomLinx's courier name) and the cancellation, and the next run sends nothing."""
    from tests.fixtures import odoo_fulfil_seed as fulfil_seed
    from tests.odoo_vcr import seed_data

    reset_database(version, password(version))
    shop = write_profile(tmp_path, version, elebne_sandbox, ecomlinx)
    shop.write_text(shop.read_text(encoding="utf-8") + "  fulfilment:\n    carriers: {ecomlinx: {"
                    f"'{fulfil_seed.CARRIER}': Delhivery}}}}\n", encoding="utf-8")
    with odoo_only(version, "round_1_sync"):
        assert run("sync", shop)[0] == EXIT_OK
    shipped, cancelled = place(ecomlinx, "ROUND-1", SKUS[0], 2), place(ecomlinx, "ROUND-2", SKUS[1], 1)
    with odoo_only(version, "round_2_orders"):
        code, reports = run("orders", shop)
    assert code == EXIT_OK, reports
    sale = {r["order_number"]: r["destination_id"] for r in reports["report"]["orders"]["orders"]}

    if RECORDING:  # what the admin does in Odoo (replays never reach a server: the next cassettes hold it)
        rpc = seed_data.Rpc(*server(version), "admin", password(version))
        picking = fulfil_seed.deliveries(rpc, int(sale["ROUND-1"]), state="assigned")[0]
        fulfil_seed.validate(rpc, picking["id"], tracking="TRK-ROUND-1", carrier_id=fulfil_seed.carrier(rpc))
        fulfil_seed.cancel(rpc, int(sale["ROUND-2"]))

    with odoo_only(version, "round_3_sync") as cass:
        code, reports = run("sync", shop)
    assert code == EXIT_OK, reports
    assert [c[0] for c in calls(cass)].count("/web/webclient/version_info") <= 1  # one login for the whole run
    rows = {r["reference"]: r for r in reports["fulfil-ecomlinx"]["fulfilment"]["orders"]}
    assert rows["ecomlinx:ROUND-1"]["result"] == "shipped" and rows["ecomlinx:ROUND-2"]["result"] == "cancelled"
    remote = {o["id"]: o for o in ecomlinx.dump_state()["orders"]}
    assert (remote[shipped["id"]]["status"], remote[shipped["id"]]["awb"], remote[shipped["id"]]["courier"]) == (
        "shipped", "TRK-ROUND-1", "Delhivery")
    assert remote[cancelled["id"]]["status"] == "cancelled"

    before = len(ecomlinx.requests_log())
    with odoo_only(version, "round_4_sync"):
        code, reports = run("sync", shop)
    assert code == EXIT_OK, reports
    assert [r for r in ecomlinx.requests_log(before) if r["method"] == "PATCH"] == []  # nothing sent twice
