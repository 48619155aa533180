"""Money units. Integers only: a float never holds an amount.

1 credit = $0.001 = 1000 micro-USD, so 1 cent = 10 credits = 10_000 micro-USD.
"""

from billing.errors import BillingError

CREDITS_PER_CENT = 10
MICRO_USD_PER_CREDIT = 1000

# Ceilings that keep every product inside a signed 64-bit SQLite integer with room to spare.
MAX_CENTS = 10**9  # $10M in one payment
MAX_CREDITS = MAX_CENTS * CREDITS_PER_CENT


def cents_to_credits(cents: int) -> int:
    return cents * CREDITS_PER_CENT


def credits_to_micro_usd(credits: int) -> int:
    return credits * MICRO_USD_PER_CREDIT


def require_cents(cents: int) -> int:
    """A payment is a positive whole number of cents below the ceiling; anything else is refused."""
    if type(cents) is not int or not 0 < cents <= MAX_CENTS:
        raise BillingError(f"bad amount {cents!r}: expected whole cents from 1 to {MAX_CENTS}")
    return cents


def require_credits(credits: int, *, allow_zero: bool = False) -> int:
    """A credit amount is a positive whole number below the ceiling; anything else is refused."""
    low = 0 if allow_zero else 1
    if type(credits) is not int or not low <= credits <= MAX_CREDITS:
        raise BillingError(
            f"bad amount {credits!r}: expected whole credits from {low} to {MAX_CREDITS}"
        )
    return credits
