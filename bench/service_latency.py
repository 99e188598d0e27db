"""Service latency rows for ``make bench`` (issue 15): the two 5-minute promises, measured with real worker
processes on a real PostgreSQL (pgserver) and the sandboxes.

- **An order placed on a marketplace is in the destination within 5 minutes**, by webhook: an order placed on
  the EcomLinx sandbox and on the Elebne sandbox (their own control calls) is delivered signed to the
  connector's receiver, which queues the orders job (and a stock job); a worker imports it into the orders
  workbook.  Measured from the placement to the order's row in the workbook.  Into Odoo as well when the lab's
  orders Odoo 18 is reachable (``ODOO18_ORDERS_URL``, default http://127.0.0.1:8070, db ``odoo18_orders``, seeded
  by tests/fixtures/odoo_orders_seed.py as docs/odoo.md says; ``ODOO_PASSWORD`` set): otherwise that row says it
  was not measured.
- The same **without webhooks**: an ``orders`` job scheduled every minute (``schedule: {orders: "* * * * *"}``;
  the connector's schedules are cron times of one minute at the finest, enqueued by procrastinate's periodic
  tick, which runs once a minute), orders placed at random moments of the minute: the latency is bounded by the
  schedule.
- **A validated delivery's tracking number is on the marketplace within 5 minutes**: the merchant writes it
  into the orders workbook; the ``fulfilment`` kind scheduled every minute pushes it; measured until the
  EcomLinx sandbox shows the order shipped with that AWB.  Needs ``connector fulfil`` (issue 14): without it the
  row says so.

Each scenario takes at most about three minutes of wall time.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import random
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.verdict import met

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET = 300.0  # seconds: the 5 minutes
SECRET = "whsec_bench_latency_0001"
SKUS = {"LAT-1": 1000, "LAT-2": 1000, "LAT-3": 1000}
CURRENCY = {"ecomlinx": "INR", "elebne": "MRU"}
COURIER = "Delhivery"  # a courier the EcomLinx sandbox knows
Row = tuple[str, str, str, str]


def _env(tmp: Path) -> dict[str, str]:
    from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
    from connector.marketplaces.elebne import PLUGIN as ELEBNE

    return {"ELEBNE_API_KEY": ELEBNE.sandbox_key, "ECOMLINX_API_KEY": ECOMLINX.sandbox_key,
            "CONNECTOR_STATE_DIR": str(tmp / "state")}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _database(pg: Any) -> Iterator[str]:
    from connector.service.queue import migrate

    db = pg.new_database()
    url = pg.url(db)
    migrate(url)
    try:
        yield url
    finally:
        pg.drop_database(db)


@contextlib.contextmanager
def _workers(url: str, tmp: Path, n: int, env: dict[str, str]) -> Iterator[None]:
    from bench.service_bench import _wait_workers
    from tests.service_support import start_worker

    procs = [start_worker(url, tmp / f"worker{w}.log", "--name", f"lat{w}", env=env) for w in range(n)]
    try:
        _wait_workers(url, n)
        yield
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(90)
            except Exception:
                p.kill()


def _sandboxes(tmp: Path, skus: dict[str, int] = SKUS) -> tuple[Any, Any]:
    """A started EcomLinx and Elebne sandbox, both listing ``skus``."""
    from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
    from connector.marketplaces.elebne import PLUGIN as ELEBNE

    elx = ECOMLINX.create_sandbox(port=0, db_path=str(tmp / "ecomlinx.sqlite"))
    elx.start()
    elx.seed_products([{"sku": s, "name": f"Item {s}", "price": 10, "stock": q, "status": "live"}
                       for s, q in skus.items()])
    elb = ELEBNE.create_sandbox(port=0, db_path=str(tmp / "elebne.sqlite"))
    elb.start()
    elb.seed_products([{"externalId": s, "name": f"Item {s}", "price": 1000, "quantity": q} for s, q in skus.items()])
    return elx, elb


@contextlib.contextmanager
def _scenario(pg: Any, skus: dict[str, int] = SKUS) -> Iterator[tuple[Path, str, dict[str, str],
                                                                      contextlib.ExitStack, Any, Any]]:
    """What every scenario starts from: a scratch folder, a fresh migrated database, the sandboxes' keys in the
    environment and both sandboxes started; (folder, database url, environment, exit stack, EcomLinx, Elebne).
    All of it is undone on the way out."""
    with tempfile.TemporaryDirectory(prefix="connector-bench-latency-") as tmp_s, _database(pg) as url, \
            contextlib.ExitStack() as stack:
        tmp = Path(tmp_s)
        env = _env(tmp)
        stack.enter_context(_environment(env))
        elx, elb = _sandboxes(tmp, skus)
        stack.callback(elx.stop)
        stack.callback(elb.stop)
        yield tmp, url, env, stack, elx, elb


def _profile(tmp: Path, url: str, target: str, base_url: str, *, orders: dict[str, Any] | None = None,
             schedule: dict[str, str] | None = None, skus: dict[str, int] = SKUS,
             settings: dict[str, Any] | None = None) -> Path:
    import yaml

    name = f"lat-{target}"
    source = tmp / f"{name}.csv"
    source.write_text("SKU,Name,Price,Currency,Stock: Main\n" + "".join(
        f"{s},Item {s},10,{CURRENCY[target]},{q}\n" for s, q in skus.items()), encoding="utf-8")
    data: dict[str, Any] = {"name": name, "state": url, "missing": "keep",
                            "source": {"type": "spreadsheet", "path": str(source)},
                            "targets": {target: {"account": name, "base_url": base_url,
                                                 **({"settings": settings} if settings else {})}},
                            "orders": orders or {"to": "workbook", "workbook": str(tmp / f"orders-{target}.csv"),
                                                 "from": [target]}}
    if schedule:
        data["schedule"] = schedule
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def workbook_orders(path: Path) -> dict[str, dict[str, str]]:
    """The orders workbook's rows by Order ID (the file is replaced whole by each run: never half-read)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            return {row["Order ID"]: row for row in csv.DictReader(f)}
    except (OSError, KeyError, csv.Error):
        return {}


