"""``connector watch`` rows: how long a stock change in Odoo takes to reach the marketplace with a 10 s poll
(p95 of several changes at random moments), and what an idle poll costs in Odoo RPCs.

Odoo is the scripted one of ``tests/scripted_odoo.py`` (the reader's own calls answered from data that changes
while the watcher runs), the marketplace an Elebne sandbox at its documented limits; the watcher is the real
``watch`` loop, its pushes the real ``connector sync``.
"""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.verdict import met

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POLL = 10.0


class _Stop(Exception):
    pass


def bench_watch(changes: int = 8, seed: int = 15) -> list[tuple[str, str, str, str]]:
    import yaml

    from connector.marketplaces.elebne import PLUGIN as ELEBNE
    from connector.service.watch import watch
    from tests.scripted_odoo import ScriptedCatalogue, install

    rng = random.Random(seed)
    skus = {f"ODOO-{i}": 10 + i for i in range(5)}
    catalogue = ScriptedCatalogue(skus)
    install(catalogue)
    latencies: list[float] = []
    with tempfile.TemporaryDirectory(prefix="connector-bench-watch-") as tmp_s:
        tmp = Path(tmp_s)
        old = {k: os.environ.get(k) for k in ("ELEBNE_API_KEY", "ODOO_PASSWORD", "CONNECTOR_STATE_DIR")}
        os.environ.update({"ELEBNE_API_KEY": ELEBNE.sandbox_key, "ODOO_PASSWORD": "scripted",
                           "CONNECTOR_STATE_DIR": str(tmp / "state")})
        server = ELEBNE.create_sandbox(port=0, db_path=str(tmp / "sandbox.sqlite"))
        server.start()
        profile = tmp / "odoo.yaml"
        profile.write_text(yaml.safe_dump({
            "name": "odoo-watch", "state": str(tmp / "state.sqlite"), "missing": "keep",
            "source": {"type": "odoo", "url": "http://odoo.example", "db": "shop"},
            "targets": {"elebne": {"account": "watch", "base_url": server.api_url}}}), encoding="utf-8")
        def listed() -> dict[str, int]:
            """What the marketplace lists, read through the sandbox's admin API (never rate-limited: polling the
            public API this often would spend its per-minute read budget and delay what is measured)."""
            return {p["externalId"]: p["quantity"] for p in server.dump_state()["products"]}

        stopping = threading.Event()
        polls: list[float] = []

        def sleep(seconds: float) -> None:
            if stopping.is_set():
                raise _Stop
            time.sleep(seconds)

        class CountingProbe:
            def __init__(self, inner: Any) -> None:
                self.inner = inner

            def changed(self) -> bool:
                polls.append(time.monotonic())
                return bool(self.inner.changed())

            def pushed(self, code: int) -> None:
                self.inner.pushed(code)

        def run() -> None:
            from connector.config import load_profile
            from connector.service.watch import make_probe

            with contextlib.suppress(_Stop):
                watch(profile, None, every=POLL, probe=CountingProbe(make_probe(load_profile(profile))), sleep=sleep)

        thread = threading.Thread(target=run, daemon=True)
        idle_calls = idle_polls = 0
        try:
            thread.start()
            _until(lambda: set(listed()) == set(skus), 120)  # the first poll: a full push
            time.sleep(POLL * 1.5)  # idle polls: count their RPCs
            calls_before, polls_before = catalogue.calls, len(polls)
            time.sleep(POLL * 3)
            idle_calls, idle_polls = catalogue.calls - calls_before, len(polls) - polls_before
            for n in range(changes):
                time.sleep(rng.uniform(0, POLL))  # a change at any moment of the poll cycle
                sku = rng.choice(list(skus))
                qty = 100 + n
                t0 = time.monotonic()
                catalogue.set_stock(sku, qty)
                _until(lambda s=sku, q=qty: listed().get(s) == q, 120)
                latencies.append(time.monotonic() - t0)
        finally:
            stopping.set()
            thread.join(30)
            server.stop()
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else latencies[0]
    per_poll = idle_calls / idle_polls if idle_polls else float("nan")
    return [
        (f"watch: Odoo stock change -> Elebne sandbox, {POLL:.0f} s poll, p95 of {len(latencies)} changes",
         f"{p95:.1f} s (median {statistics.median(latencies):.1f} s, max {max(latencies):.1f} s)", "<= 30 s",
         met(p95 <= 30)),
        ("watch: Odoo RPCs per idle poll", f"{per_poll:.1f} ({idle_calls} calls / {idle_polls} polls)", "1",
         met(per_poll == 1)),
    ]


def _until(check: Any, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if check():
                return
        except KeyError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not reached in {timeout} s")


if __name__ == "__main__":
    for row in bench_watch():
        print(" | ".join(row))
