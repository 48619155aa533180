"""A money-minting reason string used outside its approved rails.

Why: a ledger reason such as `credits_purchase` is what mints credits; code anywhere else that
writes it can mint credits without a payment behind them. Only the settlement rail (the confirm
route, the payments feature, and the shared constants module) may name it.

Instead: import the reason constant from the shared constants module and mint only through the
approved settlement service; never spell the reason out in another module.

Reasons match as whole tokens, in code and in string literals (SQL in a string included), never
in comments. Renamed reasons (`credits_purchase`, `platform_revenue_share`, `system_donation`)
need only a `reasons:` entry each.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from cogni_review.confinement import ConfinementOptions, candidates, governed, scan, where

__all__ = ["Options", "activates", "candidates", "scan"]

RAILS = (
    "src/app/api/v1/payments/credits/**/route.ts",
    "src/features/payments/**",
    "src/shared/constants/**/payments.ts",
)


class Options(ConfinementOptions):
    reasons: dict[str, tuple[str, ...]] = Field({"widget_payment": RAILS},
                                                description="map of reason string -> globs of the rails where it may appear")

    _governed = field_validator("reasons")(governed)

    def governed(self) -> dict[str, tuple[str, ...]]:
        return self.reasons

    def describe(self, reason: str, allowed: tuple[str, ...]) -> tuple[str, str]:
        return (
            f"payment reason {reason!r} outside its approved rails (allowed only in {where(allowed)})",
            "import the reason constant from the shared constants module and mint only through the approved settlement service",
        )


def activates(spec) -> bool:
    return bool(spec.payments_in)


EXAMPLES = {
    "passes": [
        ("src/shared/constants/payments.ts", 'export const CREDITS_PURCHASE_REASON = "widget_payment";'),
        ("src/features/payments/services/creditsConfirm.ts", 'await ledger.credit({ reason: "widget_payment" });'),
        ("src/app/admin/page.tsx", "// widget_payment rows are minted by the confirm route only"),
        ("src/core/report.ts", 'const r = "widget_payment_v2";'),
    ],
    "fails": [
        ("src/features/ai/refund.ts", 'await ledger.credit({ reason: "widget_payment" }); // <-'),
        ("src/db/repair.sql", "SELECT * FROM credit_ledger WHERE reason = 'widget_payment'; -- <-"),
    ],
}
