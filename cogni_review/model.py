"""The result model: what a run found, gate by gate. Everything here is frozen."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, NEUTRAL = "pass", "fail", "neutral"
#: neutral reasons that mean "the gate could not do its job"; fail_on_error turns them into failures
ERROR_REASONS = frozenset({"internal_error", "timeout"})


@dataclass(frozen=True, order=True)
class Location:
    path: str  # repo-relative, forward slashes
    line: int  # 1-based
    column: int  # 1-based, in characters


class Located:
    """Shorthands for anything with a `location`."""

    location: Location

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def line(self) -> int:
        return self.location.line

    @property
    def column(self) -> int:
        return self.location.column


@dataclass(frozen=True)
class Violation(Located):
    """One finding: where, what (the token), why (message) and how to fix it (hint)."""

    location: Location
    token: str
    message: str
    hint: str = ""
    line_text: str = ""  # the whole source line, for content-keyed matching
    gate_id: str = ""
    gate_type: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Content key: stable across line shifts, used to match base and head findings."""
        return (self.gate_id, self.path, self.token, normalize(self.line_text))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256("\0".join(self.key).encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.gate_id, self.token)


def normalize(line: str) -> str:
    """Line text with white space folded, so re-indentation does not make a finding new."""
    return " ".join(line.split())


@dataclass(frozen=True)
class Suppression(Located):
    location: Location
    gate: str  # as written: a gate type or id
    reason: str
    line_text: str
    trailing: bool = False  # the comment follows code on its line

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.path, self.gate, self.reason, normalize(self.line_text))

    def covers(self, line: int) -> bool:
        """A trailing comment covers its own line; a comment on a line of its own, the next."""
        return line == self.line or (not self.trailing and line == self.line + 1)

    def problem(self, known: set[str]) -> str | None:
        """Why this suppression is invalid, or None (`known`: gate types and ids of this run)."""
        if not self.gate:
            return "suppression names no gate; write `cogni: allow <gate-type> -- <reason>`"
        if self.gate not in known:
            return f"suppression names unknown gate {self.gate!r}; it suppresses nothing"
        if not self.reason:
            return f"suppression of {self.gate} gives no reason; add `-- <why this is safe>`"
        return None


@dataclass(frozen=True)
class Note:
    """Something the reader must know that is not a violation: a file read as plain text, a policy change."""

    kind: str
    message: str
    path: str = ""


@dataclass(frozen=True)
class GateResult:
    id: str
    type: str
    status: str
    violations: tuple[Violation, ...] = ()
    neutral_reason: str | None = None
    stats: dict[str, Any] = field(default_factory=dict, compare=False)
    duration_ms: int = field(default=0, compare=False)
    error: str | None = None
    message: str = ""  # one line on this result, e.g. "41 files changed; limit 40"
    description: str = ""  # what the gate flags: the first line of its documentation

    @classmethod
    def neutral(cls, id: str, type: str, reason: str, error: str | None = None, message: str = "",
                description: str = "") -> GateResult:
        return cls(id=id, type=type, status=NEUTRAL, neutral_reason=reason, error=error, message=message,
                   description=description)


@dataclass(frozen=True)
class Report:
    mode: str  # audit | check
    gates: tuple[GateResult, ...]
    notes: tuple[Note, ...] = ()
    fail_on_error: bool = False
    suppressions: tuple[Suppression, ...] = ()  # check: those the change adds; audit: all

    @property
    def status(self) -> str:
        statuses = [self.effective_status(g) for g in self.gates]
        if FAIL in statuses:
            return FAIL
        return NEUTRAL if NEUTRAL in statuses else PASS

    def effective_status(self, gate: GateResult) -> str:
        if self.fail_on_error and gate.status == NEUTRAL and gate.neutral_reason in ERROR_REASONS:
            return FAIL
        return gate.status

    @property
    def violations(self) -> tuple[Violation, ...]:
        return tuple(sorted((v for g in self.gates for v in g.violations), key=Violation.sort_key))

    @property
    def exit_code(self) -> int:
        return 1 if self.status == FAIL else 0
