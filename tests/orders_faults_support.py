"""The three marketplace sandboxes as ``connector orders`` reads them into the orders workbook, for the fault and
kill tests (tests/test_orders_workbook_faults.py, tests/test_orders_workbook_killed.py): each started on loopback,
its orders seeded through its ``/__sandbox/seed`` endpoint, listed in pages of ``PAGE`` so that a listing has a
later page to fail, and a profile whose only target is that marketplace, its orders going to a workbook."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from openpyxl import load_workbook

PAGE = 3  # orders (Elryan: order lines) per page of a listing
NAMES = ("elebne", "ecomlinx", "elryan")


@dataclass
class Market:
    """One started sandbox: ``api`` is the base URL a profile points at, ``admin`` the server's own root."""

    name: str
    api: str
    admin: str
    account: str
    listing: str  # the order listing's path (a regular expression for the fault proxy)
    later_page: str  # what a later page's request holds (its query string or body)
    env: dict[str, str]
    settings: str  # the target's settings (YAML flow)

    def seed(self, first: int, count: int) -> set[tuple[str, str, str]]:
        """Orders ``first`` .. ``first + count - 1`` (two lines each on Elryan), placed in the last hours; the
        (marketplace, order id, line id) of each row they make in the workbook."""
        now = datetime.now(UTC)
        records, rows = [], set()
        for n in range(first, first + count):
            at = (now - timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
            if self.name == "elebne":
                records.append({"id": f"EL-{n}", "orderNumber": f"N{n}", "status": "PENDING", "createdAt": at,
                                "updatedAt": at, "items": [{"id": f"EL-{n}-1", "externalId": "TEA-500",
                                                            "quantity": 1, "unitPrice": 890}]})
                rows.add(("elebne", f"EL-{n}", f"EL-{n}-1"))
            elif self.name == "ecomlinx":
                records.append({"id": f"ord_{n}", "status": "new", "created_at": at, "updated_at": at,
                                "items": [{"sku": "TEA-500", "qty": 1, "price": 8.9}]})
                rows.add(("ecomlinx", f"ord_{n}", f"ord_{n}-1"))
            else:
                day = now.astimezone(UTC).date().isoformat()
                for line in (1, 2):
                    records.append({"POlineID": f"{n}0{line}", "Order Number": f"PO{n}", "Item": "TEA-500",
                                    "Quantity": "1", "Selling Price": "8.90", "Status": "Pending Confirmation",
                                    "dateISO": f"{day}T00:00:00", "updatedTime": at})
                    rows.add(("elryan", f"PO{n}", f"{n}0{line}"))
        response = requests.post(f"{self.admin}/__sandbox/seed", json={"orders": records}, timeout=10)
        assert response.status_code in (200, 201), response.text
        return rows

    def profile(self, folder: Path, base_url: str) -> Path:
        path = folder / "shop.yaml"
        path.write_text(
            "name: shop\nsource: {type: spreadsheet, path: products.xlsx}\nstate: state.sqlite\n"
            f"targets:\n  {self.name}: {{account: {self.account}, base_url: '{base_url}', "
            f"settings: {self.settings}}}\n"
            "orders: {to: workbook, workbook: orders.xlsx}\n", encoding="utf-8")
        return path


@contextmanager
def market(name: str, folder: Path) -> Iterator[Market]:
    """The marketplace ``name``'s sandbox, started with its state in ``folder``."""
    if name == "elebne":
        from connector.marketplaces.elebne import PLUGIN as ELEBNE

        lifted = {"read": (10_000, 100_000), "write": (10_000, 100_000)}
        with ELEBNE.create_sandbox(port=0, db_path=str(folder / "elebne.sqlite"), rate_limits=lifted) as server:
            yield Market(name, server.url + ELEBNE.sandbox_base_path, server.url, "shop", "/orders$", r"page=[2-9]",
                         {"ELEBNE_API_KEY": ELEBNE.sandbox_key}, f"{{page_limit: {PAGE}}}")
    elif name == "ecomlinx":
        from connector.marketplaces.ecomlinx import PLUGIN as ECOMLINX
        from connector.marketplaces.ecomlinx.sandbox import create_sandbox

        with create_sandbox(port=0, db_path=str(folder / "ecomlinx.sqlite")) as server:
            yield Market(name, server.api_url, server.url, "main", "/orders$", r"page=[2-9]",
                         {"ECOMLINX_API_KEY": ECOMLINX.sandbox_key}, f"{{page_limit: {PAGE}}}")
    else:
        from connector.marketplaces.elryan import PLUGIN as ELRYAN
        from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD

        with ELRYAN.create_sandbox(port=0, db_path=str(folder / "elryan.sqlite")) as server:
            yield Market(name, server.api_url, server.url, "main", "/orders/search$", r'"start": ?[1-9]',
                         {"ELRYAN_PASSWORD": SANDBOX_PASSWORD, "CONNECTOR_CREDENTIALS": str(folder / "none.yaml")},
                         f"{{email: {SANDBOX_EMAIL}, page_length: {PAGE}}}")


def workbook_rows(path: Path) -> list[tuple[str, str, str]]:
    """The (Marketplace, Order ID, Line ID) of every row of the workbook, in file order (a row twice: twice)."""
    if not path.exists():
        return []
    values = list(load_workbook(path)["Orders"].iter_rows(values_only=True))
    head = list(values[0])
    at = [head.index(h) for h in ("Marketplace", "Order ID", "Line ID")]
    return [tuple(str(row[i]) for i in at) for row in values[1:] if any(v is not None for v in row)]  # type: ignore[misc]


def cursor(state: Path, name: str, account: str) -> Any:
    from connector.orders.reader import cursor_source
    from connector.sync.state import StateStore

    if not state.exists():
        return None
    with StateStore.open(state) as store:
        return store.get_cursor(cursor_source(name), account)


def orders_run(profile: Path) -> tuple[int, dict[str, Any]]:
    """``connector orders`` with the profile: (exit code, the report)."""
    import json

    from connector.cli import main

    report = profile.parent / "orders-report.json"
    code = main(["orders", "--profile", str(profile), "--no-progress", "--report", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8"))


def misread_then_read(name: str, folder: Path, monkeypatch: Any, rewrite: Any,
                      expect: int | None = None) -> tuple[int, dict[str, Any]]:
    """``connector orders`` from ``name``'s sandbox with 10 orders, its listing's page 2 rewritten by ``rewrite``
    (tests/fault_proxy.py ``json-after``): checks the read failed (exit ``expect``, by default 1) leaving the
    cursor and the workbook as they were, then runs again unfaulted and checks the workbook holds every order
    once.  Returns the first run's (exit code, report)."""
    from connector.errors import EXIT_FAILED, EXIT_OK
    from tests.fault_proxy import REWRITE, FaultProxy
    from tests.workbooks import write_workbook

    with market(name, folder) as shop:
        for k, v in shop.env.items():
            monkeypatch.setenv(k, v)
        write_workbook(folder / "products.xlsx")
        rows = shop.seed(0, 10)  # 4 pages of 3
        proxy = FaultProxy(shop.api)
        try:
            proxy.fail(REWRITE, method="GET", path=shop.listing, query=shop.later_page, rewrite=rewrite)
            profile = shop.profile(folder, proxy.url)
            first = orders_run(profile)
            assert proxy.faulted(), "the page was not rewritten"
            assert first[0] == (EXIT_FAILED if expect is None else expect), first[1]["orders"]
            assert cursor(folder / "state.sqlite", name, shop.account) is None  # not moved past page 2
            assert workbook_rows(folder / "orders.xlsx") == []
            code, report = orders_run(profile)
        finally:
            proxy.close()
    assert code == EXIT_OK, report["orders"]
    assert sorted(workbook_rows(folder / "orders.xlsx")) == sorted(rows)
    return first[0], first[1]
