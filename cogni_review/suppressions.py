"""Inline suppressions that carry a reason: `cogni: allow <gate-type> -- <reason>`.

Written in a comment of a language the tool parses (`#`, `//`, `/* */`, `--`), on the offending
line or, in a comment alone on its line, the line above it. Only a comment counts: a directive in
a string or in a docstring is text, and in a file read as plain text (a language the tool does
not parse, or a source file that did not parse) a comment cannot be told from a string, so no
directive there suppresses anything; the report notes the file instead. Without a reason, or
naming a gate nobody knows, a suppression suppresses nothing and is itself reported; one that
suppresses nothing is stale. Reading one is linear in its line, whatever it holds.
"""

from __future__ import annotations

import re

from cogni_review.model import Location, Suppression
from cogni_review.source import SourceFile

MARKER = b"cogni:"
_DIRECTIVE = re.compile(r"cogni:[ \t]*allow\b")
_BODY = re.compile(r"[ \t]*(?P<gate>[A-Za-z][A-Za-z0-9_.-]*)?[ \t]*(?:--[ \t]*(?P<reason>.*))?", re.DOTALL)
_CLOSERS = ("*/", "-->")


def find(file: SourceFile | None) -> tuple[Suppression, ...]:
    """Every suppression directive in the file's comments."""
    if not _may_hold(file) or file.comments is None:
        return ()
    found = []
    for match in _DIRECTIVE.finditer(file.text):
        comment = file.comment_at(match.start())
        if comment is None:
            continue
        line, column = file.position(match.start())
        start, end = file.line_span(line)
        body = _BODY.match(_without_closer(file.text[match.end() : min(end, comment.end)]))
        outside = file.text[start : max(start, comment.start)] + file.text[min(end, comment.end) : end]
        found.append(Suppression(
            Location(file.path, line, column),
            body.group("gate") or "",
            " ".join((body.group("reason") or "").split()),
            file.line_text(line),
            trailing=bool(outside.strip()),
        ))
    return tuple(found)


def unread(file: SourceFile | None) -> bool:
    """Whether the file holds a directive that cannot count: its comments cannot be told from its strings."""
    return _may_hold(file) and _DIRECTIVE.search(file.text) is not None and file.comments is None


def _may_hold(file: SourceFile | None) -> bool:
    return file is not None and MARKER in file.utf8 and not file.is_binary


def _without_closer(body: str) -> str:
    """The directive's text without the block comment's closer and the blanks around it."""
    body = body.rstrip()
    for closer in _CLOSERS:
        if body.endswith(closer):
            return body[: -len(closer)].rstrip()
    return body