def _until(check: Callable[[], Any], timeout: float) -> float | None:
    """Seconds until ``check()`` is true (polled every 0.2 s), None if not within ``timeout``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if check():
            return time.monotonic() - t0
        time.sleep(0.2)
    return None


def _since(t0: float, check: Callable[[], Any]) -> float | None:
    """Seconds from ``t0`` (a ``time.monotonic()``) until ``check()`` is true, None if not within TARGET of it."""
    left = TARGET - (time.monotonic() - t0)
    return None if _until(check, max(left, 0)) is None else time.monotonic() - t0


def _scheduled_worker(stack: contextlib.ExitStack, tmp: Path, url: str, env: dict[str, str], prof: Path) -> None:
    """The profile's schedules stored in the database, then one worker started (stopped by ``stack``)."""
    from connector.service import schedule

    path = str(prof.resolve())
    schedule.store(url, schedule.schedules_of(path), [path])
    stack.enter_context(_workers(url, tmp, 1, env))


def _figures(latencies: list[float | None]) -> tuple[str, bool]:
    seen = [x for x in latencies if x is not None]
    missed = len(latencies) - len(seen)
    if not seen:
        return f"none of {len(latencies)} arrived within {TARGET:.0f} s", False
    p95 = statistics.quantiles(seen, n=20, method="inclusive")[-1] if len(seen) >= 2 else seen[0]
    text = (f"p50 {statistics.median(seen):.1f} s, p95 {p95:.1f} s, max {max(seen):.1f} s "
            f"({len(seen)} orders" + (f", {missed} not within {TARGET:.0f} s" if missed else "") + ")")
    return text, not missed and max(seen) <= TARGET


