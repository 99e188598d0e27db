"""CLI commands, profiles and credentials, plugin discovery through entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from connector.cli import main
from connector.config import load_profile, load_secret
from connector.errors import ConfigError
from connector.mapping.schema import json_schema
from connector.marketplaces import registry

ROOT = Path(__file__).resolve().parents[1]


def test_published_mapping_schema_is_current() -> None:
    published = json.loads((ROOT / "mappings" / "schema.json").read_text())
    assert published == json_schema(), "run: connector mapping schema > mappings/schema.json"


def test_mapping_check_reports_file_path_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mapping", "check", str(ROOT / "mappings" / "elebne.yaml")]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: elebne\npayloads:\n  product:\n    fields:\n      name: {copy: product.nmae}\n")
    assert main(["mapping", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:5" in err.replace("\n", "") and "no field 'nmae'" in err


def test_profile_with_secret_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text("source: products.xlsx\ntargets:\n  elebne:\n    api_key: sk_live_oops\n")
    with pytest.raises(ConfigError, match="secrets belong in the environment"):
        load_profile(p)


def test_profile_paths_are_relative_to_the_profile(tmp_path: Path) -> None:
    p = tmp_path / "shop.yaml"
    p.write_text("source: {type: spreadsheet, path: data/products.xlsx}\nstate: st/shop.sqlite\n"
                 "stock: {buffer: 2}\ntargets:\n  elebne: {account: s1, stock: {percent: 50}}\n")
    prof = load_profile(p)
    assert prof.source["path"] == str(tmp_path / "data" / "products.xlsx")
    assert prof.state == tmp_path / "st" / "shop.sqlite"
    policy = prof.stock_policy("elebne")
    assert (policy.buffer, policy.percent) == (2, 50)


def test_unknown_stock_setting_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "shop.yaml"
    p.write_text("source: x.xlsx\nstock: {bufer: 2}\ntargets: {elebne: {}}\n")
    with pytest.raises(ConfigError, match="unknown stock setting"):
        load_profile(p)


def test_secret_from_environment_then_private_credentials_file(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "credentials.yaml"
    creds.write_text("elebne: {api_key: sk_test_fromfile123}\n")
    monkeypatch.setenv("CONNECTOR_CREDENTIALS", str(creds))
    monkeypatch.delenv("ELEBNE_API_KEY", raising=False)
    os.chmod(creds, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_secret("elebne", "ELEBNE_API_KEY")
    os.chmod(creds, 0o600)
    assert load_secret("elebne", "ELEBNE_API_KEY") == "sk_test_fromfile123"
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_fromenv456")
    assert load_secret("elebne", "ELEBNE_API_KEY") == "sk_test_fromenv456"


def test_an_installed_package_can_add_a_marketplace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An integrator's own package registers a plugin in the entry-point group; nothing here is edited."""
    pkg = tmp_path / "acme_market"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from pathlib import Path\n"
        "from connector.marketplaces.base import MarketplacePlugin\n"
        "PLUGIN = MarketplacePlugin(name='acme', title='Acme', default_base_url='https://acme.test',\n"
        "    limits={}, default_mapping=Path('acme.yaml'), credential_env='ACME_KEY',\n"
        "    make_adapter=lambda http, settings, account, secret: None, auth_headers=lambda s: {})\n")
    dist = tmp_path / "acme_market-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-market\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[connector.marketplaces]\nacme = acme_market:PLUGIN\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.plugins.cache_clear()
    try:
        assert registry.get_plugin("acme").title == "Acme"
        assert "elebne" in registry.plugins()
    finally:
        registry.plugins.cache_clear()


def test_marketplaces_command_lists_elebne(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["marketplaces"]) == 0
    assert "elebne: Elebne" in capsys.readouterr().out


def test_sandbox_command_serves_on_loopback(tmp_path: Path) -> None:
    port = 18000 + os.getpid() % 1000
    proc = subprocess.Popen([sys.executable, "-m", "connector.cli", "sandbox", "elebne", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/api/v1/dev/store/inventory"
        for _ in range(100):
            try:
                resp = requests.get(url, headers={"Authorization": "Bearer pk_test_abcdefgh12"}, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("sandbox did not start")
        assert resp.status_code == 200 and resp.json()["success"] is True
        assert requests.get(url, timeout=1).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
