"""A marketplace's orders could not be read this run: the stock push raises no listed quantity anywhere (an order
placed there since the last good read is unknown, so its unit could be sold twice), lowers what goes down, and
says why per SKU, in the summary and the report; the exit code stays the order read's."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE
from connector.jsonutil import canonical_json, digest
from connector.mapping import load_mapping
from connector.marketplaces.registry import get_plugin
from connector.model import Product, StockLevel, Variant
from connector.sync.hold import hold_increases
from connector.sync.state import StateStore
from connector.sync.stock_policy import Hold
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.conftest import running_ecomlinx as ecomlinx_sandbox
from tests.test_orders_e2e import CATALOGUE, ecomlinx_stock, elebne_stock, sync, write_shop
from tests.workbooks import write_workbook


def variant(sku: str, qty: int, **attributes: str) -> Variant:
    return Variant(sku=sku, attributes=attributes, stock={"Main": StockLevel("Main", available=qty)},
                   stock_known=True, qty=qty)


def setup(name: str) -> tuple[Any, Any, dict[str, Any]]:
    plugin = get_plugin(name)
    settings = {**plugin.settings, "email": "shop@example.test"}
    adapter = plugin.make_adapter(None, settings, "acct", "secret")  # type: ignore[arg-type]
    return load_mapping(plugin.default_mapping), adapter, plugin.settings.get("defaults") or {}


def confirm(state: StateStore, name: str, products: list[Product]) -> None:
    """What the marketplace confirmed: these products' payloads, as a push would have left them in the state."""
    mapping, adapter, defaults = setup(name)
    for product in adapter.prepare(copy.deepcopy(products), state):
        for kind in ("stock", "price_stock"):
            if kind not in mapping.payloads:
                continue
            body = adapter.normalize(kind, mapping.payloads[kind].build(product, defaults))
            if body is not None:
                text = canonical_json(body)
                state.confirm(name, "acct", kind, [(product.key, digest(text), text, None)])


def held(state: StateStore, name: str, products: list[Product],
         listed: frozenset[str] | None = frozenset()) -> tuple[dict[str, Any], dict[str, Any]]:
    """(SKU -> held, SKU -> the quantity left to list) of ``products`` for ``name``; ``listed``: what is listed
    where the orders are unknown."""
    mapping, adapter, defaults = setup(name)
    prepared = adapter.prepare(copy.copy(products), state)
    got = hold_increases(prepared, products, mapping, adapter, state, name, "acct", defaults, Hold("why", listed))
    return got, {v.sku: v.qty for p in prepared for v in p.variants}


def tee(m: int, l_: int, xl: int | None = None) -> Product:
    variants = [variant("TEE-M", m, Size="M"), variant("TEE-L", l_, Size="L")]
    if xl is not None:
        variants.append(variant("TEE-XL", xl, Size="XL"))
    return Product(key="TEE", name="Tee", variants=variants)


def soap(qty: int) -> Product:
    return Product(key="SOAP", name="Soap", variants=[variant("SOAP", qty)])


@pytest.mark.parametrize("name", ["elebne", "elryan", "ecomlinx"])
def test_no_quantity_goes_above_what_each_shipped_marketplace_confirmed(tmp_path: Path, name: str) -> None:
    """Elebne's variants are matched by label, Elryan's items by SKU, EcomLinx holds one product per SKU: each
    variant is capped at its own confirmed quantity; decreases and unchanged quantities pass; a variant (or a
    product) never confirmed here is listed at 0 when it is listed where the orders are unknown, else as it is
    (nobody can have bought it there)."""
    new, fresh = Product(key="NEW", variants=[variant("NEW", 3)]), Product(key="FRESH", variants=[variant("FRESH", 2)])
    with StateStore.open(tmp_path / "s.sqlite") as state:
        confirm(state, name, [tee(2, 3), soap(4)])
        got, listed = held(state, name, [tee(5, 1, xl=6), soap(9), new, fresh],
                           listed=frozenset({"TEE", "SOAP", "NEW"}))
        assert listed == {"TEE-M": 2, "TEE-L": 1, "TEE-XL": 0, "SOAP": 4, "NEW": 0, "FRESH": 2}
        assert got == {"TEE-M": {"wanted": 5, "listed": 2}, "TEE-XL": {"wanted": 6, "listed": 0},
                       "SOAP": {"wanted": 9, "listed": 4}, "NEW": {"wanted": 3, "listed": 0}}
        # what is listed where the orders are unknown is not known (its mapping does not load): anything may be
        got, listed = held(state, name, [tee(5, 1, xl=6), fresh], listed=None)
        assert listed == {"TEE-M": 2, "TEE-L": 1, "TEE-XL": 0, "FRESH": 0}


