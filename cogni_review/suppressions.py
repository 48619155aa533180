"""Inline suppressions that carry a reason: `cogni: allow <gate-type> -- <reason>`.

Written in a comment of any syntax the tool reads (`#`, `//`, `/* */`, `--`), on the offending
line or the line above it. Without a reason, or naming a gate nobody knows, a suppression
suppresses nothing and is itself reported; one that suppresses nothing is stale.
"""

from __future__ import annotations

import re
from cogni_review.model import Location, Suppression
from cogni_review.source import SourceFile

MARKER = b"cogni:"
_DIRECTIVE = re.compile(r"cogni:[ \t]*allow\b(?P<rest>[^\r\n]*)")
_BODY = re.compile(r"[ \t]*(?P<gate>[A-Za-z][A-Za-z0-9_.-]*)?[ \t]*(?:--[ \t]*(?P<reason>.*))?")
_CLOSERS = re.compile(r"[ \t]*(?:\*/|-->)?[ \t]*$")
#: in files read as plain text, a directive counts only after one of these on its line
_COMMENT_OPENERS = re.compile(r"(?:#|//|/\*|\*|--|<!--|;)[^\r\n]*$")


def find(file: SourceFile) -> tuple[Suppression, ...]:
    """Every suppression directive in the file's comments (or comment-looking text, for plain text)."""
    if MARKER not in file.data or file.is_binary:
        return ()
    found = []
    for match in _DIRECTIVE.finditer(file.text):
        if not _in_comment(file, match.start()):
            continue
        body = _BODY.match(_CLOSERS.sub("", match.group("rest")))
        line, column = file.position(match.start())
        found.append(Suppression(
            Location(file.path, line, column),
            (body.group("gate") or "") if body else "",
            ((body.group("reason") or "").strip()) if body else "",
            file.line_text(line),
        ))
    return tuple(found)


def _in_comment(file: SourceFile, offset: int) -> bool:
    if file.language != "text" and not file.fallback:
        region = file.region_at(offset)
        return region is not None and region.kind == "comment"
    line_start = file.text.rfind("\n", 0, offset) + 1
    return _COMMENT_OPENERS.search(file.text, line_start, offset) is not None
