"""``make bench`` row: RPC calls per 100 new orders into Odoo, as recorded on real Odoo 16 and 18.

Read from the cassettes of ``tests/test_orders_odoo_rpc.py`` (``orders_rpc_cold`` / ``orders_rpc_warm``: 100
new orders from 100 new customers, team, warehouse, tags and pricelist named in the settings; cold = an empty
state, warm = the next run, with the ids the first one kept).  The issue's target: at most 10 calls.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bench.verdict import met

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
TARGET = 10
Row = tuple[str, str, str, str]


def recorded_calls(version: int, name: str) -> int | None:
    path = CASSETTES / f"odoo{version}" / f"{name}.yaml"
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return len(data.get("interactions") or [])


def bench_orders_odoo() -> dict[str, list[Row]]:
    rows: list[Row] = []
    for version in (16, 18):
        cold, warm = recorded_calls(version, "orders_rpc_cold"), recorded_calls(version, "orders_rpc_warm")
        if cold is None or warm is None:
            rows.append((f"orders into Odoo {version}: RPC calls per 100 new orders", "not recorded",
                         f"<= {TARGET}", "n/a"))
            continue
        rows.append((f"orders into Odoo {version}: RPC calls per 100 new orders (recorded; warm run, cold {cold})",
                     str(warm), f"<= {TARGET}", met(warm <= TARGET)))
    return {"rows": rows}
