"""Gitignore-style path globs, relative to the repository root.

`*` and `?` stay within one path segment, `**/` matches zero or more directories, a trailing
`/**` everything below, `[abc]` a character class, `{a,b}` alternatives. A pattern without a
slash matches a name at any depth (`*.test.ts`); a pattern matching a directory matches every
file below it. In a list, a later `!pattern` takes back what earlier ones matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class GlobSet:
    """An ordered list of patterns; the last one that matches a path decides."""

    patterns: tuple[str, ...]

    def matcher(self):
        """The compiled test, for hot loops: `matcher()(path) -> bool`."""
        return _compiled(tuple(self.patterns))


def matches_any(patterns: tuple[str, ...] | list[str], path: str) -> bool:
    return _compiled(tuple(patterns))(path)


@lru_cache(maxsize=512)
def _compiled(patterns: tuple[str, ...]):
    if not any(p.startswith("!") for p in patterns):
        if not patterns:
            return lambda path: False
        one = re.compile("|".join(f"(?:{translate(p)})" for p in patterns), re.DOTALL)
        return lambda path: one.match(path) is not None
    rules = [(p.startswith("!"), re.compile(translate(p.lstrip("!")), re.DOTALL)) for p in patterns]

    def decide(path: str) -> bool:
        verdict = False
        for negated, rx in rules:
            if rx.match(path):
                verdict = not negated
        return verdict

    return decide


def validate(patterns: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The patterns, if each compiles; a ValueError naming the first that does not."""
    for pattern in patterns:
        try:
            re.compile(translate(pattern.lstrip("!")))
        except re.error as e:
            raise ValueError(f"bad glob {pattern!r}: {e}") from None
    return tuple(patterns)


def escape(text: str) -> str:
    """`text` as a glob matching itself only: every character globs give a meaning is escaped."""
    return "".join(f"\\{c}" if c in "*?[]{}!\\" else c for c in text)


def rebase(pattern: str, folder: str) -> str:
    """`pattern`, written relative to `folder`, as a pattern relative to the repository root:
    what a nested spec's glob means. A pattern without a slash still matches at any depth, but
    only below `folder`; `!` keeps its meaning."""
    if not folder:
        return pattern
    negated, body = pattern.startswith("!"), pattern.lstrip("!").strip()
    anywhere = "/" not in body.rstrip("/")
    folder = escape(folder)
    rebased = f"{folder}/**/{body}" if anywhere else f"{folder}/{body.lstrip('/')}"
    return ("!" if negated else "") + rebased


def translate(pattern: str) -> str:
    """The regular expression (anchored at both ends) for one glob."""
    pattern = pattern.strip()
    anywhere = "/" not in pattern.rstrip("/")
    pattern = pattern.strip("/")
    body = _translate_body(pattern)
    prefix = "(?:.*/)?" if anywhere else ""
    return f"{prefix}{body}(?:/.*)?\\Z"


def _translate_body(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            i = _char_class(pattern, i, out)
        elif c == "{":
            i = _alternatives(pattern, i, out)
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _char_class(pattern: str, i: int, out: list[str]) -> int:
    end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^") else i + 1)
    if end < 0:
        out.append(re.escape("["))
        return i + 1
    inner = pattern[i + 1 : end]
    negate = inner[:1] in ("!", "^")
    inner = inner[1:] if negate else inner
    escaped = inner.replace("\\", "\\\\").replace("^", "\\^")
    out.append(f"[^/{escaped}]" if negate else f"[{escaped}]")
    return end + 1


def _alternatives(pattern: str, i: int, out: list[str]) -> int:
    depth, j = 0, i
    while j < len(pattern):
        if pattern[j] == "{":
            depth += 1
        elif pattern[j] == "}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    if j >= len(pattern):
        out.append(re.escape("{"))
        return i + 1
    parts = _split_top_level(pattern[i + 1 : j])
    out.append("(?:" + "|".join(_translate_body(p) for p in parts) + ")")
    return j + 1


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for k, c in enumerate(text):
        depth += c == "{"
        depth -= c == "}"
        if c == "," and depth == 0:
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    return parts