# -- orders by webhook ---------------------------------------------------------------------------------------
def _receivers(stack: contextlib.ExitStack, tmp: Path, url: str, elx: Any, elb: Any, profiles: dict[str, Path]
               ) -> None:
    """The connector's webhook receivers (one per marketplace), registered on the sandboxes."""
    from connector.marketplaces.ecomlinx.webhooks import EventStore as EcomLinxEvents
    from connector.marketplaces.elebne.webhooks import EventStore as ElebneEvents
    from connector.marketplaces.elebne.webhooks import job_kinds, webhook_settings
    from connector.service.webhooks import enqueue_handler
    from connector.webhooks.receiver import WebhookReceiver

    if "ecomlinx" in profiles:
        store = EcomLinxEvents(tmp / "ecomlinx-events.sqlite")
        stack.callback(store.close)
        receiver = stack.enter_context(WebhookReceiver(SECRET, store, handler=enqueue_handler(
            url, profiles["ecomlinx"], "ecomlinx")))
        elx.backend.register_webhook(receiver.url, ["order.new"], SECRET)
    if "elebne" in profiles:
        settings = webhook_settings()
        events = ElebneEvents(tmp / "elebne-events.sqlite", settings)
        stack.callback(events.close)
        receiver = stack.enter_context(WebhookReceiver(SECRET, events, handler=enqueue_handler(
            url, profiles["elebne"], "elebne", kinds_of=job_kinds(settings))))
        elb.register_webhook(receiver.url, SECRET, ["order.created"])


def _place(target: str, elx: Any, elb: Any, n: int, skus: dict[str, int] = SKUS) -> str:
    """Place one order as a customer would (the sandbox's control call); its id."""
    sku = list(skus)[n % len(skus)]
    if target == "ecomlinx":
        return str(elx.create_order({"items": [{"sku": sku, "qty": 1}]})["id"])
    return str(elb.create_order({"items": [{"externalId": sku, "quantity": 1}]})["id"])


def orders_by_webhook(pg: Any, orders: int = 6, workers: int = 2, seed: int = 15) -> dict[str, list[float | None]]:
    """Per marketplace, seconds from an order placed to its row in the orders workbook (None: not in time)."""
    rng = random.Random(seed)
    out: dict[str, list[float | None]] = {"ecomlinx": [], "elebne": []}
    with _scenario(pg) as (tmp, url, env, stack, elx, elb):
        profiles = {"ecomlinx": _profile(tmp, url, "ecomlinx", elx.api_url),
                    "elebne": _profile(tmp, url, "elebne", elb.api_url)}
        _receivers(stack, tmp, url, elx, elb, profiles)
        stack.enter_context(_workers(url, tmp, workers, env))
        for n in range(orders):
            time.sleep(rng.uniform(0, 4))
            for target in ("ecomlinx", "elebne"):
                order_id = _place(target, elx, elb, n)
                book = tmp / f"orders-{target}.csv"
                out[target].append(_until(lambda b=book, o=order_id: o in workbook_orders(b), TARGET))
    return out


# -- orders into Odoo ----------------------------------------------------------------------------------------
def odoo_lab() -> tuple[str, str] | None:
    """(url, db) of the lab's orders Odoo 18 when it answers and ``ODOO_PASSWORD`` is set; else None."""
    url = os.environ.get("ODOO18_ORDERS_URL", "http://127.0.0.1:8070")
    db = os.environ.get("ODOO18_ORDERS_DB", "odoo18_orders")
    if not os.environ.get("ODOO_PASSWORD"):
        return None
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=2).close()
    except OSError:
        return None
    return url, db


