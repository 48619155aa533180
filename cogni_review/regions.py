"""Where a source file holds comments and docstrings rather than code.

Why: the gate judges code, not prose. A forbidden token in a comment or a docstring documents
it; the same token in code or in any string literal ships it. Knowing the non-code regions lets
a scanner skip exactly those characters and nothing else.

Python is parsed with libcst, JavaScript/TypeScript/TSX with tree-sitter, SQL with a small
scanner. The parsers are imported on first use: start-up time matters for a pre-commit hook.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable


class ParseFailure(Exception):
    """The source does not parse as its language; the caller scans it as plain text and says so."""


@dataclass(frozen=True)
class Region:
    start: int  # character offset into the decoded text (str index), inclusive
    end: int  # exclusive
    kind: str  # "comment" or "docstring"


_LANGUAGES = {
    **dict.fromkeys((".py", ".pyi"), "python"),
    **dict.fromkeys((".js", ".mjs", ".cjs", ".jsx"), "javascript"),
    **dict.fromkeys((".ts", ".mts", ".cts"), "typescript"),
    ".tsx": "tsx",
    ".sql": "sql",
    # MDX pages export and render JSX (a Next.js `page.mdx` is code): read as plain text, not docs
    **dict.fromkeys((".md", ".markdown", ".rst", ".txt", ".adoc"), "docs"),
}


def language_of(path: str) -> str:
    """'python' | 'javascript' | 'typescript' | 'tsx' | 'sql' | 'text' | 'docs'.

    Decided by the extension alone, case-insensitively: `.d.ts` is TypeScript, a Markdown or
    reST file is `docs` (never scanned), and anything unknown is `text` (scanned as plain text).
    """
    return _LANGUAGES.get(os.path.splitext(path)[1].lower(), "text")


def non_code_regions(language: str, text: str) -> tuple[Region, ...]:
    """Sorted, non-overlapping comment and docstring regions of `text` (a str) in `language`.

    'text' -> () (everything counts). Raises ParseFailure when the source does not parse.
    """
    if language == "python":
        return _python_regions(text)
    if language in _TREE_SITTER_GRAMMARS:
        return _tree_sitter_regions(language, text)
    if language == "sql":
        return _sql_regions(text)
    if language == "text":
        return ()
    raise ValueError(f"no regions for language {language!r}")


def certainly_code(language: str, text: str, offset: int) -> bool:
    """True when no comment of a JavaScript-family `language` can contain `offset`, decided from
    the text alone; False means "parse to know" (and always, for other languages).

    A comment holding the offset would open before it: with `//` (or an HTML-like `<!--` or
    `-->`, which the JavaScript grammar reads as comments too) on the same line, or with a `/*` not closed by a `*/` before the offset. Block comments do
    not nest, so if the last `/*` is closed, every earlier one is. Strings and regex literals
    that merely contain these characters only make the answer "parse to know": never wrong.
    """
    if language not in _TREE_SITTER_GRAMMARS:
        return False
    line_start = text.rfind("\n", 0, offset) + 1
    if any(text.find(opener, line_start, offset) >= 0 for opener in ("//", "<!--", "-->")):
        return False
    opened = text.rfind("/*", 0, offset)
    return opened < 0 or text.find("*/", opened + 2, offset) >= 0


# Python ------------------------------------------------------------------------------------


def _python_regions(text: str) -> tuple[Region, ...]:
    from cogni_review import pytree

    return pytree.parse(text).regions


# JavaScript, TypeScript, TSX ---------------------------------------------------------------

_TREE_SITTER_GRAMMARS = {
    "javascript": ("tree_sitter_javascript", "language"),  # also parses JSX
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
}


def _tree_sitter_regions(language: str, text: str) -> tuple[Region, ...]:
    import tree_sitter

    grammar, comments = _grammar(language)
    data = text.encode("utf-8", "surrogatepass")
    root = tree_sitter.Parser(grammar).parse(data).root_node
    if root.has_error:
        raise ParseFailure(f"{language} syntax error at line {_first_error_line(root)}")
    found = tree_sitter.QueryCursor(comments).captures(root).get("comment", [])
    spans = sorted((node.start_byte, node.end_byte) for node in found)
    if len(data) != len(text):  # not ASCII: UTF-8 byte offsets differ from str offsets
        spans = _char_spans(data, spans)
    return tuple(Region(start, end, "comment") for start, end in spans)


@functools.cache
def _grammar(language: str) -> tuple[Any, Any]:
    """The tree-sitter Language and a compiled query for its comments, built once per language."""
    import importlib

    import tree_sitter

    module, function = _TREE_SITTER_GRAMMARS[language]
    grammar = tree_sitter.Language(getattr(importlib.import_module(module), function)())
    kinds = [k for k in ("comment", "html_comment") if grammar.id_for_node_kind(k, True)]
    query = tree_sitter.Query(grammar, "[" + " ".join(f"({k})" for k in kinds) + "] @comment")
    return grammar, query


def _first_error_line(node: Any) -> int:
    """The 1-based line of the first syntax error under `node`, which has one."""
    while not (node.is_error or node.is_missing):
        child = next((child for child in node.children if child.has_error), None)
        if child is None:
            break
        node = child
    return node.start_point.row + 1


def _char_spans(data: bytes, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Byte spans of sorted, non-overlapping regions of `data` converted to str offsets."""
    chars, last, result = 0, 0, []
    for start, end in spans:
        chars += len(data[last:start].decode("utf-8", "surrogatepass"))
        first = chars
        chars += len(data[start:end].decode("utf-8", "surrogatepass"))
        last = end
        result.append((first, chars))
    return result


