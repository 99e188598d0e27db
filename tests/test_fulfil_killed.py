"""``connector fulfil`` killed with SIGKILL at random points (a real process, each EcomLinx PATCH slowed by the
sandbox so the kill lands before, during and after calls), then re-run until it finishes: every order reaches
shipped with exactly one PATCH per status, never a second one, and a dry run in between sends nothing."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_OK
from tests import test_fulfilment_ecomlinx_e2e as e2e
from tests.test_fulfilment_ecomlinx_e2e import mark, patches, remote
from tests.test_sync_killed import _kill_after

pytestmark = pytest.mark.sandbox
ecomlinx, keys, shop = e2e.ecomlinx, e2e.keys, e2e.shop  # the e2e test's sandbox, keys and shop
ORDERS = 6


def connector(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import sys; from connector.cli import main; sys.exit(main())",
                             *args], env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_fulfil_killed_at_random_points_ships_each_order_once(shop: Path, ecomlinx: Any) -> None:
    assert main(["sync", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    made = [ecomlinx.create_order({"items": [{"sku": "SOAP-01", "qty": 1}], "customer": {"name": f"C{i}"}})
            for i in range(ORDERS)]
    assert main(["orders", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    for order in made:
        mark(shop.parent / "orders.xlsx", "SOAP-01", "shipped", f"AWB-{order['id']}", "Delhivery Express",
             order_id=order["id"])
    chance = random.Random(14)
    progress = []
    args = ("fulfil", "--profile", str(shop), "--no-progress")
    for _ in range(6):
        ecomlinx.add_fault("delay", method="PATCH", path="^/v1/orders/", delay=0.3, count=1000)
        since = max((r["id"] for r in ecomlinx.requests_log()), default=0)
        run = connector(*args)
        _kill_after(run, lambda since=since: len(patches(ecomlinx, since)), chance.randint(0, 4), chance)
        run.wait()
        ecomlinx.faults.clear()
        dry = connector(*args, "--dry-run")
        seen = len(patches(ecomlinx))
        _, err = dry.communicate(timeout=120)
        assert dry.returncode in (0, 5), err.decode()  # 5: the killed run's lock, if the state keeps one
        assert b"Traceback" not in err
        assert ecomlinx.wait_idle()  # a PATCH the killed process had sent, still in the sandbox's delay, lands
        assert len(patches(ecomlinx)) >= seen
        progress.append(len(patches(ecomlinx)))
    assert any(0 < n < 3 * ORDERS for n in progress), progress  # some kills landed mid-run
    last = connector(*args)
    _, err = last.communicate(timeout=300)
    assert last.returncode == EXIT_OK, err.decode()
    for order in made:
        mine = [r for r in patches(ecomlinx) if r["path"] == f"/v1/orders/{order['id']}"]
        assert [r["status"] for r in mine] == [200, 200, 200], mine  # processing, ready, shipped: each once
        assert (remote(ecomlinx, order["id"])["status"], remote(ecomlinx, order["id"])["awb"]) == (
            "shipped", f"AWB-{order['id']}")
