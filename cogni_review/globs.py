"""Gitignore-style path globs, relative to the repository root.

`*` and `?` stay within one path segment, `**` (only ever a whole segment) matches zero or more
directories (a trailing `/**`, everything below), `[abc]` a character class, `{a,b}` alternatives,
`\\x` a literal `x`. A pattern without a slash matches a name at any depth (`*.test.ts`). A pattern
with a wildcard matches files: it matches a directory, and so every file below it, only when
written as one, ending in `/` or `/**` (`src/*/`, `docs/**`), so `*.test.ts` never takes in a
folder named `evil.test.ts/`; a last name that is only `*` (`src/*`, `.github/*`) is any entry,
folders and all below them, as in .gitignore. A pattern with no wildcard and no extension names a
file or a folder: `docs` and `.cogni` match themselves and everything below them, as in .gitignore;
a name with an extension (`src/env.ts`) is a file only. In a list, a later `!pattern` takes back
what earlier ones matched.

Matching takes time linear in the path, whatever the pattern: each wildcard commits to the
leftmost place where what follows it fits (as Python's fnmatch does), so no pattern can make the
regex engine backtrack without end. A pattern is checked when the spec is read (`validate`): at
most `MAX_LENGTH` characters, braces nested at most `MAX_BRACE_DEPTH` deep and expanding to at
most `MAX_ALTERNATIVES` alternatives, and every character class valid.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

MAX_LENGTH = 1000
MAX_BRACE_DEPTH = 8
MAX_ALTERNATIVES = 64
_DOUBLE = None  # a `**` segment: zero or more whole segments


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
    """One regex per run of patterns of the same sign: the last run that matches decides, so a
    path costs a match or two however long the list; and a run's regex is tried only on a path
    holding plain text one of its patterns needs (`_needles`), which most paths do not."""
    runs: list[tuple[bool, list[str]]] = []
    for pattern in patterns:
        negated = pattern.startswith("!")
        if not runs or runs[-1][0] != negated:
            runs.append((negated, []))
        runs[-1][1].append(pattern.lstrip("!") if negated else pattern)
    compiled = [(negated, re.compile("|".join(_regex(p, f"g{i}_") for i, p in enumerate(run)), re.DOTALL),
                 _needles(run)) for negated, run in reversed(runs)]
    if not compiled:
        return lambda path: False
    if len(compiled) == 1 and not compiled[0][0]:
        _, one, needles = compiled[0]
        return lambda path: (needles is None or needles.search(path) is not None) and one.match(path + "/") is not None

    def decide(path: str) -> bool:
        probe = path + "/"
        for negated, rx, needles in compiled:
            if (needles is None or needles.search(path) is not None) and rx.match(probe):
                return not negated
        return False

    return decide


def _needles(patterns: list[str]) -> re.Pattern[str] | None:
    """A quick test a path must pass for any of `patterns` to match it: it holds, for each way a
    pattern can be written out (its braces expanded), the longest run of plain characters within
    one of its segments. None when some pattern has no such run (`*`, `**/?`)."""
    needles = set()
    for pattern in patterns:
        for alternative in _expand(pattern.strip().strip("/")):
            pieces = [piece for segment in alternative.split("/") if segment != "**" for piece in _plain_runs(segment)]
            if not any(pieces):
                return None
            needles.add(max(pieces, key=len))
    return re.compile("|".join(re.escape(n) for n in sorted(needles))) if needles else None


def _plain_runs(segment: str) -> list[str]:
    """The runs of characters a segment matches only as themselves (as `_pieces` reads it: cut at
    each `*`, `?` and character class, escapes taken literally)."""
    runs, current, i, n = [], [], 0, len(segment)
    while i < n:
        c = segment[i]
        if c in "*?" or (c == "[" and (end := _class_end(segment, i)) > 0):
            runs.append("".join(current))
            current = []
            i = end + 1 if c == "[" else i + 1
            continue
        if c == "\\" and i + 1 < n:
            i += 1
        current.append(segment[i])
        i += 1
    runs.append("".join(current))
    return runs


def validate(patterns: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The patterns, if each is a glob this module can match; a ValueError naming the first that is not."""
    for pattern in patterns:
        try:
            if len(pattern) > MAX_LENGTH:
                raise ValueError(f"{len(pattern)} characters long; the limit is {MAX_LENGTH}")
            re.compile(_regex(pattern.lstrip("!"), "g"))
        except (re.error, ValueError) as e:
            shown = pattern if len(pattern) <= 80 else pattern[:60] + "…"
            raise ValueError(f"bad glob {shown!r}: {getattr(e, 'msg', e)}") from None
    return tuple(patterns)


