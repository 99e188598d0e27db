"""A target's ``settings:`` are checked against what its marketplace reads: a misspelt key used to be merged in
and never read, so the run went on with the inferred default it was meant to correct."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.config import load_profile
from connector.errors import ConfigError
from connector.marketplaces.registry import get_plugin
from connector.marketplaces.settings_check import settings_problems

ROOT = Path(__file__).resolve().parent.parent


def _profile(tmp_path: Path, targets: str) -> Path:
    p = tmp_path / "shop.yaml"
    p.write_text(f"source: {ROOT / 'templates' / 'sample_catalogue.xlsx'}\nstate: {tmp_path / 'state.sqlite'}\n"
                 f"targets:\n{targets}")
    return p


def test_a_misspelt_setting_is_refused_with_the_one_meant(tmp_path: Path) -> None:
    p = _profile(tmp_path, "  elebne:\n    settings: {bulk_max_item: 50}\n")
    with pytest.raises(ConfigError) as caught:
        load_profile(p)
    message = str(caught.value)
    assert "unknown setting targets.elebne.settings.bulk_max_item" in message
    assert "did you mean 'bulk_max_items'?" in message


def test_a_sync_with_a_misspelt_setting_stops_before_reading_or_sending(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_demo0000connector")
    # a closed port: had the run gone on, it would have tried to send and failed with exit 4
    p = _profile(tmp_path, "  elebne:\n    base_url: http://127.0.0.1:9/api\n    settings: {page_limt: 20}\n")
    assert main(["sync", "--profile", str(p), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "page_limt" in err and "page_limit" in err
    assert not (tmp_path / "state.sqlite").exists()


def test_names_inside_a_closed_table_are_checked(tmp_path: Path) -> None:
    p = _profile(tmp_path, "  elryan:\n    settings:\n      paths: {update_price_stok: 'POST /x'}\n"
                           "      delivery_statuses: {shiped: in_transit}\n")
    with pytest.raises(ConfigError) as caught:
        load_profile(p)
    message = str(caught.value)
    assert "targets.elryan.settings.paths.update_price_stok (did you mean 'update_price_stock'?" in message
    assert "targets.elryan.settings.delivery_statuses.shiped (did you mean 'shipped'?" in message


def test_every_documented_setting_is_accepted(tmp_path: Path) -> None:
    """Each plugin's own settings, the generic ones, a documented path that is not one of the inferred ones
    (Elryan lists only those in its settings) and open tables with names of the account's own."""
    p = _profile(tmp_path, """\
  elebne:
    settings: {bulk_max_items: 100, page_limit: 50, idempotency_header: X-Key, orders_since_param: null,
               order_statuses: {ON_HOLD: processing}, order_line_sku: [sku], order_amount_scale: 1000,
               order_currency: MRU, paths: {product: '/products/{id}'}, webhooks: {tolerance_seconds: 60},
               currency: MRU, defaults: {anything: 1}}
  elryan:
    settings: {email: a@b.c, price_stock_batch_size: 50, page_length: 50, category_prefix: c-,
               order_timezone: '+00:00', order_currency: IQD, order_filters: {created_from: fromDate},
               order_customer_fields: {phone: tel}, needs_tracking: false,
               delivery_statuses: {shipped: null}, paths: {health_check: 'GET /health'},
               defaults: {tax: 0}}
  ecomlinx:
    settings: {plan: scale, plans: {mine: {per_second: 1, per_minute: 10}}, listing_max_age_minutes: 5,
               currency: INR, page_limit: 10, paths: {}, defaults: {allocations: {amazon_in: 1}},
               order_statuses: {}, order_currency: INR}
""")
    profile = load_profile(p)
    assert profile.targets["elebne"].settings["bulk_max_items"] == 100
    assert profile.targets["elryan"].settings["paths"] == {"health_check": "GET /health"}


def test_settings_that_are_not_a_table_are_refused(tmp_path: Path) -> None:
    p = _profile(tmp_path, "  ecomlinx:\n    settings: [page_limit, 10]\n")
    with pytest.raises(ConfigError, match=r"targets.ecomlinx.settings must be a table"):
        load_profile(p)
    p = _profile(tmp_path, "  elebne:\n    settings: {paths: /products}\n")
    with pytest.raises(ConfigError, match=r"targets.elebne.settings.paths must be a table"):
        load_profile(p)


def test_a_plugin_with_open_settings_is_not_checked() -> None:
    from dataclasses import replace

    elebne = get_plugin("elebne")
    assert settings_problems(elebne, {"own_key": 1}, "s")
    assert settings_problems(replace(elebne, open_settings=True), {"own_key": 1}, "s") == []


def test_a_third_party_plugin_that_declares_nothing_keeps_its_settings(tmp_path: Path) -> None:
    """A plugin written before the check (no ``open_settings``) reads keys of its own with ``settings.get(...)``
    and lists none in ``settings``: its profiles worked and must still load; the built-in ones are checked."""
    from connector.marketplaces.base import MarketplacePlugin

    acme = MarketplacePlugin(name="acme", title="Acme", default_base_url="https://acme.test", limits={},
                             default_mapping=Path("acme.yaml"), credential_env="ACME_KEY",
                             make_adapter=lambda http, settings, account, secret: None,
                             auth_headers=lambda s: {})
    assert settings_problems(acme, {"warehouse": "W1", "page_size": 20}, "targets.acme.settings") == []
    assert settings_problems(get_plugin("elebne"), {"warehouse": "W1"}, "s")
    assert settings_problems(get_plugin("elryan"), {"warehouse": "W1"}, "s")
    assert settings_problems(get_plugin("ecomlinx"), {"warehouse": "W1"}, "s")
