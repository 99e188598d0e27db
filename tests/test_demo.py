"""`connector demo`: the bundled workbook synced twice to a local Elebne sandbox through the profile runner."""

from __future__ import annotations

import re

import pytest

from connector.cli import main

pytestmark = pytest.mark.sandbox


def test_demo_creates_everything_then_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    first, second = out.split("second run")
    # the sample's archived basket was never listed there: not created (connector/sync/archived.py)
    assert re.search(r"products created\W+10\b", first)
    assert "archived in the source and never listed" in " ".join(first.split())
    assert "HTTP requests: 0 (none)" in second and "exit code 0" in second


def test_demo_runs_with_the_same_safety_settings_as_a_sync(capsys: pytest.CaptureFixture[str]) -> None:
    """Elebne's account currency is fixed by its document (MRU): the demo, like `connector sync`, does not warn
    that nobody stated it."""
    assert main(["demo"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "account currency is not set" not in out and "warning" not in out
