"""A money-minting reason string used outside its approved rails.

Why: a ledger reason such as `credits_purchase` is what mints credits; code anywhere else that
writes it can mint credits without a payment behind them. Only the settlement rail (the confirm
route, the payments feature, and the shared constants module) may name it.

Instead: import the reason constant from the shared constants module and mint only through the
approved settlement service; never spell the reason out in another module.

Options:
  reasons: map of reason string -> globs where it may appear
           (default `{widget_payment: [src/app/api/v1/payments/credits/**/route.ts,
           src/features/payments/**, src/shared/constants/**/payments.ts]}`)
  paths: files judged (default all)
  exclude: files never judged (default: tests and docs)

Reasons match as whole tokens, in code and in string literals (SQL in a string included), never
in comments. Renamed reasons (`credits_purchase`, `platform_revenue_share`, `system_donation`)
need only a `reasons:` entry each.
"""

from __future__ import annotations

from functools import cached_property
from typing import Iterable

from pydantic import field_validator

from cogni_review.confinement import Confinement, governed, where
from cogni_review.gate import DOC_PATHS, TEST_PATHS, FileGateOptions
from cogni_review.model import Violation
from cogni_review.source import SourceFile

RAILS = (
    "src/app/api/v1/payments/credits/**/route.ts",
    "src/features/payments/**",
    "src/shared/constants/**/payments.ts",
)


class Options(FileGateOptions):
    reasons: dict[str, tuple[str, ...]] = {"widget_payment": RAILS}
    exclude: tuple[str, ...] = TEST_PATHS + DOC_PATHS

    _governed = field_validator("reasons")(governed)

    @cached_property
    def confinement(self) -> Confinement:
        return Confinement(self.reasons)


def activates(spec) -> bool:
    return bool(spec.payments_in)


def candidates(options: Options) -> tuple[str, ...]:
    return tuple(options.confinement.allowed)


def scan(file: SourceFile, options: Options) -> Iterable[Violation]:
    return options.confinement.scan(file, _describe)


def _describe(reason: str, globs: tuple[str, ...]) -> tuple[str, str]:
    return (
        f"payment reason {reason!r} outside its approved rails (allowed only in {where(globs)})",
        "import the reason constant from the shared constants module and mint only through the approved settlement service",
    )


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
