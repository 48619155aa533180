"""Tokens confined to places: each governed token may appear in code only where its globs allow.

The one mechanism behind the payment-reason, provider-key and literal-allowlist gates: each is
a preset, an `Options` subclass that says which tokens are governed and how to word a finding,
with this module's `candidates` and `scan` as its hooks. Tokens match as whole words
(`credits_purchase_v2` is not `credits_purchase`), in code and string literals, never in
comments or docstrings. Where a word ends is what the language means: a backslash escape
sequence before a token ends the word before it (`"\\nOPENROUTER_API_KEY"`), and `$` on either
side is no part of it (`$OPENROUTER_API_KEY`, `${KEY}`, `` `KEY${x}` ``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable

from cogni_review import globs
from cogni_review.gate import DOC_PATHS, TEST_PATHS, FileGateOptions
from cogni_review.globs import matches_any
from cogni_review.model import Violation
from cogni_review.source import WORD, WORD_CHARS, SourceFile


@dataclass(frozen=True)
class Confinement:
    allowed: dict[str, tuple[str, ...]]  # token -> globs where it may appear

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """Every governed token, longest first, each ending in a word character not followed by
        another (the scan checks what precedes it); None if there are none."""
        if not self.allowed:
            return None
        tokens = sorted(self.allowed, key=lambda t: (-len(t), t))
        return re.compile("|".join(re.escape(t) + (f"(?![{WORD}])" if t[-1] in WORD_CHARS else "") for t in tokens))


class ConfinementOptions(FileGateOptions):
    """Options of a confinement preset: `governed()` maps each token to the globs where it may
    appear; `describe(token, globs)` words a finding as (message, hint)."""

    exclude: tuple[str, ...] = TEST_PATHS + DOC_PATHS

    def governed(self) -> dict[str, tuple[str, ...]]:
        raise NotImplementedError

    def describe(self, token: str, allowed: tuple[str, ...]) -> tuple[str, str]:
        raise NotImplementedError

    @cached_property
    def confinement(self) -> Confinement:
        return Confinement(self.governed())


def candidates(options: ConfinementOptions) -> tuple[str, ...]:
    return tuple(options.confinement.allowed)


def scan(file: SourceFile, options: ConfinementOptions) -> Iterable[Violation]:
    """Violations for tokens outside their globs."""
    confinement = options.confinement
    if confinement.pattern is None:
        return
    for match in file.matches(confinement.pattern, whole_words=True):
        allowed = confinement.allowed[match.token]
        if not matches_any(allowed, file.path):
            yield file.violation(match, *options.describe(match.token, allowed))


def governed(tokens: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Options validator for a token -> globs map: no blank token, none with white space around it
    (it could never match as written), every glob valid."""
    for token, allowed in tokens.items():
        blank_token(token)
        globs.validate(allowed)
    return tokens


def where(allowed: tuple[str, ...], most: int = 3) -> str:
    """The allowed globs for a message: the first few, and how many more there are."""
    if not allowed:
        return "nowhere"
    more = f" and {len(allowed) - most} more" if len(allowed) > most else ""
    return ", ".join(allowed[:most]) + more


def blank_token(token: str) -> str:
    """`token`, or a ValueError when it is blank or has white space around it."""
    if not token.strip():
        raise ValueError("a governed token may not be empty or blank")
    if token != token.strip():
        raise ValueError(f"{token!r} has white space around it, so it would never match as a whole token")
    return token
