"""A profile that names its own variable for the key (``api_key_env: SHOP_A_ELEBNE_KEY``, one per account)
and runs without it: the error names that variable, the one the run looked in, never the plugin's default."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.shipped import sample_workbook


@pytest.mark.parametrize("command", ["sync", "orders"])
def test_the_message_names_the_profiles_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], command: str) -> None:
    monkeypatch.delenv("ELEBNE_API_KEY", raising=False)
    monkeypatch.delenv("SHOP_A_ELEBNE_KEY", raising=False)
    monkeypatch.setenv("CONNECTOR_CREDENTIALS", str(tmp_path / "no-credentials.yaml"))
    profile = tmp_path / "shop.yaml"
    profile.write_text(f"source: {{type: spreadsheet, path: {sample_workbook()}}}\nstate: state.sqlite\n"
                       "targets:\n  elebne: {api_key_env: SHOP_A_ELEBNE_KEY, base_url: 'http://127.0.0.1:9/api'}\n"
                       "orders: {to: workbook, workbook: orders.xlsx}\n", encoding="utf-8")
    code = main([command, "--profile", str(profile), "--no-progress"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert "no credentials for Elebne: set SHOP_A_ELEBNE_KEY in the environment" in err
    assert "ELEBNE_API_KEY" not in err
