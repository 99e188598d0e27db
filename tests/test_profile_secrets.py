"""A profile holding a secret is refused by its value too, under any key name, without echoing the secret;
ordinary values (URLs, names, ``api_key_env: ELEBNE_API_KEY``) are not flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.config import load_profile
from connector.errors import EXIT_USAGE, ConfigError
from connector.marketplaces.ecomlinx import SANDBOX_KEY as ECOMLINX_KEY
from connector.marketplaces.elebne import PLUGIN as ELEBNE
from connector.secret_patterns import secret_kind
from connector.sources.aleta.sandbox import SANDBOX_KEY as ALETA_KEY

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"

BASE = """\
name: shop
source: {type: spreadsheet, path: products.xlsx, currency: MRU}
targets:
  elebne:
    account: my-shop
    api_key_env: ELEBNE_API_KEY
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("extra", "where", "secret"), [
    ("    settings: {token: sk_live_4eC39HqLyjWDarjtT1zdp7dc}\n", "targets.elebne.settings.token",
     "4eC39HqLyjWDarjtT1zdp7dc"),
    ("    settings: {note: sk_test_demo0000connector}\n", "targets.elebne.settings.note", "demo0000connector"),
    ("    settings: {headers: {Authorization: 'Bearer elx_live_sk_4f8a2b1c9d7e3f6a0b5c2d8e1f4a7b3c'}}\n",
     "targets.elebne.settings.headers.Authorization", "4f8a2b1c9d7e3f6a0b5c2d8e1f4a7b3c"),
    ("    settings: {key: elx_test_sk_scale0000connector}\n", "targets.elebne.settings.key", "scale0000connector"),
    (f"    settings: {{auth: 'Bearer {JWT}'}}\n", "targets.elebne.settings.auth", JWT[10:40]),
    (f"    settings: {{session: {JWT}}}\n", "targets.elebne.settings.session", JWT[10:40]),
    ("    settings: {auth: Bearer 9f8e7d6c5b4a39281706}\n", "targets.elebne.settings.auth", "9f8e7d6c5b4a39281706"),
    ("    settings: {webhook_signing: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n",
     "targets.elebne.settings.webhook_signing", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ("    stock: {locations: [Main, pk_live_51Habcdefgh12345]}\n", "targets.elebne.stock.locations[1]",
     "51Habcdefgh12345"),
    ("  aleta_mirror: {account: x, token: b2b_live1234567xyz}\n", "targets.aleta_mirror.token", "live1234567xyz"),
    ("    base_url: https://admin:hunter2pass@erp.example.com/api\n", "targets.elebne.base_url", "hunter2pass"),
    ("    base_url: https://supplier.example/api/v1?api_key=b2b_live1234567xyz\n", "targets.elebne.base_url",
     "live1234567xyz"),
])
def test_a_secret_value_under_any_key_name_is_refused(tmp_path: Path, extra: str, where: str, secret: str) -> None:
    path = write(tmp_path, BASE + extra)
    with pytest.raises(ConfigError, match="secrets belong in the environment") as caught:
        load_profile(path)
    message = str(caught.value)
    assert f"'{where}' holds what looks like" in message
    assert secret not in message


def test_a_secret_in_the_source_and_a_list_are_all_named(tmp_path: Path) -> None:
    text = BASE.replace("currency: MRU}", "currency: MRU, auth: 'Bearer b2b_sandbox_demo0000'}")
    text += "    settings: {channels: [amazon, 'sk_live_abcdefgh1234']}\n"
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    message = str(caught.value)
    assert "'source.auth' holds what looks like an Aleta B2B key" in message
    assert "'targets.elebne.settings.channels[1]' holds what looks like an Elebne API key" in message
    assert "demo0000" not in message and "abcdefgh1234" not in message


