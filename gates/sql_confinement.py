"""SQL that rewrites what must stay written: a governed statement outside its allowed files.

Why: an append-only ledger and write-once columns are promises the database keeps only if no code
asks it to break them. One `UPDATE credit_ledger` in a repair script, or a second module that
rewrites `payment_attempts.purpose`, silently changes history that reconciliation relies on.
Triggers catch it at run time; this gate catches it in review, before it ships.

Instead: append a correcting row rather than updating or deleting one; write a write-once
column only in the one module that owns it.

Each statement is `{pattern, allowed, why}`: `pattern` a regular expression for the SQL, matched
case-insensitively, where a space matches any run of white space, line breaks included;
`allowed` the globs of the files where it may appear (empty, the default, means nowhere); `why`
the invariant, shown in the message.

SQL is found in code and string literals of every language (a Python string, a template
literal, a `.sql` file), never in comments or docstrings. In a `.sql` file, text is a comment
only where PostgreSQL, SQLite and MySQL all read it as one: what any of them would run is code
(SQLite does not nest `/* */`, MySQL runs `/*! … */` and needs a space after `--`). A pattern starting or ending with a
letter matches whole words only (`credit_ledger` is not `credit_ledger_archive`); a backslash
escape before it (`"\\nUPDATE credit_ledger"`) ends the word before it. Patterns are
checked when the spec loads: at most 300 characters, and no repeated group that itself
repeats or alternates (`(a+)+`, `(a*)*`, `(a|a)*`), which could take exponential time.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cached_property
from typing import ClassVar, Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cogni_review import globs
from cogni_review.confinement import where
from cogni_review.gate import DOC_PATHS, TEST_PATHS, FileGateOptions
from cogni_review.globs import matches_any
from cogni_review.model import Violation
from cogni_review.source import SourceFile

MAX_PATTERN = 300
_SPACES = re.compile(r"(?<!\\) +(?![*+?{])")  # a run of literal spaces, not itself repeated
_REPEAT = re.compile(r"[*+]|\{\d*,\d*\}")  # a quantifier that can match more than once


class Statement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    glob_fields: ClassVar[tuple[str, ...]] = ("allowed",)

    pattern: str
    allowed: tuple[str, ...] = ()
    why: str = ""

    _allowed = field_validator("allowed")(lambda cls, patterns: globs.validate(patterns))

    @field_validator("pattern")
    @classmethod
    def _safe(cls, pattern: str) -> str:
        if len(pattern) > MAX_PATTERN:
            raise ValueError(f"pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN}")
        if nested_repeat(flexible(pattern)):
            raise ValueError("pattern repeats a group that itself repeats or alternates, "
                             "which can take exponential time; write it without the nesting")
        try:
            re.compile(_wrapped(pattern), re.IGNORECASE)
            re.compile(f"(?i:{flexible(pattern)})".encode())
        except (re.error, UnicodeEncodeError) as e:
            raise ValueError(f"pattern is not a valid regular expression: {e}") from None
        return pattern

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(_wrapped(self.pattern), re.IGNORECASE)

    @property
    def whole_start(self) -> bool:
        """Whether a match must start a word: the pattern starts with a letter, digit or `_`."""
        return self.pattern[:1].isalnum() or self.pattern[:1] == "_"


def flexible(pattern: str) -> str:
    """The pattern with each run of literal spaces (outside a character class) matching any white space."""
    parts = re.split(r"(\[(?:\\.|[^\]])*\])", pattern)
    return "".join(part if part.startswith("[") else _SPACES.sub(r"\\s+", part) for part in parts)


def _wrapped(pattern: str) -> str:
    """A whole word at the end when it is a letter; the start is checked by the scan (see
    `SourceFile.matches`), so that an escape (`"\\nUPDATE …"`) ends the word before it."""
    escaped = pattern[-2:-1] == "\\"
    trail = r"(?!\w)" if (pattern[-1:].isalnum() or pattern[-1:] == "_") and not escaped else ""
    return f"(?:{flexible(pattern)}){trail}"


def nested_repeat(pattern: str) -> bool:
    """Whether a group that repeats contains a quantifier or an alternation: `(a+)+`, `(a|a)*`."""
    risky = [False]  # per open group: does it contain a quantifier or `|`
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            end = re.match(r"\[\^?\]?(?:\\.|[^\]])*\]", pattern[i:])
            i += end.end() if end else 1
            continue
        if c == "(":
            risky.append(False)
        elif c == ")" and len(risky) > 1:
            inner = risky.pop()
            if inner and _REPEAT.match(pattern, i + 1):
                return True
            risky[-1] = risky[-1] or inner
        elif c == "|" or _REPEAT.match(pattern, i):
            risky[-1] = True
        i += 1
    return False


class Options(FileGateOptions):
    glob_fields = FileGateOptions.glob_fields + ("statements",)
    statements: tuple[Statement, ...] = Field((), description="the governed statements: a list of {pattern, allowed, why}")
    exclude: tuple[str, ...] = TEST_PATHS + DOC_PATHS


def candidates(options: Options) -> str | tuple[str, ...]:
    if not options.statements:
        return ()
    return "(?i:" + "|".join(f"(?:{flexible(s.pattern)})" for s in options.statements) + ")"


def scan(file: SourceFile, options: Options) -> Iterable[Violation]:
    for statement in options.statements:
        if matches_any(statement.allowed, file.path):
            continue
        for match in file.matches(statement.regex, whole_words=statement.whole_start):
            shown = " ".join(match.token.split())
            message, hint = _describe(shown, statement)
            yield replace(file.violation(match, message, hint), token=shown)


def _describe(shown: str, statement: Statement) -> tuple[str, str]:
    why = f": {' '.join(statement.why.split())}" if statement.why else ""
    if not statement.allowed:
        return f"{shown!r} is allowed nowhere{why}", "remove it; no file may run this statement"
    return (
        f"{shown!r} outside {where(statement.allowed)}{why}",
        f"move it into {where(statement.allowed)}, or add this file to the statement's `allowed` in the spec",
    )


EXAMPLES = {
    "with": {"statements": [
        {"pattern": "UPDATE payment_attempts SET purpose", "allowed": ["billing/payments.py"],
         "why": "the purpose is written once, by the payments module"},
        {"pattern": "(UPDATE|DELETE FROM) credit_ledger", "why": "the credit ledger is append-only"},
    ]},
    "passes": [
        ("billing/payments.py", 'conn.execute("UPDATE payment_attempts SET purpose = ? WHERE id = ?", args)'),
        ("billing/ledger.py", "# never UPDATE credit_ledger: append a correcting row"),
        ("billing/ledger.py", 'conn.execute("INSERT INTO credit_ledger (account, credits) VALUES (?, ?)", row)'),
        ("billing/archive.sql", "DELETE FROM credit_ledger_staging;"),
    ],
    "fails": [
        ("billing/admin.py", 'conn.execute("update payment_attempts  set purpose = ?", args)  # <-'),
        ("billing/repair.sql", "DELETE FROM credit_ledger WHERE id = 7; -- <-"),
        ("billing/fix.py", 'conn.execute("""\n    UPDATE  credit_ledger SET credits = 0 WHERE id = ?""", (7,))  # <-'),
    ],
}
