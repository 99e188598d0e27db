"""Aleta source benchmark: variants read per second from the sandbox over loopback, and HTTP requests.

``bench_aleta()`` starts an Aleta sandbox with ~5,000 generated variants, reads the whole catalogue and its
stock through the source (``AletaSource``, header auth, default settings), and returns the numbers plus
``rows`` for ``make bench`` (bench/run.py).  The minimum the API allows: ``ceil(products / 250)`` product
pages (the documented maximum page size) plus the stock batches needed when every request line may use the
8 KB common to HTTP servers (the document sets no limit on SKUs per request; the client's default batches
stay under 4,000 characters, configurable with ``stock_url_limit``).
"""

from __future__ import annotations

import math
import time
from typing import Any

from connector.sources.aleta.client import AletaClient
from connector.sources.aleta.reader import AletaSource
from connector.sources.aleta.sandbox import MAX_URL_LENGTH, SANDBOX_KEY, create_sandbox
from connector.sources.aleta.settings import AletaSettings

VARIANTS = 5_000


def bench_aleta(variants: int = VARIANTS, repeat: int = 3) -> dict[str, Any]:
    with create_sandbox(variants=variants, seed=1, locations=2) as server:
        settings = AletaSettings.from_config({"base_url": server.url})
        best = math.inf
        result = stats = None
        for _ in range(repeat):
            source = AletaSource(settings, AletaClient.connect(settings.api_base, SANDBOX_KEY))
            started = time.perf_counter()
            result = source.read(None, full=True)
            best = min(best, time.perf_counter() - started)
            stats = source.client.stats
            skus = [v.sku for p in result.products for v in p.variants]
            widest = AletaClient.connect(settings.api_base, SANDBOX_KEY, stock_url_limit=MAX_URL_LENGTH)
            min_stock = len(widest.stock_batches(skus))
            widest.close()
            source.close()
    assert result is not None and stats is not None
    read = sum(len(p.variants) for p in result.products)
    pages, stock = stats.requests.get("products", 0), stats.requests.get("stock", 0)
    min_pages = math.ceil(len(result.products) / 250)
    per_second = read / best
    return {
        "variants_generated": variants, "variants_read": read, "products": len(result.products),
        "seconds": round(best, 3), "variants_per_second": round(per_second),
        "requests": {"pages": pages, "stock_batches": stock, "other": stats.total - pages - stock,
                     "total": stats.total},
        "minimum_requests": {"pages": min_pages, "stock_batches": min_stock, "total": min_pages + min_stock},
        "rows": [
            (f"Aleta sandbox read over loopback ({read:,} active of {variants:,} variants, stock included)",
             f"{per_second:,.0f} variants/s", "", ""),
            ("Aleta HTTP requests (pages + stock batches)", f"{pages} + {stock} = {pages + stock} "
             f"(+{stats.total - pages - stock} health/locations)",
             f"API minimum {min_pages} + {min_stock} = {min_pages + min_stock}",
             f"{(pages + stock) / (min_pages + min_stock):.1f}x"),
        ],
    }


if __name__ == "__main__":
    import json

    print(json.dumps({k: v for k, v in bench_aleta().items() if k != "rows"}, indent=2))