def test_a_secret_used_as_a_key_name_is_not_echoed(tmp_path: Path) -> None:
    text = BASE + "    settings: {sk_live_abcdefgh12345678: true}\n"
    with pytest.raises(ConfigError, match=r"a key name under targets\.elebne\.settings") as caught:
        load_profile(write(tmp_path, text))
    assert "abcdefgh12345678" not in str(caught.value)


def test_the_cli_exits_2_naming_the_key_path_not_the_secret(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BASE + "    settings: {token: sk_live_4eC39HqLyjWDarjtT1zdp7dc}\n")
    assert main(["sync", "--profile", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "targets.elebne.settings.token" in err and "4eC39HqLyjWDarjtT1zdp7dc" not in err
    assert "Traceback" not in err


def test_ordinary_values_are_not_flagged(tmp_path: Path) -> None:
    text = """\
name: shop-b2b_prices
source:
  type: odoo
  url: https://erp.example.com/odoo?db=prod
  db: prod
  user: connector@example.com
  password_env: ODOO_PASSWORD
  warehouses: [WH, Shop]
state: ~/.local/state/connector/shop.sqlite
stock: {quantity: available, locations: [Warehouse], buffer: 2}
targets:
  elebne:
    account: my-shop
    api_key_env: ELEBNE_API_KEY
    base_url: https://api.elebne.com/api/v1/store
    settings: {bulk_max_items: 200, defaults: {note: "Bearer authentication, keys start with sk_live_",
                                               field: b2b_price_rule}}
  ecomlinx:
    account: main
    secret_env: ECOMLINX_API_KEY
    settings:
      defaults:  # (the mapping's defaults: any key)
        webhook_url: https://hooks.example.com/ecomlinx/events?source=connector
        auth_header_template: "Bearer ${ECOMLINX_API_KEY}"
        dsn: postgresql://connector:${PGPASSWORD}@db.example.com/state
        token_env: ECOMLINX_TOKEN
"""
    profile = load_profile(write(tmp_path, text))
    assert set(profile.targets) == {"elebne", "ecomlinx"}


@pytest.mark.parametrize("key", [ELEBNE.sandbox_key, ECOMLINX_KEY, ALETA_KEY,
                                 "elx_live_sk_4f8a2b1c9d7e3f6a0b5c2d8e1f4a7b3c", "sk_test_YOUR_KEY"])
def test_every_documented_key_format_is_recognised(key: str) -> None:
    assert secret_kind(key) is not None
    assert secret_kind(f"Authorization: Bearer {key}") is not None


@pytest.mark.parametrize("value", ["ELEBNE_API_KEY", "https://api.ecomlinx.com/v1", "Souk Trading", "sk_live_...",
                                   "b2b_price", "Bearer token", "skirts_live_collection", "desk_test_drive_2024"])
def test_ordinary_strings_are_not_secrets(value: str) -> None:
    assert secret_kind(value) is None


@pytest.mark.parametrize(("extra", "where"), [
    ("    settings: {client_secret: hunter2hunter2}\n", "targets.elebne.settings.client_secret"),
    ("    settings: {apiKey: abc123}\n", "targets.elebne.settings.apiKey"),
    ("    settings: {odoo-password: correct horse}\n", "targets.elebne.settings.odoo-password"),
    ("    settings: {token: 12345678}\n", "targets.elebne.settings.token"),
    ("    settings: {headers: {Authorization: 'Token abc'}}\n", "targets.elebne.settings.headers.Authorization"),
])
def test_a_value_under_a_secret_name_is_refused_without_echoing_it(tmp_path: Path, extra: str, where: str) -> None:
    with pytest.raises(ConfigError, match="named like a secret") as caught:
        load_profile(write(tmp_path, BASE + extra))
    message = str(caught.value)
    assert f"'{where}'" in message
    assert not any(s in message for s in ("hunter2", "abc123", "correct horse", "12345678", "Token abc"))


@pytest.mark.parametrize("extra", [
    "    settings: {headers: {Authorization: 'Basic dXNlcjpwYXNzd29yZA=='}}\n",
    "    settings: {auth: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l'}\n",
    "    settings: {note: !!binary c2tfbGl2ZV9hYmNkZWZnaGlqa2xtbm9wMTIzNA==}\n",
])
def test_basic_auth_and_binary_values_are_recognised(tmp_path: Path, extra: str) -> None:
    with pytest.raises(ConfigError, match="secrets belong in the environment") as caught:
        load_profile(write(tmp_path, BASE + extra))
    assert "dXNlcjpwYXNzd29yZA" not in str(caught.value) and "YWxhZGRpbjpv" not in str(caught.value)


@pytest.mark.parametrize("value", ["Basic authentication", "Basic Trading Company", "basic plan"])
def test_prose_about_basic_auth_is_not_a_secret(value: str) -> None:
    assert secret_kind(value) is None


@pytest.mark.parametrize(("extra", "key"), [
    ("    base-url: https://merchantstaging.elryan.com/api\n", "targets.elebne.base-url"),
    ("    mising: keep\n", "targets.elebne.mising"),
    ("gaurd: {max_share: 0.5}\n", "gaurd"),
])
def test_a_misspelt_profile_key_is_refused_not_ignored(tmp_path: Path, extra: str, key: str) -> None:
    """``base-url`` ignored would send to the production API; ``mising`` another policy than the one written."""
    with pytest.raises(ConfigError, match="unknown key") as caught:
        load_profile(write(tmp_path, BASE + extra))
    assert key in str(caught.value) and "a typo?" in str(caught.value)


@pytest.mark.parametrize(("yaml_text", "said"), [
    ("x0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)), "aliases expand to"),
    ("x: &a [*a]\n", "an alias refers to the collection that holds it"),
])
def test_a_profile_with_exploding_or_recursive_aliases_is_refused(tmp_path: Path, yaml_text: str,
                                                                  said: str) -> None:
    """Walking such a profile for secrets hung for minutes (aliases of aliases) or overflowed Python's stack."""
    with pytest.raises(ConfigError, match=said):
        load_profile(write(tmp_path, yaml_text + BASE))


def test_a_yaml_error_does_not_echo_the_line_that_holds_a_secret(tmp_path: Path, monkeypatch) -> None:
    """PyYAML's message copies the offending line: in a credentials file (or a profile holding a key by mistake)
    that line is the secret."""
    from connector.config import load_secret

    broken = write(tmp_path, 'name: x\ntargets:\n  elebne: {api_key_env: X, note: "sk_live_SECRETSECRET123\n')
    with pytest.raises(ConfigError, match="not valid YAML: line") as caught:
        load_profile(broken)
    assert "SECRETSECRET" not in str(caught.value)
    creds = tmp_path / "credentials.yaml"
    creds.write_text("elebne: {api_key: sk_live_SECRETSECRET123\n", encoding="utf-8")
    creds.chmod(0o600)
    monkeypatch.setenv("CONNECTOR_CREDENTIALS", str(creds))
    monkeypatch.delenv("ELEBNE_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="not valid YAML: line") as caught:
        load_secret("elebne", "ELEBNE_API_KEY")
    assert "SECRETSECRET" not in str(caught.value)


@pytest.mark.parametrize(("extra", "where"), [
    ("    api_key: sk_live_4eC39HqLyjWDarjtT1zdp7dc\n", "targets.elebne.api_key"),
    ("    settings: {auth: [{user: u}, {password: hunter2}]}\n", "targets.elebne.settings.auth[1].password"),
    ("    secret: ''\n", "targets.elebne.secret"),
])
def test_a_key_called_api_key_password_or_secret_is_named_by_its_path(tmp_path: Path, extra: str,
                                                                      where: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_profile(write(tmp_path, BASE + extra))
    said = str(exc.value)
    assert f"contains '{where}'" in said
    assert "4eC39HqLyjWDarjtT1zdp7dc" not in said and "hunter2" not in said