def test_nothing_is_held_when_nothing_goes_up(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite") as state:
        confirm(state, "elebne", [tee(2, 3), soap(4)])
        got, listed = held(state, "elebne", [tee(2, 0), soap(4)])
    assert got == {} and listed == {"TEE-M": 2, "TEE-L": 0, "SOAP": 4}


def test_a_quantity_listed_as_a_product_total_is_shared_among_its_variants(tmp_path: Path) -> None:
    """An integrator's mapping that lists a product's total only: the variants share what was confirmed."""
    mapping_file = tmp_path / "total.yaml"
    mapping_file.write_text(
        "version: 1\nmarketplace: ecomlinx\npayloads:\n  stock:\n    key: sku\n    fields:\n"
        "      sku: product.key\n      quantity: product.qty\n", encoding="utf-8")
    plugin = get_plugin("ecomlinx")
    adapter = plugin.make_adapter(None, dict(plugin.settings), "acct", "secret")  # type: ignore[arg-type]
    mapping = load_mapping(str(mapping_file))
    with StateStore.open(tmp_path / "s.sqlite") as state:
        text = canonical_json({"sku": "TEE", "quantity": 4})
        state.confirm("ecomlinx", "acct", "stock", [("TEE", digest(text), text, None)])
        product = tee(3, 5)
        got = hold_increases([product], [product], mapping, adapter, state, "ecomlinx", "acct", {},
                             Hold("why", frozenset({"TEE"})))
    assert [v.qty for v in product.variants] == [3, 1]  # 4 in all, as confirmed
    assert got == {"TEE-L": {"wanted": 5, "listed": 1}}


# -- end to end on the sandboxes --------------------------------------------------------------------------------


@pytest.fixture
def ecomlinx(tmp_path: Path) -> Iterator[Any]:
    with ecomlinx_sandbox(tmp_path / "ecomlinx.sqlite", listed=[r["SKU"] for r in CATALOGUE]) as server:
        yield server


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    monkeypatch.setenv("ECOMLINX_API_KEY", get_plugin("ecomlinx").sandbox_key)


def restock(profile: Path, tea: int, soap: int) -> None:
    write_workbook(profile.parent / "products.xlsx", CATALOGUE, {"Warehouse": {"TEA-500": tea, "SOAP-01": soap}})


@pytest.mark.sandbox
def test_ecomlinx_orders_unreadable_no_quantity_is_raised_on_elebne_and_it_says_why(
        tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any, keys: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The last tea is sold on EcomLinx while the EcomLinx key is wrong; the merchant restocks one tea and sells
    soaps in the shop.  Elebne must not get 2 teas (one of them is sold), but does get the soaps' decrease."""
    shop = write_shop(tmp_path, elebne_sandbox, ecomlinx, "{to: workbook, workbook: orders.csv}")
    assert sync(shop)[0] == EXIT_OK
    assert elebne_stock(elebne_sandbox) == {"TEA-500": 1, "SOAP-01": 5}
    ecomlinx.create_order({"items": [{"sku": "TEA-500", "qty": 1}]})  # the last tea, unknown to the connector
    restock(shop, tea=2, soap=3)
    monkeypatch.setenv("ECOMLINX_API_KEY", "not-an-ecomlinx-key")
    capsys.readouterr()

    code, reports = sync(shop, "--dry-run")  # a dry run says the same, sends nothing
    assert code == EXIT_UNREACHABLE
    assert reports["elebne"]["not_raised"]["skus"] == {"TEA-500": {"wanted": 2, "listed": 1}}
    assert elebne_stock(elebne_sandbox) == {"TEA-500": 1, "SOAP-01": 5}

    code, reports = sync(shop)
    assert code == EXIT_UNREACHABLE  # the order read's: the EcomLinx key was refused
    assert elebne_stock(elebne_sandbox) == {"TEA-500": 1, "SOAP-01": 3}  # lowered: sent; raised: held
    elebne = reports["elebne"]
    reason = elebne["not_raised"]["reason"]
    assert reason.startswith("EcomLinx orders could not be read (") and reason.endswith(
        "; open orders there are unknown")
    assert elebne["not_raised"]["skus"] == {"TEA-500": {"wanted": 2, "listed": 1}}
    rows = {r["sku"]: r for r in elebne["rows"]}
    assert rows["TEA-500"]["reason"] == f"not raised (2 wanted, 1 listed): {reason}"
    assert rows["SOAP-01"]["status"] == "pushed" and rows["SOAP-01"]["reason"] is None
    assert elebne["notes"][0].startswith("no listed quantity was raised this run: EcomLinx orders could not be read")
    text = " ".join(capsys.readouterr().out.split())
    assert "oversell guard: no listed quantity is raised by this run: EcomLinx orders could not be read" in text
    assert "not raised: EcomLinx orders could not be read" in text and "TEA-500: 2 wanted, 1 listed" in text
    assert "exit code 0 for this push: nothing failed; 1 SKU(s) not raised" in text  # Elebne's, not "everything"

    monkeypatch.setenv("ECOMLINX_API_KEY", get_plugin("ecomlinx").sandbox_key)  # the key fixed: the order is read
    code, reports = sync(shop)
    assert code == EXIT_OK, reports
    assert "not_raised" not in reports["elebne"]
    assert elebne_stock(elebne_sandbox) == {"TEA-500": 1, "SOAP-01": 3}  # 2 in the shop, 1 sold on EcomLinx


@pytest.mark.sandbox
def test_an_unreadable_order_holds_increases_and_the_run_exits_1(
        tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any, keys: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A read that fails on an order it cannot read (read_error, exit 1), not on the key: the same hold."""
    from connector.marketplaces.ecomlinx import orders as ecomlinx_orders

    shop = write_shop(tmp_path, elebne_sandbox, ecomlinx, "{to: workbook, workbook: orders.csv, from: [ecomlinx]}")
    assert sync(shop)[0] == EXIT_OK
    restock(shop, tea=4, soap=5)

    def unreadable(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("order ord_1: unknown status 'lost_in_space'")

    monkeypatch.setattr(ecomlinx_orders.EcomLinxOrderReader, "changed_since", unreadable)
    code, reports = sync(shop)
    assert code == EXIT_FAILED
    assert reports["orders-ecomlinx"]["orders"]["read_error"]
    assert reports["elebne"]["not_raised"]["skus"] == {"TEA-500": {"wanted": 4, "listed": 1}}
    assert reports["ecomlinx"]["not_raised"]["skus"] == {"TEA-500": {"wanted": 4, "listed": 1}}
    assert elebne_stock(elebne_sandbox)["TEA-500"] == 1 and ecomlinx_stock(ecomlinx)["TEA-500"] == 1


def test_every_way_a_read_ends_early_says_why_and_holds_every_target(tmp_path: Path) -> None:
    """Refused, unreachable, spent budget (read again next run), an unreadable order: each gives the stock push
    its reason; ``with_hold`` puts it in every target's stock policy, after the reservation."""
    from connector.errors import BudgetExhausted, MarketplaceUnreachable
    from connector.orders.profile import with_hold
    from connector.orders.run import _read_failed
    from connector.sync.report import RunReport
    from connector.sync.session import SyncOptions
    from connector.sync.stock_policy import StockPolicy

    def why(exc: Exception) -> tuple[str, int]:
        report = RunReport(run_id="r", source="s", target="t", dry_run=False, started_at="now", orders={"read": 0})
        return _read_failed(report, "Elryan", exc), report.compute_exit_code()

    assert why(MarketplaceUnreachable("no answer from 127.0.0.1")) == (
        "Elryan orders could not be read (no answer from 127.0.0.1)", EXIT_UNREACHABLE)
    assert why(BudgetExhausted("read", 10)) == (
        "Elryan orders were not read to the end (daily budget for 'read' calls is spent (10/day); the next run "
        "carries on)", 3)
    assert why(ValueError("order 7: no lines")) == ("Elryan orders could not be read (order 7: no lines)", EXIT_FAILED)

    targets = [SyncOptions(target=t, state_path=tmp_path / "s.sqlite", secret=None,
                           stock_policy=StockPolicy(reserved={"TEA": 1})) for t in ("elebne", "ecomlinx")]
    assert with_hold(targets, None) == targets
    hold = Hold("Elryan orders could not be read (x); open orders there are unknown", frozenset({"TEA"}))
    assert [(t.stock_policy.hold, dict(t.stock_policy.reserved)) for t in with_hold(targets, hold)] == [
        (hold, {"TEA": 1})] * 2


def test_the_hold_names_every_unread_marketplace_and_what_is_listed_there(tmp_path: Path) -> None:
    from connector.orders.profile import unread_hold
    from connector.orders.run import MarketplaceOrders, OrdersOutcome
    from connector.sync.report import RunReport
    from connector.sync.session import SyncOptions

    def run(target: str, account: str, unread: str | None) -> MarketplaceOrders:
        report = RunReport(run_id="r", source="s", target=target, dry_run=False, started_at="now")
        return MarketplaceOrders(target, account, report, unread=unread)

    def options(target: str) -> SyncOptions:
        return SyncOptions(target=target, state_path=tmp_path / "s.sqlite", secret=None)

    with StateStore.open(tmp_path / "s.sqlite") as state:
        confirm(state, "elebne", [tee(2, 3)])
        state.confirm("ecomlinx", "acct", "stock", [("SOAP", "h", "{}", None)])
        state.confirm("elryan", "acct", "price_stock", [("CAP", "h", "{}", None)])  # its orders were read
        outcome = OrdersOutcome(runs=[run("elebne", "acct", "Elebne orders could not be read (a)"),
                                      run("elryan", "acct", None),
                                      run("ecomlinx", "acct", "EcomLinx orders were not read to the end (b)")])
        hold = unread_hold(outcome, state, options)
        assert unread_hold(OrdersOutcome(runs=[run("elryan", "acct", None)]), state, options) is None
    assert hold == Hold("Elebne orders could not be read (a); EcomLinx orders were not read to the end (b); open "
                        "orders there are unknown", frozenset({"TEE", "SOAP"}))


@pytest.mark.sandbox
@pytest.mark.parametrize(("reserve", "listed"), [("true", 1), ("false", 3)])
def test_the_marketplace_whose_own_orders_failed_is_held_unless_the_guard_is_off(
        tmp_path: Path, elebne_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, reserve: str,
        listed: int) -> None:
    """Elebne's own orders cannot be read (its answer is not a page of orders): the tea restocked in the shop is
    not raised on Elebne; with ``reserve_open_orders: false`` (no oversell guard) it is, as before."""
    from connector.marketplaces.elebne import PLUGIN as ELEBNE
    from connector.marketplaces.elebne.client import ElebneError
    from tests.orders_fixtures import ListReader
    from tests.test_orders_flow import LAST_UNIT, write_profile
    from tests.test_orders_flow import sync as sync_one

    reader = ListReader("elebne")
    monkeypatch.setattr(ELEBNE, "make_order_reader", lambda http, settings, account, secret: reader)
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    write_workbook(tmp_path / "products.xlsx", LAST_UNIT, {"Warehouse": {"TEA-500": 1, "SOAP-01": 5}})
    profile = write_profile(tmp_path, base_url=elebne_sandbox.base_url,
                            orders=f"{{to: workbook, workbook: orders.xlsx, reserve_open_orders: {reserve}}}")
    assert sync_one(profile)[0] == EXIT_OK
    write_workbook(tmp_path / "products.xlsx", LAST_UNIT, {"Warehouse": {"TEA-500": 3, "SOAP-01": 4}})
    reader.error = ElebneError(400, "bad_request", "unknown filter")
    code, report = sync_one(profile)
    assert code == EXIT_FAILED
    assert elebne_stock(elebne_sandbox) == {"TEA-500": listed, "SOAP-01": 4}
    assert ("not_raised" in report) is (reserve == "true")
