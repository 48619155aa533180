"""GitHub-flavoured Markdown built from untrusted text: escaped cells, code spans and tables."""

from __future__ import annotations

import re

_SPECIAL = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "*": "\\*",
        "_": "\\_",
        "`": "\\`",
        "[": "\\[",
        "]": "\\]",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
    }
)


def text(value: str) -> str:
    """Literal text, safe in a table cell: markup escaped, line breaks as `<br>`."""
    return "<br>".join(value.translate(_SPECIAL).splitlines())


def code(value: str) -> str:
    """A code span that survives backticks, pipes and line breaks in the value."""
    flat = " ".join(value.splitlines()).replace("|", "\\|")
    if not flat:
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", flat)), default=0) + 1)
    pad = " " if flat[0] in "` " or flat[-1] in "` " else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def table(header: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> list[str]:
    """Table lines; columns listed in `numeric` are right-aligned."""
    rule = ["---:" if i in numeric else "---" for i in range(len(header))]
    return [row(header), row(rule), *(row(cells) for cells in rows)]


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
