"""Tokens confined to places: each governed token may appear in code only where its globs allow.

The mechanism behind the reason and provider-key gates (and `literal-allowlist`): tokens match
as whole words (`credits_purchase_v2` is not `credits_purchase`), in code and string literals,
never in comments or docstrings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable

from cogni_review import globs
from cogni_review.globs import matches_any
from cogni_review.model import Violation
from cogni_review.source import SourceFile

WORD = "A-Za-z0-9_$"
WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$")


@dataclass(frozen=True)
class Confinement:
    allowed: dict[str, tuple[str, ...]]  # token -> globs where it may appear

    @cached_property
    def source(self) -> str | None:
        """Every governed token, longest first, not followed by a word character (the engine checks
        what precedes it); None if there are none."""
        if not self.allowed:
            return None
        tokens = sorted(self.allowed, key=lambda t: (-len(t), t))
        return f"(?:{'|'.join(map(re.escape, tokens))})(?![{WORD}])"

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.source) if self.source else None

    def scan(self, file: SourceFile, describe: Callable[[str, tuple[str, ...]], tuple[str, str]]) -> Iterable[Violation]:
        """Violations for tokens outside their globs; `describe(token, globs)` gives (message, hint)."""
        if self.pattern is None:
            return
        for match in file.matches(self.pattern, not_after=WORD_CHARS):
            globs = self.allowed[match.token]
            if not matches_any(globs, file.path):
                message, hint = describe(match.token, globs)
                yield file.violation(match, message, hint)


def governed(tokens: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Options validator for a token -> globs map: no blank token, every glob compiles."""
    for token, allowed in tokens.items():
        if not token.strip():
            raise ValueError("a governed token may not be empty or blank")
        globs.check(allowed)
    return tokens


def where(allowed: tuple[str, ...]) -> str:
    return ", ".join(allowed) if allowed else "nowhere"