def orders_into_odoo(pg: Any, url_db: tuple[str, str], orders: int = 3) -> list[float | None]:
    """An order placed on EcomLinx -> webhook -> orders job -> a confirmed sale order in the lab's orders Odoo 18
    (its products, pricelist, delivery product and walk-in customer from tests/fixtures/odoo_orders_seed.py)."""
    from connector.sources.odoo import OdooSettings, OdooSource
    from tests.odoo_vcr import load_fixture_module

    seed = load_fixture_module("odoo_orders_seed")

    odoo_url, odoo_db = url_db
    connection = {"url": odoo_url, "db": odoo_db, "user": os.environ.get("ODOO_USER", "admin"),
                  "password_env": "ODOO_PASSWORD"}
    backend = OdooSource(OdooSettings.from_dict(dict(connection)))._connect()
    stock = dict.fromkeys(seed.SKUS[:3], 1000)
    odoo = {"connection": connection, "delivery_product": seed.SHIP,
            "marketplaces": {"ecomlinx": {"pricelist": "Marketplace USD", "partner": seed.WALK_IN}}}
    out: list[float | None] = []
    with _scenario(pg, stock) as (tmp, url, env, stack, elx, elb):
        prof = _profile(tmp, url, "ecomlinx", elx.api_url, skus=stock,
                        orders={"to": "odoo", "from": ["ecomlinx"], "odoo": odoo},
                        settings={"order_currency": "USD"})
        _receivers(stack, tmp, url, elx, elb, {"ecomlinx": prof})
        stack.enter_context(_workers(url, tmp, 1, {**env, "ODOO_PASSWORD": os.environ["ODOO_PASSWORD"]}))
        for n in range(orders):
            sku = list(stock)[n % len(stock)]
            placed = elx.create_order({"items": [{"sku": sku, "qty": 1}]})
            reference = f"ecomlinx:{placed.get('channel_order_id') or placed['id']}"  # Order.reference
            out.append(_until(lambda r=reference: backend.search_read(
                "sale.order", [("client_order_ref", "=", r), ("state", "=", "sale")], ["id"], limit=1), TARGET))
    return out


# -- orders by schedule only ---------------------------------------------------------------------------------
def orders_by_schedule(pg: Any, orders: int = 3, seed: int = 15) -> list[float | None]:
    """EcomLinx orders, no webhook: an ``orders`` job every minute; orders placed at random moments."""
    rng = random.Random(seed)
    out: list[float | None] = []
    with _scenario(pg) as (tmp, url, env, stack, elx, elb):
        prof = _profile(tmp, url, "ecomlinx", elx.api_url, schedule={"orders": "* * * * *"})
        _scheduled_worker(stack, tmp, url, env, prof)
        book = tmp / "orders-ecomlinx.csv"
        placed: list[tuple[str, float]] = []
        for n in range(orders):
            time.sleep(rng.uniform(5, 25))
            placed.append((_place("ecomlinx", elx, elb, n), time.monotonic()))
        for order_id, t0 in placed:
            out.append(_since(t0, lambda o=order_id: o in workbook_orders(book)))
    return out


# -- tracking numbers to the marketplace ---------------------------------------------------------------------
def fulfil_available() -> bool:
    from connector.service.kinds import _command_exists

    return _command_exists("fulfil")


def write_tracking(book: Path, order_id: str, awb: str, courier: str = "") -> None:
    """What the merchant does: Status, Tracking number and Courier of the order's rows in the orders workbook."""
    raw = book.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    col = {h: i for i, h in enumerate(header)}
    for row in rows[1:]:
        if row[col["Order ID"]] == order_id:
            row[col["Status"]], row[col["Tracking number"]], row[col["Courier"]] = "shipped", awb, courier or COURIER
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n" if "\r\n" in text else "\n").writerows(rows)
    book.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))


