"""A governed string literal used outside the files allowed to spell it.

Why: some strings are policy, not text: a ledger reason that mints credits, a role that grants
admin, a feature flag that opens a paid path. Spelled out in one more module, the string does
what it does there too, without the review its own module gets.

Instead: import the constant from the module that owns it; if another file truly needs to spell
it, add that file to the literal's allowed globs, where the change reads as a change of policy.

Literals match as whole tokens (`admin` is not `admin_panel`), in code and string literals of
every language (SQL in a string included), never in comments or docstrings. This is the
mechanism the payment-reason and provider-key gates are built on, for any governed string.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from cogni_review.confinement import ConfinementOptions, candidates, governed, scan, where

__all__ = ["Options", "candidates", "scan"]


class Options(ConfinementOptions):
    glob_fields = ConfinementOptions.glob_fields + ("literals",)
    literals: dict[str, tuple[str, ...]] = Field({}, description="map of literal -> globs of the files where it may appear")

    _governed = field_validator("literals")(governed)

    def governed(self) -> dict[str, tuple[str, ...]]:
        return self.literals

    def describe(self, literal: str, allowed: tuple[str, ...]) -> tuple[str, str]:
        return (
            f"{literal!r} outside the files allowed to spell it (allowed {_only(allowed)})",
            "import the constant from the module that owns it, or add this file to the literal's globs in the spec",
        )


def _only(allowed: tuple[str, ...]) -> str:
    return f"only in {where(allowed)}" if allowed else "nowhere"


EXAMPLES = {
    "with": {"literals": {"system_donation": ["billing/ledger.py", "billing/constants.py"]}},
    "passes": [
        ("billing/constants.py", 'SYSTEM_DONATION = "system_donation"'),
        ("billing/api.py", "ledger.append(conn, reason=constants.SYSTEM_DONATION)  # not system_donation"),
        ("billing/api.py", 'reason = "system_donation_v2"'),
    ],
    "fails": [
        ("billing/api.py", 'ledger.append(conn, reason="system_donation")  # <-'),
        ("web/src/admin.ts", "const reason = 'system_donation'; // <-"),
        ("billing/report.sql", "SELECT sum(credits) FROM credit_ledger WHERE reason = 'system_donation'; -- <-"),
    ],
}
