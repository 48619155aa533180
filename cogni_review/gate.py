"""The gate contract: what a gate module provides, and what it is handed.

A gate is a module in `gates/` (or, for Python rules, `rules/`) named after its type
(`wallet_address_literals.py` is `wallet-address-literals`). Its docstring is its documentation:
first line what it flags, then `Why:`, `Instead:` and `Options:`. It defines `Options`
(a `GateOptions`) and one of:

- `scan(file: SourceFile, options) -> Iterable[Violation]`: a file gate. The engine runs it over
  every file its `paths`/`exclude` select; in `check` mode it runs it over both sides of each
  changed file and keeps only the findings the change introduces. An optional
  `candidates(options)` says what a file must contain for `scan` to be worth calling: a tuple
  of literal strings (any of them), or a regular expression (the engine's prefilter, run over
  raw bytes: keep it loose and free of look-arounds, which stop the regex engine skipping ahead).
- `check(change: Change, options) -> Verdict`: a change gate, judging the change as a whole.

Optional: `activates(spec) -> bool` turns the gate on with default options when the spec declares
what it protects, even if `gates:` does not list it; `EXAMPLES` lists `(path, code)` pairs under
"passes" and "fails" (a `# <-` or `// <-` marks each line that must be reported), and under "with" the
options the examples run with when the defaults need a spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cogni_review import globs
from cogni_review.globs import GlobSet
from cogni_review.model import FAIL, NEUTRAL, PASS, Violation

TEST_PATHS = (
    "tests/**",
    "test/**",
    "**/test/**",
    "**/tests/**",
    "**/__tests__/**",
    "**/*.test.*",
    "**/*.spec.*",
    "**/mocks/**",
    "**/__mocks__/**",
    "cypress/**",
    "**/e2e/**",
    "**/*.cy.*",
    "**/*.stories.*",
)
DOC_PATHS = ("docs/**", "**/docs/**", "*.md", "*.mdx", "*.rst")


class NotJudged(Exception):
    """Raised by `scan` for a file the gate cannot judge (a Python rule and a file libcst cannot
    parse): the engine notes the file by name and goes on, so the skip is never silent."""


class GateOptions(BaseModel):
    """Typed `with:` options; a misspelt key or a wrong type is a config error.

    Every gate has `timeout_seconds`: past it, the gate stops and its result is neutral
    `timeout` (a failure under `fail_on_error: true`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_seconds: float = Field(default=300, gt=0)


class FileGateOptions(GateOptions):
    """Options every file gate has: which files it judges."""

    paths: tuple[str, ...] = ("**",)
    exclude: tuple[str, ...] = ()

    @field_validator("paths", "exclude")
    @classmethod
    def _globs(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return globs.check(patterns)

    def selects(self, path: str) -> bool:
        return self._selector(path)

    @cached_property
    def _selector(self):
        included, excluded = GlobSet(self.paths).matcher(), GlobSet(self.exclude).matcher()
        return lambda path: included(path) and not excluded(path)


@dataclass(frozen=True)
class Verdict:
    """What a change gate returns."""

    status: str
    violations: tuple[Violation, ...] = ()
    message: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    neutral_reason: str | None = None

    @classmethod
    def passed(cls, message: str = "", **stats: Any) -> Verdict:
        return cls(PASS, message=message, stats=stats)

    @classmethod
    def failed(cls, message: str, **stats: Any) -> Verdict:
        return cls(FAIL, message=message, stats=stats)

    @classmethod
    def neutral(cls, reason: str, message: str = "") -> Verdict:
        return cls(NEUTRAL, message=message, neutral_reason=reason)


def spec_of(info: Any) -> Any:
    """The spec a gate's Options validator was handed (pydantic ValidationInfo), if any."""
    context = getattr(info, "context", None) or {}
    return context.get("spec")
