"""SYSTEM_TENANT_REVENUE_SHARE: parsed exactly into an integer ratio, or refused at start-up."""

from __future__ import annotations

import pytest

from billing import env
from billing.env import RevenueShare
from billing.errors import BillingError


@pytest.mark.parametrize("text, share", [
    pytest.param("0.75", RevenueShare(3, 4), id="default"),
    pytest.param("7.5e-1", RevenueShare(3, 4), id="exponent"),
    pytest.param("0.1", RevenueShare(1, 10), id="not-binary"),
    pytest.param("0.333", RevenueShare(333, 1000), id="thirds"),
    pytest.param("1", RevenueShare(1, 1), id="all"),
    pytest.param("0", RevenueShare(0, 1), id="none"),
    pytest.param(" 0.5 ", RevenueShare(1, 2), id="spaces"),
    pytest.param("0." + "9" * 18, RevenueShare(10**18 - 1, 10**18), id="eighteen-places"),
])
def test_a_share_is_parsed_exactly(text, share):
    assert env.parse_revenue_share(text) == share


@pytest.mark.parametrize("text", [
    "", "abc", "1.5", "-0.1", "NaN", "sNaN", "inf", "0." + "1" * 19, "1e-30", "3/4", "75%",
])
def test_an_invalid_share_is_a_start_up_error(text):
    with pytest.raises(BillingError) as raised:
        env.parse_revenue_share(text)
    assert str(raised.value) == (
        f"SYSTEM_TENANT_REVENUE_SHARE must be a decimal between 0 and 1 (e.g. 0.75), got {text!r}")


def test_the_bonus_is_floored_in_integer_arithmetic():
    assert [RevenueShare(3, 4).bonus(c) for c in (0, 1, 3, 1001, 10**10)] == [
        0, 0, 2, 750, 7_500_000_000]
    assert RevenueShare(1, 10).bonus(10**17 + 9) == 10**16  # floats give 10000000000000002


def test_settings_come_from_the_environment_with_a_default():
    assert env.load({}) == env.Settings(RevenueShare(3, 4))
    assert env.load({"SYSTEM_TENANT_REVENUE_SHARE": "0.5"}) == env.Settings(RevenueShare(1, 2))
