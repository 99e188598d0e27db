"""Shared fixtures: a live Elebne sandbox on loopback and helpers to read its request log."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.http.paging import Paging, iter_items
from connector.mapping import CompiledMapping
from connector.marketplaces.elebne import PLUGIN as ELEBNE
from tests.postgres_support import pg_server, pg_url, state_location  # noqa: F401  (fixtures)

ELEBNE_KEY = ELEBNE.sandbox_key


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real ``~/.local/state/connector`` or credentials file: a state file left there
    by another checkout (or a newer schema) would change what a test sees."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CONNECTOR_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("CONNECTOR_CREDENTIALS", str(home / "credentials.yaml"))
    for name in ("CONNECTOR_STATE_URL", "CONNECTOR_IP_GROUP"):  # a developer's service settings
        monkeypatch.delenv(name, raising=False)


class SandboxHandle:
    """A started sandbox plus the few admin calls tests need."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.base_url = server.url + ELEBNE.sandbox_base_path

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return requests.get(f"{self.server.url}/__sandbox/requests", params={"since": since}, timeout=5).json()[
            "requests"]

    def writes(self, since: int = 0) -> list[dict[str, Any]]:
        return [r for r in self.requests(since) if r["method"] in ("POST", "PATCH", "PUT", "DELETE")]

    def last_id(self) -> int:
        log = self.requests()
        return max((r["id"] for r in log), default=0)

    def state(self) -> dict[str, Any]:
        return requests.get(f"{self.server.url}/__sandbox/state", timeout=5).json()

    def fault(self, **spec: Any) -> None:
        resp = requests.post(f"{self.server.url}/__sandbox/faults", json=spec, timeout=5)
        assert resp.status_code == 201, resp.text

    def products(self) -> dict[str, dict[str, Any]]:
        """Products by externalId, read through the public API with a publishable key."""
        paging = Paging("page", items="data.items", size=100, has_more="data.hasMore")

        def fetch(params: dict[str, Any]) -> Any:
            return requests.get(f"{self.base_url}/products", params=params,
                                headers={"Authorization": "Bearer pk_test_demo0000connector"}, timeout=5).json()

        return {item["externalId"]: item for item in iter_items(paging, fetch)}


@contextmanager
def running_elebne(db_path: Path, **options: Any) -> Iterator[SandboxHandle]:
    """An Elebne sandbox on loopback with its state in ``db_path``, stopped on exit."""
    with ELEBNE.create_sandbox(port=0, db_path=str(db_path), **options) as server:
        yield SandboxHandle(server)


@pytest.fixture
def elebne_sandbox(tmp_path: Path) -> Iterator[SandboxHandle]:
    with running_elebne(tmp_path / "sandbox.sqlite") as handle:
        yield handle


@contextmanager
def running_aleta(monkeypatch: pytest.MonkeyPatch, db_path: Path, **options: Any) -> Iterator[Any]:
    """An Aleta sandbox on loopback (state in ``db_path``, ``options`` for its generated catalogue), its key in
    ``ALETA_API_KEY``; stopped on exit."""
    from connector.sources.aleta.sandbox import SANDBOX_KEY, create_sandbox

    monkeypatch.setenv("ALETA_API_KEY", SANDBOX_KEY)
    with create_sandbox(db_path=str(db_path), **options) as server:
        yield server


@contextmanager
def running_ecomlinx(db_path: Path, listed: Iterable[str] = ()) -> Iterator[Any]:
    """An EcomLinx sandbox on loopback whose catalogue already lists the SKUs ``listed`` (EcomLinx has no create
    call: products exist there first), stopped on exit."""
    from connector.marketplaces.ecomlinx.sandbox import create_sandbox

    with create_sandbox(port=0, db_path=str(db_path)) as server:
        server.seed_products([{"sku": sku, "name": f"old {sku}", "price": 1, "stock": 0, "status": "live"}
                              for sku in listed])
        yield server


@pytest.fixture
def elryan_sandbox(tmp_path: Path) -> Iterator[Any]:
    """A started Elryan sandbox on loopback, its state in ``elryan.sqlite`` of the test's folder."""
    from connector.marketplaces.elryan import PLUGIN as ELRYAN

    with ELRYAN.create_sandbox(port=0, db_path=str(tmp_path / "elryan.sqlite")) as server:
        yield server


@pytest.fixture
def fast_elebne_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxHandle]:
    """An Elebne sandbox, and client budgets, with the per-minute windows lifted: for tests about data that
    would otherwise spend minutes politely waiting (pacing itself is tested elsewhere)."""
    from connector.http import RateLimit

    lifted = {"write": (10_000, 100_000), "bulk": (10_000, 100_000), "read": (10_000, 100_000)}
    for op_class, (per_window, per_day) in lifted.items():
        monkeypatch.setitem(ELEBNE.limits, op_class, RateLimit(op_class, per_window, per_day))
    with running_elebne(tmp_path / "sandbox.sqlite", rate_limits=lifted) as handle:
        yield handle


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the records the mapping engine maps (every call of ``CompiledMapping.apply``)."""
    keys: list[str] = []
    real = CompiledMapping.apply

    def counting(self: CompiledMapping, record: Any, defaults: dict[str, Any] | None = None) -> Any:
        keys.append(record.key)
        return real(self, record, defaults)

    monkeypatch.setattr(CompiledMapping, "apply", counting)
    return keys
