"""An archived product the state does not know is looked up on Elebne and Elryan before it is skipped as never
listed (connector/sync/archived_check.py): a listing there that the state does not know (made by hand, another
tool, a state file lost) is taken off sale; one on neither side is skipped, and not asked about again for
``archived_check_hours``; a failed lookup defers its rows (exit 3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.errors import EXIT_OK, EXIT_PARTIAL
from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.sync.archived import ARCHIVED_LOOKUP_DEFERRED
from connector.sync.archived_check import CHECKED_KIND
from connector.sync.report import PUSHED, SKIPPED, RunReport
from connector.sync.state import StateStore
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.test_archived_not_created import LEFT_OUT, run, statuses
from tests.test_elryan_sync import DEFAULTS

pytestmark = pytest.mark.sandbox


def lookups(log: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The requests of ``log`` whose path names the product ``key`` (Elebne)."""
    return [r for r in log if key in r["path"]]


def searches(server: Any, since: int = 0) -> list[dict[str, Any]]:
    """Elryan's product searches (its log keeps no body: the lookups are counted)."""
    return [r for r in server.requests_log(since) if r["path"].endswith("/products/search")]


def listed_by_hand(sandbox: SandboxHandle, external_id: str) -> None:
    """A product made on Elebne through its API, not by the connector: on sale, 12 in stock."""
    made = requests.post(f"{sandbox.base_url}/products", timeout=5, headers={"Authorization": f"Bearer {ELEBNE_KEY}"},
                         json={"name": "by hand", "price": 890, "externalId": external_id, "quantity": 12})
    assert made.status_code == 201, made.text


def test_elebne_listing_the_state_does_not_know_is_taken_off_sale(elebne_sandbox: SandboxHandle,
                                                                   tmp_path: Path) -> None:
    listed_by_hand(elebne_sandbox, "TEA-500")

    def sync(**options: Any) -> RunReport:
        return run(tmp_path / "book.xlsx", "elebne", elebne_sandbox.base_url, ELEBNE_KEY,
                   tmp_path / "state.sqlite", inactive={"TEA-500", "SOAP-01"}, options=options)

    first = sync()  # an empty state: TEA-500 is on Elebne all the same, SOAP-01 on neither side
    remote = elebne_sandbox.products()
    assert (remote["TEA-500"]["status"], remote["TEA-500"]["quantity"]) == ("INACTIVE", 0)
    assert "SOAP-01" not in remote
    assert statuses(first, "TEA-500") == {(PUSHED, None)}
    assert statuses(first, "SOAP-01") == LEFT_OUT
    assert first.exit_code == EXIT_OK

    assert [r["method"] for r in lookups(elebne_sandbox.requests(), "SOAP-01")] == ["GET"]
    mark = elebne_sandbox.last_id()
    again = sync()  # within archived_check_hours: SOAP-01 is not asked about again
    assert lookups(elebne_sandbox.requests(mark), "SOAP-01") == []
    assert statuses(again, "SOAP-01") == LEFT_OUT and again.exit_code == EXIT_OK

    mark = elebne_sandbox.last_id()
    sync(full=True)  # --full does not ask again (a nightly --full would read the listing every night)
    assert lookups(elebne_sandbox.requests(mark), "SOAP-01") == []

    mark = elebne_sandbox.last_id()
    run(tmp_path / "book.xlsx", "elebne", elebne_sandbox.base_url, ELEBNE_KEY, tmp_path / "state.sqlite",
        inactive={"TEA-500", "SOAP-01"}, archived_check_hours=0)  # 0: asked every run
    assert [r["method"] for r in lookups(elebne_sandbox.requests(mark), "SOAP-01")] == ["GET"]


