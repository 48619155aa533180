"""The result model: what a run found, gate by gate. Everything here is frozen.

One vocabulary: a gate's `Status`, why it is neutral (`NeutralReason`) and what a `Note` is
about (`NoteKind`) are enums whose values are what every output format prints, in snake_case.
"""

from __future__ import annotations

import hashlib
from dataclasses import KW_ONLY, dataclass, field, replace
from enum import Enum
from typing import Any, NamedTuple


class Vocabulary(str, Enum):
    """An enum whose members are their own values when printed, compared or serialized."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Status(Vocabulary):
    PASS = "pass"
    FAIL = "fail"
    NEUTRAL = "neutral"


class NeutralReason(Vocabulary):
    """Why a gate neither passed nor failed."""

    INTERNAL_ERROR = "internal_error"  # the gate crashed on an input
    TIMEOUT = "timeout"  # the gate ran past its `timeout_seconds`
    NO_CHANGE = "no_change"  # a change gate in an audit: there is no change to judge
    UNIMPLEMENTED_GATE = "unimplemented_gate"  # a gate type this tool does not implement
    POLICY_CHANGED = "policy_changed"  # the change edits the policy (governance_change: warn)
    NOTHING_JUDGED = "nothing_judged"  # the gate's globs select no file of the repository
    NOT_JUDGED = "not_judged"  # files the gate selects that it could not judge (a rule and unwalkable Python)
    NO_ENDPOINT = "no_endpoint"  # no model endpoint or key here (a fork's PR: its secrets are withheld)
    RULE_MISSING = "rule_missing"  # the rule file an ai-rule names is not in the base revision
    RULE_INVALID = "rule_invalid"  # the rule file does not validate
    INVALID_PROVIDER_RESULT = "invalid_provider_result"  # the model's endpoint gave no valid answer
    MISSING_METRICS = "missing_metrics"  # the model left out a metric the rule is neutral without
    NON_BLOCKING = "non_blocking"  # a rule marked `blocking: false` failed: reported, not enforced
    NO_CONTEXTS_REQUIRED = "no_contexts_required"  # governance-policy: the spec requires no status contexts

    @property
    def is_error(self) -> bool:
        """The gate tried and could not do its job: `fail_on_error` turns this into a failure.

        Not errors: what the environment or the policy chose (no endpoint on a fork's pull request,
        a metric the rule is neutral without, a non-blocking rule, nothing to judge)."""
        return self in _ERRORS

    @property
    def unjudged(self) -> bool:
        """The gate could not judge what it should have (`--fail-on neutral` fails on these);
        the others are structural (a change gate in an audit, another tool's gate type, a
        non-blocking rule, a policy edit under `governance_change: warn`)."""
        return self.is_error or self in _UNJUDGED


_ERRORS = frozenset({NeutralReason.INTERNAL_ERROR, NeutralReason.TIMEOUT, NeutralReason.NOT_JUDGED,
                     NeutralReason.RULE_MISSING, NeutralReason.RULE_INVALID, NeutralReason.INVALID_PROVIDER_RESULT})
_UNJUDGED = frozenset({NeutralReason.NOTHING_JUDGED, NeutralReason.NO_ENDPOINT, NeutralReason.MISSING_METRICS})


class NoteKind(Vocabulary):
    PLAIN_TEXT = "plain_text"  # a source file that does not parse, scanned as plain text
    NOT_SCANNED = "not_scanned"  # a symlink, submodule, binary or unreadable file
    NOT_JUDGED = "not_judged"  # a file one gate could not judge (a rule and unparsable Python)
    NOT_SELECTED = "not_selected"  # a code file no gate selects
    STALE_SUPPRESSION = "stale_suppression"
    STALE_BASELINE = "stale_baseline"
    SPEC_SOURCE = "spec_source"  # which spec was enforced, when it is not the obvious one
    BASELINE = "baseline"  # how many findings the baseline accepted
    ACTIVATION = "activation"  # why no DAO gate is on, and what to declare
    GOVERNANCE_CHANGE = "governance_change"
    VOTE_LINK = "vote_link"  # why a failing check of a DAO's repository carries no vote-to-merge link


PASS, FAIL, NEUTRAL = Status.PASS, Status.FAIL, Status.NEUTRAL


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


class ContentKey(NamedTuple):
    """What a finding is, independent of where its line moved: matches base and head findings,
    and baseline entries, across line shifts and re-indentation."""

    gate: str  # gate id
    path: str
    token: str
    line: str  # the line's text, white space folded


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
    def key(self) -> ContentKey:
        return ContentKey(self.gate_id, self.path, self.token, normalize(self.line_text))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256("\0".join(self.key).encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.gate_id, self.token)


def normalize(line: str) -> str:
    """Line text with white space folded, so re-indentation does not make a finding new."""
    return " ".join(line.split())


class SuppressionKey(NamedTuple):
    """What a suppression is, independent of its line number: matches base and head."""

    path: str
    gate: str
    reason: str
    line: str  # the line's text, white space folded


@dataclass(frozen=True)
class Suppression(Located):
    location: Location
    gate: str  # as written: a gate type or id
    reason: str
    line_text: str
    trailing: bool = False  # the comment follows code on its line

    @property
    def key(self) -> SuppressionKey:
        return SuppressionKey(self.path, self.gate, self.reason, normalize(self.line_text))

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
class Suppressed:
    """A finding a valid suppression set aside: not a violation, but listed with its reason."""

    violation: Violation
    suppression: Suppression


@dataclass(frozen=True)
class Note:
    """Something the reader must know that is not a violation: a file read as plain text, a policy change."""

    kind: NoteKind
    message: str
    path: str = ""


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict. A change gate returns one built with `passed`, `failed` or `neutral`;
    the engine fills in the gate's id, type, description and duration."""

    id: str = ""
    type: str = ""
    status: Status = PASS
    violations: tuple[Violation, ...] = ()
    neutral_reason: NeutralReason | None = None
    stats: dict[str, Any] = field(default_factory=dict, compare=False)
    duration_ms: int = field(default=0, compare=False)
    error: str | None = None
    message: str = ""  # one line on this result, e.g. "41 files changed; limit 40"
    description: str = ""  # what the gate flags: the first line of its documentation
    spec: str = ""  # the spec file that configured the gate (nested specs govern their subtrees)
    policy_diff: str = ""  # governance-change only: the unified diff of the policy files
    details: tuple[str, ...] = ()  # lines shown under the gate's summary: scores, what was sent where

    @classmethod
    def passed(cls, message: str = "", **stats: Any) -> GateResult:
        return cls(status=PASS, message=message, stats=stats)

    @classmethod
    def failed(cls, message: str, *violations: Violation, **stats: Any) -> GateResult:
        return cls(status=FAIL, violations=violations, message=message, stats=stats)

    @classmethod
    def neutral(cls, reason: NeutralReason, message: str = "", *, error: str | None = None, **stats: Any) -> GateResult:
        return cls(status=NEUTRAL, neutral_reason=NeutralReason(reason), message=message, error=error, stats=stats)

    def detailed(self, *lines: str) -> GateResult:
        """This result with `lines` shown under its summary in every format."""
        return replace(self, details=self.details + tuple(lines))


