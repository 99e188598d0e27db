"""Issue 12: an Odoo read says whether it was full, so only a full read takes unread products off sale."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.sources.odoo import OdooSource
from connector.sync.state import StateStore
from tests.odoo_vcr import RECORDING, VERSIONS, block_network, odoo_cassette, password
from tests.test_odoo_incremental import incremental_settings


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"odoo{v}")
def test_a_full_read_says_so_and_an_incremental_one_does_not(version: int, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if RECORDING:
        pytest.skip("replay only: shares the incremental cassettes")
    monkeypatch.setenv(f"CONNECTOR_TEST_ODOO{version}_PASSWORD", password(version))
    block_network(monkeypatch)
    with StateStore.open(tmp_path / "state.sqlite") as state:
        with odoo_cassette(version, "incremental_1_full"):
            assert OdooSource(incremental_settings(version)).read(state=state, full=True).full_read is True
        with odoo_cassette(version, "incremental_2_changes"):
            assert OdooSource(incremental_settings(version)).read(state=state, full=False).full_read is False