def test_elebne_dry_run_asks_nothing_and_says_so(elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    """A dry run works offline: it sends no lookup.  An archived product remembered as not listed says so; one not
    asked yet says a real run looks it up first (each row its own reason, on the same sheet)."""
    listed_by_hand(elebne_sandbox, "TEA-500")

    def sync(inactive: set[str], **options: Any) -> RunReport:
        return run(tmp_path / "book.xlsx", "elebne", elebne_sandbox.base_url, ELEBNE_KEY,
                   tmp_path / "state.sqlite", inactive=inactive, options=options)

    now = datetime.now(UTC).isoformat()  # SOAP-01 asked just now by a real run: on neither side, remembered
    with StateStore.open(tmp_path / "state.sqlite") as state:
        state.confirm("elebne", "shop", CHECKED_KIND, [("SOAP-01", now, json.dumps({"checked_at": now}), None)])
    mark = elebne_sandbox.last_id()
    dry = sync({"TEA-500", "SOAP-01"}, dry_run=True)
    assert elebne_sandbox.requests(mark) == []  # not a lookup, nothing
    assert statuses(dry, "TEA-500") == statuses(dry, "SOAP-01") == LEFT_OUT
    assert dry.exit_code == EXIT_OK
    reasons = {r.sku: r.reason for r in dry.rows if r.sku in ("TEA-500", "SOAP-01")}
    assert reasons["SOAP-01"] == "archived in the source and never listed on Elebne: not created"
    assert reasons["TEA-500"].startswith("archived in the source and not known on Elebne here: a real run looks it "
                                         "up there first"), reasons
    mark = elebne_sandbox.last_id()
    sync({"TEA-500", "SOAP-01"})  # the real run asks about TEA-500 (not SOAP-01, remembered) and takes it off sale
    assert [r["method"] for r in lookups(elebne_sandbox.requests(mark), "SOAP-01")] == []
    assert elebne_sandbox.products()["TEA-500"]["status"] == "INACTIVE"


def test_elebne_unreachable_for_a_lookup_defers_without_a_traceback(tmp_path: Path) -> None:
    """A lookup that cannot reach Elebne at all (a connection refused) defers the product's rows; the run ends
    with its report, not an exception."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = run(tmp_path / "book.xlsx", "elebne", f"http://127.0.0.1:{port}/api/v1/dev/store", ELEBNE_KEY,
                 tmp_path / "state.sqlite", inactive={"SOAP-01"}, options={"max_retries": 0})
    assert statuses(report, "SOAP-01") == {(SKIPPED, ARCHIVED_LOOKUP_DEFERRED)}
    assert report.exit_code != EXIT_OK


def test_elebne_many_lookups_read_the_listing_once(elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    """Past ``archived_lookup_gets`` GETs in a run, the listing is read (one page here) instead of a GET each."""
    listed_by_hand(elebne_sandbox, "TEA-500")
    mark = elebne_sandbox.last_id()
    report = run(tmp_path / "book.xlsx", "elebne", elebne_sandbox.base_url, ELEBNE_KEY, tmp_path / "state.sqlite",
                 inactive={"SOAP-01", "TEA-500", "TEE-M-BL", "TEE-L-BL", "TEE-L-RD"}, archived_lookup_gets=1)
    reads = [r["path"].partition("/products")[2] for r in elebne_sandbox.requests(mark) if r["method"] == "GET"]
    # SOAP-01: a GET; TEE and TEA-500: the listing read once (one page); then the adoption's GET of TEA-500
    assert reads == ["/SOAP-01", "", "/TEA-500"]
    assert elebne_sandbox.products()["TEA-500"]["status"] == "INACTIVE"
    assert statuses(report, "SOAP-01") == statuses(report, "TEE-M-BL") == LEFT_OUT


def test_elebne_failed_lookup_defers_the_rows(elebne_sandbox: SandboxHandle, tmp_path: Path) -> None:
    elebne_sandbox.fault(method="GET", path="/products/SOAP-01", kind="status", status=503, count=50)

    def sync() -> RunReport:
        return run(tmp_path / "book.xlsx", "elebne", elebne_sandbox.base_url, ELEBNE_KEY,
                   tmp_path / "state.sqlite", inactive={"SOAP-01"}, options={"max_retries": 0})

    report = sync()
    assert statuses(report, "SOAP-01") == {(SKIPPED, ARCHIVED_LOOKUP_DEFERRED)}
    assert next(r for r in report.rows if r.sku == "SOAP-01").reason.startswith("deferred to the next run:")
    assert report.exit_code == EXIT_PARTIAL
    mark = elebne_sandbox.last_id()
    sync()  # nothing remembered: asked again
    assert [r["method"] for r in lookups(elebne_sandbox.requests(mark), "SOAP-01")] == ["GET"]


def test_elryan_listing_the_state_does_not_know_is_taken_off_sale(elryan_sandbox: Any, tmp_path: Path) -> None:
    def sync(state: str, inactive: set[str]) -> RunReport:
        return run(tmp_path / "book.xlsx", "elryan", elryan_sandbox.api_url, SANDBOX_PASSWORD, tmp_path / state,
                   inactive=inactive, email=SANDBOX_EMAIL, defaults=DEFAULTS)

    def product(spu: str) -> dict[str, Any] | None:
        state = requests.get(f"{elryan_sandbox.url}/__sandbox/state", timeout=5).json()
        return next((p for p in state["products"] if p["spu"] == spu), None)

    # TEE listed on Elryan through its API by another tool (here: a run whose state file is then lost)
    assert sync("other.sqlite", {"SOAP-01", "TEA-500"}).exit_code == EXIT_OK
    assert product("TEE")["is_active"] is True and product("SOAP-01") is None

    mark = max((r["id"] for r in elryan_sandbox.requests_log()), default=0)
    archived = {"SOAP-01", "TEA-500", "TEE-M-BL", "TEE-L-BL", "TEE-L-RD"}
    first = sync("state.sqlite", archived)  # an empty state
    assert product("TEE")["is_active"] is False
    assert {v["sku"]: v["stock"] for v in product("TEE")["variants"]} == {"TEE-M-BL": 0, "TEE-L-BL": 0, "TEE-L-RD": 0}
    assert len(searches(elryan_sandbox, mark)) == 3  # TEE (found), SOAP-01 and TEA-500 (not there)
    assert product("SOAP-01") is None
    assert statuses(first, "TEE-M-BL") == {(PUSHED, None)}
    assert statuses(first, "SOAP-01") == LEFT_OUT
    assert first.exit_code == EXIT_OK

    mark = max((r["id"] for r in elryan_sandbox.requests_log()), default=0)
    again = sync("state.sqlite", archived)
    assert searches(elryan_sandbox, mark) == []  # TEE known now, the others remembered as not there
    assert statuses(again, "SOAP-01") == LEFT_OUT and again.exit_code == EXIT_OK
