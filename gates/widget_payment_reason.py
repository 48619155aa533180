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
from cogni_review.gate import in_every_app

__all__ = ["Options", "activates", "candidates", "scan"]

#: the approved rails of every app: the confirm route, the payments feature, and where a reason is
#: defined (the shared constants modules, the database schema and its migrations)
RAILS = in_every_app(
    "src/app/api/v1/payments/credits/**/route.ts",
    "src/features/payments/**",
    "src/shared/constants/**",
    "src/constants/**",
) + ("**/db-schema/**", "**/db/schema.*", "**/db/schema/**", "**/migrations/**", "**/*-migrations/**")
#: the minting reasons of the DAO's payments loop, old and new names
REASONS = ("widget_payment", "credits_purchase", "platform_revenue_share", "system_donation")


class Options(ConfinementOptions):
    glob_fields = ConfinementOptions.glob_fields + ("reasons",)
    reasons: dict[str, tuple[str, ...]] = Field(dict.fromkeys(REASONS, RAILS),
                                                description="map of reason string -> globs of the rails where it may appear")

    _governed = field_validator("reasons")(governed)

    def governed(self) -> dict[str, tuple[str, ...]]:
        return self.reasons

    def describe(self, reason: str, allowed: tuple[str, ...]) -> tuple[str, str]:
        return (
            f"payment reason {reason!r} outside its approved rails (allowed only in {where(allowed)})",
            "import the reason constant from the shared constants module and mint only through the approved "
            "settlement service; if this file is a rail, add it to the reason's globs under `reasons:`",
        )


def activates(spec) -> bool:
    """When the spec declares a payment rail (`payments_in`)."""
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
