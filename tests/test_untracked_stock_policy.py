"""The listed quantity of a product whose stock the source does not track (canonical records): none, unless the
target's ``defaults.untracked_stock`` gives one, which is listed as it is."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connector.errors import ConfigError
from connector.marketplaces.registry import get_plugin
from connector.marketplaces.settings_check import settings_problems
from connector.model import ABSENT, Product, StockLevel, Variant
from connector.sync.stock_policy import StockPolicy, untracked_stock


def products() -> list[Product]:
    service = Product("WRAP", kind="service", variants=[Variant("WRAP-S"), Variant("WRAP-L", active=False)])
    stocked = Product("TEA", variants=[Variant("TEA", stock={"WH": StockLevel("WH", available=9)},
                                               stock_known=True)])
    return [service, stocked]


def test_the_setting_is_listed_as_it_is_and_archived_variants_at_0() -> None:
    service, stocked = products()
    StockPolicy().apply([service, stocked], untracked=None)  # not set: nothing listed
    assert [v.qty for v in service.variants] == [ABSENT, ABSENT]
    assert stocked.variants[0].qty == 9
    policy = StockPolicy(buffer=10, maximum=3, percent=50, reserved={"WRAP-S": 2, "TEA": 1})
    policy.apply([service, stocked], untracked=5)
    assert [v.qty for v in service.variants] == [5, 0]  # no buffer, maximum, percentage or reservation
    assert stocked.variants[0].qty == 0  # the stocked one follows the policy (8 left, under the buffer)
    assert "WRAP-S" not in policy.reservations([service, stocked])


@pytest.mark.parametrize("value", [True, -1, "5", 2.5, 2**31])
def test_a_bad_setting_is_refused_naming_it(value: object) -> None:
    with pytest.raises(ConfigError, match=r"defaults\.untracked_stock must be a whole number from 0"):
        untracked_stock({"defaults": {"untracked_stock": value}})
    problems = settings_problems(get_plugin("elebne"), {"defaults": {"untracked_stock": value}},
                                 "targets.elebne.settings")
    assert len(problems) == 1 and problems[0].startswith("targets.elebne.settings: target setting defaults.")
    open_plugin = replace(get_plugin("elryan"), open_settings=True)  # read for every target, open settings too
    assert settings_problems(open_plugin, {"defaults": {"untracked_stock": value}}, "s")


def test_unset_or_zero() -> None:
    assert untracked_stock({}) is None
    assert untracked_stock({"defaults": {"brand": "X"}}) is None
    assert untracked_stock({"defaults": {"untracked_stock": 0}}) == 0