@dataclass(frozen=True)
class Report:
    mode: str  # audit | check
    gates: tuple[GateResult, ...]
    _: KW_ONLY  # the rest by name: a field added later can never take another's place
    notes: tuple[Note, ...] = ()
    fail_on_error: bool = False
    suppressions: tuple[Suppression, ...] = ()  # check: those the change adds; audit: all
    policy: str = ""  # which spec was enforced, and why
    vote_url: str = ""  # a failing check of a DAO's repository: where to propose a vote to merge anyway
    suppressed: tuple[Suppressed, ...] = ()  # the findings those suppressions set aside

    @property
    def status(self) -> Status:
        """Failed if a gate failed; neutral if one was neutral, or if no gate ran at all (nothing
        was judged: never a pass); passed otherwise."""
        statuses = [self.effective_status(g) for g in self.gates]
        if not statuses:
            return NEUTRAL
        if FAIL in statuses:
            return FAIL
        return NEUTRAL if NEUTRAL in statuses else PASS

    def effective_status(self, gate: GateResult) -> Status:
        if self.fail_on_error and gate.status == NEUTRAL and gate.neutral_reason and gate.neutral_reason.is_error:
            return FAIL
        return gate.status

    @property
    def violations(self) -> tuple[Violation, ...]:
        return tuple(sorted((v for g in self.gates for v in g.violations), key=Violation.sort_key))

    def exit_code(self, fail_on: str = "fail") -> int:
        """1 when a gate failed (or, with `fail_on="neutral"`, could not judge), else 0."""
        if self.status == FAIL:
            return 1
        unjudged = not self.gates or any(g.status == NEUTRAL and g.neutral_reason and g.neutral_reason.unjudged
                                         for g in self.gates)
        return 1 if fail_on == "neutral" and unjudged else 0

    def summarized(self) -> Report:
        """The report with notes of one kind and message about many files folded into one
        note with a count (`--verbose` keeps every file's own)."""
        groups: dict[tuple[NoteKind, str], list[Note]] = {}
        for note in self.notes:
            groups.setdefault((note.kind, note.message if note.path else f"\0{id(note)}"), []).append(note)
        notes = []
        for (kind, message), same in groups.items():
            if len(same) == 1:
                notes.append(same[0])
            else:
                shown = ", ".join(n.path for n in same[:3])
                notes.append(Note(kind, f"{len(same)} files: {message} (e.g. {shown}; --verbose lists them)"))
        return replace(self, notes=tuple(notes))
