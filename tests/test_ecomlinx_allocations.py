"""Channel allocation policy (connector/marketplaces/ecomlinx/allocations.py) and the EcomLinx payload checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.errors import ConfigError
from connector.marketplaces.ecomlinx.allocations import allocate, parse_policy
from connector.marketplaces.ecomlinx.payloads import product_body
from tests.payload_checks import ecomlinx_check as check


def test_percentages_are_rounded_down() -> None:
    assert allocate(143, {"amazon_in": "50%", "flipkart": "33.3%", "shopify": {"percent": 10}}) == {
        "amazon_in": 71, "flipkart": 47, "shopify": 14}


def test_fixed_units_and_percentages_mix() -> None:
    assert allocate(10, {"amazon_in": 4, "flipkart": "50%"}) == {"amazon_in": 4, "flipkart": 5}


def test_never_more_than_the_total_channels_served_in_order() -> None:
    result = allocate(7, {"amazon_in": 5, "flipkart": "60%", "shopify": 3})
    assert result == {"amazon_in": 5, "flipkart": 2, "shopify": 0}
    assert sum(result.values()) <= 7
    assert allocate(0, {"amazon_in": "50%", "flipkart": 2}) == {"amazon_in": 0, "flipkart": 0}


def test_a_policy_applied_to_its_own_result_changes_nothing() -> None:
    first = allocate(99, {"amazon_in": "40%", "flipkart": "40%"})
    assert allocate(99, first) == first


def test_empty_policy_sends_no_allocations() -> None:
    assert allocate(12, {}) is None
    assert allocate(12, None) is None


@pytest.mark.parametrize(("policy", "needle"), [
    ({"amazon_in": "150%"}, "between 0% and 100%"),
    ({"amazon_in": -3}, "cannot be negative"),
    ({"amazon_in": "lots"}, "amazon_in: expected a number of units or a percentage"),
    ({"amazon_in": True}, "expected a number"),
    ({"bad channel!": 1}, "is not a channel id"),
    (["amazon_in"], "must be a table"),
])
def test_bad_policies_name_the_channel_and_the_problem(policy: object, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        parse_policy(policy)


def test_payload_checks_are_strict() -> None:
    assert check("create", {"sku": "A", "name": "Tea", "price": Decimal("350.00"), "status": "live"}) is None
    assert check("update", {"sku": "A", "price": "350.00"}) is None  # a Decimal that went through the state
    assert "price" in check("update", {"sku": "A", "price": 3.5})  # floats are refused: money is Decimal
    assert "status" in check("update", {"sku": "A", "status": "suppressed"})  # EcomLinx's verdict, not ours
    assert "quantity" in check("stock", {"sku": "A", "quantity": "7"})  # "7" is not 7
    assert "more than the quantity" in check("stock", {"sku": "A", "quantity": 3, "allocations": {"amazon_in": 4}})
    assert "adjust" in check("stock", {"sku": "A", "quantity": 3, "adjust": 1})  # never a relative adjust
    body = product_body({"sku": "A", "price": "899.50", "currency": "INR", "name": "Tea"})
    assert body == {"price": Decimal("899.50"), "name": "Tea"}
