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
#: in files read as plain text, a directive counts only right after one of these (white space between)
_COMMENT_OPENER = re.compile(r"(?:#|//|/\*|\*|--|<!--|;)[ \t]*$")


def find(file: SourceFile | None) -> tuple[Suppression, ...]:
    """Every suppression directive in the file's comments (or comment-looking text, for plain text)."""
    if file is None or MARKER not in file.utf8 or file.is_binary:
        return ()
    found = []
    for match in _DIRECTIVE.finditer(file.text):
        opened = _comment_start(file, match.start())
        if opened is None:
            continue
        body = _BODY.match(_CLOSERS.sub("", match.group("rest")))
        line, column = file.position(match.start())
        line_start = match.start() - column + 1
        found.append(Suppression(
            Location(file.path, line, column),
            (body.group("gate") or "") if body else "",
            ((body.group("reason") or "").strip()) if body else "",
            file.line_text(line),
            trailing=opened > line_start and bool(file.text[line_start:opened].strip()),
        ))
    return tuple(found)


def _comment_start(file: SourceFile, offset: int) -> int | None:
    """Where the comment holding `offset` starts, or None when it is not in a comment. Files read
    as plain text need the comment opener right before the directive, so a string that merely
    contains one (`"; cogni: allow ..."`) is not taken for a comment."""
    if file.language != "text" and not file.fallback:
        region = file.region_at(offset)
        return region.start if region is not None and region.kind == "comment" else None
    line_start = file.text.rfind("\n", 0, offset) + 1
    opener = _COMMENT_OPENER.search(file.text, line_start, offset)
    return opener.start() if opener else None
