"""A governed string literal used outside the files allowed to spell it.

Why: some strings are policy, not text: a ledger reason that mints credits, a role that grants
admin, a feature flag that opens a paid path. Spelled out in one more module, the string does
what it does there too, without the review its own module gets.

Instead: import the constant from the module that owns it; if another file truly needs to spell
it, add that file to the literal's allowed globs, where the change reads as a change of policy.

Options:
  literals: map of literal -> globs of the files where it may appear (default none)
  paths: files judged (default all)
  exclude: files never judged (default: tests and docs)

Literals match as whole tokens (`admin` is not `admin_panel`), in code and string literals of
every language (SQL in a string included), never in comments or docstrings. This is the
mechanism the payment-reason and provider-key gates are built on, for any governed string.
"""

from __future__ import annotations

from functools import cached_property
from typing import Iterable

from pydantic import field_validator

from cogni_review.confinement import Confinement, governed, where
from cogni_review.gate import DOC_PATHS, TEST_PATHS, FileGateOptions
from cogni_review.model import Violation
from cogni_review.source import SourceFile


class Options(FileGateOptions):
    literals: dict[str, tuple[str, ...]] = {}
    exclude: tuple[str, ...] = TEST_PATHS + DOC_PATHS

    _governed = field_validator("literals")(governed)

    @cached_property
    def confinement(self) -> Confinement:
        return Confinement(self.literals)


def candidates(options: Options) -> tuple[str, ...]:
    return tuple(options.literals)


def scan(file: SourceFile, options: Options) -> Iterable[Violation]:
    return options.confinement.scan(file, _describe)


def _describe(literal: str, globs: tuple[str, ...]) -> tuple[str, str]:
    allowed = f"allowed only in {where(globs)}" if globs else "allowed nowhere"
    return (
        f"{literal!r} outside the files allowed to spell it ({allowed})",
        "import the constant from the module that owns it, or add this file to the literal's globs in the spec",
    )


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
