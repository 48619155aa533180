"""Settings read from the environment. The only module of the service that reads `os.environ`.

Values are parsed exactly (decimal text -> integer ratio) and checked once at start-up; an
invalid value is a `BillingError` naming the variable, never a silent default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from billing.errors import BillingError

REVENUE_SHARE_VAR = "SYSTEM_TENANT_REVENUE_SHARE"
DATABASE_VAR = "COGNI_BILLING_DB"  # the database when `--db` is not given: a file or a URL
RPC_URL_VAR = "COGNI_BILLING_RPC_URL"  # the chain node's JSON-RPC endpoint, for verification
SPEC_VAR = "COGNI_BILLING_SPEC"  # the repo spec whose payments_in declares the rail
ADMINS_VAR = "COGNI_BILLING_ADMINS"  # wallets that may govern revenue rules and refund
DEFAULT_SPEC = ".cogni/repo-spec.yaml"
DEFAULT_REVENUE_SHARE = "0.75"


@dataclass(frozen=True)
class RevenueShare:
    """The system tenant's bonus as an exact ratio of the credits a user buys for themself."""

    numerator: int
    denominator: int

    def bonus(self, credits: int) -> int:
        """floor(credits x share), in integer arithmetic."""
        return credits * self.numerator // self.denominator

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class Settings:
    revenue_share: RevenueShare
    database: str | None = None
    rpc_url: str | None = None
    spec: str = DEFAULT_SPEC
    admins: tuple[str, ...] = ()


def load(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    text = env.get(REVENUE_SHARE_VAR, DEFAULT_REVENUE_SHARE)
    admins = tuple(a.strip().lower() for a in env.get(ADMINS_VAR, "").split(",") if a.strip())
    return Settings(revenue_share=parse_revenue_share(text),
                    database=env.get(DATABASE_VAR) or None,
                    rpc_url=env.get(RPC_URL_VAR) or None,
                    spec=env.get(SPEC_VAR) or DEFAULT_SPEC,
                    admins=admins)


def parse_revenue_share(text: str, what: str = REVENUE_SHARE_VAR) -> RevenueShare:
    """Parse a decimal between 0 and 1 inclusive ("0.75", "1", "0.125") into an exact ratio."""
    problem = f"{what} must be a decimal between 0 and 1 (e.g. 0.75), got {text!r}"
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise BillingError(problem) from None
    # At most 18 decimal places keeps the ratio's denominator within 10**18.
    if not value.is_finite() or not -18 <= value.as_tuple().exponent <= 0:
        raise BillingError(problem)
    if value < 0 or value > 1:
        raise BillingError(problem)
    ratio = Fraction(value)
    return RevenueShare(ratio.numerator, ratio.denominator)