def escape(text: str) -> str:
    """`text` as a glob matching itself only: every character globs give a meaning is escaped,
    and white space too, which a pattern's ends would otherwise lose."""
    return "".join(f"\\{c}" if c in "*?[]{}!\\" or c.isspace() else c for c in text)


def rebase(pattern: str, folder: str) -> str:
    """`pattern`, written relative to `folder`, as a pattern relative to the repository root:
    what a nested spec's glob means. A pattern without a slash still matches at any depth, but
    only below `folder`; `!` keeps its meaning. The length limit is the written pattern's (checked
    by `validate`): the folder, however deep, is the repository's, not the spec author's."""
    if not folder:
        return pattern
    negated, body = pattern.startswith("!"), pattern.lstrip("!").strip()
    anywhere = "/" not in body.rstrip("/")
    folder = escape(folder)
    rebased = f"{folder}/**/{body}" if anywhere else f"{folder}/{body.lstrip('/')}"
    return ("!" if negated else "") + rebased


@lru_cache(maxsize=1024)
def _regex(pattern: str, group: str) -> str:
    """The regular expression for one glob, matched against a path with a `/` appended (so every
    segment ends in one), anchored at both ends; named groups start with `group`."""
    pattern = pattern.strip()
    if not pattern.strip("/"):
        raise ValueError("an empty glob matches nothing")
    anywhere = "/" not in pattern.rstrip("/")
    directory = pattern.endswith("/")
    names = itertools.count()
    alternatives = []
    if not directory and _literal(pattern):
        # `docs` and `.cogni` take in everything below them, so a spec's bare folder is judged.
        alternatives.append(_regex(pattern.rstrip("/") + "/", f"{group}d"))
    for alternative in _expand(pattern.strip("/")):
        segments = [_DOUBLE if s == "**" else s for s in alternative.split("/")]
        if any(s is not _DOUBLE and "**" in s.replace("\\*", "") for s in segments):
            raise ValueError("`**` matches directories only as a whole path segment: write `src/**/*.ts`, "
                             "or `*` for any name")
        if anywhere:
            segments.insert(0, _DOUBLE)
        if directory and segments[-1] is not _DOUBLE:
            segments.append(_DOUBLE)
        alternatives.append(_path_regex(segments, lambda: f"{group}{next(names)}"))
        if not directory and segments[-1] == "*":  # `src/*`: any entry of src, folders and all below them
            alternatives.append(_path_regex([*segments, _DOUBLE], lambda: f"{group}{next(names)}"))
    return "|".join(f"(?:{a})" for a in alternatives)


def _literal(pattern: str) -> bool:
    """Whether the pattern names a folder as well as a file: no wildcard, class or brace, and a
    last name without an extension (`docs`, `.cogni`, `infra/k8s`; not `src/env.ts`, which a
    folder named so must never stand in for)."""
    plain = re.sub(r"\\.", "_", pattern)
    return not re.search(r"[*?\[{]", plain) and "." not in plain.rsplit("/", 1)[-1][1:]


def _path_regex(segments: list, name) -> str:
    """Leading fixed segments, then each `**` with the fixed run after it: a run followed by
    another `**` is matched at the leftmost place it fits and kept there (any later place would
    leave less room for the rest); the last run must end the path; a trailing `**` takes the rest."""
    runs: list[list[str]] = [[]]
    for segment in segments:
        if segment is _DOUBLE:
            if runs[-1] or len(runs) == 1:
                runs.append([])
        else:
            runs[-1].append(segment)
    out = ["".join(_segment_regex(s, name) for s in runs[0])]
    for index, run in enumerate(runs[1:], 1):
        body = "".join(_segment_regex(s, name) for s in run)
        if not run:
            out.append(r".+")  # a trailing `**`: one or more segments, whatever they are
        elif index < len(runs) - 1:
            group = name()
            out.append(f"(?=(?P<{group}>(?:[^/]*/)*?{body}))(?P={group})")
        else:
            out.append(f"(?:[^/]*/)*{body}")
    return "".join(out) + r"\Z"


