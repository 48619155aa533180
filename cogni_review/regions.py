"""Where a source file holds comments and docstrings rather than code.

Why: the gate judges code, not prose. A forbidden token in a comment or a docstring documents
it; the same token in code or in any string literal ships it. Knowing the non-code regions lets
a scanner skip exactly those characters and nothing else.

Python, JavaScript, TypeScript and TSX are parsed with tree-sitter, SQL, Solidity and `#`-comment
languages with small scanners. The parsers are imported on first use: start-up time matters for a pre-commit hook.
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
    **dict.fromkeys((".py", ".pyi", ".pyw"), "python"),
    **dict.fromkeys((".js", ".mjs", ".cjs", ".jsx"), "javascript"),
    **dict.fromkeys((".ts", ".mts", ".cts"), "typescript"),
    ".tsx": "tsx",
    ".sql": "sql",
    ".sol": "solidity",
    # configuration and scripts whose comments start with `#`
    **dict.fromkeys((".yaml", ".yml"), "yaml"),
    ".toml": "toml",
    **dict.fromkeys((".sh", ".bash", ".zsh", ".env", ".dockerfile", ".tfvars"), "shell"),
    # MDX pages export and render JSX (a Next.js `page.mdx` is code): read as plain text, not docs
    **dict.fromkeys((".md", ".markdown", ".rst", ".txt", ".adoc"), "docs"),
}
#: files known by name rather than extension
_NAMES = {"dockerfile": "shell", "makefile": "shell", ".env": "shell"}


@functools.lru_cache(maxsize=8192)
def language_of(path: str) -> str:
    """'python' | 'javascript' | 'typescript' | 'tsx' | 'sql' | 'solidity' | 'yaml' | 'toml' | 'shell' |
    'text' | 'docs'.

    Decided by the extension, case-insensitively, or for a few files by their name: `.d.ts` is
    TypeScript; dotenv files (`.env`, `.env.local.example`), Dockerfiles and Makefiles are
    `shell` (their comments are the shell's); a Markdown or reST file is `docs` (never scanned);
    and anything unknown is `text` (scanned as plain text).
    """
    name = path.rsplit("/", 1)[-1].lower()
    if name in _NAMES or name.startswith((".env.", "dockerfile.")):
        return _NAMES.get(name, "shell")
    return _LANGUAGES.get(os.path.splitext(name)[1], "text")


#: interpreters named on a script's `#!` line, and the language they run
_INTERPRETERS = {
    **dict.fromkeys(("python", "python2", "python3", "pypy", "pypy3"), "python"),
    **dict.fromkeys(("node", "nodejs", "deno", "bun"), "javascript"),
    **dict.fromkeys(("ts-node", "tsx"), "typescript"),
    **dict.fromkeys(("sh", "bash", "dash", "zsh", "ksh"), "shell"),
}
_SHEBANG = re.compile(rb"#![ \t]*(\S+)(?:[ \t]+(?:-\S+[ \t]+)*(\S+))?")


def language_of_script(path: str, head: bytes) -> str | None:
    """The language of an extensionless script (`bin/mint`) from its `#!` line: the interpreter,
    or the program `env` runs (`#!/usr/bin/env -S python3 -u`); None when there is none."""
    if "." in path.rsplit("/", 1)[-1].lstrip("."):
        return None
    match = _SHEBANG.match(head)
    if match is None:
        return None
    program = match.group(1).rsplit(b"/", 1)[-1]
    if program == b"env" and match.group(2):
        program = match.group(2).rsplit(b"/", 1)[-1]
    name = re.sub(rb"[0-9.]+$", b"", program).decode("ascii", "replace")
    return _INTERPRETERS.get(name) or _INTERPRETERS.get(program.decode("ascii", "replace"))


@dataclass(frozen=True)
class Analysis:
    """A file's comment and docstring regions, and, when the parser had to recover from a syntax
    error, what it said (the error's own text is then read as code, never as a comment)."""

    regions: tuple[Region, ...]
    problem: str | None = None


def non_code_regions(language: str, text: str) -> tuple[Region, ...]:
    """Sorted, non-overlapping comment and docstring regions of `text` (a str) in `language`.

    'text' -> () (everything counts). Raises ParseFailure when the source does not parse.
    """
    analysis = analyse(language, text)
    if analysis.problem:
        raise ParseFailure(analysis.problem)
    return analysis.regions


def analyse(language: str, text: str) -> Analysis:
    """The regions of `text`, tolerating syntax errors where the parser recovers from them: a
    comment outside the error is still a comment, the error itself is read as code. A language
    whose scanner cannot recover raises ParseFailure."""
    if language in _TREE_SITTER_GRAMMARS:
        return _tree_sitter_regions(language, text)
    if language == "sql":
        return Analysis(_sql_regions(text))
    if language == "solidity":
        return Analysis(_c_regions(text))
    if language in _HASH_SCANNERS:
        return Analysis(_HASH_SCANNERS[language](text))
    if language == "text":
        return Analysis(())
    raise ValueError(f"no regions for language {language!r}")


def certainly_code(language: str, text: str, offset: int) -> bool:
    """True when no comment of a JavaScript-family `language` can contain `offset`, decided from
    the text alone; False means "parse to know" (and always, for other languages).

    A comment holding the offset would open before it: with `//` (or an HTML-like `<!--` or
    `-->`, which the JavaScript grammar reads as comments too) on the same line, or with a `/*` not closed by a `*/` before the offset. Block comments do
    not nest, so if the last `/*` is closed, every earlier one is. Strings and regex literals
    that merely contain these characters only make the answer "parse to know": never wrong.
    """
    if language not in _SCRIPTS:
        return False
    line_start = text.rfind("\n", 0, offset) + 1
    if any(text.find(opener, line_start, offset) >= 0 for opener in ("//", "<!--", "-->", "#!")):  # #!: a hash-bang line
        return False
    opened = text.rfind("/*", 0, offset)
    return opened < 0 or text.find("*/", opened + 2, offset) >= 0


# JavaScript, TypeScript, TSX, Python -----------------------------------------------------------
#
# tree-sitter grammars, in C: fast, and they recover from syntax errors locally, so one odd
# construct (an import attribute, a new type operator) costs the file only the error's own span.
# In Python, a docstring is an expression statement that is nothing but plain string literals (no
# f-string anywhere in it), of more than one word: prose, which no code reads. The first statement
# of a module, class or function is kept in its `__doc__`, so a one-word docstring (a bare address
# or reason) is judged as code, and so is every docstring of a file that mentions `__doc__`.

_TREE_SITTER_GRAMMARS = {
    "javascript": ("tree_sitter_javascript", "language"),  # also parses JSX
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "python": ("tree_sitter_python", "language"),
}
_SCRIPTS = frozenset({"javascript", "typescript", "tsx"})
_COMMENTS = ("comment", "html_comment", "hash_bang_line")
_BOM = "\ufeff"
_LINE_BREAKS = {False: re.compile("\r(?!\n)"), True: re.compile("\r(?!\n)|[\u2028\u2029]")}


def _tree_sitter_regions(language: str, text: str) -> Analysis:
    import tree_sitter

    grammar, query = _grammar(language)
    skipped = 1 if text.startswith(_BOM) else 0
    # every line break the language knows ends a comment: a lone CR (and in JavaScript, the
    # Unicode line and paragraph separators) becomes LF, one character for one, so offsets hold
    data = _LINE_BREAKS[language in _SCRIPTS].sub("\n", text[skipped:]).encode("utf-8", "surrogatepass")
    root = tree_sitter.Parser(grammar).parse(data).root_node
    captures = tree_sitter.QueryCursor(query).captures(root)
    spans = [(n.start_byte, n.end_byte, "comment") for n in captures.get("comment", [])]
    if "__doc__" not in text:  # a file that reads docstrings makes them data
        spans += [(n.start_byte, n.end_byte, "docstring") for n in captures.get("statement", []) if _docstring(n)]
    problem = None
    if root.has_error:
        errors = _errors(root)
        spans = [s for s in spans if not any(start < s[1] and s[0] < end for start, end in errors)]
        problem = (f"{language} syntax error at line {_first_error_line(root)}; comments outside the error were "
                   "honoured and the error itself read as code")
    spans = _outermost(sorted((a, b - (data[b - 1:b] == b"\r"), kind) for a, b, kind in spans))  # not a CRLF's CR
    offsets = _char_spans(data, [(a, b) for a, b, _ in spans]) if len(data) != len(text) - skipped else \
        [(a, b) for a, b, _ in spans]
    return Analysis(tuple(Region(a + skipped, b + skipped, kind) for (a, b), (_, _, kind) in zip(offsets, spans)),
                    problem)


def _docstring(statement: Any) -> bool:
    """An expression statement that is only plain string literals (parenthesized or not)."""
    if statement.named_child_count != 1:
        return False
    node = statement.named_children[0]
    while node.type == "parenthesized_expression" and node.named_child_count >= 1:
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            return False
        node = inner[0]
    strings = [node] if node.type == "string" else [c for c in node.named_children if c.type == "string"] \
        if node.type == "concatenated_string" else []
    return bool(strings) and all(_plain(s) for s in strings) and _prose(strings)


def _prose(strings: list[Any]) -> bool:
    """Whether the strings read as words, not as one value: a docstring that is a single word
    (`"0x5290…"`, `"credits_purchase"`) is a constant kept in `__doc__`, and judged as code."""
    content = b"".join(c.text for s in strings for c in s.children if c.type == "string_content")
    return len(content.split()) > 1


def _plain(string: Any) -> bool:
    """A string literal that is not an f-string (an f-string evaluates code)."""
    start = next((c for c in string.children if c.type == "string_start"), None)
    prefix = start.text.decode("utf-8", "replace").lower() if start is not None else ""
    return "f" not in prefix and not any(c.type == "interpolation" for c in string.children)


def _errors(root: Any) -> list[tuple[int, int]]:
    """The byte spans of every syntax error (ERROR nodes, and the spot of each MISSING one)."""
    spans, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            spans.append((node.start_byte, max(node.end_byte, node.start_byte + 1)))
        elif node.has_error:
            stack.extend(node.children)
    return spans


def _outermost(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Sorted spans with those inside another dropped (a comment inside a docstring's parentheses)."""
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if kept and span[0] < kept[-1][1]:
            continue
        kept.append(span)
    return kept


@functools.cache
def _grammar(language: str) -> tuple[Any, Any]:
    """The tree-sitter Language and a compiled query for its comments (and, in Python, its
    expression statements), built once per language."""
    import importlib

    import tree_sitter

    module, function = _TREE_SITTER_GRAMMARS[language]
    grammar = tree_sitter.Language(getattr(importlib.import_module(module), function)())
    kinds = [k for k in _COMMENTS if grammar.id_for_node_kind(k, True)]
    source = "[" + " ".join(f"({k})" for k in kinds) + "] @comment"
    if language == "python":
        source += " (expression_statement) @statement"
    return grammar, tree_sitter.Query(grammar, source)


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


# Solidity ----------------------------------------------------------------------------------
#
# `//` to the end of the line and `/* */` (not nested) are comments; string literals ("...",
# '...', unicode"...", hex"...") are skipped whole, escapes included, so `//` in a URL stays code.

_C_START = re.compile(r"//|/\*|\"|'")
_C_QUOTED = {'"': re.compile(r'"(?:[^"\\\n]|\\.)*"', re.DOTALL), "'": re.compile(r"'(?:[^'\\\n]|\\.)*'", re.DOTALL)}


def _c_regions(text: str) -> tuple[Region, ...]:
    regions, pos = [], 0
    while match := _C_START.search(text, pos):
        start, token = match.start(), match.group()
        if token == "//":
            end = text.find("\n", start)
            pos = len(text) if end < 0 else end
            regions.append(Region(start, pos, "comment"))
        elif token == "/*":
            end = text.find("*/", start + 2)
            if end < 0:
                raise _failure("solidity", text, start, "/* comment")
            pos = end + 2
            regions.append(Region(start, pos, "comment"))
        else:
            quoted = _C_QUOTED[token].match(text, start)
            if quoted is None:
                raise _failure("solidity", text, start, "string")
            pos = quoted.end()
    return tuple(regions)


# YAML, TOML, shell, dotenv, Dockerfiles ---------------------------------------------------------
#
# Comments start with `#`, but what is data is each language's own business: YAML block scalars
# and multi-line quoted strings, TOML's triple-quoted strings, shell quotes spanning lines,
# escapes and here-documents all hold `#` as text. YAML is read with PyYAML's own scanner (a `#`
# inside a scalar's span is data); TOML and shell with small state machines. Anything a scanner
# does not understand stays code, never a comment.


def _yaml_regions(text: str) -> tuple[Region, ...]:
    import yaml

    scalars = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.ScalarToken):
                scalars.append((token.start_mark.index, token.end_mark.index))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ParseFailure(f"yaml syntax error at line {mark.line + 1 if mark else 1}") from None
    regions, inside = [], 0
    for at in _hash_starts(text):
        while inside < len(scalars) and scalars[inside][1] <= at:
            inside += 1
        if inside < len(scalars) and scalars[inside][0] <= at:
            continue  # data: a `#` in a quoted, plain or block scalar
        end = _line_end(text, at)
        regions.append(Region(at, end, "comment"))
    return _disjoint(regions)


def _hash_starts(text: str) -> list[int]:
    """Every `#` at the start of a line or after white space: where a YAML comment may begin."""
    return [m.start(1) for m in re.finditer(r"(?:^|[ \t])(#)", text, re.MULTILINE)]


def _line_end(text: str, at: int) -> int:
    """Where the line holding `at` ends: the next \\r or \\n, found without reading past it."""
    end = _SQL_LINE_END.search(text, at)
    return end.start() if end else len(text)


def _disjoint(regions: list[Region]) -> tuple[Region, ...]:
    kept: list[Region] = []
    for region in sorted(regions, key=lambda r: r.start):
        if not kept or region.start >= kept[-1].end:
            kept.append(region)
    return tuple(kept)


_TOML = re.compile(r'"""|\'\'\'|"|\'|#')
#: the rest of a TOML string, by its opening quotes: basic strings ("…") honour escapes
_TOML_CLOSE = {token: re.compile(("(?:[^\\\\]|\\\\.)*?" if token.startswith('"') else ".*?") + re.escape(token),
                                 re.DOTALL) for token in ('"""', "'''", '"', "'")}


def _toml_regions(text: str) -> tuple[Region, ...]:
    """TOML: `#` outside strings; basic strings honour backslash escapes, literal ones do not;
    triple-quoted strings span lines."""
    regions, pos = [], 0
    while match := _TOML.search(text, pos):
        token, start = match.group(), match.start()
        if token == "#":
            pos = _line_end(text, start)
            regions.append(Region(start, pos, "comment"))
            continue
        closed = _TOML_CLOSE[token].match(text, match.end())
        if closed is None or (len(token) == 1 and "\n" in closed.group()):
            raise _failure("toml", text, start, "string")
        pos = closed.end()
    return tuple(regions)


#: a here-document's delimiter word, quoted or escaped in any part (`EOF`, `'EOF'`, `\\EOF`, `E"OF"`);
#: `<<<` is a here-string, not a here-document
_HEREDOC_WORD = r"""(?:[A-Za-z_]|\\.|'[^'\n]*'|"[^"\n]*")(?:[A-Za-z0-9_.-]|\\.|'[^'\n]*'|"[^"\n]*")*"""
_SHELL = re.compile(rf"""(?<!<)<<-?[ \t]*(?P<word>{_HEREDOC_WORD})|["'`\\#]|\$\(|\$'""")


def _delimiter(word: str) -> str:
    """The line that ends a here-document opened with `word`: the word with its quotes and
    backslashes removed, as the shell reads it."""
    return re.sub(r"""'([^']*)'|"([^"]*)"|\\(.)""", lambda m: next(g for g in m.groups() if g is not None), word)


def _shell_regions(text: str) -> tuple[Region, ...]:
    """Shell, dotenv files and Dockerfiles: `#` starts a comment only where a word starts
    (after white space or at a line's start), outside quotes, escapes and here-documents."""
    regions, pos, heredocs, escaped = [], 0, [], -1
    while match := _SHELL.search(text, pos):
        token, start = match.group(), match.start()
        if match.group("word"):
            heredocs.append((_delimiter(match.group("word")), token.startswith("<<-")))
            pos = match.end()
            continue
        if heredocs and "\n" in text[pos:start]:  # a here-document's body starts on the next line
            pos = _skip_heredocs(text, text.index("\n", pos), heredocs)
            heredocs = []
            continue
        if token == "#":
            if start == 0 or (text[start - 1] in " \t\n\r;&|(" and start != escaped):
                pos = _line_end(text, start)
                regions.append(Region(start, pos, "comment"))
            else:
                pos = start + 1
        elif token == "\\":
            pos = escaped = start + 2  # the next character is literal, a `#` or a space included
        elif token in ("$(", "`"):
            pos = match.end()  # code inside a substitution is read like any code
        else:
            pos = _closing_quote(text, match.end(), token)
    if heredocs and "\n" in text[pos:]:
        _skip_heredocs(text, text.index("\n", pos), heredocs)  # only to say when one never closes
    return tuple(regions)


_SHELL_CLOSE = {True: re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL), False: re.compile(r"(?:[^'\\]|\\.)*'", re.DOTALL)}


def _closing_quote(text: str, pos: int, quote: str) -> int:
    """Past the quote that closes one opened just before `pos` (it may span lines)."""
    if quote in ("\'",):
        end = text.find("\'", pos)
    else:  # "..." and $'...' honour backslash escapes
        closed = _SHELL_CLOSE[quote == '"'].match(text, pos)
        end = closed.end() - 1 if closed else -1
    if end < 0:
        raise _failure("shell", text, pos - 1, "quote")
    return end + 1


def _skip_heredocs(text: str, newline: int, heredocs: list[tuple[str, bool]]) -> int:
    """Past the bodies of the here-documents opened on the line that ends at `newline`."""
    pos = newline + 1
    for word, strip_tabs in heredocs:
        while True:
            end = text.find("\n", pos)
            line = text[pos: end if end >= 0 else len(text)].rstrip("\r")
            if (line.lstrip("\t") if strip_tabs else line) == word:
                pos = end + 1 if end >= 0 else len(text)
                break
            if end < 0:
                raise _failure("shell", text, newline, f"here-document {word}")
            pos = end + 1
    return pos


_HASH_SCANNERS = {"yaml": _yaml_regions, "toml": _toml_regions, "shell": _shell_regions}


def _failure(language: str, text: str, start: int, what: str) -> ParseFailure:
    line = text.count("\n", 0, start) + 1
    return ParseFailure(f"{language} syntax error at line {line}: unterminated {what}")
