"""A file as gates see it: path, bytes, decoded text, and where its code is.

Judges code, not text: `matches` skips matches inside comments and docstrings, using the
language's real parser (see `regions`), or in JavaScript and TypeScript a lexer where it is sure
(see `jslexer`). A file that does not parse is scanned as plain text, and `fallback` says why, so
nothing is dropped.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from cogni_review import jslexer, pytree, regions
from cogni_review.model import Location, Violation

_NEWLINE = re.compile(r"\r\n|\r|\n")
BINARY_SNIFF = 8192
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_WIDE_BOMS = tuple(bom for bom, _ in _BOMS[1:])
#: what continues a word (an identifier, a number): `$` is not among them, since it introduces a
#: variable (`$KEY`, `${KEY}`) in shells, templates and regular expressions (`/^0x…$/`)
WORD = "A-Za-z0-9_"
WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
#: the body of a backslash escape sequence, in any language the tool reads: `\n`, `\d`, `\0`,
#: `\x41`, `\101`, `\u0041`, `\U00000041`, `\cA` (`\u{41}` and `\N{…}` end in `}`, no word character)
_ESCAPE_BODY = re.compile(r"[A-Za-z0-9]|x[0-9a-fA-F]{1,2}|[0-7]{2,3}|c[A-Za-z]|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}")
_ESCAPE_LENGTHS = (1, 2, 3, 5, 9)
_WORD = re.compile(r"[^\W\d]\w*")  # a name, in any script
QUICK_CHECKS = 64  # more matches than this in one file: parse it once instead of looking back each time
LONG_LINE = 2000  # longer lines (minified code) are keyed by the text around a finding
WINDOW = 200


@dataclass(frozen=True)
class TokenMatch:
    token: str
    offset: int  # character offset in the text
    line: int  # 1-based
    column: int  # 1-based, in characters
    line_text: str


@dataclass(frozen=True)
class SourceFile:
    path: str  # repo-relative, forward slashes
    data: bytes
    blob: str | None = field(default=None, compare=False)  # git's object id, when read from git

    @cached_property
    def is_binary(self) -> bool:
        """A NUL byte early on, in a file that is not source code by its name nor UTF-16/32 by its
        byte-order mark. Source code is always read as text, whatever bytes it holds."""
        if self.language != "text" or self.data.startswith(_WIDE_BOMS):
            return False
        return b"\0" in self.data[:BINARY_SNIFF]

    @cached_property
    def text(self) -> str:
        for bom, codec in _BOMS:
            if self.data.startswith(bom):
                return self.data[len(bom):].decode(codec, errors="replace")
        return self.data.decode("utf-8", errors="replace")

    @cached_property
    def utf8(self) -> bytes:
        """The bytes to prefilter: the file itself, or its text re-encoded when it is UTF-16/32."""
        return self.text.encode("utf-8", errors="replace") if self.data.startswith(_WIDE_BOMS) else self.data

    @cached_property
    def language(self) -> str:
        """By the file's extension or name, or for a script without one, by its `#!` line."""
        language = regions.language_of(self.path)
        if language == "text" and self.data.startswith(b"#!"):
            return regions.language_of_script(self.path, self.data[:200]) or language
        return language

    @cached_property
    def _python(self) -> tuple[pytree.Tree | None, str | None]:
        try:
            return pytree.parse(self.text), None
        except regions.ParseFailure as e:
            return None, str(e)

    def python(self) -> pytree.Tree:
        """The file parsed as Python, once for the regions and every rule that judges it;
        ParseFailure when it does not parse."""
        tree, problem = self._python
        if tree is None:
            raise regions.ParseFailure(problem)
        return tree

    @cached_property
    def _regions(self) -> tuple[tuple[regions.Region, ...], str | None]:
        try:
            analysis = regions.analyse(self.language, self.text)
        except regions.ParseFailure as e:
            return (), f"does not parse as {self.language} ({e}); scanned as plain text"
        except RecursionError:
            return (), f"too deeply nested to parse as {self.language}; scanned as plain text"
        return analysis.regions, analysis.problem

    @property
    def regions(self) -> tuple[regions.Region, ...]:
        return self._regions[0]

    @property
    def parsed(self) -> bool:
        """Whether the file's regions were needed (and so computed) during this run."""
        return "_regions" in self.__dict__

    @property
    def fallback(self) -> str | None:
        """Why this file was read as plain text instead of as code, if it was."""
        return self._regions[1]

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0] + [m.end() for m in _NEWLINE.finditer(self.text)]

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, of a character offset."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def line_span(self, line: int) -> tuple[int, int]:
        """The offsets where the line starts and where it ends (before its line break)."""
        starts = self._line_starts
        start = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.text)
        return start, len(self.text[start:end].rstrip("\r\n")) + start

    def line_text(self, line: int, around: int | None = None) -> str:
        """The line's text; for a very long line (minified code), the window around `around`."""
        starts = self._line_starts
        start, end = starts[line - 1], starts[line] if line < len(starts) else len(self.text)
        if end - start > LONG_LINE and around is not None:
            start, end = max(start, around - WINDOW), min(end, around + WINDOW)
        return self.text[start:end].rstrip("\r\n")

    def matches(self, pattern: re.Pattern[str], *, whole_words: bool = False) -> list[TokenMatch]:
        """Every match of `pattern`, minus those inside comments and docstrings.

        `whole_words` drops a match that starts inside a word (see `joined`): a check that, unlike a
        look-behind in the pattern, keeps the regex engine's fast literal scan. A dropped match does
        not hide one that starts later inside it. In Python a name is also matched as Python reads
        it, folded to NFKC (`ｃredit_account` is `credit_account`).
        """
        text, found, pos = self.text, [], 0
        while (m := pattern.search(text, pos)) is not None:
            if whole_words and joined(text, m.start()):
                pos = m.start() + 1
                continue
            found.append(m)
            pos = max(m.end(), m.start() + 1)
        tokens = [self._token(m) for m in found]
        if self.language == "python" and not text.isascii():
            tokens = sorted(tokens + self._normalized_names(pattern, whole_words), key=lambda t: t.offset)
        if not tokens:
            return []
        quick = len(tokens) <= QUICK_CHECKS  # each quick check looks back along the text
        unsure = [t.offset for t in tokens if not (quick and regions.certainly_code(self.language, text, t.offset))]
        if unsure:
            inside = self._comment_test(max(unsure))
            commented = {offset for offset in unsure if inside(offset)}
            tokens = [t for t in tokens if t.offset not in commented]
        return tokens

    def _normalized_names(self, pattern: re.Pattern[str], whole_words: bool) -> list[TokenMatch]:
        """Python reads a name as its NFKC form (`ｃredits_purchase` is `credits_purchase`): a match
        in the normal form of each name NFKC changes, at the name, as the token it spells."""
        found = []
        for start, normal in self._renamed_names:
            for m in pattern.finditer(normal):
                if not (whole_words and joined(normal, m.start())):
                    line, column = self.position(start)
                    found.append(TokenMatch(m.group(), start, line, column, self.line_text(line, start)))
        return found

    @cached_property
    def _renamed_names(self) -> list[tuple[int, str]]:
        """(offset, NFKC form) of each name NFKC changes, found once for every pattern."""
        return [(word.start(), normal) for word in _WORD.finditer(self.text) if not word.group().isascii()
                and (normal := unicodedata.normalize("NFKC", word.group())) != word.group()]

    @cached_property
    def nfkc_utf8(self) -> bytes | None:
        """A Python file's text as Python reads its names (NFKC), for prefilters; None when that is
        the text itself (any other language, or ASCII)."""
        if self.language != "python" or self.utf8.isascii():
            return None
        return unicodedata.normalize("NFKC", self.text).encode("utf-8", "replace")

    def _comment_test(self, last: int) -> Callable[[int], bool]:
        """How to tell whether an offset up to `last` is in a comment: from the regions when the file
        was parsed already, else, in JavaScript and TypeScript, from the comments the lexer reads
        (when it is sure of them), else by parsing the file."""
        if not self.parsed and self.language in jslexer.LANGUAGES:
            spans = self._lexed(last + 1)
            if spans is not None:
                starts = [start for start, _ in spans]
                return lambda offset: (i := bisect.bisect_right(starts, offset) - 1) >= 0 and offset < spans[i][1]
        return self.in_comment

    def _lexed(self, until: int) -> list[tuple[int, int]] | None:
        """The comments starting before `until`, remembered for the next gate (None: not sure)."""
        known = self.__dict__.get("_lexer_comments")
        if known is None or (known[1] is not None and known[0] < until):
            known = self.__dict__["_lexer_comments"] = (until, jslexer.comments(self.language, self.text, until))
        return known[1]

    def in_comment(self, offset: int) -> bool:
        """Inside a comment or a docstring."""
        return self.region_at(offset) is not None

    @property
    def comments(self) -> tuple[regions.Region, ...] | None:
        """The file's comments (not its docstrings); None when they cannot be told from its strings:
        a file read as plain text, by its language or because it did not parse."""
        if self.language in ("text", "docs") or self.fallback:
            return None
        return tuple(r for r in self.regions if r.kind == "comment")

    def comment_at(self, offset: int) -> regions.Region | None:
        """The comment holding `offset`, if it is in one."""
        region = self.region_at(offset)
        return region if region is not None and region.kind == "comment" else None

    def region_at(self, offset: int) -> regions.Region | None:
        spans = self.regions
        index = bisect.bisect_right(spans, offset, key=lambda r: r.start) - 1
        return spans[index] if index >= 0 and spans[index].start <= offset < spans[index].end else None

    def _token(self, match: re.Match[str]) -> TokenMatch:
        line, column = self.position(match.start())
        return TokenMatch(match.group(0), match.start(), line, column, self.line_text(line, match.start()))

    def violation(self, match: TokenMatch, message: str, hint: str = "") -> Violation:
        return Violation(
            location=Location(self.path, match.line, match.column),
            token=match.token,
            message=message,
            hint=hint,
            line_text=match.line_text,
        )


def joined(text: str, start: int) -> bool:
    """Whether the word character at `start` continues a word begun before it, so that what starts
    there is not a whole token. A backslash escape sequence ends a word (`"to\\n0x…"` holds the
    address right after a newline), and so does `$`, which is not a word character at all."""
    if start == 0 or text[start] not in WORD_CHARS or text[start - 1] not in WORD_CHARS:
        return False
    return not escape_ends_at(text, start)


def escape_ends_at(text: str, end: int) -> bool:
    """Whether a backslash escape sequence (`\\n`, `\\x41`, `\\u0041`...) ends right before `end`;
    the backslash must itself be unescaped (`\\\\n` is a backslash, then the letter n)."""
    for length in _ESCAPE_LENGTHS:
        slash = end - length - 1
        if slash >= 0 and text[slash] == "\\" and _ESCAPE_BODY.fullmatch(text, slash + 1, end):
            return _backslashes_before(text, slash) % 2 == 0
    return False


def _backslashes_before(text: str, index: int) -> int:
    """How many backslashes run right before `index`."""
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count
