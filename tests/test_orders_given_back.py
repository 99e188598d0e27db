"""A cancellation gives the marketplace its units back by itself: the stock it lists is then no longer what the
connector last sent.  When the quantity the connector wants is the same as before (0: the last unit sold twice,
on two marketplaces, before a sync could hold it back), the push used to find its payload unchanged and send
nothing, and the marketplace kept listing the unit its cancellation gave back, which the shop does not have:
the last unit was sold once more.  Found by a kill campaign over three sandboxes (Elryan listed OIL-1 at 1 with
0 wanted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.errors import EXIT_OK
from tests.conftest import SandboxHandle
from tests.test_orders_e2e import ecomlinx, ecomlinx_stock, elebne_call, elebne_stock, keys, sync, write_shop  # noqa: F401

pytestmark = pytest.mark.sandbox


def test_a_unit_a_cancellation_gives_back_is_set_again_when_the_wanted_quantity_did_not_change(
        tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any, keys: None) -> None:  # noqa: F811
    shop = write_shop(tmp_path, elebne_sandbox, ecomlinx, "{to: workbook, workbook: orders.csv}")
    assert sync(shop)[0] == EXIT_OK
    assert ecomlinx_stock(ecomlinx)["TEA-500"] == elebne_stock(elebne_sandbox)["TEA-500"] == 1
    # the last tea is bought on both marketplaces before the next sync could hold it back
    ecomlinx.create_order({"items": [{"sku": "TEA-500", "qty": 1}], "customer": {"name": "Fatimetou"}})
    order = elebne_call(elebne_sandbox, "/orders/simulate", {"items": [{"externalId": "TEA-500", "quantity": 1}],
                                                             "customer": {"name": "Mohamed", "city": "Atar"}})
    assert sync(shop)[0] == EXIT_OK  # 2 reserved of 1: listed 0 everywhere
    assert ecomlinx_stock(ecomlinx)["TEA-500"] == elebne_stock(elebne_sandbox)["TEA-500"] == 0
    # the shop cannot send the Elebne one: it is cancelled there, and Elebne gives its unit back
    elebne_call(elebne_sandbox, f"/orders/{order['id']}/simulate", {"status": "CANCELLED"})
    assert elebne_stock(elebne_sandbox)["TEA-500"] == 1
    before = len(elebne_sandbox.writes())
    code, reports = sync(shop, "--dry-run")  # shows what the real run sends: the stock given back set again
    assert code == EXIT_OK, reports
    assert len(elebne_sandbox.writes()) == before
    row = next(r for r in reports["elebne"]["rows"] if r["sku"] == "TEA-500" and r["sheet"] == "Products")
    assert (row["status"], row["actions"]) == ("pushed", ["stock"]), row
    assert any("would be sent again" in n and "TEA-500" in n for n in reports["elebne"]["notes"])
    code, reports = sync(shop)
    assert code == EXIT_OK, reports
    assert reports["elebne"]["reserved"]["TEA-500"] == {"reserved": 1, "listed": 0}
    assert elebne_stock(elebne_sandbox)["TEA-500"] == 0  # the unit is EcomLinx's customer's
    assert ecomlinx_stock(ecomlinx)["TEA-500"] == 0
    before = len(elebne_sandbox.writes())
    assert sync(shop)[0] == EXIT_OK
    assert len(elebne_sandbox.writes()) == before  # said once: the next run sends nothing again


def test_a_cancellation_typed_in_the_workbook_is_set_again_by_the_same_sync_and_only_once(
        tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any, keys: None) -> None:  # noqa: F811
    import csv

    shop = write_shop(tmp_path, elebne_sandbox, ecomlinx, "{to: workbook, workbook: orders.csv}")
    assert sync(shop)[0] == EXIT_OK
    placed = ecomlinx.create_order({"items": [{"sku": "TEA-500", "qty": 1}], "customer": {"name": "Fatimetou"}})
    elebne_call(elebne_sandbox, "/orders/simulate", {"items": [{"externalId": "TEA-500", "quantity": 1}],
                                                     "customer": {"name": "Mohamed", "city": "Atar"}})
    assert sync(shop)[0] == EXIT_OK
    assert ecomlinx_stock(ecomlinx)["TEA-500"] == 0
    path = tmp_path / "orders.csv"  # the merchant cancels the EcomLinx order: no tea for it
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    for row in rows[1:]:
        if row[1] == placed["id"]:
            row[rows[0].index("Status")] = "cancelled"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, reports = sync(shop)  # orders in, the cancellation out (EcomLinx gives the tea back), the stock push
    assert code == EXIT_OK, reports
    assert next(o for o in ecomlinx.dump_state()["orders"] if o["id"] == placed["id"])["status"] == "cancelled"
    assert ecomlinx_stock(ecomlinx)["TEA-500"] == 0  # set again by the same sync: the tea is Elebne's customer's
    before = ecomlinx.requests_log()[-1]["id"]
    assert sync(shop)[0] == EXIT_OK  # reads the order back cancelled: nothing to set again
    assert [r for r in ecomlinx.requests_log(before) if r["method"] == "PATCH"] == []
    assert ecomlinx_stock(ecomlinx)["TEA-500"] == elebne_stock(elebne_sandbox)["TEA-500"] == 0


def test_a_note_waits_for_the_run_that_plans_its_sku_and_the_payload_keeps_the_quantity_last_sent(
        tmp_path: Path) -> None:
    """A run whose products do not hold a noted SKU (an incremental Odoo read that did not bring it, a row skipped
    this run) keeps the note for the run that plans it; the run that does marks the payload stale instead of
    forgetting it: its body (the quantity last sent) is what the mass-change guard and a later stock hold read,
    should the push not confirm it."""
    from types import SimpleNamespace as NS

    from connector.orders.book import GIVEN_BACK
    from connector.sync.runner import resend_given_back
    from connector.sync.state import StateStore
    from connector.sync.state.store import STALE_HASH

    with StateStore.open(tmp_path / "state.sqlite") as state:
        state.confirm("elryan", "main", GIVEN_BACK, [("o1/l1", "", '{"sku": "OIL-1", "quantity": 1}', None)])
        state.confirm("elryan", "main", "price_stock", [("OIL-1", "h1", '{"quantity": 0}', "77")])
        state.mark_records("elryan", "main", "price_stock", [("OIL-1", "h1", "r1")])
        session = NS(state=state, plugin=NS(name="elryan", title="Elryan"), account="main",
                     opts=NS(target="elryan", given_back=frozenset()), report=NS(notes=[]),
                     adapter=NS(roles={"product": "catalogue", "price_stock": "stock"}))
        resend_given_back(session, [NS(key="TEA-1", variants=[NS(sku="TEA-1")])])
        # a dry run: what would be sent again, the state left as it is
        assert resend_given_back(session, [NS(key="OIL-1", variants=[NS(sku="OIL-1")])], write=False) == {
            "price_stock": ["OIL-1"]}
        assert list(state.hashes("elryan", "main", GIVEN_BACK)) == ["o1/l1"]
        assert state.hashes("elryan", "main", "price_stock") == {"OIL-1": "h1"}
        assert list(state.hashes("elryan", "main", GIVEN_BACK)) == ["o1/l1"]  # kept for a later run
        assert state.hashes("elryan", "main", "price_stock") == {"OIL-1": "h1"}
        resend_given_back(session, [NS(key="OIL-1", variants=[NS(sku="OIL-1")])])
        assert state.hashes("elryan", "main", GIVEN_BACK) == {}
        assert state.hashes("elryan", "main", "price_stock") == {"OIL-1": STALE_HASH}  # planned and sent again
        assert state.record_marks("elryan", "main", "price_stock") == {}  # mapped again, not skipped as unchanged
        assert state.bodies("elryan", "main", "price_stock", ["OIL-1"]) == {"OIL-1": {"quantity": 0}}
        assert state.remote_ids("elryan", "main", "price_stock") == {"OIL-1": "77"}