# SQL ---------------------------------------------------------------------------------------
#
# A `.sql` file may be run by any of the common dialects, and they disagree about what is a comment:
# PostgreSQL nests `/* */` and SQLite does not (`/* /* */ UPDATE …; -- */` runs the UPDATE in
# SQLite); MySQL needs white space after `--` (`--1` is minus minus one), reads `#` as a comment and
# runs the inside of `/*! … */`; PostgreSQL's `$tag$` quotes, MySQL's backslash escapes and
# SQLite's `[identifiers]` change where a string ends. Each dialect is read on its own, and a
# region is a comment only where every one of them agrees; anything any dialect would execute is
# code. A string or comment left open runs to the end of the file, as the dialect reads it.


@dataclass(frozen=True)
class SqlDialect:
    name: str
    nested_comments: bool = False  # `/* /* */ */` is one comment
    dash_needs_space: bool = False  # `--` is a comment only before white space or a control character
    hash_comments: bool = False  # `#` to the end of the line
    executable_comments: bool = False  # `/*! … */` and `/*+ … */` are code
    dollar_quotes: bool = False  # `$$ … $$`, `$tag$ … $tag$`
    escape_strings: bool = False  # `E'…'` takes backslash escapes
    backslash_quotes: bool = False  # `'…'` and `"…"` take backslash escapes
    quotes: str = "'\""  # what opens a string or a quoted identifier (`[` for SQLite's `[name]`)


SQL_DIALECTS = (
    SqlDialect("postgresql", nested_comments=True, dollar_quotes=True, escape_strings=True),
    SqlDialect("sqlite", quotes="'\"`["),
    SqlDialect("mysql", dash_needs_space=True, hash_comments=True, executable_comments=True,
               backslash_quotes=True, quotes="'\"`"),
    SqlDialect("mysql (NO_BACKSLASH_ESCAPES)", dash_needs_space=True, hash_comments=True,
               executable_comments=True, quotes="'\"`"),
)

_SQL_COMMENT_MARK = re.compile(r"/\*|\*/")
_SQL_LINE_END = re.compile(r"[\r\n]")
_SQL_CLOSERS = {"'": "'", '"': '"', "`": "`", "[": "]"}


@functools.cache
def _sql_lexer(dialect: SqlDialect) -> tuple[re.Pattern[str], dict[str, re.Pattern[str]]]:
    """The pattern of everything that opens a comment or a quoted run in `dialect`, and the
    pattern of each quoted run (linear: no nested repetition)."""
    dash = r"--(?=[\x00-\x20]|\Z)" if dialect.dash_needs_space else "--"
    opens = [f"(?P<line>{dash}{'|#' if dialect.hash_comments else ''})", r"(?P<block>/\*)"]
    if dialect.dollar_quotes:
        opens.append(r"(?P<dollar>(?<![\w$])\$(?:[^\W\d]\w*)?\$)")
    if dialect.escape_strings:
        opens.append(r"(?P<escaped>(?<![\w$])[Ee]')")
    opens.append(f"(?P<quote>[{re.escape(dialect.quotes)}])")
    quoted = {}
    for opener in dialect.quotes:
        o, c = re.escape(opener), re.escape(_SQL_CLOSERS[opener])
        if opener == "[":
            quoted[opener] = re.compile(r"\[[^\]]*\]")
        elif dialect.backslash_quotes and opener != "`":
            quoted[opener] = re.compile(rf"{o}[^{c}\\]*(?:(?:\\.|{c}{c})[^{c}\\]*)*{c}", re.DOTALL)
        else:
            quoted[opener] = re.compile(rf"{o}[^{c}]*(?:{c}{c}[^{c}]*)*{c}")
    quoted["E"] = re.compile(r"[Ee]'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'", re.DOTALL)
    return re.compile("|".join(opens)), quoted


def _sql_comments(text: str, dialect: SqlDialect) -> list[tuple[int, int]]:
    """(start, end) of every comment of `text` as `dialect` reads it."""
    opener, quoted = _sql_lexer(dialect)
    found, pos = [], 0
    while (match := opener.search(text, pos)) is not None:
        start, kind = match.start(), match.lastgroup
        if kind == "line":
            newline = _SQL_LINE_END.search(text, start)
            pos = newline.start() if newline else len(text)
            found.append((start, pos))
        elif kind == "block":
            if dialect.executable_comments and text.startswith(("/*!", "/*+"), start):
                pos = start + 3  # MySQL runs what is inside
                continue
            pos = _sql_block_end(text, start, dialect.nested_comments)
            found.append((start, pos))
        elif kind == "dollar":
            close = text.find(match.group(), match.end())
            pos = len(text) if close < 0 else close + len(match.group())
        else:
            run = quoted["E" if kind == "escaped" else match.group()].match(text, start)
            pos = len(text) if run is None else run.end()
    return found


def _sql_block_end(text: str, start: int, nested: bool) -> int:
    """Where the block comment opening at `start` ends (the end of the text when it never does)."""
    if not nested:
        close = text.find("*/", start + 2)
        return len(text) if close < 0 else close + 2
    depth = 0
    for mark in _SQL_COMMENT_MARK.finditer(text, start):
        depth += 1 if mark.group() == "/*" else -1
        if depth == 0:
            return mark.end()
    return len(text)


def _sql_regions(text: str) -> tuple[Region, ...]:
    """The comments every common dialect agrees are comments."""
    agreed = _sql_comments(text, SQL_DIALECTS[0])
    for dialect in SQL_DIALECTS[1:]:
        agreed = _intersect(agreed, _sql_comments(text, dialect))
    return tuple(Region(start, end, "comment") for start, end in agreed)


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The overlaps of two sorted lists of disjoint spans."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out
