"""Bench row for ``make bench``: variants read per second from the recorded 1,000-variant Odoo catalogue.

Replays ``cassettes/odoo18/bulk_1000.yaml`` (and the 16 one) through the real reader, odoorpc and vcrpy's
HTTP stubs, so the figure covers parsing and building canonical records, not the server's time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def bench_odoo_replay(version: int = 18, repeats: int = 5) -> dict[str, Any]:
    """Best of ``repeats`` replays: variants/second, RPC calls and the cassette size."""
    from connector.sources.odoo import OdooSettings, OdooSource
    from tests.odoo_vcr import PLACEHOLDER, make_vcr, seed_data, settings_kwargs

    env_name = f"CONNECTOR_TEST_ODOO{version}_PASSWORD"
    old = os.environ.get(env_name)
    os.environ[env_name] = PLACEHOLDER
    settings = OdooSettings(**settings_kwargs(version, languages=["fr_FR", "ar_001"],
                                              warehouses=seed_data.TEST_WAREHOUSES,
                                              image_base_url="https://shop.example.com",
                                              domain=[["categ_id.name", "=", seed_data.BULK_CATEG]]))
    best = float("inf")
    variants = calls = 0
    try:
        for _ in range(repeats):
            with make_vcr(version).use_cassette("bulk_1000.yaml", record_mode="none") as cass:
                t0 = time.perf_counter()
                source = OdooSource(settings)
                result = source.read()
                best = min(best, time.perf_counter() - t0)
                calls = cass.play_count
            variants = sum(len(p.variants) for p in result.products)
    finally:
        if old is None:
            os.environ.pop(env_name, None)
        else:
            os.environ[env_name] = old
    size = (ROOT / "cassettes" / f"odoo{version}" / "bulk_1000.yaml").stat().st_size
    return {"name": f"odoo{version} replay, 1,000 variants x 2 warehouses x 2 languages",
            "variants": variants, "seconds": round(best, 4), "variants_per_second": round(variants / best),
            "rpc_calls": calls, "cassette_bytes": size}


if __name__ == "__main__":
    for v in (18, 16):
        print(bench_odoo_replay(v))