def _segment_regex(segment: str, name) -> str:
    """One segment and the `/` after it. Between `*`s are fixed-width pieces: each piece but the
    last is committed at its leftmost fit; the last ends the segment."""
    pieces = _pieces(segment)
    if len(pieces) == 1:
        return pieces[0] + "/"
    out = [pieces[0]]
    for piece in pieces[1:-1]:
        group = name()
        out.append(f"(?=(?P<{group}>[^/]*?{piece}))(?P={group})")
    out.append(f"[^/]*{pieces[-1]}/")
    return "".join(out)


def _pieces(segment: str) -> list[str]:
    """The regex of each fixed-width piece of a segment, split at its `*`s."""
    pieces, current, i, n = [], [], 0, len(segment)
    while i < n:
        c = segment[i]
        if c == "*":
            pieces.append("".join(current))
            current = []
            i += 1
            continue
        if c == "?":
            current.append("[^/]")
        elif c == "[" and (end := _class_end(segment, i)) > 0:
            current.append(_char_class(segment[i + 1 : end]))
            i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            current.append(re.escape(segment[i]))
        else:
            current.append(re.escape(c))
        i += 1
    pieces.append("".join(current))
    return pieces


def _class_end(text: str, i: int) -> int:
    """The index of the `]` closing the class opened at `i`, or -1 when there is none."""
    j = i + 1
    if j < len(text) and text[j] in "!^":
        j += 1
    if j < len(text) and text[j] == "]":
        j += 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "]":
            return j
        j += 1
    return -1


def _char_class(inner: str) -> str:
    """A glob class's inside as a regex class that never matches `/`: ranges kept, anything else literal."""
    negate = inner[:1] in ("!", "^")
    inner = inner[1:] if negate else inner
    body, i = [], 0
    while i < len(inner):
        if inner[i] == "\\" and i + 1 < len(inner):
            i += 1
        body.append("-" if inner[i] == "-" else re.escape(inner[i]))
        i += 1
    escaped = "".join(body)
    return f"[^/{escaped}]" if negate else f"(?!/)[{escaped}]"


def _expand(pattern: str) -> list[str]:
    """Every alternative of the pattern's braces; a ValueError past the limits."""
    depth = deepest = 0
    for kind, _ in _braces(pattern):
        if kind == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "}" and depth:
            depth -= 1
    if deepest > MAX_BRACE_DEPTH:
        raise ValueError(f"braces nested {deepest} deep; the limit is {MAX_BRACE_DEPTH}")
    return _alternatives(pattern)


def _alternatives(text: str) -> list[str]:
    """The expansions of `text`'s brace groups, left to right (recursion only into a group, so
    no deeper than the braces nest)."""
    results, last = [""], 0
    for start, cuts, end in _groups(text):
        options = [o for a, b in zip((start, *cuts), (*cuts, end)) for o in _alternatives(text[a + 1 : b])]
        results = [r + text[last:start] + o for r in results for o in options[: MAX_ALTERNATIVES + 1]]
        if len(results) > MAX_ALTERNATIVES or len(options) > MAX_ALTERNATIVES:
            raise ValueError(f"braces expand to more than {MAX_ALTERNATIVES} alternatives")
        last = end + 1
    return [r + text[last:] for r in results]


def _groups(text: str):
    """(index of `{`, indexes of its own commas, index of its `}`) of each balanced top-level group."""
    depth, start, cuts = 0, 0, []
    for kind, i in _braces(text):
        if kind == "{":
            if depth == 0:
                start, cuts = i, []
            depth += 1
        elif kind == "}" and depth:
            depth -= 1
            if depth == 0:
                yield start, cuts, i
        elif kind == "," and depth == 1:
            cuts.append(i)


def _braces(text: str):
    """(character, index) of each `{`, `,` and `}` that is not escaped or inside a class."""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "[" and (end := _class_end(text, i)) > 0:
            i = end + 1
            continue
        if c in "{,}":
            yield c, i
        i += 1