def tracking_to_marketplace(pg: Any, orders: int = 3, seed: int = 15) -> list[float | None]:
    """EcomLinx orders imported into the workbook; their tracking numbers typed in at random moments; the
    ``fulfilment`` kind scheduled every minute pushes them: seconds until the sandbox shows each order shipped
    with its AWB."""
    from connector.cli import main
    rng = random.Random(seed)
    out: list[float | None] = []
    with _scenario(pg) as (tmp, url, env, stack, elx, elb):
        orders_to = {"to": "workbook", "workbook": str(tmp / "orders-ecomlinx.csv"), "from": ["ecomlinx"],
                     "fulfilment": {"carriers": {"ecomlinx": {COURIER: COURIER}}}}  # the merchant's name for it
        prof = _profile(tmp, url, "ecomlinx", elx.api_url, orders=orders_to, schedule={"fulfilment": "* * * * *"})
        book = tmp / "orders-ecomlinx.csv"
        ids = [_place("ecomlinx", elx, elb, n) for n in range(orders)]
        main(["orders", "--profile", str(prof), "--no-progress"])  # imported before the clock starts
        _scheduled_worker(stack, tmp, url, env, prof)

        def shipped(order_id: str, awb: str) -> bool:
            return any(o["id"] == order_id and o.get("status") == "shipped" and o.get("awb") == awb
                       for o in elx.dump_state()["orders"])

        typed: list[tuple[str, str, float]] = []
        for n, order_id in enumerate(ids):
            time.sleep(rng.uniform(5, 25))
            awb = f"AWB{n:06d}"
            write_tracking(book, order_id, awb)
            typed.append((order_id, awb, time.monotonic()))
        for order_id, awb, t0 in typed:
            out.append(_since(t0, lambda o=order_id, a=awb: shipped(o, a)))
    return out


# -- the rows ------------------------------------------------------------------------------------------------
def _row(what: str, run: Callable[[], list[float | None]]) -> Row:
    try:
        text, ok = _figures(run())
    except Exception as exc:  # a scenario that cannot run says why instead of ending make bench
        return (what, f"not measured: {type(exc).__name__}: {exc}"[:160], f"<= {TARGET:.0f} s", "")
    return (what, text, f"<= {TARGET:.0f} s", met(ok))


def bench_latency() -> dict[str, Any]:
    from bench.service_bench import _server

    with contextlib.redirect_stdout(io.StringIO()):
        pg, folder = _server()
        rows: list[Row] = []
        try:
            hooked: dict[str, list[float | None]] = {}

            def by_webhook(target: str) -> list[float | None]:
                if not hooked:
                    hooked.update(orders_by_webhook(pg))
                return hooked[target]

            for target, title in (("ecomlinx", "EcomLinx"), ("elebne", "Elebne")):
                rows.append(_row(f"latency: order on the {title} sandbox -> orders workbook (webhook, 2 workers)",
                                 lambda t=target: by_webhook(t)))
            lab = odoo_lab()
            odoo_what = "latency: order on the EcomLinx sandbox -> Odoo 18 sale order (webhook, 1 worker)"
            if lab is None:
                rows.append((odoo_what, "not measured: no Odoo (the orders lab Odoo 18 on :8070 with ODOO_PASSWORD)",
                             f"<= {TARGET:.0f} s", ""))
            else:
                rows.append(_row(odoo_what, lambda: orders_into_odoo(pg, lab)))
            rows.append(_row("latency: order on the EcomLinx sandbox -> orders workbook, no webhook, `orders` "
                             "scheduled every minute", lambda: orders_by_schedule(pg)))
            tracking = ("latency: tracking number typed in the orders workbook -> EcomLinx order shipped with it "
                        "(`fulfilment` scheduled every minute)")
            if fulfil_available():
                rows.append(_row(tracking, lambda: tracking_to_marketplace(pg)))
            else:
                rows.append((tracking, "not measured: connector fulfil missing", f"<= {TARGET:.0f} s", ""))
        finally:
            pg.server.cleanup()
            shutil.rmtree(folder, ignore_errors=True)
    return {"rows": rows}


if __name__ == "__main__":
    for r in bench_latency()["rows"]:
        print(" | ".join(r))
