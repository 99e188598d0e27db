"""The state in PostgreSQL: a schema per profile on a shared database, budgets shared by every profile of an
account, the migrations' version table, the run lock as an advisory lock (gone with a killed process), URL
passwords never shown, and a whole sync with ``state: postgresql://...``."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from connector.cli import main
from connector.errors import EXIT_LOCKED, EXIT_UNREACHABLE, EXIT_USAGE, ConfigError, StateLockedError
from connector.sync.state import StateStore
from connector.sync.state.location import schema_name, scrub, shown, with_namespace
from connector.sync.state.sqlite import SCHEMA_VERSION
from tests.conftest import ELEBNE_KEY, SandboxHandle
from tests.postgres_support import PgServer
from tests.workbooks import write_workbook

M, A = "elebne", "acct"


def in_schema(url: str, profile: str) -> str:
    return str(with_namespace(url, profile))


def test_profiles_sharing_a_database_keep_their_own_state_and_share_the_budgets(pg_url: str) -> None:
    shop, other = in_schema(pg_url, "shop"), in_schema(pg_url, "other")
    with StateStore.open(shop) as a, StateStore.open(other) as b:  # two profiles run at once: two locks
        a.confirm(M, A, "product", [("SKU-1", "h1", '{"n":1}', "r1")])
        a.set_cursor("odoo:prod", "products", "2026-12-01T00:00:00Z")
        a.run_started("run-a")
        assert b.hashes(M, A, "product") == {} and b.get_cursor("odoo:prod", "products") is None
        # the same marketplace account, taken from two profiles: one budget
        a.budget_add(M, A, "write", "2026-12-01", 7)
        assert b.budget_used(M, A, "write", "2026-12-01") == 7
    with psycopg.connect(pg_url) as conn:
        schemas = {r[0] for r in conn.execute("SELECT schema_name FROM information_schema.schemata")}
        assert {"connector_shop", "connector_other", "connector_shared"} <= schemas
        assert conn.execute("SELECT count(*) FROM connector_shop.payloads").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM connector_other.payloads").fetchone()[0] == 0


def test_a_new_schema_is_created_at_the_current_version_and_a_newer_one_is_refused(pg_url: str) -> None:
    url = in_schema(pg_url, "shop")
    StateStore.open(url).close()
    StateStore.open(url).close()  # opening again migrates nothing
    with psycopg.connect(pg_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM connector_shop.connector_schema_version")]
        assert versions == [SCHEMA_VERSION]
        conn.execute("INSERT INTO connector_shop.connector_schema_version VALUES (%s, 'later')",
                     (SCHEMA_VERSION + 1,))
    with pytest.raises(StateLockedError, match="newer connector"):
        StateStore.open(url)
    with pytest.raises(StateLockedError, match="newer connector"):  # the lock was released: not "another run"
        StateStore.open(url)


def test_profile_names_become_distinct_schema_names(pg_url: str) -> None:
    assert schema_name("shop") == "connector_shop"
    odd = {schema_name(n) for n in ("Shop", "shop-1", "shop_1", "x" * 80, "x" * 81, "shared")}
    assert len(odd) == 6 and all(len(n) <= 63 and n.isidentifier() for n in odd)
    assert "connector_shared" not in odd  # the budgets' schema is no profile's
    with pytest.raises(ConfigError, match="budgets every profile shares"):
        StateStore.open(pg_url + "&schema=connector_shared")


# -- the lock ----------------------------------------------------------------------------------------------------

def test_one_run_per_profile_state_and_a_killed_run_leaves_no_lock(pg_url: str, tmp_path: Path) -> None:
    url = in_schema(pg_url, "shop")
    with StateStore.open(url), pytest.raises(StateLockedError, match=r"another run is using .*connector pid"):
        StateStore.open(url)
    StateStore.open(url, lock=False).close()  # a reader without the lock (the webhook receiver) is let in
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom connector.sync.state import StateStore\n"
         "s = StateStore.open(sys.argv[1]); print('held', flush=True); time.sleep(600)", url],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StateLockedError):
            StateStore.open(url)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    # the server ends the dead process's session (and its lock) once it sees the socket closed
    for _ in range(200):
        try:
            StateStore.open(url).close()
            break
        except StateLockedError:
            time.sleep(0.05)
    else:
        pytest.fail("the lock of a killed run was never released")


def test_sync_on_a_locked_postgresql_state_exits_5(pg_url: str, tmp_path: Path, capsys) -> None:
    with StateStore.open(in_schema(pg_url, "default")):
        code = main(["sync", "--source", str(tmp_path / "products.csv"), "--target", "elebne",
                     "--state", pg_url, "--no-progress"])
    assert code == EXIT_LOCKED
    assert "another run is using the state" in capsys.readouterr().err


# -- passwords ---------------------------------------------------------------------------------------------------

SECRET = "Sup3r-S3cret%21pw"  # percent-encoded in the URL: "Sup3r-S3cret!pw"


def test_a_password_in_the_url_is_never_shown() -> None:
    url = f"postgresql://conn:{SECRET}@db.example:5432/state?sslmode=require&password=other-Secret"
    assert "S3cret" not in shown(url) and "other-Secret" not in shown(url)
    assert shown(url).startswith("postgresql://conn:***@db.example:5432/state")
    said = f"could not connect with Sup3r-S3cret!pw or {SECRET} or other-Secret"
    assert "S3cret" not in scrub(said, url) and "other-Secret" not in scrub(said, url)


def test_an_unreachable_state_server_is_exit_4_without_the_password(tmp_path: Path, capsys,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    src = tmp_path / "products.csv"
    src.write_text("SKU,Name,Price\nA,Tea,2\n", encoding="utf-8")
    url = f"postgresql://conn:{SECRET}@127.0.0.1:9/state?connect_timeout=2"
    code = main(["sync", "--source", str(src), "--target", "elebne", "--state", url, "--dry-run", "--no-progress"])
    captured = capsys.readouterr()
    said = " ".join((captured.out + captured.err).split())  # the console wraps long lines
    assert code == EXIT_UNREACHABLE
    assert "cannot be reached" in said and "Traceback" not in said
    assert "S3cret" not in said and "conn:***@127.0.0.1:9" in said
    assert "S3cret" not in caplog.text  # nor in any log line (psycopg's included)


def test_a_state_database_that_does_not_exist_is_a_setting_to_fix_exit_2(pg_server: PgServer, tmp_path: Path,
                                                                          capsys) -> None:
    """A misspelt database name is not a server to wait for (exit 4 tells cron to try again later)."""
    src = tmp_path / "products.csv"
    src.write_text("SKU,Name,Price\nA,Tea,2\n", encoding="utf-8")
    url = pg_server.url("no_such_state_db")
    code = main(["sync", "--source", str(src), "--target", "elebne", "--state", url, "--dry-run", "--no-progress"])
    said = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_USAGE, said
    assert 'database "no_such_state_db" does not exist' in said and "createdb" in said and "Traceback" not in said


# -- a whole sync ------------------------------------------------------------------------------------------------

@pytest.mark.sandbox
def test_a_profile_with_a_postgresql_state_syncs_and_the_next_run_sends_nothing(
        pg_url: str, elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    wb = write_workbook(tmp_path / "products.xlsx")
    profile = tmp_path / "shop.yaml"
    profile.write_text(f"name: shop\nsource: {{type: spreadsheet, path: {wb}}}\nstate: \"{pg_url}\"\n"
                       f"targets:\n  elebne: {{account: shop, base_url: \"{elebne_sandbox.base_url}\"}}\n",
                       encoding="utf-8")

    def sync() -> tuple[int, dict]:
        report = tmp_path / "report.json"
        code = main(["sync", "--profile", str(profile), "--report", str(report), "--no-progress"])
        return code, json.loads(report.read_text(encoding="utf-8"))

    code, report = sync()
    assert code == 0 and report["summary"]["rows"]["pushed"] == 13
    assert set(elebne_sandbox.products()) == {"SOAP-01", "TEE", "TEA-500"}
    mark = elebne_sandbox.last_id()
    code, report = sync()
    assert code == 0 and report["summary"]["rows"]["unchanged"] == 13
    assert elebne_sandbox.requests(since=mark) == []
    state_dir = Path(os.environ["CONNECTOR_STATE_DIR"])
    assert not list(state_dir.glob("*.sqlite")) and not list(tmp_path.glob("shop.sqlite*"))  # in the database
    with StateStore.open(in_schema(pg_url, "shop")) as state:
        assert set(state.remote_ids("elebne", "shop", "product")) >= {"SOAP-01", "TEE", "TEA-500"}
        assert state.budget_used("elebne", "shop", "write", time.strftime("%Y-%m-%d", time.gmtime())) == 3


@pytest.mark.sandbox
def test_the_global_state_url_serves_profiles_without_a_state(
        pg_url: str, elebne_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", ELEBNE_KEY)
    monkeypatch.setenv("CONNECTOR_STATE_URL", pg_url)
    wb = write_workbook(tmp_path / "products.xlsx")
    code = main(["sync", "--source", str(wb), "--target", "elebne", "--base-url", elebne_sandbox.base_url,
                 "--account", "shop", "--no-progress"])
    assert code == 0
    with StateStore.open(in_schema(pg_url, "default")) as state:
        assert state.hashes("elebne", "shop", "product")
    reports = list((Path(os.environ["CONNECTOR_STATE_DIR"]) / "reports").glob("*-elebne.json"))
    assert len(reports) == 1  # reports stay files on the machine that ran


def test_the_order_book_and_plugin_tables_live_in_a_postgresql_state(pg_url: str) -> None:
    from connector.marketplaces.ecomlinx.statedb import TABLES
    from connector.orders.book import OrderBook
    from connector.orders.model import OrderStatus
    from tests.test_orders_model import order

    with StateStore.open(in_schema(pg_url, "shop")) as state:
        book = OrderBook(state, "ecomlinx", "main")
        book.remember([order("A"), order("B")])
        book.remember([order("A", OrderStatus.CANCELLED)])
        book.mark_imported("odoo", order("B"), "42", {"reference": "ecomlinx:CH-B"})
        tables = state.tables(TABLES)
        tables.put("missing", [{"account": "main", "sku": "GONE-1", "first_seen": "t0", "last_checked": "t0"}])
    with StateStore.open(in_schema(pg_url, "shop")) as state:
        book = OrderBook(state, "ecomlinx", "main")
        assert [o.key for o in book.open_orders()] == ["B"]
        assert book.load(["A"])["A"].status is OrderStatus.CANCELLED
        assert book.imported("odoo") == {"B": "42"}
        assert [r["sku"] for r in state.tables(TABLES).rows("missing")] == ["GONE-1"]


def test_a_connection_lost_midway_is_state_unreachable_not_a_traceback(pg_url: str) -> None:
    from connector.sync.state.postgres import StateUnreachable

    with StateStore.open(in_schema(pg_url, "shop")) as state:
        state.set_cursor("src", "c", "1")
        with psycopg.connect(pg_url, autocommit=True) as admin:  # the server ends the run's session
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name LIKE 'connector pid %'")
        with pytest.raises(StateUnreachable) as caught:
            state.set_cursor("src", "c", "2")
        assert caught.value.exit_code == EXIT_UNREACHABLE and "state postgresql://" in str(caught.value)


def test_no_module_outside_the_state_uses_the_postgresql_driver() -> None:
    root = Path(__file__).resolve().parent.parent / "connector"
    offenders = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
                 if not p.relative_to(root).as_posix().startswith("sync/state/")
                 and "psycopg" in p.read_text(encoding="utf-8")]
    assert offenders == []


@pytest.mark.sandbox
def test_an_ecomlinx_sync_keeps_its_sku_map_in_a_postgresql_state(pg_url: str, tmp_path: Path) -> None:
    """EcomLinx's own tables (the SKU map, missing SKUs) through a real sync: the second run sends nothing."""
    from connector.marketplaces.ecomlinx.sandbox import create_sandbox
    from tests.test_ecomlinx_sync import ON_ECOMLINX
    from tests.test_ecomlinx_sync import sync as ecomlinx_sync

    server = create_sandbox(port=0, db_path=str(tmp_path / "sandbox.sqlite")).start()
    try:
        server.seed_products([{"sku": sku, "name": f"old {sku}", **fields} for sku, fields in ON_ECOMLINX.items()])
        state = in_schema(pg_url, "ecomlinx-shop")
        first = ecomlinx_sync(server, state)
        mark = max(r["id"] for r in server.requests_log())
        second = ecomlinx_sync(server, state)
        assert first.exit_code == second.exit_code == 0
        assert server.requests_log(mark) == []  # not even the listing: the SKU map is in the state
    finally:
        server.stop()
